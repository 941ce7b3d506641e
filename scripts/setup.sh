#!/usr/bin/env bash
# Installs every Debian package that TRIDENT's build, tests and server need.
# Run as root (or with sudo available) on Debian 12. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake pkg-config            # toolchain
  libcivetweb-dev                             # HTTP, WebSocket, multipart
  libssl-dev openssl                          # TLS (civetweb loads libssl.so at run time); test certificates
  libjansson-dev                              # JSON
  libsndfile1-dev libsoxr-dev                 # audio decoding, resampling
  libsqlite3-dev libpq-dev                    # call store (SQLite; PostgreSQL client)
  libssl-dev                                  # SHA-256 of API tokens and sessions (libcrypto)
  postgresql                                  # PostgreSQL server for the store backend tests
  libkissfft-dev                              # FFT for the mel spectrogram
  libopenblas-dev                             # optional fp32 GEMM fast path
  zlib1g-dev                                  # compression ratio (decoding fallback)
  python3                                     # integration-test client (stdlib)
  python3-websockets                          # a real-world WebSocket client (keepalive pings) in tests/server
  espeak-ng sox                               # generated speech in several formats for tests
  chromium                                    # the dashboard's browser test (tests/web)
  clang libclang-rt-14-dev                    # libFuzzer harnesses (tests/fuzz, -fsanitize=fuzzer)
  wbritish                                    # word list for scripts/derive-known-words.py (data/content/known.tsv)
)
# Node.js for the browser test's tooling (playwright-core): Debian's only when
# the machine has no `node` of its own.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs npm); fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: all packages present"

# playwright-core for tests/web, exactly as locked (needs the npm registry or npm's cache).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm ci --prefix "$root/tests/web" --prefer-offline --no-audit --no-fund --loglevel=error
echo "setup: tests/web node modules installed"
