//! A class day: 300 simulated learners (`socklab_tests::learner`) take the
//! lessons against one real relay at a human pace, each in a new session per
//! lesson, until the bell. Every call must be answered, nothing may go wrong
//! that is not the script's own doing, every finished lesson must pass its
//! checkpoints, and once everyone has left the relay must hold the fds, the
//! network namespaces and (within a bound) the memory it held before.
//!
//! The relay is the release build (built here when missing or older than its
//! sources, or `SOCKLAB_CLASS_RELAY=PATH`): a debug relay spends more than a
//! core on a class of 300.
//!
//! The class lasts `SOCKLAB_CLASS_SECONDS` (default 150: learners arrive over
//! the first 20 s and leave at the bell, mid-lesson or not); the class size
//! is `SOCKLAB_CLASS_LEARNERS` (default 300). A longer day:
//!
//! ```sh
//! SOCKLAB_CLASS_SECONDS=1800 cargo test -p socklab-tests --test class_day -- --nocapture
//! ```
//!
//! The figures table goes to stdout (`--nocapture` shows it). The relay's log
//! and every failure with its whole transcript are kept in
//! `$CARGO_TARGET_TMPDIR` (`class_day-relay.log`, `class_day-failures.txt`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socklab_lessons as lessons;
use socklab_tests::learner::{self, Drive, Endpoint, LessonReport, Pace, Rng};
use socklab_tests::relay::Relay;

/// Learners arrive spread over this long after the class starts.
const ARRIVALS: Duration = Duration::from_secs(20);

/// Human pace: a click every 150–900 ms, a few seconds to read a lesson first.
const PACE: Pace = Pace {
    think: (Duration::from_millis(150), Duration::from_millis(900)),
    read: (Duration::from_secs(2), Duration::from_secs(6)),
};

/// The share of lessons a learner runs with Run rather than stepping through.
const RUN_SHARE: f64 = 0.25;

/// Lessons (in thousandths of those finished) that may miss a kernel
/// observation checkpoint. The relay drops a TCP transition it cannot
/// attribute to one session for sure, and with a class many sessions use the
/// same ports at the same moment: about 3 in 1000 finished lessons (lessons 4
/// and 8) missed one in the runs that set this. A class also loads the
/// machine's softirqs, and congestion control reads the timing: once in about
/// 1,600 finished lessons, lesson 17's window stopped at 28 segments after a
/// retransmission (600 ms round trips on a 100 ms link) where an idle machine
/// reaches 60. The lessons pass stepped alone (`human_pace.rs`).
const OBSERVATION_MISSES_PER_MILLE: usize = 10;

/// After everyone has left, how long the relay may take to close their sessions.
const SETTLE: Duration = Duration::from_secs(30);

/// Anonymous memory (heap, stacks) the relay may keep above its pre-class
/// figure once the class has gone; the rest of the RSS is the binary's own
/// pages, which grow as more of its code runs. The relay trims freed memory
/// within a second of sessions ending: measured just before the trim, +25 to
/// +56 MiB (the allocator's freed pages); a second later +5.8 MiB (816 KiB
/// before, 6,664 after 2,092 sessions). A leak of 16 KiB per session would
/// exceed the bound in a default class (about 2,000 sessions).
const ANON_TOLERANCE_KIB: u64 = 32 * 1024;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
        Err(_) => default,
    }
}

/// What /proc shows of the relay.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Usage {
    rss_kib: u64,
    /// The anonymous part of the RSS: the heap and stacks, without the binary's pages.
    anon_kib: u64,
    fds: usize,
    /// Distinct network namespaces the relay holds open, besides the one it runs in.
    netns: usize,
    threads: usize,
    /// CPU time used so far (user + system).
    cpu: Duration,
}

impl Usage {
    fn of(pid: u32) -> Usage {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let own = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
        let mut namespaces = std::collections::HashSet::new();
        let mut fds = 0;
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            for entry in dir.flatten() {
                fds += 1;
                if let Ok(target) = std::fs::read_link(entry.path())
                    && target.to_string_lossy().starts_with("net:[")
                    && Some(&target) != own.as_ref()
                {
                    namespaces.insert(target);
                }
            }
        }
        Usage {
            rss_kib: field("VmRSS:"),
            anon_kib: field("RssAnon:"),
            fds,
            netns: namespaces.len(),
            threads: field("Threads:") as usize,
            cpu: cpu_time(&pid.to_string()),
        }
    }

    fn max(self, other: Usage) -> Usage {
        Usage {
            rss_kib: self.rss_kib.max(other.rss_kib),
            anon_kib: self.anon_kib.max(other.anon_kib),
            fds: self.fds.max(other.fds),
            netns: self.netns.max(other.netns),
            threads: self.threads.max(other.threads),
            cpu: self.cpu.max(other.cpu),
        }
    }
}

/// User + system CPU time of a process (`self` for this one), from /proc/PID/stat.
fn cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    // Clock ticks: USER_HZ, 100 on Linux.
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

/// One learner's day: arrive, take lessons one after another (a new session
/// each, as a page reload gives), starting where the seat number says, until the bell.
async fn learner_day(
    seat: usize,
    endpoint: Arc<Endpoint>,
    start: Instant,
    bell: Instant,
    learners: usize,
) -> Vec<LessonReport> {
    let mut rng = Rng::new(0x5eed_c1a5_5000 + seat as u64);
    let arrival = ARRIVALS.mul_f64(seat as f64 / learners as f64) + Duration::from_millis(rng.next_u64() % 500);
    tokio::time::sleep_until((start + arrival).into()).await;
    let all = lessons::all();
    let mut reports = Vec::new();
    let mut next = seat % all.len();
    while Instant::now() < bell {
        let lesson = &all[next];
        let drive = if rng.chance(RUN_SHARE) { Drive::Run } else { Drive::Step };
        reports.push(learner::take_lesson(&endpoint, lesson, drive, &PACE, &mut rng, bell).await);
        next = (next + 1) % all.len();
    }
    reports
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_of_learners_takes_the_lessons_and_the_relay_ends_as_it_began() {
    let learners = env_number("SOCKLAB_CLASS_LEARNERS", 300) as usize;
    let class = Duration::from_secs(env_number("SOCKLAB_CLASS_SECONDS", 150));
    let relay = Relay::start("class_day");
    let pid = relay.pid();
    let before = Usage::of(pid);

    // Sample once a second during the class.
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let sampler = tokio::spawn(async move {
        let mut peak = Usage::default();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => peak = peak.max(Usage::of(pid)),
                _ = &mut stopped => return peak,
            }
        }
    });

    let learners_cpu_before = cpu_time("self");
    let started = Instant::now();
    let bell = started + class;
    let endpoint = Arc::new(relay.endpoint.clone());
    let days: Vec<_> = (0..learners)
        .map(|seat| tokio::spawn(learner_day(seat, endpoint.clone(), started, bell, learners)))
        .collect();
    let mut reports = Vec::new();
    for day in days {
        reports.extend(day.await.expect("a learner's task panicked"));
    }
    let class_took = started.elapsed();
    let learners_cpu = cpu_time("self").saturating_sub(learners_cpu_before);
    let _ = stop.send(());
    let peak = sampler.await.expect("the sampler ran");

    // The relay closes a session when its client goes; give it a moment.
    let left = Instant::now();
    let open = |metrics: &std::collections::HashMap<String, f64>| {
        ["socklab_sessions_open", "socklab_sockets_open", "socklab_namespaces_in_use", "socklab_websocket_connections_open"]
            .iter()
            .map(|name| metrics.get(*name).copied().unwrap_or(0.0))
            .sum::<f64>()
    };
    let mut after = Usage::of(pid);
    let mut metrics = relay.metrics();
    // The relay hands freed memory back to the system at most once a second
    // after sessions end, so the heap is waited for as well.
    while (after.fds > before.fds
        || after.netns > before.netns
        || after.anon_kib > before.anon_kib + ANON_TOLERANCE_KIB
        || open(&metrics) > 0.0)
        && left.elapsed() < SETTLE
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = Usage::of(pid);
        metrics = relay.metrics();
    }
    let settle_took = left.elapsed();
    let metric = |name: &str| metrics.get(name).copied().unwrap_or(0.0);

    let mut latencies: Vec<Duration> = reports.iter().flat_map(|r| r.latencies.iter().copied()).collect();
    latencies.sort();
    let failures: Vec<&String> = reports.iter().flat_map(|r| &r.failures).collect();
    let misses: Vec<&String> = reports.iter().flat_map(|r| &r.observation_misses).collect();
    let judged = reports.iter().filter(|r| r.judged).count();
    let calls: u64 = reports.iter().map(|r| r.calls).sum();
    let answered: u64 = reports.iter().map(|r| r.answered).sum();
    let steps: u64 = reports.iter().map(|r| r.steps).sum();
    let mut per_lesson = vec![0usize; lessons::all().len()];
    for report in reports.iter().filter(|r| r.judged) {
        per_lesson[report.lesson as usize - 1] += 1;
    }

    println!(
        "\nclass day: {learners} learners, {} s class (took {:.1} s, settle {:.1} s)",
        class.as_secs(),
        class_took.as_secs_f64(),
        settle_took.as_secs_f64()
    );
    println!("| figure | value |\n| --- | --- |");
    println!("| learners | {learners} |");
    let stepped = reports.iter().filter(|r| r.drive == Drive::Step).count();
    println!(
        "| sessions run | {} ({stepped} stepped, {} run; {judged} lessons finished and judged, {} left at the bell) |",
        reports.len(),
        reports.len() - stepped,
        reports.len() - judged
    );
    println!("| finished, per lesson from 1 | {per_lesson:?} |");
    println!("| statements stepped | {steps} |");
    println!("| calls sent / answered | {calls} / {answered} (the difference: in flight at the bell) |");
    println!(
        "| first answer p50 / p99 / max | {} / {} / {} |",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0))
    );
    println!("| failures | {} |", failures.len());
    println!(
        "| lessons missing a kernel observation | {} (at most {} allowed) |",
        misses.len(),
        judged * OBSERVATION_MISSES_PER_MILLE / 1000
    );
    let opened = reports.iter().filter(|r| r.opened).count();
    println!(
        "| relay's /metrics: sessions total, protocol errors, limits hit | {} ({opened} opened by learners), {}, {} |",
        metric("socklab_sessions_total"),
        metric("socklab_protocol_errors_total"),
        metric("socklab_limits_hit_total")
    );
    println!("| relay RSS before / peak / after | {} / {} / {} KiB |", before.rss_kib, peak.rss_kib, after.rss_kib);
    println!(
        "| relay anonymous RSS before / peak / after | {} / {} / {} KiB |",
        before.anon_kib, peak.anon_kib, after.anon_kib
    );
    println!("| relay fds before / peak / after | {} / {} / {} |", before.fds, peak.fds, after.fds);
    println!("| network namespaces before / peak / after | {} / {} / {} |", before.netns, peak.netns, after.netns);
    println!(
        "| CPU during the class: relay / learners | {:.1} s / {:.1} s (of {:.0} s on {} cores) |",
        peak.cpu.saturating_sub(before.cpu).as_secs_f64(),
        learners_cpu.as_secs_f64(),
        class_took.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| relay threads before / peak / after | {} / {} / {} |", before.threads, peak.threads, after.threads);

    let failures_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("class_day-failures.txt");
    let record = |list: &[&String]| list.iter().map(|f| f.as_str()).collect::<Vec<_>>().join("\n\n");
    let _ = std::fs::write(
        &failures_file,
        format!("# failures\n\n{}\n\n# kernel observation misses\n\n{}\n", record(&failures), record(&misses)),
    );
    let shown: Vec<String> = failures
        .iter()
        .take(5)
        .map(|f| {
            let lines: Vec<&str> = f.lines().collect();
            // The head says what failed; the transcript's end says where.
            let (head, tail) = (&lines[..lines.len().min(2)], &lines[lines.len().saturating_sub(20).max(2)..]);
            format!("{}\n    …\n{}", head.join("\n"), tail.join("\n"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures (all of them, with whole transcripts, in {}); the first ones:\n{}\nrelay log ({}):\n{}",
        failures.len(),
        failures_file.display(),
        shown.join("\n"),
        relay.log.display(),
        relay.log_tail()
    );
    assert!(
        misses.len() * 1000 <= judged * OBSERVATION_MISSES_PER_MILLE,
        "{} of {judged} finished lessons missed a TCP state or segment the kernel went through (listed in {})",
        misses.len(),
        failures_file.display()
    );
    assert!(judged >= learners, "only {judged} lessons were finished by {learners} learners");
    assert!(per_lesson.iter().all(|&n| n > 0), "some lesson was never finished: {per_lesson:?}");
    assert_eq!(metric("socklab_sessions_total") as usize, opened, "the relay counted other sessions than learners opened");
    assert_eq!(open(&metrics), 0.0, "sessions, sockets, namespaces or connections still open: {metrics:?}");
    assert_eq!(after.fds, before.fds, "the relay holds fds it did not hold before the class");
    assert_eq!(after.netns, before.netns, "the relay holds network namespaces after the class");
    assert!(
        after.anon_kib <= before.anon_kib + ANON_TOLERANCE_KIB,
        "the relay's heap grew from {} KiB to {} KiB over the class",
        before.anon_kib,
        after.anon_kib
    );
}
