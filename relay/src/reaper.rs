//! One thread that drops what ended sessions leave, and gives freed memory back.
//!
//! Closing a capture socket waits for an RCU grace period (milliseconds), and
//! closing a namespace's last socket starts its clean-up: done on a session
//! thread, either would stall every other session served there. A single
//! thread for all of it keeps its memory that of one thread (a pool of them
//! kept tens of MB of freed memory in their caches after a class).

use std::sync::OnceLock;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

type Leftovers = Box<dyn Send>;

/// How often, at most, freed memory is handed back to the system.
const TRIM_EVERY: Duration = Duration::from_secs(1);

/// Drop `leftovers` on the reaper thread (here, if it could not start).
pub fn reap<T: Send + 'static>(leftovers: T) {
    static REAPER: OnceLock<Option<Sender<Leftovers>>> = OnceLock::new();
    let reaper = REAPER.get_or_init(|| {
        let (sender, queue) = mpsc::channel::<Leftovers>();
        let started = std::thread::Builder::new().name("socklab-reaper".into()).spawn(move || run(queue));
        started.ok().map(|_| sender)
    });
    if let Some(sender) = reaper
        && let Err(undelivered) = sender.send(Box::new(leftovers))
    {
        drop(undelivered.0);
    }
}

/// Memory was freed elsewhere (a connection ended): give it back within a second.
pub fn memory_freed() {
    reap(());
}

fn run(queue: mpsc::Receiver<Leftovers>) {
    let mut trimmed = Instant::now();
    let mut freed = false;
    loop {
        let next = match freed {
            false => queue.recv().map_err(|_| RecvTimeoutError::Disconnected),
            true => queue.recv_timeout((trimmed + TRIM_EVERY).saturating_duration_since(Instant::now())),
        };
        match next {
            Ok(leftovers) => {
                drop(leftovers);
                freed = true;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if freed && trimmed.elapsed() >= TRIM_EVERY {
            trim();
            trimmed = Instant::now();
            freed = false;
        }
    }
}

/// glibc keeps freed heap memory for reuse; after a burst of sessions that
/// would leave the relay's RSS at its peak for good.
fn trim() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
