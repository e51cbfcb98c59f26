//! The `socklab` command: `serve` (the default) and `run FILE`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use socklab::cli::{self, RunArgs};
use socklab::sandbox::{Sandbox, SandboxConfig};
use socklab::server::{self, AppState, OriginPolicy};
use socklab::session::{Access, SessionLimits};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "socklab", version, about = "Learn socket programming on real kernel sockets")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the playground page and its WebSocket endpoint (the default).
    Serve(ServeArgs),
    /// Run a script to the end and print its transcript.
    Run(RunCommand),
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7878", env = "SOCKLAB_LISTEN")]
    listen: SocketAddr,
    /// Listen on a non-loopback address because a TLS-terminating proxy is in front.
    #[arg(long)]
    behind_tls_proxy: bool,
    /// Read the access token from this file, or create it (mode 0600) with a random token.
    #[arg(long, env = "SOCKLAB_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// Host header values accepted besides loopback names (exact `host[:port]`).
    #[arg(long = "allow-host")]
    allow_hosts: Vec<String>,
    /// Origins accepted besides the relay's own (exact, e.g. `https://lab.example.org`).
    #[arg(long = "allow-origin")]
    allow_origins: Vec<String>,
    /// Allow SOCK_RAW in host mode (sessions without a private namespace).
    #[arg(long)]
    allow_raw: bool,
    /// Open sockets per session.
    #[arg(long, default_value_t = 64)]
    max_sockets: usize,
    /// Largest protocol message, in bytes; larger ones get an error and the session goes on.
    #[arg(long, default_value_t = 1 << 20)]
    max_message: usize,
    /// Largest WebSocket frame, in bytes; larger ones close the connection (1009).
    #[arg(long, default_value_t = 16 << 20)]
    max_frame: usize,
    /// Calls pending at once per session.
    #[arg(long, default_value_t = 64)]
    max_pending: usize,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // No subcommand means `serve` with its defaults.
    let command = cli.command.or_else(|| Cli::parse_from(["socklab", "serve"]).command);
    match command {
        Some(Command::Run(run)) => {
            init_logs(false, "warn");
            let args = RunArgs {
                file: run.file,
                json: run.json,
                deadlock_timeout: Duration::try_from_secs_f64(run.deadlock_timeout)
                    .context("--deadlock-timeout must be a positive number of seconds")?,
            };
            let code = runtime.block_on(async {
                let sandbox = Sandbox::new(SandboxConfig::default());
                cli::run(&args, &sandbox).await
            })?;
            std::process::exit(code);
        }
        Some(Command::Serve(args)) => runtime.block_on(serve(args)),
        None => unreachable!("`serve` is parsed as the default"),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logs(args.log_json, "info");
    if !args.listen.ip().is_loopback() && !args.behind_tls_proxy {
        bail!(
            "refusing to listen on {}: it is not a loopback address, and the relay runs socket calls for whoever \
             holds the token. Put a TLS-terminating proxy in front and pass --behind-tls-proxy",
            args.listen
        );
    }
    let token = match &args.token_file {
        Some(path) => read_or_create_token(path)?,
        None => new_token(),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let sandbox = Sandbox::new(SandboxConfig {
        relay_port: Some(local.port()),
        allow_raw_in_host: args.allow_raw,
        max_sockets: args.max_sockets,
        ..SandboxConfig::default()
    });
    let shutdown = CancellationToken::new();
    let state = Arc::new(AppState {
        sandbox,
        access: Access { token: Some(token.clone()) },
        limits: SessionLimits { max_message: args.max_message, max_pending: args.max_pending },
        max_frame: args.max_frame,
        origins: OriginPolicy { hosts: args.allow_hosts, origins: args.allow_origins, port: local.port() },
        shutdown: shutdown.clone(),
    });

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "http://{local}/#token={token}")?;
    stdout.flush()?;
    drop(stdout);
    tracing::info!(%local, mode = ?state.sandbox.mode(), "socklab relay listening");

    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    server::serve(listener, state).await?;
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// 32 random bytes, hex.
fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_or_create_token(path: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.exists() {
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!("{} is readable by others (mode {:o}); chmod 600 it", path.display(), mode & 0o777);
        }
        let token = std::fs::read_to_string(path)?.trim().to_string();
        if token.len() < 32 {
            bail!("the token in {} is too short (32 characters at least)", path.display());
        }
        return Ok(token);
    }
    let token = new_token();
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    writeln!(file, "{token}")?;
    Ok(token)
}

fn init_logs(json: bool, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
