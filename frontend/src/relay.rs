//! The one hook that owns the WebSocket to the relay: it says hello, runs
//! scripts through a `Runner`, and reports everything to the page's reducer.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use socklab_lang::interp::Interpreter;
use socklab_wire::network::LinkConditions;
use socklab_wire::protocol::{Call, ClientMsg, Event, MAX_PCAP_MARKS, PROTOCOL_VERSION, PcapMark, ServerMsg};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};
use yew::prelude::*;

use crate::runner::{Drive, Runner, choose_step};
use crate::state::{Action, Connection, State};
use crate::transcript::{Line, LineKind};

/// What the page can ask of the relay.
#[derive(Clone, PartialEq)]
pub struct RelayHandle {
    /// Parse and run this script (or run on, if a stepped run is paused).
    pub run: Callback<String>,
    /// Stop the run in progress.
    pub stop: Callback<()>,
    /// Step one statement of the named lane (or, with the first `true`, step
    /// over its calls), starting a paused run if needed; with the second
    /// `true`, a lane that cannot step hands the step to the lane Run would
    /// pick (`runner::choose_step`).
    pub step: Callback<(String, String, bool, bool)>,
    /// Pause a run: lanes then run only when stepped.
    pub pause: Callback<()>,
    /// Cancel the call the named lane is blocked in.
    pub cancel: Callback<String>,
    /// A line for the named lane's `input()`, or None for the end of its input.
    pub input: Callback<(String, Option<String>)>,
    /// Close every socket of the session (a fresh session) and clear the run.
    pub reset: Callback<()>,
    /// Connect again (after a loss, or to the relay the settings name).
    pub reconnect: Callback<()>,
    /// Set a link's conditions: `lab_link(a, b, …)`, sent between steps.
    pub link: Callback<(String, Option<String>, LinkConditions)>,
    /// Ask the relay for the session's capture and save it as a pcapng file.
    pub pcap: Callback<()>,
}

/// Ids of the page's own requests (link controls, the capture), far above any run's calls.
const PAGE_IDS: u64 = 1 << 40;

/// The file a capture download is saved as.
pub const PCAP_FILE: &str = "socklab.pcapng";

/// Where the page connects: the settings panel's choice, kept for the tab.
pub const URL_KEY: &str = "socklab.relay_url";
/// The access token, read once from the start-up URL and kept for the tab.
pub const TOKEN_KEY: &str = "socklab.token";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// A value kept for the tab.
pub fn kept(key: &str) -> Option<String> {
    session_storage()?.get_item(key).ok().flatten().filter(|value| !value.is_empty())
}

/// Keeps (or, empty, forgets) a value for the tab.
pub fn keep(key: &str, value: &str) {
    if let Some(storage) = session_storage() {
        // Storage can be full or disabled: the page still works for this load.
        let _ = if value.is_empty() { storage.remove_item(key) } else { storage.set_item(key, value) };
    }
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
        Callback::from(move |source: String| {
            let drive = session.borrow_mut().runner.as_mut().map(|runner| {
                runner.set_paused(false);
                runner.drive(now())
            });
            match drive {
                Some(drive) => {
                    dispatch.dispatch(Action::Paused(false));
                    apply(&session, &dispatch, drive);
                }
                None => {
                    start_run(&session, &dispatch, &source, false);
                }
            }
        })
    };
    let step = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |(source, lane, over, follow): (String, String, bool, bool)| {
            if session.borrow().runner.is_none() && !start_run(&session, &dispatch, &source, true) {
                return;
            }
            let drive = session.borrow_mut().runner.as_mut().map(|runner| {
                runner.set_paused(true);
                // A blocked lane does not dead-end Step: the lane Run would pick moves, and the page says so.
                let choice = choose_step(&runner.lane_views(), &lane, follow);
                let drive = match choice.lane {
                    Some(index) if over => runner.step_over_lane(index, now()),
                    Some(index) => runner.step_lane(index, now()),
                    None => Drive::default(),
                };
                (drive, choice.note)
            });
            if let Some((drive, note)) = drive {
                dispatch.dispatch(Action::Paused(true));
                dispatch.dispatch(Action::StepNote(note));
                apply(&session, &dispatch, drive);
            }
        })
    };
    let pause = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |()| {
            if let Some(runner) = session.borrow_mut().runner.as_mut() {
                runner.set_paused(true);
                dispatch.dispatch(Action::Paused(true));
            }
        })
    };
    let cancel = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |lane: String| {
            let drive = session.borrow_mut().runner.as_mut().and_then(|runner| {
                let index = runner.lane_views().iter().position(|view| view.name == lane)?;
                Some(runner.cancel_lane(index))
            });
            if let Some(drive) = drive {
                apply(&session, &dispatch, drive);
            }
        })
    };
    let stop = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |()| stop_run(&session, &dispatch))
    };
    let reconnect = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |()| reconnect_now(&session, &dispatch))
    };
    let input = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |(lane, line): (String, Option<String>)| {
            let drive = session.borrow_mut().runner.as_mut().map(|runner| runner.feed_input(&lane, line.as_deref(), now()));
            if let Some(drive) = drive {
                apply(&session, &dispatch, drive);
            }
        })
    };
    let link = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |(a, b, conditions): (String, Option<String>, LinkConditions)| {
            let call = Call::LabLink { a, b, conditions };
            let id = page_request(&session, |id| ClientMsg::Call { id, call: call.clone() });
            dispatch.dispatch(Action::LinkSent { id, call });
            if session.borrow().socket.is_none() {
                dispatch.dispatch(Action::Refused { id, message: "not connected to the relay".into() });
            }
        })
    };
    let pcap = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |()| {
            let marks = session.borrow().marks.clone();
            let id = page_request(&session, |id| ClientMsg::Pcap { id, marks: marks.clone() });
            session.borrow_mut().pcap_id = Some(id);
            dispatch.dispatch(Action::Pcap(None));
        })
    };
    let reset = Callback::from(move |()| {
        stop_run(&session, &dispatch);
        // A new session: the relay closes every socket of the old one.
        reconnect_now(&session, &dispatch);
        dispatch.dispatch(Action::Reset);
    });
    RelayHandle { run, stop, step, pause, cancel, input, reset, reconnect, link, pcap }
}

/// Sends a request of the page's own with a fresh id; returns the id.
fn page_request(session: &Shared, msg: impl FnOnce(u64) -> ClientMsg) -> u64 {
    let mut session = session.borrow_mut();
    session.next_page_id += 1;
    let id = PAGE_IDS + session.next_page_id;
    if let Some(socket) = &session.socket {
        let text = serde_json::to_string(&msg(id)).expect("client messages serialize");
        // A failed send shows up as a close event.
        let _ = socket.send_with_str(&text);
    }
    id
}

/// Saves `data` as a file through the browser's download.
fn save_file(name: &str, data: &[u8]) -> Result<(), wasm_bindgen::JsValue> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(data));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The download has its own copy once it started; the URL can go a little later.
    yew::platform::spawn_local(async move {
        yew::platform::time::sleep(Duration::from_secs(10)).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    Ok(())
}

/// Answers to the page's own requests; false for everything else.
fn page_answer(session: &Shared, dispatch: &UseReducerDispatcher<State>, msg: &ServerMsg) -> bool {
    match msg {
        ServerMsg::Pcap { id, data, packets, dropped } if session.borrow().pcap_id == Some(*id) => {
            session.borrow_mut().pcap_id = None;
            let said = match save_file(PCAP_FILE, data.as_slice()) {
                Ok(()) if *dropped > 0 => format!("saved {PCAP_FILE}: {packets} packets (the {dropped} after the relay's capture limit are not in it)"),
                Ok(()) => format!("saved {PCAP_FILE}: {packets} packets"),
                Err(why) => format!("the browser did not save the capture: {why:?}"),
            };
            dispatch.dispatch(Action::Pcap(Some(said)));
            true
        }
        ServerMsg::Error { id: Some(id), message, .. } if *id > PAGE_IDS => {
            if session.borrow().pcap_id == Some(*id) {
                session.borrow_mut().pcap_id = None;
                dispatch.dispatch(Action::Pcap(Some(format!("no capture: {message}"))));
            }
            dispatch.dispatch(Action::Refused { id: *id, message: message.clone() });
            true
        }
        ServerMsg::Pending { id } | ServerMsg::Result { id, .. } => *id > PAGE_IDS,
        _ => false,
    }
}

fn stop_run(session: &Shared, dispatch: &UseReducerDispatcher<State>) {
    let drive = session.borrow_mut().runner.as_mut().map(Runner::stop);
    if let Some(mut drive) = drive {
        drive.lines.push(Line::new(LineKind::Note, "stopped"));
        apply(session, dispatch, drive);
    }
}

fn reconnect_now(session: &Shared, dispatch: &UseReducerDispatcher<State>) {
    let old = {
        let mut session = session.borrow_mut();
        session.runner = None;
        session.socket.take()
    };
    if let Some(socket) = old {
        // Detach first: this close is ours and must not read as a lost connection.
        socket.set_onclose(None);
        socket.set_onopen(None);
        socket.set_onmessage(None);
        let _ = socket.close();
    }
    session.borrow_mut().handlers.clear();
    session.borrow_mut().marks.clear();
    dispatch.dispatch(Action::Ended);
    dispatch.dispatch(Action::Connection(Connection::Connecting));
    connect(session, dispatch.clone());
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
    /// The page's own requests so far (their ids follow `PAGE_IDS`).
    next_page_id: u64,
    /// The capture request waiting for its answer.
    pcap_id: Option<u64>,
    /// Each lane's host, for the run in progress.
    lane_hosts: Vec<(String, String)>,
    /// The calls lanes on hosts made this session, for the capture's comments (the latest `MAX_PCAP_MARKS`).
    marks: Vec<PcapMark>,
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
    let url = kept(URL_KEY)
        .unwrap_or_else(|| socket_url(&location.protocol().unwrap_or_default(), &location.host().unwrap_or_default()));
    // The token is read from the start-up URL once and kept for the tab, so a
    // share link (`#s=…`) or a reload without it still connects.
    if let Some(token) = token_from_fragment(&location.hash().unwrap_or_default()) {
        keep(TOKEN_KEY, &token);
    }
    let token = kept(TOKEN_KEY);
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
    if let ServerMsg::Result { id, outcome, ts_us } = &msg {
        dispatch.dispatch(Action::Answered { id: *id, outcome: outcome.clone(), ts_us: *ts_us })
    }
    if page_answer(session, dispatch, &msg) {
        return;
    }
    match &msg {
        ServerMsg::Error { id: Some(id), message, .. } => {
            dispatch.dispatch(Action::Refused { id: *id, message: message.clone() })
        }
        ServerMsg::Event { event } => {
            let name = match event {
                Event::SocketCreated { .. } | Event::Segment { .. } | Event::Resolved { .. } => None,
                Event::TcpInfo { sock, .. } => session.borrow().runner.as_ref().and_then(|r| r.socket_name(*sock)),
                Event::SocketClosed { sock } => session.borrow().runner.as_ref().and_then(|r| r.socket_name(*sock)),
                Event::State { sock, .. } => {
                    sock.and_then(|sock| session.borrow().runner.as_ref().and_then(|r| r.socket_name(sock)))
                }
            };
            dispatch.dispatch(Action::Observed { event: event.clone(), name });
        }
        _ => {}
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

/// Starts a run (paused: for stepping); false if the script does not parse.
fn start_run(session: &Shared, dispatch: &UseReducerDispatcher<State>, source: &str, paused: bool) -> bool {
    let first_id = session.borrow().next_id;
    match Runner::from_source(source, first_id) {
        Err(diagnostics) => {
            dispatch.dispatch(Action::Rejected(diagnostics.iter().map(Line::diagnostic).collect()));
            false
        }
        Ok(mut runner) => {
            session.borrow_mut().lane_hosts = crate::lanes::lane_hosts(source);
            dispatch.dispatch(Action::Started { paused });
            runner.set_paused(paused);
            let drive = runner.drive(now());
            session.borrow_mut().runner = Some(runner);
            apply(session, dispatch, drive);
            true
        }
    }
}

/// Sends what the runner asked for, shows its lines, and keeps it going.
fn apply(session: &Shared, dispatch: &UseReducerDispatcher<State>, drive: Drive) {
    let Drive { send, lines, again } = drive;
    let calls: Vec<(u64, Call)> = send
        .iter()
        .filter_map(|msg| match msg {
            ClientMsg::Call { id, call } => Some((*id, call.clone())),
            _ => None,
        })
        .collect();
    if !calls.is_empty() {
        dispatch.dispatch(Action::Sent(calls));
    }
    let finished = {
        let mut session = session.borrow_mut();
        if let Some(socket) = &session.socket {
            for msg in &send {
                let text = serde_json::to_string(msg).expect("client messages serialize");
                // A failed send shows up as a close event, which ends the run.
                let _ = socket.send_with_str(&text);
            }
        }
        let marks = session.runner.as_mut().map(Runner::take_marks).unwrap_or_default();
        for (ts_us, lane, line) in marks {
            let part = lane.split('/').next().unwrap_or_default();
            if let Some((_, host)) = session.lane_hosts.iter().find(|(name, _)| name == part) {
                let host = host.clone();
                session.marks.push(PcapMark { ts_us, host, lane, line });
            }
        }
        let excess = session.marks.len().saturating_sub(MAX_PCAP_MARKS);
        session.marks.drain(..excess);
        if let Some(runner) = session.runner.as_mut() {
            dispatch.dispatch(Action::Interp(runner.take_seen()));
            dispatch.dispatch(Action::Lanes { lanes: runner.lane_views(), names: runner.socket_names() });
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
