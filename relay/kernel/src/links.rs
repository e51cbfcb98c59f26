//! Link conditions as qdiscs: netem (delay, jitter, loss, duplication,
//! reordering, corruption) at the root of each end's egress, tbf (rate) as its
//! child, and the interfaces' MTU, all through route netlink.
//!
//! `netlink-packet-route` has no netem or tbf options, so their `TCA_OPTIONS`
//! bytes are built here with its `DefaultNla` (the layouts are the kernel's
//! `struct tc_netem_qopt`, `tc_tbf_qopt` and `tc_ratespec` from
//! `linux/pkt_sched.h`, in native byte order).

use std::io;

use netlink_packet_core::DefaultNla;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcMessage};
use socklab_wire::network::LinkConditions;

use crate::rtnl::{Mode, Rtnl};

const TCA_OPTIONS: u16 = 2;
const TCA_NETEM_REORDER: u16 = 3;
const TCA_NETEM_CORRUPT: u16 = 4;
const TCA_NETEM_LATENCY64: u16 = 10;
const TCA_NETEM_JITTER64: u16 = 11;
const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_BURST: u16 = 6;
const TC_LINKLAYER_ETHERNET: u8 = 1;
/// Packets netem holds (tc's default).
const NETEM_LIMIT: u32 = 1000;

const NETEM_HANDLE: TcHandle = TcHandle { major: 1, minor: 0 };
const TBF_HANDLE: TcHandle = TcHandle { major: 10, minor: 0 };

/// What a kernel built without netem says (the qdisc kind is unknown: ENOENT).
pub const NO_NETEM: &str = "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM is not set): \
     delay, jitter, loss, duplicate, reorder and corrupt cannot be emulated here; rate and mtu still work";

/// Whether this kernel has netem (asked once, by making one on `index` in
/// `rtnl`'s namespace and removing it).
pub(crate) fn has_netem(rtnl: &mut Rtnl, index: u32) -> bool {
    static NETEM: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *NETEM.get_or_init(|| {
        let netem = qdisc(index, TcHandle::ROOT, NETEM_HANDLE, "netem", Some(netem_options(&LinkConditions::default())));
        let made = rtnl.request(RouteNetlinkMessage::NewQueueDiscipline(netem), Mode::Create).is_ok();
        if made {
            let _ = rtnl.request(RouteNetlinkMessage::DelQueueDiscipline(qdisc(index, TcHandle::ROOT, TcHandle::UNSPEC, "", None)), Mode::Change);
        }
        made
    })
}

/// Sets `conditions` on the egress of interface `index` in `rtnl`'s namespace:
/// whatever qdisc was there is replaced (or removed, for a perfect link).
pub(crate) fn apply(rtnl: &mut Rtnl, index: u32, conditions: &LinkConditions) -> io::Result<()> {
    if let Some(mtu) = conditions.mtu {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes.push(LinkAttribute::Mtu(mtu));
        rtnl.request(RouteNetlinkMessage::SetLink(link), Mode::Change)?;
    }
    // The interface's default root qdisc cannot be deleted (ENOENT/EINVAL): nothing to undo.
    match rtnl.request(RouteNetlinkMessage::DelQueueDiscipline(qdisc(index, TcHandle::ROOT, TcHandle::UNSPEC, "", None)), Mode::Change) {
        Ok(()) => {}
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EINVAL)) => {}
        Err(e) => return Err(e),
    }
    let rate_parent = if conditions.emulates() {
        let netem = qdisc(index, TcHandle::ROOT, NETEM_HANDLE, "netem", Some(netem_options(conditions)));
        rtnl.request(RouteNetlinkMessage::NewQueueDiscipline(netem), Mode::Create).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) => io::Error::new(io::ErrorKind::Unsupported, NO_NETEM),
            _ => e,
        })?;
        TcHandle { major: NETEM_HANDLE.major, minor: 1 }
    } else {
        TcHandle::ROOT
    };
    if let Some(rate) = conditions.rate {
        let tbf = qdisc(index, rate_parent, TBF_HANDLE, "tbf", Some(tbf_options(rate)));
        rtnl.request(RouteNetlinkMessage::NewQueueDiscipline(tbf), Mode::Create)?;
    }
    Ok(())
}

fn qdisc(index: u32, parent: TcHandle, handle: TcHandle, kind: &str, options: Option<Vec<u8>>) -> TcMessage {
    let mut message = TcMessage::with_index(index as i32);
    message.header.parent = parent;
    message.header.handle = handle;
    if !kind.is_empty() {
        message.attributes.push(TcAttribute::Kind(kind.into()));
    }
    if let Some(options) = options {
        message.attributes.push(TcAttribute::Other(DefaultNla::new(TCA_OPTIONS, options)));
    }
    message
}

/// A probability in percent as netem's 32-bit fraction.
fn fraction(percent: f64) -> u32 {
    ((percent / 100.0).clamp(0.0, 1.0) * f64::from(u32::MAX)).round() as u32
}

fn nanos(seconds: f64) -> i64 {
    (seconds * 1e9).round() as i64
}

/// An attribute: length, type, value, padded to 4 bytes.
fn push_attr(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    out.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

fn u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// `struct tc_netem_qopt` followed by its attributes (delays in nanoseconds).
fn netem_options(c: &LinkConditions) -> Vec<u8> {
    // latency, limit, loss, gap, duplicate, jitter (latency and jitter in ticks: given as 64-bit ns below).
    let gap = u32::from(c.reorder > 0.0);
    let mut out = u32s(&[0, NETEM_LIMIT, fraction(c.loss), gap, fraction(c.duplicate), 0]);
    push_attr(&mut out, TCA_NETEM_LATENCY64, &nanos(c.delay).to_ne_bytes());
    push_attr(&mut out, TCA_NETEM_JITTER64, &nanos(c.jitter).to_ne_bytes());
    if c.reorder > 0.0 {
        push_attr(&mut out, TCA_NETEM_REORDER, &u32s(&[fraction(c.reorder), 0]));
    }
    if c.corrupt > 0.0 {
        push_attr(&mut out, TCA_NETEM_CORRUPT, &u32s(&[fraction(c.corrupt), 0]));
    }
    out
}

/// `struct tc_tbf_qopt` (rate, no peak rate, a byte limit) with a 64-bit rate and a burst.
fn tbf_options(bits_per_second: u64) -> Vec<u8> {
    let bytes_per_second = bits_per_second / 8;
    // A burst of a few full frames or 10 ms of traffic; a queue of 100 ms more.
    let burst = (bytes_per_second / 100).clamp(4 * 1514, u64::from(u32::MAX / 4)) as u32;
    let limit = burst.saturating_add((bytes_per_second / 10).min(u64::from(u32::MAX / 2)) as u32);
    let ratespec = |rate: u32, linklayer: u8| {
        let mut spec = vec![0u8, linklayer];
        spec.extend_from_slice(&0u16.to_ne_bytes()); // overhead
        spec.extend_from_slice(&0i16.to_ne_bytes()); // cell_align
        spec.extend_from_slice(&0u16.to_ne_bytes()); // mpu
        spec.extend_from_slice(&rate.to_ne_bytes());
        spec
    };
    let mut parms = ratespec(bytes_per_second.min(u64::from(u32::MAX)) as u32, TC_LINKLAYER_ETHERNET);
    parms.extend(ratespec(0, 0));
    parms.extend(u32s(&[limit, 0, 0])); // limit, buffer (from the burst below), mtu
    let mut out = Vec::new();
    push_attr(&mut out, TCA_TBF_PARMS, &parms);
    push_attr(&mut out, TCA_TBF_RATE64, &bytes_per_second.to_ne_bytes());
    push_attr(&mut out, TCA_TBF_BURST, &burst.to_ne_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_layouts() {
        let netem = netem_options(&LinkConditions { delay: 0.04, loss: 100.0, reorder: 25.0, ..Default::default() });
        // qopt (24) + latency (12) + jitter (12) + reorder (12).
        assert_eq!(netem.len(), 60);
        assert_eq!(&netem[8..12], &u32::MAX.to_ne_bytes(), "100% loss");
        assert_eq!(&netem[12..16], &1u32.to_ne_bytes(), "reordering sets a gap");
        assert_eq!(&netem[28..36], &40_000_000i64.to_ne_bytes());
        // parms (4 + 36) + rate64 (12) + burst (8).
        assert_eq!(tbf_options(1_000_000).len(), 60);
    }
}
