//! The `socklab` command: `serve` (the default) and `run FILE`.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use socklab::cli::{self, RunArgs};
use socklab::lessons_cli;
use socklab::config::{ObserveArgs, ServeConfig, Size};
use socklab_lang::interp::Limits;
use socklab::capacity::{self, FdBudget};
use socklab::cores::Cores;
use socklab::limits::SessionGate;
use socklab::metrics::{self, Metrics};
use socklab::listen::{self, Transport};
use socklab::sandbox::{Sandbox, SandboxChoice, SandboxConfig};
use socklab::server::{self, AppState, OriginPolicy};
use socklab::workers::{self, Handoff};
use socklab::session::Access;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Parser)]
#[command(name = "socklab", version, about = "Learn socket programming on real kernel sockets")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

// Parsed once at start-up: the size of the `serve` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the playground page and its WebSocket endpoint (the default).
    Serve(ServeConfig),
    /// Run a script to the end and print its transcript.
    Run(RunCommand),
    /// The guided lessons: list, show, check a script against a lesson.
    #[command(subcommand)]
    Lesson(lessons_cli::LessonCommand),
    /// Print a script as a runnable Python 3 or C program.
    Export(lessons_cli::ExportCommand),
}

#[derive(Args)]
struct RunCommand {
    /// The script, or `-` for standard input.
    file: String,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    /// Seconds with every lane blocked and nothing pending before the run counts as deadlocked.
    #[arg(long, default_value_t = 5.0)]
    deadlock_timeout: f64,
    /// Where the run's sockets live: a private network namespace (`auto` when possible) or the host's loopback.
    #[arg(long, env = "SOCKLAB_SANDBOX", value_enum, default_value_t = SandboxChoice::Auto)]
    sandbox: SandboxChoice,
    /// Host mode: allow SOCK_RAW (a namespace always allows it).
    #[arg(long)]
    allow_raw: bool,
    /// Bytes the script's values may hold at once, all lanes together (past it: MemoryError).
    #[arg(long, default_value = "256MiB")]
    max_memory: Size,
    /// Bytes each lane may print; past it the lane ends with an error.
    #[arg(long, default_value = "16MiB")]
    max_output: Size,
    /// Statements the whole run may execute, so an endless loop ends.
    #[arg(long, default_value_t = 1_000_000)]
    max_steps: u64,
    /// Step into library modules written in Python (socketserver, selectors,
    /// threading, …): each of their statements is a step, with its module.
    #[arg(long)]
    into_library: bool,
    /// Write what crossed the links between the script's hosts to FILE as pcapng
    /// (one interface per link, each packet's comment naming the script line).
    #[arg(long, value_name = "FILE")]
    pcap: Option<std::path::PathBuf>,
    #[command(flatten)]
    observe: ObserveArgs,
}

/// Values of every kind are counted, so a script's memory limit holds.
#[global_allocator]
static ALLOC: socklab_lang::memory::Counting = socklab_lang::memory::Counting;

fn main() -> anyhow::Result<()> {
    let mut matches = Cli::command().get_matches();
    if matches.subcommand().is_none() {
        // No subcommand means `serve` with its defaults (and the environment).
        matches = Cli::command().get_matches_from(["socklab", "serve"]);
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some(Command::Serve(config)) = cli.command {
        let serve_matches = matches.subcommand_matches("serve").expect("serve was parsed");
        let config = config.resolve(serve_matches)?;
        let handoff = Handoff::from_env()?;
        if handoff.is_none() && config.workers > 1 {
            // One thread: a worker's parent-death signal follows the thread that forked it.
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            return runtime.block_on(supervise(config));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let served = runtime.block_on(serve(config, handoff));
        // A session that hung past --shutdown-timeout must not hold the exit.
        runtime.shutdown_timeout(Duration::from_millis(500));
        return served;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Some(Command::Run(run)) => {
            init_logs(false, "warn");
            let args = RunArgs {
                file: run.file,
                json: run.json,
                deadlock_timeout: Duration::try_from_secs_f64(run.deadlock_timeout)
                    .context("--deadlock-timeout must be a positive number of seconds")?,
                limits: Limits {
                    memory: usize::try_from(run.max_memory.0).unwrap_or(usize::MAX),
                    output: usize::try_from(run.max_output.0).unwrap_or(usize::MAX),
                },
                max_steps: run.max_steps,
                into_library: run.into_library,
                pcap: run.pcap,
            };
            let code = runtime.block_on(async {
                let sandbox = SandboxConfig {
                    sandbox: run.sandbox,
                    allow_raw_in_host: run.allow_raw,
                    observe: run.observe.observer(),
                    ..SandboxConfig::default()
                };
                cli::run(&args, sandbox).await
            });
            // A reader that stops early (`| head`) ends the run quietly, as
            // SIGPIPE ends other tools: the session was closed on the way out.
            let code = match code {
                Err(error) if is_broken_pipe(&error) => 141,
                other => other?,
            };
            std::process::exit(code);
        }
        Some(Command::Serve(_)) => unreachable!("served above"),
        Some(Command::Lesson(command)) => {
            init_logs(false, "warn");
            std::process::exit(lessons_cli::lesson_main(command, &runtime)?);
        }
        Some(Command::Export(export)) => std::process::exit(lessons_cli::export(export.lang, &export.file)?),
        None => unreachable!("`serve` is parsed as the default"),
    }
}

/// `--workers` above 1: bind the listeners once per worker, print the URL, run the workers.
async fn supervise(config: ServeConfig) -> anyhow::Result<()> {
    init_logs(config.log_json, "info");
    capacity::raise_nofile();
    let tokens = tokens(&config)?;
    // Checked here so a bad certificate stops the relay once, not each worker in a loop.
    tls(&config)?;
    let best_effort = config.listen == ServeConfig::default().listen;
    let sets = listen::bind_copies(&config.listen, best_effort, config.workers)?;
    let local = sets[0][0].local_addr()?;
    print_url(&config, local, &tokens[0])?;
    let addresses: Vec<String> = sets[0].iter().filter_map(|l| l.local_addr().ok()).map(|a| a.to_string()).collect();
    tracing::info!(listening = ?addresses, tls = config.tls(), workers = config.workers, "socklab relay listening");
    Ok(workers::supervise(sets, &tokens, config.shutdown_timeout.0).await?)
}

/// Serve sessions: the whole relay, or one worker of it (`handoff`).
async fn serve(config: ServeConfig, handoff: Option<Handoff>) -> anyhow::Result<()> {
    init_logs(config.log_json, "info");
    socklab::cores::log_panics();
    let nofile = capacity::raise_nofile();
    let (tokens, listeners, metrics, workers) = match handoff {
        Some(handoff) => (handoff.tokens, listen::adopt(handoff.listeners)?, Some(handoff.metrics), handoff.count),
        None => {
            let tokens = tokens(&config)?;
            // The default ::1 is best effort (a machine may have no IPv6); addresses asked for are not.
            let best_effort = config.listen == ServeConfig::default().listen;
            (tokens, listen::bind(&config.listen, best_effort).await?, None, 1)
        }
    };
    let tls = tls(&config)?;
    let local = listeners[0].local_addr()?;
    let sandbox = Sandbox::new(SandboxConfig {
        sandbox: config.sandbox,
        relay_port: Some(local.port()),
        allow_raw_in_host: config.allow_raw,
        max_sockets: config.max_sockets,
        allow_destinations: config.allow_destination.clone(),
        allow_privileged_ports: config.allow_privileged_ports,
        observe: config.observer(),
        ..SandboxConfig::default()
    })?;

    // What this process's open-files limit can hold, measured with one session's sandbox.
    let before = capacity::open_fds();
    let sandbox_fds = sandbox.new_session().map(|_env| capacity::open_fds().saturating_sub(before)).unwrap_or(0);
    let budget = FdBudget { nofile, open_at_start: capacity::open_fds(), sandbox_fds };
    let capacity = budget.capacity();
    let fit = capacity.sessions.saturating_mul(workers);
    // Derived, the limit also holds per process (connections are not spread evenly); given, it is the operator's.
    let (max_sessions, max_here, share) = match config.max_sessions {
        Some(max) => (max, max, max.div_ceil(workers)),
        None => (fit, capacity.sessions, capacity.sessions),
    };
    let max_connections = config.max_connections.unwrap_or(share.max(capacity.sessions) + budget.reserve());
    tracing::info!(
        max_sessions,
        sessions_per_process = capacity.sessions,
        max_connections,
        nofile,
        fds_per_session = capacity.per_session,
        "session capacity"
    );
    if max_sessions > fit {
        tracing::warn!(
            max_sessions,
            fit,
            "--max-sessions is more than the open-files limit leaves room for: sessions past it may fail with EMFILE"
        );
    }

    let metrics = metrics.unwrap_or_else(|| Metrics::private(tokens.len()));
    metrics.reset_gauges();
    metrics::install(metrics.clone());
    let sessions = SessionGate::counting_in(max_sessions, config.max_sessions_per_token.unwrap_or(usize::MAX), max_here, metrics.clone());
    let shutdown = CancellationToken::new();
    let state = Arc::new(AppState {
        sandbox,
        access: Access { tokens: tokens.clone(), sessions },
        limits: config.session_limits(),
        max_frame: usize::try_from(config.max_frame.0).unwrap_or(usize::MAX),
        origins: OriginPolicy {
            hosts: config.allow_host.clone(),
            origins: config.allow_origin.clone(),
            port: local.port(),
            tls: config.tls(),
            allow_missing: config.allow_missing_origin,
        },
        shutdown: shutdown.clone(),
        websockets: Arc::new(Semaphore::new(max_connections)),
        websocket_tasks: TaskTracker::new(),
        metrics,
        metrics_token: config.metrics_token.clone(),
    });

    // Started before the URL is printed: a relay that printed it is whole.
    let cores = Arc::new(Cores::start(config.threads.unwrap_or_else(Cores::available))?);
    if workers::worker_label().is_none() {
        print_url(&config, local, &tokens[0])?;
    }
    let addresses: Vec<String> = listeners.iter().filter_map(|l| l.local_addr().ok()).map(|a| a.to_string()).collect();
    tracing::info!(
        listening = ?addresses,
        tls = config.tls(),
        mode = ?state.sandbox.mode(),
        server = %workers::server_name(),
        "socklab relay listening"
    );

    tokio::spawn(async move {
        workers::shutdown_signal().await;
        tracing::info!("shutting down");
        metrics::set_draining();
        shutdown.cancel();
    });
    let transport = Transport { handshake_timeout: config.handshake_timeout.0, max_connections, tls };
    let connections =
        listen::serve(listeners, server::app(state.clone()), transport, cores.clone(), state.shutdown.clone()).await?;
    // Draining: the listeners are closed and every session has been told; wait
    // for them to end (their sockets and namespaces close with them), then let
    // the remaining HTTP connections finish.
    let drained = async {
        state.websocket_tasks.close();
        state.websocket_tasks.wait().await;
        connections.close().await;
    };
    match tokio::time::timeout(config.shutdown_timeout.0, drained).await {
        Ok(()) => tracing::info!("every session has ended; exiting"),
        Err(_) => tracing::warn!(
            open = state.websocket_tasks.len(),
            timeout = %config.shutdown_timeout,
            "sessions still open after --shutdown-timeout; exiting anyway"
        ),
    }
    // The session threads stop (and drop what they still serve) only now.
    drop(cores);
    // Session directories still waiting for the reaper, and the base itself.
    state.sandbox.remove_base();
    Ok(())
}

/// The first line on stdout is the URL and nothing else (tests and scripts read it).
/// The token is in the fragment, which browsers never send: the page reads it and
/// sends it in its hello, so it appears in no request line or log.
fn print_url(config: &ServeConfig, local: std::net::SocketAddr, token: &str) -> anyhow::Result<()> {
    let scheme = if config.tls() { "https" } else { "http" };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{scheme}://{local}/#token={token}")?;
    stdout.flush()?;
    Ok(())
}

fn tokens(config: &ServeConfig) -> anyhow::Result<Vec<String>> {
    match &config.token_file {
        Some(path) => read_or_create_tokens(path),
        None => Ok(vec![new_token()]),
    }
}

fn tls(config: &ServeConfig) -> anyhow::Result<Option<tokio_rustls::TlsAcceptor>> {
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Ok(Some(listen::tls_acceptor(cert, key)?)),
        _ => Ok(None),
    }
}

/// 32 random bytes, hex.
fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The tokens in `path`, one per line (blank lines and `#` comments skipped),
/// or a new file (mode 0600) with one random token.
fn read_or_create_tokens(path: &Path) -> anyhow::Result<Vec<String>> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.is_file() {
            bail!("{} is not a regular file (a symlink?); give the token file itself", path.display());
        }
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            bail!("{} is readable by others (mode {:o}); chmod 600 it", path.display(), mode & 0o777);
        }
        let text = std::fs::read_to_string(path)?;
        let tokens: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_string)
            .collect();
        if tokens.is_empty() {
            bail!("{} holds no token", path.display());
        }
        if let Some(short) = tokens.iter().find(|t| t.len() < 32) {
            bail!("a token in {} is too short ({} characters; 32 at least)", path.display(), short.len());
        }
        return Ok(tokens);
    }
    let token = new_token();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the token file {}", path.display()))?;
    writeln!(file, "{token}")?;
    Ok(vec![token])
}

fn init_logs(json: bool, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level))
        // tungstenite traces whole messages, and a hello carries the token: never log them.
        .add_directive("tungstenite=info".parse().expect("a valid directive"))
        .add_directive("tokio_tungstenite=info".parse().expect("a valid directive"));
    // Colours only on a terminal: a log file or journald gets plain text.
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal() && !socklab::config::no_color();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
