//! The lessons' Markdown texts (explanation, step texts, hints, what
//! happened; English and Chinese) as HTML, rendered with pulldown-cmark when
//! the relay is built (`relay/build.rs` includes this file) and served as
//! `lessons/N.json`, which the page fetches when it opens lesson N. The wasm
//! carries neither the texts nor a Markdown parser.
//!
//! Code blocks are highlighted by the editor's own highlighter
//! (`highlight.rs`), as spans with the same classes. Raw HTML in the Markdown
//! is not passed through: it is shown as text (escaped), so the page can
//! insert the result as it is.

use std::fmt::Write as _;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use socklab_lessons::{Lang, Lesson, Text};

use crate::highlight;

/// Text for an element's content (never an attribute's).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A code block as the editor shows code: a `pre.highlight` of classed spans.
fn code_block(code: &str) -> String {
    // Focusable, so a block wider than the panel scrolls from the keyboard too.
    let mut html = String::from("<pre class=\"highlight lesson-code\" tabindex=\"0\"><code>");
    for (index, line) in code.trim_end_matches('\n').split('\n').enumerate() {
        if index > 0 {
            html.push('\n');
        }
        for span in highlight::line(line, None) {
            match span.class {
                highlight::Class::Plain => html.push_str(&escape(&span.text)),
                class => {
                    let _ = write!(html, "<span class=\"{}\">{}</span>", class.css(), escape(&span.text));
                }
            }
        }
    }
    html.push_str("</code></pre>\n");
    html
}

/// One Markdown text as HTML.
pub fn render(markdown: &str) -> String {
    let mut events = Vec::new();
    let mut code: Option<String> = None;
    for event in Parser::new(markdown) {
        match (event, code.as_mut()) {
            (Event::Start(Tag::CodeBlock(_)), _) => code = Some(String::new()),
            (Event::End(TagEnd::CodeBlock), _) => {
                events.push(Event::Html(code_block(&code.take().unwrap_or_default()).into()));
            }
            (Event::Text(text), Some(code)) => code.push_str(&text),
            // Raw HTML is shown as the text it is, escaped by the renderer.
            (Event::Html(raw) | Event::InlineHtml(raw), _) => events.push(Event::Text(raw)),
            (event, _) => events.push(event),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

fn both(text: &Text) -> serde_json::Value {
    serde_json::json!([render(text.get(Lang::En)), render(text.get(Lang::Zh))])
}

/// `lessons/N.json`: `{"explanation": [en, zh], "steps": [{"text", "hint",
/// "what_happened"}], "lesson": Opened}`, each text HTML in both languages,
/// and the lesson's spec and scripts.
pub fn lesson_json(lesson: &Lesson) -> String {
    let steps: Vec<serde_json::Value> = lesson
        .steps()
        .iter()
        .map(|step| serde_json::json!({"text": both(&step.text), "hint": both(&step.hint), "what_happened": both(&step.what_happened)}))
        .collect();
    serde_json::json!({"explanation": both(&lesson.spec.explanation), "steps": steps, "lesson": lesson.opened()}).to_string()
}
