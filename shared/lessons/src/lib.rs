//! The guided lessons: data embedded at build time from `shared/lessons/`
//! (one directory per lesson: `lesson.toml`, `starter.sock`, `solution.sock`,
//! `wrong-*.sock`), read by the relay and by `socklab lesson`. The page
//! embeds only the titles ([`menu`]); it fetches a lesson it opens as an
//! [`Opened`] from the relay.
//!
//! A lesson's steps end in checkpoints ([`Checkpoint`]) decided on a run's
//! transcript, i.e. on real events: see [`checkpoint`].

pub mod checkpoint;
mod spec;

#[cfg(not(target_arch = "wasm32"))]
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

pub use checkpoint::{SampleFilter, StepReport, Verdict, check_steps};
pub use spec::{Checkpoint, LessonSpec, StepSpec, TcpInfoField, Text};

/// The languages lessons are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// `en` or `zh` (also `zh-CN`, `cn`, `english`, `chinese`).
    pub fn parse(name: &str) -> Option<Lang> {
        match name.to_ascii_lowercase().as_str() {
            "en" | "english" | "en-us" | "en-gb" => Some(Lang::En),
            "zh" | "cn" | "chinese" | "zh-cn" | "zh-hans" => Some(Lang::Zh),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.en, &self.zh)
    }
}

/// A lesson as the Lessons menu names it.
#[derive(Debug, PartialEq)]
pub struct Title {
    pub number: u32,
    pub en: &'static str,
    pub zh: &'static str,
}

impl Title {
    pub fn get(&self, lang: Lang) -> &'static str {
        lang.pick(self.en, self.zh)
    }
}

/// Every lesson's title, in course order.
pub fn menu() -> &'static [Title] {
    MENU
}

/// A lesson as the page fetches it when the learner opens it: its steps'
/// ids and its scripts (the relay judges the checkpoints; the texts come as
/// HTML beside this).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    pub number: u32,
    pub steps: Vec<String>,
    pub starter: String,
    pub solution: String,
}

/// A lesson with its scripts.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lesson {
    /// Directory name, e.g. `02-tcp-echo`.
    pub dir: &'static str,
    #[serde(flatten)]
    pub spec: LessonSpec,
    /// Where the learner starts: runs, but does not pass every checkpoint.
    pub starter: &'static str,
    /// A script that passes every checkpoint (tests run it on the real relay).
    pub solution: &'static str,
    /// Scripts that fail named checkpoints, so tests can show each checkpoint
    /// can fail.
    pub wrong: Vec<WrongScript>,
}

/// A script that is wrong on purpose.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WrongScript {
    pub file: &'static str,
    pub source: &'static str,
    /// The step ids it fails (its `# fails:` line).
    pub fails: Vec<String>,
}

#[cfg(not(target_arch = "wasm32"))]
impl Lesson {
    /// What the page fetches.
    pub fn opened(&self) -> Opened {
        Opened {
            number: self.number(),
            steps: self.steps().iter().map(|step| step.id.clone()).collect(),
            starter: self.starter.to_owned(),
            solution: self.solution.to_owned(),
        }
    }

    pub fn number(&self) -> u32 {
        self.spec.number
    }

    pub fn title(&self, lang: Lang) -> &str {
        self.spec.title.get(lang)
    }

    pub fn steps(&self) -> &[StepSpec] {
        &self.spec.steps
    }
}

#[cfg(not(target_arch = "wasm32"))]
struct Files {
    dir: &'static str,
    spec_json: &'static str,
    starter: &'static str,
    solution: &'static str,
    wrong: &'static [(&'static str, &'static str)],
}

include!(concat!(env!("OUT_DIR"), "/lessons_data.rs"));

#[cfg(not(target_arch = "wasm32"))]
static ALL: LazyLock<Vec<Lesson>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|files| Lesson {
            dir: files.dir,
            // build.rs made this JSON from the same types: it cannot fail to read back.
            spec: serde_json::from_str(files.spec_json)
                .unwrap_or_else(|e| panic!("lesson {}: {e}", files.dir)),
            starter: files.starter,
            solution: files.solution,
            wrong: files
                .wrong
                .iter()
                .map(|&(file, source)| WrongScript {
                    file,
                    source,
                    fails: declared_fails(source),
                })
                .collect(),
        })
        .collect()
});

/// Every lesson, in course order.
#[cfg(not(target_arch = "wasm32"))]
pub fn all() -> &'static [Lesson] {
    &ALL
}

/// Lesson `number` (1-based), if there is one.
#[cfg(not(target_arch = "wasm32"))]
pub fn get(number: u32) -> Option<&'static Lesson> {
    all().iter().find(|l| l.number() == number)
}

#[cfg(not(target_arch = "wasm32"))]
fn declared_fails(source: &str) -> Vec<String> {
    source
        .lines()
        .find_map(|l| l.strip_prefix("# fails:"))
        .map(|ids| {
            ids.split(',')
                .map(|id| id.trim().to_string())
                .filter(|id| !id.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_load_in_order_with_both_languages() {
        let lessons = all();
        assert!(lessons.len() >= 12, "{} lessons", lessons.len());
        for (i, lesson) in lessons.iter().enumerate() {
            assert_eq!(lesson.number() as usize, i + 1);
            for lang in Lang::ALL {
                assert!(!lesson.title(lang).trim().is_empty());
                assert!(!lesson.spec.explanation.get(lang).trim().is_empty());
                for step in lesson.steps() {
                    assert!(
                        !step.text.get(lang).trim().is_empty(),
                        "{} {}",
                        lesson.dir,
                        step.id
                    );
                    assert!(
                        !step.hint.get(lang).trim().is_empty(),
                        "{} {}",
                        lesson.dir,
                        step.id
                    );
                    assert!(
                        !step.what_happened.get(lang).trim().is_empty(),
                        "{} {}",
                        lesson.dir,
                        step.id
                    );
                }
            }
        }
    }

    #[test]
    fn the_menu_names_every_lesson_and_an_opened_lesson_reads_back() {
        let titles: Vec<(u32, &str, &str)> = menu().iter().map(|t| (t.number, t.en, t.zh)).collect();
        let lessons: Vec<(u32, &str, &str)> =
            all().iter().map(|l| (l.number(), l.title(Lang::En), l.title(Lang::Zh))).collect();
        assert_eq!(titles, lessons);
        for lesson in all() {
            let opened = lesson.opened();
            assert_eq!(serde_json::from_str::<Opened>(&serde_json::to_string(&opened).unwrap()).unwrap(), opened);
            assert_eq!((opened.starter.as_str(), opened.solution.as_str()), (lesson.starter, lesson.solution));
            assert_eq!(opened.steps, lesson.steps().iter().map(|s| s.id.as_str()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn every_script_parses() {
        for lesson in all() {
            let mut scripts = vec![
                ("starter.sock", lesson.starter),
                ("solution.sock", lesson.solution),
            ];
            scripts.extend(lesson.wrong.iter().map(|w| (w.file, w.source)));
            for (file, source) in scripts {
                let parsed = socklab_lang::parse(source);
                assert!(
                    parsed.is_ok(),
                    "{}/{file}: {:?}",
                    lesson.dir,
                    parsed.diagnostics
                );
            }
        }
    }

    #[test]
    fn every_checkpoint_has_a_wrong_script_that_should_fail_it() {
        for lesson in all() {
            for step in lesson.steps() {
                assert!(
                    lesson.wrong.iter().any(|w| w.fails.contains(&step.id)),
                    "{}: no wrong-*.sock declares it fails step {}",
                    lesson.dir,
                    step.id
                );
            }
        }
    }
}
