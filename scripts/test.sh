#!/usr/bin/env bash
# The one command that runs every test: native unit and integration tests for
# the whole workspace, then the page's component tests in headless Chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

cargo test --workspace

# The runner starts Chromium headless with --no-sandbox (needed as root);
# frontend/webdriver.json adds the flags for a machine without outside network.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
CHROMEDRIVER=/usr/bin/chromedriver \
WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/frontend/webdriver.json" \
WASM_BINDGEN_TEST_TIMEOUT=120 \
    cargo test -p socklab-frontend --target wasm32-unknown-unknown --test web

# The end-to-end page tests (tests/) run inside `cargo test --workspace` above.

# Fuzz the protocol decoder and the script parser briefly (a crash fails the run).
bash scripts/fuzz.sh 30

# The benchmark's short version: prints its ratios against direct TCP (and
# websocat when installed); fails only if socklab gets the work wrong, never on timing.
cargo run --release -p socklab-bench -- --quick
