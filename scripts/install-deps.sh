#!/usr/bin/env bash
# install-deps.sh: everything posttrain needs on a fresh Debian (bookworm) machine, as root.
#   build:  gcc, make, PCRE2 (tokenizer regexes, JIT), cJSON, utf8proc (NFC), zlib, zstd,
#           libmicrohttpd (posttrain serve), libcurl (posttrain synth: remote APIs)
#   tests:  Node.js + npm packages from package.json (tiktoken, js-tiktoken,
#           @lenml/tokenizers: the references the parity tests compare against),
#           clang + its libFuzzer runtime (the short fuzz run), Debian's PyTorch and numpy
#           for /usr/bin/python3 (the numerical reference in tests/torch), Chromium (the
#           web chat page's browser test, driven by npm playwright-core)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential pkg-config libpcre2-dev libcjson-dev libutf8proc-dev zlib1g-dev libzstd-dev libdnnl-dev
      libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev libsodium-dev libcmark-dev curl clang libclang-rt-14-dev libomp-14-dev python3-torch python3-numpy chromium"
command -v node >/dev/null && command -v npm >/dev/null || pkgs="$pkgs nodejs npm"
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
npm ci --no-audit --no-fund --loglevel=error
