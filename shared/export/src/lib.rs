//! Export a script as a real program: Python 3 (the script's own lanes, each
//! run as its own `python3` process by a launcher) or C (a pthread per lane).
//! Pure string generation from the source and its parsed [`Script`], so the
//! page and `socklab export` produce the same text.
//!
//! Both programs keep the playground's two promises that matter for output:
//! each lane's printed lines come out prefixed with `[lane] `, and lanes start
//! in file order, each one once the previous lane has finished or waits (so a
//! server listens before its client connects).

mod c;
mod python;
mod walk;

use socklab_lang::Script;

pub use c::c;
pub use python::python;

/// A construct the exporter cannot translate, with where it is: shown as
/// `line 12: class Handler: the C export does not translate classes`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ExportError {
    pub line: u32,
    pub target: &'static str,
    pub message: String,
}

/// Either exporter, by its `--lang` name (`python` or `c`), of `script` parsed from `source`.
pub fn export(lang: &str, source: &str, script: &Script) -> Result<String, ExportError> {
    match lang {
        "python" | "python3" | "py" => python(source, script),
        "c" => c(script),
        other => Err(ExportError {
            line: 0,
            target: "?",
            message: format!("unknown language {other:?}: python or c"),
        }),
    }
}

/// Lanes on hosts run in namespaces of their own, linked: an exported program
/// runs on one machine, so a script with hosts is refused at its first host.
fn refuse_hosts(script: &Script, target: &'static str) -> Result<(), ExportError> {
    match script.lanes.iter().find(|lane| lane.host.is_some()) {
        Some(lane) => Err(ExportError {
            line: lane.line,
            target,
            message: format!(
                "lane '{}' runs on host '{}': the {target} export runs every lane on one machine and cannot make hosts",
                lane.name,
                lane.host.as_deref().unwrap_or_default()
            ),
        }),
        None => Ok(()),
    }
}

/// The prefix every exported lane puts before its printed lines; tests split output with it.
pub fn lane_prefix(lane: &str) -> String {
    format!("[{lane}] ")
}


#[cfg(test)]
mod tests;
