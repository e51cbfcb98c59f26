//! websocat, the WebSocket-to-TCP byte pipe socklab has to beat: found or
//! installed with `cargo install`, started in front of the echo server, and
//! driven with binary frames by the same WebSocket client code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::latency::RoundTrip;
use crate::process::{cargo_bin_dir, find_program, first_line_of, free_port, wait_for_listener};
use crate::stats::{Pattern, Throughput};
use crate::ws::{self, ClientBuffers, Ws};

/// The release the peer figures were taken with.
pub const PINNED_VERSION: &str = "1.14.0";

/// A websocat program that answers `--version`.
#[derive(Debug, Clone)]
pub struct Websocat {
    pub path: PathBuf,
    pub version: String,
}

/// Find websocat (`explicit`, PATH, ~/.cargo/bin), installing the pinned release with
/// `cargo install` when it is missing and `install` allows. `Err` says why there is none.
pub fn locate(explicit: Option<&Path>, install: bool) -> Result<Websocat, String> {
    let extra: Vec<PathBuf> = cargo_bin_dir().into_iter().collect();
    let found = match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => find_program("websocat", &extra),
    };
    let path = match found {
        Some(path) => path,
        None if install => {
            // Not --locked: 1.14.0's lock file pins traitobject 0.1.0, which current rustc rejects (0.1.1 builds).
            eprintln!(
                "websocat is missing: cargo install websocat --version {PINNED_VERSION} (a few minutes)"
            );
            let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["install", "websocat", "--version", PINNED_VERSION])
                .stdout(Stdio::null())
                .status()
                .map_err(|e| format!("cannot run cargo install: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "cargo install websocat --version {PINNED_VERSION} failed ({status})"
                ));
            }
            find_program("websocat", &extra)
                .ok_or("cargo install succeeded but websocat is not on PATH or in ~/.cargo/bin")?
        }
        None => {
            return Err(format!(
                "websocat is not installed (run the full bench once, or cargo install websocat --version {PINNED_VERSION})"
            ));
        }
    };
    let version = first_line_of(&path.to_string_lossy(), &["--version"])
        .ok_or_else(|| format!("{} does not run", path.display()))?;
    Ok(Websocat { path, version })
}

/// `websocat --binary -E ws-l:127.0.0.1:PORT tcp:ECHO`, killed when dropped.
pub struct WebsocatProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl WebsocatProcess {
    pub async fn start(program: &Websocat, echo: SocketAddr) -> anyhow::Result<WebsocatProcess> {
        let port = free_port()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let child = Command::new(&program.path)
            .args([
                "--binary",
                "-E",
                &format!("ws-l:{addr}"),
                &format!("tcp:{echo}"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", program.path.display()))?;
        let process = WebsocatProcess { child, addr };
        wait_for_listener(addr, Duration::from_secs(10)).await?;
        Ok(process)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for WebsocatProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebSocket through websocat to the echo server.
pub struct WebsocatEcho {
    ws: Ws,
}

impl WebsocatEcho {
    pub async fn open(addr: SocketAddr, buffers: ClientBuffers) -> anyhow::Result<WebsocatEcho> {
        Ok(WebsocatEcho {
            ws: ws::connect(addr, "/", buffers, None).await?.0,
        })
    }
}

impl RoundTrip for WebsocatEcho {
    async fn round_trip(&mut self, payload: &[u8]) -> anyhow::Result<()> {
        self.ws
            .send(Message::Binary(payload.to_vec().into()))
            .await
            .context("sending")?;
        // websocat forwards whatever one read() returned, so the echo may come back in pieces.
        let mut got = Vec::with_capacity(payload.len());
        while got.len() < payload.len() {
            match ws::next_data(&mut self.ws).await? {
                Message::Binary(data) => got.extend_from_slice(&data),
                other => bail!("websocat sent {other:?}"),
            }
        }
        if got != payload {
            bail!("the echo through websocat differs from what was sent");
        }
        Ok(())
    }
}

/// `total` bytes through websocat in `chunk`-sized binary frames, written and read concurrently.
pub async fn throughput(addr: SocketAddr, total: u64, chunk: usize) -> anyhow::Result<Throughput> {
    let (ws, _) = ws::connect(addr, "/", ClientBuffers::Default, None).await?;
    let (mut sink, mut stream) = ws.split();
    let pattern = Pattern::new(chunk);
    let start = Instant::now();
    let write = async {
        for piece in pattern.windows(total) {
            sink.send(Message::Binary(piece.to_vec().into())).await.context("sending")?;
        }
        anyhow::Ok(sink)
    };
    let read = async {
        let mut received = 0u64;
        while received < total {
            let frame = tokio::time::timeout(ws::FRAME_TIMEOUT, stream.next())
                .await
                .context("no frame within the timeout")?
                .context("websocat closed the connection")??;
            match frame {
                Message::Binary(data) => {
                    pattern.check(&data, received)?;
                    received += data.len() as u64;
                }
                Message::Close(close) => bail!("websocat closed after {received} bytes: {close:?}"),
                _ => {}
            }
        }
        anyhow::Ok(received)
    };
    let (written, received) = tokio::join!(write, read);
    let _sink = written?;
    Ok(Throughput {
        bytes: received?,
        elapsed: start.elapsed(),
    })
}
