//! The HTTP side: the playground page, and the WebSocket endpoint that runs sessions.
//!
//! The upgrade is refused unless Host names this relay (DNS rebinding) and
//! Origin, when a browser sends one, is the relay's own page or allowlisted
//! (cross-site WebSocket hijacking). The token is checked in the hello.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::assets;
use crate::sandbox::Sandbox;
use crate::session::{self, Access, Incoming, SessionLimits};

/// Everything a request handler needs.
pub struct AppState {
    pub sandbox: Sandbox,
    pub access: Access,
    pub limits: SessionLimits,
    /// Frames larger than this close the connection (code 1009); below it, `limits.max_message` applies.
    pub max_frame: usize,
    pub origins: OriginPolicy,
    /// Cancelled to stop every session.
    pub shutdown: CancellationToken,
}

/// Which Host and Origin values are this relay's own.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    /// Exact `host[:port]` values accepted in Host, besides loopback names and addresses.
    pub hosts: Vec<String>,
    /// Exact origins accepted besides `http(s)://<an accepted host>`.
    pub origins: Vec<String>,
    /// The relay's port, for loopback Host values.
    pub port: u16,
}

impl OriginPolicy {
    /// Host must be a loopback name or address with our port, or configured. Exact matches only.
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        if self.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
            return true;
        }
        let port = self.port.to_string();
        ["127.0.0.1", "localhost", "[::1]"].iter().any(|name| host == *name || host == format!("{name}:{port}"))
    }

    /// Origin must be http(s) with an allowed host, or configured. Exact matches only.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if self.origins.iter().any(|o| o == origin) {
            return true;
        }
        let rest = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
        match rest {
            Some(host) if !host.contains('/') => self.host_allowed(host),
            _ => false,
        }
    }
}

/// The router: page, WebSocket, health.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/ws", get(ws_upgrade))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(get(asset))
        .with_state(state)
}

/// Serve until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    let shutdown = state.shutdown.clone();
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

async fn ws_upgrade(State(state): State<Arc<AppState>>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !state.origins.host_allowed(host) {
        return (StatusCode::FORBIDDEN, "Host not allowed\n").into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| state.origins.origin_allowed(o));
        if !allowed {
            return (StatusCode::FORBIDDEN, "Origin not allowed\n").into_response();
        }
    }
    ws.max_message_size(state.max_frame)
        .max_frame_size(state.max_frame)
        .on_upgrade(move |socket| run_socket(socket, state))
}

async fn run_socket(socket: WebSocket, state: Arc<AppState>) {
    let (sink, stream) = socket.split();
    let incoming = stream
        .take_while(|frame| futures::future::ready(matches!(frame, Ok(m) if !matches!(m, Message::Close(_)))))
        .filter_map(|frame| {
            futures::future::ready(match frame {
                Ok(Message::Text(text)) => Some(Incoming::Text(text.to_string())),
                Ok(Message::Binary(data)) => Some(Incoming::Binary(data.len())),
                _ => None,
            })
        });
    let outgoing = sink.with(|text: String| futures::future::ready(Ok::<_, axum::Error>(Message::Text(text.into()))));
    session::run(
        Box::pin(incoming),
        Box::pin(outgoing),
        &state.sandbox,
        state.access.clone(),
        state.limits.clone(),
        state.shutdown.clone(),
    )
    .await;
}

async fn asset(request: Request) -> Response {
    let Some(found) = assets::lookup(request.uri().path()) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let headers = request.headers();
    let etag = HeaderValue::from_static(found.etag);
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let accept = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
    let (body, encoding) = found.body_for(accept);
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(found.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(found.cache_control)),
            (header::VARY, HeaderValue::from_static("Accept-Encoding")),
            (header::ETAG, etag),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        body,
    )
        .into_response();
    if let Some(encoding) = encoding {
        response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins_match_exactly() {
        let policy = OriginPolicy { hosts: vec![], origins: vec![], port: 7878 };
        assert!(policy.host_allowed("127.0.0.1:7878"));
        assert!(policy.host_allowed("localhost:7878"));
        assert!(policy.host_allowed("[::1]:7878"));
        assert!(!policy.host_allowed("127.0.0.1:7879"));
        assert!(!policy.host_allowed("evil.example:7878"));
        assert!(!policy.host_allowed("localhost.evil.example:7878"));
        assert!(policy.origin_allowed("http://127.0.0.1:7878"));
        assert!(!policy.origin_allowed("http://127.0.0.1:7878.evil.example"));
        assert!(!policy.origin_allowed("http://evil.example"));
        assert!(!policy.origin_allowed("null"));
        assert!(!policy.origin_allowed("http://127.0.0.1:7878/x"));
    }
}
