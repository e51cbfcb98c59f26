//! A client of socklab's protocol v1 (see docs/protocol.md): JSON text frames,
//! plus binary frames for `send`, `sendall`, `recv` and their results when the
//! relay grants the `socklab.bin.v1` subprotocol; hello with the token, calls
//! with ids (pipelined when asked), and the echo and throughput workloads
//! driven through the relay's real sockets.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::SinkExt;
use socklab_wire::binary;
use socklab_wire::protocol::{
    Addr, Bytes, Call, ClientMsg, Outcome, PROTOCOL_VERSION, Ret, SandboxMode, ServerMsg, SockId,
};
use tokio_tungstenite::tungstenite::Message;

use crate::latency::RoundTrip;
use crate::stats::{Pattern, Throughput};
use crate::ws::{self, ClientBuffers, Ws};

/// Where a relay listens and what it wants in the hello.
#[derive(Debug, Clone)]
pub struct RelayTarget {
    pub addr: SocketAddr,
    pub token: String,
}

/// How a client encodes its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// JSON text only, as the page speaks.
    Json,
    /// Binary frames for the data path (the `socklab.bin.v1` subprotocol), JSON for the rest.
    Binary,
}

/// One protocol session.
pub struct SocklabClient {
    ws: Ws,
    next_id: u64,
    /// Answers that arrived while another call's answer was awaited (answers may come out of order).
    early: Vec<(u64, Outcome)>,
    /// The mode the relay announced in its hello.
    pub mode: SandboxMode,
    /// The relay granted binary frames.
    binary: bool,
}

impl SocklabClient {
    /// WebSocket connect plus hello; returns once the relay's hello has arrived.
    pub async fn connect(
        target: &RelayTarget,
        buffers: ClientBuffers,
        wire: Wire,
    ) -> anyhow::Result<SocklabClient> {
        let offer = (wire == Wire::Binary).then_some(binary::SUBPROTOCOL);
        let (mut ws, chosen) = ws::connect(target.addr, "/ws", buffers, offer).await?;
        let binary = chosen.as_deref() == Some(binary::SUBPROTOCOL);
        if wire == Wire::Binary && !binary {
            bail!("the relay did not grant the {} subprotocol", binary::SUBPROTOCOL);
        }
        let hello = ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            token: Some(target.token.clone()),
        };
        ws.send(Message::Text(serde_json::to_string(&hello)?.into()))
            .await
            .context("sending hello")?;
        let mode = match read_msg(&mut ws).await? {
            ServerMsg::Hello { mode, .. } => mode,
            other => bail!("expected the relay's hello, got {other:?}"),
        };
        Ok(SocklabClient {
            ws,
            next_id: 1,
            early: Vec::new(),
            mode,
            binary,
        })
    }

    /// Send a call; its answer is collected later with [`SocklabClient::answer`].
    pub async fn start(&mut self, call: Call) -> anyhow::Result<u64> {
        let (id, frame) = self.frame(call)?;
        self.ws.send(frame).await.context("sending a call")?;
        Ok(id)
    }

    /// Send two calls in one write, in order.
    pub async fn start_two(&mut self, first: Call, second: Call) -> anyhow::Result<(u64, u64)> {
        let (first, frame) = self.frame(first)?;
        self.ws.feed(frame).await.context("sending a call")?;
        let (second, frame) = self.frame(second)?;
        self.ws.send(frame).await.context("sending a call")?;
        Ok((first, second))
    }

    fn frame(&mut self, call: Call) -> anyhow::Result<(u64, Message)> {
        let id = self.next_id;
        self.next_id += 1;
        let frame = match self.binary.then(|| binary::encode_call(id, &call)).flatten() {
            Some(frame) => Message::Binary(frame.into()),
            None => Message::Text(serde_json::to_string(&ClientMsg::Call { id, call })?.into()),
        };
        Ok((id, frame))
    }

    /// The value call `id` returned; an OS error, a cancel or a protocol error is an error here.
    pub async fn answer(&mut self, id: u64) -> anyhow::Result<Ret> {
        let outcome = match self.early.iter().position(|(got, _)| *got == id) {
            Some(pos) => self.early.swap_remove(pos).1,
            None => loop {
                match read_msg(&mut self.ws).await? {
                    ServerMsg::Result { id: got, outcome, .. } if got == id => break outcome,
                    ServerMsg::Result { id: got, outcome, .. } => self.early.push((got, outcome)),
                    ServerMsg::Pending { .. } | ServerMsg::Event { .. } => {}
                    ServerMsg::Error {
                        id: about,
                        code,
                        message,
                    } => {
                        bail!("protocol error {code:?} (call {about:?}): {message}")
                    }
                    ServerMsg::Hello { .. } | ServerMsg::Pcap { .. } => bail!("a second hello, or a capture nobody asked for, from the relay"),
                }
            },
        };
        match outcome {
            Outcome::Ok { value } => Ok(value),
            Outcome::Err { error } => {
                bail!("call {id} failed: {} ({})", error.errno, error.message)
            }
            Outcome::Cancelled => bail!("call {id} was cancelled"),
        }
    }

    pub async fn call(&mut self, call: Call) -> anyhow::Result<Ret> {
        let id = self.start(call).await?;
        self.answer(id).await
    }

    /// socket(AF_INET, SOCK_STREAM) + connect(addr): the session's TCP socket.
    pub async fn tcp_connect(&mut self, addr: SocketAddr) -> anyhow::Result<SockId> {
        let sock = match self
            .call(Call::Socket {
                family: libc::AF_INET,
                sock_type: libc::SOCK_STREAM,
                proto: 0,
                host: None,
            })
            .await?
        {
            Ret::Socket { info } => info.sock,
            other => bail!("socket() returned {other:?}"),
        };
        let addr = Addr::inet(addr.ip().to_string(), addr.port());
        self.call(Call::Connect { sock, addr })
            .await
            .context("connect to the echo server")?;
        Ok(sock)
    }
}

async fn read_msg(ws: &mut Ws) -> anyhow::Result<ServerMsg> {
    match ws::next_data(ws).await? {
        Message::Text(text) => {
            serde_json::from_str(&text).with_context(|| format!("not a protocol message: {text}"))
        }
        Message::Binary(frame) => binary::decode_server(&frame)
            .map_err(|(id, message)| anyhow::anyhow!("bad binary frame (call {id:?}): {message}")),
        other => bail!("expected a text or binary frame, got {other:?}"),
    }
}

/// How the echo client orders its two calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOrder {
    /// `send`, wait for its answer, then `recv`: what a script does, one line at a time.
    ScriptOrder,
    /// `send` and `recv` written together, then both answers awaited: what the ids allow.
    Pipelined,
}

/// A session with a TCP socket connected to the echo server.
pub struct SocklabEcho {
    pub client: SocklabClient,
    sock: SockId,
    order: CallOrder,
}

impl SocklabEcho {
    pub async fn open(
        target: &RelayTarget,
        echo: SocketAddr,
        buffers: ClientBuffers,
        wire: Wire,
        order: CallOrder,
    ) -> anyhow::Result<SocklabEcho> {
        let mut client = SocklabClient::connect(target, buffers, wire).await?;
        let sock = client.tcp_connect(echo).await?;
        Ok(SocklabEcho {
            client,
            sock,
            order,
        })
    }
}

impl RoundTrip for SocklabEcho {
    async fn round_trip(&mut self, payload: &[u8]) -> anyhow::Result<()> {
        let sock = self.sock;
        let send = Call::Send {
            sock,
            data: Bytes::new(payload),
            flags: 0,
        };
        let recv = Call::Recv {
            sock,
            n: payload.len() as u32,
            flags: libc::MSG_WAITALL,
        };
        let (sent, got) = match self.order {
            CallOrder::ScriptOrder => {
                let sent = self.client.call(send).await?;
                (sent, self.client.call(recv).await?)
            }
            CallOrder::Pipelined => {
                let (send_id, recv_id) = self.client.start_two(send, recv).await?;
                (
                    self.client.answer(send_id).await?,
                    self.client.answer(recv_id).await?,
                )
            }
        };
        if sent
            != (Ret::Int {
                value: payload.len() as i64,
            })
        {
            bail!("send returned {sent:?}, expected {} bytes", payload.len());
        }
        match got {
            Ret::Bytes { data } if data.as_slice() == payload => Ok(()),
            other => bail!(
                "recv returned {other:?}, not the {} bytes sent",
                payload.len()
            ),
        }
    }
}

/// `total` bytes through the relay in `chunk`-sized calls, as two lanes of one
/// script would do it: one lane loops `sendall(chunk)`, the other loops
/// `recv(chunk, MSG_WAITALL)`, each with one call in flight (two sendalls in
/// flight on one socket could interleave their bytes), both on one session.
pub async fn throughput(
    target: &RelayTarget,
    echo: SocketAddr,
    wire: Wire,
    total: u64,
    chunk: usize,
) -> anyhow::Result<Throughput> {
    let mut session = SocklabEcho::open(
        target,
        echo,
        ClientBuffers::Default,
        wire,
        CallOrder::ScriptOrder,
    )
    .await?;
    let sock = session.sock;
    let client = &mut session.client;
    let pattern = Pattern::new(chunk);
    let start = Instant::now();
    let (mut sent, mut received) = (0u64, 0u64);

    let next_sendall = |sent: &mut u64| {
        let len = (total - *sent).min(chunk as u64) as usize;
        let data = Bytes::new(pattern.window(*sent, len));
        *sent += len as u64;
        Call::Sendall {
            sock,
            data,
            flags: 0,
        }
    };
    let recv = |received: u64| Call::Recv {
        sock,
        n: (total - received).min(chunk as u64) as u32,
        flags: libc::MSG_WAITALL,
    };

    let mut writer = Some(client.start(next_sendall(&mut sent)).await?);
    let mut reader = client.start(recv(received)).await?;
    while received < total {
        // Whichever lane's answer comes first is handled first.
        let msg = read_msg(&mut client.ws).await?;
        let (id, outcome) = match msg {
            ServerMsg::Result { id, outcome, .. } => (id, outcome),
            ServerMsg::Pending { .. } | ServerMsg::Event { .. } => continue,
            ServerMsg::Error { id, code, message } => {
                bail!("protocol error {code:?} (call {id:?}): {message}")
            }
            ServerMsg::Hello { .. } | ServerMsg::Pcap { .. } => bail!("a second hello, or a capture nobody asked for, from the relay"),
        };
        let value = match outcome {
            Outcome::Ok { value } => value,
            Outcome::Err { error } => {
                bail!("call {id} failed: {} ({})", error.errno, error.message)
            }
            Outcome::Cancelled => bail!("call {id} was cancelled"),
        };
        if Some(id) == writer {
            writer = None;
            if value != Ret::None {
                bail!("sendall returned {value:?}");
            }
            if sent < total {
                writer = Some(client.start(next_sendall(&mut sent)).await?);
            }
        } else if id == reader {
            let Ret::Bytes { data } = value else {
                bail!("recv returned {value:?}")
            };
            if data.as_slice().is_empty() {
                bail!("the echo connection closed after {received} bytes");
            }
            pattern.check(data.as_slice(), received)?;
            received += data.as_slice().len() as u64;
            if received < total {
                reader = client.start(recv(received)).await?;
            }
        } else {
            bail!("an answer to call {id}, which was not made");
        }
    }
    Ok(Throughput {
        bytes: received,
        elapsed: start.elapsed(),
    })
}

/// Session set-up times, one session after another.
#[derive(Debug, Clone, Default)]
pub struct SetupTimes {
    /// TCP connect to the relay's hello.
    pub hello: Vec<Duration>,
    /// TCP connect to the answer of the session's first `socket()` (a sandbox may be made lazily).
    pub first_socket: Vec<Duration>,
    /// The mode the relay announced.
    pub mode: Option<SandboxMode>,
}

/// Open `count` sessions one after another, timing each to its hello and its first socket.
pub async fn setup_times(target: &RelayTarget, count: usize) -> anyhow::Result<SetupTimes> {
    let mut times = SetupTimes::default();
    for _ in 0..count {
        let start = Instant::now();
        let mut client = SocklabClient::connect(target, ClientBuffers::Default, Wire::Json).await?;
        times.hello.push(start.elapsed());
        client
            .call(Call::Socket {
                family: libc::AF_INET,
                sock_type: libc::SOCK_STREAM,
                proto: 0,
                host: None,
            })
            .await?;
        times.first_socket.push(start.elapsed());
        times.mode = Some(client.mode);
    }
    Ok(times)
}
