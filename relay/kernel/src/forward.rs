//! A link emulated in the relay, for kernels without netem: frames cross
//! between two interfaces of the session's namespace (a host's cable and the
//! bridge) through a task that reads each side with an AF_PACKET socket and
//! writes the other, after the link's conditions: delay and jitter (a timer
//! queue ordered by due time, so only jitter or reordering changes the order,
//! as in netem), loss, duplication, reordering (a share sent at once, ahead of
//! delayed frames) and corruption (one bit flipped past the IP header, so the
//! receiver's checksum catches it). Each direction holds at most
//! [`QUEUE_FRAMES`] frames and [`QUEUE_BYTES`] bytes; beyond that a frame is
//! dropped. The task ends when its [`watch::Sender`] (kept by the session's
//! `Network`) is dropped, closing its sockets.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use socket2::Socket;
use socklab_wire::network::LinkConditions;
use tokio::io::unix::AsyncFd;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::netns::Netns;
use crate::observe::links::recv_frame;

/// Frames one direction of a link holds at most (netem's default limit).
pub const QUEUE_FRAMES: usize = 1000;
/// Bytes one direction of a link holds at most.
pub const QUEUE_BYTES: usize = 2 << 20;
/// Frames read from one side before the other side gets a turn.
const BATCH: usize = 64;

/// The second copies a session's forwarders made (duplicates), for the wire
/// view to show beside the packets its capture saw (at most [`QUEUE_FRAMES`] waiting).
#[derive(Debug, Default)]
pub struct Copies {
    frames: Mutex<VecDeque<(Option<usize>, Vec<u8>)>>,
    pub(crate) ready: Notify,
}

impl Copies {
    /// A copy of a frame `sender` (a host's index, if the forwarder knows it) sent.
    fn push(&self, sender: Option<usize>, frame: &[u8]) {
        if let Ok(mut frames) = self.frames.lock()
            && frames.len() < QUEUE_FRAMES
        {
            frames.push_back((sender, frame.to_vec()));
            drop(frames);
            self.ready.notify_one();
        }
    }

    pub(crate) fn pop(&self) -> Option<(Option<usize>, Vec<u8>)> {
        self.frames.lock().ok()?.pop_front()
    }
}

/// Frames waiting in one direction, by due time then arrival.
#[derive(Default)]
struct Queue {
    frames: BTreeMap<(Instant, u64), Vec<u8>>,
    bytes: usize,
}

/// An AF_PACKET socket on interface `ifindex` of `netns`, every protocol.
pub(crate) fn packet_socket(netns: &Netns, ifindex: u32) -> io::Result<Socket> {
    let sock = netns.socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
    // SAFETY: `sockaddr_ll` is plain old data; all-zero is valid.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = ifindex as i32;
    // SAFETY: bind reads only the address we pass, with its true size.
    if unsafe { libc::bind(sock.as_raw_fd(), (&raw const addr).cast(), std::mem::size_of_val(&addr) as libc::socklen_t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sock)
}

/// Starts forwarding between `cable` and `bridge` (packet sockets) under
/// `conditions`, on the current tokio runtime; the RNG is seeded with `seed`.
/// `copies` gets each duplicate, with the host that sent it from each side when known.
pub(crate) fn spawn(
    cable: Socket,
    bridge: Socket,
    conditions: LinkConditions,
    seed: u64,
    copies: (Arc<Copies>, [Option<usize>; 2]),
) -> io::Result<watch::Sender<LinkConditions>> {
    for sock in [&cable, &bridge] {
        let _ = sock.set_recv_buffer_size(1 << 20);
    }
    // SAFETY: each `Socket` owns its fd and is owned by its `AsyncFd` for its whole life.
    let cable = unsafe { AsyncFd::register(cable) }.map_err(io::Error::from)?;
    // SAFETY: as above.
    let bridge = unsafe { AsyncFd::register(bridge) }.map_err(io::Error::from)?;
    let (tx, rx) = watch::channel(conditions);
    tokio::spawn(run([cable, bridge], rx, seed, copies));
    Ok(tx)
}

async fn run(sides: [AsyncFd<Socket>; 2], mut conditions: watch::Receiver<LinkConditions>, seed: u64, (copies, senders): (Arc<Copies>, [Option<usize>; 2])) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut queues = [Queue::default(), Queue::default()];
    let mut seq = 0u64;
    let mut buf = vec![0u8; 65_600];
    loop {
        let next = queues.iter().filter_map(|q| q.frames.first_key_value().map(|(key, _)| key.0)).min();
        let due = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        // Which side became readable (its frames go to the other).
        let from = tokio::select! {
            changed = conditions.changed() => match changed {
                Ok(()) => None,
                Err(_) => return,
            },
            guard = sides[0].readable() => guard.ok().map(|guard| (0, guard)),
            guard = sides[1].readable() => guard.ok().map(|guard| (1, guard)),
            () = due => None,
        };
        if let Some((side, mut guard)) = from {
            let now = Instant::now();
            let link = *conditions.borrow();
            for _ in 0..BATCH {
                match guard.try_io(|fd| recv_frame(fd.get_ref(), &mut buf)) {
                    Ok(Ok((n, _, pkttype))) if pkttype != libc::PACKET_OUTGOING => {
                        admit(&mut queues[side], &buf[..n], &link, &mut rng, now, &mut seq, (&copies, senders[side]));
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) | Err(_) => break,
                }
            }
        }
        let now = Instant::now();
        for (side, queue) in queues.iter_mut().enumerate() {
            let out = sides[1 - side].get_ref();
            while let Some(entry) = queue.frames.first_entry()
                && entry.key().0 <= now
            {
                let frame = entry.remove();
                queue.bytes -= frame.len();
                // A full device queue drops the frame, as a real link would.
                let _ = out.send(&frame);
            }
        }
    }
}

/// `percent` odds.
fn chance(rng: &mut fastrand::Rng, percent: f64) -> bool {
    percent > 0.0 && rng.f64() * 100.0 < percent
}

/// A frame entering one direction: lost, or queued once or twice, each copy
/// maybe corrupted, due after the delay (± jitter) or at once (reordered).
fn admit(queue: &mut Queue, frame: &[u8], c: &LinkConditions, rng: &mut fastrand::Rng, now: Instant, seq: &mut u64, (copies, sender): (&Copies, Option<usize>)) {
    if chance(rng, c.loss) {
        return;
    }
    let copies_made = if chance(rng, c.duplicate) { 2 } else { 1 };
    for copy in 0..copies_made {
        if queue.frames.len() >= QUEUE_FRAMES || queue.bytes + frame.len() > QUEUE_BYTES {
            return;
        }
        let mut frame = frame.to_vec();
        if chance(rng, c.corrupt) {
            corrupt(&mut frame, rng);
        }
        if copy == 1 {
            copies.push(sender, &frame);
        }
        let due = if chance(rng, c.reorder) {
            now
        } else {
            let jitter = if c.jitter > 0.0 { (rng.f64() * 2.0 - 1.0) * c.jitter } else { 0.0 };
            now + Duration::from_secs_f64((c.delay + jitter).max(0.0))
        };
        queue.bytes += frame.len();
        queue.frames.insert((due, *seq), frame);
        *seq += 1;
    }
}

/// Flips one random bit past the Ethernet and IPv4 headers (anywhere past
/// Ethernet's for other protocols).
fn corrupt(frame: &mut [u8], rng: &mut fastrand::Rng) {
    const ETHERNET: usize = 14;
    let start = match frame.get(12..15) {
        Some([0x08, 0x00, version_ihl]) => ETHERNET + usize::from(version_ihl & 0x0f) * 4,
        _ => ETHERNET,
    };
    if start < frame.len() {
        let at = rng.usize(start..frame.len());
        frame[at] ^= 1 << rng.u8(0..8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_shape_the_queue() {
        let mut rng = fastrand::Rng::with_seed(7);
        let now = Instant::now();
        let (mut queue, mut seq, made) = (Queue::default(), 0, Copies::default());
        let lossy = LinkConditions { loss: 50.0, duplicate: 50.0, ..Default::default() };
        for _ in 0..1000 {
            admit(&mut queue, &[0; 60], &lossy, &mut rng, now, &mut seq, (&made, None));
        }
        // About 500 kept, half of them twice.
        assert!((600..900).contains(&queue.frames.len()), "{}", queue.frames.len());
        let copies = std::iter::from_fn(|| made.pop()).count();
        assert!((100..400).contains(&copies), "a copy for the wire view per duplicate: {copies}");
        let delayed = LinkConditions { delay: 0.01, reorder: 100.0, ..Default::default() };
        let mut queue = Queue::default();
        admit(&mut queue, &[0; 60], &delayed, &mut rng, now, &mut seq, (&made, None));
        assert_eq!(queue.frames.first_key_value().map(|(k, _)| k.0), Some(now), "reordered: sent at once");
        // Bounded: a flood keeps at most QUEUE_FRAMES.
        for _ in 0..5000 {
            admit(&mut queue, &[0; 60], &LinkConditions { delay: 1.0, ..Default::default() }, &mut rng, now, &mut seq, (&made, None));
        }
        assert_eq!(queue.frames.len(), QUEUE_FRAMES);
        // Corruption spares the Ethernet and IP headers.
        let mut frame = [0u8; 60];
        frame[12..15].copy_from_slice(&[0x08, 0x00, 0x45]);
        for _ in 0..100 {
            let mut f = frame;
            corrupt(&mut f, &mut rng);
            assert_eq!(f[..34], frame[..34]);
            assert_eq!(f.iter().zip(&frame).filter(|(a, b)| a != b).count(), 1);
        }
    }
}
