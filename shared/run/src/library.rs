//! Library code a lane is in: what the page shows, read-only, while a lane
//! steps inside a library module written in Python (`socketserver`).

use serde::{Deserialize, Serialize};
use socklab_lang::interp::StackEntry;
use socklab_lang::names::Module;

/// Lines shown either side of the current line of library code.
pub const LIBRARY_CONTEXT: u32 = 4;

/// A library module's source around where a lane is in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryView {
    /// The module's file, `socketserver.py`.
    pub file: String,
    /// The function the lane is in there.
    pub function: String,
    /// The line the lane is on (1-based, the module's own numbering).
    pub line: u32,
    /// The number of the first line in `lines`.
    pub first_line: u32,
    pub lines: Vec<String>,
}

/// The library code a lane's innermost frame is in (its stack outermost
/// first), with `LIBRARY_CONTEXT` lines either side; None in the lane's own code.
pub fn library_view(stack: &[StackEntry]) -> Option<LibraryView> {
    let frame = stack.last()?;
    let module = frame.module?;
    let source = Module::from_name(module)?.source()?;
    let first_line = frame.line.saturating_sub(LIBRARY_CONTEXT).max(1);
    let count = (frame.line + LIBRARY_CONTEXT + 1).saturating_sub(first_line) as usize;
    let lines = source.lines().skip(first_line as usize - 1).take(count).map(str::to_owned).collect();
    Some(LibraryView { file: format!("{module}.py"), function: frame.function.clone(), line: frame.line, first_line, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_code_shows_around_the_lanes_line_in_it() {
        let own = StackEntry::own("<module>", 6);
        assert_eq!(library_view(std::slice::from_ref(&own)), None, "the lane's own code shows in its editor");
        let source = Module::Socketserver.source().unwrap_or_default();
        let line = 1 + source.lines().position(|l| l.contains("def handle_request(self):")).unwrap_or(0) as u32;
        let inner = StackEntry { function: "BaseServer.handle_request".into(), line: line + 1, module: Some("socketserver") };
        let view = library_view(&[own.clone(), inner]).expect("a library frame");
        assert_eq!((view.file.as_str(), view.function.as_str(), view.line), ("socketserver.py", "BaseServer.handle_request", line + 1));
        assert_eq!(view.first_line, line + 1 - LIBRARY_CONTEXT);
        assert_eq!(view.lines.len() as u32, 2 * LIBRARY_CONTEXT + 1);
        assert_eq!(view.lines[(view.line - view.first_line - 1) as usize].trim(), "def handle_request(self):");
        // Near the top of the file, the view starts at line 1.
        let top = library_view(&[own, StackEntry { function: "<module>".into(), line: 2, module: Some("selectors") }]);
        assert_eq!(top.map(|v| (v.first_line, v.lines.len())), Some((1, 2 + LIBRARY_CONTEXT as usize)));
    }
}
