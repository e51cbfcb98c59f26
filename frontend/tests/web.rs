//! Component tests: mount the page's components in a real browser and read the
//! DOM they produce. Run by `scripts/test.sh` through wasm-bindgen-test-runner
//! and headless Chromium; native builds skip this file.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use socklab_frontend::app::App;
use socklab_frontend::components::{Transcript, TranscriptProps};
use socklab_frontend::state::ECHO_EXAMPLE;
use socklab_frontend::transcript::{Line, LineKind};
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
    use yew::Callback;

    let root = root();
    let part = socklab_frontend::lanes::split("# lane: client\ncli = socket(AF_INET, SOCK_STREAM)\ncli.connect(x\n")[1].clone();
    let mut marks = std::collections::BTreeMap::new();
    marks.insert(2, Mark::Done("<socket fd=3>".into()));
    marks.insert(3, Mark::Failed { errno: Some("ECONNREFUSED".into()), errno_num: Some(111), message: "refused".into() });
    let props = LaneEditorProps {
        index: 1,
        part,
        diagnostics: vec![Diagnostic { line: 3, col: 13, message: "expected ')'".into() }],
        marks,
        view: None,
        prints: vec!["hello".into()],
        focused: true,
        on_edit: Callback::noop(),
        on_focus: Callback::noop(),
        on_step: Callback::noop(),
        on_explain: Callback::noop(),
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
