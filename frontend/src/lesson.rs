//! The Lessons panel: a lesson's explanation and steps, each step's
//! checkpoint as the current run decides it, hints and the solution.

use std::cell::RefCell;
use litemap::LiteMap;
use std::rc::Rc;

use socklab_lessons::{self as lessons, Lang, Opened, Verdict};
use yew::prelude::*;

/// The panel's own words, in the lesson's language.
pub fn ui(lang: Lang, what: &str) -> &'static str {
    let (en, zh) = match what {
        "lessons" => ("Lessons", "课程"),
        "choose" => ("choose…", "选择…"),
        "steps" => ("Steps", "步骤"),
        "hint" => ("Hint", "提示"),
        "solution" => ("Show solution", "显示答案"),
        "close" => ("Close lesson", "关闭课程"),
        "pending" => ("pending", "等待中"),
        "passed" => ("passed ✓", "通过 ✓"),
        "failed" => ("failed", "未通过"),
        "happened" => ("What just happened", "刚才发生了什么"),
        "loading" => ("Loading the lesson…", "正在加载课程…"),
        "unavailable" => ("The lesson's text could not be loaded:", "无法加载课程文本："),
        _ => ("", ""),
    };
    lang.pick(en, zh)
}

/// What a step's checkpoint shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Passed,
    Failed,
}

/// A step is pending until it passes or the run is over without it passing.
pub fn status(report: &Verdict, ran: bool, running: bool) -> Status {
    if report.passed {
        Status::Passed
    } else if ran && !running {
        Status::Failed
    } else {
        Status::Pending
    }
}

/// Which of a lesson's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Explanation,
    Text(usize),
    Hint(usize),
    WhatHappened(usize),
}

/// A lesson's texts as HTML, `[English, Chinese]` each, as `lessons/N.json`
/// gives them: rendered from the lessons' Markdown when the relay was built
/// (`lesson_html.rs`: raw HTML escaped, code blocks highlighted like the editor).
#[derive(Debug, PartialEq)]
pub struct Texts {
    explanation: [AttrValue; 2],
    /// Each step's text, hint and what happened.
    steps: Vec<[[AttrValue; 2]; 3]>,
}

/// `lessons/N.json`: the lesson's texts, and its spec and scripts.
pub fn from_json(json: &str) -> Option<(Texts, Opened)> {
    #[derive(serde::Deserialize)]
    struct File {
        explanation: [String; 2],
        steps: Vec<Step>,
        lesson: Opened,
    }
    #[derive(serde::Deserialize)]
    struct Step {
        text: [String; 2],
        hint: [String; 2],
        what_happened: [String; 2],
    }
    let file: File = socklab_wire::tag_first::from_str(json).ok()?;
    let pair = |[en, zh]: [String; 2]| [AttrValue::from(en), AttrValue::from(zh)];
    let steps = file.steps.into_iter().map(|s| [pair(s.text), pair(s.hint), pair(s.what_happened)]).collect();
    Some((Texts { explanation: pair(file.explanation), steps }, file.lesson))
}

impl Texts {
    /// The HTML of `part` in `lang` (empty if there is none).
    pub fn get(&self, part: Part, lang: Lang) -> AttrValue {
        let both = match part {
            Part::Explanation => Some(&self.explanation),
            Part::Text(i) => self.steps.get(i).map(|s| &s[0]),
            Part::Hint(i) => self.steps.get(i).map(|s| &s[1]),
            Part::WhatHappened(i) => self.steps.get(i).map(|s| &s[2]),
        };
        both.map_or_else(AttrValue::default, |[en, zh]| if lang == Lang::En { en.clone() } else { zh.clone() })
    }
}

/// A lesson fetched: its texts, and its spec and scripts.
type Fetched = (Rc<Texts>, Rc<Opened>);

thread_local! {
    /// Lessons fetched so far in this visit.
    static FETCHED: RefCell<LiteMap<u32, Fetched>> = Default::default();
}

/// Where the open lesson is.
#[derive(Clone, PartialEq)]
enum Loaded {
    Waiting,
    Ready(u32, Rc<Texts>),
    Failed(u32, String),
}

fn fetched(number: u32) -> Option<Fetched> {
    FETCHED.with(|f| f.borrow().get(&number).cloned())
}

/// Fetches lesson `number` from the relay that served the page.
async fn fetch_lesson(number: u32) -> Result<Fetched, String> {
    let url = format!("lessons/{number}.json");
    let json = crate::fetch::text(&url).await?;
    let (texts, opened) = from_json(&json).ok_or_else(|| format!("{url} is not a lesson"))?;
    let lesson = (Rc::new(texts), Rc::new(opened));
    FETCHED.with(|f| f.borrow_mut().insert(number, lesson.clone()));
    Ok(lesson)
}

/// The rendered text, inserted as it is: it is ours, built from the lessons
/// with any raw HTML escaped (see `lesson_html.rs`).
fn rich(texts: Option<&Texts>, part: Part, lang: Lang) -> Html {
    texts.map_or_else(Html::default, |texts| Html::from_html_unchecked(texts.get(part, lang)))
}

#[derive(Properties, PartialEq)]
pub struct LessonPanelProps {
    pub number: u32,
    /// The open lesson once the page has it (`Action::LessonLoaded`).
    pub opened: Option<Rc<Opened>>,
    /// Tells the page the lesson came.
    pub on_loaded: Callback<Rc<Opened>>,
    pub lang: Lang,
    pub reports: Vec<Verdict>,
    /// The current run has produced events.
    pub ran: bool,
    pub running: bool,
    pub on_solution: Callback<()>,
    pub on_close: Callback<()>,
}

#[component]
pub fn LessonPanel(props: &LessonPanelProps) -> Html {
    let hints = use_state(Vec::<usize>::new);
    let loaded = use_state(|| fetched(props.number).map_or(Loaded::Waiting, |(texts, _)| Loaded::Ready(props.number, texts)));
    {
        let (loaded, on_loaded) = (loaded.clone(), props.on_loaded.clone());
        use_effect_with(props.number, move |&number| {
            let arrived = move |lesson: Result<Fetched, String>| match lesson {
                Ok((texts, opened)) => {
                    loaded.set(Loaded::Ready(number, texts));
                    on_loaded.emit(opened);
                }
                Err(why) => loaded.set(Loaded::Failed(number, why)),
            };
            match fetched(number) {
                Some(lesson) => arrived(Ok(lesson)),
                None => yew::platform::spawn_local(async move { arrived(fetch_lesson(number).await) }),
            }
        });
    }
    let Some(title) = lessons::menu().iter().find(|title| title.number == props.number) else { return html! {} };
    let (lang, number) = (props.lang, title.number);
    let (texts, note) = match &*loaded {
        Loaded::Ready(n, texts) if *n == number => (Some(&**texts), None),
        Loaded::Failed(n, why) if *n == number => (None, Some(format!("{} {why}", ui(lang, "unavailable")))),
        _ => (None, Some(ui(lang, "loading").to_owned())),
    };
    // The steps, once the page has the lesson.
    let lesson = props.opened.as_ref().filter(|opened| opened.number == number);
    let steps = lesson.map_or(&[][..], |lesson| &lesson.steps[..]).iter().enumerate().map(|(index, id)| {
        let report = props.reports.get(index);
        let status = report.map_or(Status::Pending, |r| status(r, props.ran, props.running));
        let (class, label) = match status {
            Status::Pending => ("checkpoint pending", ui(lang, "pending").to_owned()),
            Status::Passed => ("checkpoint passed", ui(lang, "passed").to_owned()),
            Status::Failed => (
                "checkpoint failed",
                format!("{}: {}", ui(lang, "failed"), report.map_or("", |r| r.reason.as_str())),
            ),
        };
        let shown = hints.contains(&index);
        let toggle = {
            let hints = hints.clone();
            Callback::from(move |_: MouseEvent| {
                let mut open = (*hints).clone();
                match open.iter().position(|&i| i == index) {
                    Some(at) => _ = open.remove(at),
                    None => open.push(index),
                }
                hints.set(open);
            })
        };
        html! {
            <li class="step" data-step={id.clone()}>
                <div class="step-text">{ rich(texts, Part::Text(index), lang) }</div>
                <p class={class}>{ label }</p>
                <button class="hint-toggle" onclick={toggle} aria-expanded={shown.to_string()}>{ ui(lang, "hint") }</button>
                if shown {
                    <div class="hint">{ rich(texts, Part::Hint(index), lang) }</div>
                }
                if status == Status::Passed {
                    <div class="what-happened">
                        <h4>{ ui(lang, "happened") }</h4>
                        { rich(texts, Part::WhatHappened(index), lang) }
                    </div>
                }
            </li>
        }
    });
    let on_solution = props.on_solution.reform(|_: MouseEvent| ());
    let on_close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        // `data-lesson` says the lesson is here: its starter, steps and texts.
        <section class="lesson-panel" data-lesson={lesson.is_some().then(|| number.to_string())} aria-label={ui(lang, "lessons")}>
            <h2>{ format!("{number}. {}", title.get(lang)) }</h2>
            // The explanation and the steps scroll apart, so the steps stay in sight.
            <div class="explanation" tabindex="0">
                if let Some(note) = note {
                    <p class="lesson-note" role="status">{ note }</p>
                }
                { rich(texts, Part::Explanation, lang) }
            </div>
            <section class="lesson-steps" aria-label={ui(lang, "steps")}>
                <h3>{ ui(lang, "steps") }</h3>
                <ol class="steps">{ for steps }</ol>
                <p class="lesson-actions">
                    <button class="show-solution" onclick={on_solution}>{ ui(lang, "solution") }</button>
                    <button class="close-lesson" onclick={on_close}>{ ui(lang, "close") }</button>
                </p>
            </section>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lesson `number`'s `part` as the page gets it: rendered, served as JSON, read back.
    fn html(number: u32, part: Part, lang: Lang) -> String {
        let lesson = lessons::get(number).unwrap();
        let (texts, opened) = from_json(&crate::lesson_html::lesson_json(lesson)).expect("the served JSON reads back");
        assert_eq!(opened, lesson.opened());
        texts.get(part, lang).to_string()
    }

    #[test]
    fn lesson_6_renders_emphasis_and_its_code_block_highlighted() {
        for lang in [Lang::En, Lang::Zh] {
            let text = html(6, Part::Explanation, lang);
            assert!(text.contains("<em>") && text.contains("<strong>"), "{text}");
            assert!(!text.contains('*'), "no Markdown asterisk is left: {text}");
            let block = text.split("<pre class=\"highlight lesson-code\" tabindex=\"0\"><code>").nth(1).expect("the code block is a <pre>");
            let block = block.split("</code></pre>").next().unwrap();
            assert!(block.contains("<span class=\"kw\">while</span> total_send &lt; content_length:\n"), "{block}");
            assert!(block.contains("\n    sent = sock.send(data_to_sent[total_send:])\n"), "lines and indents kept: {block}");
            assert!(block.contains("<span class=\"st\">\"socket connection broken\"</span>"), "{block}");
        }
    }

    #[test]
    fn every_text_renders_with_only_markdown_s_own_tags() {
        let allowed = ["p", "em", "strong", "code", "pre", "span", "ul", "ol", "li", "a", "br", "blockquote"];
        for lesson in lessons::all() {
            let number = lesson.number();
            let mut parts = vec![Part::Explanation];
            for i in 0..lesson.steps().len() {
                parts.extend([Part::Text(i), Part::Hint(i), Part::WhatHappened(i)]);
            }
            for part in parts {
                for lang in [Lang::En, Lang::Zh] {
                    let text = html(number, part, lang);
                    assert!(!text.trim().is_empty(), "lesson {number} {part:?} {lang:?}");
                    for tag in text.split('<').skip(1) {
                        let name: String = tag.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
                        assert!(allowed.contains(&name.as_str()), "lesson {number} {part:?}: <{tag}");
                    }
                }
            }
        }
    }
}
