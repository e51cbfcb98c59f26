//! The measurements in order, each turned into a table: echo latency,
//! throughput, the page, session set-up, scale; then the machine they ran on
//! and the verdicts against issue 7's goals.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::Plan;
use crate::direct::{self, DirectEcho};
use crate::echo::EchoServer;
use crate::latency::{self, RoundTrip, Samples, Turn};
use crate::page::{self, PageReport};
use crate::process::{self, first_line_of, read_u64};
use crate::relay::{self, RelayProcess};
use crate::report::{Table, ratio};
use crate::scale::{self, ScalePlan, ScaleResult, SocklabOpener, WebsocatOpener};
use crate::socklab_client::{self, CallOrder, RelayTarget, SocklabEcho, Wire};
use crate::stats::{self, LatencySummary, Throughput, micros};
use crate::websocat::{self, Websocat, WebsocatEcho, WebsocatProcess};
use crate::ws::ClientBuffers;

/// What a run produced.
#[derive(Debug, Default)]
pub struct Results {
    pub tables: Vec<Table>,
    /// socklab not doing the work: each one is a bug, and makes the run exit non-zero.
    pub socklab_failures: Vec<String>,
}

/// The figures the verdicts compare.
#[derive(Debug, Default)]
struct Figures {
    latency: Vec<(Path3, LatencySummary)>,
    throughput: Vec<(Path3, f64)>,
    /// (sessions, socklab, websocat)
    scale: Vec<(usize, Option<ScaleResult>, Option<ScaleResult>)>,
    /// The page's bytes as served to a browser (brotli where the relay has it).
    page_served_bytes: Option<usize>,
}

impl Figures {
    fn p50(&self, path: Path3) -> Option<Duration> {
        self.latency
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, s)| s.p50)
    }

    fn mib(&self, path: Path3) -> Option<f64> {
        self.throughput
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, m)| *m)
    }
}

/// The ways the same work is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path3 {
    Socklab,
    SocklabPipelined,
    SocklabJson,
    Websocat,
    Direct,
}

impl Path3 {
    fn label(self) -> &'static str {
        match self {
            Path3::Socklab => "socklab (send, then recv)",
            Path3::SocklabPipelined => "socklab (send+recv pipelined)",
            Path3::SocklabJson => "socklab, JSON only (send, then recv)",
            Path3::Websocat => "websocat",
            Path3::Direct => "direct TCP",
        }
    }

    fn is_socklab(self) -> bool {
        matches!(
            self,
            Path3::Socklab | Path3::SocklabPipelined | Path3::SocklabJson
        )
    }
}

/// Run everything `plan` asks for.
pub async fn run(plan: &Plan) -> anyhow::Result<Results> {
    let max_sessions = plan.sessions.iter().copied().max().unwrap_or(0) as u64;
    // Per session: the client's WebSocket, the relay's WebSocket, its socket and the
    // reactor's dup of it, the echo server's end. Children inherit the limit.
    let nofile = process::raise_nofile(5 * max_sessions + 8192);
    let relay_path = relay::locate(plan.relay.as_deref())?;
    let websocat = match plan.skip_websocat {
        true => Err("left out (--skip-websocat)".to_string()),
        false => websocat::locate(plan.websocat.as_deref(), plan.install_websocat),
    };
    if let Err(why) = &websocat {
        eprintln!("websocat: {why}");
    }
    let echo = EchoServer::start().context("starting the echo server")?;
    let load_before = loadavg();
    let mut results = Results::default();
    let mut figures = Figures::default();

    let main_relay = RelayProcess::start(&relay_path, &relay::host_mode_args(&relay::serve_help(&relay_path)))
        .context("starting the relay")?;
    let target = target_of(&main_relay);
    let peer = match &websocat {
        Ok(program) => match WebsocatProcess::start(program, echo.addr).await {
            Ok(process) => Ok(process),
            Err(e) => Err(format!("did not start: {e:#}")),
        },
        Err(why) => Err(why.clone()),
    };

    let setup = Setup { plan, target: &target, relay_pid: main_relay.pid(), peer: peer.as_ref().ok(), echo: echo.addr };
    eprintln!("echo round trips…");
    let table = latency_section(setup, &mut results, &mut figures).await?;
    results.tables.push(table);
    eprintln!("throughput…");
    let table = throughput_section(setup, &mut results, &mut figures).await?;
    results.tables.push(table);
    if !plan.skip_page {
        eprintln!("page…");
        results.tables.push(
            page_section(
                plan,
                &main_relay,
                &mut results.socklab_failures,
                &mut figures,
            )
            .await,
        );
    }
    drop(peer);
    drop(main_relay);

    eprintln!("session set-up…");
    results
        .tables
        .push(setup_section(plan, &relay_path, &mut results.socklab_failures).await);
    if !plan.sessions.is_empty() {
        results.tables.push(
            scale_section(
                plan,
                nofile,
                &relay_path,
                websocat.as_ref().ok(),
                echo.addr,
                &mut results.socklab_failures,
                &mut figures,
            )
            .await,
        );
    }

    let machine = machine_table(plan, &relay_path, &websocat, nofile, &load_before);
    results.tables.insert(0, machine);
    results
        .tables
        .push(verdicts(&figures, &peer_note(&websocat)));
    Ok(results)
}

fn target_of(relay: &RelayProcess) -> RelayTarget {
    RelayTarget {
        addr: ([127, 0, 0, 1], relay.port).into(),
        token: relay.token.clone(),
    }
}

/// CPU time spent by the server process and by the bench's client thread over one run.
#[derive(Debug, Clone, Copy, Default)]
struct CpuSplit {
    server: Duration,
    client: Duration,
}

impl CpuSplit {
    fn start(server_pid: Option<u32>) -> CpuSplit {
        CpuSplit {
            server: server_pid.map(process::cpu_time).unwrap_or_default(),
            client: process::this_thread_cpu_time(),
        }
    }

    fn stop(self, server_pid: Option<u32>) -> CpuSplit {
        CpuSplit {
            server: server_pid
                .map(process::cpu_time)
                .unwrap_or_default()
                .saturating_sub(self.server),
            client: process::this_thread_cpu_time().saturating_sub(self.client),
        }
    }
}

/// One path's connection in the latency run, and what became of it.
struct Lane<C> {
    path: Path3,
    /// The relay or websocat process, whose CPU time is counted.
    server_pid: Option<u32>,
    client: Option<C>,
    samples: Samples,
    /// Why there are no (or no more) figures.
    problem: Option<String>,
}

impl<C: RoundTrip> Lane<C> {
    fn new(path: Path3, server_pid: Option<u32>, opened: Result<C, String>) -> Lane<C> {
        let (client, problem) = match opened {
            Ok(client) => (Some(client), None),
            Err(why) => (None, Some(why)),
        };
        Lane {
            path,
            server_pid,
            client,
            samples: Samples::default(),
            problem,
        }
    }

    async fn take_turn(&mut self, plan: &Plan, warmup: usize, count: usize) {
        let Some(client) = self.client.as_mut() else {
            return;
        };
        let turn = Turn {
            payload_len: plan.payload_len,
            warmup,
            count,
            deadline: Instant::now() + plan.lane_budget / plan.rounds as u32,
            server_pid: self.server_pid,
        };
        if let Err(e) = latency::measure(client, turn, &mut self.samples).await {
            self.problem = Some(format!("failed: {e:#}"));
            self.client = None;
        }
    }

    /// The row, and the summary when the lane completed.
    fn finish(
        &self,
        wanted: usize,
        failures: &mut Vec<String>,
    ) -> (Vec<String>, Option<LatencySummary>) {
        if let Some(problem) = &self.problem {
            if self.path.is_socklab() {
                failures.push(format!(
                    "echo round trips, {}: {problem}",
                    self.path.label()
                ));
            }
            let mut row = vec![self.path.label().into(), problem.clone()];
            row.resize(6, String::new());
            return (row, None);
        }
        if self.samples.durations.is_empty() {
            let mut row = vec![
                self.path.label().into(),
                "no round trip within the time budget".into(),
            ];
            row.resize(6, String::new());
            return (row, None);
        }
        let s = self.samples.summary();
        let n = self.samples.durations.len();
        let label = if self.samples.durations.len() < wanted {
            format!(
                "{} [{} samples: time budget]",
                self.path.label(),
                self.samples.durations.len()
            )
        } else {
            self.path.label().into()
        };
        let row = vec![
            label,
            micros(s.p50),
            micros(s.p99),
            format!("{:.0}", s.round_trips_per_sec),
            match self.server_pid {
                Some(_) => per_round_trip(self.samples.server_cpu, n),
                None => String::new(),
            },
            per_round_trip(self.samples.client_cpu, n),
        ];
        (row, Some(s))
    }
}

/// What the echo and throughput sections measure against.
#[derive(Clone, Copy)]
struct Setup<'a> {
    plan: &'a Plan,
    target: &'a RelayTarget,
    relay_pid: u32,
    peer: Option<&'a WebsocatProcess>,
    echo: SocketAddr,
}

async fn latency_section(setup: Setup<'_>, results: &mut Results, figures: &mut Figures) -> anyhow::Result<Table> {
    let Setup { plan, target, relay_pid, peer, echo } = setup;
    let err = |e: anyhow::Error| format!("failed: {e:#}");
    let mut direct = Lane::new(
        Path3::Direct,
        None,
        DirectEcho::open(echo).await.map_err(err),
    );
    let peer_client = match peer {
        Some(p) => WebsocatEcho::open(p.addr, ClientBuffers::Default)
            .await
            .map_err(err),
        None => Err("not measured".into()),
    };
    let mut websocat = Lane::new(Path3::Websocat, peer.map(WebsocatProcess::pid), peer_client);
    let open = |wire, order| SocklabEcho::open(target, echo, ClientBuffers::Default, wire, order);
    let mut socklab = Lane::new(
        Path3::Socklab,
        Some(relay_pid),
        open(Wire::Binary, CallOrder::ScriptOrder).await.map_err(err),
    );
    let mut pipelined = Lane::new(
        Path3::SocklabPipelined,
        Some(relay_pid),
        open(Wire::Binary, CallOrder::Pipelined).await.map_err(err),
    );
    let mut json = Lane::new(
        Path3::SocklabJson,
        Some(relay_pid),
        open(Wire::Json, CallOrder::ScriptOrder).await.map_err(err),
    );

    // The paths take turns round by round, so a machine that gets busier part-way
    // through weighs on all of them alike.
    let per_round = plan.samples.div_ceil(plan.rounds);
    for round in 0..plan.rounds {
        let warmup = if round == 0 {
            plan.warmup
        } else {
            plan.warmup / 10
        };
        direct.take_turn(plan, warmup, per_round).await;
        websocat.take_turn(plan, warmup, per_round).await;
        socklab.take_turn(plan, warmup, per_round).await;
        pipelined.take_turn(plan, warmup, per_round).await;
        json.take_turn(plan, warmup, per_round).await;
    }

    let mut table = Table::new(
        &format!(
            "Echo round trip, {} bytes, one connection ({} timed round trips per path)",
            plan.payload_len,
            per_round * plan.rounds
        ),
        &[
            "path",
            "p50",
            "p99",
            "round trips/s",
            "server CPU/rt",
            "client CPU/rt",
            "p50 vs websocat",
            "p50 vs direct",
        ],
    );
    let mut rows = Vec::new();
    for (row, summary) in [
        direct.finish(per_round * plan.rounds, &mut results.socklab_failures),
        websocat.finish(per_round * plan.rounds, &mut results.socklab_failures),
        socklab.finish(per_round * plan.rounds, &mut results.socklab_failures),
        pipelined.finish(per_round * plan.rounds, &mut results.socklab_failures),
        json.finish(per_round * plan.rounds, &mut results.socklab_failures),
    ]
    .into_iter()
    .zip([
        Path3::Direct,
        Path3::Websocat,
        Path3::Socklab,
        Path3::SocklabPipelined,
        Path3::SocklabJson,
    ])
    .map(|((row, summary), path)| (row, summary.map(|s| (path, s))))
    {
        if let Some(found) = summary {
            figures.latency.push(found);
        }
        rows.push(row);
    }
    for (mut row, path) in rows.into_iter().zip([
        Path3::Direct,
        Path3::Websocat,
        Path3::Socklab,
        Path3::SocklabPipelined,
        Path3::SocklabJson,
    ]) {
        let mine = figures.p50(path).map(|d| d.as_secs_f64());
        let vs = |other: Path3| match (mine, figures.p50(other)) {
            (Some(a), Some(b)) if path != other => ratio(a, b.as_secs_f64()),
            _ => String::new(),
        };
        row.push(vs(Path3::Websocat));
        row.push(vs(Path3::Direct));
        table.row(row);
    }
    table.note(format!(
        "{} rounds, paths taking turns; {} warm-up round trips first. socklab: a `send` call then a `recv` call with MSG_WAITALL, \
         as binary frames (subprotocol socklab.bin.v1); pipelined: both calls written before either answer is read; \
         JSON only: the same calls as JSON text, as the page sends them. websocat and direct: the bytes themselves. \
         CPU/rt: CPU time per round trip of the server process (relay or websocat, all threads) and of the bench's \
         client thread.",
        plan.rounds, plan.warmup
    ));
    Ok(table)
}

async fn throughput_section(setup: Setup<'_>, results: &mut Results, figures: &mut Figures) -> anyhow::Result<Table> {
    let Setup { plan, target, relay_pid, peer, echo } = setup;
    let paths = [
        Path3::Direct,
        Path3::Websocat,
        Path3::Socklab,
        Path3::SocklabJson,
    ];
    let mut runs: Vec<Result<Vec<(Throughput, CpuSplit)>, String>> =
        vec![Ok(Vec::new()); paths.len()];
    if peer.is_none() {
        runs[1] = Err("not measured".into());
    }
    for _ in 0..plan.throughput_runs {
        for (i, path) in paths.iter().enumerate() {
            let Ok(done) = &mut runs[i] else { continue };
            let (bytes, chunk) = (plan.throughput_bytes, plan.chunk);
            let server_pid = match path {
                Path3::Direct => None,
                Path3::Websocat => peer.map(WebsocatProcess::pid),
                _ => Some(relay_pid),
            };
            let cpu = CpuSplit::start(server_pid);
            let outcome = match path {
                Path3::Direct => direct::throughput(echo, bytes, chunk).await,
                Path3::Websocat => match peer {
                    Some(p) => websocat::throughput(p.addr, bytes, chunk).await,
                    None => continue,
                },
                Path3::SocklabJson => {
                    socklab_client::throughput(target, echo, Wire::Json, bytes, chunk).await
                }
                _ => socklab_client::throughput(target, echo, Wire::Binary, bytes, chunk).await,
            };
            match outcome {
                Ok(t) => done.push((t, cpu.stop(server_pid))),
                Err(e) => runs[i] = Err(format!("failed: {e:#}")),
            }
        }
    }
    let mut medians = Vec::new();
    for (path, run) in paths.iter().zip(&runs) {
        match run {
            Ok(list) if !list.is_empty() => {
                let mut mibs: Vec<f64> = list.iter().map(|(t, _)| t.mib_per_sec()).collect();
                mibs.sort_by(f64::total_cmp);
                let median = mibs[mibs.len() / 2];
                figures.throughput.push((*path, median));
                let mib_moved: f64 = list
                    .iter()
                    .map(|(t, _)| t.bytes as f64 / (1024.0 * 1024.0))
                    .sum();
                let server: Duration = list.iter().map(|(_, c)| c.server).sum();
                let client: Duration = list.iter().map(|(_, c)| c.client).sum();
                let per_mib = |d: Duration| {
                    format!(
                        "{:.2} ms",
                        d.as_secs_f64() * 1e3 / mib_moved.max(f64::EPSILON)
                    )
                };
                let cpu = (
                    if path.is_socklab() || *path == Path3::Websocat {
                        per_mib(server)
                    } else {
                        String::new()
                    },
                    per_mib(client),
                );
                medians.push((*path, Ok(median), mibs, cpu));
            }
            Ok(_) => medians.push((
                *path,
                Err("no run".to_string()),
                Vec::new(),
                Default::default(),
            )),
            Err(why) => {
                if path.is_socklab() {
                    results.socklab_failures.push(format!("throughput: {why}"));
                }
                medians.push((*path, Err(why.clone()), Vec::new(), Default::default()));
            }
        }
    }
    let mib = plan.throughput_bytes >> 20;
    let mut table = Table::new(
        &format!(
            "Throughput: {mib} MiB echoed in {} KiB chunks, one connection",
            plan.chunk >> 10
        ),
        &[
            "path",
            "MiB/s (median)",
            "runs",
            "server CPU/MiB",
            "client CPU/MiB",
            "vs websocat",
            "vs direct",
        ],
    );
    for (path, median, mibs, (server_cpu, client_cpu)) in &medians {
        let label = match path {
            Path3::Socklab => "socklab (sendall lane + recv lane)",
            Path3::SocklabJson => "socklab, JSON only (the same lanes)",
            _ => path.label(),
        };
        match median {
            Ok(m) => {
                let vs = |other: Path3| match figures.mib(other) {
                    Some(b) if other != *path => ratio(*m, b),
                    _ => String::new(),
                };
                let all = mibs
                    .iter()
                    .map(|m| format!("{m:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                table.row(vec![
                    label.into(),
                    format!("{m:.1}"),
                    all,
                    server_cpu.clone(),
                    client_cpu.clone(),
                    vs(Path3::Websocat),
                    vs(Path3::Direct),
                ]);
            }
            Err(why) => {
                let mut row = vec![label.into(), why.clone()];
                row.resize(7, String::new());
                table.row(row);
            }
        }
    }
    table.note(
        "MiB/s counts bytes that came back checked (each also went out once). socklab: one session, one socket; one lane \
         loops sendall(64 KiB), the other recv(64 KiB, MSG_WAITALL), one call in flight each (two sendalls in flight on one \
         socket could interleave). websocat and direct: a writer and a reader running concurrently.",
    );
    Ok(table)
}

async fn page_section(
    plan: &Plan,
    relay: &RelayProcess,
    failures: &mut Vec<String>,
    figures: &mut Figures,
) -> Table {
    let mut table = Table::new(
        "The page as served and its time to first render",
        &["file", "bytes", "gzip bytes", "as served to Chromium (br)"],
    );
    match page::measure(relay.port, &relay.page_url(), plan.page_loads).await {
        Ok(PageReport::Placeholder) => {
            table.note("placeholder page: the relay was built with SOCKLAB_SKIP_FRONTEND=1; build it without to measure the page");
        }
        Ok(PageReport::Measured {
            files,
            first_render,
        }) => {
            let (mut raw, mut gz, mut br) = (0, 0, 0);
            for f in &files {
                raw += f.identity_bytes;
                gz += f.gzip_bytes;
                br += f.br_bytes;
                table.row(vec![
                    f.path.clone(),
                    kib(f.identity_bytes),
                    kib(f.gzip_bytes),
                    kib(f.br_bytes),
                ]);
            }
            table.row(vec!["total".into(), kib(raw), kib(gz), kib(br)]);
            figures.page_served_bytes = Some(br);
            match first_render {
                Ok(mut times) => {
                    times.sort();
                    let p50 = stats::percentile(&times, 0.5);
                    let all = times
                        .iter()
                        .map(|t| format!("{:.0}", t.as_secs_f64() * 1e3))
                        .collect::<Vec<_>>()
                        .join(", ");
                    table.note(format!(
                        "time to first render in headless Chromium, HTTP cache off, {} loads: median {:.0} ms (each: {all} ms), \
                         from navigation start to the first frame after the app put content in <body>",
                        times.len(),
                        p50.as_secs_f64() * 1e3
                    ));
                }
                Err(why)
                    if why.contains("no chromium")
                        || why.contains("starting chromium")
                        || why.contains("DevTools address") =>
                {
                    table.note(format!("time to first render not measured: {why}"));
                }
                Err(why) => {
                    failures.push(format!("page: {why}"));
                    table.note(format!("time to first render: {why}"));
                }
            }
        }
        Err(e) => {
            failures.push(format!("page: {e:#}"));
            table.note(format!("failed: {e:#}"));
        }
    }
    table
}

async fn setup_section(plan: &Plan, relay_path: &Path, failures: &mut Vec<String>) -> Table {
    let mut table = Table::new(
        &format!(
            "Session set-up, {} sessions one after another",
            plan.setup_sessions
        ),
        &[
            "sandbox",
            "mode in hello",
            "hello p50",
            "hello p99",
            "first socket() p50",
            "first socket() p99",
        ],
    );
    let modes = relay::sandbox_modes(&relay::serve_help(relay_path));
    let runs: Vec<(String, Vec<String>)> = match &modes {
        Some(modes) => modes
            .iter()
            .map(|m| (m.clone(), vec!["--sandbox".to_string(), m.clone()]))
            .collect(),
        None => vec![("default (no --sandbox flag)".to_string(), Vec::new())],
    };
    for (i, (label, args)) in runs.iter().enumerate() {
        let outcome = async {
            let relay = RelayProcess::start(relay_path, args)?;
            socklab_client::setup_times(&target_of(&relay), plan.setup_sessions).await
        }
        .await;
        match outcome {
            Ok(mut times) => {
                times.hello.sort();
                times.first_socket.sort();
                let mode = times
                    .mode
                    .map(|m| format!("{m:?}").to_lowercase())
                    .unwrap_or_default();
                table.row(vec![
                    label.clone(),
                    mode,
                    micros(stats::percentile(&times.hello, 0.5)),
                    micros(stats::percentile(&times.hello, 0.99)),
                    micros(stats::percentile(&times.first_socket, 0.5)),
                    micros(stats::percentile(&times.first_socket, 0.99)),
                ]);
            }
            Err(e) => {
                // The default mode must work; another one may be impossible on this machine.
                if i == 0 || modes.is_none() {
                    failures.push(format!("session set-up ({label}): {e:#}"));
                }
                table.row(vec![
                    label.clone(),
                    format!("failed: {e:#}"),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
            }
        }
    }
    if modes.is_none() {
        table.row(vec![
            "namespace".into(),
            "TODO: this relay has no --sandbox flag yet".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    table.note("from TCP connect to the relay's hello, and on to the answer of the session's first socket() call");
    table
}

async fn scale_section(
    plan: &Plan,
    nofile: (u64, u64),
    relay_path: &Path,
    websocat: Option<&Websocat>,
    echo: SocketAddr,
    failures: &mut Vec<String>,
    figures: &mut Figures,
) -> Table {
    let mut table = Table::new(
        &format!(
            "Scale: N sessions open at once, each then making {} echo round trips",
            plan.round_trips_per_session
        ),
        &[
            "path",
            "sessions",
            "failures",
            "open all",
            "complete",
            "server RSS idle",
            "server RSS loaded",
            "per session",
            "server fds",
            "per session vs websocat",
        ],
    );
    let help = relay::serve_help(relay_path);
    for &n in &plan.sessions {
        let scale_plan = ScalePlan {
            sessions: n,
            round_trips: plan.round_trips_per_session,
            open_concurrency: 256,
            timeout: Duration::from_secs(120),
        };
        eprintln!("scale: {n} sessions…");
        let socklab = match RelayProcess::start(relay_path, &relay::scale_args(&help, n, nofile.1)) {
            Ok(relay) => {
                let opener = SocklabOpener {
                    target: target_of(&relay),
                    echo,
                };
                Ok(scale::run(&opener, relay.pid(), &scale_plan).await)
            }
            Err(e) => Err(format!("failed: {e:#}")),
        };
        let peer = match websocat {
            Some(program) => match WebsocatProcess::start(program, echo).await {
                Ok(process) => Ok(scale::run(
                    &WebsocatOpener { addr: process.addr },
                    process.pid(),
                    &scale_plan,
                )
                .await),
                Err(e) => Err(format!("did not start: {e:#}")),
            },
            None => Err("not measured".to_string()),
        };
        let peer_per_session = peer.as_ref().ok().map(ScaleResult::kib_per_session);
        for (label, outcome, is_socklab) in
            [("socklab", &socklab, true), ("websocat", &peer, false)]
        {
            match outcome {
                Ok(r) => {
                    // Past one process's descriptor limit a relay without --workers is expected to
                    // fail, and that is reported, not a bug.
                    let within_limit = help.contains("--workers <") || nofile.1 >= 2 * n as u64 + 64;
                    if is_socklab && r.failures > 0 && within_limit {
                        failures.push(format!(
                            "scale {n}: {} of {n} sessions failed: {}",
                            r.failures,
                            r.errors.join("; ")
                        ));
                    }
                    let vs = match (is_socklab, peer_per_session) {
                        (true, Some(theirs)) => ratio(r.kib_per_session(), theirs),
                        _ => String::new(),
                    };
                    table.row(vec![
                        label.into(),
                        n.to_string(),
                        r.failures.to_string(),
                        format!("{:.2} s", r.open_time.as_secs_f64()),
                        format!("{:.2} s", r.total_time.as_secs_f64()),
                        format!("{:.1} MiB", r.before.rss_kib as f64 / 1024.0),
                        format!("{:.1} MiB", r.loaded_rss_kib as f64 / 1024.0),
                        format!("{:.1} KiB", r.kib_per_session()),
                        r.fds.to_string(),
                        vs,
                    ]);
                    if !r.errors.is_empty() {
                        table.note(format!("{label}, {n} sessions: {}", r.errors.join("; ")));
                    }
                }
                Err(why) => {
                    if is_socklab {
                        failures.push(format!("scale {n}: {why}"));
                    }
                    let mut row = vec![label.to_string(), n.to_string(), why.clone()];
                    row.resize(10, String::new());
                    table.row(row);
                }
            }
        }
        figures.scale.push((n, socklab.ok(), peer.ok()));
    }
    let largest = plan.sessions.iter().copied().max().unwrap_or(0);
    // A session holds at least two descriptors in the server (its WebSocket and its TCP socket).
    let needed = 2 * largest as u64 + 64;
    if nofile.1 < needed {
        table.note(format!(
            "the open-files limit here is {} (hard) and cannot be raised without CAP_SYS_RESOURCE; {largest} sessions need \
             at least {needed} descriptors (WebSocket + TCP socket each): one process cannot hold them, so the relay runs \
             with --workers (processes on one port, SO_REUSEPORT) and websocat, one process, meets the limit",
            nofile.1
        ));
    }
    let raised = relay::scale_args(&help, largest, nofile.1);
    if !raised.is_empty() {
        table.note(format!(
            "the relay's options for N = {largest}: {}; memory and fds are summed over its processes",
            raised.join(" ")
        ));
    }
    table.note(
        "each process is fresh for each N. socklab session: WebSocket, hello, socket(), connect() to the echo server; \
         websocat connection: WebSocket plus websocat's own TCP connection to the echo server (made by a first round trip). \
         Sessions are opened 256 at a time and all held open; then all make their round trips at once. Per session = \
         (largest RSS with all open − RSS before) / sessions opened.",
    );
    table
}

fn verdicts(figures: &Figures, peer_note: &str) -> Table {
    let mut table = Table::new(
        "Against issue 7's goals (same run, same machine)",
        &["goal", "socklab", "websocat", "verdict"],
    );
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met".to_string(),
        Some(false) => "NOT met".to_string(),
        None => "not measured".to_string(),
    };
    for (path, goal) in [
        (Path3::Socklab, "p50 echo round trip below websocat's (send, then recv)"),
        (Path3::SocklabPipelined, "p50 echo round trip below websocat's (send+recv pipelined)"),
    ] {
        let (ours, theirs) = (figures.p50(path), figures.p50(Path3::Websocat));
        table.row(vec![
            goal.into(),
            ours.map(micros).unwrap_or_default(),
            theirs.map(micros).unwrap_or_default(),
            verdict(ours.zip(theirs).map(|(a, b)| a < b)),
        ]);
    }
    let (ours, theirs) = (figures.mib(Path3::Socklab), figures.mib(Path3::Websocat));
    table.row(vec![
        "throughput above websocat's".into(),
        ours.map(|m| format!("{m:.1} MiB/s")).unwrap_or_default(),
        theirs.map(|m| format!("{m:.1} MiB/s")).unwrap_or_default(),
        verdict(ours.zip(theirs).map(|(a, b)| a > b)),
    ]);
    let big = figures
        .scale
        .iter()
        .filter(|(n, ..)| *n >= 10_000)
        .max_by_key(|(n, ..)| *n);
    let (label, ours, theirs, met) = match big {
        Some((n, ours, theirs)) => (
            format!("{n} concurrent sessions, zero failures"),
            ours.as_ref()
                .map(|r| format!("{} failed", r.failures))
                .unwrap_or_else(|| "failed to run".into()),
            theirs
                .as_ref()
                .map(|r| format!("{} failed", r.failures))
                .unwrap_or_default(),
            Some(ours.as_ref().is_some_and(|r| r.failures == 0)),
        ),
        None => (
            "10000 concurrent sessions, zero failures".into(),
            String::new(),
            String::new(),
            None,
        ),
    };
    table.row(vec![label, ours, theirs, verdict(met)]);
    let both = figures
        .scale
        .iter()
        .filter(|(_, a, b)| a.is_some() && b.is_some())
        .max_by_key(|(n, ..)| *n);
    match both {
        Some((n, Some(ours), Some(theirs))) => table.row(vec![
            format!("memory per session below websocat's per connection ({n})"),
            format!("{:.1} KiB", ours.kib_per_session()),
            format!("{:.1} KiB", theirs.kib_per_session()),
            verdict(Some(ours.kib_per_session() < theirs.kib_per_session())),
        ]),
        _ => table.row(vec![
            "memory per session below websocat's per connection".into(),
            String::new(),
            String::new(),
            verdict(None),
        ]),
    }
    let page = figures.page_served_bytes;
    table.row(vec![
        "page under 200 KiB compressed as served (product.md aim)".into(),
        page.map(kib).unwrap_or_default(),
        String::new(),
        verdict(page.map(|b| b < 200 * 1024)),
    ]);
    table.note("peer figures quoted in the issue (another run, same kind of machine): direct TCP p50 29 µs, 639 MiB/s; websocat 1.14 p50 98 µs, 166 MiB/s, ~107 KiB per connection; websockify 0.13 p50 182 µs, 104 MiB/s");
    if !peer_note.is_empty() {
        table.note(peer_note.to_string());
    }
    table.note("timing never fails this run; socklab failing to do the work does (exit status 1)");
    table
}

fn peer_note(websocat: &Result<Websocat, String>) -> String {
    match websocat {
        Ok(_) => String::new(),
        Err(why) => format!("websocat unavailable: {why}"),
    }
}

fn machine_table(
    plan: &Plan,
    relay_path: &Path,
    websocat: &Result<Websocat, String>,
    nofile: (u64, u64),
    load_before: &str,
) -> Table {
    let mut table = Table::new("Machine and run", &["what", "value"]);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")
                    .map(|v| v.trim().trim_end_matches("kB").trim().to_string())
            })
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let git =
        first_line_of("git", &["rev-parse", "--short", "HEAD"]).filter(|s| !s.contains("fatal"));
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .output()
        .ok()
        .map(|o| {
            o.stdout
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count()
        })
        .unwrap_or(0);
    let rows = [
        ("cores (nproc)", cores.to_string()),
        ("CPU", cpu),
        ("memory", mem_gib),
        ("kernel", kernel),
        (
            "rustc",
            first_line_of("rustc", &["--version"]).unwrap_or_default(),
        ),
        (
            "relay",
            format!(
                "{} ({})",
                first_line_of(&relay_path.to_string_lossy(), &["--version"]).unwrap_or_default(),
                relay_path.display()
            ),
        ),
        (
            "websocat",
            match websocat {
                Ok(w) => format!("{} ({})", w.version, w.path.display()),
                Err(why) => why.clone(),
            },
        ),
        (
            "source",
            match git {
                Some(commit) if dirty > 0 => format!("{commit} + {dirty} uncommitted change(s)"),
                Some(commit) => commit,
                None => "not a git checkout".into(),
            },
        ),
        (
            "load average before / after",
            format!("{load_before} / {}", loadavg()),
        ),
        (
            "open files limit (soft / hard)",
            format!("{} / {}", nofile.0, nofile.1),
        ),
        (
            "fs.file-max / fs.nr_open",
            format!(
                "{} / {}",
                read_u64("/proc/sys/fs/file-max").unwrap_or(0),
                read_u64("/proc/sys/fs/nr_open").unwrap_or(0)
            ),
        ),
        (
            "mode",
            if plan.quick {
                "quick".into()
            } else {
                "full".into()
            },
        ),
    ];
    for (what, value) in rows {
        table.row(vec![what.into(), value]);
    }
    table.note(
        "bench client: one thread (tokio current_thread); echo server: a child process on one thread; relay and websocat: their own \
         processes with their default runtimes; all on loopback",
    );
    table
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// CPU time per round trip, in µs.
fn per_round_trip(cpu: Duration, round_trips: usize) -> String {
    format!(
        "{:.1} µs",
        cpu.as_secs_f64() * 1e6 / round_trips.max(1) as f64
    )
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
