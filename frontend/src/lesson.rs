//! The Lessons panel: a lesson's explanation and steps, each step's
//! checkpoint as the current run decides it, hints and the solution.

use std::collections::BTreeSet;

use socklab_lessons::{self as lessons, Lang, StepReport};
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
pub fn status(report: &StepReport, ran: bool, running: bool) -> Status {
    if report.verdict.passed {
        Status::Passed
    } else if ran && !running {
        Status::Failed
    } else {
        Status::Pending
    }
}

/// Minimal Markdown: blank lines separate paragraphs, `* ` lines make a list,
/// `backticks` make code and `**` emphasis is dropped.
pub fn markdown(text: &str) -> Html {
    let inline = |text: &str| -> Html {
        let text = text.replace("**", "");
        let pieces = text.split('`').enumerate().map(|(i, piece)| {
            if i % 2 == 1 { html! { <code>{ piece.to_owned() }</code> } } else { html! { { piece.to_owned() } } }
        });
        html! { { for pieces } }
    };
    let blocks = text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(|block| {
        if block.starts_with("* ") || block.starts_with("- ") {
            // Items start with `* `; other lines continue the item before them.
            let mut items: Vec<String> = Vec::new();
            for line in block.lines().map(str::trim) {
                match line.strip_prefix("* ").or_else(|| line.strip_prefix("- ")) {
                    Some(item) => items.push(item.to_owned()),
                    None => {
                        if let Some(last) = items.last_mut() {
                            last.push(' ');
                            last.push_str(line);
                        }
                    }
                }
            }
            html! { <ul>{ for items.iter().map(|item| html! { <li>{ inline(item) }</li> }) }</ul> }
        } else {
            html! { <p>{ inline(block) }</p> }
        }
    });
    html! { { for blocks } }
}

#[derive(Properties, PartialEq)]
pub struct LessonPanelProps {
    pub number: u32,
    pub lang: Lang,
    pub reports: Vec<StepReport>,
    /// The current run has produced events.
    pub ran: bool,
    pub running: bool,
    pub on_solution: Callback<()>,
    pub on_close: Callback<()>,
}

#[component]
pub fn LessonPanel(props: &LessonPanelProps) -> Html {
    let hints = use_state(BTreeSet::<usize>::new);
    let Some(lesson) = lessons::get(props.number) else { return html! {} };
    let lang = props.lang;
    let steps = lesson.steps().iter().enumerate().map(|(index, step)| {
        let report = props.reports.get(index);
        let status = report.map_or(Status::Pending, |r| status(r, props.ran, props.running));
        let (class, label) = match status {
            Status::Pending => ("checkpoint pending", ui(lang, "pending").to_owned()),
            Status::Passed => ("checkpoint passed", ui(lang, "passed").to_owned()),
            Status::Failed => (
                "checkpoint failed",
                format!("{}: {}", ui(lang, "failed"), report.map_or("", |r| r.verdict.reason.as_str())),
            ),
        };
        let shown = hints.contains(&index);
        let toggle = {
            let hints = hints.clone();
            Callback::from(move |_: MouseEvent| {
                let mut set = (*hints).clone();
                if !set.remove(&index) {
                    set.insert(index);
                }
                hints.set(set);
            })
        };
        html! {
            <li class="step" data-step={step.id.clone()}>
                <div class="step-text">{ markdown(step.text.get(lang)) }</div>
                <p class={class}>{ label }</p>
                <button class="hint-toggle" onclick={toggle} aria-expanded={shown.to_string()}>{ ui(lang, "hint") }</button>
                if shown {
                    <div class="hint">{ markdown(step.hint.get(lang)) }</div>
                }
                if status == Status::Passed {
                    <div class="what-happened">
                        <h4>{ ui(lang, "happened") }</h4>
                        { markdown(step.what_happened.get(lang)) }
                    </div>
                }
            </li>
        }
    });
    let on_solution = props.on_solution.reform(|_: MouseEvent| ());
    let on_close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <aside class="lesson-panel" data-lesson={lesson.number().to_string()} aria-label={ui(lang, "lessons")}>
            <h2>{ format!("{}. {}", lesson.number(), lesson.title(lang)) }</h2>
            <div class="explanation">{ markdown(lesson.spec.explanation.get(lang)) }</div>
            <h3>{ ui(lang, "steps") }</h3>
            <ol class="steps">{ for steps }</ol>
            <p class="lesson-actions">
                <button class="show-solution" onclick={on_solution}>{ ui(lang, "solution") }</button>
                <button class="close-lesson" onclick={on_close}>{ ui(lang, "close") }</button>
            </p>
        </aside>
    }
}
