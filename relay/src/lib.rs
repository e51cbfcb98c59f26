//! socklab's relay: runs socket calls on real kernel sockets for WebSocket
//! sessions and for `socklab run`, and serves the playground page.

pub mod assets;
pub mod capacity;
pub mod config;
pub mod cores;
pub mod exec;
pub mod limits;
pub mod listen;
pub mod metrics;
pub mod pcapng;
pub mod peers;
pub mod reaper;
pub mod sandbox;
pub mod session;
pub mod server;
pub mod workers;
pub mod cli;
pub mod engine;
pub mod lessons_cli;

/// The shared crates the relay is built on, for the fuzz targets.
pub use socklab_lang as lang;
pub use socklab_run as run;
pub use socklab_wire as wire;
