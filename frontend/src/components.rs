//! The page's components. Each shows one thing and reports intent through
//! callbacks; styling is in `style.css`, components only pick classes.

use socklab_shared::protocol::SandboxMode;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::state::Connection;
use crate::transcript::{Line, LineKind};

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
pub struct EditorProps {
    pub source: AttrValue,
    pub on_edit: Callback<String>,
}

/// The script being edited.
#[component]
pub fn Editor(props: &EditorProps) -> Html {
    let on_edit = props.on_edit.clone();
    let oninput = Callback::from(move |event: InputEvent| on_edit.emit(event.target_unchecked_into::<HtmlTextAreaElement>().value()));
    html! {
        <textarea class="editor" aria-label="socket script" spellcheck="false" value={props.source.clone()} {oninput} />
    }
}

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub can_run: bool,
    pub running: bool,
    pub on_run: Callback<()>,
    pub on_stop: Callback<()>,
}

/// Run and Stop.
#[component]
pub fn Controls(props: &ControlsProps) -> Html {
    let on_run = props.on_run.reform(|_: MouseEvent| ());
    let on_stop = props.on_stop.reform(|_: MouseEvent| ());
    html! {
        <div class="controls">
            <button class="run" disabled={!props.can_run} onclick={on_run}>{ "Run" }</button>
            <button class="stop" disabled={!props.running} onclick={on_stop}>{ "Stop" }</button>
        </div>
    }
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
        <output class="transcript" aria-live="polite">
            if props.dropped > 0 {
                <div class="note">{ format!("… {} earlier lines not shown", props.dropped) }</div>
            }
            { for props.lines.iter().map(line) }
        </output>
    }
}
