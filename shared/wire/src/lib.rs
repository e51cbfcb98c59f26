//! The wire between a client (the page, the CLI's engine, tests) and the relay:
//! message types (`protocol`), the binary codec of the data path (`binary`),
//! and Linux's numbers and errno names (`consts`, `errno`). No I/O.

pub mod binary;
pub mod consts;
pub mod decimal;
pub mod errno;
pub mod network;
mod named;
pub mod op;
pub mod protocol;
pub mod tcp;
pub mod tag_first;
pub mod tcpinfo;
