//! Synchronous route-netlink requests (links, addresses, qdiscs) in one
//! namespace, with the message types of `netlink-packet-route`. Used on the
//! namespace helper threads only: every request waits for the kernel's ack.

use std::io;
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use socket2::Socket;

use crate::netns::Netns;

/// A NETLINK_ROUTE socket bound to the namespace it was made in.
pub(crate) struct Rtnl {
    sock: Socket,
    sequence: u32,
    buf: Vec<u8>,
}

/// How a request treats an object that exists already.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// Make a new object; fail if it exists (`NLM_F_CREATE | NLM_F_EXCL`).
    Create,
    /// Change or remove an existing object.
    Change,
}

impl Rtnl {
    /// A socket in the calling thread's namespace.
    pub(crate) fn here() -> io::Result<Rtnl> {
        Rtnl::wrap(crate::netns::host_socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)?)
    }

    /// A socket in `netns`.
    pub(crate) fn inside(netns: &Netns) -> io::Result<Rtnl> {
        Rtnl::wrap(netns.socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)?)
    }

    fn wrap(sock: Socket) -> io::Result<Rtnl> {
        sock.set_nonblocking(false)?;
        // The kernel answers a request before `sendmsg` returns; the timeout only
        // bounds a kernel that never does.
        sock.set_read_timeout(Some(Duration::from_secs(2)))?;
        Ok(Rtnl { sock, sequence: 0, buf: vec![0; 16 * 1024] })
    }

    /// Sends `message` and waits for the kernel's ack; a refusal is its errno.
    pub(crate) fn request(&mut self, message: RouteNetlinkMessage, mode: Mode) -> io::Result<()> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST
            | NLM_F_ACK
            | match mode {
                Mode::Create => NLM_F_CREATE | NLM_F_EXCL,
                Mode::Change => 0,
            };
        header.sequence_number = self.sequence;
        let mut request = NetlinkMessage::new(header, NetlinkPayload::from(message));
        request.finalize();
        let mut bytes = vec![0; request.buffer_len()];
        request.serialize(&mut bytes);
        self.sock.send(&bytes)?;
        loop {
            // SAFETY: `recv` only writes initialized bytes into the buffer; viewing
            // our initialized Vec<u8> as MaybeUninit<u8> is sound.
            let spare = unsafe { std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().cast(), self.buf.len()) };
            let n = self.sock.recv(spare)?;
            for bytes in replies(&self.buf[..n], self.sequence) {
                if let Ok(message) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes)
                    && let NetlinkPayload::Error(error) = message.payload
                {
                    return match error.code {
                        None => Ok(()),
                        Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
                    };
                }
            }
        }
    }
}

/// The netlink messages in a datagram that answer request `sequence` (others
/// are the rest of an earlier request that was given up on).
pub(crate) fn replies(datagram: &[u8], sequence: u32) -> impl Iterator<Item = &[u8]> {
    let mut offset = 0;
    std::iter::from_fn(move || {
        while offset + 16 <= datagram.len() {
            let bytes = &datagram[offset..];
            let length = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
            if length < 16 || length > bytes.len() {
                return None;
            }
            offset += (length + 3) & !3;
            if u32::from_ne_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) == sequence {
                return Some(&bytes[..length]);
            }
        }
        None
    })
}
