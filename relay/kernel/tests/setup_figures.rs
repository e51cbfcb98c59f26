//! Measures (prints, never asserts on time) what a two-host session costs:
//! set-up time from nothing to two linked hosts, p50 and p99, beside a plain
//! session namespace in the same run, and the kernel memory 100 live ones hold.
//! Run with `--nocapture` to read the figures (BENCHMARKS.md quotes them).

use std::sync::Arc;
use std::time::{Duration, Instant};

use socklab_kernel::hosts::Network;
use socklab_kernel::netns::Netns;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn meminfo(key: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| text.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

async fn two_hosts() -> (Arc<Netns>, Network) {
    let session = Arc::new(Netns::create_async().await.expect("session"));
    let net = Network::create(session.clone(), vec!["laptop".into(), "server".into()]).await.expect("hosts");
    (session, net)
}

#[test]
fn two_host_session_set_up_time_and_memory() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        drop(two_hosts().await);
        let (mut plain, mut hosts) = (Vec::new(), Vec::new());
        for _ in 0..300 {
            let started = Instant::now();
            drop(Netns::create_async().await.expect("namespace"));
            plain.push(started.elapsed());
            let started = Instant::now();
            drop(two_hosts().await);
            hosts.push(started.elapsed());
        }
        plain.sort();
        hosts.sort();
        println!(
            "set-up, 300 each: plain session p50 {:?} p99 {:?}; two-host session p50 {:?} p99 {:?}",
            percentile(&plain, 0.5),
            percentile(&plain, 0.99),
            percentile(&hosts, 0.5),
            percentile(&hosts, 0.99)
        );
        // Let the kernel finish freeing the ones just dropped before measuring.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (slab, available) = (meminfo("Slab:"), meminfo("MemAvailable:"));
        let mut live = Vec::new();
        for _ in 0..100 {
            live.push(two_hosts().await);
        }
        println!(
            "100 live two-host sessions: slab +{} KiB, available memory -{} KiB (per session: {} KiB slab)",
            meminfo("Slab:").saturating_sub(slab),
            available.saturating_sub(meminfo("MemAvailable:")),
            meminfo("Slab:").saturating_sub(slab) / 100
        );
        drop(live);
    });
}
