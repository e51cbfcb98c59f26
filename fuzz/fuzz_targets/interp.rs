//! The interpreter on arbitrary scripts, under the limits the page and
//! `socklab run` use: every script ends (step budget), errors or finishes;
//! nothing panics, overflows the stack or runs out of memory. Relay calls
//! are answered with ENOSYS, so the language is fuzzed, not the kernel.
#![no_main]

use libfuzzer_sys::fuzz_target;
use socklab::lang::interp::{CallResult, Interpreter, LaneState, Limits, Yield};
use socklab::lang::memory::Counting;
use socklab::wire::protocol::{OsError, Outcome};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Steps (statements and call answers) one input may take.
const BUDGET: usize = 20_000;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let parsed = socklab::lang::parse(source);
    if !parsed.diagnostics.is_empty() {
        return;
    }
    let mut interp = Interpreter::new(&parsed.script);
    interp.set_limits(Limits { memory: 64 << 20, output: 1 << 20 });
    // A script starting with a comment steps into library code too.
    interp.set_library_steps(source.starts_with('#'));
    let mut budget = BUDGET;
    'run: while budget > 0 {
        let mut progressed = false;
        for lane in 0..interp.lane_count() {
            let y = match interp.lane_state(lane) {
                LaneState::Ready => interp.step(lane, 0.0),
                LaneState::Waiting => {
                    let error = OsError { errno: "ENOSYS".into(), errno_num: 38, message: "Function not implemented".into() };
                    interp.resume(lane, CallResult::Outcome(Outcome::Err { error }), 0.0)
                }
                LaneState::Parked | LaneState::Ended(_) => continue,
            };
            let _ = (y == Yield::Stepped, interp.take_events());
            progressed = true;
            budget -= 1;
            if budget == 0 {
                break 'run;
            }
        }
        if !progressed {
            break;
        }
    }
    for lane in 0..interp.lane_count() {
        interp.end_blocked(lane);
    }
    let _ = interp.take_events();
});
