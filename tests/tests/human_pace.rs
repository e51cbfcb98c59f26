//! Every lesson's solution stepped at a slow human pace (a click a second at
//! the quickest, nothing but Step), all lessons at once, each in its own
//! session against one release relay; every checkpoint must pass.
//!
//! It has a test binary of its own so that cargo runs it alone: beside the
//! class day's 300 learners the machine's softirqs queue behind them, and a
//! congestion window's growth (lesson 17) then shows the load, not the lesson.
//! The relay's log is kept in `$CARGO_TARGET_TMPDIR/human_pace-relay.log`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use socklab_lessons as lessons;
use socklab_tests::learner::{self, Drive, Pace, Rng};
use socklab_tests::relay::Relay;

/// The slowest a test learner goes: at least a second between two steps.
const SLOW_PACE: Pace = Pace {
    think: (Duration::from_millis(1000), Duration::from_millis(1300)),
    read: (Duration::from_millis(0), Duration::from_millis(500)),
};

/// A learner steps at a human pace (nothing but Step, a second or more
/// between clicks) and every lesson still passes: no lesson may depend on
/// its statements following one another quickly. The lessons are stepped at
/// once, each in its own session, so the test lasts as long as the longest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lesson_passes_stepped_at_human_pace() {
    let relay = Relay::start("human_pace");
    let endpoint = Arc::new(relay.endpoint.clone());
    let started = Instant::now();
    let leave_at = started + Duration::from_secs(600);
    let takes: Vec<_> = lessons::all()
        .iter()
        .map(|lesson| {
            let endpoint = endpoint.clone();
            tokio::spawn(async move {
                let mut rng = Rng::new(0x5100 + u64::from(lesson.number()));
                let took = Instant::now();
                let report = learner::take_lesson(&endpoint, lesson, Drive::Step, &SLOW_PACE, &mut rng, leave_at).await;
                (report, took.elapsed())
            })
        })
        .collect();
    let mut problems = Vec::new();
    for take in takes {
        let (report, took) = take.await.expect("a learner's task panicked");
        println!("lesson {:2}: {:3} statements stepped in {:.0} s", report.lesson, report.steps, took.as_secs_f64());
        if !report.judged {
            problems.push(format!("lesson {}: not finished and judged", report.lesson));
        }
        problems.extend(report.failures.iter().cloned());
        problems.extend(report.observation_misses.iter().cloned());
    }
    println!("all lessons stepped in {:.0} s", started.elapsed().as_secs_f64());
    assert!(
        problems.is_empty(),
        "stepped at a human pace, {} problems:\n{}\nrelay log ({}):\n{}",
        problems.len(),
        problems.join("\n\n"),
        relay.log.display(),
        relay.log_tail()
    );
}
