//! Percentiles, rates and the byte pattern every path echoes, so a wrong or
//! reordered byte is caught instead of counted.

use std::time::Duration;

/// What a latency run measured on one connection.
#[derive(Debug, Clone, Copy)]
pub struct LatencySummary {
    pub p50: Duration,
    pub p99: Duration,
    /// Round trips completed per second of wall time, client overhead included.
    pub round_trips_per_sec: f64,
}

impl LatencySummary {
    /// Summarise per-round-trip samples taken back to back over `wall`.
    pub fn new(mut samples: Vec<Duration>, wall: Duration) -> LatencySummary {
        samples.sort_unstable();
        LatencySummary {
            p50: percentile(&samples, 0.50),
            p99: percentile(&samples, 0.99),
            round_trips_per_sec: samples.len() as f64 / wall.as_secs_f64().max(f64::EPSILON),
        }
    }
}

/// Nearest-rank percentile of sorted samples (`q` in 0..=1); zero for no samples.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Bytes moved one way and back, and how long it took.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Bytes echoed back and checked (each also crossed the path once outwards).
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Throughput {
    pub fn mib_per_sec(&self) -> f64 {
        self.bytes as f64 / (1024.0 * 1024.0) / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// Period of the stream pattern: a prime, so a chunk lost, repeated or swapped shows as a mismatch.
const PERIOD: usize = 251;

/// The byte at `offset` of a throughput stream.
pub fn pattern_byte(offset: u64) -> u8 {
    (offset % PERIOD as u64) as u8
}

/// The throughput stream's bytes, precomputed so making and checking them is a
/// memcpy / memcmp and does not slow the fastest path down.
pub struct Pattern {
    /// `PERIOD + max` bytes: any `max`-long window of the stream is a slice of it.
    bytes: Vec<u8>,
    max: usize,
}

impl Pattern {
    /// A pattern that hands out windows of up to `max` bytes.
    pub fn new(max: usize) -> Pattern {
        let bytes = (0..(PERIOD + max) as u64).map(pattern_byte).collect();
        Pattern { bytes, max }
    }

    /// The `len` stream bytes starting at `offset` (`len` at most `max`).
    pub fn window(&self, offset: u64, len: usize) -> &[u8] {
        let start = (offset % PERIOD as u64) as usize;
        &self.bytes[start..start + len.min(self.max)]
    }

    /// The first `total` stream bytes, in windows of `max` bytes (the last may be shorter).
    pub fn windows(&self, total: u64) -> impl Iterator<Item = &[u8]> {
        (0..total).step_by(self.max).map(move |offset| self.window(offset, (total - offset).min(self.max as u64) as usize))
    }

    /// Check received bytes against the stream; names the first wrong offset.
    pub fn check(&self, buf: &[u8], offset: u64) -> anyhow::Result<()> {
        for (n, piece) in buf.chunks(self.max).enumerate() {
            let at = offset + (n * self.max) as u64;
            if piece != self.window(at, piece.len()) {
                let (i, b) = piece
                    .iter()
                    .enumerate()
                    .find(|&(i, &b)| b != pattern_byte(at + i as u64))
                    .unwrap_or((0, &0));
                let bad = at + i as u64;
                anyhow::bail!("byte {bad} came back as {b}, sent {}", pattern_byte(bad));
            }
        }
        Ok(())
    }
}

/// Fill `buf` with the stream pattern starting at `offset`.
pub fn fill_pattern(buf: &mut [u8], offset: u64) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte = pattern_byte(offset + i as u64);
    }
}

/// A 64-byte echo payload that differs on every round trip, so a stale echo is caught.
pub fn stamp(payload: &mut [u8], round: u64) {
    fill_pattern(payload, round);
    let n = payload.len().min(8);
    payload[..n].copy_from_slice(&round.to_le_bytes()[..n]);
}

/// Human-readable duration in µs with one decimal.
pub fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&sorted, 0.50), Duration::from_micros(50));
        assert_eq!(percentile(&sorted, 0.99), Duration::from_micros(99));
        assert_eq!(percentile(&sorted, 1.0), Duration::from_micros(100));
        assert_eq!(percentile(&sorted[..1], 0.99), Duration::from_micros(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn pattern_catches_a_shifted_chunk() {
        let pattern = Pattern::new(100);
        let mut buf = vec![0; 1000];
        fill_pattern(&mut buf, 4096);
        assert_eq!(pattern.window(4096, 100), &buf[..100]);
        assert!(pattern.check(&buf, 4096).is_ok());
        assert!(pattern.check(&buf, 4097).is_err());
        buf[999] ^= 1;
        assert!(
            pattern
                .check(&buf, 4096)
                .unwrap_err()
                .to_string()
                .contains("byte 5095")
        );
    }
}
