//! Cross-crate integration tests live in tests/tests/; this library holds what
//! they share: `learner`, a simulated learner that takes lessons over the
//! WebSocket protocol, `relay`, the relay binary they run, and `corpus`, the
//! Python corpus's place and its PASSING list.

pub mod corpus;
pub mod learner;
pub mod relay;
