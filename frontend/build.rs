//! Renders every lesson's Markdown (explanation, step texts, hints, what
//! happened; English and Chinese) to HTML with pulldown-cmark, here at build
//! time, so the wasm page carries HTML and no Markdown parser.
//!
//! Code blocks are highlighted by the editor's own highlighter
//! (`src/highlight.rs`, included below), as spans with the same classes.
//! Raw HTML in the Markdown is not passed through: it is shown as text
//! (escaped), so the page can insert the result as it is.

use std::fmt::Write as _;
use std::path::PathBuf;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use socklab_lessons::{self as lessons, Lang};

#[path = "src/highlight.rs"]
#[allow(dead_code)]
mod highlight;
#[path = "src/lanes.rs"]
#[allow(dead_code)]
mod lanes;

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
fn render(markdown: &str) -> String {
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

fn both(text: &lessons::Text) -> String {
    format!("[{:?}, {:?}]", render(text.get(Lang::En)), render(text.get(Lang::Zh)))
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/highlight.rs");
    println!("cargo:rerun-if-changed=src/lanes.rs");
    let mut code = String::from("static LESSON_HTML: &[LessonHtml] = &[\n");
    for lesson in lessons::all() {
        let _ = writeln!(code, "    LessonHtml {{ number: {}, explanation: {}, steps: &[", lesson.number(), both(&lesson.spec.explanation));
        for step in lesson.steps() {
            let _ = writeln!(
                code,
                "        StepHtml {{ text: {}, hint: {}, what_happened: {} }},",
                both(&step.text),
                both(&step.hint),
                both(&step.what_happened)
            );
        }
        code.push_str("    ] },\n");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("lesson_html.rs"), code).unwrap();
}
