//! Session threads: each connection is served whole on one thread that has a
//! runtime and a reactor of its own, thread-per-core style.
//!
//! A session's WebSocket and the sockets its script makes are then all
//! registered with the reactor of the thread that runs the session, so an
//! arrival wakes that thread and nothing else. With tokio's shared
//! multi-threaded runtime, the reactor is polled by whichever worker is parked,
//! and every echo cost a cross-thread wake-up (a futex, and on a VM an
//! inter-processor interrupt) before the session's task could run. It also
//! lets a session busy-poll (see `session`): only the thread that owns the
//! reactor can poll it without sleeping.
//!
//! A new connection goes to the thread serving the fewest at that moment.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::FutureExt;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

/// The session threads of one relay process.
pub struct Cores {
    threads: Vec<Core>,
    stop: CancellationToken,
}

struct Core {
    handle: Handle,
    /// Connections this thread is serving now.
    load: Arc<AtomicUsize>,
}

/// Each session thread's stack: the scripts its sessions run are parsed,
/// compiled and interpreted on it, and the deepest tree the parser accepts
/// (1,000 operators in a row, 50 levels of brackets) must fit in a debug
/// build too. Only the pages touched are ever backed by memory.
const CORE_STACK: usize = 256 << 20;

impl Cores {
    /// Start `count` threads (at least one), named `socklab-core-N`.
    pub fn start(count: usize) -> io::Result<Cores> {
        let stop = CancellationToken::new();
        let mut threads = Vec::new();
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let handle = runtime.handle().clone();
            let stopped = stop.clone();
            std::thread::Builder::new()
                .name(format!("socklab-core-{index}"))
                .stack_size(CORE_STACK)
                .spawn(move || runtime.block_on(stopped.cancelled()))?;
            threads.push(Core { handle, load: Arc::new(AtomicUsize::new(0)) });
        }
        Ok(Cores { threads, stop })
    }

    /// As many threads as this process may run at once (its CPU affinity).
    pub fn available() -> usize {
        std::thread::available_parallelism().map(usize::from).unwrap_or(1)
    }

    pub fn len(&self) -> usize {
        self.threads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// Run `make(..)`'s future on the least busy thread; it counts as that
    /// thread's load until it ends. `make` runs on that thread, inside its
    /// runtime, so I/O objects it creates (`TcpStream::from_std`) register with
    /// that thread's reactor.
    pub fn spawn<M, F>(&self, make: M)
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let core = self
            .threads
            .iter()
            .min_by_key(|core| core.load.load(Ordering::Relaxed))
            .expect("at least one thread");
        let load = LoadGuard::enter(core.load.clone());
        core.handle.spawn(async move {
            let _load = load;
            // A panic ends this connection only (its session's sockets and directory are
            // dropped on the way out); the thread goes on serving the others. The panic
            // hook (`log_panics`) has logged it.
            let _ = std::panic::AssertUnwindSafe(make()).catch_unwind().await;
        });
    }

    /// Connections being served by each thread, in thread order.
    pub fn loads(&self) -> Vec<usize> {
        self.threads.iter().map(|core| core.load.load(Ordering::Relaxed)).collect()
    }
}

impl Drop for Cores {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Log a panic as one line (thread, place, message) instead of the default
/// report and backtrace: a panic in a session ends that session only.
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let location = info.location().map(|l| l.to_string()).unwrap_or_default();
        let thread = std::thread::current();
        tracing::error!(thread = thread.name().unwrap_or("?"), %location, %message, "panic: the connection it happened in ends");
    }));
}

/// One unit of a thread's load, given back when the connection ends.
struct LoadGuard(Arc<AtomicUsize>);

impl LoadGuard {
    fn enter(load: Arc<AtomicUsize>) -> LoadGuard {
        load.fetch_add(1, Ordering::Relaxed);
        LoadGuard(load)
    }
}

impl Drop for LoadGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[test]
    fn connections_go_to_the_least_busy_thread_and_run_there() {
        let cores = Cores::start(2).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let release = CancellationToken::new();
        for _ in 0..4 {
            let (seen, release) = (seen.clone(), release.clone());
            cores.spawn(move || async move {
                let name = std::thread::current().name().unwrap_or_default().to_string();
                seen.lock().unwrap().push(name);
                release.cancelled().await;
            });
        }
        wait_for(|| seen.lock().unwrap().len() == 4);
        assert_eq!(cores.loads(), vec![2, 2], "four connections spread evenly");
        let mut names = seen.lock().unwrap().clone();
        names.sort();
        assert_eq!(names, ["socklab-core-0", "socklab-core-0", "socklab-core-1", "socklab-core-1"]);
        release.cancel();
        wait_for(|| cores.loads() == vec![0, 0]);
    }

    #[test]
    fn io_made_on_a_thread_uses_that_threads_reactor() {
        let cores = Cores::start(1).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        cores.spawn(move || async move {
            use tokio::io::AsyncReadExt;
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 5];
            stream.read_exact(&mut buf).await.unwrap();
            done.send(buf).unwrap();
        });
        use std::io::Write;
        std::net::TcpStream::connect(addr).unwrap().write_all(b"hello").unwrap();
        assert_eq!(&finished.recv_timeout(Duration::from_secs(5)).unwrap(), b"hello");
    }

    #[test]
    fn a_panicking_connection_ends_alone() {
        let cores = Cores::start(1).unwrap();
        cores.spawn(|| async { panic!("a session's bug") });
        let (done, finished) = std::sync::mpsc::channel();
        cores.spawn(move || async move { done.send(()).unwrap() });
        finished.recv_timeout(Duration::from_secs(5)).expect("the thread still serves");
        wait_for(|| cores.loads() == vec![0]);
    }

    fn wait_for(mut done: impl FnMut() -> bool) {
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while !done() {
            assert!(std::time::Instant::now() < until, "timed out");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
