//! `socklab-bench`: one run on one machine measures the same work three ways,
//! through socklab's relay, through websocat (a WebSocket-to-TCP byte pipe) and
//! over direct TCP, and prints ratios (issue 7). Timing never fails the run;
//! socklab failing to do the work (a protocol error, a wrong byte, a failed
//! session) does, since that is a bug. A missing peer is reported and skipped.

mod direct;
mod echo;
mod latency;
mod page;
mod process;
mod profile;
mod relay;
mod report;
mod scale;
mod socklab_client;
mod stats;
mod suite;
mod websocat;
mod ws;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "socklab-bench",
    about = "Measure socklab's relay against websocat and direct TCP on loopback"
)]
struct Cli {
    /// Short run for CI (under ~2 minutes): fewer samples, 32 MiB, 200 sessions, no websocat install.
    #[arg(long)]
    quick: bool,
    /// Concurrent session counts for the scale test [default: 1000,10000; --quick: 200].
    #[arg(long, value_delimiter = ',')]
    sessions: Option<Vec<usize>>,
    /// Leave websocat out.
    #[arg(long)]
    skip_websocat: bool,
    /// Leave out the page size and first-render measurement.
    #[arg(long)]
    skip_page: bool,
    /// Leave out the scale test.
    #[arg(long)]
    skip_scale: bool,
    /// Timed echo round trips per path [default: 20000; --quick: 3000].
    #[arg(long)]
    samples: Option<usize>,
    /// MiB per throughput run [default: 256; --quick: 32].
    #[arg(long)]
    mib: Option<u64>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// The relay binary [default: `socklab` beside this program, rebuilt first when run through cargo].
    #[arg(long)]
    relay: Option<PathBuf>,
    /// The websocat binary [default: from PATH or ~/.cargo/bin].
    #[arg(long)]
    websocat: Option<PathBuf>,
    /// Never `cargo install websocat` (the full run installs it when missing; --quick never does).
    #[arg(long)]
    no_install: bool,
    /// Run one echo path (direct, websocat, script, pipelined, json) in a loop for
    /// --seconds and print the server's pid first, to attach a profiler to.
    #[arg(long, value_name = "PATH")]
    profile: Option<String>,
    /// How long --profile runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Internal: be the echo server process.
    #[arg(long, hide = true)]
    echo_server: bool,
}

/// Everything a run does, from the command line.
#[derive(Debug, Clone)]
pub struct Plan {
    pub quick: bool,
    /// Timed round trips per path, split over `rounds` so the paths take turns.
    pub samples: usize,
    pub rounds: usize,
    /// Uncounted round trips before the first round (a tenth of that before later rounds).
    pub warmup: usize,
    pub payload_len: usize,
    /// Longest one path may spend on round trips (warm-up included), over all rounds.
    pub lane_budget: Duration,
    pub throughput_bytes: u64,
    pub chunk: usize,
    /// Throughput runs per path; the median is reported.
    pub throughput_runs: usize,
    pub sessions: Vec<usize>,
    pub round_trips_per_session: usize,
    /// Sessions opened one after another to time set-up.
    pub setup_sessions: usize,
    pub page_loads: usize,
    pub skip_websocat: bool,
    pub skip_page: bool,
    pub install_websocat: bool,
    pub relay: Option<PathBuf>,
    pub websocat: Option<PathBuf>,
}

impl Plan {
    fn from_cli(cli: &Cli) -> Plan {
        let q = cli.quick;
        let sessions = match (&cli.sessions, cli.skip_scale) {
            (_, true) => Vec::new(),
            (Some(list), false) => list.clone(),
            (None, false) if q => vec![200],
            (None, false) => vec![1_000, 10_000],
        };
        Plan {
            quick: q,
            samples: cli.samples.unwrap_or(if q { 3_000 } else { 20_000 }),
            rounds: if q { 1 } else { 4 },
            warmup: if q { 500 } else { 2_000 },
            payload_len: 64,
            lane_budget: Duration::from_secs(if q { 6 } else { 60 }),
            throughput_bytes: cli.mib.unwrap_or(if q { 32 } else { 256 }) << 20,
            chunk: 64 << 10,
            // Three even in a quick run: one 32 MiB run is over in 60 ms and too noisy alone.
            throughput_runs: 3,
            sessions,
            round_trips_per_session: 10,
            setup_sessions: if q { 100 } else { 1_000 },
            page_loads: if q { 2 } else { 5 },
            skip_websocat: cli.skip_websocat,
            skip_page: cli.skip_page,
            install_websocat: !q && !cli.no_install,
            relay: cli.relay.clone(),
            websocat: cli.websocat.clone(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.echo_server {
        return match echo::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("socklab-bench echo server: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let plan = Plan::from_cli(&cli);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("socklab-bench: no runtime: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &cli.profile {
        return match runtime.block_on(profile::run(&plan, path, cli.seconds)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("socklab-bench: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let outcome = runtime.block_on(suite::run(&plan));
    let results = match outcome {
        Ok(results) => results,
        Err(e) => {
            eprintln!("socklab-bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    let text: String = results.tables.iter().map(|t| t.to_text() + "\n").collect();
    print!("{text}");
    if let Some(path) = &cli.markdown {
        let command = std::iter::once("socklab-bench".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" ");
        let mut md = format!("Command: `{command}`\n\n");
        md.extend(results.tables.iter().map(|t| t.to_markdown()));
        if let Err(e) = std::fs::write(path, md) {
            eprintln!("socklab-bench: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if results.socklab_failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "socklab failed to do the work ({} failure(s)):",
            results.socklab_failures.len()
        );
        for failure in &results.socklab_failures {
            eprintln!("  {failure}");
        }
        ExitCode::FAILURE
    }
}
