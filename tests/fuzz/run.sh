#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, -DTRIDENT_FUZZ=ON) and runs each one
# for SECONDS on its committed corpus (tests/fuzz/corpus/<name>/, read only:
# new inputs go to a scratch corpus). A finding (crash, leak, timeout) stops
# the run with the harness's output and the reproducer under the scratch dir.
#
# usage: tests/fuzz/run.sh SECONDS [BUILD_DIR] [HARNESS...]
#   BUILD_DIR defaults to build-fuzz; HARNESS names (e.g. fuzz_audio) limit the run.
#   Extra libFuzzer flags: FUZZ_FLAGS="-runs=1000000" tests/fuzz/run.sh 0
#   The seed is fixed (1) so that a CI run repeats; FUZZ_SEED=0 picks a random one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:?usage: run.sh SECONDS [BUILD_DIR] [HARNESS...]}"
build="${2:-$root/build-fuzz}"
shift $(( $# >= 2 ? 2 : 1 ))
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRIDENT_FUZZ=ON \
  -DTRIDENT_WERROR=OFF -DTRIDENT_OPENBLAS=OFF >/dev/null
build="$(cd "$build" && pwd)"
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for src in "$root"/tests/fuzz/fuzz_*.c; do
    name="$(basename "$src" .c)"
    [ "$name" = fuzz_common ] || harnesses+=("$name")
  done
fi
cmake --build "$build" -j"$(nproc)" --target "${harnesses[@]}" >/dev/null
scratch="$(mktemp -d /tmp/trident-fuzz-run-XXXXXX)"
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for h in "${harnesses[@]}"; do
  corpus="$root/tests/fuzz/corpus/${h#fuzz_}"
  mkdir -p "$scratch/$h"
  echo "== $h: ${seconds} s on $corpus"
  flags=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -seed="${FUZZ_SEED:-1}" -artifact_prefix="$scratch/$h/")
  [ "$seconds" -gt 0 ] && flags+=(-max_total_time="$seconds")
  # shellcheck disable=SC2086
  if ! (cd "$scratch/$h" && "$build/tests/fuzz/$h" "${flags[@]}" ${FUZZ_FLAGS:-} "$scratch/$h" "$corpus" \
          >"$scratch/$h.log" 2>&1); then
    tail -n 60 "$scratch/$h.log"
    echo "FINDING in $h: reproducer and log under $scratch/$h" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$scratch/$h.log" | tail -n 2
done
rm -rf "$scratch"
echo "fuzz: ${#harnesses[@]} harnesses ran clean"
