//! `--profile PATH`: one echo path in a loop for a while, printing the server's
//! pid first, so a profiler (`perf record -p`, `perf stat -p`) can be attached to
//! exactly the work one row of the echo table measures.

use std::time::{Duration, Instant};

use anyhow::Context;

use crate::direct::DirectEcho;
use crate::echo::EchoServer;
use crate::latency::{self, RoundTrip, Samples, Turn};
use crate::relay::{self, RelayProcess};
use crate::socklab_client::{CallOrder, RelayTarget, SocklabEcho, Wire};
use crate::websocat::{self, WebsocatEcho, WebsocatProcess};
use crate::ws::ClientBuffers;

/// The echo paths `--profile` takes.
pub const PATHS: [&str; 5] = ["direct", "websocat", "script", "pipelined", "json"];

/// Loop the echo round trip of `path` for `seconds`, then print its p50 and p99.
pub async fn run(plan: &crate::Plan, path: &str, seconds: u64) -> anyhow::Result<()> {
    let echo = EchoServer::start().context("starting the echo server")?;
    let relay_path = relay::locate(plan.relay.as_deref())?;
    let relay = RelayProcess::start(&relay_path, &relay::host_mode_args(&relay::serve_help(&relay_path)))?;
    let target = RelayTarget { addr: ([127, 0, 0, 1], relay.port).into(), token: relay.token.clone() };
    let socklab = |wire, order| SocklabEcho::open(&target, echo.addr, ClientBuffers::Default, wire, order);
    let mut peer = None;
    let (mut client, server_pid): (Box<dyn FnLane>, Option<u32>) = match path {
        "direct" => (Box::new(DirectEcho::open(echo.addr).await?), None),
        "websocat" => {
            let program = websocat::locate(plan.websocat.as_deref(), false).map_err(anyhow::Error::msg)?;
            let process = peer.insert(WebsocatProcess::start(&program, echo.addr).await?);
            (Box::new(WebsocatEcho::open(process.addr, ClientBuffers::Default).await?), Some(process.pid()))
        }
        "script" => (Box::new(socklab(Wire::Binary, CallOrder::ScriptOrder).await?), Some(relay.pid())),
        "pipelined" => (Box::new(socklab(Wire::Binary, CallOrder::Pipelined).await?), Some(relay.pid())),
        "json" => (Box::new(socklab(Wire::Json, CallOrder::ScriptOrder).await?), Some(relay.pid())),
        other => anyhow::bail!("no echo path {other:?}; one of {}", PATHS.join(", ")),
    };
    match server_pid {
        Some(pid) => eprintln!("profiling {path}: server pid {pid}, {seconds} s"),
        None => eprintln!("profiling {path}: no server process, {seconds} s"),
    }
    let mut samples = Samples::default();
    let turn = Turn {
        payload_len: plan.payload_len,
        warmup: plan.warmup,
        // More than any path makes in the time; the deadline ends the loop.
        count: seconds as usize * 200_000,
        deadline: Instant::now() + Duration::from_secs(seconds),
        server_pid,
    };
    client.measure(turn, &mut samples).await?;
    let summary = samples.summary();
    let n = samples.durations.len().max(1) as u32;
    println!(
        "{path}: {} round trips, p50 {:.1} µs, p99 {:.1} µs, server CPU/rt {:.1} µs, client CPU/rt {:.1} µs",
        samples.durations.len(),
        summary.p50.as_secs_f64() * 1e6,
        summary.p99.as_secs_f64() * 1e6,
        (samples.server_cpu / n).as_secs_f64() * 1e6,
        (samples.client_cpu / n).as_secs_f64() * 1e6,
    );
    drop(peer);
    Ok(())
}

/// A lane behind a box: `RoundTrip` has an async method, so it is not object-safe itself.
trait FnLane {
    fn measure<'a>(
        &'a mut self,
        turn: Turn,
        into: &'a mut Samples,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + 'a>>;
}

impl<T: RoundTrip> FnLane for T {
    fn measure<'a>(
        &'a mut self,
        turn: Turn,
        into: &'a mut Samples,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + 'a>> {
        Box::pin(latency::measure(self, turn, into))
    }
}
