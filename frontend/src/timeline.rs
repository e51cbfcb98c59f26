//! The session's timeline: every step, TCP transition and segment in the
//! kernel's order, with a scrubber. Moving it back shows the socket table,
//! the diagram, the wire view and the lanes' lines as they were then, derived
//! from what was recorded (`State::scene_at`); nothing runs again.

use socklab_lang::transcript::Line as TranscriptLine;
use yew::prelude::*;

use socklab_lang::schedule::{LaneStatus, LaneView};
use crate::state::{Happening, Recorded, Scene, SocketRow, State};

/// The keys, as the page states them (titles, help).
pub const BACK_KEY: &str = "Alt+,";
pub const FORWARD_KEY: &str = "Alt+.";

/// How many stops around the current one the list shows, each side.
const NEAR: usize = 3;

/// One stop as the timeline lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    /// 1-based: the views at this stop show it and all before it.
    pub number: usize,
    /// Microseconds after the first stop.
    pub after_us: u64,
    pub text: String,
    /// `step`, `state` or `segment`, for the CSS class.
    pub kind: &'static str,
}

/// How a recorded stop reads: as the log words it, sockets by the names the
/// script gave them (`now`: the socket table now, which learnt names since).
pub fn describe(recorded: &Recorded, now: &[SocketRow]) -> (String, &'static str) {
    match &recorded.what {
        Happening::Step { text, .. } => (text.clone(), "step"),
        Happening::Kernel { event, name } => {
            let kind = if matches!(event, socklab_wire::protocol::Event::Segment { .. }) { "segment" } else { "state" };
            let named = |sock| name.clone().or_else(|| now.iter().find(|row| row.sock == sock)?.name.clone());
            let text = TranscriptLine::kernel(event, named).map(|line| line.human()).unwrap_or_default();
            (text.trim_start().to_owned(), kind)
        }
        Happening::Answer { .. } | Happening::Lanes(_) => (String::new(), "answer"),
    }
}

/// The stops around the `at`-th (1-based; the last when live).
pub fn stops_near(state: &State) -> Vec<Stop> {
    let (at, _) = state.position();
    let stops: Vec<&Recorded> = state.history.iter().filter(|r| r.what.is_stop()).collect();
    let first = stops.first().map_or(0, |r| r.key.ts_us);
    let from = at.saturating_sub(NEAR + 1);
    stops
        .iter()
        .enumerate()
        .skip(from)
        .take(2 * NEAR + 1)
        .map(|(index, recorded)| {
            let (text, kind) = describe(recorded, &state.scene.sockets);
            Stop { number: index + 1, after_us: recorded.key.ts_us.saturating_sub(first), text, kind }
        })
        .collect()
}

/// The lanes as they were at a past moment: each on the last line it
/// stepped, with the status it had then (as recorded; ready if none was).
pub fn lane_views(scene: &Scene) -> Vec<LaneView> {
    let mut names: Vec<&String> = scene.lines.keys().chain(scene.statuses.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let (status, waits_on) = scene.statuses.get(name).cloned().unwrap_or((LaneStatus::Ready, None));
            // A blocked lane is shown on the line it waits on, as it was live.
            let line = waits_on.or_else(|| scene.lines.get(name).copied());
            LaneView { name: name.clone(), status, line, stack: Vec::new() }
        })
        .collect()
}

/// `+1.234 ms`.
pub fn after(us: u64) -> String {
    format!("+{}.{:03} ms", us / 1_000, us % 1_000)
}

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    /// Stops shown (1-based position), of how many.
    pub at: usize,
    pub stops: usize,
    /// Following the session (not looking back).
    pub live: bool,
    pub near: Vec<Stop>,
    /// Show the first N stops; None: live.
    pub on_seek: Callback<Option<usize>>,
}

/// The scrubber, Back/Forward/Live, and the stops around the current one.
#[component]
pub fn Timeline(props: &TimelineProps) -> Html {
    let stops = props.stops;
    let oninput = props.on_seek.reform(move |event: InputEvent| {
        let value = event.target_unchecked_into::<web_sys::HtmlInputElement>().value_as_number();
        let shown = if value.is_finite() && value >= 0.0 { value as usize } else { 0 };
        (shown < stops).then_some(shown)
    });
    let at = props.at;
    let back = props.on_seek.reform(move |_: MouseEvent| Some(at.saturating_sub(1)));
    let forward = props.on_seek.reform(move |_: MouseEvent| (at + 1 < stops).then_some(at + 1));
    let live = props.on_seek.reform(|_: MouseEvent| None);
    let current = props.near.iter().find(|stop| stop.number == props.at);
    let valuetext = match current {
        Some(stop) => format!("event {} of {}: {}", props.at, stops, stop.text),
        None if props.at == 0 => format!("before the first of {stops} events"),
        None => format!("event {} of {}", props.at, stops),
    };
    let item = |stop: &Stop| {
        let number = stop.number;
        let onclick = props.on_seek.reform(move |_: MouseEvent| (number < stops).then_some(number));
        let here = number == props.at;
        html! {
            <li class={classes!(stop.kind, here.then_some("here"))} aria-current={here.then_some("step")}>
                <button class="stop" {onclick} aria-label={format!("{} {} (go to event {number})", after(stop.after_us), stop.text)}>
                    <span class="at">{ after(stop.after_us) }</span>{ " " }{ &stop.text }
                </button>
            </li>
        }
    };
    let keys = format!("step back {BACK_KEY}, forward {FORWARD_KEY}; on the scrubber, arrow keys, Home and End");
    html! {
        <section class={classes!("timeline", (!props.live).then_some("past"))} aria-label="timeline">
            <h2>{ "Timeline" }
                if !props.live {
                    <span class="past-note" role="status">{ format!(" — looking back: event {} of {}", props.at, stops) }</span>
                }
            </h2>
            <div class="scrub">
                <button class="back" onclick={back} disabled={stops == 0 || props.at == 0}
                    title={format!("one event back ({BACK_KEY})")} aria-label={format!("one event back ({BACK_KEY})")}>{ "◀" }</button>
                <input type="range" class="scrubber" min="0" max={stops.to_string()} value={props.at.to_string()}
                    {oninput} disabled={stops == 0} title={keys.clone()} aria-label={format!("timeline scrubber: {keys}")}
                    aria-valuetext={valuetext} />
                <button class="forward" onclick={forward} disabled={props.live}
                    title={format!("one event forward ({FORWARD_KEY})")} aria-label={format!("one event forward ({FORWARD_KEY})")}>{ "▶" }</button>
                <button class="live" onclick={live} disabled={props.live} title="back to now">{ "Live" }</button>
            </div>
            <ol class="stops">
                { for props.near.iter().map(item) }
            </ol>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_milliseconds() {
        assert_eq!(after(0), "+0.000 ms");
        assert_eq!(after(1_234_567), "+1234.567 ms");
    }
}
