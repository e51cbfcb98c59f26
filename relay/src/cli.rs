//! `socklab run FILE`: parse, run on the engine, print the transcript.

use std::io::{Read, Write};
use std::time::Duration;


use crate::engine::{self, Line, RunOptions};
use socklab_lang::interp::Limits;
use crate::sandbox::{Sandbox, SandboxConfig};

/// Options of `socklab run`.
#[derive(Debug, Clone)]
pub struct RunArgs {
    /// A path, or `-` for standard input.
    pub file: String,
    pub json: bool,
    pub deadlock_timeout: Duration,
    pub limits: Limits,
    pub max_steps: u64,
    /// `--into-library`: library modules' statements are steps.
    pub into_library: bool,
    /// `--pcap FILE`: the links' packets as pcapng.
    pub pcap: Option<std::path::PathBuf>,
}

/// Run a script file; returns the process exit status (0, 1, or 2 for a script that does not parse).
/// The sandbox is made only once the script parses: a script with errors runs nothing.
pub async fn run(args: &RunArgs, sandbox: SandboxConfig) -> anyhow::Result<i32> {
    let source = read_source(&args.file)?;
    let parsed = socklab_lang::parse(&source);
    if !parsed.diagnostics.is_empty() {
        let mut stderr = std::io::stderr().lock();
        for diagnostic in &parsed.diagnostics {
            writeln!(stderr, "{}:{diagnostic}", args.file)?;
        }
        return Ok(2);
    }
    let sandbox = Sandbox::new(sandbox)?;
    let mut env = sandbox.new_session()?;
    let frames = args.pcap.as_ref().map(|_| env.observer.keep_frames(socklab_kernel::observe::links::MAX_FRAME_BYTES));
    if let Err(why) = engine::make_hosts(&mut env.exec, &parsed.script).await {
        writeln!(std::io::stderr().lock(), "{}: cannot place lanes on hosts: {why}", args.file)?;
        return Ok(2);
    }
    // A script read from a file leaves standard input to its lanes' `input()`.
    let stdin = args.file != "-";
    let options = RunOptions {
        deadlock_timeout: args.deadlock_timeout,
        stdin,
        limits: args.limits,
        max_steps: args.max_steps,
        into_library: args.into_library,
        mark_calls: args.pcap.is_some(),
        ..RunOptions::default()
    };
    let links = env.exec.link_names();
    let mut stdout = std::io::stdout().lock();
    let mut failed_write = None;
    let mut text_filter = socklab_lang::transcript::TextFilter::default();
    let mut emit = |line: Line, ts_us: u64| {
        if !args.json && !text_filter.shows(&line) {
            return;
        }
        let text = if args.json { json_line(&line, ts_us) } else { line.human() };
        if let Err(e) = writeln!(stdout, "{text}") {
            failed_write.get_or_insert(e);
        }
    };
    let summary = engine::run(&parsed.script, env, &options, &mut emit).await;
    sandbox.remove_base();
    if let (Some(path), Some(frames)) = (&args.pcap, frames) {
        let frames = std::mem::take(&mut frames.lock().unwrap_or_else(|poison| poison.into_inner()).frames);
        crate::pcapng::write(path, &links, &frames, &summary.calls)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    if let Some(e) = failed_write {
        return Err(e.into());
    }
    Ok(summary.exit_code())
}

/// A transcript line as `--json` prints it: its object, fields in their
/// order, then its time (`ts_us`).
fn json_line(line: &Line, ts_us: u64) -> String {
    let text = serde_json::to_string(line).unwrap_or_default();
    match text.strip_suffix('}') {
        Some(open) if open.len() > 1 => format!("{open},\"ts_us\":{ts_us}}}"),
        Some(_) => format!("{{\"ts_us\":{ts_us}}}"),
        None => text,
    }
}

fn read_source(file: &str) -> anyhow::Result<String> {
    let mut source = String::new();
    if file == "-" {
        std::io::stdin().read_to_string(&mut source)?;
    } else {
        source = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
    }
    Ok(source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_lang::interp::InterpEvent;

    #[test]
    fn a_json_line_keeps_its_fields_and_ends_with_its_time() {
        let print = Line::Interp(InterpEvent::Print { lane: "main".into(), line: 2, text: "hi".into() });
        assert_eq!(json_line(&print, 1250), r#"{"kind":"print","lane":"main","line":2,"text":"hi","ts_us":1250}"#);
    }
}
