#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz (one per parser that takes outside input).
#
#   scripts/fuzz.sh --replay            run every target over its committed corpus only (CI)
#   scripts/fuzz.sh --seconds N         run every target for N seconds
#   scripts/fuzz.sh --runs N            run every target for N executions
# Options:
#   --only a,b      only these targets (names without fuzz_, e.g. --only sql,config)
#   --no-build      use the existing build dir as is
#   --build-dir D   the fuzz build dir (default: <repo>/build-fuzz; env ORGTRAIL_FUZZ_BUILD_DIR)
#   --jobs J        build parallelism (default 2)
#
# The build is a separate clang build dir (ASan+UBSan+libFuzzer, see tests/fuzz/CMakeLists.txt).
# Seeds are read from tests/fuzz/corpus/<target>/ and never modified; inputs the fuzzer finds go
# to <build-dir>/fuzz-corpus/<target>/. Crashes, leaks, timeouts and OOMs are saved in
# <build-dir>/fuzz-crashes/ (printed at the end); any of them fails the run (exit 1).
# Per target the script prints executions, exec/s, seconds and crashes, then a summary line.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${ORGTRAIL_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
MODE=""
AMOUNT=0
ONLY=""
BUILD_IT=1
JOBS=2

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --replay) MODE=replay; shift ;;
    --seconds) MODE=seconds; AMOUNT="${2:?--seconds N}"; shift 2 ;;
    --runs) MODE=runs; AMOUNT="${2:?--runs N}"; shift 2 ;;
    --only) ONLY="${2:?--only a,b}"; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    --build-dir) BUILD="${2:?--build-dir D}"; shift 2 ;;
    --jobs) JOBS="${2:?--jobs J}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$MODE" ] || usage
case "$AMOUNT" in ''|*[!0-9]*) echo "fuzz.sh: expected a number, got '$AMOUNT'" >&2; exit 2 ;; esac

# Every target, in the order they are run.
ALL_TARGETS=(event_extractor record_splitter filter_pattern selectors config http_request
             checkpoint batch_header spiffe_id revocation page_token sql alarm_config
             validate_public_keys validate_digest verify_event)
if [ -n "$ONLY" ]; then
  IFS=',' read -r -a TARGETS <<<"$ONLY"
else
  TARGETS=("${ALL_TARGETS[@]}")
fi

# Extra libFuzzer flags per target.
target_flags() {
  case "$1" in
    validate_digest) echo "-close_fd_mask=3 -max_len=8192" ;;  # the validator prints its report
    http_request) echo "-max_len=10240" ;;
    sql) echo "-max_len=2048" ;;
    event_extractor|record_splitter|selectors|alarm_config|verify_event) echo "-max_len=16384" ;;
    *) echo "-max_len=4096" ;;
  esac
}

if [ "$BUILD_IT" = 1 ]; then
  command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/bootstrap.sh installs it)" >&2; exit 2; }
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DORGTRAIL_BUILD_FUZZ=ON -DORGTRAIL_BUILD_TESTS=OFF -DORGTRAIL_BUILD_BENCH=OFF >/dev/null
  fi
  build_targets=()
  for t in "${TARGETS[@]}"; do build_targets+=(--target "fuzz_$t"); done
  echo "fuzz.sh: building ${#TARGETS[@]} target(s) in $BUILD (-j$JOBS)"
  cmake --build "$BUILD" "${build_targets[@]}" -j"$JOBS" >"$BUILD/fuzz-build.log" 2>&1 || {
    tail -40 "$BUILD/fuzz-build.log" >&2; echo "fuzz.sh: build failed (log: $BUILD/fuzz-build.log)" >&2; exit 2; }
fi

CRASHES="$BUILD/fuzz-crashes"
LOGS="$BUILD/fuzz-logs"
mkdir -p "$CRASHES" "$LOGS"
# Targets that write their input to a scratch file (config, validate-logs) run 10x faster on tmpfs.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

total_execs=0
failed=()
start_all=$(date +%s)
printf '%-22s %12s %10s %8s %8s  %s\n' target executions exec/s seconds crashes result
for t in "${TARGETS[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$t"
  seeds="$ROOT/tests/fuzz/corpus/$t"
  [ -x "$bin" ] || { echo "fuzz.sh: $bin missing (build it, or drop --no-build)" >&2; exit 2; }
  [ -d "$seeds" ] || { echo "fuzz.sh: no seed corpus $seeds" >&2; exit 2; }
  dict=()
  [ -f "$ROOT/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$ROOT/tests/fuzz/dict/$t.dict")
  log="$LOGS/$t.log"
  before=$(ls "$CRASHES" | grep -c "^$t-" || true)
  common=(-artifact_prefix="$CRASHES/$t-" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 $(target_flags "$t"))
  t0=$(date +%s.%N)
  set +e
  case "$MODE" in
    replay)  "$bin" "${common[@]}" -runs=0 "$seeds" >"$log" 2>&1 ;;
    seconds) mkdir -p "$BUILD/fuzz-corpus/$t"
             "$bin" "${common[@]}" "${dict[@]}" -max_total_time="$AMOUNT" "$BUILD/fuzz-corpus/$t" "$seeds" >"$log" 2>&1 ;;
    runs)    mkdir -p "$BUILD/fuzz-corpus/$t"
             "$bin" "${common[@]}" "${dict[@]}" -runs="$AMOUNT" "$BUILD/fuzz-corpus/$t" "$seeds" >"$log" 2>&1 ;;
  esac
  rc=$?
  set -e
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  execs=${execs:-0}; rate=${rate:-0}
  after=$(ls "$CRASHES" | grep -c "^$t-" || true)
  crashes=$((after - before))
  result=ok
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    result="FAILED (exit $rc, log $log)"
    [ "$crashes" -gt 0 ] || crashes=1
    failed+=("$t")
  fi
  total_execs=$((total_execs + execs))
  printf '%-22s %12s %10s %8s %8s  %s\n' "$t" "$execs" "$rate" "$secs" "$crashes" "$result"
  if [ "$result" != ok ]; then
    grep -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz invariant failed|Test unit written to|SUMMARY" "$log" | head -8 | sed 's/^/    /' || true
  fi
done
elapsed=$(( $(date +%s) - start_all ))

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crash inputs in $CRASHES:"
  for t in "${failed[@]}"; do ls -1 "$CRASHES" | grep "^$t-" | sed "s|^|    $CRASHES/|" || true; done
  echo "fuzz.sh: $MODE: ${#TARGETS[@]} targets, $total_execs executions in ${elapsed}s, FAILED: ${failed[*]}"
  echo "fuzz.sh: reproduce with $BUILD/tests/fuzz/fuzz_<target> <crash file>"
  exit 1
fi
echo "fuzz.sh: $MODE: ${#TARGETS[@]} targets, $total_execs executions in ${elapsed}s, no crashes"
