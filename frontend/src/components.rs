//! The page's components. Each shows one thing and reports intent through
//! callbacks; styling is in `style.css`, components only pick classes.

use litemap::LiteMap;

use socklab_wire::errno;
use socklab_lang::Diagnostic;
use socklab_wire::protocol::SandboxMode;
use socklab_wire::tcp::TcpState;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::diagram;
use crate::highlight;
use crate::lanes::LanePart;
use socklab_run::library::LibraryView;
use socklab_lang::interp::StackEntry;
use socklab_lang::schedule::{LaneStatus, LaneView};
use crate::state::{Connection, Mark, Segment, SocketRow, Transition};
use socklab_run::line::{Line, LineKind};

#[derive(Properties, PartialEq)]
pub struct StatusProps {
    pub connection: Connection,
}

/// Whether the page is connected to a relay, and to which.
#[component]
pub fn Status(props: &StatusProps) -> Html {
    let (class, text) = match &props.connection {
        Connection::Connecting => ("status connecting", "connecting to the relay…".to_owned()),
        Connection::Open { server, mode } => {
            let mode = match mode {
                SandboxMode::Namespace => "private network namespace",
                SandboxMode::Host => "host mode, loopback only",
            };
            ("status open", format!("connected: {server} ({mode})"))
        }
        Connection::Closed { reason } => ("status closed", format!("disconnected: {reason}")),
    };
    html! { <p class={class} role="status">{ text }</p> }
}

#[derive(Properties, PartialEq)]
pub struct TranscriptProps {
    pub lines: Vec<Line>,
    pub dropped: usize,
}

/// What the last run did, one line per step, print, event and lane end.
#[component]
pub fn Transcript(props: &TranscriptProps) -> Html {
    let line = |line: &Line| {
        let class = match line.kind {
            LineKind::Step => "step",
            LineKind::Failed => "failed",
            LineKind::Print => "print",
            LineKind::LaneEnd => "lane-end",
            LineKind::Event => "event",
            LineKind::Problem => "problem",
            LineKind::Note => "note",
        };
        html! { <div class={class}>{ &line.text }</div> }
    };
    html! {
        <output class="transcript" aria-live="polite" tabindex="0">
            if props.dropped > 0 {
                <div class="note">{ format!("… {} earlier lines not shown", props.dropped) }</div>
            }
            { for props.lines.iter().map(line) }
        </output>
    }
}

#[derive(Properties, PartialEq)]
pub struct LaneEditorProps {
    /// Index of the part in `lanes::split`, reported with edits.
    pub index: usize,
    pub part: LanePart,
    /// Parse diagnostics on this lane's lines.
    pub diagnostics: Vec<Diagnostic>,
    /// Marks on this lane's lines.
    pub marks: LiteMap<u32, Mark>,
    /// The run's view of this lane, during a run.
    pub view: Option<LaneView>,
    /// The library code the lane is in, while it steps inside a library function.
    #[prop_or_default]
    pub library: Option<LibraryView>,
    /// Lanes started at run time that run this part's code (threads and
    /// forked children, `server/thread-1`), in start order.
    #[prop_or_default]
    pub spawned: Vec<LaneView>,
    /// What the part's lanes printed, in order; a spawned lane's lines are
    /// prefixed with its name (`[thread-1] …`).
    pub prints: Vec<String>,
    pub focused: bool,
    pub on_edit: Callback<(usize, String)>,
    pub on_focus: Callback<usize>,
    /// Step the lane: into calls (`false`) or over them (`true`).
    pub on_step: Callback<(String, bool)>,
    pub on_explain: Callback<i32>,
    /// A line typed for the lane's `input()` (None: the end of its input).
    #[prop_or_default]
    pub on_input: Callback<(String, Option<String>)>,
}

/// One lane: a header with its state, a gutter of line numbers and marks, the
/// code (a textarea over its highlighted copy), and the lane's print output.
#[component]
pub fn LaneEditor(props: &LaneEditorProps) -> Html {
    let part = &props.part;
    let lines: Vec<&str> = part.body.split('\n').collect();
    let on_edit = props.on_edit.clone();
    let index = props.index;
    let oninput = Callback::from(move |event: InputEvent| {
        on_edit.emit((index, event.target_unchecked_into::<HtmlTextAreaElement>().value()))
    });
    let onfocus = props.on_focus.reform(move |_: FocusEvent| index);
    let input_ref = use_node_ref();
    let waits_for_input = props.view.iter().chain(props.spawned.iter()).any(|v| {
        matches!(&v.status, LaneStatus::Blocked { what } if what.starts_with("input:"))
    });
    let on_send = {
        let (on_input, name, input_ref) = (props.on_input.clone(), part.name.clone(), input_ref.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Some(field) = input_ref.cast::<HtmlInputElement>() {
                on_input.emit((name.clone(), Some(field.value())));
                field.set_value("");
            }
        })
    };
    let on_eof = {
        let (on_input, name) = (props.on_input.clone(), part.name.clone());
        Callback::from(move |_: MouseEvent| on_input.emit((name.clone(), None)))
    };
    let step = |over: bool| {
        let name = part.name.clone();
        props.on_step.reform(move |_: MouseEvent| (name.clone(), over))
    };
    // The call stack, outermost first; the lines its callers in this code wait on are marked too.
    let stack = props.view.as_ref().map_or(&[][..], |view| &view.stack[..]);
    let callers: Vec<u32> = stack[..stack.len().saturating_sub(1)].iter().filter(|f| f.module.is_none()).map(|f| f.line).collect();
    let library = props.library.as_ref();
    let blocked_line = props.view.as_ref().and_then(|view| match &view.status {
        LaneStatus::Blocked { what } => Some((view.line, what.clone())),
        _ => None,
    });
    let next_line = props.view.as_ref().and_then(|view| view.line);
    let status = props.view.as_ref().map(|view| status_text(&view.status));
    // Where each spawned lane is: its short name (`thread-1`) on its line.
    let tags = |number: u32| {
        props
            .spawned
            .iter()
            .filter(|view| view.line == Some(number) && !matches!(view.status, LaneStatus::Ended(_)))
            .map(|view| {
                let short = short_name(&view.name);
                html! { <span class="lane-tag" title={format!("{}: {}", view.name, status_text(&view.status))}>{ short }</span> }
            })
            .collect::<Html>()
    };
    let row = |(offset, text): (usize, &&str)| {
        let number = part.first_line + offset as u32;
        let diagnostic = props.diagnostics.iter().find(|d| d.line == number);
        let mark = props.marks.get(&number);
        let blocked = blocked_line.as_ref().filter(|(line, _)| *line == Some(number));
        let gutter_class = classes!(
            "gutter",
            diagnostic.map(|_| "has-error"),
            (next_line == Some(number)).then_some("next"),
            match mark {
                Some(Mark::Done(_)) => Some("done"),
                Some(Mark::Failed { .. }) => Some("failed"),
                None => None,
            },
            blocked.map(|_| "blocked"),
            callers.contains(&number).then_some("caller"),
            props.spawned.iter().any(|view| view.line == Some(number) && !matches!(view.status, LaneStatus::Ended(_))).then_some("spawned"),
        );
        // A value or status after the line's code; cut short to the lane's width, whole on hover.
        let note = if let Some((_, what)) = blocked {
            html! { <span class="note blocked" title={what.clone()}><span class="spinner" aria-hidden="true"></span>{ what }</span> }
        } else {
            match mark {
                Some(Mark::Done(value)) => {
                    let text = format!("→ {value}");
                    html! { <span class="note done" title={text.clone()}>{ text }</span> }
                }
                Some(Mark::Failed { errno: Some(name), errno_num, .. }) => {
                    let num = errno_num.unwrap_or(0);
                    let onclick = props.on_explain.reform(move |_: MouseEvent| num);
                    html! { <button class="note errno" title="what does this mean?" {onclick}>{ format!("✗ {name}") }</button> }
                }
                Some(Mark::Failed { message, .. }) => {
                    let text = format!("✗ {message}");
                    html! { <span class="note failed" title={text.clone()}>{ text }</span> }
                }
                None => match diagnostic {
                    Some(d) => html! { <span class="note diag" title={d.message.clone()}>{ &d.message }</span> },
                    None => html! {},
                },
            }
        };
        let spans = highlight::line(text, diagnostic.map(|d| d.col));
        let code = spans
            .into_iter()
            .map(|span| {
                let class = classes!(span.class.css(), span.error.then_some("err"));
                let title = diagnostic.filter(|_| span.error).map(|d| d.to_string());
                html! { <span {class} {title}>{ span.text }</span> }
            })
            .collect::<Html>();
        (
            html! { <div class={gutter_class} data-line={number.to_string()}>{ number }</div> },
            html! { <div class="code-line">{ code }{ "\n" }</div> },
            html! { <div class="note-line"><span class="note-pad" aria-hidden="true">{ *text }</span>{ tags(number) }{ note }</div> },
        )
    };
    let rows: Vec<_> = lines.iter().enumerate().map(row).collect();
    let (gutter, rest): (Vec<Html>, Vec<(Html, Html)>) = rows.into_iter().map(|(g, c, n)| (g, (c, n))).unzip();
    let (code, notes): (Vec<Html>, Vec<Html>) = rest.into_iter().unzip();
    let label = format!("lane {}", part.name);
    html! {
        <section class={classes!("lane", props.focused.then_some("focused"))} data-lane={part.name.clone()}>
            <header class="lane-head">
                <h2>{ &part.name }</h2>
                if let Some(status) = status { <span class="lane-status">{ status }</span> }
                <button class="step-lane" onclick={step(false)} title="step into: one statement, into a function it calls"
                    aria-label={format!("step into, lane {}", part.name)}>{ "Step" }</button>
                <button class="step-over-lane" onclick={step(true)} title="step over: run a function it calls to its return"
                    aria-label={format!("step over, lane {}", part.name)}>{ "Step over" }</button>
            </header>
            { call_stack(&part.name, stack) }
            if let Some(library) = library { { library_code(&part.name, library) } }
            if !props.spawned.is_empty() {
                <ul class="spawned" aria-label={format!("threads and processes of {}", part.name)}>
                    { for props.spawned.iter().map(|view| spawned_lane(view, &props.on_step)) }
                </ul>
            }
            <div class="code-area" style={format!("--rows: {}", lines.len())}>
                <div class="gutter-col" aria-hidden="true">{ gutter }</div>
                <div class="code-stack">
                    <pre class="highlight" aria-hidden="true">{ code }</pre>
                    <textarea class="code" aria-label={label} spellcheck="false" wrap="off"
                        rows={lines.len().to_string()} value={part.body.clone()} {oninput} {onfocus} />
                    <div class="notes">{ notes }</div>
                </div>
            </div>
            if waits_for_input {
                <form class="lane-input" onsubmit={on_send}>
                    <input ref={input_ref} type="text" autocomplete="off"
                        aria-label={format!("a line of input for lane {}", part.name)} placeholder="input() waits for a line" />
                    <button type="submit">{ "Send" }</button>
                    <button type="button" onclick={on_eof} title="end of input: input() raises EOFError">{ "End input" }</button>
                </form>
            }
            if !props.prints.is_empty() {
                <output class="prints" aria-label={format!("{} output", part.name)}>
                    { for props.prints.iter().map(|text| html! { <div>{ text }</div> }) }
                </output>
            }
        </section>
    }
}

/// A lane's status in words.
fn status_text(status: &LaneStatus) -> String {
    match status {
        LaneStatus::Ready => "ready".to_owned(),
        LaneStatus::Calling => "calling…".to_owned(),
        LaneStatus::Blocked { what } => format!("blocked ({what})"),
        LaneStatus::Ended(end) => format!("{end:?}").to_ascii_lowercase(),
    }
}

/// A spawned lane's name without its part's (`thread-1` of `server/thread-1`).
pub fn short_name(lane: &str) -> &str {
    lane.split_once('/').map_or(lane, |(_, rest)| rest)
}

/// A lane's call stack, outermost first, the current frame marked; a library
/// module's frames name its file.
fn call_stack(lane: &str, stack: &[StackEntry]) -> Html {
    if stack.is_empty() {
        return html! {};
    }
    html! {
        <ol class="stack" aria-label={format!("{lane} call stack")}>
            { for stack.iter().enumerate().map(|(i, frame)| {
                let text = match frame.module {
                    Some(module) => format!("{} line {} ({module}.py)", frame.function, frame.line),
                    None => format!("{} line {}", frame.function, frame.line),
                };
                html! {
                    <li class={classes!(frame.module.map(|_| "library"))} aria-current={(i + 1 == stack.len()).then_some("step")}>{ text }</li>
                }
            }) }
        </ol>
    }
}

/// The library code a lane is stepping in: the module's lines around the
/// current one, read-only, highlighted as the editor highlights.
fn library_code(lane: &str, view: &LibraryView) -> Html {
    let row = |(offset, text): (usize, &String)| {
        let number = view.first_line + offset as u32;
        let code = highlight::line(text, None)
            .into_iter()
            .map(|span| html! { <span class={span.class.css()}>{ span.text }</span> })
            .collect::<Html>();
        let current = number == view.line;
        html! {
            <div class={classes!("library-line", current.then_some("next"))} aria-current={current.then_some("step")}>
                <span class="gutter" data-line={number.to_string()}>{ number }</span>
                <span class="code-line">{ code }</span>
            </div>
        }
    };
    html! {
        <figure class="library-code" data-file={view.file.clone()}>
            <figcaption>{ format!("{} — {}, line {} (library code, read-only)", view.file, view.function, view.line) }</figcaption>
            <pre aria-label={format!("{lane}: {} around line {}", view.file, view.line)}>
                { for view.lines.iter().enumerate().map(row) }
            </pre>
        </figure>
    }
}

/// One thread or forked child of a part: its name, status, stack and own Step buttons.
fn spawned_lane(view: &LaneView, on_step: &Callback<(String, bool)>) -> Html {
    let step = |over: bool| {
        let name = view.name.clone();
        on_step.reform(move |_: MouseEvent| (name.clone(), over))
    };
    html! {
        <li class="spawned-lane" data-lane={view.name.clone()}>
            <div class="lane-head">
                <h3>{ short_name(&view.name) }</h3>
                <span class="lane-status">{ status_text(&view.status) }</span>
                <button class="step-lane" onclick={step(false)} title="step into: one statement of this lane"
                    aria-label={format!("step into, lane {}", view.name)}>{ "Step" }</button>
                <button class="step-over-lane" onclick={step(true)} title="step over: run a function it calls to its return"
                    aria-label={format!("step over, lane {}", view.name)}>{ "Step over" }</button>
            </div>
            { call_stack(&view.name, &view.stack) }
        </li>
    }
}

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub can_run: bool,
    pub running: bool,
    pub paused: bool,
    pub on_step: Callback<()>,
    /// The timeline one event back (`timeline`), and whether there is one.
    pub on_step_back: Callback<()>,
    pub can_step_back: bool,
    pub on_step_over: Callback<()>,
    pub on_run: Callback<()>,
    pub on_pause: Callback<()>,
    pub on_cancel: Callback<()>,
    pub on_reset: Callback<()>,
    pub on_help: Callback<()>,
}

/// Step, Run, Pause, Cancel and Reset, with their shortcuts in the titles.
#[component]
pub fn Controls(props: &ControlsProps) -> Html {
    let click = |callback: &Callback<()>| callback.reform(|_: MouseEvent| ());
    html! {
        <div class="controls" role="toolbar" aria-label="run controls">
            <button class="step-back" disabled={!props.can_step_back} onclick={click(&props.on_step_back)} title="Step back: the views one event back in time, from what was recorded (Alt+,; forward: Alt+.)">{ "Step back" }</button>
            <button class="step" disabled={!props.can_run} onclick={click(&props.on_step)} title="Step into: one statement of the focused lane, or of the lane Run would pick when it is blocked (Alt+S)">{ "Step" }</button>
            <button class="step-over" disabled={!props.can_run} onclick={click(&props.on_step_over)} title="Step over: the focused lane runs a call to its return (Alt+O)">{ "Step over" }</button>
            <button class="run" disabled={!props.can_run} onclick={click(&props.on_run)} title="Run (Alt+R or Ctrl+Enter)">{ "Run" }</button>
            <button class="pause" disabled={!props.running || props.paused} onclick={click(&props.on_pause)} title="Pause (Alt+P)">{ "Pause" }</button>
            <button class="cancel" disabled={!props.running} onclick={click(&props.on_cancel)} title="Cancel the focused lane's blocked call (Alt+C)">{ "Cancel" }</button>
            <button class="reset" onclick={click(&props.on_reset)} title="Reset: close every socket (Alt+X)">{ "Reset" }</button>
            <button class="help" onclick={click(&props.on_help)} title="Keyboard shortcuts (Alt+H)">{ "?" }</button>
        </div>
    }
}

/// The shortcuts, for the help overlay and its test.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Alt+S", "step the focused lane (into a function it calls); blocked, the lane Run would pick"),
    ("Alt+O", "step the focused lane over a function call"),
    ("Alt+, / Alt+.", "timeline: the views one event back / forward (nothing runs again)"),
    ("Alt+1 … Alt+9", "step lane 1 … 9 (with Shift: step over)"),
    ("Alt+R, Ctrl+Enter", "run (or run on after stepping)"),
    ("Alt+P", "pause"),
    ("Alt+C", "cancel the focused lane's blocked call"),
    ("Alt+X", "reset: close every socket of the session"),
    ("Alt+H", "show or hide this help"),
    ("Escape", "close a dialog or an explanation"),
];

#[derive(Properties, PartialEq)]
pub struct OverlayProps {
    pub title: AttrValue,
    pub on_close: Callback<()>,
    pub children: Html,
}

/// A dialog over the page. It takes the focus when it opens, so that Tab
/// starts inside it and Escape (the page's handler) closes it.
#[component]
pub fn Overlay(props: &OverlayProps) -> Html {
    let onclick = props.on_close.reform(|_: MouseEvent| ());
    let dialog = use_node_ref();
    {
        let dialog = dialog.clone();
        use_effect_with((), move |()| {
            if let Some(dialog) = dialog.cast::<web_sys::HtmlElement>() {
                let _ = dialog.focus();
            }
        });
    }
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-label={props.title.clone()}>
            <div class="dialog" tabindex="-1" ref={dialog}>
                <h2>{ &props.title }</h2>
                { props.children.clone() }
                <button class="close" {onclick}>{ "Close" }</button>
            </div>
        </div>
    }
}

/// The keyboard shortcuts.
#[component]
pub fn Help() -> Html {
    html! {
        <table class="shortcuts">
            { for SHORTCUTS.iter().map(|(keys, what)| html! { <tr><th><kbd>{ keys }</kbd></th><td>{ what }</td></tr> }) }
        </table>
    }
}

#[derive(Properties, PartialEq)]
pub struct ExplainProps {
    pub errno: i32,
}

/// An errno in plain words.
#[component]
pub fn Explain(props: &ExplainProps) -> Html {
    html! {
        <div class="explain">
            <p><strong>{ format!("{} ({})", errno::name(props.errno), props.errno) }</strong>{ format!(": {}", errno::strerror(props.errno)) }</p>
            <p>{ errno::explain(props.errno) }</p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SocketTableProps {
    pub sockets: Vec<SocketRow>,
}

fn type_name(family: i32, sock_type: i32) -> String {
    let family = match family {
        1 => "unix",
        2 => "inet",
        10 => "inet6",
        _ => "?",
    };
    let kind = match sock_type & 0xf {
        1 => "stream",
        2 => "dgram",
        3 => "raw",
        5 => "seqpacket",
        _ => "?",
    };
    format!("{family}/{kind}")
}

/// The session's sockets, like `ss`.
#[component]
pub fn SocketTable(props: &SocketTableProps) -> Html {
    let row = |row: &SocketRow| {
        let state = row.tcp_state.map_or_else(|| if row.closed { "closed".into() } else { "-".into() }, |s| s.to_string());
        html! {
            <tr class={classes!(row.closed.then_some("closed"))} data-sock={row.sock.to_string()}>
                <td>{ row.name.clone().unwrap_or_else(|| format!("#{}", row.sock)) }</td>
                <td>{ if row.closed { "-".to_owned() } else { row.fd.to_string() } }</td>
                <td>{ type_name(row.family, row.sock_type) }</td>
                <td>{ row.local.clone().unwrap_or_default() }</td>
                <td>{ row.peer.clone().unwrap_or_default() }</td>
                <td class="tcp-state">{ state }</td>
                <td class="num">{ row.bytes_in }</td>
                <td class="num">{ row.bytes_out }</td>
            </tr>
        }
    };
    html! {
        <table class="sockets">
            <caption>{ "Sockets" }</caption>
            <thead><tr><th>{ "variable" }</th><th>{ "fd" }</th><th>{ "type" }</th><th>{ "local" }</th><th>{ "peer" }</th><th>{ "TCP state" }</th><th>{ "bytes in" }</th><th>{ "bytes out" }</th></tr></thead>
            <tbody>
                if props.sockets.is_empty() { <tr><td colspan="8" class="empty">{ "no sockets yet" }</td></tr> }
                { for props.sockets.iter().map(row) }
            </tbody>
        </table>
    }
}

#[derive(Properties, PartialEq)]
pub struct StateDiagramProps {
    pub sockets: Vec<SocketRow>,
    pub transition: Option<Transition>,
    /// Shows the diagram enlarged, in a dialog; `None` for the enlarged copy itself.
    #[prop_or_default]
    pub on_enlarge: Option<Callback<()>>,
}

/// RFC 793's TCP state diagram with each socket's current state highlighted
/// and the latest transition animated.
#[component]
pub fn StateDiagram(props: &StateDiagramProps) -> Html {
    let mut here: LiteMap<&str, Vec<String>> = LiteMap::new();
    for row in &props.sockets {
        let state = row.tcp_state;
        // A socket closed and gone from the kernel has left the diagram.
        if row.closed && state == Some(TcpState::Close) {
            continue;
        }
        if let Some(state) = state {
            here.entry(diagram::node(state).name()).or_default().push(row.name.clone().unwrap_or_else(|| format!("#{}", row.sock)));
        }
    }
    // The enlarged copy is drawn beside the pane's: its markers need ids of their own.
    let arrow = if props.on_enlarge.is_some() { "arrow" } else { "arrow-big" };
    let head = |id: String, size: &'static str| {
        html! {
            <marker {id} viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth={size} markerHeight={size} orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" />
            </marker>
        }
    };
    let fired = props.transition.as_ref().map(|t| (diagram::node(t.from), diagram::node(t.to), t.serial));
    let edges = diagram::TRANSITIONS.iter().map(|&(from, to, label)| {
        let ((x1, y1), (x2, y2)) = diagram::edge(from, to).unwrap_or_default();
        let is_fired = fired.is_some_and(|(f, t, _)| f == from && t == to);
        let key = if is_fired { format!("{from}-{to}-{}", fired.unwrap().2) } else { format!("{from}-{to}") };
        html! {
            <line {key} class={classes!("edge", is_fired.then_some("fired"))} x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} marker-end={format!("url(#{arrow}{})", if is_fired { "-fired" } else { "" })}>
                <title>{ format!("{from} → {to}: {label}") }</title>
            </line>
        }
    });
    let nodes = diagram::STATES.iter().map(|&(state, rfc, x, y)| {
        let names = here.get(state.name());
        let class = classes!("state", names.map(|_| "current"));
        html! {
            <g {class} data-state={state.name()}>
                <rect x={(x - diagram::HALF.0).to_string()} y={(y - diagram::HALF.1).to_string()}
                    width={(2 * diagram::HALF.0).to_string()} height={(2 * diagram::HALF.1).to_string()} rx="8" />
                <text x={x.to_string()} y={(y + 5).to_string()} text-anchor="middle">{ rfc }</text>
                if let Some(names) = names {
                    <text class="who" x={(x + diagram::HALF.0 + 4).to_string()} y={(y + 5).to_string()}>{ names.join(", ") }</text>
                }
            </g>
        }
    });
    let caption = props.on_enlarge.as_ref().map(|on_enlarge| {
        let onclick = on_enlarge.reform(|_: MouseEvent| ());
        html! {
            <figcaption>{ "TCP states (RFC 793)" }
                <button class="enlarge" {onclick} aria-label="Enlarge the TCP state diagram">{ "Enlarge" }</button>
            </figcaption>
        }
    });
    html! {
        <figure class="diagram">
            { caption }
            <svg viewBox="0 0 640 540" role="img" aria-label="TCP state diagram">
                <defs>{ head(arrow.to_owned(), "9") }{ head(format!("{arrow}-fired"), "14") }</defs>
                { for edges }
                { for nodes }
            </svg>
        </figure>
    }
}

#[derive(Properties, PartialEq)]
pub struct WireViewProps {
    pub segments: Vec<Segment>,
    /// Whether the relay can capture at all (from its hello).
    pub capture: bool,
    /// The session's hosts and their addresses (none: the endpoints are the columns).
    #[prop_or_default]
    pub hosts: Vec<(String, String)>,
}

/// The address part of `10.0.0.1:5000` (or of a bare address, as ARP's are).
fn address_of(end: &str) -> &str {
    match end.rsplit_once(':') {
        Some((address, port)) if !address.contains(':') && port.parse::<u16>().is_ok() => address,
        _ => end,
    }
}

/// Each segment's columns (from, to) and the columns' heads: one per host
/// (the sender's, to the host the destination address names) when the
/// session has hosts, else one per endpoint.
pub fn wire_columns(segments: &[Segment], hosts: &[(String, String)]) -> (Vec<String>, Vec<(usize, usize)>) {
    let mut heads: Vec<String> = Vec::new();
    let mut column = |head: String| match heads.iter().position(|h| *h == head) {
        Some(index) => index,
        None => {
            heads.push(head);
            heads.len() - 1
        }
    };
    if hosts.is_empty() {
        let arrows = segments.iter().map(|s| (column(s.src.clone()), column(s.dst.clone()))).collect();
        return (heads, arrows);
    }
    for (name, _) in hosts {
        column(name.clone());
    }
    let host_at = |end: &str| hosts.iter().find(|(_, address)| address == address_of(end)).map(|(name, _)| name.clone());
    let arrows = segments
        .iter()
        .map(|s| {
            let from = s.host.clone().or_else(|| host_at(&s.src)).unwrap_or_else(|| address_of(&s.src).to_owned());
            let to = host_at(&s.dst).unwrap_or_else(|| address_of(&s.dst).to_owned());
            (column(from), column(to))
        })
        .collect();
    (heads, arrows)
}

/// Captured segments as a sequence diagram between the endpoints, or between the hosts.
#[component]
pub fn WireView(props: &WireViewProps) -> Html {
    let (endpoints, columns) = wire_columns(&props.segments, &props.hosts);
    let by_host = !props.hosts.is_empty();
    let width = 180 * endpoints.len().max(2) as i32;
    let x = |index: usize| 90 + 180 * index as i32;
    let height = 50 + 28 * props.segments.len() as i32;
    let heads = endpoints.iter().enumerate().map(|(index, end)| {
        let address = props.hosts.iter().find(|(name, _)| name == end).map(|(_, address)| address.clone());
        let head = match &address {
            Some(address) => format!("{end} ({address})"),
            None => end.clone(),
        };
        html! {
            <g class={classes!("endpoint", address.is_some().then_some("host"))} data-host={address.is_some().then(|| end.clone())}>
                <text x={x(index).to_string()} y="16" text-anchor="middle">{ head }</text>
                <line x1={x(index).to_string()} y1="24" x2={x(index).to_string()} y2={height.to_string()} />
            </g>
        }
    });
    let arrows = props.segments.iter().enumerate().map(|(row, segment)| {
        let (from_column, to_column) = columns[row];
        let (from, to) = (x(from_column), x(to_column));
        let y = 44 + 28 * row as i32;
        let mut label = segment.flags.clone();
        if let Some(seq) = segment.seq {
            label.push_str(&format!(" seq={seq}"));
        }
        if let Some(ack) = segment.ack {
            label.push_str(&format!(" ack={ack}"));
        }
        label.push_str(&format!(" len={}", segment.len));
        let expert: Vec<&str> = segment.expert.iter().map(|m| m.name()).collect();
        if !expert.is_empty() {
            label.push_str(&format!(" [{}]", expert.join(", ")));
        }
        let class = classes!(
            "segment",
            segment.flags.contains("RST").then_some("rst"),
            segment.flags.contains("SYN").then_some("syn"),
            (!expert.is_empty()).then_some("expert")
        );
        let (data_from, data_to) = match by_host {
            true => (Some(endpoints[from_column].clone()), Some(endpoints[to_column].clone())),
            false => (None, None),
        };
        let after = segment.after.as_ref().map(|(lane, line)| format!("sent after line {line} ({lane})"));
        let title = match (&after, by_host) {
            (Some(after), _) => format!("{} {} → {}, {after}", segment.proto, segment.src, segment.dst),
            (None, true) => format!("{} {} → {}", segment.proto, segment.src, segment.dst),
            (None, false) => String::new(),
        };
        html! {
            <g {class} data-flags={segment.flags.clone()} data-expert={expert.join(" ")} data-from={data_from} data-to={data_to}
                data-after-lane={segment.after.as_ref().map(|(lane, _)| lane.clone())}
                data-after-line={segment.after.as_ref().map(|(_, line)| line.to_string())}>
                if !title.is_empty() { <title>{ title }</title> }
                if let Some((_, line)) = &segment.after {
                    <text class="after" x="2" y={(y + 4).to_string()}>{ format!("L{line}") }</text>
                }
                <line x1={from.to_string()} y1={y.to_string()} x2={to.to_string()} y2={y.to_string()} marker-end="url(#wire-arrow)" />
                <text x={((from + to) / 2).to_string()} y={(y - 5).to_string()} text-anchor="middle">{ label }</text>
            </g>
        }
    });
    html! {
        <figure class="wire" tabindex="0">
            <figcaption>{ "On the wire" }</figcaption>
            if !props.capture {
                <p class="empty">{ "this relay cannot capture segments (host mode)" }</p>
            } else if props.segments.is_empty() {
                <p class="empty">{ "no segments yet" }</p>
            } else {
                <svg viewBox={format!("0 0 {width} {height}")} width={width.to_string()} role="img" aria-label={if by_host { "segments between the hosts" } else { "segments between the endpoints" }}>
                    <defs><marker id="wire-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" /></marker></defs>
                    { for heads }
                    { for arrows }
                </svg>
            }
        </figure>
    }
}
