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
    /// The lane name threads are named after (`server/thread-1`).
    pub name: String,
    pub lib: LibState,
    pub modules: HashMap<Module, Namespace>,
    pub threads_started: u32,
    pub children_started: u32,
}

pub type ProcessRef = Arc<Mutex<Process>>;

impl Process {
    pub fn new(lane: &str) -> ProcessRef {
        Arc::new(Mutex::new(Process {
            name: lane.to_string(),
            lib: LibState::new(lane),
            modules: HashMap::new(),
            threads_started: 0,
            children_started: 0,
        }))
    }
}
