//! Where the Python corpus is (`tests/corpus/`, see its README) and which of
//! its programs socklab runs as CPython does.

use std::path::PathBuf;

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The programs that must match under socklab: `PASSING`, one name a line
/// (blank lines and `#` comments allowed).
pub fn passing() -> Vec<String> {
    let text = std::fs::read_to_string(corpus_dir().join("PASSING")).expect("tests/corpus/PASSING exists");
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}
