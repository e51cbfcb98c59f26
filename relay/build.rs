//! Builds the playground page (the `socklab-frontend` crate, compiled to wasm32) and
//! writes `$OUT_DIR/assets_table.rs`, which `src/assets.rs` includes to embed it.
//!
//! The page is built by a nested `cargo build` with its own target directory: the
//! outer cargo holds the lock on its own target directory for the whole build, so
//! sharing it would deadlock. wasm-bindgen then runs in-process as a library, so
//! no `wasm-bindgen` binary has to be installed. JS and wasm get content-hashed
//! names (cacheable forever); `index.html` refers to them and is never cached.
//!
//! `SOCKLAB_SKIP_FRONTEND=1` embeds a placeholder page instead, for relay work
//! that does not need the page (the wasm build takes minutes from clean).
//! Progress is silent; on failure the tail of the nested build's output is shown.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const FRONTEND_PACKAGE: &str = "socklab-frontend";
const WASM_PROFILE: &str = "wasm-release";

type Error = Box<dyn std::error::Error>;

// The page's highlighter and the lessons' renderer, shared with the page's own build.
#[path = "../frontend/src/highlight.rs"]
#[allow(dead_code)]
mod highlight;
#[path = "../frontend/src/lanes.rs"]
#[allow(dead_code)]
mod lanes;
#[path = "../frontend/src/lesson_html.rs"]
mod lesson_html;

fn main() {
    if let Err(error) = run() {
        for line in error.to_string().lines() {
            println!("cargo:warning={line}");
        }
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let relay_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let workspace = relay_dir.parent().ok_or("relay/ has no parent directory")?.to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let frontend_dir = workspace.join("frontend");

    println!("cargo:rerun-if-env-changed=SOCKLAB_SKIP_FRONTEND");
    for input in ["frontend", "shared", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }

    let site = if env::var_os("SOCKLAB_SKIP_FRONTEND").is_some_and(|v| !v.is_empty() && v != "0") {
        placeholder_site()
    } else {
        ensure_wasm_target(&workspace)?;
        let target_dir = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => PathBuf::from(dir).join("wasm"),
            None => workspace.join("target").join("wasm"),
        };
        let wasm = build_frontend(&workspace, &target_dir)?;
        let mut site = bindgen_site(&wasm, &frontend_dir, &out_dir.join("bindgen"))?;
        site.extend(lesson_files());
        site
    };
    write_site(&site, &out_dir)
}

/// One file of the built page, before it is embedded.
struct SiteFile {
    /// URL path, e.g. `/socklab-1a2b3c4d5e6f7081.wasm`.
    path: String,
    bytes: Vec<u8>,
    content_type: &'static str,
    cache: CachePolicy,
}

/// How long a browser may keep a file without asking again.
#[derive(Clone, Copy)]
enum CachePolicy {
    /// The name carries a hash of the content, so the bytes behind it never change.
    Immutable,
    /// Revalidate every time (the ETag makes that cheap): names that stay the same
    /// across builds, like `index.html`.
    Revalidate,
}

impl CachePolicy {
    fn header(self) -> &'static str {
        match self {
            CachePolicy::Immutable => "public, max-age=31536000, immutable",
            CachePolicy::Revalidate => "no-cache",
        }
    }
}

/// Adds the wasm target to the active toolchain when it is missing: a pinned
/// toolchain's `targets` list is only honoured when rustup installs the toolchain,
/// not when the toolchain was already there.
fn ensure_wasm_target(workspace: &Path) -> Result<(), Error> {
    let sysroot = command_stdout(
        clean_command(&env::var("RUSTC").unwrap_or_else(|_| "rustc".into()), workspace)
            .args(["--print", "sysroot"]),
    )?;
    let sysroot = PathBuf::from(sysroot.trim());
    if sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
        return Ok(());
    }
    let toolchain = sysroot
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| format!("cannot name the toolchain at {}", sysroot.display()))?
        .to_owned();
    let fix = format!("rustup target add {WASM_TARGET} --toolchain {toolchain}");
    let added = clean_command("rustup", workspace)
        .args(["target", "add", WASM_TARGET, "--toolchain", &toolchain])
        .output();
    match added {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(format!(
            "the {WASM_TARGET} target is missing and adding it failed:\n{}\nfix: {fix}",
            tail(&output.stderr, 20)
        )
        .into()),
        Err(error) => Err(format!("the {WASM_TARGET} target is missing ({error} running rustup)\nfix: {fix}").into()),
    }
}

/// Runs the nested cargo build and returns the path of the raw wasm module.
fn build_frontend(workspace: &Path, target_dir: &Path) -> Result<PathBuf, Error> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = clean_command(&cargo, workspace)
        .args(["build", "--profile", WASM_PROFILE, "--target", WASM_TARGET, "-p", FRONTEND_PACKAGE])
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .map_err(|error| format!("cannot run {cargo}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "building the page failed: cargo build --profile {WASM_PROFILE} --target {WASM_TARGET} -p {FRONTEND_PACKAGE}\n{}",
            tail(&output.stderr, 40)
        )
        .into());
    }
    let crate_name = FRONTEND_PACKAGE.replace('-', "_");
    Ok(target_dir.join(WASM_TARGET).join(WASM_PROFILE).join(format!("{crate_name}.wasm")))
}

/// A command that does not inherit what the outer cargo set up for this build
/// script: its flags, target, profile overrides, jobserver and wrappers (under
/// `cargo clippy` the wrapper would lint the page) belong to the relay's build.
fn clean_command(program: &str, dir: &Path) -> Command {
    const KEPT_CARGO_VARS: &[&str] =
        &["CARGO_HOME", "CARGO_NET_", "CARGO_HTTP_", "CARGO_REGISTRIES_", "CARGO_REGISTRY_", "CARGO_TERM_"];
    const REMOVED: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_LINKER",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
    ];
    let mut command = Command::new(program);
    command.current_dir(dir);
    for (name, _) in env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let cargo_var = name.starts_with("CARGO_") && !KEPT_CARGO_VARS.iter().any(|kept| name.starts_with(kept));
        if cargo_var || name.starts_with("__CARGO") || REMOVED.contains(&name) {
            command.env_remove(name);
        }
    }
    command
}

fn command_stdout(command: &mut Command) -> Result<String, Error> {
    let output = command.output().map_err(|error| format!("cannot run {command:?}: {error}"))?;
    if !output.status.success() {
        return Err(format!("{command:?} failed:\n{}", tail(&output.stderr, 20)).into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The last `lines` lines of a process's output, for error messages.
fn tail(output: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(output);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs wasm-bindgen on the module and assembles the page around its output.
fn bindgen_site(wasm: &Path, frontend_dir: &Path, staging: &Path) -> Result<Vec<SiteFile>, Error> {
    const STEM: &str = "socklab";
    if staging.exists() {
        fs::remove_dir_all(staging)?;
    }
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name(STEM)
        .web(true)?
        .typescript(false)
        // index.html passes the hashed wasm URL, so the glue needs no default.
        .omit_default_module_path(true)
        .generate(staging)
        .map_err(|error| format!("wasm-bindgen failed on {}: {error:#}", wasm.display()))?;

    let mut site = Vec::new();
    let glue_name = format!("{STEM}.js");
    let wasm_name = format!("{STEM}_bg.wasm");
    let js = hashed_file(STEM, "js", fs::read(staging.join(&glue_name))?);
    let module = hashed_file(STEM, "wasm", fs::read(staging.join(&wasm_name))?);
    let css = hashed_file("style", "css", fs::read(frontend_dir.join("style.css"))?);

    // Inline JS snippets, if any crate has them, are imported by the glue under
    // fixed relative names, so they are served as-is and revalidated.
    for file in walk(staging)? {
        let relative = file.strip_prefix(staging)?.to_str().ok_or("non-UTF-8 file name")?.replace('\\', "/");
        if relative == glue_name || relative == wasm_name {
            continue;
        }
        site.push(SiteFile {
            path: format!("/{relative}"),
            content_type: content_type(&relative),
            bytes: fs::read(&file)?,
            cache: CachePolicy::Revalidate,
        });
    }

    let template = fs::read_to_string(frontend_dir.join("index.html"))?;
    let index = template
        .replace("{{css}}", &css.path[1..])
        .replace("{{js}}", &js.path[1..])
        .replace("{{wasm}}", &module.path[1..]);
    site.push(SiteFile {
        path: "/index.html".into(),
        bytes: index.into_bytes(),
        content_type: content_type("index.html"),
        cache: CachePolicy::Revalidate,
    });
    site.extend([js, module, css]);
    Ok(site)
}

/// `lessons/N.json`, each lesson's texts as HTML: the page fetches the open lesson's.
fn lesson_files() -> Vec<SiteFile> {
    socklab_lessons::all()
        .iter()
        .map(|lesson| SiteFile {
            path: format!("/lessons/{}.json", lesson.number()),
            bytes: lesson_html::lesson_json(lesson).into_bytes(),
            content_type: content_type("json"),
            cache: CachePolicy::Revalidate,
        })
        .collect()
}

fn placeholder_site() -> Vec<SiteFile> {
    let page = "<!doctype html><meta charset=utf-8><title>socklab</title>\
                <p>This relay was built with SOCKLAB_SKIP_FRONTEND set, so it has no playground page. \
                Rebuild without it to get the page.</p>\n";
    vec![SiteFile {
        path: "/index.html".into(),
        bytes: page.as_bytes().to_vec(),
        content_type: content_type("index.html"),
        cache: CachePolicy::Revalidate,
    }]
}

/// A file named `STEM-HASH.EXT`, so that a new build is a new URL.
fn hashed_file(stem: &str, ext: &str, bytes: Vec<u8>) -> SiteFile {
    let name = format!("{stem}-{:016x}.{ext}", fnv1a(&bytes));
    SiteFile { content_type: content_type(&name), path: format!("/{name}"), bytes, cache: CachePolicy::Immutable }
}

/// FNV-1a, 64 bits: stable across Rust versions (unlike `DefaultHasher`), and
/// a cache key only has to change when the content does.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Writes every file, its gzip and brotli copies when they are smaller, and
/// the table `src/assets.rs` includes.
fn write_site(site: &[SiteFile], out_dir: &Path) -> Result<(), Error> {
    let site_dir = out_dir.join("site");
    if site_dir.exists() {
        fs::remove_dir_all(&site_dir)?;
    }
    fs::create_dir_all(&site_dir)?;
    let mut table = String::from("// Generated by relay/build.rs.\nstatic TABLE: &[(&str, Asset)] = &[\n");
    for (index, file) in site.iter().enumerate() {
        let raw = site_dir.join(index.to_string());
        fs::write(&raw, &file.bytes)?;
        let compressed = |suffix: &str, bytes: Vec<u8>| -> Result<String, Error> {
            if bytes.len() >= file.bytes.len() {
                return Ok("None".to_owned());
            }
            let path = site_dir.join(format!("{index}.{suffix}"));
            fs::write(&path, &bytes)?;
            Ok(format!("Some(include_bytes!({:?}))", path.display().to_string()))
        };
        let gzip_expr = compressed("gz", gzip(&file.bytes)?)?;
        let br_expr = compressed("br", brotli(&file.bytes)?)?;
        writeln!(
            table,
            "    ({path:?}, Asset {{ bytes: include_bytes!({raw:?}), gzip: {gzip_expr}, br: {br_expr}, \
             content_type: {ct:?}, cache_control: {cc:?}, etag: \"W/\\\"{etag:016x}\\\"\" }}),",
            path = file.path,
            raw = raw.display().to_string(),
            ct = file.content_type,
            cc = file.cache.header(),
            etag = fnv1a(&file.bytes),
        )?;
    }
    table.push_str("];\n");
    fs::write(out_dir.join("assets_table.rs"), table)?;
    Ok(())
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// Brotli at its best setting: about a fifth smaller than gzip on the wasm, and
/// browsers accept it on http://127.0.0.1 as well as over HTTPS.
fn brotli(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    const QUALITY: u32 = 11;
    const WINDOW_BITS: u32 = 24;
    let mut encoder = brotli::CompressorWriter::new(Vec::new(), 64 * 1024, QUALITY, WINDOW_BITS);
    encoder.write_all(bytes)?;
    encoder.flush()?;
    Ok(encoder.into_inner())
}
