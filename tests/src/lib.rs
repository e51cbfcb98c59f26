//! Cross-crate integration tests live in tests/tests/; this library holds what
//! they share: `learner`, a simulated learner that takes lessons over the
//! WebSocket protocol.

pub mod learner;
