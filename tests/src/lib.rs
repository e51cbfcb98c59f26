//! Cross-crate integration tests live in tests/tests/; this library holds what
//! they share: `learner`, a simulated learner that takes lessons over the
//! WebSocket protocol, and `relay`, the relay binary they run.

pub mod learner;
pub mod relay;
