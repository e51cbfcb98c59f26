//! Many sessions at once: open N (each a WebSocket plus, for socklab, a TCP
//! socket connected to the echo server), hold them all open, then let every one
//! make its round trips concurrently. Counts failures and the server's memory.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::join_all;

use crate::latency::RoundTrip;
use crate::process::{self, Memory};
use crate::socklab_client::{CallOrder, RelayTarget, SocklabEcho, Wire};
use crate::stats::stamp;
use crate::websocat::WebsocatEcho;
use crate::ws::ClientBuffers;

/// Opens one session of the path under test.
pub trait Opener {
    type Session: RoundTrip;
    async fn open(&self) -> anyhow::Result<Self::Session>;
}

/// socklab: WebSocket, hello, socket() and connect() to the echo server.
pub struct SocklabOpener {
    pub target: RelayTarget,
    pub echo: SocketAddr,
}

impl Opener for SocklabOpener {
    type Session = SocklabEcho;
    async fn open(&self) -> anyhow::Result<SocklabEcho> {
        SocklabEcho::open(
            &self.target,
            self.echo,
            ClientBuffers::Small,
            Wire::Binary,
            CallOrder::ScriptOrder,
        )
        .await
    }
}

/// websocat: a WebSocket, which websocat pairs with its own TCP connection to the echo server.
pub struct WebsocatOpener {
    pub addr: SocketAddr,
}

impl Opener for WebsocatOpener {
    type Session = WebsocatEcho;
    async fn open(&self) -> anyhow::Result<WebsocatEcho> {
        let mut session = WebsocatEcho::open(self.addr, ClientBuffers::Small).await?;
        // websocat dials the echo server only once the WebSocket is up; one round trip
        // makes sure that leg exists before memory is read, as socklab's connect() does.
        session.round_trip(&[0u8; 64]).await?;
        Ok(session)
    }
}

/// How many sessions and what each does.
#[derive(Debug, Clone, Copy)]
pub struct ScalePlan {
    pub sessions: usize,
    pub round_trips: usize,
    /// Handshakes in progress at once while opening (a connect storm of 10,000 would only
    /// measure the listen backlog).
    pub open_concurrency: usize,
    /// Longest a session may take to open, and the round-trip phase as a whole.
    pub timeout: Duration,
}

/// What one scale run saw.
#[derive(Debug, Clone, Default)]
pub struct ScaleResult {
    pub sessions: usize,
    pub failures: usize,
    /// A few distinct failure messages.
    pub errors: Vec<String>,
    /// Opening all sessions.
    pub open_time: Duration,
    /// Opening plus every session's round trips.
    pub total_time: Duration,
    /// The server before the first session.
    pub before: Memory,
    /// The server's largest RSS with every session open (read after opening and after the round trips).
    pub loaded_rss_kib: u64,
    /// The server's open fds with every session open.
    pub fds: usize,
}

impl ScaleResult {
    /// Server memory per session: loaded RSS minus the idle RSS, over the sessions that opened.
    pub fn kib_per_session(&self) -> f64 {
        let opened = self.sessions.saturating_sub(self.failures).max(1);
        self.loaded_rss_kib.saturating_sub(self.before.rss_kib) as f64 / opened as f64
    }

    fn fail(&mut self, error: &anyhow::Error) {
        self.failures += 1;
        let text = format!("{error:#}");
        if self.errors.len() < 3 && !self.errors.contains(&text) {
            self.errors.push(text);
        }
    }
}

/// Run `plan` against the path `opener` opens, watching the server process `pid`
/// (with its child processes, if it has any).
pub async fn run(opener: &impl Opener, pid: u32, plan: &ScalePlan) -> ScaleResult {
    let mut result = ScaleResult {
        sessions: plan.sessions,
        before: process::tree_memory(pid).unwrap_or_default(),
        ..Default::default()
    };
    let start = Instant::now();
    let opened: Vec<anyhow::Result<_>> = futures::stream::iter(0..plan.sessions)
        .map(|_| async {
            match tokio::time::timeout(plan.timeout, opener.open()).await {
                Ok(session) => session,
                Err(_) => Err(anyhow::anyhow!(
                    "opening took longer than {:?}",
                    plan.timeout
                )),
            }
        })
        .buffer_unordered(plan.open_concurrency)
        .collect()
        .await;
    result.open_time = start.elapsed();
    let mut sessions = Vec::with_capacity(opened.len());
    for session in opened {
        match session {
            Ok(session) => sessions.push(session),
            Err(e) => result.fail(&e),
        }
    }
    let open_rss = process::tree_memory(pid).unwrap_or_default().rss_kib;
    result.fds = process::tree_fd_count(pid);

    let round_trips = plan.round_trips;
    let all = join_all(sessions.iter_mut().map(|session| async move {
        let mut payload = [0u8; 64];
        for round in 0..round_trips {
            stamp(&mut payload, round as u64);
            session.round_trip(&payload).await?;
        }
        anyhow::Ok(())
    }));
    match tokio::time::timeout(plan.timeout, all).await {
        Ok(outcomes) => {
            for outcome in outcomes {
                if let Err(e) = outcome {
                    result.fail(&e);
                }
            }
        }
        Err(_) => {
            let e = anyhow::anyhow!("the round trips did not all end within {:?}", plan.timeout);
            for _ in 0..sessions.len() {
                result.fail(&e);
            }
        }
    }
    result.total_time = start.elapsed();
    let after_rss = process::tree_memory(pid).unwrap_or_default().rss_kib;
    result.loaded_rss_kib = open_rss.max(after_rss);
    drop(sessions);
    result
}
