//! The one hook that owns the WebSocket to the relay: it says hello, asks the
//! relay to run or step the script, and reports what the relay says (the
//! run's updates, the calls' answers, the kernel's events) to the page's reducer.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use socklab_lessons::Lang;
use socklab_run::page::{self, CallSeen, FromRelay, PageMsg, RunUpdate};
use socklab_wire::network::LinkConditions;
use socklab_wire::protocol::{Event, MAX_PCAP_MARKS, PROTOCOL_VERSION, PcapMark, RunCmd, ServerMsg, SockId};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};
use yew::prelude::*;

use crate::state::{Action, Connection, State};
use socklab_run::line::{Line, LineKind};

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
    /// pick (`socklab_run::runner::choose_step`).
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
    /// Ask the relay for the script's diagnostics (answered by `Action::Checked`).
    pub check: Callback<String>,
    /// Have the relay judge the session's runs against this lesson (or none),
    /// in this language (answered by `Action::Reports`).
    pub lesson: Callback<(Option<u32>, Lang)>,
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
    // Each button sends a request about the run.
    let run = sends(&session, &dispatch, |source| RunCmd::Go { source });
    // A blocked lane does not dead-end Step: the relay steps the lane Run would pick, and says so.
    let step = sends(&session, &dispatch, |(source, lane, over, follow)| RunCmd::Step { source, lane, over, follow });
    let pause = sends(&session, &dispatch, |()| RunCmd::Pause);
    let cancel = sends(&session, &dispatch, |lane| RunCmd::Cancel { lane });
    let stop = sends(&session, &dispatch, |()| RunCmd::Stop);
    let input = sends(&session, &dispatch, |(lane, line)| RunCmd::Input { lane, line });
    let check = sends(&session, &dispatch, |source| RunCmd::Check { source });
    let lesson = sends(&session, &dispatch, |(number, lang): (Option<u32>, Lang)| RunCmd::Lesson { number, lang: Some(lang.code().into()) });
    let reconnect = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |()| reconnect_now(&session, &dispatch))
    };
    let link = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |(a, b, conditions): (String, Option<String>, LinkConditions)| {
            let seen = CallSeen { op: "lab_link".into(), a: Some(a.clone()), b: b.clone(), conditions: Some(conditions), ..CallSeen::default() };
            let id = page_request(&session, |id| Out::Call { id, call: OutCall::LabLink { a: &a, b: b.as_deref(), conditions } });
            dispatch.dispatch(Action::LinkSent { id, call: seen });
            if session.borrow().socket.is_none() {
                dispatch.dispatch(Action::Refused { id, message: "not connected to the relay".into() });
            }
        })
    };
    let pcap = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |()| {
            let marks = session.borrow().marks.clone();
            let id = page_request(&session, |id| Out::Pcap { id, marks: &marks });
            session.borrow_mut().pcap_id = Some(id);
            dispatch.dispatch(Action::Pcap(None));
        })
    };
    let reset = Callback::from(move |()| {
        // A new session: the relay ends the old one's run and closes every socket it had.
        reconnect_now(&session, &dispatch);
        dispatch.dispatch(Action::Reset);
    });
    RelayHandle { run, stop, step, pause, cancel, input, check, lesson, reset, reconnect, link, pcap }
}

/// The messages the page sends, written as `ClientMsg` writes them (a test
/// checks): `ClientMsg`'s own encoder would bring every call's into the page,
/// which sends one kind of call.
#[derive(serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Out<'a> {
    Hello {
        version: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        token: Option<&'a str>,
    },
    Call { id: u64, call: OutCall<'a> },
    Pcap { id: u64, marks: &'a [PcapMark] },
    Run { cmd: &'a RunCmd },
}

/// The one kind of `Call` the page sends.
#[derive(serde::Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum OutCall<'a> {
    LabLink {
        a: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<&'a str>,
        #[serde(flatten)]
        conditions: LinkConditions,
    },
}

/// A callback that sends the request `make` makes of its argument.
fn sends<T: 'static>(session: &Shared, dispatch: &UseReducerDispatcher<State>, make: fn(T) -> RunCmd) -> Callback<T> {
    let (session, dispatch) = (session.clone(), dispatch.clone());
    Callback::from(move |what| send_run(&session, &dispatch, make(what)))
}

/// Sends a request about the run the relay makes for the page; without a
/// connection, a Run or Step says so in the log.
fn send_run(session: &Shared, dispatch: &UseReducerDispatcher<State>, cmd: RunCmd) {
    let check = matches!(cmd, RunCmd::Check { .. } | RunCmd::Lesson { .. });
    let sent = session.borrow().socket.as_ref().is_some_and(|socket| {
        let text = serde_json::to_string(&Out::Run { cmd: &cmd }).expect("client messages serialize");
        // A failed send shows up as a close event.
        socket.send_with_str(&text).is_ok()
    });
    if !sent && !check {
        let line = Line::new(LineKind::Problem, "not connected to the relay: the script runs there");
        dispatch.dispatch(Action::Output(vec![line]));
    }
}

/// Sends a request of the page's own with a fresh id; returns the id.
fn page_request<'a>(session: &Shared, msg: impl FnOnce(u64) -> Out<'a>) -> u64 {
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

fn reconnect_now(session: &Shared, dispatch: &UseReducerDispatcher<State>) {
    let old = session.borrow_mut().socket.take();
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

/// What lives as long as the page: the socket, and whether a run is in progress.
#[derive(Default)]
struct Session {
    socket: Option<WebSocket>,
    /// The relay runs a script for the page (between its `started` and `ended` updates).
    running: bool,
    /// The run's names for its sockets, as its last update gave them.
    names: Vec<(SockId, String)>,
    /// The socket's JS callbacks; dropping them would detach the handlers.
    handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    /// The page's own requests so far (their ids follow `PAGE_IDS`).
    next_page_id: u64,
    /// The capture request waiting for its answer.
    pcap_id: Option<u64>,
    /// The calls lanes on hosts made this session, for the capture's comments (the latest `MAX_PCAP_MARKS`).
    marks: Vec<PcapMark>,
}

type Shared = Rc<RefCell<Session>>;

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

    let hello = serde_json::to_string(&Out::Hello { version: PROTOCOL_VERSION, token: token.as_deref() }).expect("hello serializes");
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
            // The relay ends the session's run with the session.
            if std::mem::take(&mut session.borrow_mut().running) {
                dispatch.dispatch(Action::Output(vec![Line::new(LineKind::Problem, format!("run abandoned: {reason}"))]));
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
    let msg = match page::decode::<CallSeen>(text) {
        Ok(FromRelay::Session(msg)) => msg,
        Ok(FromRelay::Page(PageMsg::Run(update))) => return on_update(session, dispatch, update),
        Ok(FromRelay::Page(PageMsg::Checked { diagnostics })) => return dispatch.dispatch(Action::Checked(diagnostics)),
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
    let running = session.borrow().running;
    match msg {
        ServerMsg::Error { id: Some(id), message, .. } => dispatch.dispatch(Action::Refused { id, message }),
        ServerMsg::Event { event } => {
            // During a run, the relay's update that follows words the event with the script's names.
            if !running && let Some(line) = Line::event(&event, |_| None) {
                dispatch.dispatch(Action::Output(vec![line]));
            }
            let sock = match &event {
                Event::SocketCreated { .. } | Event::Segment { .. } | Event::Resolved { .. } => None,
                Event::TcpInfo { sock, .. } | Event::SocketClosed { sock } => Some(*sock),
                Event::State { sock, .. } => *sock,
            };
            let name = sock.filter(|_| running).and_then(|sock| {
                session.borrow().names.iter().find(|(named, _)| *named == sock).map(|(_, name)| name.clone())
            });
            dispatch.dispatch(Action::Observed { event, name });
        }
        ServerMsg::Error { id: None, code, message } => {
            dispatch.dispatch(Action::Output(vec![Line::relay_error(code, &message)]))
        }
        _ => {}
    }
}

/// What the run did, in the order the page applies it.
fn on_update(session: &Shared, dispatch: &UseReducerDispatcher<State>, update: RunUpdate<CallSeen>) {
    let RunUpdate { started, rejected, paused, stepped, note, sent, lines, seen, lanes, names, libraries, marks, reports, ended, .. } = update;
    if !rejected.is_empty() {
        dispatch.dispatch(Action::Rejected(rejected.iter().map(Line::diagnostic).collect()));
    }
    if let Some(paused) = started {
        let mut session = session.borrow_mut();
        session.running = true;
        session.names.clear();
        drop(session);
        dispatch.dispatch(Action::Started { paused });
    }
    if let Some(paused) = paused {
        dispatch.dispatch(Action::Paused(paused));
    }
    if stepped {
        dispatch.dispatch(Action::StepNote(note));
    }
    if !sent.is_empty() {
        dispatch.dispatch(Action::Sent(sent));
    }
    {
        let mut session = session.borrow_mut();
        session.marks.extend(marks);
        let excess = session.marks.len().saturating_sub(MAX_PCAP_MARKS);
        session.marks.drain(..excess);
    }
    if !seen.is_empty() {
        dispatch.dispatch(Action::Interp(seen));
    }
    if let Some(lanes) = lanes {
        let names = names.unwrap_or_default();
        session.borrow_mut().names.clone_from(&names);
        dispatch.dispatch(Action::Lanes { lanes, names, libraries });
    }
    if !lines.is_empty() {
        dispatch.dispatch(Action::Output(lines));
    }
    if let Some(reports) = reports {
        dispatch.dispatch(Action::Reports(reports));
    }
    if ended {
        session.borrow_mut().running = false;
        dispatch.dispatch(Action::Ended);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_wire::protocol::{Call, ClientMsg};

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

    /// Every kind of message the relay sends the page, as it writes them, and
    /// how they decode natively (with serde's own reading of tagged enums):
    /// `tests/web.rs` requires the page's tag-first reading to agree.
    #[test]
    fn the_relay_messages_fixture_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/relay-messages.jsonl");
        let fixture: String = relay_messages()
            .iter()
            .map(|text| {
                let decoded = page::decode::<CallSeen>(text).unwrap_or_else(|e| panic!("{text}: {e}"));
                serde_json::to_string(&(text, format!("{decoded:?}"))).unwrap() + "\n"
            })
            .collect();
        if std::env::var_os("SOCKLAB_BLESS").is_some() {
            std::fs::write(path, &fixture).unwrap();
        }
        let kept = std::fs::read_to_string(path).unwrap_or_default();
        assert!(kept == fixture, "{path} is out of date: run this test with SOCKLAB_BLESS=1");
    }

    #[test]
    fn the_page_writes_its_messages_as_the_relay_reads_them() {
        let conditions = LinkConditions { delay: 0.04, loss: 1.5, rate: Some(1_000_000), ..LinkConditions::default() };
        let marks = vec![PcapMark { ts_us: 3, host: "laptop".into(), lane: "client".into(), line: 4 }];
        let cmd = RunCmd::Lesson { number: Some(6), lang: Some("zh".into()) };
        for (ours, theirs) in [
            (Out::Hello { version: 1, token: None }, ClientMsg::Hello { version: 1, token: None }),
            (Out::Hello { version: 1, token: Some("t") }, ClientMsg::Hello { version: 1, token: Some("t".into()) }),
            (
                Out::Call { id: 7, call: OutCall::LabLink { a: "laptop", b: Some("server"), conditions } },
                ClientMsg::Call { id: 7, call: Call::LabLink { a: "laptop".into(), b: Some("server".into()), conditions } },
            ),
            (
                Out::Call { id: 7, call: OutCall::LabLink { a: "laptop", b: None, conditions: LinkConditions::default() } },
                ClientMsg::Call { id: 7, call: Call::LabLink { a: "laptop".into(), b: None, conditions: LinkConditions::default() } },
            ),
            (Out::Pcap { id: 8, marks: &marks }, ClientMsg::Pcap { id: 8, marks: marks.clone() }),
            (Out::Run { cmd: &cmd }, ClientMsg::Run { cmd: cmd.clone() }),
        ] {
            assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&theirs).unwrap());
        }
    }

    fn relay_messages() -> Vec<String> {
        use socklab_lang::Diagnostic;
        use socklab_lang::interp::{EndStatus, InterpEvent, StackEntry};
        use socklab_lang::order::Key;
        use socklab_lang::schedule::{LaneStatus, LaneView};
        use socklab_lessons::Verdict;
        use socklab_run::library::LibraryView;
        use socklab_wire::protocol::{Addr, Bytes, Capabilities, ErrorCode, OsError, Outcome, PollFd, Ret, SandboxMode, SockInfo};
        use socklab_wire::tcp::{StateObservation, TcpState};
        use socklab_wire::tcpinfo::{ExpertMark, TcpInfo};

        let info = SockInfo { sock: 3, fd: 7, family: 2, sock_type: 1, proto: 6 };
        let unix = Addr::Unix { path: "\0lab".into() };
        let v6 = Addr::Inet { host: "::1".into(), port: 5500, flowinfo: Some(1), scope_id: Some(2) };
        let bytes = |b: &[u8]| Bytes { b64: b.to_vec() };
        let rets = [
            Ret::None,
            Ret::Int { value: -1 },
            Ret::Bytes { data: bytes(b"hi\0") },
            Ret::Socket { info },
            Ret::Accepted { info, addr: Some(Addr::inet("127.0.0.1", 40000)) },
            Ret::Addr { addr: None },
            Ret::Addr { addr: Some(unix.clone()) },
            Ret::Datagram { data: bytes(b""), addr: Some(v6.clone()) },
            Ret::Select { r: vec![3], w: vec![], x: vec![4, 5] },
            Ret::Host { address: "10.0.0.2".into() },
            Ret::Pair { a: info, b: SockInfo { sock: 4, ..info } },
            Ret::Forked { socks: vec![info] },
            Ret::Polled { fds: vec![PollFd { fd: 7, events: 1 }] },
        ];
        let mut session: Vec<ServerMsg> = vec![ServerMsg::Hello {
            version: PROTOCOL_VERSION,
            mode: SandboxMode::Namespace,
            capabilities: Capabilities { tcp_states: StateObservation::Traced, capture: true, notes: vec!["n".into()] },
            server: "socklab 0.1.0".into(),
        }];
        session.push(ServerMsg::Pending { id: 1 });
        session.extend(rets.into_iter().map(|value| ServerMsg::Result { id: 2, outcome: Outcome::Ok { value }, ts_us: Some(9) }));
        let error = OsError { errno: "ECONNREFUSED".into(), errno_num: 111, message: "Connection refused".into() };
        session.push(ServerMsg::Result { id: 1 << 48, outcome: Outcome::Err { error }, ts_us: None });
        session.push(ServerMsg::Result { id: 5, outcome: Outcome::Cancelled, ts_us: None });
        session.push(ServerMsg::Error { id: Some(6), code: ErrorCode::UnknownSocket, message: "no socket 9".into() });
        session.push(ServerMsg::Error { id: None, code: ErrorCode::InvalidJson, message: "x".into() });
        let state = |sock| Event::State {
            sock,
            from: TcpState::SynSent,
            to: TcpState::Established,
            local: "127.0.0.1:40000".into(),
            peer: "127.0.0.1:5500".into(),
            ts_us: 10,
        };
        let segment = Event::Segment {
            src: "10.0.0.1:1".into(),
            dst: "10.0.0.2:2".into(),
            proto: "TCP".into(),
            flags: "SA".into(),
            seq: Some(1),
            ack: None,
            len: 0,
            ts_us: 11,
            expert: vec![ExpertMark::Retransmission, ExpertMark::DupAck],
            host: Some("laptop".into()),
        };
        let tcp_info = TcpInfo { rtt_us: 120, cwnd: 10, ..TcpInfo::default() };
        for event in [
            Event::SocketCreated { info },
            Event::SocketClosed { sock: 3 },
            state(Some(3)),
            state(None),
            segment,
            Event::TcpInfo { sock: 3, info: tcp_info, ts_us: 12 },
            Event::Resolved { name: "example.com".into(), peer: "lab".into(), address: "10.0.0.9".into() },
        ] {
            session.push(ServerMsg::Event { event });
        }
        session.push(ServerMsg::Pcap { id: 8, data: bytes(&[0x0a, 0x0d]), packets: 2, dropped: 0 });

        let sent = vec![
            (1 << 48, Call::Bind { sock: 3, addr: Addr::inet("0.0.0.0", 5500) }),
            (2, Call::Sendto { sock: 3, data: bytes(b"x"), flags: 0, addr: unix }),
            (3, Call::LabLink { a: "laptop".into(), b: Some("server".into()), conditions: LinkConditions { delay: 0.04, loss: 0.5, rate: Some(1_000_000), ..Default::default() } }),
        ];
        let step = InterpEvent::Step {
            lane: "server".into(),
            line: 3,
            call: "srv.bind(('', 5500))".into(),
            ok: false,
            result: None,
            errno: Some("EADDRINUSE".into()),
            errno_num: Some(98),
            message: Some("Address already in use".into()),
            function: Some("serve".into()),
            depth: Some(1),
            module: Some("socketserver".into()),
        };
        let update = RunUpdate {
            started: Some(true),
            rejected: vec![Diagnostic { line: 1, col: 2, message: "invalid syntax".into() }],
            paused: Some(false),
            stepped: true,
            note: Some("server is blocked".into()),
            sent,
            lines: vec![Line::new(LineKind::Event, "cli SYN_SENT → ESTABLISHED").at(Key { ts_us: 10, rank: 2 }), Line::new(LineKind::Note, "n")],
            seen: vec![
                (Key { ts_us: 1, rank: 0 }, step),
                (Key { ts_us: 2, rank: 0 }, InterpEvent::Print { lane: "client".into(), line: 4, text: "hi".into() }),
                (Key::default(), InterpEvent::LaneEnd { lane: "client".into(), status: EndStatus::Error, line: Some(4), message: Some("boom".into()), traceback: Some("Traceback".into()) }),
            ],
            lanes: Some(vec![
                LaneView { name: "server".into(), status: LaneStatus::Blocked { what: "accept: waiting".into() }, line: Some(5), stack: vec![StackEntry::own("<module>", 5)] },
                LaneView { name: "client".into(), status: LaneStatus::Ended(EndStatus::Finished), line: None, stack: vec![] },
                LaneView { name: "third".into(), status: LaneStatus::Ready, line: Some(1), stack: vec![] },
            ]),
            names: Some(vec![(3, "srv".into())]),
            steps: Some(7),
            libraries: vec![("server".into(), LibraryView { file: "socketserver.py".into(), function: "serve".into(), line: 2, first_line: 1, lines: vec!["a".into(), "b".into()] })],
            marks: vec![PcapMark { ts_us: 3, host: "laptop".into(), lane: "client".into(), line: 4 }],
            reports: Some(vec![Verdict { passed: true, reason: "ok".into(), evidence: Some(2) }, Verdict { passed: false, reason: "no".into(), evidence: None }]),
            ended: true,
        };
        let mut texts: Vec<String> = session.iter().map(|msg| serde_json::to_string(msg).unwrap()).collect();
        texts.push(page::encode(&PageMsg::Run(update)));
        texts.push(page::encode(&PageMsg::Run(RunUpdate::default())));
        texts.push(page::encode(&PageMsg::Checked { diagnostics: vec![] }));
        texts
    }
}
