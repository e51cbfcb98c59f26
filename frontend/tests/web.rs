//! Component tests: mount the page's components in a real browser and read the
//! DOM they produce. Run by `scripts/test.sh` through wasm-bindgen-test-runner
//! and headless Chromium; native builds skip this file.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use socklab_frontend::app::App;
use socklab_frontend::components::{Transcript, TranscriptProps};
use socklab_frontend::state::ECHO_EXAMPLE;
use socklab_run::line::{Line, LineKind};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element in the test page to mount a component in.
fn root() -> Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

/// Lets yew's scheduler render what was mounted or changed.
async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(20)).await;
}

#[wasm_bindgen_test]
async fn the_page_starts_with_the_echo_example_and_run_disabled_until_connected() {
    let root = root();
    yew::Renderer::<App>::with_root(root.clone()).render();
    settle().await;

    assert_eq!(root.query_selector("h1").unwrap().unwrap().text_content().unwrap(), "socklab");
    // One editor per lane, side by side: the echo example has a server and a client.
    let editors = root.query_selector_all("textarea.code").unwrap();
    assert_eq!(editors.length(), 2);
    let server: HtmlTextAreaElement = editors.item(0).unwrap().dyn_into().unwrap();
    assert_eq!(server.value(), socklab_frontend::lanes::split(ECHO_EXAMPLE)[1].body);
    assert!(root.query_selector("svg[aria-label='TCP state diagram']").unwrap().is_some());
    let run = root.query_selector("button.run").unwrap().unwrap();
    // The test server has no relay behind /ws, so the page never says hello.
    assert!(run.has_attribute("disabled"));
    let status = root.query_selector(".status").unwrap().unwrap();
    assert!(!status.class_name().contains("open"), "status: {}", status.class_name());
}

#[wasm_bindgen_test]
async fn the_transcript_shows_one_styled_line_per_entry() {
    let root = root();
    let lines = vec![
        Line::new(LineKind::Step, "server:5  srv.listen(5)  → None"),
        Line::new(LineKind::Failed, "client:2  cli.connect(addr)  → ECONNREFUSED (111): refused"),
        Line::new(LineKind::Print, "client| hi"),
    ];
    yew::Renderer::<Transcript>::with_root_and_props(root.clone(), TranscriptProps { lines, dropped: 2 }).render();
    settle().await;

    let shown = root.query_selector_all(".transcript > div").unwrap();
    assert_eq!(shown.length(), 4, "a note for the dropped lines, then the three lines");
    let nth = |i: u32| shown.item(i).unwrap().dyn_into::<Element>().unwrap();
    assert_eq!(nth(0).class_name(), "note");
    assert_eq!(nth(2).class_name(), "failed");
    assert!(nth(2).text_content().unwrap().ends_with("ECONNREFUSED (111): refused"));
    assert_eq!(nth(3).text_content().unwrap(), "client| hi");
}

#[wasm_bindgen_test]
async fn a_lane_underlines_its_parse_error_and_marks_executed_lines() {
    use socklab_frontend::components::{LaneEditor, LaneEditorProps};
    use socklab_frontend::state::Mark;
    use socklab_lang::Diagnostic;

    let root = root();
    let part = socklab_frontend::lanes::split("# lane: client\ncli = socket(AF_INET, SOCK_STREAM)\ncli.connect(x\n")[1].clone();
    let mut marks = litemap::LiteMap::new();
    marks.insert(2, Mark::Done("<socket fd=3>".into()));
    marks.insert(3, Mark::Failed { errno: Some("ECONNREFUSED".into()), errno_num: Some(111), message: "refused".into() });
    let props = LaneEditorProps {
        diagnostics: vec![Diagnostic { line: 3, col: 13, message: "expected ')'".into() }],
        marks,
        prints: vec!["hello".into()],
        ..editor_props(1, part)
    };
    yew::Renderer::<LaneEditor>::with_root_and_props(root.clone(), props).render();
    settle().await;

    let gutter: Vec<String> = (0..3)
        .map(|i| root.query_selector_all(".gutter").unwrap().item(i).unwrap().dyn_into::<Element>().unwrap().class_name())
        .collect();
    assert!(gutter[0].contains("done") && gutter[1].contains("failed"), "{gutter:?}");
    let err = root.query_selector(".highlight .err").unwrap().expect("the error is underlined");
    assert_eq!(err.text_content().unwrap(), "x");
    assert_eq!(root.query_selector("button.errno").unwrap().unwrap().text_content().unwrap(), "✗ ECONNREFUSED");
    assert_eq!(root.query_selector(".prints").unwrap().unwrap().text_content().unwrap(), "hello");
}

#[wasm_bindgen_test]
async fn a_lane_inside_a_function_shows_its_call_stack_and_marks_the_caller() {
    use socklab_frontend::components::{LaneEditor, LaneEditorProps};
    use socklab_lang::schedule::{LaneStatus, LaneView};

    let root = root();
    let part = socklab_frontend::lanes::split("def f():\n    return 1\nx = f()\n")[0].clone();
    use socklab_lang::interp::StackEntry;
    let stack = vec![StackEntry::own("<module>", 3), StackEntry::own("f", 2)];
    let view = LaneView { name: "main".into(), status: LaneStatus::Ready, line: Some(2), stack };
    let props = LaneEditorProps { view: Some(view), ..editor_props(0, part) };
    yew::Renderer::<LaneEditor>::with_root_and_props(root.clone(), props).render();
    settle().await;

    let items = root.query_selector_all("ol.stack li").unwrap();
    let text = |i: u32| items.item(i).unwrap().text_content().unwrap();
    assert_eq!((items.length(), text(0), text(1)), (2, "<module> line 3".to_owned(), "f line 2".to_owned()));
    let current = root.query_selector("ol.stack li[aria-current=step]").unwrap().expect("the current frame");
    assert_eq!(current.text_content().unwrap(), "f line 2");
    let class = |line: &str| root.query_selector(&format!(".gutter[data-line='{line}']")).unwrap().unwrap().class_name();
    assert!(class("2").contains("next") && class("3").contains("caller") && !class("1").contains("caller"));
    let over = root.query_selector("button.step-over-lane").unwrap().expect("a Step over button");
    assert_eq!(over.get_attribute("aria-label").as_deref(), Some("step over, lane main"));
}

#[wasm_bindgen_test]
async fn a_lane_in_library_code_shows_the_modules_lines_and_its_stack() {
    use socklab_frontend::components::{LaneEditor, LaneEditorProps};
    use socklab_lang::schedule::{LaneStatus, LaneView};
    use socklab_lang::interp::StackEntry;

    let root = root();
    let part = socklab_frontend::lanes::split("import socketserver\nsrv.handle_request()\n")[0].clone();
    let library = StackEntry { function: "BaseServer.handle_request".into(), line: 60, module: Some("socketserver") };
    let stack = vec![StackEntry::own("<module>", 2), library];
    // The relay sends the module's lines around the lane's with its lanes.
    let library = socklab_run::library::library_view(&stack);
    let view = LaneView { name: "main".into(), status: LaneStatus::Ready, line: Some(2), stack };
    let props = LaneEditorProps { view: Some(view), library, ..editor_props(0, part) };
    yew::Renderer::<LaneEditor>::with_root_and_props(root.clone(), props).render();
    settle().await;

    let current = root.query_selector("ol.stack li[aria-current=step]").unwrap().expect("the current frame");
    assert_eq!(current.text_content().unwrap(), "BaseServer.handle_request line 60 (socketserver.py)");
    let figure = root.query_selector("figure.library-code").unwrap().expect("the library's code");
    assert_eq!(figure.get_attribute("data-file").as_deref(), Some("socketserver.py"));
    let line = root.query_selector(".library-line.next .gutter").unwrap().expect("the current library line");
    assert_eq!(line.text_content().unwrap(), "60");
    // The script's own line that called in is the lane's line, not a caller mark.
    let class = |line: &str| root.query_selector(&format!(".gutter[data-line='{line}']")).unwrap().unwrap().class_name();
    assert!(class("2").contains("next"));
}

#[wasm_bindgen_test]
async fn a_thread_shows_under_its_part_with_its_own_step_and_its_line_tagged() {
    use socklab_frontend::components::{LaneEditor, LaneEditorProps};
    use socklab_lang::schedule::{LaneStatus, LaneView};
    use std::cell::RefCell;
    use std::rc::Rc;

    let root = root();
    let part = socklab_frontend::lanes::split("# lane: server\ndef serve(c):\n    c.recv(9)\nx = 1\n")[1].clone();
    let view = |name: &str, status, line: u32, stack: Vec<(&str, u32)>| LaneView { name: name.into(), status, line: Some(line), stack: stack.into_iter().map(|(f, l)| socklab_lang::interp::StackEntry::own(f, l)).collect() };
    let own = view("server", LaneStatus::Ready, 4, vec![("<module>", 4)]);
    let thread = view(
        "server/thread-1",
        LaneStatus::Blocked { what: "recv: waiting for data to arrive".into() },
        3,
        vec![("serve", 3)],
    );
    let stepped = Rc::new(RefCell::new(Vec::new()));
    let on_step = {
        let stepped = stepped.clone();
        yew::Callback::from(move |step: (String, bool)| stepped.borrow_mut().push(step))
    };
    let props = LaneEditorProps { view: Some(own), spawned: vec![thread], on_step, ..editor_props(1, part) };
    yew::Renderer::<LaneEditor>::with_root_and_props(root.clone(), props).render();
    settle().await;

    let lane = root.query_selector("li.spawned-lane[data-lane='server/thread-1']").unwrap().expect("the thread's row");
    let text = lane.text_content().unwrap();
    assert!(text.contains("thread-1") && text.contains("blocked (recv: waiting for data to arrive)") && text.contains("serve line 3"), "{text}");
    let class = |line: &str| root.query_selector(&format!(".gutter[data-line='{line}']")).unwrap().unwrap().class_name();
    assert!(class("3").contains("spawned") && !class("3").contains("next") && class("4").contains("next"));
    assert_eq!(root.query_selector(".lane-tag").unwrap().unwrap().text_content().unwrap(), "thread-1");
    let over = lane.query_selector("button.step-over-lane").unwrap().expect("its own Step over");
    assert_eq!(over.get_attribute("aria-label").as_deref(), Some("step over, lane server/thread-1"));
    over.dyn_into::<web_sys::HtmlElement>().unwrap().click();
    assert_eq!(*stepped.borrow(), [("server/thread-1".to_owned(), true)]);
}

/// A focused lane editor's properties, with nothing to show but its code.
fn editor_props(index: usize, part: socklab_frontend::lanes::LanePart) -> socklab_frontend::components::LaneEditorProps {
    use yew::Callback;
    socklab_frontend::components::LaneEditorProps {
        index,
        part,
        diagnostics: Vec::new(),
        marks: Default::default(),
        view: None,
        library: None,
        spawned: Vec::new(),
        prints: Vec::new(),
        focused: true,
        on_edit: Callback::noop(),
        on_focus: Callback::noop(),
        on_step: Callback::noop(),
        on_explain: Callback::noop(),
        on_input: Callback::noop(),
    }
}


/// The page reads the relay's enums tag-first (`socklab_wire::tag_first`):
/// every kind of message the relay sends must read as serde reads it natively
/// (`relay-messages.jsonl`, written and kept current by a native test).
#[wasm_bindgen_test]
fn the_page_reads_every_relay_message_as_the_relay_wrote_it() {
    use socklab_run::page::{CallSeen, decode};
    for line in include_str!("relay-messages.jsonl").lines() {
        let (text, native): (String, String) = serde_json::from_str(line).unwrap();
        let decoded = decode::<CallSeen>(&text).unwrap_or_else(|error| panic!("{text}: {error}"));
        assert_eq!(format!("{decoded:?}"), native, "{text}");
    }
    // The tag must come first, as the relay writes it.
    let error = decode::<CallSeen>(r#"{"type":"pending","id":1}"#.replace(r#""type":"pending","id":1"#, r#""id":1,"type":"pending""#).as_str());
    assert!(error.unwrap_err().to_string().contains("expected a string"));
    let error = decode::<CallSeen>(r#"{"type":"result","id":1,"outcome":"ok"}"#).unwrap_err();
    assert!(error.to_string().contains("missing field `value`"), "{error}");
}
