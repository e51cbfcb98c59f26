//! Listening: the sockets the relay accepts on, TLS, and the HTTP layer up to
//! the WebSocket upgrade.
//!
//! Our own accept loop rather than `axum::serve`, for three things it does not
//! do: several listeners (127.0.0.1 and ::1) on one router, TLS, and a deadline
//! on every handshake. A connection that has not finished its TLS handshake,
//! or the headers of its next request, within `handshake_timeout` is closed,
//! so slow or silent clients cannot pile up. Connections are counted; past
//! `max_connections` a new one is closed at once.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cores::Cores;

/// How connections are accepted.
#[derive(Clone)]
pub struct Transport {
    /// TLS handshake, then each request's headers, must arrive within this.
    pub handshake_timeout: Duration,
    /// HTTP connections open at once.
    pub max_connections: usize,
    /// Serve TLS with this.
    pub tls: Option<TlsAcceptor>,
}

/// Bind every address; all share one port (the first one's, when it asked for port 0).
/// `best_effort` addresses that cannot be bound are skipped with a warning (the
/// default `::1` on a machine without IPv6).
pub async fn bind(addrs: &[SocketAddr], best_effort: bool) -> io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    let mut port = None;
    for addr in addrs {
        let mut addr = *addr;
        if let Some(port) = port {
            addr.set_port(port);
        }
        match listen_on(addr) {
            Ok(listener) => {
                port.get_or_insert(listener.local_addr()?.port());
                listeners.push(listener);
            }
            Err(e) if best_effort && !listeners.is_empty() => {
                tracing::warn!(%addr, error = %e, "cannot listen on this address; going on without it");
            }
            Err(e) => {
                return Err(io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")));
            }
        }
    }
    Ok(listeners)
}

/// Bind every address `copies` times with SO_REUSEPORT, for as many worker
/// processes: the kernel spreads new connections over the copies. All share one
/// port (the first one's, when it asked for port 0). `best_effort` as in [`bind`].
pub fn bind_copies(addrs: &[SocketAddr], best_effort: bool, copies: usize) -> io::Result<Vec<Vec<std::net::TcpListener>>> {
    let mut sets: Vec<Vec<std::net::TcpListener>> = (0..copies).map(|_| Vec::new()).collect();
    let mut port = None;
    for addr in addrs {
        let mut addr = *addr;
        if let Some(port) = port {
            addr.set_port(port);
        }
        let mut bound = Vec::new();
        for _ in 0..copies {
            match reuseport_listener(addr) {
                Ok(listener) => {
                    addr.set_port(listener.local_addr()?.port());
                    bound.push(listener);
                }
                Err(e) if best_effort && !sets[0].is_empty() => {
                    tracing::warn!(%addr, error = %e, "cannot listen on this address; going on without it");
                    bound.clear();
                    break;
                }
                Err(e) => return Err(io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))),
            }
        }
        if !bound.is_empty() {
            port.get_or_insert(addr.port());
        }
        for (set, listener) in sets.iter_mut().zip(bound) {
            set.push(listener);
        }
    }
    Ok(sets)
}

fn reuseport_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM.cloexec(), None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Listeners handed over by a parent process, made ready for tokio.
pub fn adopt(listeners: Vec<std::net::TcpListener>) -> io::Result<Vec<TcpListener>> {
    listeners
        .into_iter()
        .map(|listener| {
            listener.set_nonblocking(true)?;
            TcpListener::from_std(listener)
        })
        .collect()
}

/// A listener with a deep accept queue: a class opening its pages at once
/// should not see connection attempts dropped (each costs the client a 1 s retry).
fn listen_on(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Why the certificate and key cannot serve TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read a certificate chain from {}: {error}", path.display())]
    Chain { path: PathBuf, error: rustls_pki_types::pem::Error },
    #[error("{} holds no certificate", .0.display())]
    NoCertificate(PathBuf),
    #[error("cannot read a private key from {}: {error}", path.display())]
    Key { path: PathBuf, error: rustls_pki_types::pem::Error },
    #[error("cannot use this certificate and key: {0}")]
    Refused(rustls::Error),
}

/// A TLS acceptor from PEM files: a certificate chain and its private key.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| TlsError::Chain { path: cert.to_path_buf(), error })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(cert.to_path_buf()));
    }
    warn_if_readable_by_others(key);
    let key = PrivateKeyDer::from_pem_file(key).map_err(|error| TlsError::Key { path: key.to_path_buf(), error })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(TlsError::Refused)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the TLS private key is readable by other users; chmod 600 it");
    }
}

/// Accept on every listener until `shutdown`, then return with the listeners
/// closed, so new connections are refused (a proxy in front tries another
/// relay). Connections already open are served on until [`Connections::close`].
pub async fn serve(
    listeners: Vec<TcpListener>,
    router: axum::Router,
    transport: Transport,
    cores: Arc<Cores>,
    shutdown: CancellationToken,
) -> io::Result<Connections> {
    let connections = Connections { tracker: TaskTracker::new(), close: CancellationToken::new() };
    let slots = Arc::new(Semaphore::new(transport.max_connections));
    let mut loops = Vec::new();
    for listener in listeners {
        let accepting = accept_loop(
            listener,
            router.clone(),
            transport.clone(),
            slots.clone(),
            cores.clone(),
            shutdown.clone(),
            connections.clone(),
        );
        loops.push(tokio::spawn(accepting));
    }
    for accepting in loops {
        accepting.await.map_err(io::Error::other)?;
    }
    Ok(connections)
}

/// The HTTP connections accepted, still served after the listeners closed:
/// during a drain they answer `/readyz` with 503 and refuse WebSocket upgrades.
#[derive(Clone)]
pub struct Connections {
    tracker: TaskTracker,
    /// Cancelled to close them: idle ones at once, a request in flight once answered.
    close: CancellationToken,
}

impl Connections {
    /// Close every connection gracefully and wait until they have gone.
    /// Upgraded (WebSocket) connections are no longer tracked here.
    pub async fn close(self) {
        self.close.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    transport: Transport,
    slots: Arc<Semaphore>,
    cores: Arc<Cores>,
    shutdown: CancellationToken,
    connections: Connections,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and friends: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            crate::metrics::limit_hit(crate::metrics::Limit::MaxConnections);
            tracing::warn!(%peer, max = transport.max_connections, "too many connections (--max-connections); closing a new one");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        // Out of this reactor, into the serving thread's.
        let tcp = match tcp.into_std() {
            Ok(tcp) => tcp,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "cannot hand a connection over");
                continue;
            }
        };
        let (router, transport, close) = (router.clone(), transport.clone(), connections.close.clone());
        let token = connections.tracker.token();
        cores.spawn(move || async move {
            let _tracked = token;
            match TcpStream::from_std(tcp) {
                Ok(tcp) => serve_connection(tcp, peer, router, &transport, close).await,
                Err(e) => tracing::warn!(%peer, error = %e, "cannot serve a connection"),
            }
            drop(slot);
        });
    }
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    transport: &Transport,
    close: CancellationToken,
) {
    match &transport.tls {
        None => serve_http(tcp, peer, router, transport.handshake_timeout, close).await,
        Some(acceptor) => match tokio::time::timeout(transport.handshake_timeout, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => serve_http(tls, peer, router, transport.handshake_timeout, close).await,
            Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
        },
    }
}

async fn serve_http<S>(
    stream: S,
    peer: SocketAddr,
    router: axum::Router,
    handshake_timeout: Duration,
    close: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    use tower::ServiceExt;
    // Handlers see the peer as axum's `ConnectInfo`.
    let router = router.map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        request
    });
    let service = TowerToHyperService::new(router);
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // Also closes a kept-alive connection that sends no next request in time.
        .header_read_timeout(handshake_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
        }
        () = close.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
