//! A session's hosts and the conditions of the links between them: the plan
//! both the relay and its clients agree on (addresses, limits, checks).

use crate::decimal;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Most hosts one session may have.
pub const MAX_HOSTS: usize = 16;

/// The MTU of a host's interface unless `lab_link(mtu=…)` changes it.
pub const DEFAULT_MTU: u32 = 1500;

/// The address of the `index`th host (file order of first appearance):
/// 10.0.0.1, 10.0.0.2, … on a /24 with no route out.
pub fn host_address(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, (index + 1).min(254) as u8)
}

/// Whether `name` may name a host: letters, digits, `_` and `-`, starting with
/// a letter or `_`, at most 63 bytes (it names a directory of Unix paths too).
pub fn is_host_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The prefix length of the hosts' subnet.
pub const PREFIX_LEN: u8 = 24;

/// What a link does to the packets crossing it, each direction alike
/// (`lab_link`). Zero everywhere is a perfect link.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LinkConditions {
    /// One-way delay, seconds.
    #[serde(default)]
    pub delay: f64,
    /// Random variation of the delay, seconds (uniform, ± this much).
    #[serde(default)]
    pub jitter: f64,
    /// Percent of packets dropped.
    #[serde(default)]
    pub loss: f64,
    /// Percent of packets sent twice.
    #[serde(default)]
    pub duplicate: f64,
    /// Percent of packets sent at once, ahead of delayed ones (needs a delay).
    #[serde(default)]
    pub reorder: f64,
    /// Percent of packets with one bit flipped.
    #[serde(default)]
    pub corrupt: f64,
    /// Bits per second (None: as fast as the machine goes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u64>,
    /// The interfaces' MTU (None: leave as it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

/// Longest delay or jitter a link may have, seconds.
pub const MAX_DELAY: f64 = 10.0;
/// Slowest and fastest rates, bits per second.
pub const RATE_RANGE: (u64, u64) = (8_000, 100_000_000_000);
/// Smallest and largest MTU (IPv4's minimum; the largest a veth takes).
pub const MTU_RANGE: (u32, u32) = (68, 65535);

impl LinkConditions {
    /// The first thing wrong with these conditions, in words naming the field.
    pub fn check(&self) -> Result<(), String> {
        for (name, value) in [("delay", self.delay), ("jitter", self.jitter)] {
            if !(0.0..=MAX_DELAY).contains(&value) {
                return Err(format!("lab_link {name} must be between 0 and {} seconds, not {}", decimal::short(MAX_DELAY), decimal::short(value)));
            }
        }
        for (name, value) in [("loss", self.loss), ("duplicate", self.duplicate), ("reorder", self.reorder), ("corrupt", self.corrupt)] {
            if !(0.0..=100.0).contains(&value) {
                return Err(format!("lab_link {name} is a percentage between 0 and 100, not {}", decimal::short(value)));
            }
        }
        if self.reorder > 0.0 && self.delay == 0.0 {
            return Err("lab_link reorder needs a delay: packets are reordered by sending some ahead of delayed ones".into());
        }
        if let Some(rate) = self.rate
            && !(RATE_RANGE.0..=RATE_RANGE.1).contains(&rate)
        {
            return Err(format!("lab_link rate must be between 8kbit and 100gbit, not {rate} bits per second"));
        }
        if let Some(mtu) = self.mtu
            && !(MTU_RANGE.0..=MTU_RANGE.1).contains(&mtu)
        {
            return Err(format!("lab_link mtu must be between {} and {}, not {mtu}", MTU_RANGE.0, MTU_RANGE.1));
        }
        Ok(())
    }

    /// Whether the link needs netem (anything but the rate and the MTU).
    pub fn emulates(&self) -> bool {
        self.delay > 0.0 || self.jitter > 0.0 || self.loss > 0.0 || self.duplicate > 0.0 || self.reorder > 0.0 || self.corrupt > 0.0
    }
}

/// A rate as scripts write it (`"1mbit"`, `"512kbit"`, `"10mbps"` is bytes, a
/// bare number is bits per second), in bits per second.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    parse_rate_with(text, |number| number.parse().ok())
}

/// [`parse_rate`] reading the number with `read` (the page has its own, smaller than core's).
pub fn parse_rate_with(text: &str, read: impl Fn(&str) -> Option<f64>) -> Result<u64, String> {
    let text = text.trim().to_ascii_lowercase();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = read(number).ok_or_else(|| format!("lab_link rate {text:?} must be a number with a unit such as \"1mbit\""))?;
    let scale = match unit.trim() {
        "" | "bit" | "bps" => 1.0,
        "kbit" => 1e3,
        "mbit" => 1e6,
        "gbit" => 1e9,
        "kbps" => 8e3,
        "mbps" => 8e6,
        "gbps" => 8e9,
        other => return Err(format!("lab_link rate unit {other:?} is unknown: use bit, kbit, mbit, gbit (or kbps, mbps, gbps for bytes)")),
    };
    let bits = number * scale;
    if !bits.is_finite() || bits < 0.0 || bits > u64::MAX as f64 {
        return Err(format!("lab_link rate {text:?} is out of range"));
    }
    Ok(bits.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_checks() {
        assert_eq!(parse_rate("1mbit"), Ok(1_000_000));
        assert_eq!(parse_rate("512kbit"), Ok(512_000));
        assert_eq!(parse_rate("1mbps"), Ok(8_000_000));
        assert_eq!(parse_rate("9600"), Ok(9600));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("1 parsec").unwrap_err().contains("unknown"));
        let ok = LinkConditions { delay: 0.04, loss: 10.0, rate: Some(1_000_000), mtu: Some(1500), ..Default::default() };
        assert_eq!(ok.check(), Ok(()));
        assert!(LinkConditions { loss: 101.0, ..ok }.check().unwrap_err().contains("loss"));
        assert!(LinkConditions { delay: f64::NAN, ..ok }.check().unwrap_err().contains("delay"));
        assert!(LinkConditions { reorder: 5.0, delay: 0.0, ..ok }.check().unwrap_err().contains("needs a delay"));
        assert!(LinkConditions { mtu: Some(20), ..ok }.check().unwrap_err().contains("mtu"));
        assert_eq!(host_address(1), Ipv4Addr::new(10, 0, 0, 2));
        assert!(is_host_name("laptop") && is_host_name("_a-1"));
        assert!(!is_host_name("../etc") && !is_host_name("") && !is_host_name("9lives"));
    }
}
