//! The 64-byte echo round trip, measured the same way on every path.

use std::time::{Duration, Instant};

use crate::stats::{LatencySummary, stamp};

/// One connection that can send a payload and wait for all of it to come back.
pub trait RoundTrip {
    /// Send `payload`, wait for the echo, and check it is the same bytes.
    async fn round_trip(&mut self, payload: &[u8]) -> anyhow::Result<()>;
}

/// How many round trips to make.
#[derive(Debug, Clone, Copy)]
pub struct LatencyPlan {
    /// Round trips made first and not counted (connection, allocator and cache warm-up).
    pub warmup: usize,
    pub samples: usize,
    pub payload_len: usize,
}

/// Warm up, then time each round trip back to back on one connection.
pub async fn measure(client: &mut impl RoundTrip, plan: &LatencyPlan) -> anyhow::Result<LatencySummary> {
    let mut payload = vec![0u8; plan.payload_len];
    for round in 0..plan.warmup {
        stamp(&mut payload, round as u64);
        client.round_trip(&payload).await?;
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(plan.samples);
    let start = Instant::now();
    for round in 0..plan.samples {
        stamp(&mut payload, (plan.warmup + round) as u64);
        let sent = Instant::now();
        client.round_trip(&payload).await?;
        samples.push(sent.elapsed());
    }
    Ok(LatencySummary::new(samples, start.elapsed()))
}
