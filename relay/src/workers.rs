//! `--workers N`: one process binds the listeners and runs N worker processes
//! (this binary again), each accepting on its own SO_REUSEPORT copy of them,
//! so one relay can hold more sessions than one process's open-files limit.
//!
//! The supervisor hands each worker its listeners, the access tokens and the
//! metrics region as inherited fds named in [`HANDOFF_ENV`]. It forwards
//! SIGTERM and SIGINT, restarts a worker that dies unexpectedly (zeroing its
//! gauges in the metrics region), and after a shutdown exits once every worker
//! has, killing one that outlives `--shutdown-timeout` by more than a grace
//! period. Workers get SIGTERM if the supervisor dies.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// Tells a worker process which inherited fds are what:
/// `worker=2/4;listeners=5,6;metrics=7;tokens=8` (workers numbered from 1).
pub const HANDOFF_ENV: &str = "SOCKLAB_WORKER_HANDOFF";

/// A worker that outlives `--shutdown-timeout` by this much is killed.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// Crash-loop guard: a worker that dies this soon after starting is restarted
/// after [`RESTART_BACKOFF`], and after [`MAX_QUICK_FAILURES`] such deaths in a
/// row the relay gives up.
const QUICK_FAILURE: Duration = Duration::from_secs(2);
const RESTART_BACKOFF: Duration = Duration::from_secs(1);
const MAX_QUICK_FAILURES: u32 = 5;

/// Why the workers could not be run, or a worker could not take its handoff.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the worker handoff is not text")]
    HandoffNotText,
    #[error("bad {} {text:?}: {why}", HANDOFF_ENV)]
    BadHandoff { text: String, why: &'static str },
    #[error("cannot map the metrics region: {0}")]
    MapMetrics(io::Error),
    #[error("cannot read the tokens: {0}")]
    ReadTokens(io::Error),
    #[error("cannot make the metrics region: {0}")]
    MakeMetrics(io::Error),
    #[error("cannot hand over the tokens: {0}")]
    HandTokens(io::Error),
    #[error("workers keep failing at start; see the log above")]
    KeepFailing,
}

/// What a worker process received from its supervisor.
pub struct Handoff {
    /// From 0.
    pub index: usize,
    pub count: usize,
    /// Its copy of every listener, in `--listen` order.
    pub listeners: Vec<std::net::TcpListener>,
    /// The shared counters, writing to this worker's slot.
    pub metrics: Metrics,
    pub tokens: Vec<String>,
}

/// This process's place among the workers, once known.
static IDENTITY: OnceLock<(usize, usize)> = OnceLock::new();

/// The relay's name in a hello: `socklab 0.1.0`, and `socklab 0.1.0 (worker 2/4)` in a worker.
pub fn server_name() -> String {
    let version = env!("CARGO_PKG_VERSION");
    match IDENTITY.get() {
        Some((index, count)) => format!("socklab {version} (worker {}/{count})", index + 1),
        None => format!("socklab {version}"),
    }
}

/// `1/2` in a worker: for a response header saying who answered.
pub fn worker_label() -> Option<String> {
    IDENTITY.get().map(|(index, count)| format!("{}/{count}", index + 1))
}

impl Handoff {
    /// The handoff this process was started with, when it is a worker.
    pub fn from_env() -> Result<Option<Handoff>, WorkerError> {
        let Some(text) = std::env::var_os(HANDOFF_ENV) else { return Ok(None) };
        // Not for the workers' own children (lab peers are threads, but be tidy).
        // SAFETY: called at start-up, before any other thread reads the environment.
        unsafe { std::env::remove_var(HANDOFF_ENV) };
        let text = text.to_str().ok_or(WorkerError::HandoffNotText)?;
        let bad = |why: &'static str| WorkerError::BadHandoff { text: text.to_string(), why };
        let (mut worker, mut listeners, mut metrics, mut tokens) = (None, Vec::new(), None, None);
        for part in text.split(';') {
            let (key, value) = part.split_once('=').ok_or_else(|| bad("expected key=value"))?;
            let fd = |value: &str| value.parse::<RawFd>().map_err(|_| bad("not an fd number"));
            match key {
                "worker" => {
                    let (index, count) = value.split_once('/').ok_or_else(|| bad("worker is i/n"))?;
                    let index: usize = index.parse().map_err(|_| bad("worker index"))?;
                    let count: usize = count.parse().map_err(|_| bad("worker count"))?;
                    if index == 0 || index > count {
                        return Err(bad("worker index out of range"));
                    }
                    worker = Some((index - 1, count));
                }
                "listeners" => listeners = value.split(',').map(fd).collect::<Result<Vec<_>, _>>()?,
                "metrics" => metrics = Some(fd(value)?),
                "tokens" => tokens = Some(fd(value)?),
                _ => return Err(bad("unknown key")),
            }
        }
        let (index, count) = worker.ok_or_else(|| bad("no worker"))?;
        let (metrics, tokens) = (metrics.ok_or_else(|| bad("no metrics"))?, tokens.ok_or_else(|| bad("no tokens"))?);
        if listeners.is_empty() {
            return Err(bad("no listeners"));
        }
        // SAFETY: the supervisor passed these fds open to this process, for it alone to own.
        let owned = |fd: RawFd| unsafe { OwnedFd::from_raw_fd(fd) };
        let metrics = Metrics::attach(owned(metrics), index).map_err(WorkerError::MapMetrics)?;
        let tokens = read_tokens(&owned(tokens)).map_err(WorkerError::ReadTokens)?;
        let listeners = listeners.into_iter().map(|fd| std::net::TcpListener::from(owned(fd))).collect();
        let _ = IDENTITY.set((index, count));
        Ok(Some(Handoff { index, count, listeners, metrics, tokens }))
    }
}

/// Run `listener_sets.len()` workers until SIGTERM/SIGINT, then until they have all exited.
/// `Err` when workers keep dying at start (a configuration the supervisor could not check).
pub async fn supervise(
    listener_sets: Vec<Vec<std::net::TcpListener>>,
    tokens: &[String],
    shutdown_timeout: Duration,
) -> Result<(), WorkerError> {
    let count = listener_sets.len();
    let metrics = Metrics::shared(count, tokens.len()).map_err(WorkerError::MakeMetrics)?;
    let tokens_fd = Arc::new(tokens_memfd(tokens).map_err(WorkerError::HandTokens)?);
    let shutdown = CancellationToken::new();
    let failed = CancellationToken::new();
    let mut workers = tokio::task::JoinSet::new();
    for (index, listeners) in listener_sets.into_iter().enumerate() {
        let worker = Worker {
            index,
            count,
            listeners: Some(listeners),
            metrics: metrics.clone(),
            tokens_fd: tokens_fd.clone(),
            stop_within: shutdown_timeout + KILL_GRACE,
        };
        workers.spawn(worker.run(shutdown.clone(), failed.clone()));
    }
    let gave_up = tokio::select! {
        () = shutdown_signal() => {
            tracing::info!("shutting down: stopping the workers");
            false
        }
        () = failed.cancelled() => true,
    };
    shutdown.cancel();
    while workers.join_next().await.is_some() {}
    if gave_up {
        return Err(WorkerError::KeepFailing);
    }
    tracing::info!("every worker has exited");
    Ok(())
}

/// One worker's place: its listeners and its slot, through restarts.
struct Worker {
    index: usize,
    count: usize,
    /// Held so connections queue for the worker while it restarts; dropped at shutdown.
    listeners: Option<Vec<std::net::TcpListener>>,
    metrics: Metrics,
    tokens_fd: Arc<OwnedFd>,
    stop_within: Duration,
}

impl Worker {
    async fn run(mut self, shutdown: CancellationToken, failed: CancellationToken) {
        let number = self.index + 1;
        let mut quick_failures = 0;
        loop {
            let started = Instant::now();
            let mut child = match self.spawn() {
                Ok(child) => child,
                Err(e) => {
                    tracing::error!(worker = number, error = %e, "cannot start a worker");
                    failed.cancel();
                    return;
                }
            };
            let pid = child.id().unwrap_or(0);
            tracing::info!(worker = number, pid, "worker started");
            let exited = tokio::select! {
                status = child.wait() => Some(status),
                () = shutdown.cancelled() => None,
            };
            let Some(status) = exited else {
                // Closing the supervisor's copies lets the listeners close once the worker's do.
                self.listeners = None;
                // SAFETY: kill with a pid of our own child, not yet reaped.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
                match tokio::time::timeout(self.stop_within, child.wait()).await {
                    Ok(status) => tracing::info!(worker = number, pid, status = %describe(status), "worker exited"),
                    Err(_) => {
                        tracing::warn!(worker = number, pid, "worker still running past --shutdown-timeout; killing it");
                        let _ = child.kill().await;
                    }
                }
                return;
            };
            tracing::warn!(worker = number, pid, status = %describe(status), "worker exited unexpectedly; restarting it");
            // Its sessions died with it.
            self.metrics.for_slot(self.index).reset_gauges();
            quick_failures = if started.elapsed() < QUICK_FAILURE { quick_failures + 1 } else { 0 };
            if quick_failures >= MAX_QUICK_FAILURES {
                tracing::error!(worker = number, quick_failures, "worker keeps failing right after starting; giving up");
                failed.cancel();
                return;
            }
            // A moment before restarting: a stop of the whole service kills the workers
            // and the supervisor at once, and a crash loop should not spin.
            let pause = if quick_failures > 0 { RESTART_BACKOFF } else { Duration::from_millis(100) };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    fn spawn(&self) -> io::Result<tokio::process::Child> {
        let listeners = self.listeners.as_ref().ok_or_else(|| io::Error::other("listeners already closed"))?;
        let listener_fds: Vec<RawFd> = listeners.iter().map(AsRawFd::as_raw_fd).collect();
        let metrics_fd = self.metrics.fd().ok_or_else(|| io::Error::other("the metrics region is not shared"))?;
        let tokens_fd = self.tokens_fd.as_raw_fd();
        let handoff = format!(
            "worker={}/{};listeners={};metrics={metrics_fd};tokens={tokens_fd}",
            self.index + 1,
            self.count,
            listener_fds.iter().map(|fd| fd.to_string()).collect::<Vec<_>>().join(",")
        );
        let mut inherited = listener_fds;
        inherited.extend([metrics_fd, tokens_fd]);
        let mut command = tokio::process::Command::new("/proc/self/exe");
        command
            .arg0(std::env::args_os().next().unwrap_or_else(|| "socklab".into()))
            .args(std::env::args_os().skip(1))
            .env(HANDOFF_ENV, handoff)
            .stdin(std::process::Stdio::null())
            // The supervisor's first stdout line is the URL; workers print nothing there.
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        // SAFETY: between fork and exec only async-signal-safe calls (fcntl, prctl, getppid).
        unsafe {
            command.pre_exec(move || {
                for fd in &inherited {
                    if libc::fcntl(*fd, libc::F_SETFD, 0) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                // The supervisor forks from its only thread, so this fires when the process dies.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command.spawn()
    }
}

fn describe(status: io::Result<std::process::ExitStatus>) -> String {
    status.map_or_else(|e| format!("unknown ({e})"), |status| status.to_string())
}

/// The tokens, one per line, in a memfd a worker reads at start.
fn tokens_memfd(tokens: &[String]) -> io::Result<OwnedFd> {
    use std::io::Write;
    // SAFETY: a NUL-terminated name and valid flags.
    let raw = unsafe { libc::memfd_create(c"socklab-tokens".as_ptr(), libc::MFD_CLOEXEC) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new fd nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut file = std::fs::File::from(fd);
    file.write_all(tokens.join("\n").as_bytes())?;
    Ok(file.into())
}

/// Read the tokens from offset 0 (the file offset is shared with the other workers).
fn read_tokens(fd: &OwnedFd) -> io::Result<Vec<String>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::from(fd.try_clone()?);
    let length = file.metadata()?.len();
    let mut text = vec![0u8; usize::try_from(length).map_err(io::Error::other)?];
    file.read_exact_at(&mut text, 0)?;
    let text = String::from_utf8(text).map_err(io::Error::other)?;
    Ok(text.lines().map(str::to_string).filter(|t| !t.is_empty()).collect())
}

/// SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot watch for SIGTERM and SIGINT");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = interrupt.recv() => {}
    }
}
