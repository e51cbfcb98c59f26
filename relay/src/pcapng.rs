//! `socklab run --pcap FILE`: the frames the session's hosts sent, as pcapng
//! (one interface per link, named after it; each packet's comment names the
//! script line of the last call made on the host that sent it).

use std::borrow::Cow;
use std::io;
use std::path::Path;
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use socklab_kernel::observe::links::Frame;

use crate::engine::CallMark;

/// Timestamps are written in nanoseconds: `if_tsresol` 9.
const NANOSECONDS: u8 = 9;

/// Writes `frames` to `path`; returns how many packets it holds.
pub fn write(path: &Path, links: &[String], frames: &[Frame], calls: &[CallMark]) -> io::Result<usize> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut file = write_to(file, links, frames, calls)?;
    io::Write::flush(&mut file)?;
    Ok(frames.len())
}

/// The pcapng file in memory (the WebSocket's `pcap` request).
pub fn to_vec(links: &[String], frames: &[Frame], calls: &[CallMark]) -> io::Result<Vec<u8>> {
    write_to(Vec::new(), links, frames, calls)
}

fn write_to<W: io::Write>(out: W, links: &[String], frames: &[Frame], calls: &[CallMark]) -> io::Result<W> {
    let mut writer = PcapNgWriter::new(out).map_err(io::Error::other)?;
    for link in links {
        writer
            .write_pcapng_block(InterfaceDescriptionBlock {
                linktype: DataLink::ETHERNET,
                snaplen: 0,
                options: vec![
                    InterfaceDescriptionOption::IfName(Cow::Borrowed(link)),
                    InterfaceDescriptionOption::IfTsResol(NANOSECONDS),
                ],
            })
            .map_err(io::Error::other)?;
    }
    for frame in frames.iter().filter(|frame| frame.link < links.len()) {
        let mut options = Vec::new();
        if let Some(comment) = comment(frame, calls) {
            options.push(EnhancedPacketOption::Comment(Cow::Owned(comment)));
        }
        writer
            .write_pcapng_block(EnhancedPacketBlock {
                interface_id: frame.link as u32,
                timestamp: Duration::from_nanos(frame.unix_ns),
                original_len: u32::try_from(frame.data.len()).unwrap_or(u32::MAX),
                data: Cow::Borrowed(&frame.data),
                options,
            })
            .map_err(io::Error::other)?;
    }
    Ok(writer.into_inner())
}

/// The packet's sender and the last call a lane on that host made before it was sent.
fn comment(frame: &Frame, calls: &[CallMark]) -> Option<String> {
    let call = calls
        .iter()
        .rev()
        .find(|call| call.unix_ns <= frame.unix_ns && call.host.as_deref() == Some(frame.host.as_str()));
    Some(match call {
        Some(CallMark { lane, line: Some(line), .. }) => format!("sent by {} after line {line} ({lane})", frame.host),
        _ => format!("sent by {}", frame.host),
    })
}
