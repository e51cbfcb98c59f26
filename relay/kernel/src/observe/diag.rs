//! TCP connections as NETLINK_SOCK_DIAG (inet_diag) lists them, timewait buckets included.
//!
//! The tracepoint stops at full sockets: once the kernel hands a connection to a
//! timewait bucket, its FIN_WAIT2 and TIME_WAIT are visible only here (`ss -tan`
//! shows them with `ino:0`). The netlink socket is made inside the session's
//! namespace, so a dump lists that session's connections only.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::IPPROTO_TCP;
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use socket2::Socket;
use socklab_wire::tcp::TcpState;

use super::tcp_state;
use crate::netns::Netns;

/// One connection as the kernel lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DiagEntry {
    pub local: SocketAddr,
    pub peer: SocketAddr,
    pub state: TcpState,
    /// The socket's inode; 0 for a timewait bucket or an orphan.
    pub inode: u32,
}

/// A NETLINK_SOCK_DIAG socket in one namespace.
#[derive(Debug)]
pub(crate) struct Diag {
    sock: Socket,
    buf: Vec<u8>,
    /// The sequence number of the current request: replies to earlier ones are skipped.
    sequence: u32,
}

impl Diag {
    /// Opens the socket in `netns`, or in the relay's own namespace for `None`.
    pub fn open(netns: Option<&Netns>) -> io::Result<Diag> {
        let (domain, ty, proto) = (libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_SOCK_DIAG);
        let sock = match netns {
            Some(netns) => netns.socket(domain, ty, proto)?,
            None => crate::netns::host_socket(domain, ty, proto)?,
        };
        // A dump is answered at once (the kernel fills it in during recv), so a
        // blocking read with a short timeout never stalls the caller for long.
        sock.set_nonblocking(false)?;
        sock.set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(Diag {
            sock,
            buf: vec![0; 64 * 1024],
            sequence: 0,
        })
    }

    /// Every TCP connection of `family` (`AF_INET` or `AF_INET6`) in the namespace.
    pub fn dump(&mut self, family: u8) -> io::Result<Vec<DiagEntry>> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        header.sequence_number = self.sequence;
        let socket_id = if family == libc::AF_INET6 as u8 {
            SocketId::new_v6()
        } else {
            SocketId::new_v4()
        };
        let mut request = NetlinkMessage::new(
            header,
            SockDiagMessage::InetRequest(InetRequest {
                family,
                protocol: IPPROTO_TCP,
                extensions: ExtensionFlags::empty(),
                states: StateFlags::all(),
                socket_id,
            })
            .into(),
        );
        request.finalize();
        let mut bytes = vec![0; request.buffer_len()];
        request.serialize(&mut bytes);
        self.sock.send(&bytes)?;

        let mut entries = Vec::new();
        loop {
            // SAFETY: `recv` only writes initialized bytes into the buffer; viewing
            // our initialized Vec<u8> as MaybeUninit<u8> is sound.
            let spare = unsafe {
                std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().cast(), self.buf.len())
            };
            let n = self.sock.recv(spare)?;
            for bytes in crate::rtnl::replies(&self.buf[..n], self.sequence) {
                let message = match NetlinkMessage::<SockDiagMessage>::deserialize(bytes)
                {
                    Ok(message) => message,
                    Err(error) => {
                        tracing::debug!(%error, "skipping a sock_diag message that does not parse");
                        continue;
                    }
                };
                match message.payload {
                    NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                        let header = &response.header;
                        let id = &header.socket_id;
                        if let Some(state) = tcp_state::from_kernel(header.state.into()) {
                            entries.push(DiagEntry {
                                local: SocketAddr::new(id.source_address, id.source_port),
                                peer: SocketAddr::new(id.destination_address, id.destination_port),
                                state,
                                inode: header.inode,
                            });
                        }
                    }
                    NetlinkPayload::Done(_) => return Ok(entries),
                    NetlinkPayload::Error(error) => {
                        return Err(io::Error::other(format!(
                            "sock_diag dump failed: {error:?}"
                        )));
                    }
                    _ => {}
                }
            }
        }
    }

    /// The kernel's entry for the connection `local`–`peer`, if it still has one.
    pub fn find(&mut self, local: SocketAddr, peer: SocketAddr) -> io::Result<Option<DiagEntry>> {
        let family = if local.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        } as u8;
        Ok(self.dump(family)?.into_iter().find(|entry| {
            entry.local.port() == local.port()
                && entry.peer.port() == peer.port()
                && same_ip(entry.local.ip(), local.ip())
                && same_ip(entry.peer.ip(), peer.ip())
        }))
    }
}

/// Address equality that treats `::ffff:a.b.c.d` as `a.b.c.d`.
pub(crate) fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}
