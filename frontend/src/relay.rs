//! The one hook that owns the WebSocket to the relay: it says hello, runs
//! scripts through a `Runner`, and reports everything to the page's reducer.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use socklab_shared::interp::Interpreter;
use socklab_shared::protocol::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};
use yew::prelude::*;

use crate::runner::{Drive, Runner};
use crate::state::{Action, Connection, State};
use crate::transcript::{Line, LineKind};

/// What the page can ask of the relay.
#[derive(Clone, PartialEq)]
pub struct RelayHandle {
    /// Parse and run this script.
    pub run: Callback<String>,
    /// Stop the run in progress.
    pub stop: Callback<()>,
}

/// The relay's WebSocket URL for a page at `protocol//host` (`http:`/`https:`).
pub fn socket_url(protocol: &str, host: &str) -> String {
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/ws")
}

/// The access token from a URL fragment such as `#token=abc` (other
/// `key=value` pairs, joined by `&`, are ignored).
pub fn token_from_fragment(fragment: &str) -> Option<String> {
    fragment
        .trim_start_matches('#')
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
}

/// Connects on mount, closes on unmount.
#[hook]
pub fn use_relay(dispatch: UseReducerDispatcher<State>) -> RelayHandle {
    let session = use_mut_ref(Session::default);
    {
        let session = session.clone();
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            connect(&session, dispatch);
            move || {
                if let Some(socket) = session.borrow_mut().socket.take() {
                    // Already closed or never opened: nothing more to do.
                    let _ = socket.close();
                }
            }
        });
    }
    let run = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |source: String| start_run(&session, &dispatch, &source))
    };
    let stop = Callback::from(move |()| {
        let drive = session.borrow_mut().runner.as_mut().map(Runner::stop);
        if let Some(mut drive) = drive {
            drive.lines.push(Line::new(LineKind::Note, "stopped"));
            apply(&session, &dispatch, drive);
        }
    });
    RelayHandle { run, stop }
}

/// What lives as long as the page: the socket and the run in progress.
#[derive(Default)]
struct Session {
    socket: Option<WebSocket>,
    runner: Option<Runner<Interpreter>>,
    /// Call ids must not repeat within a session, so runs continue the count.
    next_id: u64,
    /// The socket's JS callbacks; dropping them would detach the handlers.
    handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

type Shared = Rc<RefCell<Session>>;

fn now() -> f64 {
    js_sys::Date::now() / 1000.0
}

fn connect(session: &Shared, dispatch: UseReducerDispatcher<State>) {
    let closed = |reason: String| Action::Connection(Connection::Closed { reason });
    let Some(location) = web_sys::window().map(|window| window.location()) else {
        return dispatch.dispatch(closed("no window".into()));
    };
    let url = socket_url(&location.protocol().unwrap_or_default(), &location.host().unwrap_or_default());
    let token = token_from_fragment(&location.hash().unwrap_or_default());
    let socket = match WebSocket::new(&url) {
        Ok(socket) => socket,
        Err(error) => return dispatch.dispatch(closed(format!("cannot open {url}: {error:?}"))),
    };

    let hello = serde_json::to_string(&ClientMsg::Hello { version: PROTOCOL_VERSION, token }).expect("hello serializes");
    let on_open = {
        let socket = socket.clone();
        move |_: web_sys::Event| {
            // A failed send shows up as a close event.
            let _ = socket.send_with_str(&hello);
        }
    };
    let on_message = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        move |event: web_sys::Event| {
            let text = event.unchecked_into::<MessageEvent>().data().as_string();
            on_text(&session, &dispatch, text.as_deref().unwrap_or_default());
        }
    };
    let on_close = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        move |event: web_sys::Event| {
            let event = event.unchecked_into::<CloseEvent>();
            let reason = match event.reason() {
                reason if reason.is_empty() => format!("connection closed (code {})", event.code()),
                reason => reason,
            };
            let lines = session.borrow_mut().runner.take().map(|mut runner| runner.abandon());
            if let Some(mut lines) = lines {
                lines.push(Line::new(LineKind::Problem, format!("run abandoned: {reason}")));
                dispatch.dispatch(Action::Output(lines));
                dispatch.dispatch(Action::Ended);
            }
            dispatch.dispatch(closed(reason));
        }
    };

    let mut session = session.borrow_mut();
    for (set, handler) in [
        (WebSocket::set_onopen as fn(&WebSocket, Option<&js_sys::Function>), Box::new(on_open) as Box<dyn FnMut(_)>),
        (WebSocket::set_onmessage, Box::new(on_message)),
        (WebSocket::set_onclose, Box::new(on_close)),
    ] {
        let closure = Closure::wrap(handler);
        set(&socket, Some(closure.as_ref().unchecked_ref()));
        session.handlers.push(closure);
    }
    session.socket = Some(socket);
}

fn on_text(session: &Shared, dispatch: &UseReducerDispatcher<State>, text: &str) {
    let msg = match serde_json::from_str::<ServerMsg>(text) {
        Ok(msg) => msg,
        Err(error) => {
            let line = Line::new(LineKind::Problem, format!("unreadable message from the relay: {error}"));
            return dispatch.dispatch(Action::Output(vec![line]));
        }
    };
    if let ServerMsg::Hello { server, mode, .. } = msg {
        return dispatch.dispatch(Action::Connection(Connection::Open { server, mode }));
    }
    let drive = session.borrow_mut().runner.as_mut().map(|runner| runner.on_message(msg.clone(), now()));
    match (drive, msg) {
        (Some(drive), _) => apply(session, dispatch, drive),
        // Between runs the kernel still reports, e.g. a TIME_WAIT ending.
        (None, ServerMsg::Event { event }) => {
            if let Some(line) = Line::event(&event, |_| None) {
                dispatch.dispatch(Action::Output(vec![line]));
            }
        }
        (None, ServerMsg::Error { code, message, .. }) => {
            dispatch.dispatch(Action::Output(vec![Line::relay_error(code, &message)]))
        }
        (None, _) => {}
    }
}

fn start_run(session: &Shared, dispatch: &UseReducerDispatcher<State>, source: &str) {
    let first_id = session.borrow().next_id;
    match Runner::from_source(source, first_id) {
        Err(diagnostics) => dispatch.dispatch(Action::Rejected(diagnostics.iter().map(Line::diagnostic).collect())),
        Ok(mut runner) => {
            dispatch.dispatch(Action::Started { paused: false });
            let drive = runner.drive(now());
            session.borrow_mut().runner = Some(runner);
            apply(session, dispatch, drive);
        }
    }
}

/// Sends what the runner asked for, shows its lines, and keeps it going.
fn apply(session: &Shared, dispatch: &UseReducerDispatcher<State>, drive: Drive) {
    let Drive { send, lines, again } = drive;
    let finished = {
        let mut session = session.borrow_mut();
        if let Some(socket) = &session.socket {
            for msg in &send {
                let text = serde_json::to_string(msg).expect("client messages serialize");
                // A failed send shows up as a close event, which ends the run.
                let _ = socket.send_with_str(&text);
            }
        }
        let finished = session.runner.as_ref().is_some_and(Runner::is_finished);
        if finished {
            let runner = session.runner.take().expect("checked above");
            session.next_id = runner.next_id();
        }
        finished
    };
    if !lines.is_empty() {
        dispatch.dispatch(Action::Output(lines));
    }
    if finished {
        dispatch.dispatch(Action::Ended);
    } else if again {
        // Let the browser paint and handle input before the next batch of steps.
        let (session, dispatch) = (session.clone(), dispatch.clone());
        yew::platform::spawn_local(async move {
            yew::platform::time::sleep(Duration::ZERO).await;
            let drive = session.borrow_mut().runner.as_mut().map(|runner| runner.drive(now()));
            if let Some(drive) = drive {
                apply(&session, &dispatch, drive);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_url_follows_the_page() {
        assert_eq!(socket_url("http:", "127.0.0.1:7878"), "ws://127.0.0.1:7878/ws");
        assert_eq!(socket_url("https:", "lab.example"), "wss://lab.example/ws");
    }

    #[test]
    fn the_token_comes_from_the_fragment() {
        assert_eq!(token_from_fragment("#token=abc123"), Some("abc123".into()));
        assert_eq!(token_from_fragment("#lesson=2&token=xyz"), Some("xyz".into()));
        assert_eq!(token_from_fragment("#token="), None);
        assert_eq!(token_from_fragment(""), None);
    }
}
