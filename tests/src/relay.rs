//! The relay binary the end-to-end tests run, built or brought up to date first.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The relay binary with the real page embedded: `SOCKLAB_CLASS_RELAY` when
/// set, else this test build's profile (debug or release) of `socklab`, which
/// cargo builds first (a no-op when it is up to date).
pub fn relay_binary() -> PathBuf {
    relay_binary_in(if cfg!(debug_assertions) { "debug" } else { "release" })
}

/// The release relay, for tests that measure it or load it hard.
pub fn release_relay_binary() -> PathBuf {
    relay_binary_in("release")
}

fn relay_binary_in(profile: &str) -> PathBuf {
    if let Some(path) = std::env::var_os("SOCKLAB_CLASS_RELAY") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace().join("target"));
    let mut build = Command::new(env!("CARGO"));
    build.current_dir(workspace()).args(["build", "-p", "socklab"]).env_remove("SOCKLAB_SKIP_FRONTEND");
    if profile == "release" {
        build.arg("--release");
    }
    // What cargo set for this test (CARGO_MANIFEST_DIR, CARGO_PKG_*, …) would
    // look like a changed environment to build scripts and rebuild them.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || ["CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE"]
                .contains(&name.as_ref())
        {
            build.env_remove(name.as_ref());
        }
    }
    assert!(build.status().expect("cargo runs").success(), "building the relay failed");
    target.join(profile).join("socklab")
}
