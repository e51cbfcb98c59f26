//! The relay's protocol decoder on arbitrary frames, text and binary: it must
//! name what is wrong and never panic, and what it accepts must survive a
//! round trip through its own encoding. The page's reader of relay messages
//! gets every text frame too, and must never panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use socklab::session::{Encoding, Incoming, SessionLimits, decode};
use socklab::wire::binary;
use socklab::wire::protocol::ClientMsg;

fuzz_target!(|data: &[u8]| {
    let limits = SessionLimits { max_message: 64 << 10, ..SessionLimits::default() };
    if let Ok(ClientMsg::Call { id, call }) = decode(Incoming::Binary(data.to_vec()), &limits, Encoding::WithBinary) {
        let again = binary::encode_call(id, &call).expect("a decoded binary call encodes");
        assert_eq!(again, data, "a binary call has one encoding");
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = socklab::run::page::decode::<socklab::wire::protocol::Call>(text);
    if let Ok(message) = decode(Incoming::Text(text.to_string()), &limits, Encoding::Json) {
        // What the relay understood, written back out, means the same thing.
        let again = serde_json::to_string(&message).expect("a decoded message encodes");
        let decoded = decode(Incoming::Text(again.clone()), &SessionLimits::default(), Encoding::Json);
        assert_eq!(decoded.as_ref().ok(), Some(&message), "{text:?} -> {again:?}");
    }
});
