//! The script parser on arbitrary text: a tree plus diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        let parsed = socklab::lang::parse(source);
        // Diagnostics point inside the source.
        for diagnostic in &parsed.diagnostics {
            let _ = format!("{diagnostic:?}");
        }
    }
});
