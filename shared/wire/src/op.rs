//! Every socket operation a script can make, each described once: its name
//! (on the wire and in scripts), its parameters, whether it may wait, how the
//! C export spells it and its byte in the binary codec. The interpreter, the
//! exporters, the codec and the relay's metrics all read this table.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

/// One socket operation: a [`Call`](crate::protocol::Call) variant, reached
/// from a script as a socket method or as a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Socket,
    Bind,
    Listen,
    Accept,
    Connect,
    ConnectEx,
    Send,
    Sendall,
    Recv,
    Sendto,
    Recvfrom,
    Shutdown,
    Close,
    Setblocking,
    Settimeout,
    Setsockopt,
    Getsockopt,
    Getsockname,
    Getpeername,
    Fileno,
    Select,
    Gethostbyname,
    Sleep,
    LabPeer,
    Socketpair,
    Fork,
    Poll,
    Unlink,
    Exists,
    LabHosts,
    LabLink,
}

/// How a script reaches an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// `sock.name(...)`: a method of one socket.
    Method,
    /// `name(...)`, or `module.name(...)` as in Python.
    Function,
}

/// What the table says about one op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpInfo {
    pub name: &'static str,
    pub reach: Reach,
    /// Parameter names in positional order, as Python names them (for keyword arguments).
    pub params: &'static [&'static str],
    /// How many leading parameters a call must give.
    pub required: usize,
    /// Whether the call may wait for the kernel or a clock (unless its socket is non-blocking).
    pub waits: bool,
    /// The C runtime's function and how many of `params` it takes; `None` where the C export has none.
    pub c: Option<(&'static str, usize)>,
    /// The first byte of the op's binary frame, where it has one.
    pub code: Option<u8>,
}

const fn row(reach: Reach, name: &'static str, params: &'static [&'static str], required: usize) -> OpInfo {
    OpInfo { name, reach, params, required, waits: false, c: None, code: None }
}

const fn method(name: &'static str, params: &'static [&'static str], required: usize) -> OpInfo {
    row(Reach::Method, name, params, required)
}

const fn function(name: &'static str, params: &'static [&'static str], required: usize) -> OpInfo {
    row(Reach::Function, name, params, required)
}

impl OpInfo {
    const fn waits(self) -> OpInfo {
        OpInfo { waits: true, ..self }
    }

    const fn c(self, function: &'static str, takes: usize) -> OpInfo {
        OpInfo { c: Some((function, takes)), ..self }
    }

    const fn code(self, byte: u8) -> OpInfo {
        OpInfo { code: Some(byte), ..self }
    }
}

impl Op {
    /// Every op, in the order of [`Call`](crate::protocol::Call)'s variants; `Op::ALL[op.index()] == op`.
    pub const ALL: [Op; 31] = [
        Op::Socket,
        Op::Bind,
        Op::Listen,
        Op::Accept,
        Op::Connect,
        Op::ConnectEx,
        Op::Send,
        Op::Sendall,
        Op::Recv,
        Op::Sendto,
        Op::Recvfrom,
        Op::Shutdown,
        Op::Close,
        Op::Setblocking,
        Op::Settimeout,
        Op::Setsockopt,
        Op::Getsockopt,
        Op::Getsockname,
        Op::Getpeername,
        Op::Fileno,
        Op::Select,
        Op::Gethostbyname,
        Op::Sleep,
        Op::LabPeer,
        Op::Socketpair,
        Op::Fork,
        Op::Poll,
        Op::Unlink,
        Op::Exists,
        Op::LabHosts,
        Op::LabLink,
    ];

    /// Every op's name, in the order of [`Op::ALL`].
    pub const NAMES: [&'static str; Op::ALL.len()] = {
        let mut names = [""; Op::ALL.len()];
        let mut i = 0;
        while i < names.len() {
            names[i] = Op::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The table.
    pub const fn info(self) -> OpInfo {
        match self {
            Op::Socket => function("socket", &["family", "type", "proto", "fileno"], 0).c("sl_socket", 3),
            Op::Bind => method("bind", &["address"], 1).c("sock_bind", 1),
            Op::Listen => method("listen", &["backlog"], 0).c("sock_listen", 1),
            Op::Accept => method("accept", &[], 0).waits().c("sock_accept", 0),
            Op::Connect => method("connect", &["address"], 1).waits().c("sock_connect", 1),
            Op::ConnectEx => method("connect_ex", &["address"], 1).waits().c("sock_connect_ex", 1),
            Op::Send => method("send", &["data", "flags"], 1).waits().c("sock_send", 2).code(0x01),
            Op::Sendall => method("sendall", &["data", "flags"], 1).waits().c("sock_sendall", 2).code(0x02),
            Op::Recv => method("recv", &["bufsize", "flags"], 1).waits().c("sock_recv", 2).code(0x03),
            // sendto(data, address) or sendto(data, flags, address); the C runtime takes the first form.
            Op::Sendto => method("sendto", &["data", "flags", "address"], 2).waits().c("sock_sendto", 2),
            Op::Recvfrom => method("recvfrom", &["bufsize", "flags"], 1).waits().c("sock_recvfrom", 2),
            Op::Shutdown => method("shutdown", &["how"], 1).c("sock_shutdown", 1),
            Op::Close => method("close", &[], 0).c("sock_close", 0),
            Op::Setblocking => method("setblocking", &["flag"], 1).c("sock_setblocking", 1),
            Op::Settimeout => method("settimeout", &["value"], 1).c("sock_settimeout", 1),
            Op::Setsockopt => method("setsockopt", &["level", "option", "value"], 3).c("sock_setsockopt", 3),
            Op::Getsockopt => method("getsockopt", &["level", "option", "buflen"], 2).c("sock_getsockopt", 2),
            Op::Getsockname => method("getsockname", &[], 0).c("sock_getsockname", 0),
            Op::Getpeername => method("getpeername", &[], 0).c("sock_getpeername", 0),
            Op::Fileno => method("fileno", &[], 0).c("sock_fileno", 0),
            Op::Select => function("select", &["rlist", "wlist", "xlist", "timeout"], 3).waits().c("sl_select", 4),
            Op::Gethostbyname => function("gethostbyname", &["hostname"], 1),
            Op::Sleep => function("sleep", &["seconds"], 1).waits().c("sl_sleep", 1),
            Op::LabPeer => function("lab_peer", &["kind"], 1).c("sl_lab_peer", 1),
            Op::Socketpair => function("socketpair", &["family", "type", "proto"], 0),
            Op::Fork => function("fork", &[], 0),
            Op::Poll => function("poll", &["fds", "timeout"], 1).waits(),
            Op::Unlink => function("unlink", &["path"], 1),
            Op::Exists => function("exists", &["path"], 1),
            Op::LabHosts => function("lab_hosts", &["hosts"], 1),
            Op::LabLink => function(
                "lab_link",
                &["a", "b", "delay", "jitter", "loss", "duplicate", "reorder", "corrupt", "rate", "mtu"],
                1,
            ),
        }
    }

    /// The name on the wire and in scripts.
    pub const fn name(self) -> &'static str {
        self.info().name
    }

    /// The op's place in [`Op::ALL`], for tables indexed by op.
    pub const fn index(self) -> usize {
        self as usize
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The op whose binary frame starts with `code`.
    pub fn from_code(code: u8) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.info().code == Some(code))
    }

    /// How many positional arguments a script may pass.
    pub const fn arity(self) -> RangeInclusive<usize> {
        let info = self.info();
        info.required..=info.params.len()
    }

    /// Whether the call may wait (on a socket that is not non-blocking).
    pub const fn may_wait(self) -> bool {
        self.info().waits
    }

    /// A method of one socket (as opposed to a function).
    pub const fn is_method(self) -> bool {
        matches!(self.info().reach, Reach::Method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_consistent() {
        for (i, op) in Op::ALL.into_iter().enumerate() {
            assert_eq!(op.index(), i, "{op:?}");
            assert_eq!(Op::from_name(op.name()), Some(op));
            assert_eq!(serde_json::to_string(&op).unwrap_or_default(), format!("\"{}\"", op.name()));
            let info = op.info();
            assert!(info.required <= info.params.len(), "{op:?}");
            if let Some((_, takes)) = info.c {
                assert!((info.required..=info.params.len()).contains(&takes), "{op:?}");
            }
            if let Some(code) = info.code {
                assert_eq!(Op::from_code(code), Some(op));
            }
        }
        assert_eq!(Op::NAMES[Op::LabPeer.index()], "lab_peer");
        assert_eq!(Op::Sendto.arity(), 2..=3);
    }
}
