//! One WebSocket session: protocol messages in, call results and events out.
//!
//! The loop is generic over a stream of incoming frames and a sink of outgoing
//! text so tests can drive it through channels; `server` plugs in the socket.
//! Calls may be pending at once; each waits in `pending` and answers when it
//! ends, so answers can come out of order. Ending the session drops the
//! executor, which closes every socket the session made.

use std::collections::HashMap;

use futures::future::{AbortHandle, Abortable, BoxFuture};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use socklab_shared::protocol::{
    Call, ClientMsg, ErrorCode, Event, OP_NAMES, Outcome, PROTOCOL_VERSION, ServerMsg,
};
use tokio_util::sync::CancellationToken;

use crate::exec::{ExecError, Started};
use crate::sandbox::{Sandbox, SessionEnv};

/// A frame from the client, reduced to what the protocol cares about.
#[derive(Debug)]
pub enum Incoming {
    Text(String),
    Binary(usize),
    /// A frame larger than the relay accepts; its size.
    TooLarge(usize),
}

/// Per-session limits.
#[derive(Debug, Clone)]
pub struct SessionLimits {
    /// Largest text message acted on; larger ones get an error and the session goes on.
    pub max_message: usize,
    /// Calls waiting at once.
    pub max_pending: usize,
}

impl Default for SessionLimits {
    fn default() -> SessionLimits {
        SessionLimits { max_message: 1 << 20, max_pending: 64 }
    }
}

/// Who may open a session.
#[derive(Clone)]
pub struct Access {
    /// The token the hello must carry; compared in constant time.
    pub token: Option<String>,
}

impl Access {
    fn allows(&self, given: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        match &self.token {
            None => true,
            Some(want) => given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(want.as_bytes()))),
        }
    }
}

type PendingResult = (u64, Result<crate::exec::Raw, ExecError>);

/// Run one session until the client leaves or `shutdown` fires.
pub async fn run<I, O, E>(
    mut incoming: I,
    mut outgoing: O,
    sandbox: &Sandbox,
    access: Access,
    limits: SessionLimits,
    shutdown: CancellationToken,
) where
    I: Stream<Item = Incoming> + Unpin,
    O: Sink<String, Error = E> + Unpin,
{
    let mut out = Outbox { sink: &mut outgoing, ok: true };

    // Hello first: version and token.
    loop {
        let frame = tokio::select! {
            frame = incoming.next() => frame,
            () = shutdown.cancelled() => return,
        };
        let Some(frame) = frame else { return };
        match decode(frame, &limits) {
            Ok(ClientMsg::Hello { version, token }) => {
                if version != PROTOCOL_VERSION {
                    out.error(
                        None,
                        ErrorCode::VersionMismatch,
                        format!("this relay speaks protocol version {PROTOCOL_VERSION}; the client asked for version {version}"),
                    )
                    .await;
                    return;
                }
                if !access.allows(token.as_deref()) {
                    out.error(None, ErrorCode::Unauthorized, "missing or wrong token: open the URL the relay printed".into())
                        .await;
                    return;
                }
                break;
            }
            Ok(_) => {
                out.error(None, ErrorCode::NotHelloFirst, "send a hello with the protocol version first".into()).await
            }
            Err(rejection) => out.reject(rejection).await,
        }
        if !out.ok {
            return;
        }
    }

    let env = match sandbox.new_session() {
        Ok(env) => env,
        Err(e) => {
            out.error(None, ErrorCode::Internal, format!("could not set up a session: {e}")).await;
            return;
        }
    };
    let SessionEnv { mut exec, mut observer, dir: _dir } = env;
    out.send(&ServerMsg::Hello {
        version: PROTOCOL_VERSION,
        mode: sandbox.mode(),
        capabilities: sandbox.capabilities(),
        server: format!("socklab {}", env!("CARGO_PKG_VERSION")),
    })
    .await;

    let mut pending: FuturesUnordered<BoxFuture<'static, Result<PendingResult, futures::future::Aborted>>> =
        FuturesUnordered::new();
    let mut aborts: HashMap<u64, AbortHandle> = HashMap::new();

    while out.ok {
        tokio::select! {
            frame = incoming.next() => {
                let Some(frame) = frame else { break };
                match decode(frame, &limits) {
                    Ok(ClientMsg::Call { id, call }) => {
                        if aborts.contains_key(&id) {
                            out.error(Some(id), ErrorCode::DuplicateId, format!("call {id} is still pending; use a new id")).await;
                        } else if aborts.len() >= limits.max_pending {
                            out.error(Some(id), ErrorCode::LimitExceeded, format!("{} calls are already pending, the most allowed", limits.max_pending)).await;
                        } else {
                            start_call(id, call, &mut exec, &mut out, &mut pending, &mut aborts).await;
                        }
                    }
                    Ok(ClientMsg::Cancel { id }) => match aborts.remove(&id) {
                        Some(handle) => {
                            handle.abort();
                            out.send(&ServerMsg::Result { id, outcome: Outcome::Cancelled }).await;
                        }
                        None => out.error(Some(id), ErrorCode::UnknownCall, format!("no pending call with id {id}")).await,
                    },
                    Ok(ClientMsg::Hello { .. }) => {
                        out.error(None, ErrorCode::UnknownType, "this session has already said hello".into()).await;
                    }
                    Err(rejection) => out.reject(rejection).await,
                }
            }
            Some(done) = pending.next(), if !pending.is_empty() => {
                // An aborted call was already answered as cancelled.
                if let Ok((id, raw)) = done {
                    aborts.remove(&id);
                    let result = exec.finish(raw);
                    answer(id, result, &mut exec, &mut out).await;
                }
            }
            event = observer.next_event() => {
                out.send(&ServerMsg::Event { event }).await;
            }
            () = shutdown.cancelled() => {
                out.error(None, ErrorCode::Internal, "the relay is shutting down".into()).await;
                break;
            }
        }
    }
    // Dropping `pending` lets go of every socket a waiting call holds; dropping `exec` closes them all.
    drop(pending);
    drop(exec);
}

async fn start_call<O: Sink<String> + Unpin>(
    id: u64,
    call: Call,
    exec: &mut crate::exec::Executor,
    out: &mut Outbox<'_, O>,
    pending: &mut FuturesUnordered<BoxFuture<'static, Result<PendingResult, futures::future::Aborted>>>,
    aborts: &mut HashMap<u64, AbortHandle>,
) {
    match exec.start(call) {
        Started::Done(result) => answer(id, result, exec, out).await,
        Started::Pending(mut call) => {
            send_events(exec.take_events(), out).await;
            out.send(&ServerMsg::Pending { id }).await;
            let (handle, registration) = AbortHandle::new_pair();
            aborts.insert(id, handle);
            let wait = async move { (id, call.drive().await) };
            pending.push(Abortable::new(wait, registration).boxed());
        }
    }
}

/// Send the events the call caused, then its result.
async fn answer<O: Sink<String> + Unpin>(
    id: u64,
    result: Result<socklab_shared::protocol::Ret, ExecError>,
    exec: &mut crate::exec::Executor,
    out: &mut Outbox<'_, O>,
) {
    send_events(exec.take_events(), out).await;
    match result {
        Ok(value) => out.send(&ServerMsg::Result { id, outcome: Outcome::Ok { value } }).await,
        Err(e) => match e.to_os_error() {
            Some(error) => out.send(&ServerMsg::Result { id, outcome: Outcome::Err { error } }).await,
            None => {
                let code = match e {
                    ExecError::UnknownSocket(_) => ErrorCode::UnknownSocket,
                    ExecError::Limit(_) => ErrorCode::LimitExceeded,
                    _ => ErrorCode::BadArguments,
                };
                out.error(Some(id), code, e.to_string()).await;
            }
        },
    }
}

async fn send_events<O: Sink<String> + Unpin>(events: Vec<Event>, out: &mut Outbox<'_, O>) {
    for event in events {
        out.send(&ServerMsg::Event { event }).await;
    }
}

/// A message the relay could not act on: (call id if known, code, message).
type Rejection = (Option<u64>, ErrorCode, String);

/// Parse one frame, naming exactly what is wrong with it.
pub fn decode(frame: Incoming, limits: &SessionLimits) -> Result<ClientMsg, Rejection> {
    let text = match frame {
        Incoming::Text(text) if text.len() <= limits.max_message => text,
        Incoming::Text(text) => return Err(too_large(text.len(), limits)),
        Incoming::TooLarge(size) => return Err(too_large(size, limits)),
        Incoming::Binary(_) => {
            return Err((None, ErrorCode::InvalidJson, "binary frames are not part of protocol v1: send JSON text".into()));
        }
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| (None, ErrorCode::InvalidJson, format!("invalid JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err((None, ErrorCode::InvalidJson, "a message must be a JSON object".into()));
    };
    let id = object.get("id").and_then(serde_json::Value::as_u64);
    let kind = object.get("type").and_then(serde_json::Value::as_str).ok_or((
        id,
        ErrorCode::UnknownType,
        "the message has no \"type\" field (hello, call or cancel)".to_string(),
    ))?;
    if kind == "call" {
        let op = object.get("call").and_then(|c| c.get("op")).and_then(serde_json::Value::as_str);
        match op {
            None => return Err((id, ErrorCode::BadArguments, "a call needs \"call\": {\"op\": ...}".into())),
            Some(op) if !OP_NAMES.contains(&op) => {
                return Err((id, ErrorCode::UnknownOp, format!("unknown op \"{op}\"; known ops: {}", OP_NAMES.join(", "))));
            }
            Some(_) => {}
        }
    } else if !matches!(kind, "hello" | "cancel") {
        return Err((id, ErrorCode::UnknownType, format!("unknown message type \"{kind}\"; expected hello, call or cancel")));
    }
    let what = match object.get("call").and_then(|c| c.get("op")).and_then(serde_json::Value::as_str) {
        Some(op) => format!("op \"{op}\""),
        None => kind.to_string(),
    };
    serde_json::from_value::<ClientMsg>(value)
        .map_err(|e| (id, ErrorCode::BadArguments, format!("bad arguments for {what}: {e}")))
}

fn too_large(size: usize, limits: &SessionLimits) -> Rejection {
    (
        None,
        ErrorCode::TooLarge,
        format!("message of {size} bytes is larger than the {} bytes this relay accepts", limits.max_message),
    )
}

/// The outgoing half; remembers when the client has gone so the loop stops.
struct Outbox<'a, O> {
    sink: &'a mut O,
    ok: bool,
}

impl<O: Sink<String> + Unpin> Outbox<'_, O> {
    async fn send(&mut self, msg: &ServerMsg) {
        if !self.ok {
            return;
        }
        let text = match serde_json::to_string(msg) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, "could not encode a message");
                return;
            }
        };
        if self.sink.send(text).await.is_err() {
            self.ok = false;
        }
    }

    async fn error(&mut self, id: Option<u64>, code: ErrorCode, message: String) {
        self.send(&ServerMsg::Error { id, code, message }).await;
    }

    async fn reject(&mut self, (id, code, message): Rejection) {
        self.error(id, code, message).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Incoming {
        Incoming::Text(s.to_string())
    }

    #[test]
    fn decode_names_the_problem() {
        let limits = SessionLimits::default();
        let cases = [
            ("{", ErrorCode::InvalidJson, "invalid JSON"),
            ("[1]", ErrorCode::InvalidJson, "JSON object"),
            (r#"{"id":1}"#, ErrorCode::UnknownType, "no \"type\""),
            (r#"{"type":"dance"}"#, ErrorCode::UnknownType, "unknown message type \"dance\""),
            (r#"{"type":"call","id":4,"call":{"op":"frobnicate"}}"#, ErrorCode::UnknownOp, "unknown op \"frobnicate\""),
            (r#"{"type":"call","id":5,"call":{"op":"recv","sock":"x","n":1}}"#, ErrorCode::BadArguments, "bad arguments for op \"recv\""),
        ];
        for (input, code, needle) in cases {
            let (_, got_code, message) = decode(text(input), &limits).unwrap_err();
            assert_eq!(got_code, code, "{input}");
            assert!(message.contains(needle), "{input}: {message}");
        }
        let (id, _, _) = decode(text(r#"{"type":"call","id":5,"call":{"op":"recv"}}"#), &limits).unwrap_err();
        assert_eq!(id, Some(5));
        let big = "x".repeat(limits.max_message + 1);
        assert_eq!(decode(Incoming::Text(big), &limits).unwrap_err().1, ErrorCode::TooLarge);
    }

    #[test]
    fn token_is_required_when_set() {
        let access = Access { token: Some("secret".into()) };
        assert!(access.allows(Some("secret")));
        assert!(!access.allows(Some("secreT")));
        assert!(!access.allows(None));
    }
}
