//! A program: what the threads of one lane share, and what `os.fork()` copies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::library::LibState;
use super::value::Namespace;
use crate::names::Module;

/// One program's state besides its globals: the library modules' state and
/// the library modules written in Python, loaded on first use.
#[derive(Debug)]
pub struct Process {
    pub lib: LibState,
    pub modules: HashMap<Module, Namespace>,
}

pub type ProcessRef = Arc<Mutex<Process>>;

impl Process {
    pub fn new(lane: &str) -> ProcessRef {
        Arc::new(Mutex::new(Process {
            lib: LibState::new(lane),
            modules: HashMap::new(),
        }))
    }
}
