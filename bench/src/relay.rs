//! The socklab relay under test: found or built, started on a free loopback
//! port, and read back its URL (`http://127.0.0.1:PORT/#token=TOKEN`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// A running `socklab serve`, killed when dropped.
pub struct RelayProcess {
    child: Child,
    pub port: u16,
    pub token: String,
}

impl RelayProcess {
    /// Start `relay serve --listen 127.0.0.1:0` plus `extra` arguments.
    pub fn start(relay: &Path, extra: &[String]) -> anyhow::Result<RelayProcess> {
        let mut child = Command::new(relay)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", relay.display()))?;
        let mut first = String::new();
        let stdout = child.stdout.take().context("relay stdout")?;
        BufReader::new(stdout)
            .read_line(&mut first)
            .context("reading the relay's URL")?;
        let url = first.trim();
        let parsed = url
            .strip_prefix("http://127.0.0.1:")
            .and_then(|rest| rest.split_once("/#token="))
            .and_then(|(port, token)| Some((port.parse::<u16>().ok()?, token.to_string())));
        let Some((port, token)) = parsed else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the relay printed {url:?} instead of http://127.0.0.1:PORT/#token=TOKEN");
        };
        Ok(RelayProcess { child, port, token })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn page_url(&self) -> String {
        format!("http://127.0.0.1:{}/#token={}", self.port, self.token)
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The relay binary to measure: `--relay`, else `socklab` beside this program,
/// rebuilt first (`cargo build --release -p socklab`) when run through cargo so
/// the numbers are for the tree as it is.
pub fn locate(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    let exe = std::env::current_exe().context("where is this program")?;
    let sibling = exe.with_file_name("socklab");
    if let Some(cargo) = std::env::var_os("CARGO") {
        eprintln!("building the relay: cargo build --release -p socklab");
        let status = Command::new(cargo)
            .args(["build", "--release", "-p", "socklab"])
            .stdout(Stdio::null())
            .status()
            .context("running cargo build")?;
        if !status.success() {
            bail!("cargo build --release -p socklab failed ({status})");
        }
    }
    if !crate::process::is_executable(&sibling) {
        bail!(
            "no relay at {}: run `cargo build --release -p socklab` or pass --relay PATH",
            sibling.display()
        );
    }
    Ok(sibling)
}

/// `socklab serve --help`, to learn which options this build of the relay has.
pub fn serve_help(relay: &Path) -> String {
    Command::new(relay)
        .args(["serve", "--help"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default()
}

/// `--sandbox host` where this relay has the flag: the peers (the echo server, websocat's
/// target) live on the host's loopback, which a session in a private namespace cannot reach.
pub fn host_mode_args(help: &str) -> Vec<String> {
    match sandbox_modes(help) {
        Some(modes) if modes.iter().any(|m| m == "host") => vec!["--sandbox".into(), "host".into()],
        _ => Vec::new(),
    }
}

/// Options that raise the relay's limits on sessions and connections at once to
/// make room for `sessions` (only those this relay has): an operator expecting a
/// crowd sets them, and the scale test measures the relay, not its defaults. When
/// one process's open-files limit (`nofile`) cannot hold them all (a WebSocket, a
/// socket, and a reactor registration while a call waits: 3 each), the relay is
/// asked for enough `--workers`.
pub fn scale_args(help: &str, sessions: usize, nofile: u64) -> Vec<String> {
    let room = (sessions + sessions / 2 + 64).to_string();
    let has = |flag: &str| help.contains(&format!("{flag} <"));
    let mut args: Vec<String> = ["--max-sessions", "--max-sessions-per-token", "--max-connections"]
        .iter()
        .filter(|flag| has(flag))
        .flat_map(|flag| [flag.to_string(), room.clone()])
        .collect();
    let workers = workers_for(sessions, nofile);
    if workers > 1 && has("--workers") {
        args.extend(["--workers".to_string(), workers.to_string()]);
    }
    args.extend(host_mode_args(help));
    args
}

/// Relay processes needed to hold `sessions` within `nofile` descriptors each.
pub fn workers_for(sessions: usize, nofile: u64) -> u64 {
    const PER_SESSION: u64 = 3;
    const RESERVE: u64 = 512;
    let usable = nofile.saturating_sub(RESERVE).max(1);
    (PER_SESSION * sessions as u64).div_ceil(usable).max(1)
}

/// The values `socklab serve --sandbox` takes, or `None` when this relay has no such flag.
pub fn sandbox_modes(help: &str) -> Option<Vec<String>> {
    let (_, after) = help.split_once("--sandbox")?;
    // The flag's own text ends where the next option starts.
    let own = after.split("\n  -").next().unwrap_or(after);
    let listed = own
        .split_once("[possible values:")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| {
            list.split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        });
    Some(listed.unwrap_or_else(|| vec!["host".to_string(), "namespace".to_string()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELP: &str = "Options:\n  --max-sessions <MAX_SESSIONS>\n  --max-sessions-per-token <N>\n  --sandbox <MODE>  where sessions run [possible values: host, namespace]\n  --allow-raw  raw sockets\n";

    #[test]
    fn finds_the_flags_this_relay_has() {
        assert_eq!(
            scale_args(HELP, 1000, 20000),
            ["--max-sessions", "1564", "--max-sessions-per-token", "1564", "--sandbox", "host"]
        );
        let help = format!("{HELP}  --workers <N>\n");
        assert_eq!(
            scale_args(&help, 10000, 20000)[4..],
            ["--workers", "2", "--sandbox", "host"]
        );
        assert_eq!(workers_for(10000, 1024), 59);
        assert_eq!(workers_for(100, 20000), 1);
        assert_eq!(host_mode_args("--allow-raw"), Vec::<String>::new());
        assert_eq!(
            sandbox_modes(HELP),
            Some(vec!["host".to_string(), "namespace".to_string()])
        );
        assert_eq!(sandbox_modes("--allow-raw"), None);
    }
}
