#!/usr/bin/env bash
# Fuzz the protocol decoder, the script parser and the interpreter (under its
# limits) with cargo-fuzz (libFuzzer).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    default: 60 s each, every target
#
# cargo-fuzz needs nightly compiler flags. A machine here cannot download a
# nightly toolchain, so the pinned stable one is told to accept them
# (RUSTC_BOOTSTRAP=1); an installed nightly is not needed. Installs cargo-fuzz
# from crates.io when it is missing. Exits non-zero when a target crashes; the
# input is left in fuzz/artifacts/<target>/ (run it again with
# `cargo fuzz run <target> <file>` under the same environment).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(decode parse interp)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

toolchain="$(rustc --version | awk '{print $2}')"
export RUSTC_BOOTSTRAP=1
# The relay's build script would build the wasm page; the fuzz targets do not need it.
export SOCKLAB_SKIP_FRONTEND=1

for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    seeds=("fuzz/seeds/$target")
    # The interpreter starts from the language tests' scripts.
    if [[ $target == interp ]]; then
        seeds=(shared/lang/tests/scripts fuzz/seeds/parse)
    fi
    echo "fuzz: $target for ${seconds}s (toolchain $toolchain)"
    # The code under test is safe Rust, so the sanitizer is off: libFuzzer still
    # catches every panic, overflow (debug assertions on) and timeout, at several times the speed.
    cargo "+$toolchain" fuzz run --sanitizer none --debug-assertions "$target" \
        "fuzz/corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
