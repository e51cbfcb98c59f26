//! The relay binary the end-to-end tests run, built or brought up to date
//! first, and the processes they start.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::learner::Endpoint;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The relay binary with the real page embedded: `SOCKLAB_CLASS_RELAY` when
/// set, else this test build's profile (debug or release) of `socklab`, which
/// cargo builds first (a no-op when it is up to date).
pub fn relay_binary() -> PathBuf {
    relay_binary_in(if cfg!(debug_assertions) { "debug" } else { "release" })
}

/// The release relay, for tests that measure it or load it hard.
pub fn release_relay_binary() -> PathBuf {
    relay_binary_in("release")
}

fn relay_binary_in(profile: &str) -> PathBuf {
    if let Some(path) = std::env::var_os("SOCKLAB_CLASS_RELAY") {
        return PathBuf::from(path);
    }
    let mut build = Command::new(env!("CARGO"));
    build.current_dir(workspace()).args(["build", "-p", "socklab"]).env_remove("SOCKLAB_SKIP_FRONTEND");
    if profile == "release" {
        build.arg("--release");
    }
    // What cargo set for this test (CARGO_MANIFEST_DIR, CARGO_PKG_*, …) would
    // look like a changed environment to build scripts and rebuild them.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || ["CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE"]
                .contains(&name.as_ref())
        {
            build.env_remove(name.as_ref());
        }
    }
    assert!(build.status().expect("cargo runs").success(), "building the relay failed");
    target_dir().join(profile).join("socklab")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace().join("target"))
}

/// A relay serving on loopback, stopped when dropped (on SIGTERM it shuts
/// down gracefully and removes its tracefs instance).
pub struct Relay {
    process: Process,
    pub endpoint: Endpoint,
    pub log: PathBuf,
}

impl Relay {
    /// The release relay with the default sandbox (a network namespace per
    /// session where the relay may make one) and default limits, its log in
    /// the target's `tmp/NAME-relay.log`.
    pub fn start(name: &str) -> Relay {
        let dir = target_dir().join("tmp");
        std::fs::create_dir_all(&dir).expect("the target's tmp directory");
        let log = dir.join(format!("{name}-relay.log"));
        let mut child = Command::new(release_relay_binary())
            // Defaults only: one URL (one token) for the whole class.
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("the relay's log file"))
            .spawn()
            .expect("relay starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut url = String::new();
        stdout.read_line(&mut url).expect("the relay prints its URL");
        // Anything the relay prints later must not fill the pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout.into_inner(), &mut std::io::sink()));
        let endpoint = Endpoint::from_url(&url).unwrap_or_else(|| panic!("unexpected first line {url:?}"));
        Relay { process: Process::new(child), endpoint, log }
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The relay's own counters (`/metrics`, served to loopback), by series name
    /// with labels dropped and their values summed.
    pub fn metrics(&self) -> std::collections::HashMap<String, f64> {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.endpoint.port)).expect("the relay accepts");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let port = self.endpoint.port;
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("the relay answers /metrics");
        let mut series = std::collections::HashMap::new();
        for line in text.lines().filter(|l| l.starts_with("socklab_")) {
            let Some((name, value)) = line.rsplit_once(' ') else { continue };
            let name = name.split('{').next().unwrap_or(name).to_string();
            *series.entry(name).or_insert(0.0) += value.parse::<f64>().unwrap_or(0.0);
        }
        series
    }

    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        let _ = std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut text));
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// A child process, stopped when dropped: SIGTERM, then SIGKILL if it is still
/// there after 10 s.
pub struct Process {
    child: Child,
}

impl Process {
    pub fn new(child: Child) -> Process {
        Process { child }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) with the pid of our own child, which has not been reaped.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("waitpid")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.exited().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
