//! Embeds the lessons (`shared/lessons/NN-slug/`) in the crate: each
//! `lesson.toml` is checked against `src/spec.rs` here, at build time,
//! and embedded as JSON (so the wasm page needs no TOML parser); the scripts
//! are embedded as they are. Built for wasm32 (the page), only the titles are
//! embedded: the relay serves each lesson (its spec, scripts and texts as
//! HTML) as `lessons/N.json` (`frontend/src/lesson_html.rs`), fetched when opened.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/spec.rs"]
#[allow(dead_code)]
mod spec;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed={}", root.display());
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(|c: char| c.is_ascii_digit())))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    // The page (wasm32) fetches these texts as HTML that relay/build.rs
    // renders from the native build of this crate; its own copy leaves the
    // Markdown out, so the wasm carries none of them.
    let for_page = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32");
    let mut code = String::from("static FILES: &[Files] = &[\n");
    let mut menu = String::from("static MENU: &[Title] = &[\n");
    for (index, dir) in dirs.iter().enumerate() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        println!("cargo:rerun-if-changed={}", dir.display());
        let spec = check_lesson(dir, &name, index as u32 + 1)
            .unwrap_or_else(|e| panic!("lesson {name}: {e}"));
        let _ = writeln!(menu, "    Title {{ number: {}, en: {:?}, zh: {:?} }},", spec.number, spec.title.en, spec.title.zh);
        if for_page {
            continue;
        }
        let json_path = out.join(format!("{name}.json"));
        std::fs::write(&json_path, serde_json::to_string(&spec).unwrap()).unwrap();
        let mut wrong: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("wrong-"))
            })
            .collect();
        wrong.sort();
        let lit = |p: &Path| format!("include_str!({:?})", p.display().to_string());
        let _ = writeln!(
            code,
            "    Files {{ dir: {name:?}, spec_json: {}, starter: {}, solution: {}, wrong: &[{}] }},",
            lit(&json_path),
            lit(&dir.join("starter.sock")),
            lit(&dir.join("solution.sock")),
            wrong
                .iter()
                .map(|p| format!(
                    "({:?}, {})",
                    p.file_name().unwrap().to_string_lossy(),
                    lit(p)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    code.push_str("];\n");
    menu.push_str("];\n");
    if !for_page {
        menu.push_str(&code);
    }
    std::fs::write(out.join("lessons_data.rs"), menu).unwrap();
}

fn check_lesson(dir: &Path, name: &str, position: u32) -> Result<spec::LessonSpec, String> {
    let text = std::fs::read_to_string(dir.join("lesson.toml"))
        .map_err(|e| format!("lesson.toml: {e}"))?;
    let spec: spec::LessonSpec = toml::from_str(&text).map_err(|e| format!("lesson.toml: {e}"))?;
    let prefix = format!("{:02}-", spec.number);
    if !name.starts_with(&prefix)
        || spec.number != position
        || name != format!("{prefix}{}", spec.slug)
    {
        return Err(format!(
            "directory should be {prefix}{} and lesson {position} in order",
            spec.slug
        ));
    }
    let texts = |t: &spec::Text, what: &str| {
        if t.en.trim().is_empty() || t.zh.trim().is_empty() {
            Err(format!("{what} needs both en and zh"))
        } else {
            Ok(())
        }
    };
    texts(&spec.title, "title")?;
    texts(&spec.explanation, "explanation")?;
    if spec.steps.is_empty() {
        return Err("a lesson needs steps".into());
    }
    for (i, step) in spec.steps.iter().enumerate() {
        texts(&step.text, &format!("step {} text", step.id))?;
        texts(&step.hint, &format!("step {} hint", step.id))?;
        texts(
            &step.what_happened,
            &format!("step {} what_happened", step.id),
        )?;
        match &step.check {
            spec::Checkpoint::Segment { flags: None, expert: None } => {
                return Err(format!("step {}: a segment check needs flags or expert", step.id));
            }
            spec::Checkpoint::TcpInfo { at_least: None, fell: false, .. } => {
                return Err(format!("step {}: a tcp_info check needs at_least or fell", step.id));
            }
            _ => {}
        }
        if spec.steps[..i].iter().any(|s| s.id == step.id) {
            return Err(format!("two steps are called {}", step.id));
        }
    }
    for file in ["starter.sock", "solution.sock"] {
        if !dir.join(file).is_file() {
            return Err(format!("{file} is missing"));
        }
    }
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        if !file.starts_with("wrong-") {
            continue;
        }
        let source = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let fails = source
            .lines()
            .find_map(|l| l.strip_prefix("# fails:"))
            .ok_or_else(|| format!("{file} needs a `# fails: step-id, ...` line"))?;
        for id in fails.split(',').map(str::trim) {
            if !spec.steps.iter().any(|s| s.id == id) {
                return Err(format!("{file} says it fails {id:?}, which is not a step"));
            }
        }
    }
    Ok(spec)
}
