//! A script's run driven by messages. The relay runs a client's script in
//! its session (`host`: the interpreter, the shared scheduler, the calls
//! made as the client's own would be) and tells the client what happened
//! (`page`: updates with transcript lines, lanes and marks); the page only
//! shows them, so it carries neither the parser nor the interpreter.

// The relay's side: the page carries only the message types.
#[cfg(not(target_arch = "wasm32"))]
pub mod host;
#[cfg(not(target_arch = "wasm32"))]
pub mod judge;
pub mod library;
pub mod line;
pub mod page;
pub mod runner;

/// Every allocation is counted in the tests, so a run's memory limit holds as in the relay.
#[cfg(test)]
#[global_allocator]
static ALLOC: socklab_lang::memory::Counting = socklab_lang::memory::Counting;
