//! Direct TCP to the echo server: the floor every relayed path is compared with.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::latency::RoundTrip;
use crate::stats::{Pattern, Throughput};

/// One TCP connection to the echo server, Nagle off.
pub struct DirectEcho {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl DirectEcho {
    pub async fn open(echo: SocketAddr) -> anyhow::Result<DirectEcho> {
        let stream = TcpStream::connect(echo)
            .await
            .context("connect to the echo server")?;
        stream.set_nodelay(true)?;
        Ok(DirectEcho {
            stream,
            buf: Vec::new(),
        })
    }
}

impl RoundTrip for DirectEcho {
    async fn round_trip(&mut self, payload: &[u8]) -> anyhow::Result<()> {
        self.stream.write_all(payload).await?;
        self.buf.resize(payload.len(), 0);
        self.stream.read_exact(&mut self.buf).await?;
        if self.buf != payload {
            bail!("the echo differs from what was sent");
        }
        Ok(())
    }
}

/// `total` bytes to the echo server in `chunk`-sized writes, written and read concurrently.
pub async fn throughput(echo: SocketAddr, total: u64, chunk: usize) -> anyhow::Result<Throughput> {
    let DirectEcho { mut stream, .. } = DirectEcho::open(echo).await?;
    let (mut reader, mut writer) = stream.split();
    let pattern = Pattern::new(chunk);
    let start = Instant::now();
    let write = async {
        for piece in pattern.windows(total) {
            writer.write_all(piece).await?;
        }
        anyhow::Ok(())
    };
    let read = async {
        let mut buf = vec![0u8; chunk];
        let mut received = 0u64;
        while received < total {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                bail!("the echo server closed after {received} bytes");
            }
            pattern.check(&buf[..n], received)?;
            received += n as u64;
        }
        anyhow::Ok(received)
    };
    let (written, received) = tokio::join!(write, read);
    written?;
    Ok(Throughput {
        bytes: received?,
        elapsed: start.elapsed(),
    })
}
