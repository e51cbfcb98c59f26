//! socklab's shared core. It does no I/O: the relay and the page both build on it.

pub mod binary;
pub mod consts;
pub mod errno;
pub mod export;
pub mod interp;
pub mod lessons;
pub mod lang;
pub mod protocol;
pub mod transcript;
