//! The relay's configuration, in one place: command-line flags, `SOCKLAB_*`
//! environment variables and a TOML file (`--config`), in that order of
//! precedence over the defaults. `socklab serve --help` lists every option
//! with its environment variable and default; a file's keys are the long flag
//! names without `--` (`max-sockets = 32`, `allow-origin = ["https://…"]`).
//! `socklab run` and `socklab lesson check` take the observation options
//! ([`ObserveArgs`]) from the same variables. Besides these, `NO_COLOR`
//! ([`no_color`]) and `RUST_LOG` (read by the log filter) shape the logs, and
//! the supervisor hands its workers their fds in a variable of its own (`workers`).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use serde::Deserialize;
use socklab_kernel::observe::ObserverConfig;

use crate::exec::Cidr;
use crate::sandbox::SandboxChoice;
use crate::limits::{BudgetLimits, SessionTimers};
use crate::session::SessionLimits;

/// Everything `socklab serve` can be told.
#[derive(Args, Deserialize, Debug, Clone, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeConfig {
    /// TOML file with any of the options below (keys are the long flags without `--`).
    #[arg(long, env = "SOCKLAB_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to listen on; repeat (or separate with commas) for several. All share one port.
    /// Addresses other than loopback need --tls-cert/--tls-key or --behind-tls-proxy.
    #[arg(long, env = "SOCKLAB_LISTEN", value_delimiter = ',', default_values_t = default_listen(), help_heading = "Access")]
    pub listen: Vec<SocketAddr>,
    /// TLS certificate chain (PEM); serve https/wss with it and --tls-key.
    #[arg(long, env = "SOCKLAB_TLS_CERT", value_name = "PEM", requires = "tls_key", help_heading = "Access")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM), for --tls-cert.
    #[arg(long, env = "SOCKLAB_TLS_KEY", value_name = "PEM", requires = "tls_cert", help_heading = "Access")]
    pub tls_key: Option<PathBuf>,
    /// Listen on a non-loopback address without TLS, because a TLS-terminating proxy is in front.
    #[arg(long, env = "SOCKLAB_BEHIND_TLS_PROXY", help_heading = "Access")]
    pub behind_tls_proxy: bool,
    /// Read the access token(s) from this file, one per line, or create it (mode 0600) with a random token.
    /// Without it, a new random token is made at every start.
    #[arg(long, env = "SOCKLAB_TOKEN_FILE", value_name = "FILE", help_heading = "Access")]
    pub token_file: Option<PathBuf>,
    /// Host header accepted besides loopback names (exact `name` or `name:port`; repeat for several).
    #[arg(long, env = "SOCKLAB_ALLOW_HOST", value_delimiter = ',', value_name = "HOST", help_heading = "Access")]
    pub allow_host: Vec<String>,
    /// Origin accepted besides the relay's own (exact, e.g. `https://lab.example.org`; repeat for several).
    #[arg(long, env = "SOCKLAB_ALLOW_ORIGIN", value_delimiter = ',', value_name = "ORIGIN", help_heading = "Access")]
    pub allow_origin: Vec<String>,
    /// Accept WebSocket upgrades with no Origin header (non-browser clients); the token is still required.
    #[arg(long, env = "SOCKLAB_ALLOW_MISSING_ORIGIN", help_heading = "Access")]
    pub allow_missing_origin: bool,

    /// Where sessions' sockets live: `auto` (a private network namespace per session when the relay
    /// may make one, else host mode), `namespace` (refuse to start without), or `host` (loopback only).
    #[arg(long, env = "SOCKLAB_SANDBOX", value_enum, default_value_t = SandboxChoice::Auto, help_heading = "Sandbox")]
    pub sandbox: SandboxChoice,
    /// Host mode: a destination range allowed besides loopback (CIDR or address; repeat for several).
    #[arg(long, env = "SOCKLAB_ALLOW_DESTINATION", value_delimiter = ',', value_name = "CIDR", help_heading = "Sandbox")]
    pub allow_destination: Vec<Cidr>,
    /// Host mode: allow scripts to bind ports below 1024.
    #[arg(long, env = "SOCKLAB_ALLOW_PRIVILEGED_PORTS", help_heading = "Sandbox")]
    pub allow_privileged_ports: bool,
    /// Host mode: allow SOCK_RAW.
    #[arg(long, env = "SOCKLAB_ALLOW_RAW", help_heading = "Sandbox")]
    pub allow_raw: bool,
    /// How sessions' TCP states are observed.
    #[arg(long, env = "SOCKLAB_TCP_STATES", value_enum, default_value_t = TcpStates::Traced, help_heading = "Sandbox")]
    pub tcp_states: TcpStates,
    /// Whether the segments on each session namespace's loopback are captured.
    #[arg(long, env = "SOCKLAB_CAPTURE", value_enum, default_value_t = Capture::On, help_heading = "Sandbox")]
    pub capture: Capture,

    /// Largest protocol message; a larger one gets a `too_large` error and the session goes on.
    #[arg(long, env = "SOCKLAB_MAX_MESSAGE", default_value_t = Size(1 << 20), value_name = "BYTES", help_heading = "Limits")]
    pub max_message: Size,
    /// Largest WebSocket frame or message; a larger one closes the connection with code 1009.
    #[arg(long, env = "SOCKLAB_MAX_FRAME", default_value_t = Size(4 << 20), value_name = "BYTES", help_heading = "Limits")]
    pub max_frame: Size,
    /// Open sockets per session.
    #[arg(long, env = "SOCKLAB_MAX_SOCKETS", default_value_t = 64, help_heading = "Limits")]
    pub max_sockets: usize,
    /// Calls pending at once per session.
    #[arg(long, env = "SOCKLAB_MAX_PENDING", default_value_t = 64, help_heading = "Limits")]
    pub max_pending: usize,
    /// Sessions open at once, in total over all workers [default: as many as the open-files
    /// limit leaves room for, per worker; the relay logs the figure at start].
    #[arg(long, env = "SOCKLAB_MAX_SESSIONS", help_heading = "Limits")]
    pub max_sessions: Option<usize>,
    /// Sessions open at once per token [default: no limit of its own, --max-sessions
    /// applies: a class shares the one URL the relay prints].
    #[arg(long, env = "SOCKLAB_MAX_SESSIONS_PER_TOKEN", help_heading = "Limits")]
    pub max_sessions_per_token: Option<usize>,
    /// Open connections to one relay process (HTTP and WebSocket); more are closed at once
    /// [default: the sessions one process can hold, plus room for page loads].
    #[arg(long, env = "SOCKLAB_MAX_CONNECTIONS", help_heading = "Limits")]
    pub max_connections: Option<usize>,
    /// Bytes a session may move through send/sendall/sendto and recv/recvfrom (0: no limit).
    #[arg(long, env = "SOCKLAB_MAX_BYTES", default_value_t = Size(1 << 30), value_name = "BYTES", help_heading = "Limits")]
    pub max_bytes: Size,
    /// connect/connect_ex calls, and sendto calls to a new address, per second per session (0: no limit).
    #[arg(long, env = "SOCKLAB_MAX_CONNECTS_PER_SECOND", default_value_t = 50, help_heading = "Limits")]
    pub max_connects_per_second: u32,
    /// Time to finish the TLS and HTTP handshake, and then to send the hello.
    #[arg(long, env = "SOCKLAB_HANDSHAKE_TIMEOUT", default_value_t = Dur(Duration::from_secs(10)), value_name = "TIME", help_heading = "Limits")]
    pub handshake_timeout: Dur,
    /// How often a session's client is pinged (0: never).
    #[arg(long, env = "SOCKLAB_PING_INTERVAL", default_value_t = Dur(Duration::from_secs(20)), value_name = "TIME", help_heading = "Limits")]
    pub ping_interval: Dur,
    /// A session not heard from (no message, no pong) for this long is closed (0: never).
    #[arg(long, env = "SOCKLAB_IDLE_TIMEOUT", default_value_t = Dur(Duration::from_secs(60)), value_name = "TIME", help_heading = "Limits")]
    pub idle_timeout: Dur,
    /// The longest a session may last (0: no limit).
    #[arg(long, env = "SOCKLAB_SESSION_LIFETIME", default_value_t = Dur(Duration::from_secs(4 * 3600)), value_name = "TIME", help_heading = "Limits")]
    pub session_lifetime: Dur,

    /// Worker processes serving sessions. Above 1, this process binds the listeners and runs and
    /// supervises the workers (each accepts on its own SO_REUSEPORT copy of them).
    #[arg(long, env = "SOCKLAB_WORKERS", default_value_t = 1, help_heading = "Operations")]
    pub workers: usize,
    /// Threads serving connections in each relay process; a connection stays on one to its
    /// end [default: one per CPU this process may use].
    #[arg(long, env = "SOCKLAB_THREADS", help_heading = "Operations")]
    pub threads: Option<usize>,
    /// After a session's last activity, how long it keeps polling for the next instead of
    /// sleeping, when its recent answers came that fast (0: never). Costs CPU, saves a wake-up.
    #[arg(long, env = "SOCKLAB_BUSY_POLL", default_value_t = Dur(Duration::from_micros(100)), value_name = "TIME", help_heading = "Operations")]
    pub busy_poll: Dur,
    /// On SIGTERM/SIGINT, how long open sessions get to end before the relay exits anyway.
    #[arg(long, env = "SOCKLAB_SHUTDOWN_TIMEOUT", default_value_t = Dur(Duration::from_secs(10)), value_name = "TIME", help_heading = "Operations")]
    pub shutdown_timeout: Dur,
    /// Serve /metrics to clients presenting `Authorization: Bearer <TOKEN>`. Without it, /metrics
    /// answers direct connections from loopback only.
    #[arg(long, env = "SOCKLAB_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true, help_heading = "Operations")]
    pub metrics_token: Option<String>,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "SOCKLAB_LOG_JSON", help_heading = "Operations")]
    pub log_json: bool,
}

/// How TCP states are observed (`--tcp-states`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TcpStates {
    /// Every transition, from the kernel's tracepoint; sampled when the relay may not trace.
    #[default]
    Traced,
    /// TCP_INFO and sock_diag only: states that last microseconds may be missed.
    Sampled,
}

/// Whether segments are captured (`--capture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Capture {
    /// When the relay may open an AF_PACKET socket; never in host mode.
    #[default]
    #[value(alias = "1")]
    #[serde(alias = "1")]
    On,
    /// No capture.
    #[value(alias = "0")]
    #[serde(alias = "0")]
    Off,
}

/// What the kernel side is asked to observe.
fn observer_config(tcp_states: TcpStates, capture: Capture) -> ObserverConfig {
    ObserverConfig { tracing: tcp_states == TcpStates::Traced, capture: capture == Capture::On }
}

/// The observation options of `socklab run` and `socklab lesson check` (`serve` has its own, also read from a file).
#[derive(Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObserveArgs {
    /// How the run's TCP states are observed.
    #[arg(long, env = "SOCKLAB_TCP_STATES", value_enum, default_value_t = TcpStates::Traced)]
    pub tcp_states: TcpStates,
    /// Whether the segments on the run's namespace loopback are captured.
    #[arg(long, env = "SOCKLAB_CAPTURE", value_enum, default_value_t = Capture::On)]
    pub capture: Capture,
}

impl ObserveArgs {
    pub fn observer(self) -> ObserverConfig {
        observer_config(self.tcp_states, self.capture)
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    /// The `--config` file does not parse or names no option.
    #[error("{}: {error}", path.display())]
    File { path: PathBuf, error: toml::de::Error },
    #[error("--listen needs at least one address")]
    NoListen,
    #[error("every --listen address must use the same port")]
    PortsDiffer,
    #[error("port 0 (any free port) works with one --listen address only")]
    AnyPortTwice,
    #[error("--tls-cert and --tls-key go together")]
    HalfTls,
    #[error(
        "refusing to listen on {0}: it is not a loopback address, and the relay runs socket calls for \
         whoever holds the token. Serve TLS (--tls-cert and --tls-key), or put a TLS-terminating proxy in \
         front and pass --behind-tls-proxy"
    )]
    OpenWithoutTls(SocketAddr),
    #[error("--max-frame ({frame}) must be at least --max-message ({message})")]
    FrameBelowMessage { frame: Size, message: Size },
    #[error("--handshake-timeout must be more than 0")]
    NoHandshakeTime,
    #[error("--ping-interval ({ping}) must be shorter than --idle-timeout ({idle}), or a quiet client would be dropped")]
    PingAfterIdle { ping: Dur, idle: Dur },
    #[error("--metrics-token must be at least 16 characters")]
    ShortMetricsToken,
    #[error("--threads must be between 1 and {}", MAX_THREADS)]
    Threads,
    #[error("--busy-poll ({0}) must be 10ms at most: it burns CPU for that long")]
    BusyPoll(Dur),
    #[error("--workers must be between 1 and {}", MAX_WORKERS)]
    Workers,
    /// A limit of 0, which would let nothing in; the option's name.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

/// A size or a length of time that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadValue {
    #[error("{0:?} is not a size (e.g. 65536, 64KiB, 1MiB)")]
    NotASize(String),
    #[error("{0:?} is too large")]
    TooLarge(String),
    #[error("{0:?} is not a length of time (e.g. 100us, 500ms, 10s, 5m, 4h)")]
    NotATime(String),
}

/// `NO_COLOR` set (to anything): logs on a terminal are not coloured, as in other tools.
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some()
}

/// The most worker processes `--workers` takes.
pub const MAX_WORKERS: usize = 256;
/// The most session threads `--threads` takes.
pub const MAX_THREADS: usize = 1024;

fn default_listen() -> Vec<SocketAddr> {
    vec!["127.0.0.1:7878".parse().expect("literal"), "[::1]:7878".parse().expect("literal")]
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        use clap::{CommandFactory, FromArgMatches, Parser};
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            config: ServeConfig,
        }
        // The defaults are written once, in the clap attributes; no environment is read here.
        let matches = Defaults::command()
            .mut_args(|arg| arg.env(None::<&'static str>))
            .try_get_matches_from(["socklab"])
            .expect("the defaults parse");
        Defaults::from_arg_matches(&matches).expect("the defaults parse").config
    }
}

impl ServeConfig {
    /// Fill in what flags and environment left at their default from the `--config` file, then check.
    pub fn resolve(mut self, matches: &ArgMatches) -> Result<ServeConfig, ConfigError> {
        if let Some(path) = self.config.clone() {
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(error) => return Err(ConfigError::Read { path, error }),
            };
            if let Err(error) = self.merge_file(&text, matches) {
                return Err(ConfigError::File { path, error });
            }
        }
        self.check()?;
        Ok(self)
    }

    /// Take every key the file sets whose option was not given as a flag or in the environment.
    pub fn merge_file(&mut self, text: &str, matches: &ArgMatches) -> Result<(), toml::de::Error> {
        let table: toml::Table = toml::from_str(text)?;
        let file: ServeConfig = table.clone().try_into()?;
        let explicit =
            |id: &str| matches!(matches.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable));
        macro_rules! from_file {
            ($($field:ident),* $(,)?) => {
                $(
                    if table.contains_key(&stringify!($field).replace('_', "-")) && !explicit(stringify!($field)) {
                        self.$field = file.$field.clone();
                    }
                )*
            };
        }
        from_file!(
            listen,
            tls_cert,
            tls_key,
            behind_tls_proxy,
            token_file,
            allow_host,
            allow_origin,
            allow_missing_origin,
            sandbox,
            allow_destination,
            allow_privileged_ports,
            allow_raw,
            tcp_states,
            capture,
            max_message,
            max_frame,
            max_sockets,
            max_pending,
            max_sessions,
            max_sessions_per_token,
            max_connections,
            max_bytes,
            max_connects_per_second,
            handshake_timeout,
            ping_interval,
            idle_timeout,
            session_lifetime,
            workers,
            threads,
            busy_poll,
            shutdown_timeout,
            metrics_token,
            log_json,
        );
        Ok(())
    }

    /// Combinations that cannot work, or that would be unsafe.
    pub fn check(&self) -> Result<(), ConfigError> {
        let Some(first) = self.listen.first() else {
            return Err(ConfigError::NoListen);
        };
        if self.listen.iter().any(|a| a.port() != first.port()) {
            return Err(ConfigError::PortsDiffer);
        }
        if first.port() == 0 && self.listen.len() > 1 {
            return Err(ConfigError::AnyPortTwice);
        }
        let tls = self.tls_cert.is_some() && self.tls_key.is_some();
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::HalfTls);
        }
        if let Some(open) = self.listen.iter().find(|a| !a.ip().is_loopback())
            && !tls
            && !self.behind_tls_proxy
        {
            return Err(ConfigError::OpenWithoutTls(*open));
        }
        if self.max_frame.0 < self.max_message.0 {
            return Err(ConfigError::FrameBelowMessage { frame: self.max_frame, message: self.max_message });
        }
        if self.handshake_timeout.0.is_zero() {
            return Err(ConfigError::NoHandshakeTime);
        }
        if !self.idle_timeout.0.is_zero() && !self.ping_interval.0.is_zero() && self.ping_interval.0 >= self.idle_timeout.0 {
            return Err(ConfigError::PingAfterIdle { ping: self.ping_interval, idle: self.idle_timeout });
        }
        if self.metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError::ShortMetricsToken);
        }
        if self.threads.is_some_and(|n| !(1..=MAX_THREADS).contains(&n)) {
            return Err(ConfigError::Threads);
        }
        if self.busy_poll.0 > Duration::from_millis(10) {
            return Err(ConfigError::BusyPoll(self.busy_poll));
        }
        if !(1..=MAX_WORKERS).contains(&self.workers) {
            return Err(ConfigError::Workers);
        }
        let limits = [
            ("--max-sessions", self.max_sessions),
            ("--max-sessions-per-token", self.max_sessions_per_token),
            ("--max-connections", self.max_connections),
        ];
        for (name, value) in limits {
            if value == Some(0) {
                return Err(ConfigError::Zero(name));
            }
        }
        Ok(())
    }

    /// Serve https (and wss) rather than http.
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some()
    }

    /// What the kernel side is asked to observe.
    pub fn observer(&self) -> ObserverConfig {
        observer_config(self.tcp_states, self.capture)
    }

    /// The per-session limits.
    pub fn session_limits(&self) -> SessionLimits {
        let off_if_zero = |d: Dur| (!d.0.is_zero()).then_some(d.0);
        SessionLimits {
            max_message: usize::try_from(self.max_message.0).unwrap_or(usize::MAX),
            max_pending: self.max_pending,
            busy_poll: self.busy_poll.0,
            budget: BudgetLimits { max_bytes: self.max_bytes.0, connects_per_second: self.max_connects_per_second },
            timers: SessionTimers {
                hello: self.handshake_timeout.0,
                ping_interval: off_if_zero(self.ping_interval),
                idle: off_if_zero(self.idle_timeout),
                lifetime: off_if_zero(self.session_lifetime),
            },
        }
    }
}

/// A size in bytes: `1048576`, `64KiB`, `1MiB`, `2GiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];

impl FromStr for Size {
    type Err = BadValue;

    fn from_str(text: &str) -> Result<Size, BadValue> {
        let text = text.trim();
        let (number, unit) = UNITS
            .iter()
            .find_map(|(name, unit)| text.strip_suffix(name).map(|n| (n, *unit)))
            .unwrap_or((text.strip_suffix('B').unwrap_or(text), 1));
        let n: u64 = number.trim().parse().map_err(|_| BadValue::NotASize(text.to_string()))?;
        n.checked_mul(unit).map(Size).ok_or_else(|| BadValue::TooLarge(text.to_string()))
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, unit) in UNITS {
            if self.0 >= unit && self.0.is_multiple_of(unit) {
                return write!(f, "{}{name}", self.0 / unit);
            }
        }
        write!(f, "{}", self.0)
    }
}

/// A length of time: `100us`, `500ms`, `10s`, `5m`, `4h`, or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl FromStr for Dur {
    type Err = BadValue;

    fn from_str(text: &str) -> Result<Dur, BadValue> {
        let text = text.trim();
        let bad = || BadValue::NotATime(text.to_string());
        let (number, scale) = if let Some(n) = text.strip_suffix("us").or_else(|| text.strip_suffix("µs")) {
            (n, 1e-6)
        } else if let Some(n) = text.strip_suffix("ms") {
            (n, 0.001)
        } else if let Some(n) = text.strip_suffix('s') {
            (n, 1.0)
        } else if let Some(n) = text.strip_suffix('m') {
            (n, 60.0)
        } else if let Some(n) = text.strip_suffix('h') {
            (n, 3600.0)
        } else {
            (text, 1.0)
        };
        let n: f64 = number.trim().parse().map_err(|_| bad())?;
        Duration::try_from_secs_f64(n * scale).map(Dur).map_err(|_| bad())
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let us = self.0.as_micros();
        match ms {
            _ if us == 0 => write!(f, "0s"),
            _ if !us.is_multiple_of(1000) => write!(f, "{us}us"),
            _ if ms.is_multiple_of(3_600_000) => write!(f, "{}h", ms / 3_600_000),
            _ if ms.is_multiple_of(60_000) => write!(f, "{}m", ms / 60_000),
            _ if ms.is_multiple_of(1000) => write!(f, "{}s", ms / 1000),
            _ => write!(f, "{ms}ms"),
        }
    }
}

/// Sizes and times in a file may be numbers (bytes, seconds) or strings with units.
macro_rules! deserialize_from_str_or_number {
    ($ty:ty) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    Int(u64),
                    Float(f64),
                    Text(String),
                }
                let text = match Raw::deserialize(d)? {
                    Raw::Int(n) => n.to_string(),
                    Raw::Float(n) => n.to_string(),
                    Raw::Text(t) => t,
                };
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
deserialize_from_str_or_number!(Size);
deserialize_from_str_or_number!(Dur);

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches, Parser};

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        serve: ServeConfig,
    }

    fn parse(args: &[&str], file: Option<&str>) -> Result<ServeConfig, String> {
        let matches = Cli::command().try_get_matches_from(std::iter::once("socklab").chain(args.iter().copied()));
        let matches = matches.map_err(|e| e.to_string())?;
        let mut config = Cli::from_arg_matches(&matches).map_err(|e| e.to_string())?.serve;
        if let Some(text) = file {
            config.merge_file(text, &matches).map_err(|e| e.to_string())?;
        }
        config.check().map_err(|e| e.to_string())?;
        Ok(config)
    }

    #[test]
    fn defaults_are_safe() {
        let config = ServeConfig::default();
        assert_eq!(config.listen, default_listen());
        assert!(config.listen.iter().all(|a| a.ip().is_loopback()));
        assert!(config.allow_destination.is_empty() && !config.allow_raw && !config.allow_privileged_ports);
        assert!(!config.allow_missing_origin && !config.behind_tls_proxy);
        assert_eq!(config.max_message, Size(1 << 20));
        assert_eq!(config.handshake_timeout, Dur(Duration::from_secs(10)));
        config.check().unwrap();
    }

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let file = "max-sockets = 7\nmax-pending = 9\nidle-timeout = \"2m\"\nmax-frame = \"8MiB\"\nallow-destination = [\"10.0.0.0/8\"]\n";
        let config = parse(&["--max-sockets", "3"], Some(file)).unwrap();
        assert_eq!(config.max_sockets, 3, "the flag wins");
        assert_eq!(config.max_pending, 9, "the file beats the default");
        assert_eq!(config.idle_timeout, Dur(Duration::from_secs(120)));
        assert_eq!(config.max_frame, Size(8 << 20));
        assert_eq!(config.allow_destination, vec!["10.0.0.0/8".parse::<Cidr>().unwrap()]);
        assert_eq!(config.max_sessions_per_token, None, "untouched keys keep their default");
        assert_eq!(config.max_sessions, None, "derived from the open-files limit at start");
    }

    #[test]
    fn a_file_with_an_unknown_or_bad_key_is_refused() {
        assert!(parse(&[], Some("max-sokets = 3")).unwrap_err().contains("max-sokets"));
        assert!(parse(&[], Some("max-sockets = \"many\"")).is_err());
        assert!(parse(&[], Some("allow-destination = [\"10.0.0.0/40\"]")).is_err());
    }

    #[test]
    fn unsafe_or_impossible_combinations_are_refused() {
        let err = parse(&["--listen", "0.0.0.0:7878"], None).unwrap_err();
        assert!(err.contains("--behind-tls-proxy") && err.contains("--tls-cert"), "{err}");
        assert!(parse(&["--listen", "0.0.0.0:7878", "--behind-tls-proxy"], None).is_ok());
        assert!(parse(&["--listen", "0.0.0.0:7878", "--tls-cert", "c.pem", "--tls-key", "k.pem"], None).is_ok());
        assert!(parse(&["--tls-cert", "c.pem"], None).is_err(), "a certificate needs its key");
        assert!(parse(&["--listen", "127.0.0.1:1,[::1]:2"], None).is_err());
        assert!(parse(&["--max-message", "2MiB", "--max-frame", "1MiB"], None).is_err());
        assert!(parse(&["--ping-interval", "60s", "--idle-timeout", "30s"], None).is_err());
        assert!(parse(&["--ping-interval", "0", "--idle-timeout", "30s"], None).is_ok());
        assert!(parse(&["--threads", "0"], None).unwrap_err().contains("--threads"));
        assert!(parse(&["--busy-poll", "50ms"], None).unwrap_err().contains("--busy-poll"));
        let config = parse(&["--threads", "3", "--busy-poll", "0"], None).unwrap();
        assert_eq!((config.threads, config.session_limits().busy_poll), (Some(3), Duration::ZERO));
        assert_eq!(parse(&[], Some("busy-poll = \"250us\"")).unwrap().busy_poll, Dur(Duration::from_micros(250)));
    }

    #[test]
    fn observation_is_asked_of_the_kernel_side() {
        assert_eq!(parse(&[], None).unwrap().observer(), ObserverConfig { tracing: true, capture: true });
        let config = parse(&["--tcp-states", "sampled", "--capture", "0"], None).unwrap();
        assert_eq!(config.observer(), ObserverConfig { tracing: false, capture: false });
        assert_eq!(parse(&[], Some("capture = \"off\"")).unwrap().capture, Capture::Off);
        assert!(parse(&["--tcp-states", "sometimes"], None).is_err());
    }

    #[test]
    fn sizes_and_times_read_and_print_with_units() {
        for (text, bytes) in [("1048576", 1 << 20), ("1MiB", 1 << 20), ("64KiB", 65536), ("2GiB", 2 << 30), ("10B", 10)] {
            assert_eq!(text.parse::<Size>().unwrap(), Size(bytes), "{text}");
        }
        assert_eq!(Size(1 << 20).to_string(), "1MiB");
        assert_eq!(Size(1000).to_string(), "1000");
        assert!("1MB".parse::<Size>().is_err() && "lots".parse::<Size>().is_err());
        for (text, ms) in [("500ms", 500), ("10s", 10_000), ("5m", 300_000), ("4h", 14_400_000), ("1.5", 1500)] {
            assert_eq!(text.parse::<Dur>().unwrap(), Dur(Duration::from_millis(ms)), "{text}");
        }
        assert_eq!(Dur(Duration::from_secs(14_400)).to_string(), "4h");
        assert_eq!(Dur(Duration::from_millis(1500)).to_string(), "1500ms");
        assert_eq!("100us".parse::<Dur>().unwrap(), Dur(Duration::from_micros(100)));
        assert_eq!("50µs".parse::<Dur>().unwrap(), Dur(Duration::from_micros(50)));
        assert_eq!(Dur(Duration::from_micros(100)).to_string(), "100us");
        assert_eq!(Dur(Duration::ZERO).to_string(), "0s");
        assert!("-1s".parse::<Dur>().is_err());
    }
}
