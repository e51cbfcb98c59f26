//! The relay's protocol decoder on arbitrary frames: it must name what is
//! wrong and never panic, and what it accepts must survive a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use socklab::session::{Incoming, SessionLimits, decode};

fuzz_target!(|data: &[u8]| {
    let limits = SessionLimits { max_message: 64 << 10, ..SessionLimits::default() };
    let Ok(text) = std::str::from_utf8(data) else {
        let _ = decode(Incoming::Binary(data.len()), &limits);
        return;
    };
    if let Ok(message) = decode(Incoming::Text(text.to_string()), &limits) {
        // What the relay understood, written back out, means the same thing.
        let again = serde_json::to_string(&message).expect("a decoded message encodes");
        let decoded = decode(Incoming::Text(again.clone()), &SessionLimits::default());
        assert_eq!(decoded.as_ref().ok(), Some(&message), "{text:?} -> {again:?}");
    }
});
