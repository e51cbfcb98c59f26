//! `socklab lesson list|show|check` and `socklab export`: the guided lessons
//! and the exporters on the command line. The lessons, their checkpoints and
//! the exporters live in `shared/lessons` and `shared/export` (the page uses the same ones); this module
//! runs scripts on the engine and prints.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, bail};
use socklab_export as export;
use socklab_lessons::{self as lessons, Lang, Lesson, StepReport};

use crate::engine::{self, Line, RunOptions};
use crate::sandbox::Sandbox;

/// Options of `socklab lesson check`.
#[derive(Debug, Clone)]
pub struct CheckArgs {
    pub number: u32,
    /// The script to check; `None` checks the lesson's own solution, `-` reads standard input.
    pub file: Option<String>,
    pub lang: Lang,
    /// One JSON object with the transcript and the verdicts instead of text.
    pub json: bool,
    pub deadlock_timeout: Duration,
}

/// `socklab lesson list`.
pub fn list(lang: Lang) -> String {
    let mut out = String::new();
    for lesson in lessons::all() {
        let raw =
            if lesson.spec.needs_raw { lang.pick("  (needs raw sockets)", "（需要原始套接字）") } else { "" };
        let _ = writeln!(out, "{:>2}. {}{raw}", lesson.number(), lesson.title(lang));
    }
    out
}

/// `socklab lesson show N`: explanation, steps with hints, and the starter script.
pub fn show(number: u32, lang: Lang) -> anyhow::Result<String> {
    let lesson = find(number)?;
    let mut out = String::new();
    let _ = writeln!(out, "# {}. {}\n", lesson.number(), lesson.title(lang));
    let _ = writeln!(out, "{}", lesson.spec.explanation.get(lang).trim());
    let _ = writeln!(out, "\n## {}\n", lang.pick("Steps", "步骤"));
    for (i, step) in lesson.steps().iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, step.text.get(lang));
        let _ = writeln!(out, "   {}: {}", lang.pick("hint", "提示"), step.hint.get(lang));
    }
    let _ = writeln!(out, "\n## {}\n", lang.pick("Starter script", "起始脚本"));
    out.push_str(lesson.starter);
    let _ = writeln!(
        out,
        "\n{}",
        lang.pick(
            &format!("Check your script with: socklab lesson check {number} FILE"),
            &format!("检查你的脚本：socklab lesson check {number} FILE"),
        )
    );
    Ok(out)
}

/// What checking a script against a lesson gave.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    pub lines: Vec<Line>,
    pub steps: Vec<StepReport>,
}

impl CheckOutcome {
    pub fn all_passed(&self) -> bool {
        self.steps.iter().all(|s| s.verdict.passed)
    }
}

/// Run `source` in a fresh session of `sandbox` and judge it against `lesson`.
/// Fails only when the script does not parse or no session can be made.
pub async fn check_source(
    lesson: &Lesson,
    source: &str,
    lang: Lang,
    sandbox: &Sandbox,
    deadlock_timeout: Duration,
) -> anyhow::Result<CheckOutcome> {
    let lines = transcript(source, sandbox, deadlock_timeout).await?;
    let steps = lessons::check_steps(lesson.steps(), &lines, lang);
    Ok(CheckOutcome { lines, steps })
}

/// The transcript of a whole run, as `socklab run --json` would print it.
pub async fn transcript(source: &str, sandbox: &Sandbox, deadlock_timeout: Duration) -> anyhow::Result<Vec<Line>> {
    let parsed = socklab_lang::parse(source);
    if let Some(first) = parsed.diagnostics.first() {
        bail!("the script does not parse: {first}");
    }
    let mut env = sandbox.new_session().context("cannot start a session")?;
    engine::make_hosts(&mut env.exec, &parsed.script).await.map_err(|why| anyhow::anyhow!("cannot place lanes on hosts: {why}"))?;
    let options = RunOptions { deadlock_timeout, ..RunOptions::default() };
    let mut lines = Vec::new();
    engine::run(&parsed.script, env, &options, &mut |line, _| lines.push(line)).await;
    Ok(lines)
}

/// `socklab lesson check N [FILE]`: prints each checkpoint; returns the exit status (0 when all pass).
pub async fn check(args: &CheckArgs, sandbox: &Sandbox) -> anyhow::Result<i32> {
    let lesson = find(args.number)?;
    let (name, source) = match &args.file {
        None => (format!("lesson {} solution", lesson.number()), lesson.solution.to_string()),
        Some(file) => (file.clone(), read_source(file)?),
    };
    let outcome = match check_source(lesson, &source, args.lang, sandbox, args.deadlock_timeout).await {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            return Ok(2);
        }
    };
    let mut out = String::new();
    if args.json {
        let value = serde_json::json!({
            "lesson": lesson.number(),
            "passed": outcome.all_passed(),
            "steps": outcome.steps,
            "transcript": outcome.lines,
        });
        let _ = writeln!(out, "{value}");
    } else {
        let _ = writeln!(out, "{}. {} — {name}", lesson.number(), lesson.title(args.lang));
        for step in &outcome.steps {
            let mark = if step.verdict.passed { "✓" } else { "✗" };
            let _ = writeln!(out, "{mark} {}\n    {}", step.text, step.verdict.reason);
            if let Some(what) = &step.what_happened {
                let _ = writeln!(out, "    → {what}");
            }
        }
        let passed = outcome.steps.iter().filter(|s| s.verdict.passed).count();
        let _ = writeln!(
            out,
            "{}",
            args.lang.pick(
                &format!("{passed}/{} checkpoints passed", outcome.steps.len()),
                &format!("通过了 {passed}/{} 个检查点", outcome.steps.len()),
            )
        );
    }
    print!("{out}");
    Ok(if outcome.all_passed() { 0 } else { 1 })
}

/// Which language `socklab export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportLang {
    Python,
    C,
}

impl ExportLang {
    pub fn parse(name: &str) -> Option<ExportLang> {
        match name.to_ascii_lowercase().as_str() {
            "python" | "python3" | "py" => Some(ExportLang::Python),
            "c" => Some(ExportLang::C),
            _ => None,
        }
    }
}

/// `socklab export --lang python|c FILE`: the program on standard output; exit status 2 when the
/// script does not parse or uses something the exporter cannot translate.
pub fn export(lang: ExportLang, file: &str) -> anyhow::Result<i32> {
    let source = read_source(file)?;
    // The exporters recurse along the tree: on a thread with the relay's export stack.
    let exported = std::thread::Builder::new()
        .name("socklab-export".into())
        .stack_size(crate::server::EXPORT_STACK)
        .spawn(move || export_script(lang, &source))?
        .join()
        .map_err(|_| anyhow::anyhow!("the export failed"))?;
    match exported {
        Ok(text) => {
            print!("{text}");
            Ok(0)
        }
        Err(NotExported::Parse(diagnostics)) => {
            for diagnostic in diagnostics {
                eprintln!("{file}:{diagnostic}");
            }
            Ok(2)
        }
        Err(NotExported::Refused(e)) => {
            eprintln!("{file}: {e}");
            Ok(2)
        }
    }
}

/// Why a script does not export.
#[derive(Debug)]
pub enum NotExported {
    /// It does not parse.
    Parse(Vec<socklab_lang::Diagnostic>),
    /// The exporter cannot translate something in it.
    Refused(export::ExportError),
}

/// `source` as a `lang` program, or why not. The exporters recurse along the
/// tree: callers run this on a thread of [`crate::server::EXPORT_STACK`].
pub fn export_script(lang: ExportLang, source: &str) -> Result<String, NotExported> {
    let parsed = socklab_lang::parse(source);
    if !parsed.diagnostics.is_empty() {
        return Err(NotExported::Parse(parsed.diagnostics));
    }
    let program = match lang {
        ExportLang::Python => export::python(source, &parsed.script),
        ExportLang::C => export::c(&parsed.script),
    };
    program.map_err(NotExported::Refused)
}

fn find(number: u32) -> anyhow::Result<&'static Lesson> {
    lessons::get(number).with_context(|| format!("there is no lesson {number}; `socklab lesson list` shows them"))
}

fn read_source(file: &str) -> anyhow::Result<String> {
    use std::io::Read;
    let mut source = String::new();
    if file == "-" {
        std::io::stdin().read_to_string(&mut source)?;
    } else {
        source = std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
    }
    Ok(source)
}

/// `socklab lesson …` on the command line.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum LessonCommand {
    /// List the lessons.
    List {
        /// Language of the text: en or zh.
        #[arg(long, default_value = "en", value_parser = parse_lang)]
        lang: Lang,
    },
    /// Show a lesson: explanation, steps, hints and the starter script.
    Show {
        number: u32,
        #[arg(long, default_value = "en", value_parser = parse_lang)]
        lang: Lang,
    },
    /// Run FILE (or the lesson's solution) and report each checkpoint; exit 0 when all pass.
    Check {
        number: u32,
        /// The script to check; without it, the lesson's own solution. `-` reads standard input.
        file: Option<String>,
        #[arg(long, default_value = "en", value_parser = parse_lang)]
        lang: Lang,
        /// One JSON object: steps with verdicts, and the transcript.
        #[arg(long)]
        json: bool,
        /// Allow SOCK_RAW when the run has no private network namespace (the ping lesson needs it).
        #[arg(long)]
        allow_raw: bool,
        /// Seconds with every lane blocked and nothing pending before the run counts as deadlocked.
        #[arg(long, default_value_t = 3.0)]
        deadlock_timeout: f64,
        #[command(flatten)]
        observe: crate::config::ObserveArgs,
    },
}

/// `socklab export --lang python|c FILE`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportCommand {
    /// python or c.
    #[arg(long, value_parser = parse_export_lang)]
    pub lang: ExportLang,
    /// The script, or `-` for standard input.
    pub file: String,
}

fn parse_lang(name: &str) -> Result<Lang, String> {
    Lang::parse(name).ok_or_else(|| format!("unknown language {name:?}: en or zh"))
}

fn parse_export_lang(name: &str) -> Result<ExportLang, String> {
    ExportLang::parse(name).ok_or_else(|| format!("unknown language {name:?}: python or c"))
}

/// Runs a `socklab lesson` command; returns the exit status.
pub fn lesson_main(command: LessonCommand, runtime: &tokio::runtime::Runtime) -> anyhow::Result<i32> {
    match command {
        LessonCommand::List { lang } => {
            print!("{}", list(lang));
            Ok(0)
        }
        LessonCommand::Show { number, lang } => {
            print!("{}", show(number, lang)?);
            Ok(0)
        }
        LessonCommand::Check { number, file, lang, json, allow_raw, deadlock_timeout, observe } => {
            let args = CheckArgs {
                number,
                file,
                lang,
                json,
                deadlock_timeout: Duration::try_from_secs_f64(deadlock_timeout)
                    .context("--deadlock-timeout must be a positive number of seconds")?,
            };
            let sandbox = Sandbox::new(crate::sandbox::SandboxConfig {
                allow_raw_in_host: allow_raw,
                observe: observe.observer(),
                ..crate::sandbox::SandboxConfig::default()
            })?;
            let checked = runtime.block_on(check(&args, &sandbox));
            sandbox.remove_base();
            checked
        }
    }
}
