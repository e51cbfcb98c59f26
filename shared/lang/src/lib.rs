//! The script language, sans-IO: source in, socket calls out, results in
//! (`docs/language.md` is the reference users read).
//!
//! Pipeline: [`lexer`] (text to tokens, with indentation and `# lane:` headers)
//! then [`parser`] (tokens to the [`ast`] tree) then [`check`] (unknown names).
//! [`parse`] runs them all and never fails: it returns the tree plus every
//! diagnostic it found. The interpreter ([`interp`]) runs the tree; [`transcript`] turns what
//! it and the kernel did into lines.
//! [`visit`] is the one walk over the tree that the checker and the exporters share.

pub mod ast;
mod check;
pub mod lexer;
pub mod memory;
pub mod literal;
pub mod names;
pub mod parser;
pub mod token;
pub mod interp;
pub mod order;
pub mod schedule;
pub mod transcript;
pub mod visit;

pub use ast::*;

use serde::{Deserialize, Serialize};

/// A problem in the source, at a 1-based line and column of the whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

/// The result of [`parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Usable (runnable) only if `diagnostics` is empty.
    pub script: Script,
    /// Sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn is_ok(&self) -> bool {
        self.diagnostics.is_empty()
    }
}

/// Parses a whole script. Never panics, whatever the input.
pub fn parse(source: &str) -> Parsed {
    let (script, diagnostics) = parser::parse_source(source);
    Parsed {
        script,
        diagnostics,
    }
}
