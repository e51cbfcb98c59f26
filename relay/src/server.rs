//! The HTTP side: the playground page, the WebSocket endpoint that runs
//! sessions, and the export of scripts to Python and C.
//!
//! The upgrade is refused unless Host names this relay (DNS rebinding) and
//! Origin is the relay's own page or allowlisted (cross-site WebSocket
//! hijacking); every comparison is exact. The token is checked in the hello.
//! Accepting connections is `listen`'s job.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::{RequestExt, Router};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::{SinkExt, StreamExt};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::assets;
use crate::lessons_cli::{self, ExportLang, NotExported};
use crate::metrics::{self, Limit, Metrics, SessionTally};
use crate::sandbox::Sandbox;
use crate::session::{self, Access, Encoding, Incoming, Outgoing, SessionLimits};
use socklab_wire::binary;

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
    /// WebSocket connections open at once, before and after their hello (--max-connections).
    pub websockets: Arc<Semaphore>,
    /// Every WebSocket being served, so a shutdown can wait for them to say goodbye.
    pub websocket_tasks: TaskTracker,
    /// The counters `/metrics` shows (every worker's).
    pub metrics: Metrics,
    /// `/metrics` asks for this bearer token; without one it answers direct loopback clients only.
    pub metrics_token: Option<String>,
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
    /// The relay serves TLS itself: its own origins are `https://`.
    pub tls: bool,
    /// Accept an upgrade with no Origin header (not a browser); the token is still required.
    pub allow_missing: bool,
}

/// Loopback names a browser may use for the relay's own page.
const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

impl OriginPolicy {
    /// The policy for a relay on `port` with nothing configured.
    pub fn loopback(port: u16) -> OriginPolicy {
        OriginPolicy { hosts: Vec::new(), origins: Vec::new(), port, tls: false, allow_missing: false }
    }

    fn default_port(&self) -> bool {
        self.port == if self.tls { 443 } else { 80 }
    }

    /// The relay's own `host[:port]` values for loopback names, as a browser writes them.
    fn loopback_hosts(&self) -> impl Iterator<Item = String> + '_ {
        LOOPBACK_NAMES.iter().flat_map(move |name| {
            let bare = self.default_port().then(|| name.to_string());
            std::iter::once(format!("{name}:{}", self.port)).chain(bare)
        })
    }

    /// Host must be a loopback name or address with the relay's port, or configured.
    /// Exact matches only (host names are case-insensitive).
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) || self.loopback_hosts().any(|own| own == host)
    }

    /// Origin must be the relay's own (its scheme, a loopback name, its port), an
    /// http(s) origin of a configured host, or configured itself. Exact, byte for
    /// byte: browsers send origins in lowercase.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if self.origins.iter().any(|o| o == origin) {
            return true;
        }
        let own_scheme = if self.tls { "https" } else { "http" };
        if self.loopback_hosts().any(|host| origin == format!("{own_scheme}://{host}")) {
            return true;
        }
        self.hosts.iter().any(|host| {
            let host = host.to_ascii_lowercase();
            origin == format!("https://{host}") || origin == format!("http://{host}")
        })
    }

    /// The whole check on an upgrade request's headers: `Err` says what was refused.
    pub fn check(&self, headers: &HeaderMap, authority: Option<&str>) -> Result<(), &'static str> {
        let mut hosts = headers.get_all(header::HOST).iter();
        let host = match (hosts.next(), hosts.next()) {
            (Some(host), None) => host.to_str().unwrap_or(""),
            (None, _) => "",
            (Some(_), Some(_)) => return Err("more than one Host header\n"),
        };
        if !self.host_allowed(host) || authority.is_some_and(|a| !self.host_allowed(a)) {
            return Err("Host not allowed\n");
        }
        let mut origins = headers.get_all(header::ORIGIN).iter();
        match (origins.next(), origins.next()) {
            (None, _) if self.allow_missing => Ok(()),
            (None, _) => Err("Origin missing: open the page the relay serves (or start it with --allow-missing-origin)\n"),
            (Some(origin), None) if origin.to_str().is_ok_and(|o| self.origin_allowed(o)) => Ok(()),
            (Some(_), None) => Err("Origin not allowed\n"),
            (Some(_), Some(_)) => Err("more than one Origin header\n"),
        }
    }
}

/// The router: page, WebSocket, export, health.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/ws", get(ws_upgrade))
        .route("/export/{target}", post(export))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_page))
        .fallback(get(asset))
        .layer(axum::middleware::map_response_with_state(state.clone(), operations_headers))
        .with_state(state)
}

/// 200 `ready` while new sessions are welcome; 503 `draining` once shutdown
/// began, 503 `full` while sessions are at --max-sessions.
async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, &'static str) {
    if state.shutdown.is_cancelled() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n")
    } else if state.access.sessions.is_full() {
        (StatusCode::SERVICE_UNAVAILABLE, "full\n")
    } else {
        (StatusCode::OK, "ready\n")
    }
}

/// The headers a plain `/metrics` request may carry without `--metrics-token`:
/// what curl, Prometheus and a browser send. Any other header (`Forwarded`,
/// `X-Forwarded-For`, `Via`, `X-Client-IP`, `True-Client-IP`, … and names not
/// yet invented) gets a refusal: a proxy on this machine also connects from
/// loopback, and the headers it adds cannot all be listed.
const METRICS_PLAIN_HEADERS: &[&str] = &[
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "connection",
    "cache-control",
    "pragma",
    "authorization",
    "x-prometheus-scrape-timeout-seconds",
    "if-none-match",
    "if-modified-since",
    "upgrade-insecure-requests",
    "dnt",
    "priority",
    "sec-fetch-site",
    "sec-fetch-mode",
    "sec-fetch-dest",
    "sec-fetch-user",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
];

/// The counters, to a client that may see them: one with the `--metrics-token`
/// bearer token, or, without that option, a direct connection from loopback
/// whose headers are all plain ones ([`METRICS_PLAIN_HEADERS`]), since a local
/// proxy also connects from loopback.
async fn metrics_page(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let headers = request.headers();
    match &state.metrics_token {
        Some(token) => {
            if !bearer_allowed(headers, std::slice::from_ref(token)) {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    "/metrics needs Authorization: Bearer <the --metrics-token>\n",
                )
                    .into_response();
            }
        }
        None => {
            let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
            if let Some(name) = headers.keys().find(|name| !METRICS_PLAIN_HEADERS.contains(&name.as_str())) {
                return (
                    StatusCode::FORBIDDEN,
                    format!(
                        "/metrics without --metrics-token answers plain requests from loopback only, and this one \
                         carries {name}, which a proxy or an unusual client may add; set --metrics-token to serve it further\n"
                    ),
                )
                    .into_response();
            }
            if !peer.is_some_and(|peer| peer.ip().to_canonical().is_loopback()) {
                return (
                    StatusCode::FORBIDDEN,
                    "/metrics answers direct connections from loopback only; set --metrics-token to serve it further\n",
                )
                    .into_response();
            }
        }
    }
    let headers = [(header::CONTENT_TYPE, metrics::CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")];
    (headers, state.metrics.render()).into_response()
}

/// Whether the request's `Authorization: Bearer` token is one of `tokens`
/// (any request is, when there are none). Every token is compared in full,
/// in constant time.
fn bearer_allowed(headers: &HeaderMap, tokens: &[String]) -> bool {
    if tokens.is_empty() {
        return true;
    }
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    given.is_some_and(|given| session::token_index(tokens, given).is_some())
}

/// The largest script `/export/…` takes, in bytes.
pub const EXPORT_MAX_SCRIPT: usize = 256 << 10;

/// `POST /export/python` and `/export/c`: the body, a script, exported to
/// that language. It needs the access token (a bearer token) when the relay
/// has one, and is at most [`EXPORT_MAX_SCRIPT`] bytes of UTF-8; 422 says why
/// a script does not export. Parsing and exporting are linear in its size;
/// [`EXPORTS`] bounds how many run at once.
async fn export(State(state): State<Arc<AppState>>, Path(target): Path<String>, request: Request) -> Response {
    let lang = match target.as_str() {
        "python" => ExportLang::Python,
        "c" => ExportLang::C,
        _ => return (StatusCode::NOT_FOUND, "not found: export to python or c\n").into_response(),
    };
    if !bearer_allowed(request.headers(), &state.access.tokens) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "exporting needs Authorization: Bearer <the relay's access token>\n",
        )
            .into_response();
    }
    let mut script = Vec::new();
    let mut body = request.into_body().into_data_stream();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            return (StatusCode::BAD_REQUEST, "the script could not be read\n").into_response();
        };
        if script.len() + chunk.len() > EXPORT_MAX_SCRIPT {
            let message = format!("the script is larger than {} KiB, the most the relay exports\n", EXPORT_MAX_SCRIPT >> 10);
            return (StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
        }
        script.extend_from_slice(&chunk);
    }
    let source = match String::from_utf8(script) {
        Ok(source) => source,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            return (StatusCode::BAD_REQUEST, format!("the script is not UTF-8 text (byte {at})\n")).into_response();
        }
    };
    // On a thread of its own, which holds the turn to its end (even when the
    // client leaves), off the connection's thread.
    let turn = EXPORTS.acquire().await;
    let (done, exported) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new().name("socklab-export".into()).stack_size(EXPORT_STACK).spawn(move || {
        let _ = done.send(export_script(lang, &source));
        drop(turn);
    });
    if thread.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "no thread for the export now; try again\n").into_response();
    }
    match exported.await {
        Ok(Ok(program)) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], program).into_response(),
        Ok(Err(why)) => (StatusCode::UNPROCESSABLE_ENTITY, [(header::CACHE_CONTROL, "no-store")], why).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "the export failed\n").into_response(),
    }
}

/// Exports running at once in this process; the rest wait their turn. One
/// at the size limit takes up to ~100 MB and a fraction of a second.
static EXPORTS: Semaphore = Semaphore::const_new(2);

/// The stack of an export's thread (reserved, used only as deep as needed):
/// the exporters recurse along the tree, which a script at the size limit can
/// nest ~50,000 levels deep (chains of 1,000 operators within parentheses).
pub(crate) const EXPORT_STACK: usize = 256 << 20;

/// `source` as a `lang` program, or why not, as the HTTP answer says it: the
/// parse's diagnostics (`LINE:COL: message`, one a line) or the exporter's refusal.
fn export_script(lang: ExportLang, source: &str) -> Result<String, String> {
    lessons_cli::export_script(lang, source).map_err(|not| match not {
        NotExported::Parse(diagnostics) => {
            let problems: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
            format!("the script does not parse:\n{}", problems.join("\n"))
        }
        NotExported::Refused(error) => error.to_string(),
    })
}

/// During a drain, connections still open are closed after each answer. A
/// worker process says which it is (`x-socklab-worker: 2/4`).
async fn operations_headers(State(state): State<Arc<AppState>>, mut response: Response) -> Response {
    if state.shutdown.is_cancelled() {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Some(worker) = crate::workers::worker_label().and_then(|label| HeaderValue::from_str(&label).ok()) {
        response.headers_mut().insert("x-socklab-worker", worker);
    }
    response
}

async fn ws_upgrade(State(state): State<Arc<AppState>>, request: Request) -> Response {
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "the relay is shutting down\n").into_response();
    }
    let authority = request.uri().authority().map(|a| a.as_str().to_string());
    if let Err(why) = state.origins.check(request.headers(), authority.as_deref()) {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let Ok(slot) = state.websockets.clone().try_acquire_owned() else {
        metrics::limit_hit(Limit::MaxConnections);
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections (--max-connections)\n").into_response();
    };
    // Every log line of the session carries where it comes from (never its token).
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
    let span = tracing::info_span!(
        "session",
        peer = tracing::field::Empty,
        forwarded_for = tracing::field::Empty,
        worker = tracing::field::Empty
    );
    if let Some(worker) = crate::workers::worker_label() {
        span.record("worker", worker.as_str());
    }
    if let Some(peer) = peer {
        span.record("peer", tracing::field::display(peer));
    }
    if let Some(forwarded) = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        span.record("forwarded_for", forwarded);
    }
    let ws = match request.extract::<WebSocketUpgrade, _>().await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    // Taken now, so a shutdown also waits for an upgrade still under way.
    let tracked = state.websocket_tasks.token();
    let open = metrics::websocket_open();
    ws.protocols([binary::SUBPROTOCOL])
        .max_message_size(state.max_frame)
        .max_frame_size(state.max_frame)
        // tungstenite's default buffers are 128 KiB each way, per connection; protocol
        // messages are small, and a session's memory should be too.
        .read_buffer_size(WS_BUFFER)
        .write_buffer_size(WS_BUFFER)
        .max_write_buffer_size(state.max_frame.saturating_add(WS_BUFFER))
        .on_upgrade(move |socket| {
            let session = async move {
                let tally = Arc::new(SessionTally::default());
                let by_shutdown = tally.clone().collect(run_socket(socket, state.clone())).await;
                tally.log_end(by_shutdown);
                drop((slot, open, tracked));
            };
            session.instrument(span)
        })
}

/// Read and write buffer of a WebSocket.
const WS_BUFFER: usize = 8 << 10;

/// WebSocket close code for a frame or message above the relay's limit (RFC 6455: "message too big").
pub const CLOSE_TOO_BIG: u16 = 1009;

/// WebSocket close code when the relay shuts down (RFC 6455: "going away").
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// Serve one WebSocket to its end; true when the relay's shutdown ended it.
async fn run_socket(socket: WebSocket, state: Arc<AppState>) -> bool {
    let encoding = match socket.protocol() {
        Some(protocol) if protocol == binary::SUBPROTOCOL => Encoding::WithBinary,
        _ => Encoding::Json,
    };
    let (sink, stream) = socket.split();
    // Set when the stream ends because a frame was over `max_frame`.
    let too_big: Arc<Mutex<Option<String>>> = Arc::default();
    let seen_too_big = too_big.clone();
    let incoming = stream
        .scan((), move |(), frame| {
            futures::future::ready(match frame {
                Ok(Message::Text(text)) => Some(Some(Incoming::Text(text.to_string()))),
                Ok(Message::Binary(data)) => Some(Some(Incoming::Binary(data.into()))),
                Ok(Message::Ping(_) | Message::Pong(_)) => Some(Some(Incoming::KeepAlive)),
                Ok(Message::Close(_)) => None,
                Err(e) => {
                    if let Some(message) = capacity_error(&e) {
                        *seen_too_big.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(message);
                    }
                    None
                }
            })
        })
        .filter_map(futures::future::ready);
    let mut outgoing = sink.with(|frame: Outgoing| {
        let message = match frame {
            Outgoing::Text(text) => Message::Text(text.into()),
            Outgoing::Binary(data) => Message::Binary(data.into()),
            Outgoing::Ping => Message::Ping(Default::default()),
        };
        futures::future::ready(Ok::<_, axum::Error>(message))
    });
    session::run(
        Box::pin(incoming),
        &mut outgoing,
        encoding,
        &state.sandbox,
        state.access.clone(),
        state.limits.clone(),
        state.shutdown.clone(),
    )
    .await;
    let too_big = too_big.lock().unwrap_or_else(|poison| poison.into_inner()).take();
    // Decided once, before the client can see the close: a shutdown that begins after it is not why this session ended.
    let by_shutdown = too_big.is_none() && state.shutdown.is_cancelled();
    let close = match too_big {
        Some(message) => {
            tracing::info!(%message, "closing a WebSocket: frame too large");
            metrics::limit_hit(Limit::MaxFrame);
            CloseFrame { code: CLOSE_TOO_BIG, reason: format!("frame too large (--max-frame {})", state.max_frame).into() }
        }
        None if by_shutdown => {
            CloseFrame { code: CLOSE_GOING_AWAY, reason: "the relay is shutting down".into() }
        }
        None => CloseFrame { code: 1000, reason: "".into() },
    };
    // The client may already be gone, or have closed first (then this is not sent).
    let mut sink = outgoing.into_inner();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), sink.send(Message::Close(Some(close)))).await;
    drop(sink);
    crate::reaper::memory_freed();
    by_shutdown
}

/// The text of a "frame or message too large" error from the WebSocket layer.
fn capacity_error(e: &axum::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = source {
        if let Some(tungstenite::Error::Capacity(capacity)) = error.downcast_ref::<tungstenite::Error>() {
            return Some(capacity.to_string());
        }
        source = error.source();
    }
    None
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
        let policy = OriginPolicy::loopback(7878);
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
        assert!(!policy.origin_allowed("http://localhost"), "another port is another origin");
        assert!(!policy.host_allowed("localhost"), "a bare name means port 80");
        assert!(!policy.origin_allowed("https://127.0.0.1:7878"), "the relay serves http");
        assert!(!policy.origin_allowed("HTTP://127.0.0.1:7878"), "browsers send origins in lowercase");
    }

    #[test]
    fn scripts_export_or_say_why_not() {
        let solution = socklab_lessons::get(2).expect("lesson 2").solution;
        assert!(export_script(ExportLang::Python, solution).unwrap().contains("from socket import"));
        assert!(export_script(ExportLang::C, solution).unwrap().contains("int main("));
        let broken = export_script(ExportLang::Python, "x = (\n").unwrap_err();
        let diagnostics = broken.strip_prefix("the script does not parse:\n").unwrap_or_else(|| panic!("{broken}"));
        assert!(diagnostics.lines().all(|line| line.starts_with("1:") || line.starts_with("2:")), "{broken}");
        let class = export_script(ExportLang::C, "class Handler:\n    pass\n").unwrap_err();
        assert!(class.contains("the C export does not translate"), "{class}");
    }

    #[test]
    fn bearer_tokens_are_asked_for_when_there_are_some() {
        let with = |value: &str| HeaderMap::from_iter([(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap())]);
        let tokens = ["a".repeat(32), "b".repeat(32)];
        assert!(bearer_allowed(&with(&format!("Bearer {}", tokens[1])), &tokens));
        assert!(!bearer_allowed(&with(&format!("Bearer {}", "c".repeat(32))), &tokens));
        assert!(!bearer_allowed(&with(&tokens[0]), &tokens), "the scheme is part of the header");
        assert!(!bearer_allowed(&HeaderMap::new(), &tokens));
        assert!(bearer_allowed(&HeaderMap::new(), &[]), "no tokens, nothing asked");
    }
}
