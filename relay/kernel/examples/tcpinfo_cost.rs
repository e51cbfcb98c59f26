//! What `TCP_INFO` sampling costs per call: a send and a recv of 64 bytes on a
//! loopback connection, each followed by the observer's `after_call`, with
//! sampling on and off in alternating batches of one run; the events the
//! samples make are drained after each batch (their cost included).
//! `cargo run --release -p socklab-kernel --example tcpinfo_cost` (as root).

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::SockAddr;
use socklab_kernel::netns::Netns;
use socklab_kernel::observe::{Observer, ObserverConfig};
use socklab_wire::protocol::Event;

const BATCH: usize = 500;
const BATCHES: usize = 200;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let observer = Observer::start_with(ObserverConfig { tracing: true, capture: false });
    let netns = Arc::new(Netns::create().expect("namespace (run as root)"));
    let obs = observer.session(Some(netns.clone()));
    let addr = SockAddr::from(std::net::SocketAddr::from(([127, 0, 0, 1], 5600)));
    let listener = netns.socket(libc::AF_INET, libc::SOCK_STREAM, 0).expect("socket");
    listener.bind(&addr).expect("bind");
    listener.listen(1).expect("listen");
    let client = netns.socket(libc::AF_INET, libc::SOCK_STREAM, 0).expect("socket");
    client.set_nonblocking(false).expect("blocking");
    obs.track(1, client.as_raw_fd());
    obs.connecting(1, client.as_raw_fd(), "127.0.0.1:5600".parse().expect("addr"));
    client.connect(&addr).expect("connect");
    obs.after_call(1, client.as_raw_fd());
    listener.set_nonblocking(false).expect("blocking");
    let (server, _) = listener.accept().expect("accept");
    obs.track(2, server.as_raw_fd());
    server.set_nonblocking(false).expect("blocking");

    let payload = [7u8; 64];
    let mut buf = [std::mem::MaybeUninit::new(0u8); 64];
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut events = 0usize;
    for batch in 0..BATCHES {
        let sampling = batch % 2 == 0;
        obs.sample_tcp_info(sampling);
        let started = Instant::now();
        for _ in 0..BATCH {
            client.send(&payload).expect("send");
            obs.after_call(1, client.as_raw_fd());
            let mut got = 0;
            while got < payload.len() {
                got += server.recv(&mut buf[got..]).expect("recv");
            }
            obs.after_call(2, server.as_raw_fd());
        }
        while let Ok(event) = tokio::time::timeout(Duration::ZERO, obs.next_event()).await {
            events += usize::from(matches!(event, Event::TcpInfo { .. }));
        }
        let per_call = started.elapsed().as_nanos() as f64 / (2 * BATCH) as f64;
        if sampling { on.push(per_call) } else { off.push(per_call) }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (on, off) = (median(&mut on), median(&mut off));
    println!("per call (a syscall and after_call), median of {} batches of {} calls each way:", BATCHES / 2, 2 * BATCH);
    println!("  sampling off {off:>8.0} ns");
    println!("  sampling on  {on:>8.0} ns   (+{:.0} ns, ratio {:.2})", on - off, on / off);
    println!("  tcp_info events streamed: {events} ({:.2} per sampled call)", events as f64 / (BATCHES / 2 * 2 * BATCH) as f64);
}
