//! Sessions give back everything: after 200 of them (and 1,000 with hosts), the
//! process holds the same fds and the same network namespaces as before.

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use socket2::SockAddr;
use socklab_kernel::hosts::Network;
use socklab_kernel::netns::{self, Netns};
use socklab_kernel::observe::{Observer, ObserverConfig};
use socklab_wire::network::LinkConditions;
use std::net::SocketAddr;
use std::time::Instant;

/// Both tests count what the whole process holds: one at a time.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
// The lock spans the whole test on purpose; no other task in its runtime takes it.
#[allow(clippy::await_holding_lock)]
async fn two_hundred_sessions_leave_nothing_behind() {
    let _alone = ALONE.lock().unwrap_or_else(|poison| poison.into_inner());
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

/// The interfaces of the relay's own namespace: a session's link never has an end there.
fn own_interfaces() -> BTreeSet<String> {
    std::fs::read_dir("/sys/class/net").expect("interfaces").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

/// A thousand two- and three-host sessions, with capture on their links, a
/// rate qdisc and a connection each; half end gracefully, half are dropped
/// with data in flight. Afterwards the process holds the fds and namespaces it
/// held before (nothing else ever enters a session's namespaces, so they, their
/// veths and qdiscs are gone), and no interface appeared outside.
#[test]
fn a_thousand_sessions_with_hosts_leave_nothing_behind() {
    let _alone = ALONE.lock().unwrap_or_else(|poison| poison.into_inner());
    let at = |ip, port| SockAddr::from(SocketAddr::from((ip, port)));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let observer = Observer::start_with(ObserverConfig::default());
    drop(Netns::create().expect("warm-up namespace"));
    let home = netns::current_id().expect("own namespace");
    let wait_until = |what: &dyn Fn() -> bool, why: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !what() {
            assert!(Instant::now() < deadline, "{why}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_until(&|| held_namespaces() == BTreeSet::from([home]), "the helper threads never went home");
    let (fds_before, interfaces_before) = (open_fds(), own_interfaces());

    let limit = Arc::new(tokio::sync::Semaphore::new(16));
    rt.block_on(async {
        let mut sessions = Vec::new();
        for round in 0..1000u32 {
            let (observer, limit) = (observer.clone(), limit.clone());
            sessions.push(tokio::spawn(async move {
                let _permit = limit.acquire().await.expect("permit");
                let session = Arc::new(Netns::create_async().await.expect("session namespace"));
                let names: Vec<String> = if round % 10 == 0 { vec!["a".into(), "b".into(), "c".into()] } else { vec!["a".into(), "b".into()] };
                let net = Network::create(session.clone(), names).await.expect("hosts");
                let obs = observer.session(Some(session.clone()));
                obs.keep_frames(socklab_kernel::observe::links::MAX_FRAME_BYTES);
                obs.watch_network(&net);
                // Some links lossy and late too (on a kernel without netem, through a forwarder task).
                let lossy = if round % 4 == 1 { 1.0 } else { 0.0 };
                let shaped = LinkConditions { rate: Some(10_000_000), loss: lossy, delay: lossy / 1000.0, ..Default::default() };
                net.condition("a", if net.switched() { None } else { Some("b") }, shaped).await.expect("rate");
                let (b, a) = (net.host("b").expect("b"), net.host("a").expect("a"));
                let listener = b.netns.socket(libc::AF_INET, libc::SOCK_STREAM, 0).expect("socket");
                listener.bind(&at(b.address, 80)).expect("bind");
                listener.listen(1).expect("listen");
                let client = a.netns.socket(libc::AF_INET, libc::SOCK_STREAM, 0).expect("socket");
                let _ = client.connect(&at(b.address, 80));
                tokio::time::sleep(Duration::from_millis(2)).await;
                let _ = client.send(&[1; 4000]);
                if round % 2 == 0 {
                    // Gracefully: everything closed, then the hosts released.
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    drop((client, listener));
                    drop(net);
                } else {
                    // Abruptly: the hosts go while their sockets still hold data.
                    drop(net);
                    drop((client, listener));
                }
                drop(obs);
            }));
        }
        for session in sessions {
            session.await.expect("session");
        }
    });
    let settled = || open_fds() == fds_before && held_namespaces() == BTreeSet::from([home]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !settled() {
        if Instant::now() > deadline {
            let fds: Vec<String> = std::fs::read_dir("/proc/self/fd").expect("fds").flatten().filter_map(|fd| std::fs::read_link(fd.path()).ok()).map(|t| t.display().to_string()).collect();
            panic!("fds {fds_before} -> {}: {fds:?}; namespaces {:?}", open_fds(), held_namespaces());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(own_interfaces(), interfaces_before, "a session's link reached the relay's namespace");
    drop(rt);
}
