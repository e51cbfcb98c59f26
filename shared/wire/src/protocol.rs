//! Wire protocol v1 between a client (the page, the CLI's engine, tests) and the relay.
//!
//! JSON text frames, one message per frame. `docs/protocol.md` documents every
//! message with examples; this module is the single definition of their shape.

use serde::{Deserialize, Serialize};

use crate::op::Op;
use crate::tcp::{StateObservation, TcpState};
use crate::tcpinfo::{ExpertMark, TcpInfo};

/// The only protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// A socket handle, unique within one session and never reused in it.
pub type SockId = u32;

/// Messages from a client to the relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// First message of a session.
    Hello {
        version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// One socket call. `id` is chosen by the client and echoed in the answer.
    Call { id: u64, call: Call },
    /// Cancel a pending call; it is answered with `outcome: "cancelled"`.
    Cancel { id: u64 },
    /// The session's link capture as pcapng, answered by [`ServerMsg::Pcap`];
    /// `marks` say which script line made each call, for the packets' comments.
    Pcap {
        id: u64,
        #[serde(default)]
        marks: Vec<PcapMark>,
    },
    /// A request about the session's run: a script the relay runs for the
    /// client (the page's Run and Step), answered by `run` updates.
    Run { cmd: RunCmd },
}

/// What a client asks of the script the relay runs for it. The relay parses
/// and runs the script, makes its calls in the session as `call` messages
/// would (their answers and the kernel's events still come as usual), and
/// reports the run with `run` updates (`socklab_run::page`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RunCmd {
    /// Run `source`, or run on if a stepped run is paused.
    Go { source: String },
    /// Step one statement of `lane` (with `over`, step over the calls it
    /// makes), starting a paused run of `source` if none is in progress;
    /// with `follow`, a lane that cannot step hands the step to the lane Run
    /// would pick.
    Step {
        source: String,
        lane: String,
        #[serde(default)]
        over: bool,
        #[serde(default)]
        follow: bool,
    },
    /// Run only when stepped.
    Pause,
    /// End the run: its calls still out are cancelled.
    Stop,
    /// Cancel the call `lane` is blocked in.
    Cancel { lane: String },
    /// A line for `lane`'s `input()`, or None for the end of its input.
    Input {
        lane: String,
        #[serde(default)]
        line: Option<String>,
    },
    /// Parse `source` without running it: answered with its diagnostics.
    Check { source: String },
    /// Judge the session's runs against lesson `number`'s checkpoints (none:
    /// stop judging), its reasons in `lang` (`en`, `zh`). A new lesson
    /// starts from an empty transcript; the same one in another language
    /// is judged again.
    Lesson {
        #[serde(default)]
        number: Option<u32>,
        #[serde(default)]
        lang: Option<String>,
    },
}

/// The longest script a `run` request may carry, in bytes.
pub const MAX_RUN_SOURCE: usize = 256 * 1024;

/// Call ids from here up belong to the scripts the relay runs for the client.
pub const RUN_IDS: u64 = 1 << 48;

/// Most marks one `pcap` request may carry.
pub const MAX_PCAP_MARKS: usize = 10_000;

/// A call a lane made, as the client knows it: when (the call's `ts_us`), on
/// which host, from which lane and line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcapMark {
    pub ts_us: u64,
    pub host: String,
    pub lane: String,
    pub line: u32,
}

/// One socket call, named and shaped as in the script language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Call {
    Socket {
        family: i32,
        #[serde(rename = "type")]
        sock_type: i32,
        #[serde(default)]
        proto: i32,
        /// The session host (`# lane: NAME @ HOST`) whose network the socket is made in;
        /// absent: the session's own network.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    Bind { sock: SockId, addr: Addr },
    Listen {
        sock: SockId,
        #[serde(default = "default_backlog")]
        backlog: i32,
    },
    Accept { sock: SockId },
    Connect { sock: SockId, addr: Addr },
    /// Like `connect`, but an error is returned as an errno value, not raised.
    ConnectEx { sock: SockId, addr: Addr },
    Send {
        sock: SockId,
        data: Bytes,
        #[serde(default)]
        flags: i32,
    },
    Sendall {
        sock: SockId,
        data: Bytes,
        #[serde(default)]
        flags: i32,
    },
    Recv {
        sock: SockId,
        n: u32,
        #[serde(default)]
        flags: i32,
    },
    Sendto {
        sock: SockId,
        data: Bytes,
        addr: Addr,
        #[serde(default)]
        flags: i32,
    },
    Recvfrom {
        sock: SockId,
        n: u32,
        #[serde(default)]
        flags: i32,
    },
    Shutdown { sock: SockId, how: i32 },
    Close { sock: SockId },
    Setblocking { sock: SockId, flag: bool },
    /// `None` means blocking without a timeout; `0.0` means non-blocking.
    Settimeout { sock: SockId, seconds: Option<f64> },
    Setsockopt {
        sock: SockId,
        level: i32,
        opt: i32,
        value: OptValue,
    },
    /// With `buflen`, the raw option bytes are returned; without, an int.
    Getsockopt {
        sock: SockId,
        level: i32,
        opt: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        buflen: Option<u32>,
    },
    Getsockname { sock: SockId },
    Getpeername { sock: SockId },
    Fileno { sock: SockId },
    Select {
        rlist: Vec<SockId>,
        wlist: Vec<SockId>,
        xlist: Vec<SockId>,
        timeout: Option<f64>,
    },
    Gethostbyname {
        name: String,
        /// The asking lane's host: a name spelled like an outside host resolves
        /// to that host's HTTP lab peer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    Sleep { seconds: f64 },
    /// Start (or find) a lab peer of this kind in the session's network (on
    /// `host`, for a lane on a host); the value is its address.
    LabPeer {
        kind: PeerKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// `socketpair(2)`: two connected sockets; the value is [`Ret::Pair`].
    Socketpair {
        #[serde(default = "default_pair_family")]
        family: i32,
        #[serde(rename = "type", default = "default_pair_type")]
        sock_type: i32,
        #[serde(default)]
        proto: i32,
    },
    /// `os.fork()`: the relay duplicates these sockets (`dup(2)`) for the
    /// child; the value is [`Ret::Forked`], the copies in the same order.
    Fork { socks: Vec<SockId> },
    /// `poll(2)` on the session's descriptors (`select.poll`, `select.epoll`):
    /// the value is [`Ret::Polled`]. A descriptor that is not one of the
    /// session's sockets reports `POLLNVAL`, as poll(2) does for a closed one.
    Poll {
        fds: Vec<PollFd>,
        /// Seconds; `None` waits as long as it takes.
        timeout: Option<f64>,
    },
    /// `os.unlink(path)`: removes a file in the session's Unix path directory
    /// (the host's, for a lane on a host).
    Unlink {
        path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// `os.path.exists(path)`: whether the path names something in the
    /// session's Unix path directory (the host's); the value is an int, 1 or 0.
    Exists {
        path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// Makes the session's hosts (the script's `# lane: NAME @ HOST` hosts, in
    /// order of first appearance), each its own network namespace on a link
    /// shared with the others. Sent once, before any socket is made.
    LabHosts { hosts: Vec<String> },
    /// `lab_link(a, b, …)`: sets the conditions of the link between hosts `a`
    /// and `b` (with three or more hosts: host `a`'s cable to the switch).
    LabLink {
        a: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        b: Option<String>,
        #[serde(flatten)]
        conditions: crate::network::LinkConditions,
    },
}

/// One descriptor of a [`Call::Poll`]: the events asked for, or in
/// [`Ret::Polled`] the events that happened (`revents`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
}

fn default_pair_family() -> i32 {
    // AF_UNIX, as in Python's socket.socketpair().
    1
}

fn default_pair_type() -> i32 {
    1
}

fn default_backlog() -> i32 {
    128
}

impl Call {
    /// Which op this call is.
    pub fn op(&self) -> Op {
        match self {
            Call::Socket { .. } => Op::Socket,
            Call::Bind { .. } => Op::Bind,
            Call::Listen { .. } => Op::Listen,
            Call::Accept { .. } => Op::Accept,
            Call::Connect { .. } => Op::Connect,
            Call::ConnectEx { .. } => Op::ConnectEx,
            Call::Send { .. } => Op::Send,
            Call::Sendall { .. } => Op::Sendall,
            Call::Recv { .. } => Op::Recv,
            Call::Sendto { .. } => Op::Sendto,
            Call::Recvfrom { .. } => Op::Recvfrom,
            Call::Shutdown { .. } => Op::Shutdown,
            Call::Close { .. } => Op::Close,
            Call::Setblocking { .. } => Op::Setblocking,
            Call::Settimeout { .. } => Op::Settimeout,
            Call::Setsockopt { .. } => Op::Setsockopt,
            Call::Getsockopt { .. } => Op::Getsockopt,
            Call::Getsockname { .. } => Op::Getsockname,
            Call::Getpeername { .. } => Op::Getpeername,
            Call::Fileno { .. } => Op::Fileno,
            Call::Select { .. } => Op::Select,
            Call::Gethostbyname { .. } => Op::Gethostbyname,
            Call::Sleep { .. } => Op::Sleep,
            Call::LabPeer { .. } => Op::LabPeer,
            Call::Socketpair { .. } => Op::Socketpair,
            Call::Fork { .. } => Op::Fork,
            Call::Poll { .. } => Op::Poll,
            Call::Unlink { .. } => Op::Unlink,
            Call::Exists { .. } => Op::Exists,
            Call::LabHosts { .. } => Op::LabHosts,
            Call::LabLink { .. } => Op::LabLink,
        }
    }

    /// The op name as it appears on the wire and in scripts.
    pub fn op_name(&self) -> &'static str {
        self.op().name()
    }

    /// The socket the call acts on, if it acts on exactly one.
    pub fn sock(&self) -> Option<SockId> {
        match self {
            Call::Bind { sock, .. }
            | Call::Listen { sock, .. }
            | Call::Accept { sock }
            | Call::Connect { sock, .. }
            | Call::ConnectEx { sock, .. }
            | Call::Send { sock, .. }
            | Call::Sendall { sock, .. }
            | Call::Recv { sock, .. }
            | Call::Sendto { sock, .. }
            | Call::Recvfrom { sock, .. }
            | Call::Shutdown { sock, .. }
            | Call::Close { sock }
            | Call::Setblocking { sock, .. }
            | Call::Settimeout { sock, .. }
            | Call::Setsockopt { sock, .. }
            | Call::Getsockopt { sock, .. }
            | Call::Getsockname { sock }
            | Call::Getpeername { sock }
            | Call::Fileno { sock } => Some(*sock),
            Call::Socket { .. }
            | Call::Select { .. }
            | Call::Gethostbyname { .. }
            | Call::Sleep { .. }
            | Call::LabPeer { .. }
            | Call::Socketpair { .. }
            | Call::Fork { .. }
            | Call::Poll { .. }
            | Call::Unlink { .. }
            | Call::Exists { .. }
            | Call::LabHosts { .. }
            | Call::LabLink { .. } => None,
        }
    }
}

/// A name spelled like a host on the Internet (`baidu.com`, `www.example.org`):
/// dot-separated labels of letters, digits and `-`, the last not all digits.
/// Such a name stands for the session's HTTP lab peer when a script resolves it
/// (`gethostbyname`, `getaddrinfo`, `create_connection`); others stay unknown.
pub fn is_outside_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels.last().is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// Every op name `Call` accepts, for "unknown op" errors that list them.
pub const OP_NAMES: &[&str] = &Op::NAMES;

/// A socket address as a script writes it. Which form is valid depends on the
/// socket's family, which only the relay knows for sure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Addr {
    /// `("host", port)` or `("host", port, flowinfo, scope_id)`.
    Inet {
        host: String,
        port: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flowinfo: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope_id: Option<u32>,
    },
    /// An AF_UNIX path; a leading NUL names the abstract namespace; empty is unnamed.
    Unix { path: String },
}

/// Read by its keys (`host` and `port`, or `path`) rather than as serde's
/// untagged enum, which buffers the object to try each form in turn.
impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Addr, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Addr;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an address: {\"host\", \"port\"} or {\"path\"}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Addr, A::Error> {
                let (mut host, mut port, mut flowinfo, mut scope_id, mut path) = (None, None, None, None, None);
                while let Some(key) = map.next_key::<std::borrow::Cow<str>>()? {
                    match key.as_ref() {
                        "host" => host = Some(map.next_value::<String>()?),
                        "port" => port = Some(map.next_value::<i64>()?),
                        "flowinfo" => flowinfo = map.next_value::<Option<u32>>()?,
                        "scope_id" => scope_id = map.next_value::<Option<u32>>()?,
                        "path" => path = Some(map.next_value::<String>()?),
                        _ => drop(map.next_value::<serde::de::IgnoredAny>()?),
                    }
                }
                match (host, port, path) {
                    (Some(host), Some(port), _) => Ok(Addr::Inet { host, port, flowinfo, scope_id }),
                    (None, None, Some(path)) => Ok(Addr::Unix { path }),
                    _ => Err(serde::de::Error::custom("an address needs \"host\" and \"port\", or \"path\"")),
                }
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

impl Addr {
    pub fn inet(host: impl Into<String>, port: u16) -> Addr {
        Addr::Inet { host: host.into(), port: port.into(), flowinfo: None, scope_id: None }
    }
}

impl std::fmt::Display for Addr {
    /// Python's repr of the address: `('127.0.0.1', 5500)`, `'/tmp/s'`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Addr::Inet { host, port, flowinfo: None, scope_id: None } => write!(f, "('{host}', {port})"),
            Addr::Inet { host, port, flowinfo, scope_id } => write!(
                f,
                "('{host}', {port}, {}, {})",
                flowinfo.unwrap_or(0),
                scope_id.unwrap_or(0)
            ),
            Addr::Unix { path } => {
                if let Some(rest) = path.strip_prefix('\0') {
                    write!(f, "'\\x00{}'", rest.escape_debug())
                } else {
                    write!(f, "'{}'", path.escape_debug())
                }
            }
        }
    }
}

/// A setsockopt value: an int, or raw bytes (e.g. `struct timeval`, `struct linger`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OptValue {
    Int(i64),
    Bytes(Bytes),
}

/// Binary data, base64 in JSON (`{"b64": "..."}`) so any byte survives.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bytes {
    #[serde(with = "b64")]
    pub b64: Vec<u8>,
}

impl Bytes {
    pub fn new(data: impl Into<Vec<u8>>) -> Bytes {
        Bytes { b64: data.into() }
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.b64
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b{:?}", String::from_utf8_lossy(&self.b64))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes { b64: v }
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Bytes {
        Bytes { b64: v.to_vec() }
    }
}

mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(data))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// What a socket is, as reported when it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SockInfo {
    pub sock: SockId,
    /// The real kernel fd on the relay.
    pub fd: i32,
    pub family: i32,
    #[serde(rename = "type")]
    pub sock_type: i32,
    pub proto: i32,
}

/// A successful call's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "kind"))]
pub enum Ret {
    None,
    Int { value: i64 },
    Bytes { data: Bytes },
    Socket { info: SockInfo },
    /// `accept()`: the new socket and the peer's address.
    Accepted { info: SockInfo, addr: Option<Addr> },
    /// `getsockname`/`getpeername`; `None` for an unnamed Unix socket.
    Addr { addr: Option<Addr> },
    /// `recvfrom()`.
    Datagram { data: Bytes, addr: Option<Addr> },
    Select { r: Vec<SockId>, w: Vec<SockId>, x: Vec<SockId> },
    Host { address: String },
    /// `socketpair()`: the two new sockets.
    Pair { a: SockInfo, b: SockInfo },
    /// `fork`: the child's copies of the sockets, in the order asked.
    Forked { socks: Vec<SockInfo> },
    /// `poll`: the descriptors with events, each with its `revents`, in the order asked.
    Polled { fds: Vec<PollFd> },
}

/// An OS error as the kernel reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsError {
    /// The errno name, e.g. `ECONNREFUSED`.
    pub errno: String,
    pub errno_num: i32,
    /// strerror-like text; for a settimeout expiry it says "timed out".
    pub message: String,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "outcome"))]
pub enum Outcome {
    Ok { value: Ret },
    Err { error: OsError },
    Cancelled,
}

/// Session mode, decided by what the relay may do on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxMode {
    /// A private network namespace per session.
    Namespace,
    /// Sockets in the relay's own network, loopback only.
    Host,
}

/// What the relay can observe in this session, and why not where it cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub tcp_states: StateObservation,
    /// Whether `segment` events come.
    pub capture: bool,
    /// Why capture or tracing is unavailable, in plain words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Machine-readable class of a protocol-level error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidJson,
    UnknownType,
    UnknownOp,
    BadArguments,
    UnknownSocket,
    DuplicateId,
    UnknownCall,
    TooLarge,
    VersionMismatch,
    NotHelloFirst,
    Unauthorized,
    LimitExceeded,
    Internal,
}

/// Messages from the relay to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
#[cfg_attr(target_arch = "wasm32", serde(try_from = "page::ServerMsg"))]
pub enum ServerMsg {
    Hello {
        version: u32,
        mode: SandboxMode,
        capabilities: Capabilities,
        /// The relay's name and version, e.g. `socklab 0.1.0`.
        server: String,
    },
    /// The call could not complete at once; its lane is blocked until `Result`.
    Pending { id: u64 },
    Result {
        id: u64,
        #[serde(flatten)]
        outcome: Outcome,
        /// When the system call that gave this result was made, in microseconds
        /// on the clock of events' `ts_us` (for a connect: its first
        /// `connect(2)`, which starts the handshake). Absent for a cancelled
        /// call and in the binary encoding.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ts_us: Option<u64>,
    },
    /// The message could not be acted on. `id` is the call's id when known.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        code: ErrorCode,
        message: String,
    },
    Event { event: Event },
    /// The answer to [`ClientMsg::Pcap`]: a pcapng file of `packets` frames;
    /// `dropped` frames came after the session's capture limit and are not in it.
    Pcap { id: u64, data: Bytes, packets: u64, dropped: u64 },
}

/// Something that happened in the session, not as the direct answer to a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "kind"))]
pub enum Event {
    SocketCreated { info: SockInfo },
    SocketClosed { sock: SockId },
    /// A kernel TCP state transition. `sock` stays the socket's handle after its
    /// fd is closed while the kernel still holds the connection (e.g. TIME_WAIT);
    /// it is absent only where the relay could not tell which socket it was.
    State {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sock: Option<SockId>,
        from: TcpState,
        to: TcpState,
        local: String,
        peer: String,
        /// Microseconds since the session started.
        ts_us: u64,
    },
    Segment {
        src: String,
        dst: String,
        /// `TCP`, `UDP` or `ICMP`.
        proto: String,
        /// TCP flags such as `SYN,ACK`; for ICMP the type, e.g. `echo-request`.
        flags: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ack: Option<u32>,
        len: u32,
        ts_us: u64,
        /// What Wireshark's expert info would mark on this segment, in its direction.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        expert: Vec<ExpertMark>,
        /// The session host that sent it (`# lane: NAME @ HOST`); absent on the session's own loopback.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// A TCP socket's `TCP_INFO` and queues, sent after a call or while data is
    /// in flight, and only when something changed since the socket's last one.
    TcpInfo {
        sock: SockId,
        info: TcpInfo,
        /// Microseconds since the session started.
        ts_us: u64,
    },
    /// A host name outside the lab (`gethostbyname("baidu.com")`) was given
    /// the address of a lab peer the session started for it: the lab has no
    /// outside network, and no traffic ever leaves it.
    Resolved {
        name: String,
        /// The lab peer's kind, e.g. `http`.
        peer: String,
        /// Where the peer listens, `host:port`.
        address: String,
    },
}

/// A lab server `lab_peer()` starts in the session's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerKind {
    /// Sends back every byte it receives.
    Echo,
    /// Reads and drops everything.
    Discard,
    /// Reads slowly through a tiny receive buffer: senders meet short sends.
    SlowReader,
    /// Accepts, then closes with RST (the client sees ECONNRESET).
    Reset,
    /// HTTP/1.1: `/` answers with Content-Length, `/chunked` with chunked encoding.
    Http,
}

impl PeerKind {
    pub const ALL: [PeerKind; 5] =
        [PeerKind::Echo, PeerKind::Discard, PeerKind::SlowReader, PeerKind::Reset, PeerKind::Http];

    /// The name on the wire and in scripts, e.g. `slow_reader`.
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::Echo => "echo",
            PeerKind::Discard => "discard",
            PeerKind::SlowReader => "slow_reader",
            PeerKind::Reset => "reset",
            PeerKind::Http => "http",
        }
    }
}

/// A `lab_peer()` name that names no peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no lab peer called {0:?}; there are: {names}", names = PeerKind::ALL.map(PeerKind::name).join(", "))]
pub struct UnknownPeer(pub String);

impl std::str::FromStr for PeerKind {
    type Err = UnknownPeer;

    /// A peer's name, or one of the short names scripts have used (`slow`, `rst`).
    fn from_str(name: &str) -> Result<PeerKind, UnknownPeer> {
        match name {
            "slow" => Ok(PeerKind::SlowReader),
            "rst" => Ok(PeerKind::Reset),
            _ => crate::named::find(&PeerKind::ALL, PeerKind::name, "lab peer", name).map_err(|_| UnknownPeer(name.to_string())),
        }
    }
}

crate::named::by_name!(PeerKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_round_trips_as_documented() {
        let text = r#"{"type":"call","id":7,"call":{"op":"send","sock":1,"data":{"b64":"aGk="}}}"#;
        let msg: ClientMsg = serde_json::from_str(text).unwrap();
        assert_eq!(
            msg,
            ClientMsg::Call { id: 7, call: Call::Send { sock: 1, data: Bytes::new(&b"hi"[..]), flags: 0 } }
        );
    }

    #[test]
    fn a_capture_request_and_its_answer_as_documented() {
        let text = r#"{"type":"pcap","id":9,"marks":[{"ts_us":118020,"host":"laptop","lane":"client","line":14}]}"#;
        let mark = PcapMark { ts_us: 118_020, host: "laptop".into(), lane: "client".into(), line: 14 };
        assert_eq!(serde_json::from_str::<ClientMsg>(text).unwrap(), ClientMsg::Pcap { id: 9, marks: vec![mark] });
        assert_eq!(serde_json::from_str::<ClientMsg>(r#"{"type":"pcap","id":9}"#).unwrap(), ClientMsg::Pcap { id: 9, marks: Vec::new() });
        let answer = ServerMsg::Pcap { id: 9, data: Bytes::new(&b"\n\r\r\n"[..]), packets: 0, dropped: 0 };
        let text = serde_json::to_string(&answer).unwrap();
        assert_eq!(text, r#"{"type":"pcap","id":9,"data":{"b64":"Cg0NCg=="},"packets":0,"dropped":0}"#);
        assert_eq!(serde_json::from_str::<ServerMsg>(&text).unwrap(), answer);
    }

    #[test]
    fn result_is_flat() {
        let msg = ServerMsg::Result { id: 3, outcome: Outcome::Ok { value: Ret::Int { value: 5 } }, ts_us: None };
        assert_eq!(
            serde_json::to_string(&msg).unwrap(),
            r#"{"type":"result","id":3,"outcome":"ok","value":{"kind":"int","value":5}}"#
        );
        let back: ServerMsg = serde_json::from_str(&serde_json::to_string(&msg).unwrap()).unwrap();
        assert_eq!(back, msg);
        let stamped = ServerMsg::Result { id: 3, outcome: Outcome::Ok { value: Ret::None }, ts_us: Some(1250) };
        let text = serde_json::to_string(&stamped).unwrap();
        assert_eq!(text, r#"{"type":"result","id":3,"outcome":"ok","value":{"kind":"none"},"ts_us":1250}"#);
        assert_eq!(serde_json::from_str::<ServerMsg>(&text).unwrap(), stamped);
    }

    #[test]
    fn peer_kinds_on_the_wire() {
        for (kind, name) in PeerKind::ALL.into_iter().zip(["echo", "discard", "slow_reader", "reset", "http"]) {
            let call = Call::LabPeer { kind, host: None };
            let json = format!(r#"{{"op":"lab_peer","kind":"{name}"}}"#);
            assert_eq!(serde_json::to_string(&call).unwrap(), json);
            assert_eq!(serde_json::from_str::<Call>(&json).unwrap(), call);
            assert_eq!(serde_json::from_value::<Call>(serde_json::from_str(&json).unwrap()).unwrap(), call);
        }
        for (alias, kind) in [("slow", PeerKind::SlowReader), ("rst", PeerKind::Reset)] {
            assert_eq!(alias.parse(), Ok(kind));
            assert_eq!(serde_json::from_str::<PeerKind>(&format!("\"{alias}\"")).unwrap(), kind);
        }
        let unknown = serde_json::from_str::<Call>(r#"{"op":"lab_peer","kind":"ftp"}"#).unwrap_err().to_string();
        assert!(
            unknown.starts_with(r#"no lab peer called "ftp"; there are: echo, discard, slow_reader, reset, http"#),
            "{unknown}"
        );
    }

    #[test]
    fn typed_values_keep_their_json() {
        let hello = ServerMsg::Hello {
            version: 1,
            mode: SandboxMode::Namespace,
            capabilities: Capabilities { tcp_states: StateObservation::Sampled, capture: false, notes: Vec::new() },
            server: "socklab 0.1.0".into(),
        };
        let state = ServerMsg::Event {
            event: Event::State {
                sock: Some(1),
                from: TcpState::FinWait1,
                to: TcpState::TimeWait,
                local: "127.0.0.1:41234".into(),
                peer: "127.0.0.1:5500".into(),
                ts_us: 5,
            },
        };
        for (msg, json) in [
            (
                hello,
                r#"{"type":"hello","version":1,"mode":"namespace","capabilities":{"tcp_states":"sampled","capture":false},"server":"socklab 0.1.0"}"#,
            ),
            (
                state,
                r#"{"type":"event","event":{"kind":"state","sock":1,"from":"FIN_WAIT1","to":"TIME_WAIT","local":"127.0.0.1:41234","peer":"127.0.0.1:5500","ts_us":5}}"#,
            ),
        ] {
            assert_eq!(serde_json::to_string(&msg).unwrap(), json);
            assert_eq!(serde_json::from_str::<ServerMsg>(json).unwrap(), msg);
        }
    }

    #[test]
    fn tcp_info_and_expert_marks_read_as_documented() {
        let sample = r#"{"type":"event","event":{"kind":"tcp_info","sock":1,"info":{"rtt_us":41230,"rttvar_us":9800,"rto_us":244000,"cwnd":5,"ssthresh":5,"mss":988,"unacked":3,"lost":1,"retransmits":0,"total_retrans":2,"snd_wnd":65535,"rcv_wnd":65536,"rcv_space":14600,"delivery_rate":1250000,"inq":0,"outq":2964},"ts_us":130100}}"#;
        let msg: ServerMsg = serde_json::from_str(sample).unwrap();
        let ServerMsg::Event { event: Event::TcpInfo { sock: 1, info, ts_us: 130_100 } } = &msg else { panic!("{msg:?}") };
        assert_eq!((info.cwnd, info.total_retrans, info.rcv_wnd), (5, 2, Some(65536)));
        assert_eq!(serde_json::to_string(&msg).unwrap(), sample);
        let segment = r#"{"type":"event","event":{"kind":"segment","src":"a","dst":"b","proto":"TCP","flags":"ACK","seq":1,"ack":1,"len":0,"ts_us":5,"expert":["dup_ack","zero_window"]}}"#;
        let msg: ServerMsg = serde_json::from_str(segment).unwrap();
        assert!(matches!(&msg, ServerMsg::Event { event: Event::Segment { expert, .. } } if expert == &[ExpertMark::DupAck, ExpertMark::ZeroWindow]));
        assert_eq!(serde_json::to_string(&msg).unwrap(), segment);
        // A segment without marks reads as before.
        let plain = r#"{"type":"event","event":{"kind":"segment","src":"a","dst":"b","proto":"UDP","flags":"","len":3,"ts_us":5}}"#;
        assert_eq!(serde_json::to_string(&serde_json::from_str::<ServerMsg>(plain).unwrap()).unwrap(), plain);
    }

    #[test]
    fn addresses_take_both_forms() {
        let a: Addr = serde_json::from_str(r#"{"host":"::1","port":80,"flowinfo":0,"scope_id":0}"#).unwrap();
        assert_eq!(a.to_string(), "('::1', 80, 0, 0)");
        let u: Addr = serde_json::from_str(r#"{"path":"\u0000abs"}"#).unwrap();
        assert_eq!(u.to_string(), "'\\x00abs'");
    }

    #[test]
    fn every_op_name_is_listed() {
        let call = Call::Sleep { seconds: 0.0 };
        assert!(OP_NAMES.contains(&call.op_name()));
        assert_eq!(OP_NAMES.len(), 31);
    }

    #[test]
    fn a_calls_op_is_its_tag() {
        let calls = [
            Call::ConnectEx { sock: 1, addr: Addr::inet("127.0.0.1", 1) },
            Call::Getsockopt { sock: 1, level: 1, opt: 2, buflen: None },
            Call::LabPeer { kind: PeerKind::Echo, host: Some("laptop".into()) },
            Call::Socketpair { family: 1, sock_type: 1, proto: 0 },
            Call::Poll { fds: vec![PollFd { fd: 3, events: 1 }], timeout: Some(0.5) },
            Call::Unlink { path: "/tmp/x.sock".into(), host: None },
            Call::Exists { path: "/tmp/x.sock".into(), host: Some("laptop".into()) },
            Call::LabHosts { hosts: vec!["laptop".into()] },
            Call::LabLink { a: "laptop".into(), b: None, conditions: crate::network::LinkConditions { delay: 0.04, ..Default::default() } },
        ];
        for call in calls {
            let json = serde_json::to_value(&call).unwrap_or_default();
            assert_eq!(json["op"], call.op_name(), "{call:?}");
        }
    }
}

/// [`ServerMsg`] as the page reads it (`tag_first`): a result's outcome is
/// flattened into it, which serde can only read by buffering the object.
#[cfg(target_arch = "wasm32")]
mod page {
    use super::{Bytes, Capabilities, ErrorCode, Event, OsError, Ret, SandboxMode};
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ServerMsg {
        Hello { version: u32, mode: SandboxMode, capabilities: Capabilities, server: String },
        Pending { id: u64 },
        Result {
            id: u64,
            outcome: Outcome,
            #[serde(default)]
            value: Option<Ret>,
            #[serde(default)]
            error: Option<OsError>,
            #[serde(default)]
            ts_us: Option<u64>,
        },
        Error {
            #[serde(default)]
            id: Option<u64>,
            code: ErrorCode,
            message: String,
        },
        Event { event: Event },
        Pcap { id: u64, data: Bytes, packets: u64, dropped: u64 },
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Outcome {
        Ok,
        Err,
        Cancelled,
    }

    impl TryFrom<ServerMsg> for super::ServerMsg {
        type Error = &'static str;

        fn try_from(msg: ServerMsg) -> Result<super::ServerMsg, &'static str> {
            use super::Outcome as Is;
            Ok(match msg {
                ServerMsg::Hello { version, mode, capabilities, server } => {
                    super::ServerMsg::Hello { version, mode, capabilities, server }
                }
                ServerMsg::Pending { id } => super::ServerMsg::Pending { id },
                ServerMsg::Result { id, outcome, value, error, ts_us } => {
                    let outcome = match (outcome, value, error) {
                        (Outcome::Ok, Some(value), _) => Is::Ok { value },
                        (Outcome::Err, _, Some(error)) => Is::Err { error },
                        (Outcome::Cancelled, ..) => Is::Cancelled,
                        (Outcome::Ok, None, _) => return Err("missing field `value`"),
                        (Outcome::Err, _, None) => return Err("missing field `error`"),
                    };
                    super::ServerMsg::Result { id, outcome, ts_us }
                }
                ServerMsg::Error { id, code, message } => super::ServerMsg::Error { id, code, message },
                ServerMsg::Event { event } => super::ServerMsg::Event { event },
                ServerMsg::Pcap { id, data, packets, dropped } => super::ServerMsg::Pcap { id, data, packets, dropped },
            })
        }
    }
}
