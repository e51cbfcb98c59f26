//! What the kernel did to a session's sockets: TCP state changes and the segments on its wire.
//!
//! One [`Observer`] per relay process decides, once, how states are observed:
//! - **traced**: every transition from the `sock:inet_sock_set_state`
//!   tracepoint ([`trace`]), attributed to sessions ([`attribute`]);
//! - **sampled** (tracing not permitted): `TCP_INFO` while the fd is open
//!   ([`sample`]), which misses states that last microseconds.
//!
//! In both modes a connection whose fd is closed is followed through
//! NETLINK_SOCK_DIAG ([`diag`]) until the kernel drops it, because timewait
//! buckets (FIN_WAIT2, TIME_WAIT after close) are not traced. Segments come from
//! an AF_PACKET socket on the session namespace's `lo` ([`capture`]).

mod attribute;
mod capture;
mod diag;
mod expert;
pub mod links;
mod sample;
mod session;
mod tcp_state;
pub mod tcpinfo;
mod trace;

use std::io;
use std::sync::Arc;

use socklab_wire::protocol::{Capabilities, SandboxMode};
use socklab_wire::tcp::StateObservation;

pub use session::SessionObserver;
pub use trace::TraceError;

use attribute::Router;
use trace::Tracer;

use crate::netns::Netns;

/// How the observer may observe; what is asked for is still only used if it works.
/// The relay's configuration decides (the kernel side reads no environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObserverConfig {
    /// Use the tracepoint for TCP states (else sample them).
    pub tracing: bool,
    /// Capture segments on session namespaces' `lo`.
    pub capture: bool,
}

impl Default for ObserverConfig {
    fn default() -> ObserverConfig {
        ObserverConfig {
            tracing: true,
            capture: true,
        }
    }
}

/// Why segments are not captured.
#[derive(Debug, thiserror::Error)]
pub enum NoCapture {
    #[error("AF_PACKET needs CAP_NET_RAW ({0})")]
    NotPermitted(io::Error),
    #[error("cannot open an AF_PACKET socket: {0}")]
    Failed(io::Error),
    #[error("capture was turned off")]
    TurnedOff,
}

/// One per relay process: the tracepoint reader, the attribution of its
/// events to sessions, and what this process may observe.
#[derive(Debug)]
pub struct Observer {
    /// Where traced transitions are routed; shared with the reader thread.
    router: Arc<Router>,
    /// The tracefs instance and its reader thread; `None` in sampled mode.
    tracer: Option<Tracer>,
    /// Whether AF_PACKET capture works here (`Err` says why not).
    capture: Result<(), NoCapture>,
    /// What the hello says, for sessions in their own namespace.
    capabilities: Capabilities,
}

impl Observer {
    /// The relay listens on `port` (its page and WebSocket): transitions of its own
    /// connections there are not attributed to sessions.
    pub fn relay_listens_on(&self, port: u16) {
        self.router.relay_listens_on(port);
    }

    /// Starts observing as `config` asks. Never fails: degrades to sampled
    /// states and no capture, recording why in the capabilities.
    pub fn start_with(config: ObserverConfig) -> Arc<Observer> {
        let router = Arc::new(Router::default());
        let mut notes = Vec::new();
        let tracer = if config.tracing {
            let (sink, idle) = (router.clone(), router.clone());
            match Tracer::start(move |t| sink.dispatch(t), move || idle.tick()) {
                Ok(tracer) => Some(tracer),
                Err(error) => {
                    tracing::warn!(%error, "TCP states will be sampled");
                    notes.push(format!(
                        "TCP states are sampled (TCP_INFO and sock_diag), so states that last microseconds may be missed: {error}"
                    ));
                    None
                }
            }
        } else {
            notes.push(
                "TCP states are sampled (TCP_INFO and sock_diag): tracing was turned off"
                    .to_string(),
            );
            None
        };
        let capture = if config.capture {
            probe_capture()
        } else {
            Err(NoCapture::TurnedOff)
        };
        if let Err(why) = &capture {
            notes.push(format!("no segment capture: {why}"));
        }
        let capabilities = Capabilities {
            tcp_states: if tracer.is_some() {
                StateObservation::Traced
            } else {
                StateObservation::Sampled
            },
            capture: capture.is_ok(),
            notes,
        };
        tracing::info!(
            tcp_states = capabilities.tcp_states.name(),
            capture = capabilities.capture,
            "observer started"
        );
        Arc::new(Observer {
            router,
            tracer,
            capture,
            capabilities,
        })
    }

    /// What sessions in their own namespace get observed (the hello's capabilities).
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    /// What a session in `mode` gets observed: in host mode there is no capture,
    /// since the host's `lo` carries other programs' traffic.
    pub fn capabilities_for(&self, mode: SandboxMode) -> Capabilities {
        let mut capabilities = self.capabilities.clone();
        if mode == SandboxMode::Host && capabilities.capture {
            capabilities.capture = false;
            capabilities
                .notes
                .push("no segment capture in host mode: the host's loopback carries other programs' traffic".into());
        }
        capabilities
    }

    /// Observation for one session; `netns` `None` is host mode (the relay's own namespace).
    pub fn session(self: &Arc<Self>, netns: Option<Arc<Netns>>) -> SessionObserver {
        SessionObserver::new(self.clone(), netns)
    }

    fn traced(&self) -> bool {
        self.tracer.is_some()
    }
}

fn probe_capture() -> Result<(), NoCapture> {
    let protocol = i32::from((libc::ETH_P_ALL as u16).to_be());
    match crate::netns::host_socket(libc::AF_PACKET, libc::SOCK_RAW, protocol) {
        Ok(_) => Ok(()),
        Err(error) if error.raw_os_error() == Some(libc::EPERM) => Err(NoCapture::NotPermitted(error)),
        Err(error) => Err(NoCapture::Failed(error)),
    }
}

/// `CLOCK_MONOTONIC` now, in nanoseconds: the clock of the tracefs instance,
/// and the one every event, segment and call of a session is stamped on.
pub fn mono_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// A clock's time now, in nanoseconds.
pub(crate) fn clock_ns(clock: libc::clockid_t) -> u64 {
    // SAFETY: `timespec` is plain old data; clock_gettime writes only into it.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: as above; both clocks used here always exist.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}
