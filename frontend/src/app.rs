//! The page: state, the relay connection, and the components laid out.

use std::rc::Rc;

use socklab_lessons::{self as lessons, Lang};
use socklab_wire::protocol::SandboxMode;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{HtmlSelectElement, KeyboardEvent};
use yew::prelude::*;

use crate::components::{
    Controls, Explain, Help, LaneEditor, Overlay, SocketTable, StateDiagram, Status, Transcript, WireView,
};
use crate::examples::EXAMPLES;
use crate::lanes;
use crate::links::LinkPanel;
use crate::plot::TcpPlot;
use crate::lesson::{LessonPanel, ui};
use crate::relay::{TOKEN_KEY, URL_KEY, keep, kept, use_relay};
use crate::share;
use crate::timeline::{self, Timeline};
use crate::split::{self, Split, Splits, Splitter};
use crate::state::{Action, Connection, Panel, State, Theme};

/// Where the script is kept between visits.
const SCRIPT_KEY: &str = "socklab.script";
/// The lessons' language.
const LANG_KEY: &str = "socklab.lang";

/// The current script exported to `target` (`python` or `c`) by the relay
/// that served the page (`POST export/{target}`), or the relay's reason.
async fn export_program(target: &str, source: &str) -> Result<String, String> {
    crate::fetch::post_text(&format!("export/{target}"), source, kept(TOKEN_KEY).as_deref()).await
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The page's start: the script a share link carries, read before the page
/// is shown (the browser inflates it, so that takes a moment).
#[derive(Properties, PartialEq, Default)]
pub struct AppProps {
    #[prop_or_default]
    pub shared: Option<String>,
}

/// The URL's fragment (`#s=…&lesson=6&token=…`).
pub fn fragment() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// The script to start with: a share link's, else the last one edited, else
/// the echo example; and the lesson the link names (`#lesson=6`), opened.
fn initial_state(shared: Option<String>) -> State {
    let fragment = fragment();
    let kept = local_storage().and_then(|s| s.get_item(SCRIPT_KEY).ok().flatten());
    let mut state = State::default();
    if let Some(source) = shared.clone().or(kept) {
        state.source = source;
    }
    if let Some(lang) = local_storage().and_then(|s| s.get_item(LANG_KEY).ok().flatten()).and_then(|l| Lang::parse(&l)) {
        state.lang = lang;
    }
    match share::lesson_from_fragment(&fragment) {
        Some(number) => {
            let mut state = Rc::unwrap_or_clone(Rc::new(state).reduce(Action::Lesson(Some(number))));
            // A shared script opens beside its lesson, not the lesson's starter.
            if let Some(source) = shared {
                state.source = source;
                state.starter_wanted = false;
            }
            state
        }
        None => state,
    }
}

/// Names `lesson` in the URL's fragment, the other pairs kept, replacing the
/// history entry (so Back does not walk through lessons the page then ignores).
fn name_lesson_in_url(lesson: Option<u32>) {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let now = location.hash().unwrap_or_default();
    let next = share::fragment_with_lesson(&now, lesson);
    if next == now.trim_start_matches('#') {
        return;
    }
    let url = if next.is_empty() {
        format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default())
    } else {
        format!("#{next}")
    };
    if let Ok(history) = window.history() {
        // A refused replacement leaves the old URL: the page itself is unaffected.
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

#[component]
pub fn App(props: &AppProps) -> Html {
    let state = use_reducer({
        let shared = props.shared.clone();
        move || initial_state(shared)
    });
    let relay = use_relay(state.dispatcher());
    let dispatch = state.dispatcher();
    use_effect_with(state.source.clone(), |source| {
        if let Some(storage) = local_storage() {
            // Full or disabled storage: the script is still in the page.
            let _ = storage.set_item(SCRIPT_KEY, source);
        }
    });
    // The relay parses the script for the editors' diagnostics: again at every
    // edit, and when a connection opens.
    let open = matches!(state.connection, Connection::Open { .. });
    use_effect_with((state.source.clone(), open), {
        let check = relay.check.clone();
        move |(source, open): &(String, bool)| {
            if *open {
                check.emit(source.clone());
            }
        }
    });
    // The relay judges the open lesson's checkpoints: tell it which, in which
    // language, and again on a new connection.
    use_effect_with((state.lesson, state.lang, open), {
        let lesson = relay.lesson.clone();
        move |&(number, lang, open): &(Option<u32>, Lang, bool)| {
            if open {
                lesson.emit((number, lang));
            }
        }
    });
    use_effect_with(state.lang, |lang| {
        if let Some(storage) = local_storage() {
            let _ = storage.set_item(LANG_KEY, lang.code());
        }
    });
    // The Lessons menu and the URL name the open lesson, so a teacher can link to it.
    let lesson_menu = use_node_ref();
    let open_lesson = use_mut_ref(|| None::<u32>);
    use_effect_with(state.lesson, {
        let (lesson_menu, open_lesson) = (lesson_menu.clone(), open_lesson.clone());
        move |lesson: &Option<u32>| {
            *open_lesson.borrow_mut() = *lesson;
            if let Some(select) = lesson_menu.cast::<HtmlSelectElement>() {
                select.set_value(&lesson.map(|n| n.to_string()).unwrap_or_default());
            }
            name_lesson_in_url(*lesson);
        }
    });
    // A lesson link pasted into this tab (or typed) opens that lesson.
    use_effect_with((), {
        let dispatch = dispatch.clone();
        move |_| {
            let on_hash = Closure::<dyn Fn()>::new(move || {
                let hash = fragment();
                if let Some(number) = share::lesson_from_fragment(&hash)
                    && *open_lesson.borrow() != Some(number)
                {
                    dispatch.dispatch(Action::Lesson(Some(number)));
                }
            });
            let window = web_sys::window();
            if let Some(window) = &window {
                let _ = window.add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref());
            }
            move || {
                if let Some(window) = window {
                    let _ = window.remove_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref());
                }
            }
        }
    });
    // The columns' sizes, kept per browser.
    let splits = use_state(|| {
        local_storage().and_then(|s| s.get_item(split::SPLITS_KEY).ok().flatten()).map_or_else(Splits::default, |t| Splits::parse(&t))
    });
    use_effect_with(*splits, |splits| {
        if let Some(storage) = local_storage() {
            let _ = storage.set_item(split::SPLITS_KEY, &splits.keep_text());
        }
    });
    let on_code_split = {
        let splits = splits.clone();
        Callback::from(move |code: f64| splits.set(Splits { code, ..*splits }))
    };
    let on_lesson_split = {
        let splits = splits.clone();
        Callback::from(move |lesson: f64| splits.set(Splits { lesson, ..*splits }))
    };
    let share_link = use_state(|| None::<String>);
    // (title, the program or the exporter's refusal)
    let exported = use_state(|| None::<(&'static str, Result<String, String>)>);

    let parts = lanes::split(&state.source);
    let diagnostics = &state.diagnostics;
    let focused = state.focused.min(parts.len() - 1);
    let focused_name = parts.get(focused).map(|p| p.name.clone()).unwrap_or_default();

    // A lane's own Step steps that lane (or says why it cannot); Step and Step
    // over (the focused lane's) go on with the lane Run would pick when it is blocked.
    let step = |follow: bool| {
        let (relay, source) = (relay.step.clone(), state.source.clone());
        Callback::from(move |(lane, over): (String, bool)| relay.emit((source.clone(), lane, over, follow)))
    };
    let step_lane = step(false);
    let step_focused = step(true);
    let on_step = step_focused.reform({
        let name = focused_name.clone();
        move |()| (name.clone(), false)
    });
    let on_step_over = step_focused.reform({
        let name = focused_name.clone();
        move |()| (name.clone(), true)
    });
    let on_run = relay.run.reform({
        let source = state.source.clone();
        move |()| source.clone()
    });
    let on_cancel = relay.cancel.reform({
        let name = focused_name.clone();
        move |()| name.clone()
    });
    let toggle_help = {
        let (dispatch, open) = (dispatch.clone(), state.panel == Some(Panel::Help));
        Callback::from(move |()| dispatch.dispatch(Action::Panel((!open).then_some(Panel::Help))))
    };
    let on_edit = {
        let (dispatch, source) = (dispatch.clone(), state.source.clone());
        Callback::from(move |(index, body): (usize, String)| dispatch.dispatch(Action::Edited(lanes::edit(&source, index, &body))))
    };
    let on_focus = dispatch.to_callback().reform(Action::Focus);
    let on_explain = dispatch.to_callback().reform(|errno: i32| Action::Explain(Some(errno)));

    let onkeydown = {
        let shown: Vec<String> = parts.iter().filter(|p| p.is_shown(parts.len())).map(|p| p.name.clone()).collect();
        let (step_lane, on_step, on_step_over, on_run, on_cancel, toggle_help) =
            (step_lane.clone(), on_step.clone(), on_step_over.clone(), on_run.clone(), on_cancel.clone(), toggle_help.clone());
        let (pause, reset, dispatch) = (relay.pause.clone(), relay.reset.clone(), dispatch.clone());
        Callback::from(move |event: KeyboardEvent| {
            let key = event.key();
            let handled = if event.ctrl_key() && key == "Enter" {
                on_run.emit(());
                true
            } else if key == "Escape" {
                dispatch.dispatch(Action::Panel(None));
                dispatch.dispatch(Action::Explain(None));
                true
            } else if event.alt_key() {
                // `code` so that Alt+letter works whatever the keyboard layout types.
                match event.code().as_str() {
                    "KeyS" => on_step.emit(()),
                    "KeyO" => on_step_over.emit(()),
                    "KeyR" => on_run.emit(()),
                    "KeyP" => pause.emit(()),
                    "KeyC" => on_cancel.emit(()),
                    "KeyX" => reset.emit(()),
                    "KeyH" => toggle_help.emit(()),
                    "Comma" => dispatch.dispatch(Action::StepBack),
                    "Period" => dispatch.dispatch(Action::StepForward),
                    code => match code.strip_prefix("Digit").and_then(|d| d.parse::<usize>().ok()) {
                        Some(n) if n >= 1 && n <= shown.len() => step_lane.emit((shown[n - 1].clone(), event.shift_key())),
                        _ => return,
                    },
                }
                true
            } else {
                false
            };
            if handled {
                event.prevent_default();
            }
        })
    };

    let on_example = {
        let dispatch = dispatch.clone();
        Callback::from(move |event: Event| {
            let select = event.target_unchecked_into::<HtmlSelectElement>();
            if let Some((_, source)) = select.value().parse::<usize>().ok().and_then(|i| EXAMPLES.get(i)) {
                dispatch.dispatch(Action::Edited((*source).to_owned()));
                dispatch.dispatch(Action::Focus(1));
            }
            select.set_value("");
        })
    };
    let on_lesson = {
        let dispatch = dispatch.clone();
        Callback::from(move |event: Event| {
            let select = event.target_unchecked_into::<HtmlSelectElement>();
            if let Ok(number) = select.value().parse::<u32>() {
                dispatch.dispatch(Action::Lesson(Some(number)));
            }
        })
    };
    let lang_now = state.lang;
    let on_lang = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            dispatch.dispatch(Action::Lang(if lang_now == Lang::En { Lang::Zh } else { Lang::En }))
        })
    };
    let export_to = |target: &'static str, title: &'static str| {
        let (source, exported) = (state.source.clone(), exported.clone());
        Callback::from(move |_: MouseEvent| {
            let (source, exported) = (source.clone(), exported.clone());
            yew::platform::spawn_local(async move { exported.set(Some((title, export_program(target, &source).await))) });
        })
    };
    let on_export_python = export_to("python", "Export: Python 3");
    let on_export_c = export_to("c", "Export: C");
    let close_export = {
        let exported = exported.clone();
        Callback::from(move |()| exported.set(None))
    };
    let on_solution = dispatch.to_callback().reform(|()| Action::ShowSolution);
    let close_lesson = dispatch.to_callback().reform(|()| Action::Lesson(None));
    let on_lesson_loaded = dispatch.to_callback().reform(Action::LessonLoaded);
    let on_share = {
        let (source, lesson, share_link) = (state.source.clone(), state.lesson, share_link.clone());
        Callback::from(move |_: MouseEvent| {
            let (source, share_link) = (source.clone(), share_link.clone());
            yew::platform::spawn_local(async move {
                let fragment = match share::link_fragment(&source, lesson).await {
                    Ok(fragment) => fragment,
                    Err(why) => return share_link.set(Some(why)),
                };
                if let Some(location) = web_sys::window().map(|w| w.location()) {
                    let base = location.href().unwrap_or_default();
                    let base = base.split('#').next().unwrap_or_default().to_owned();
                    // The token stays out of the link: it is for this tab only.
                    let _ = location.set_hash(&fragment);
                    share_link.set(Some(format!("{base}#{fragment}")));
                }
            });
        })
    };
    let theme = state.theme;
    let on_theme = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            let next = match theme {
                Theme::System | Theme::Light => Theme::Dark,
                Theme::Dark => Theme::Light,
            };
            dispatch.dispatch(Action::Theme(next))
        })
    };
    let open_settings = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Panel(Some(Panel::Settings))))
    };
    let open_diagram = {
        let dispatch = dispatch.clone();
        Callback::from(move |()| dispatch.dispatch(Action::Panel(Some(Panel::Diagram))))
    };
    let close_panel = dispatch.to_callback().reform(|()| Action::Panel(None));
    let close_explain = dispatch.to_callback().reform(|()| Action::Explain(None));
    let on_settings = {
        let (reconnect, dispatch) = (relay.reconnect.clone(), dispatch.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let form = event.target_unchecked_into::<web_sys::HtmlElement>();
            let field = |name: &str| crate::links::form_field(&form, name);
            keep(URL_KEY, field("url").trim());
            keep(TOKEN_KEY, field("token").trim());
            dispatch.dispatch(Action::Panel(None));
            reconnect.emit(());
        })
    };
    let reconnect = relay.reconnect.reform(|_: MouseEvent| ());

    let capture = !matches!(state.connection, Connection::Open { mode: SandboxMode::Host, .. });
    let hosts = lanes::hosts(&state.source);
    let host_addresses: Vec<(String, String)> = hosts
        .iter()
        .enumerate()
        .map(|(index, name)| (name.clone(), socklab_wire::network::host_address(index).to_string()))
        .collect();
    let on_link = {
        let (link, dispatch) = (relay.link.clone(), dispatch.clone());
        Callback::from(move |(target, read): (crate::links::Link, Result<socklab_wire::network::LinkConditions, String>)| match read {
            Ok(conditions) => link.emit((target.a, target.b, conditions)),
            Err(why) => dispatch.dispatch(Action::LinkProblem { label: target.label, why }),
        })
    };
    let on_pcap = relay.pcap.reform(|_: MouseEvent| ());
    let theme_attr = match state.theme {
        Theme::System => "system",
        Theme::Light => "light",
        Theme::Dark => "dark",
    };
    // Looking back, the views show the timeline's moment; else now.
    let scene = state.view();
    let (lanes_shown, marks_shown) = match state.cursor {
        Some(_) => (timeline::lane_views(&scene), scene.marks.clone()),
        None => (state.lanes.clone(), state.marks.clone()),
    };
    let (at, stops) = state.position();
    let on_seek = dispatch.to_callback().reform(Action::Seek);
    let on_step_back = dispatch.to_callback().reform(|()| Action::StepBack);
    let lane_views = |name: &str| lanes_shown.iter().find(|view| view.name == name).cloned();
    // The library code a lane is in, as the relay last showed it (not looking back).
    let library = |name: &str| {
        let now = state.cursor.is_none();
        state.libraries.iter().find(|(lane, _)| now && lane == name).map(|(_, view)| view.clone())
    };
    // Threads and forked children run their part's code: `server/thread-1` is `server`'s.
    let spawned = |name: &str| {
        let prefix = format!("{name}/");
        lanes_shown.iter().filter(|view| view.name.starts_with(&prefix)).cloned().collect::<Vec<_>>()
    };
    let editors = parts.iter().enumerate().filter(|(_, part)| part.is_shown(parts.len())).map(|(index, part)| {
        let last = part.first_line + part.body.split('\n').count() as u32;
        let in_lane = |line: u32| line >= part.first_line && line < last;
        html! {
            <LaneEditor
                key={index}
                {index}
                part={part.clone()}
                diagnostics={diagnostics.iter().filter(|d| in_lane(d.line)).cloned().collect::<Vec<_>>()}
                marks={crate::state::marks_in(&marks_shown, part.first_line..last)}
                view={lane_views(&part.name)}
                library={library(&part.name)}
                spawned={spawned(&part.name)}
                prints={state.prints.get(&part.name).cloned().unwrap_or_default()}
                focused={index == focused}
                on_edit={on_edit.clone()}
                on_focus={on_focus.clone()}
                on_step={step_lane.clone()}
                on_explain={on_explain.clone()}
                on_input={relay.input.clone()}
            />
        }
    });
    let add_lane = {
        let (dispatch, source) = (dispatch.clone(), state.source.clone());
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Edited(lanes::add_lane(&source))))
    };
    html! {
        <div class="app" data-theme={theme_attr} {onkeydown}>
        <div class="workspace" style={splits.style()}>
            <header class="top">
                <h1>{ "socklab" }</h1>
                <span class="spacer"></span>
                <label class="examples">{ "Examples " }
                    <select onchange={on_example} aria-label="load an example">
                        <option value="" selected=true>{ "choose…" }</option>
                        { for EXAMPLES.iter().enumerate().map(|(i, (label, _))| html! { <option value={i.to_string()}>{ *label }</option> }) }
                    </select>
                </label>
                <label class="lessons">{ format!("{} ", ui(state.lang, "lessons")) }
                    <select ref={lesson_menu} onchange={on_lesson} aria-label="open a lesson">
                        <option value="" selected={state.lesson.is_none()} hidden={state.lesson.is_some()}>{ ui(state.lang, "choose") }</option>
                        { for lessons::menu().iter().map(|l| html! {
                            <option value={l.number.to_string()} selected={state.lesson == Some(l.number)}>{ format!("{}. {}", l.number, l.get(state.lang)) }</option>
                        }) }
                    </select>
                </label>
                <button class="lang" onclick={on_lang} title="switch the lessons' language">{ if state.lang == Lang::En { "中文" } else { "EN" } }</button>
                <button class="export-python" onclick={on_export_python}>{ "Export Python" }</button>
                <button class="export-c" onclick={on_export_c}>{ "Export C" }</button>
                <button class="share" onclick={on_share}>{ "Share" }</button>
                <button class="theme" onclick={on_theme} aria-label="switch light or dark theme">{ if theme == Theme::Dark { "☀" } else { "☾" } }</button>
                <button class="settings" onclick={open_settings}>{ "Settings" }</button>
            </header>
            if let Some(link) = (*share_link).clone() {
                <p class="share-link"><label>{ "Link to this script: " }<input readonly=true value={link} aria-label="share link" /></label></p>
            }
            <section class="toolbar" aria-label="the script's run">
                <Controls can_run={state.can_run()} running={state.running} paused={state.paused}
                    {on_step} {on_step_back} can_step_back={at > 0} {on_step_over} {on_run} on_pause={relay.pause.clone()} {on_cancel} on_reset={relay.reset.clone()} on_help={toggle_help} />
                <button class="add-lane" onclick={add_lane} aria-label="add a lane">{ "+ lane" }</button>
                <Status connection={state.connection.clone()} />
                if matches!(state.connection, Connection::Closed { .. }) {
                    <button class="reconnect" onclick={reconnect}>{ "Reconnect" }</button>
                }
                if let Some(note) = state.step_note.clone() {
                    <p class="step-note" role="status">{ note }</p>
                }
            </section>
            <main class="panes">
                <div class="work">
                    <section class="code-pane" aria-label="code">
                        <div class="lanes">
                            { for editors }
                        </div>
                        if !diagnostics.is_empty() {
                            <ul class="diagnostics" aria-live="polite">
                                { for diagnostics.iter().map(|d| html! { <li>{ d.to_string() }</li> }) }
                            </ul>
                        }
                    </section>
                    <Splitter label="resize the code and kernel columns" value={splits.code}
                        kind={Split::Code} on_change={on_code_split} />
                    // The kernel views' column: the timeline, what the kernel did, TCP_INFO.
                    <section class="kernel-pane" aria-label="what the kernel did" tabindex="0">
                        <Timeline {at} {stops} live={state.cursor.is_none()} near={timeline::stops_near(&state)} {on_seek} />
                        <div class="sockets-box" tabindex="0"><SocketTable sockets={scene.sockets.clone()} /></div>
                        <StateDiagram sockets={scene.sockets.clone()} transition={scene.transition.clone()} on_enlarge={open_diagram} />
                        if !hosts.is_empty() {
                            <LinkPanel links={crate::links::links(&hosts)} states={state.links.clone()} on_apply={on_link} />
                            <div class="capture-download">
                                <button class="download-pcap" onclick={on_pcap} disabled={!matches!(state.connection, Connection::Open { .. })}
                                    title="save the links' packets as a pcapng file (Wireshark, tshark -r)">{ "Download .pcapng" }</button>
                                if let Some(said) = state.pcap.clone() { <span class="pcap-note" role="status">{ said }</span> }
                            </div>
                        }
                        <WireView segments={scene.segments.clone()} {capture} hosts={host_addresses} />
                        <TcpPlot samples={state.tcp_samples.clone()} names={scene.sockets.iter().filter_map(|r| Some((r.sock, r.name.clone()?))).collect::<Vec<_>>()} />
                        <section class="log">
                            <h2>{ "Event log" }</h2>
                            <Transcript lines={state.lines.clone()} dropped={state.dropped} />
                        </section>
                    </section>
                </div>
                if let Some(number) = state.lesson {
                    <Splitter label="resize the lesson panel" value={splits.lesson}
                        kind={Split::Lesson} on_change={on_lesson_split} />
                    <LessonPanel {number} opened={state.opened.clone()} on_loaded={on_lesson_loaded.clone()} lang={state.lang}
                        reports={state.reports.clone()} ran={state.ran}
                        running={state.running} {on_solution} on_close={close_lesson} />
                }
            </main>
        </div>
        if state.panel == Some(Panel::Help) {
            <Overlay title="Keyboard shortcuts" on_close={close_panel.clone()}><Help /></Overlay>
        }
        if state.panel == Some(Panel::Diagram) {
            <Overlay title="TCP states (RFC 793)" on_close={close_panel.clone()}>
                <StateDiagram sockets={scene.sockets.clone()} transition={scene.transition.clone()} />
            </Overlay>
        }
        if state.panel == Some(Panel::Settings) {
            <Overlay title="Relay settings" on_close={close_panel}>
                <form class="settings-form" onsubmit={on_settings}>
                    <label>{ "Relay WebSocket URL " }<input name="url" type="url" placeholder="ws://127.0.0.1:7878/ws" value={kept(URL_KEY).unwrap_or_default()} /></label>
                    <label>{ "Token " }<input name="token" type="text" value={kept(TOKEN_KEY).unwrap_or_default()} /></label>
                    <button type="submit">{ "Connect" }</button>
                </form>
            </Overlay>
        }
        if let Some((title, program)) = (*exported).clone() {
            <Overlay title={title} on_close={close_export}>
                if let Err(why) = &program {
                    <p class="export-error">{ why.clone() }</p>
                }
                <textarea class="export-code" readonly=true rows="24" cols="90" aria-label="exported program"
                    value={program.clone().unwrap_or_default()} />
            </Overlay>
        }
        if let Some(errno) = state.explained {
            <Overlay title="What this error means" on_close={close_explain}><Explain {errno} /></Overlay>
        }
        </div>
    }
}
