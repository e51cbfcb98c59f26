//! Measures what a session costs and how late its state events come:
//! `cargo run --release -p socklab-kernel --example measure` (as root).

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::SockAddr;
use socklab_kernel::netns::Netns;
use socklab_kernel::observe::{Observer, ObserverConfig};
use socklab_wire::protocol::Event;

const ROUNDS: usize = 200;

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, unit: &str, values: &mut [f64]) {
    let median = percentile(values, 0.5);
    let p99 = percentile(values, 0.99);
    println!(
        "{name:<34} median {median:>8.1} {unit}   p99 {p99:>8.1} {unit}   (n={})",
        values.len()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let observer = Observer::start_with(ObserverConfig::default());
    println!("capabilities: {:?}", observer.capabilities());

    let mut create = Vec::new();
    let mut socket = Vec::new();
    let mut session = Vec::new();
    let mut lag = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let netns = Arc::new(Netns::create().expect("namespace"));
        create.push(t.elapsed().as_secs_f64() * 1e6);

        let t = Instant::now();
        let obs = observer.session(Some(netns.clone()));
        session.push(t.elapsed().as_secs_f64() * 1e6);

        let t = Instant::now();
        let listener = netns
            .socket(libc::AF_INET, libc::SOCK_STREAM, 0)
            .expect("socket");
        socket.push(t.elapsed().as_secs_f64() * 1e6);
        obs.track(1, listener.as_raw_fd());
        listener
            .bind(&SockAddr::from(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                5500,
            ))))
            .expect("bind");
        obs.after_call(1, listener.as_raw_fd());
        listener.listen(8).expect("listen");
        obs.after_call(1, listener.as_raw_fd());
        let client = netns
            .socket(libc::AF_INET, libc::SOCK_STREAM, 0)
            .expect("socket");
        obs.track(2, client.as_raw_fd());
        let _ = client.connect(&SockAddr::from(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            5500,
        ))));
        obs.after_call(2, client.as_raw_fd());

        // Lag: kernel timestamp of the transition vs the moment next_event returns it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut seen = 0;
        while seen < 3 {
            let Ok(event) = tokio::time::timeout_at(deadline, obs.next_event()).await else {
                break;
            };
            // Transitions of sockets the session knows (the never-accepted child's
            // wait for accept() and are not a measure of the pipeline).
            if let Event::State {
                ts_us,
                sock: Some(_),
                ..
            } = &event
            {
                let us = obs.now_us() - ts_us;
                lag.push(us as f64);
                seen += 1;
            }
        }
        obs.closing(2, client.as_raw_fd());
        drop(client);
        obs.closing(1, listener.as_raw_fd());
        drop(listener);
    }
    report("namespace set-up (unshare+lo+sysctl)", "us", &mut create);
    report("session observer set-up", "us", &mut session);
    report("socket() in a namespace", "us", &mut socket);
    report("state event lag (kernel -> event)", "us", &mut lag);
}
