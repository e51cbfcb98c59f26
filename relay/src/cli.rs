//! `socklab run FILE`: parse, run on the engine, print the transcript.

use std::io::{Read, Write};
use std::time::Duration;

use socklab_shared::errno;
use socklab_shared::interp::{EndStatus, InterpEvent};

use crate::engine::{self, KernelLine, Line, RunOptions};
use crate::sandbox::{Sandbox, SandboxConfig};

/// Options of `socklab run`.
#[derive(Debug, Clone)]
pub struct RunArgs {
    /// A path, or `-` for standard input.
    pub file: String,
    pub json: bool,
    pub deadlock_timeout: Duration,
}

/// Run a script file; returns the process exit status (0, 1, or 2 for a script that does not parse).
/// The sandbox is made only once the script parses: a script with errors runs nothing.
pub async fn run(args: &RunArgs, sandbox: SandboxConfig) -> anyhow::Result<i32> {
    let source = read_source(&args.file)?;
    let parsed = socklab_shared::lang::parse(&source);
    if !parsed.diagnostics.is_empty() {
        let mut stderr = std::io::stderr().lock();
        for diagnostic in &parsed.diagnostics {
            writeln!(stderr, "{}:{diagnostic}", args.file)?;
        }
        return Ok(2);
    }
    let sandbox = Sandbox::new(sandbox).map_err(anyhow::Error::msg)?;
    let env = sandbox.new_session()?;
    let options = RunOptions { deadlock_timeout: args.deadlock_timeout, ..RunOptions::default() };
    let mut stdout = std::io::stdout().lock();
    let mut failed_write = None;
    let mut emit = |line: Line| {
        let text = if args.json { serde_json::to_string(&line).unwrap_or_default() } else { human(&line) };
        if let Err(e) = writeln!(stdout, "{text}") {
            failed_write.get_or_insert(e);
        }
    };
    let summary = engine::run(&parsed.script, env, &options, &mut emit).await;
    if let Some(e) = failed_write {
        return Err(e.into());
    }
    Ok(summary.exit_code())
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

/// One transcript line for people.
pub fn human(line: &Line) -> String {
    match line {
        Line::Interp(InterpEvent::Step { lane, line, call, ok: true, result, .. }) => {
            format!("{lane}:{line}  {call}  → {}", result.as_deref().unwrap_or("None"))
        }
        Line::Interp(InterpEvent::Step { lane, line, call, errno: Some(name), errno_num, .. }) => {
            let num = errno_num.unwrap_or(0);
            format!("{lane}:{line}  {call}  → {name} ({num}): {}", errno::explain(num))
        }
        Line::Interp(InterpEvent::Step { lane, line, call, message, .. }) => {
            format!("{lane}:{line}  {call}  → {}", message.as_deref().unwrap_or("failed"))
        }
        Line::Interp(InterpEvent::Print { lane, text, .. }) => format!("{lane}| {text}"),
        Line::Interp(InterpEvent::LaneEnd { lane, status, line, message }) => {
            let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
            let why = message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
            match status {
                EndStatus::Finished => format!("{lane}: finished"),
                EndStatus::Error => format!("{lane}: stopped on an error{at}{why}"),
                EndStatus::Assert => format!("{lane}: assertion failed{at}{why}"),
                EndStatus::Blocked => format!("{lane}: blocked{at} (deadlock: nothing can wake it)"),
            }
        }
        Line::Kernel(KernelLine::State { socket, from, to, local, peer }) => {
            format!("{socket}  {from} → {to}  ({local} ↔ {peer})")
        }
        Line::Kernel(KernelLine::Segment { src, dst, proto, flags, seq, ack, len }) => {
            let mut text = format!("    {src} > {dst}  {proto} {flags}");
            if let Some(seq) = seq {
                text.push_str(&format!(" seq={seq}"));
            }
            if let Some(ack) = ack {
                text.push_str(&format!(" ack={ack}"));
            }
            text.push_str(&format!(" len={len}"));
            text
        }
    }
}
