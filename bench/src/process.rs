//! The processes the bench starts and watches: file-descriptor limits, memory
//! readings from /proc, free ports, and finding programs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Raise this process's open-file limit to at least `wanted` (children inherit it).
/// As root the hard limit can be raised too, up to `fs.nr_open`. Returns (soft, hard) after.
pub fn raise_nofile(wanted: u64) -> (u64, u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        let nr_open = read_u64("/proc/sys/fs/nr_open").unwrap_or(limit.rlim_max);
        let target = wanted.min(nr_open).max(limit.rlim_cur);
        if target > limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: target,
                rlim_max: target,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
        if limit.rlim_cur < target.min(limit.rlim_max) {
            let raised = libc::rlimit {
                rlim_cur: target.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    (limit.rlim_cur, limit.rlim_max)
}

/// A memory reading of a process, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Resident set size now (VmRSS).
    pub rss_kib: u64,
}

/// VmRSS of `pid`, or `None` when it has gone.
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
    })
}

/// Open file descriptors of `pid`.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// `pid` and its child processes (a relay with `--workers` runs one per worker).
pub fn with_children(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return all;
    };
    for entry in entries.flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        // The fields after the command's closing parenthesis: state, then the parent's pid.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent == Some(pid) {
            all.push(child);
        }
    }
    all
}

/// VmRSS of `pid` and its children together.
pub fn tree_memory(pid: u32) -> Option<Memory> {
    let own = memory(pid)?;
    let children: u64 = with_children(pid)[1..].iter().filter_map(|&p| memory(p)).map(|m| m.rss_kib).sum();
    Some(Memory { rss_kib: own.rss_kib + children })
}

/// Open fds of `pid` and its children together.
pub fn tree_fd_count(pid: u32) -> usize {
    with_children(pid).into_iter().map(fd_count).sum()
}

/// A loopback port free right now (for programs that cannot report the one they bound).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Wait until something accepts TCP connections at `addr`.
pub async fn wait_for_listener(addr: SocketAddr, within: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if start.elapsed() > within {
            anyhow::bail!("nothing listens on {addr} after {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The first executable called `name` on PATH or in `extra` directories.
pub fn find_program(name: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().cloned())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `~/.cargo/bin`, where `cargo install` puts programs.
pub fn cargo_bin_dir() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    Some(home.join("bin"))
}

pub fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// First line of a command's output, trimmed (for versions and machine facts).
pub fn first_line_of(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}

/// CPU time `pid` has used so far, all its threads (from each thread's schedstat, in ns).
pub fn cpu_time(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| schedstat(&task.path().join("schedstat")))
        .sum()
}

/// CPU time the calling thread has used so far: the bench client runs on one thread.
pub fn this_thread_cpu_time() -> Duration {
    schedstat(Path::new("/proc/thread-self/schedstat")).unwrap_or_default()
}

fn schedstat(path: &Path) -> Option<Duration> {
    let text = std::fs::read_to_string(path).ok()?;
    text.split_whitespace()
        .next()?
        .parse()
        .ok()
        .map(Duration::from_nanos)
}
