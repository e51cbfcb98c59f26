//! `TCP_INFO` samples and the wire view's expert marks on real sockets: loss
//! made by a socket filter, delay by the kernel's delayed ACKs.

mod common;

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use socklab_kernel::netns::Netns;
use socklab_kernel::observe::{Observer, ObserverConfig, SessionObserver, tcpinfo};
use socklab_wire::protocol::{Event, SockId};
use socklab_wire::tcpinfo::{ExpertMark, TcpInfo};

/// Makes `sock` drop `percent` of the segments it receives, at random, before
/// TCP sees them: a classic BPF socket filter on the kernel's random number.
/// (This kernel has no netem; the sender's TCP sees exactly what a lossy link does.)
fn lose(sock: &socket2::Socket, percent: u32) {
    const SKF_AD_RANDOM: u32 = 0xFFFF_F000 + 56;
    let op = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    let program = [
        op(0x20, 0, 0, SKF_AD_RANDOM), // ld #rand
        op(0x94, 0, 0, 100),           // mod #100
        op(0x35, 0, 1, percent),       // jge #percent, keep, drop
        op(0x06, 0, 0, u32::MAX),      // keep: ret the whole segment
        op(0x06, 0, 0, 0),             // drop: ret 0
    ];
    let fprog = libc::sock_fprog { len: program.len() as u16, filter: program.as_ptr().cast_mut() };
    // SAFETY: the kernel copies the program during the call; `program` outlives it.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&raw const fprog).cast(),
            std::mem::size_of_val(&fprog) as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_ATTACH_FILTER: {}", std::io::Error::last_os_error());
}

fn samples(events: &[Event], of: SockId) -> Vec<TcpInfo> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::TcpInfo { sock, info, .. } if *sock == of => Some(*info),
            _ => None,
        })
        .collect()
}

fn marked(events: &[Event], mark: ExpertMark) -> usize {
    events.iter().filter(|e| matches!(e, Event::Segment { expert, .. } if expert.contains(&mark))).count()
}

/// How the client sends: `count` sends of `size` bytes, `pause` apart; the
/// server reads as data comes, or only once the client is done.
#[derive(Clone, Copy)]
struct Plan {
    size: usize,
    count: usize,
    pause: Duration,
    read_at_once: bool,
    loss_percent: u32,
}

/// Listener 1, client 2, accepted 3 (MSS 1000, so that a transfer is many
/// segments); the client sends as `plan` says and shuts down, the server reads
/// to the end. Returns the events streamed meanwhile and until things are
/// quiet, and those that came in a quiet time after that.
async fn transfer(obs: Arc<SessionObserver>, netns: Arc<Netns>, plan: Plan) -> (Vec<Event>, Vec<Event>) {
    let listener = listen(&netns, &obs, 1, 5500);
    socket2::SockRef::from(&listener.sock).set_tcp_mss(1000).expect("mss");
    let client = tcp(&netns, &obs, 2);
    client.sock.set_tcp_mss(1000).expect("mss");
    connect(&obs, &client, 5500).expect("connect");
    let server = accept(&obs, &listener, 3);
    if plan.loss_percent > 0 {
        lose(&server.sock, plan.loss_percent);
        // Each send its own segment: in big sends, loopback's segmentation
        // offload would carry the transfer in a few 64 KB segments.
        client.sock.set_tcp_nodelay(true).expect("nodelay");
    }
    let size = tcpinfo::size(client.sock.as_raw_fd()).expect("TCP_INFO");
    assert!(size >= 232, "this kernel's struct tcp_info is {size} bytes: no tcpi_snd_wnd");
    let (tx, mut done) = tokio::sync::mpsc::channel::<(Sock, Sock)>(1);
    let worker = obs.clone();
    std::thread::spawn(move || {
        let (go, start_reading) = std::sync::mpsc::channel::<()>();
        let reader = {
            let obs = worker.clone();
            std::thread::spawn(move || {
                if plan.read_at_once {
                    let _ = start_reading.recv();
                    // A call that returned (say, a poll) before the reads: the unread bytes show.
                    obs.after_call(server.id, server.sock.as_raw_fd());
                }
                let mut total = 0;
                loop {
                    match recv(&obs, &server) {
                        0 => return (server, total),
                        n => total += n,
                    }
                }
            })
        };
        let chunk = vec![7u8; plan.size];
        for _ in 0..plan.count {
            let mut sent = 0;
            while sent < chunk.len() {
                sent += client.sock.send(&chunk[sent..]).expect("send");
                worker.after_call(client.id, client.sock.as_raw_fd());
            }
            std::thread::sleep(plan.pause);
        }
        shutdown_write(&worker, &client);
        let _ = go.send(());
        let (server, received) = reader.join().expect("reader");
        assert_eq!(received, plan.size * plan.count);
        let _ = tx.blocking_send((client, server));
    });
    let mut events = Vec::new();
    let (client, server) = loop {
        tokio::select! {
            event = obs.next_event() => events.push(event),
            socks = done.recv() => break socks.expect("the transfer ends"),
        }
    };
    // The last ACKs and samples, until 200 ms pass without an event (the
    // client's FIN_WAIT2 is no transient state to `settle` for here).
    while let Ok(event) = tokio::time::timeout(Duration::from_millis(200), obs.next_event()).await {
        events.push(event);
    }
    // Idle: nothing in flight, so the sampler is quiet.
    let mut after = Vec::new();
    while let Ok(event) = tokio::time::timeout(Duration::from_millis(200), obs.next_event()).await {
        after.push(event);
    }
    close(&obs, client);
    close(&obs, server);
    close(&obs, listener);
    (events, after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_and_delayed_acks_show_in_tcp_info_and_on_the_wire() {
    let observer = Observer::start_with(ObserverConfig { tracing: true, capture: true });
    assert!(observer.capabilities().capture, "{:?}", observer.capabilities());
    let session = |plan| {
        let netns = Arc::new(Netns::create().expect("namespace"));
        let obs = Arc::new(observer.session(Some(netns.clone())));
        transfer(obs, netns, plan)
    };
    // 150 sends of 1000 bytes, 2 ms apart; 10% of the data segments lost.
    let lossy = session(Plan { size: 1000, count: 150, pause: Duration::from_millis(2), read_at_once: false, loss_percent: 10 });
    // Small sends 50 ms apart to a reader that does not read: once the receiver
    // leaves quick-ACK mode (after about 16 segments), each ACK waits the
    // kernel's 40 ms delayed-ACK time, and the sender's rtt shows it.
    let delayed = session(Plan { size: 100, count: 30, pause: Duration::from_millis(50), read_at_once: true, loss_percent: 0 });
    let ((lossy, lossy_after), (delayed, delayed_after)) = tokio::join!(lossy, delayed);

    let client = samples(&lossy, 2);
    assert!(client.len() > 5, "{client:#?}");
    assert_eq!(client[0].total_retrans, 0, "{client:#?}");
    let retrans = client.iter().map(|i| i.total_retrans).max().unwrap_or(0);
    assert!(retrans > 0, "10% loss and no retransmission counted: {client:#?}");
    assert!(client.iter().all(|i| i.cwnd > 0 && i.mss > 0 && i.mss <= 1000 && i.snd_wnd.is_some()), "{client:#?}");
    assert!(client.iter().any(|i| i.unacked > 0 && i.outq > 0), "samples while data was in flight: {client:#?}");
    assert!(client.windows(2).all(|w| w[0] != w[1]), "a sample repeats the one before");
    assert!(marked(&lossy, ExpertMark::Retransmission) > 0, "no segment marked as retransmitted");
    assert_eq!(marked(&lossy, ExpertMark::Reset), 0);
    assert!(!samples(&lossy, 3).is_empty(), "the accepted socket is sampled too");

    let rtts: Vec<u32> = samples(&delayed, 2).iter().map(|i| i.rtt_us).collect();
    assert!(rtts.iter().any(|rtt| (20_000..1_000_000).contains(rtt)), "delayed ACKs, rtt {rtts:?}");
    assert!(rtts.iter().any(|rtt| *rtt < 5_000), "quick ACKs first, rtt {rtts:?}");
    assert!(samples(&delayed, 3).iter().any(|i| i.inq > 0), "unread bytes show in SIOCINQ");
    assert_eq!(marked(&delayed, ExpertMark::Retransmission), 0, "no loss, no retransmission marked");
    for after in [lossy_after, delayed_after] {
        assert!(!after.iter().any(|e| matches!(e, Event::TcpInfo { .. })), "sampled while idle: {after:#?}");
    }
}
