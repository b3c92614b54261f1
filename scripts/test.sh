#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test.
#   1. scripts/bootstrap.sh               (Debian packages)
#   2. Release build in build/ and `ctest` (unit + integration + quick chaos + tiny bench)
#   3. AddressSanitizer+UBSan build in build-asan/: the unit and integration tests with the daemons
#      built under ASan+UBSan (every child's stderr is scanned; a sanitizer report fails the test)
#   4. with --full (CI: .ci/run): the ThreadSanitizer pass (scripts/tsan.sh, build-tsan/): the unit
#      and integration tests with the daemons built under TSan; a race report fails the test
#   5. the libFuzzer targets (scripts/fuzz.sh): each corpus replayed, then each target for a few seconds
# Options: --full (add step 4), --no-asan (skip step 3), --asan-only (only step 3), --no-fuzz (skip 5).
# No test is ever rerun: a failure fails the run (a flaky test is a bug to fix, not to retry).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_MAIN=1
RUN_ASAN=1
RUN_FUZZ=1
RUN_TSAN=0
ASAN_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --no-asan) RUN_ASAN=0 ;;
    --asan-only) ASAN_ONLY=1 ;;
    --no-fuzz) RUN_FUZZ=0 ;;
    --full) RUN_TSAN=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [ "$ASAN_ONLY" = 1 ]; then RUN_MAIN=0; RUN_ASAN=1; RUN_FUZZ=0; RUN_TSAN=0; fi
JOBS="${ORGTRAIL_JOBS:-$(nproc)}"
# ccache hits across clones and build dirs (paths under the repo are hashed relative to it).
export CCACHE_BASEDIR="$ROOT"
export CCACHE_NOHASHDIR=1  # the ASan build has debug info: do not hash the build dir
start=$(date +%s)
# Seconds per phase, printed at the end (and when a phase fails): where a slow run spent its time.
phases=()
phase_start=$start
phase_done() {  # phase_done <name>: the time since the previous phase ended is <name>'s
  local now
  now=$(date +%s)
  phases+=("$1 $((now - phase_start))s")
  phase_start=$now
}
print_phases() {
  local joined
  [ ${#phases[@]} -gt 0 ] || return 0
  joined="$(printf '%s, ' "${phases[@]}")"
  echo "== phases: ${joined%, }"
}
trap 'rc=$?; [ $rc -eq 0 ] || { phase_done "the failing step"; print_phases; }' EXIT

"$ROOT/scripts/bootstrap.sh"
phase_done bootstrap

if [ "$RUN_MAIN" = 1 ]; then
  echo "== Release build"
  ORGTRAIL_BUILD_DIR="$ROOT/build" "$ROOT/scripts/build.sh"
  phase_done "release build"
  # chaos_quick_new_seed draws a new schedule seed each run; it is printed here so a failure can
  # be replayed (ORGTRAIL_CHAOS_SEED=<seed> scripts/test.sh, or orgtrail-chaos --quick --seed <seed>).
  export ORGTRAIL_CHAOS_SEED="${ORGTRAIL_CHAOS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
  echo "== Tests (Release); chaos_quick_new_seed uses seed $ORGTRAIL_CHAOS_SEED"
  (cd "$ROOT/build" && ctest --output-on-failure -j "$JOBS" --timeout 900)
  phase_done "release tests"
fi

if [ "$RUN_ASAN" = 1 ]; then
  echo "== AddressSanitizer + UBSan build (unit and integration tests, daemons under ASan)"
  # -O1 -g1: sanitizer reports keep function names and lines; compiles much faster than -O2 -g.
  cmake -S "$ROOT" -B "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" -DORGTRAIL_SANITIZE=ON -DORGTRAIL_BUILD_BENCH=OFF >/dev/null
  # Only the unit and integration test binaries (tests/CMakeLists.txt) and the short sanitized chaos run
  # (tests/chaos/CMakeLists.txt).
  cmake --build "$ROOT/build-asan" -j "$JOBS" --target orgtrail_test_binaries orgtrail-chaos
  phase_done "asan build"
  echo "== Tests (ASan+UBSan: unit, integration and a short chaos run; the local-org script runs in the Release pass)"
  # The 1M-event proportionality proof runs in the Release pass; a smaller store suffices here.
  (cd "$ROOT/build-asan" && ORGTRAIL_QUERY_SCALE_EVENTS=200000 GRPC_DNS_RESOLVER=native ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$JOBS" -L 'unit|integration|sanitized' -E '^local_org_(quickstart|shards)$' --timeout 900)
  phase_done "asan tests"
fi
if [ "$RUN_TSAN" = 1 ]; then
  "$ROOT/scripts/tsan.sh"  # after the ASan pass: see scripts/tsan.sh
  phase_done "tsan build and tests"
fi
if [ "$RUN_FUZZ" = 1 ]; then
  echo "== Fuzz targets (clang, ASan+UBSan+libFuzzer): corpus replay, then 5 s each"
  "$ROOT/scripts/fuzz.sh" --replay  # builds build-fuzz/ first
  phase_done "fuzz build and replay"
  "$ROOT/scripts/fuzz.sh" --no-build --seconds 5
  phase_done "fuzz 5 s each"
fi
print_phases
echo "== test.sh finished in $(( $(date +%s) - start ))s"
