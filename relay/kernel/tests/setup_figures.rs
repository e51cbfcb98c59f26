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

/// A UDP round trip of 64 bytes laptop → server → laptop, `count` times: each one's time.
fn round_trips(net: &Network, port: u16, count: usize) -> Vec<Duration> {
    use socket2::SockAddr;
    use std::mem::MaybeUninit;
    let (laptop, server) = (net.host("laptop").expect("laptop"), net.host("server").expect("server"));
    let open = |ns: &Netns, ip, port| {
        let s = ns.socket(libc::AF_INET, libc::SOCK_DGRAM, 0).expect("socket");
        s.set_nonblocking(false).expect("blocking");
        s.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        s.bind(&SockAddr::from(std::net::SocketAddr::from((ip, port)))).expect("bind");
        s
    };
    let (a, b) = (open(&laptop.netns, laptop.address, port), open(&server.netns, server.address, port));
    a.connect(&SockAddr::from(std::net::SocketAddr::from((server.address, port)))).expect("connect");
    b.connect(&SockAddr::from(std::net::SocketAddr::from((laptop.address, port)))).expect("connect");
    let echo = std::thread::spawn(move || {
        let mut buf = [MaybeUninit::<u8>::uninit(); 64];
        while let Ok(n) = b.recv(&mut buf) {
            // SAFETY: recv initialised the first n bytes.
            let data: Vec<u8> = buf[..n].iter().map(|x| unsafe { x.assume_init() }).collect();
            if data.is_empty() || b.send(&data).is_err() {
                break;
            }
        }
    });
    let mut buf = [MaybeUninit::<u8>::uninit(); 64];
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        a.send(&[7; 64]).expect("send");
        a.recv(&mut buf).expect("echoed");
        times.push(started.elapsed());
    }
    a.send(&[]).expect("stop");
    echo.join().expect("echo");
    times
}

/// The relay's forwarder (a link emulated without netem, here with no
/// conditions at all) beside a plain link, in the same run: what it adds to a round trip.
#[test]
fn an_emulated_link_beside_a_plain_one() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (_plain_session, plain) = rt.block_on(two_hosts());
    let (_session, emulated) = rt.block_on(two_hosts());
    let perfect = socklab_wire::network::LinkConditions::default();
    let late = socklab_wire::network::LinkConditions { delay: 0.001, ..perfect };
    rt.block_on(emulated.condition("laptop", Some("server"), late)).expect("delay");
    rt.block_on(emulated.condition("laptop", Some("server"), perfect)).expect("perfect again");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..10u16 {
        a.extend(round_trips(&plain, 6000 + round, 2000));
        b.extend(round_trips(&emulated, 6000 + round, 2000));
    }
    a.sort();
    b.sort();
    let (pa, pb) = (percentile(&a, 0.5), percentile(&b, 0.5));
    println!(
        "round trip, 64-byte UDP, 20000 each: plain link ({}) p50 {pa:?} p99 {:?}; emulated link p50 {pb:?} p99 {:?}; ratio {:.2}, {:.1} µs more per packet",
        if plain.bridged() { "bridge" } else { "veth pair" },
        percentile(&a, 0.99),
        percentile(&b, 0.99),
        pb.as_secs_f64() / pa.as_secs_f64(),
        (pb.as_secs_f64() - pa.as_secs_f64()) * 1e6 / 2.0,
    );
}
