//! WebSocket client plumbing shared by the socklab and websocat clients: the
//! same connect (TCP_NODELAY, no TLS) and the same bounded wait for a frame.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::{ORIGIN, SEC_WEBSOCKET_PROTOCOL};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Ws = WebSocketStream<TcpStream>;

/// Longest wait for any one frame: a stuck peer fails the run instead of hanging it.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(30);

/// How big the client's WebSocket read buffer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientBuffers {
    /// tungstenite's default (128 KiB), for the single-connection runs.
    Default,
    /// 4 KiB, for thousands of sessions at once: the bench's own memory, not the server's.
    Small,
}

/// Open a WebSocket to `ws://ADDR/PATH` over a fresh TCP connection with Nagle off,
/// offering `subprotocol` when given; also returns the subprotocol the server chose.
pub async fn connect(
    addr: SocketAddr,
    path: &str,
    buffers: ClientBuffers,
    subprotocol: Option<&str>,
) -> anyhow::Result<(Ws, Option<String>)> {
    let tcp = TcpStream::connect(addr)
        .await
        .with_context(|| format!("TCP connect to {addr}"))?;
    tcp.set_nodelay(true)?;
    let url = format!("ws://{addr}{path}");
    // What a browser on the relay's own page sends; a relay may refuse an upgrade without it.
    let mut request = url.as_str().into_client_request()?;
    let origin = HeaderValue::from_str(&format!("http://{addr}"))?;
    request.headers_mut().insert(ORIGIN, origin);
    if let Some(subprotocol) = subprotocol {
        request
            .headers_mut()
            .insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_str(subprotocol)?);
    }
    // Large frames are fine: the throughput runs send 64 KiB payloads (about 87 KiB as base64 JSON).
    let mut config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    if buffers == ClientBuffers::Small {
        config = config.read_buffer_size(4096).write_buffer_size(0);
    }
    let (ws, response) = tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
        .await
        .with_context(|| format!("WebSocket handshake with {url}"))?;
    let chosen = response
        .headers()
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok((ws, chosen))
}

/// The next data frame (text or binary); pings and pongs are skipped.
pub async fn next_data(ws: &mut Ws) -> anyhow::Result<Message> {
    loop {
        let frame = tokio::time::timeout(FRAME_TIMEOUT, ws.next())
            .await
            .context("no frame within the timeout")?
            .context("the server closed the connection")?
            .context("reading a frame")?;
        match frame {
            Message::Text(_) | Message::Binary(_) => return Ok(frame),
            Message::Close(close) => bail!("the server closed the WebSocket: {close:?}"),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}
