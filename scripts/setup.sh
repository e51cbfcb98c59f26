#!/usr/bin/env bash
# Installs what building and testing socklab needs on a fresh Debian 12 machine
# (root, Rust through rustup). Safe to run again: each step checks first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "setup: $*"; }

# The toolchain pinned by rust-toolchain.toml, with the targets it lists. A
# toolchain that is already installed does not get targets added by cargo.
sysroot="$(rustc --print sysroot)"
if [[ ! -d "$sysroot/lib/rustlib/wasm32-unknown-unknown" ]]; then
    say "adding the wasm32-unknown-unknown target to $(basename "$sysroot")"
    rustup target add wasm32-unknown-unknown --toolchain "$(basename "$sysroot")"
fi

# Headless Chromium and its driver, for the page's browser tests.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    say "installing chromium and chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# nginx, for the reverse-proxy test (tests/tests/proxy.rs), which runs its own
# instances. The package must not leave a system nginx running on port 80: a
# policy-rc.d that refuses starts covers the install, and a running or enabled
# service is stopped and disabled after it.
if [[ ! -x /usr/sbin/nginx ]]; then
    say "installing nginx-light"
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
    if [[ -d /run/systemd/system ]]; then
        systemctl disable --now nginx.service >/dev/null 2>&1 || true
    elif [[ -s /run/nginx.pid ]]; then
        /usr/sbin/nginx -s quit || true
    fi
fi

# tshark, which reads the pcapng `socklab run --pcap` writes (relay/tests/hosts.rs).
# Non-interactive: the package's question about capture rights keeps its default.
if ! command -v tshark >/dev/null; then
    say "installing tshark"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null
fi

# wasm-bindgen-test-runner must match the wasm-bindgen in Cargo.lock exactly.
wanted="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
if [[ -z "$wanted" ]]; then
    echo "setup: no wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
have="$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{ print $2 }' || true)"
if [[ "$have" != "$wanted" ]]; then
    say "installing wasm-bindgen-cli $wanted (found: ${have:-none})"
    cargo install wasm-bindgen-cli --version "$wanted"
fi

# axe-core, the accessibility checker the page's browser tests inject into
# the page (tests/tests/page.rs reads it from here), from the npm registry.
axe_version=4.14.1
npm_prefix=/opt/socklab-npm
if [[ "$(node -p "require('$npm_prefix/node_modules/axe-core/package.json').version" 2>/dev/null || true)" != "$axe_version" ]]; then
    if ! command -v npm >/dev/null; then
        say "installing npm"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    fi
    say "installing axe-core $axe_version into $npm_prefix"
    mkdir -p "$npm_prefix"
    npm install --prefix "$npm_prefix" --no-save --no-audit --no-fund "axe-core@$axe_version" >/dev/null
fi
