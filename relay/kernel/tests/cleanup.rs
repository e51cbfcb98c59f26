//! Sessions give back everything: after 200 of them, the process holds the same
//! fds and the same network namespaces as before.

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use socklab_kernel::netns::Netns;
use socklab_kernel::observe::{Observer, ObserverConfig};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("fds").count()
}

/// Network namespaces this process keeps alive: its threads' and any open
/// namespace file (a socket keeps its namespace too, and is counted as an fd).
fn held_namespaces() -> BTreeSet<u64> {
    let mut held = BTreeSet::new();
    for task in std::fs::read_dir("/proc/self/task")
        .expect("tasks")
        .flatten()
    {
        if let Ok(meta) = std::fs::metadata(task.path().join("ns/net")) {
            held.insert(meta.ino());
        }
    }
    for fd in std::fs::read_dir("/proc/self/fd").expect("fds").flatten() {
        if let Ok(target) = std::fs::read_link(fd.path())
            && target.to_string_lossy().starts_with("net:[")
            && let Ok(meta) = std::fs::metadata(fd.path())
        {
            held.insert(meta.ino());
        }
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sessions_leave_nothing_behind() {
    let observer = Observer::start_with(ObserverConfig::default());
    // Warm up what lives for the whole process (the namespace helper thread).
    drop(Netns::create().expect("namespace"));
    let home = socklab_kernel::netns::current_id().expect("own namespace");
    let namespaces_before = BTreeSet::from([home]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while held_namespaces() != namespaces_before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the helper thread never went home"
        );
        tokio::task::yield_now().await;
    }
    let fds_before = open_fds();

    for round in 0..200u16 {
        let netns = Arc::new(Netns::create().expect("namespace"));
        let obs = observer.session(Some(netns.clone()));
        let listener = listen(&netns, &obs, 1, 5500);
        let client = tcp(&netns, &obs, 2);
        connect(&obs, &client, 5500).expect("connect");
        let server = accept(&obs, &listener, 3);
        close(&obs, client);
        close(&obs, server);
        close(&obs, listener);
        if round % 50 == 0 {
            until(&obs, |e| matches!(e, socklab_wire::protocol::Event::State { to, .. } if *to == socklab_wire::tcp::TcpState::TimeWait)).await;
        }
        drop(obs);
        drop(netns);
    }

    // Releasing is asynchronous (the helper thread leaves the last namespace on its queue).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (fds, namespaces) = (open_fds(), held_namespaces());
        if fds == fds_before && namespaces == namespaces_before {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "fds {fds_before} -> {fds}, namespaces {namespaces_before:?} -> {namespaces:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
