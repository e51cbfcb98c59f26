//! Binary frames: the data path of protocol v1 without JSON or base64.
//!
//! A client that offers the WebSocket subprotocol [`SUBPROTOCOL`] and gets it
//! may send `send`, `sendall` and `recv` calls as binary frames, and receives
//! every result whose value is none, an integer or bytes as a binary frame.
//! Everything else (hello, other calls, cancel, pending, errors, events) stays
//! JSON text, so the two encodings carry the same messages. Integers are
//! little-endian; a frame's payload bytes are the rest of the frame.
//!
//! | first byte | frame | layout after the first byte |
//! |---|---|---|
//! | `0x01` | call `send` | id u64, sock u32, flags i32, data… |
//! | `0x02` | call `sendall` | id u64, sock u32, flags i32, data… |
//! | `0x03` | call `recv` | id u64, sock u32, n u32, flags i32 |
//! | `0x81` | result, value none | id u64 |
//! | `0x82` | result, value int | id u64, value i64 |
//! | `0x83` | result, value bytes | id u64, data… |

use crate::op::Op;
use crate::protocol::{Bytes, Call, ClientMsg, Outcome, Ret, ServerMsg};

/// The WebSocket subprotocol that turns binary frames on.
pub const SUBPROTOCOL: &str = "socklab.bin.v1";

const RESULT_NONE: u8 = 0x81;
const RESULT_INT: u8 = 0x82;
const RESULT_BYTES: u8 = 0x83;

/// What is wrong with a binary frame: (call id when it could be read, message).
pub type FrameError = (Option<u64>, String);

/// Encode a call as a binary frame, when it has one (`send`, `sendall`, `recv`).
pub fn encode_call(id: u64, call: &Call) -> Option<Vec<u8>> {
    let tag = call.op().info().code?;
    let (sock, data, tail): (u32, &[u8], [i32; 2]) = match call {
        Call::Send { sock, data, flags } | Call::Sendall { sock, data, flags } => (*sock, data.as_slice(), [*flags, 0]),
        Call::Recv { sock, n, flags } => (*sock, &[], [*n as i32, *flags]),
        _ => return None,
    };
    let mut frame = Vec::with_capacity(21 + data.len());
    frame.push(tag);
    frame.extend_from_slice(&id.to_le_bytes());
    frame.extend_from_slice(&sock.to_le_bytes());
    frame.extend_from_slice(&tail[0].to_le_bytes());
    if matches!(call, Call::Recv { .. }) {
        frame.extend_from_slice(&tail[1].to_le_bytes());
    }
    frame.extend_from_slice(data);
    Some(frame)
}

/// Decode a client's binary frame into the message it stands for.
pub fn decode_call(frame: &[u8]) -> Result<ClientMsg, FrameError> {
    let Some((&tag, rest)) = frame.split_first() else {
        return Err((None, "an empty binary frame".into()));
    };
    let Some(op) = Op::from_code(tag) else {
        let known: Vec<String> =
            Op::ALL.iter().filter_map(|op| Some(format!("0x{:02x} {}", op.info().code?, op.name()))).collect();
        return Err((None, format!("unknown binary frame type 0x{tag:02x}; known: {}", known.join(", "))));
    };
    let (name, fixed) = (op.name(), if op == Op::Recv { 20 } else { 16 });
    let id = rest.get(..8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    if rest.len() < fixed {
        return Err((id, format!("binary {name} frame of {} bytes; it needs at least {}", frame.len(), fixed + 1)));
    }
    let id = id.expect("length checked");
    let word = |at: usize| <[u8; 4]>::try_from(&rest[at..at + 4]).expect("length checked");
    let sock = u32::from_le_bytes(word(8));
    let call = if op == Op::Recv {
        if rest.len() > fixed {
            return Err((Some(id), format!("binary recv frame of {} bytes; it has exactly {}", frame.len(), fixed + 1)));
        }
        Call::Recv { sock, n: u32::from_le_bytes(word(12)), flags: i32::from_le_bytes(word(16)) }
    } else {
        let flags = i32::from_le_bytes(word(12));
        let data = Bytes::new(&rest[fixed..]);
        if op == Op::Send { Call::Send { sock, data, flags } } else { Call::Sendall { sock, data, flags } }
    };
    Ok(ClientMsg::Call { id, call })
}

/// Encode a server message as a binary frame, when it has one (a result valued none, int or bytes).
pub fn encode_server(msg: &ServerMsg) -> Option<Vec<u8>> {
    let ServerMsg::Result { id, outcome: Outcome::Ok { value }, .. } = msg else {
        return None;
    };
    let int;
    let (tag, body): (u8, &[u8]) = match value {
        Ret::None => (RESULT_NONE, &[]),
        Ret::Int { value } => {
            int = value.to_le_bytes();
            (RESULT_INT, &int)
        }
        Ret::Bytes { data } => (RESULT_BYTES, data.as_slice()),
        _ => return None,
    };
    let mut frame = Vec::with_capacity(9 + body.len());
    frame.push(tag);
    frame.extend_from_slice(&id.to_le_bytes());
    frame.extend_from_slice(body);
    Some(frame)
}

/// Decode a relay's binary frame.
pub fn decode_server(frame: &[u8]) -> Result<ServerMsg, FrameError> {
    let Some((&tag, rest)) = frame.split_first() else {
        return Err((None, "an empty binary frame".into()));
    };
    let Some(id) = rest.get(..8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))) else {
        return Err((None, format!("binary frame of {} bytes; a result has at least 9", frame.len())));
    };
    let body = &rest[8..];
    let value = match (tag, body.len()) {
        (RESULT_NONE, 0) => Ret::None,
        (RESULT_INT, 8) => Ret::Int { value: i64::from_le_bytes(body.try_into().expect("8 bytes")) },
        (RESULT_BYTES, _) => Ret::Bytes { data: Bytes::new(body) },
        (RESULT_NONE | RESULT_INT, len) => {
            return Err((Some(id), format!("binary result 0x{tag:02x} with {len} bytes of value")));
        }
        (other, _) => return Err((Some(id), format!("unknown binary frame type 0x{other:02x}"))),
    };
    Ok(ServerMsg::Result { id, outcome: Outcome::Ok { value }, ts_us: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_round_trip() {
        let calls = [
            Call::Send { sock: 3, data: Bytes::new(&b"hello"[..]), flags: 0x40 },
            Call::Sendall { sock: u32::MAX, data: Bytes::new(vec![0u8; 70_000]), flags: 0 },
            Call::Send { sock: 1, data: Bytes::default(), flags: -1 },
            Call::Recv { sock: 7, n: 65536, flags: 0x100 },
        ];
        for (id, call) in calls.into_iter().enumerate() {
            let id = id as u64 * 0x1_0000_0001;
            let frame = encode_call(id, &call).expect("has a binary frame");
            assert_eq!(decode_call(&frame), Ok(ClientMsg::Call { id, call }));
        }
        assert_eq!(encode_call(1, &Call::Close { sock: 1 }), None);
    }

    #[test]
    fn results_round_trip() {
        let values = [Ret::None, Ret::Int { value: -5 }, Ret::Bytes { data: Bytes::new(&b"\0\xffx"[..]) }];
        for value in values {
            let msg = ServerMsg::Result { id: 42, outcome: Outcome::Ok { value }, ts_us: None };
            let frame = encode_server(&msg).expect("has a binary frame");
            assert_eq!(decode_server(&frame), Ok(msg));
        }
        assert_eq!(encode_server(&ServerMsg::Pending { id: 1 }), None);
    }

    #[test]
    fn bad_frames_are_named() {
        let cases: [(&[u8], Option<u64>, &str); 5] = [
            (b"", None, "empty"),
            (b"\x09abc", None, "unknown binary frame type 0x09"),
            (b"\x01\x05\0\0\0\0\0\0\0\x01", Some(5), "send frame of 10 bytes; it needs at least 17"),
            (b"\x03\x01\0\0", None, "recv frame of 4 bytes"),
            (&[3, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9], Some(2), "it has exactly 21"),
        ];
        for (frame, id, needle) in cases {
            let (got_id, message) = decode_call(frame).unwrap_err();
            assert_eq!(got_id, id, "{frame:?}");
            assert!(message.contains(needle), "{frame:?}: {message}");
        }
    }
}
