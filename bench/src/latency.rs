//! The 64-byte echo round trip, measured the same way on every path.

use std::time::{Duration, Instant};

use crate::process;
use crate::stats::{LatencySummary, stamp};

/// One connection that can send a payload and wait for all of it to come back.
pub trait RoundTrip {
    /// Send `payload`, wait for the echo, and check it is the same bytes.
    async fn round_trip(&mut self, payload: &[u8]) -> anyhow::Result<()>;
}

/// Round-trip times of one path, gathered over one or more rounds.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub durations: Vec<Duration>,
    /// Wall time of the timed loops, for round trips per second.
    pub wall: Duration,
    /// Round trips made so far, warm-up included (each gets a distinct payload).
    made: u64,
    /// CPU the server process (relay or websocat) and the client thread spent on the timed loops.
    pub server_cpu: Duration,
    pub client_cpu: Duration,
}

impl Samples {
    pub fn summary(&self) -> LatencySummary {
        LatencySummary::new(self.durations.clone(), self.wall)
    }
}

/// How one latency turn runs.
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    pub payload_len: usize,
    /// Uncounted round trips first.
    pub warmup: usize,
    pub count: usize,
    /// A slow path gets fewer samples, not a longer run.
    pub deadline: Instant,
    /// The process on the other end whose CPU time is counted (none for direct TCP).
    pub server_pid: Option<u32>,
}

/// Make `turn.warmup` uncounted round trips, then time `turn.count` of them back to back.
pub async fn measure(
    client: &mut impl RoundTrip,
    turn: Turn,
    into: &mut Samples,
) -> anyhow::Result<()> {
    let Turn {
        payload_len,
        warmup,
        count,
        deadline,
        server_pid,
    } = turn;
    let mut payload = vec![0u8; payload_len];
    for _ in 0..warmup {
        if Instant::now() > deadline {
            break;
        }
        stamp(&mut payload, into.made);
        into.made += 1;
        client.round_trip(&payload).await?;
    }
    into.durations.reserve(count);
    let server_before = server_pid.map(process::cpu_time).unwrap_or_default();
    let client_before = process::this_thread_cpu_time();
    let start = Instant::now();
    for _ in 0..count {
        if Instant::now() > deadline {
            break;
        }
        stamp(&mut payload, into.made);
        into.made += 1;
        let sent = Instant::now();
        client.round_trip(&payload).await?;
        into.durations.push(sent.elapsed());
    }
    into.wall += start.elapsed();
    into.client_cpu += process::this_thread_cpu_time().saturating_sub(client_before);
    into.server_cpu += server_pid
        .map(process::cpu_time)
        .unwrap_or_default()
        .saturating_sub(server_before);
    Ok(())
}
