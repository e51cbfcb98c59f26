//! What an open TCP socket's fd says about it now: TCP_INFO's state and its addresses.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{BorrowedFd, RawFd};

use socket2::SockRef;
use socklab_wire::tcp::TcpState;

use super::tcp_state::from_kernel;
use super::tcpinfo::RawTcpInfo;

/// What one look at an open socket found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sample {
    pub state: Option<TcpState>,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
}

/// Samples `fd`. The caller guarantees that `fd` is an open socket for the
/// duration of the call (the observer API is called around the socket's calls,
/// never after its close).
pub(crate) fn sample(fd: RawFd) -> Sample {
    // SAFETY: by this function's contract `fd` is open while we use it, and the
    // borrow does not outlive this call.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = SockRef::from(&fd);
    Sample {
        state: tcp_state(&fd).ok(),
        local: sock.local_addr().ok().and_then(|a| a.as_socket()),
        peer: sock.peer_addr().ok().and_then(|a| a.as_socket()),
    }
}

/// `getsockopt(TCP_INFO).tcpi_state`.
fn tcp_state(fd: &BorrowedFd<'_>) -> io::Result<TcpState> {
    use std::os::fd::AsRawFd;
    let info = RawTcpInfo::read(fd.as_raw_fd())?;
    info.state()
        .and_then(|state| from_kernel(state.into()))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unknown TCP state"))
}
