//! Lab peers: small servers a session starts inside its own network with
//! `lab_peer("http")`, so lessons have something real to talk to where there
//! is no outside network.
//!
//! Each peer is a task owned by the session's executor; it ends with the session.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use socket2::{SockAddr, Socket};
use socklab_wire::protocol::PeerKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The well-known port a peer of `kind` takes inside a private namespace.
pub fn well_known_port(kind: PeerKind) -> u16 {
    match kind {
        PeerKind::Echo => 7,
        PeerKind::Discard => 9,
        PeerKind::SlowReader => 7001,
        PeerKind::Reset => 7002,
        PeerKind::Http => 80,
    }
}

/// A running peer.
pub struct Peer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start a peer listening on 127.0.0.1:`port` (0: any free port), its socket
/// made by `make_socket(family, type, proto)` (the session's socket maker).
pub fn start(kind: PeerKind, port: u16, make_socket: &dyn Fn(i32, i32, i32) -> io::Result<Socket>) -> io::Result<Peer> {
    let socket = make_socket(libc::AF_INET, libc::SOCK_STREAM, 0)?;
    socket.set_reuse_address(true)?;
    if kind == PeerKind::SlowReader {
        // Set on the listener so accepted sockets inherit it before the window is advertised.
        socket.set_recv_buffer_size(2048)?;
    }
    socket.bind(&SockAddr::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)))?;
    socket.listen(16)?;
    socket.set_nonblocking(true)?;
    let listener = TcpListener::from_std(std::net::TcpListener::from(socket))?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            tokio::spawn(serve(kind, stream));
        }
    });
    Ok(Peer { addr, task })
}

async fn serve(kind: PeerKind, mut stream: TcpStream) {
    let result = match kind {
        PeerKind::Echo => echo(&mut stream).await,
        PeerKind::Discard => discard(&mut stream).await,
        PeerKind::SlowReader => slow_read(&mut stream).await,
        PeerKind::Reset => reset(stream).await,
        PeerKind::Http => http(&mut stream).await,
    };
    if let Err(e) = result {
        tracing::debug!(?kind, error = %e, "lab peer connection ended");
    }
}

async fn echo(stream: &mut TcpStream) -> io::Result<()> {
    let (mut reader, mut writer) = stream.split();
    tokio::io::copy(&mut reader, &mut writer).await?;
    writer.shutdown().await
}

async fn discard(stream: &mut TcpStream) -> io::Result<()> {
    let mut sink = tokio::io::sink();
    tokio::io::copy(stream, &mut sink).await.map(drop)
}

/// 512 bytes every 200 ms, through the tiny buffer `start` gave the listener.
async fn slow_read(stream: &mut TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 512];
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if stream.read(&mut buf).await? == 0 {
            return Ok(());
        }
    }
}

/// Waits for the first bytes (at most 100 ms), then closes with SO_LINGER 0. The
/// wait lets the client's connect() return first, as it would against a real
/// server that resets.
async fn reset(stream: TcpStream) -> io::Result<()> {
    let mut first = [0u8; 1];
    let _ = tokio::time::timeout(Duration::from_millis(100), stream.peek(&mut first)).await;
    stream.set_zero_linger()?;
    drop(stream);
    Ok(())
}

/// The page `/` serves, sized by Content-Length.
pub const HTTP_PAGE: &str = "<html><body><h1>Hello from socklab</h1><p>This page was sent with Content-Length.</p></body></html>\n";

/// The chunks `/chunked` sends, one chunk each.
pub const HTTP_CHUNKS: &[&str] = &["<html><body>\n", "<p>This page came in chunks,</p>\n", "<p>each with its size in hex.</p>\n", "</body></html>\n"];

async fn http(stream: &mut TcpStream) -> io::Result<()> {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(pos) = find(&pending, b"\r\n\r\n") {
                break pos + 4;
            }
            if pending.len() > 16 * 1024 {
                return respond(stream, "431 Request Header Fields Too Large", "text/plain", b"request head too large\n", true).await;
            }
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&pending[..head_end]).to_string();
        pending.drain(..head_end);
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let close = lines.any(|l| l.to_ascii_lowercase().replace(' ', "") == "connection:close");
        let mut parts = request_line.split(' ');
        let (method, path, version) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if !version.starts_with("HTTP/1.") {
            return respond(stream, "400 Bad Request", "text/plain", b"expected HTTP/1.1 request line: GET /path HTTP/1.1\n", true).await;
        }
        let close = close || version == "HTTP/1.0";
        match (method, path) {
            ("GET", "/" | "/index.html") => respond(stream, "200 OK", "text/html", HTTP_PAGE.as_bytes(), close).await?,
            ("GET", "/chunked") => chunked(stream, close).await?,
            ("GET", _) => respond(stream, "404 Not Found", "text/plain", b"not found: try / or /chunked\n", close).await?,
            _ => respond(stream, "405 Method Not Allowed", "text/plain", b"only GET is served here\n", close).await?,
        }
        if close {
            return stream.shutdown().await;
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8], close: bool) -> io::Result<()> {
    let connection = if close { "close" } else { "keep-alive" };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: {connection}\r\nServer: socklab-lab-peer\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await
}

async fn chunked(stream: &mut TcpStream, close: bool) -> io::Result<()> {
    let connection = if close { "close" } else { "keep-alive" };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: {connection}\r\nServer: socklab-lab-peer\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    for chunk in HTTP_CHUNKS {
        stream.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes()).await?;
    }
    stream.write_all(b"0\r\n\r\n").await
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
