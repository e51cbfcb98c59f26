//! socklab's shared core. It does no I/O: the relay and the page both build on it.

pub mod errno;
pub mod protocol;
