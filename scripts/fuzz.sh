#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz (one per parser that takes outside input).
#
#   scripts/fuzz.sh --replay            run every target over its committed corpus only (CI)
#   scripts/fuzz.sh --seconds N         run every target for N seconds
#   scripts/fuzz.sh --runs N            run every target for N executions (a dedicated campaign)
# Options:
#   --only a,b        only these targets, in this order (names without fuzz_, e.g. --only sql,config)
#   --parallel P      run P targets at a time (default 1); each target is one libFuzzer process
#   --fork F          run each target as one libFuzzer run of F worker processes sharing its
#                     corpus (libFuzzer's -fork=F; --runs N counts the executions of all workers)
#   --workers W       with --runs, run each target as W independent libFuzzer processes sharing its corpus
#                     folder (each reloads what the others find); --runs N is split between them
#                     and their executions are summed. Uses W cores for ~1/W of the time, without
#                     --fork's per-job restarts. Measured on sigma_rule, 2 cores: one process ~940
#                     exec/s, --fork 2 ~1,290, --workers 2 ~2,240 (first minutes of each)
#   --max-seconds S   stop each target after S seconds even if it has not reached --runs N
#   --budget S        stop the whole run after S seconds: a running target is stopped at the
#                     budget (its count so far is reported), targets not started are listed
#   --no-build        use the existing build dir as is
#   --build-dir D     the fuzz build dir (default: <repo>/build-fuzz; env ORGTRAIL_FUZZ_BUILD_DIR)
#   --jobs J          build parallelism (default 2)
#
# The build is a separate clang build dir (ASan+UBSan+libFuzzer, see tests/fuzz/CMakeLists.txt).
# Seeds are read from tests/fuzz/corpus/<target>/ and never modified; inputs the fuzzer finds go
# to <build-dir>/fuzz-corpus/<target>/. Crashes, leaks, timeouts and OOMs are saved in
# <build-dir>/fuzz-crashes/ (printed at the end); any of them fails the run (exit 1). With
# --runs, a target stopped (--max-seconds, --budget) before N executions makes the run
# incomplete (exit 3, after the table). Logs: <build-dir>/fuzz-logs/<target>.log.
# Per target the script prints executions, exec/s, seconds, crashes and whether --runs N was
# reached, then a summary line. A campaign that only uses idle CPU, fastest targets first:
#   nice -n 19 scripts/fuzz.sh --runs 10000000 --parallel 2 --budget 7200 > campaign.log 2>&1 &
# Do not pause a run (SIGSTOP): libFuzzer's -timeout is wall-clock time, so the input running at the
# pause is saved as a timeout when it resumes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${ORGTRAIL_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
MODE=""
AMOUNT=0
ONLY=""
BUILD_IT=1
JOBS=2
PARALLEL=1
FORK=0
WORKERS=1
MAX_SECONDS=0
BUDGET=0

# shellcheck source=lib/usage.sh
. "$ROOT/scripts/lib/usage.sh"
usage() { print_header_comment "$0"; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --replay) MODE=replay; shift ;;
    --seconds) MODE=seconds; AMOUNT="${2:?--seconds N}"; shift 2 ;;
    --runs) MODE=runs; AMOUNT="${2:?--runs N}"; shift 2 ;;
    --only) ONLY="${2:?--only a,b}"; shift 2 ;;
    --parallel) PARALLEL="${2:?--parallel P}"; shift 2 ;;
    --fork) FORK="${2:?--fork F}"; shift 2 ;;
    --workers) WORKERS="${2:?--workers W}"; shift 2 ;;
    --max-seconds) MAX_SECONDS="${2:?--max-seconds S}"; shift 2 ;;
    --budget) BUDGET="${2:?--budget S}"; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    --build-dir) BUILD="${2:?--build-dir D}"; shift 2 ;;
    --jobs) JOBS="${2:?--jobs J}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$MODE" ] || usage
for n in "$AMOUNT" "$PARALLEL" "$FORK" "$WORKERS" "$MAX_SECONDS" "$BUDGET"; do
  case "$n" in ''|*[!0-9]*) echo "fuzz.sh: expected a number, got '$n'" >&2; exit 2 ;; esac
done
[ "$PARALLEL" -ge 1 ] || { echo "fuzz.sh: --parallel needs at least 1" >&2; exit 2; }
[ "$WORKERS" -ge 1 ] || { echo "fuzz.sh: --workers needs at least 1" >&2; exit 2; }
[ "$WORKERS" -eq 1 ] || [ "$FORK" -eq 0 ] || { echo "fuzz.sh: --workers and --fork exclude each other" >&2; exit 2; }
[ "$WORKERS" -eq 1 ] || [ "$MODE" = runs ] || { echo "fuzz.sh: --workers needs --runs N (it splits N)" >&2; exit 2; }

# Every target, in the order they are run.
ALL_TARGETS=(event_extractor record_splitter filter_pattern selectors config http_request
             checkpoint batch_header spiffe_id revocation page_token sql alarm_config
             validate_public_keys validate_digest verify_event sigma_rule shard_map)
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
    sigma_rule) echo "-max_len=16384" ;;
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
# A campaign (--runs) records two frames per allocation and keeps a 16 MiB quarantine: every
# memory error is still caught, at 1.5x the executions per second (measured on fuzz_sigma_rule:
# ASan's stack depot and allocator were 18% of the profile). Replay a crasher with full stacks:
#   ASAN_OPTIONS=abort_on_error=1 <build-dir>/tests/fuzz/fuzz_<target> <crash file>
ASAN_DEFAULT="abort_on_error=1:detect_leaks=1:allocator_may_return_null=1"
[ "$MODE" = runs ] && ASAN_DEFAULT="$ASAN_DEFAULT:malloc_context_size=2:quarantine_size_mb=16"
export ASAN_OPTIONS="${ASAN_OPTIONS:-$ASAN_DEFAULT}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

start_all=$(date +%s)

# Runs --workers processes of one target over one corpus folder, --runs split between them (the
# first takes the remainder). Each writes <log>.wK; <log> gets their logs in turn and one
# stat::number_of_executed_units line with their sum. Fails if any worker failed.
# Reads common, dict and limit from run_target.
run_workers() {
  local bin="$1" log="$2" corpus="$3"
  shift 3
  local per=$((AMOUNT / WORKERS)) k pids=() rc=0 sum=0 n
  for ((k = 0; k < WORKERS; k++)); do
    n="$per"
    [ "$k" -eq 0 ] && n=$((per + AMOUNT % WORKERS))
    "$bin" "${common[@]}" "${dict[@]}" -runs="$n" -max_total_time="$limit" "$corpus" "$@" \
      >"$log.w$k" 2>&1 &
    pids+=($!)
  done
  for k in "${!pids[@]}"; do wait "${pids[$k]}" || rc=$?; done
  : >"$log"
  for ((k = 0; k < WORKERS; k++)); do
    echo "== worker $k" >>"$log"
    grep -v '^stat::number_of_executed_units' "$log.w$k" >>"$log" || true
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log.w$k" | tail -1)
    sum=$((sum + ${n:-0}))
  done
  echo "stat::number_of_executed_units: $sum" >>"$log"
  return "$rc"
}

# Runs one target; writes "<execs> <exec/s> <seconds> <crashes> <rc>" to $LOGS/<t>.result.
run_target() {
  local t="$1" bin="$BUILD/tests/fuzz/fuzz_$1" seeds="$ROOT/tests/fuzz/corpus/$1"
  local log="$LOGS/$1.log" limit=0 dict=() rc
  [ -f "$ROOT/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$ROOT/tests/fuzz/dict/$t.dict")
  # Seeds read from ../shared beside the repository, never written (libFuzzer writes new inputs
  # to the first corpus folder only).
  local shared_seeds=()
  if [ "$t" = sigma_rule ] && [ -d "$ROOT/../shared/data/sigma-cloudtrail/rules" ]; then
    shared_seeds=("$ROOT/../shared/data/sigma-cloudtrail/rules")
  fi
  [ "$MODE" = seconds ] && limit="$AMOUNT"
  [ "$MODE" = runs ] && limit="$MAX_SECONDS"
  if [ "$BUDGET" -gt 0 ]; then  # what is left of the budget caps this target
    local left=$((start_all + BUDGET - $(date +%s)))
    [ "$left" -ge 1 ] || left=1
    if [ "$limit" -eq 0 ] || [ "$left" -lt "$limit" ]; then limit="$left"; fi
  fi
  local before after
  # Failures only: crash-, leak-, timeout-, oom- (libFuzzer's slow-unit- files are a note, not one).
  before=$(ls "$CRASHES" | grep -cE "^$t-(crash|leak|timeout|oom)-" || true)
  local common=(-artifact_prefix="$CRASHES/$t-" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1
                $(target_flags "$t"))
  [ "$FORK" -gt 0 ] && [ "$MODE" != replay ] && common+=(-fork="$FORK")
  local t0 t1
  t0=$(date +%s.%N)
  case "$MODE" in
    replay)  "$bin" "${common[@]}" -runs=0 "$seeds" "${shared_seeds[@]}" >"$log" 2>&1 ;;
    seconds) mkdir -p "$BUILD/fuzz-corpus/$t"
             "$bin" "${common[@]}" "${dict[@]}" -max_total_time="$limit" "$BUILD/fuzz-corpus/$t" "$seeds" \
               "${shared_seeds[@]}" >"$log" 2>&1 ;;
    runs)    mkdir -p "$BUILD/fuzz-corpus/$t"
             if [ "$WORKERS" -eq 1 ]; then
               "$bin" "${common[@]}" "${dict[@]}" -runs="$AMOUNT" -max_total_time="$limit" \
                 "$BUILD/fuzz-corpus/$t" "$seeds" "${shared_seeds[@]}" >"$log" 2>&1
             else
               run_workers "$bin" "$log" "$BUILD/fuzz-corpus/$t" "$seeds" "${shared_seeds[@]}"
             fi ;;
  esac
  rc=$?
  t1=$(date +%s.%N)
  local secs execs rate
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ "$FORK" -gt 0 ] && [ "$MODE" != replay ]; then  # the fork parent reports its workers' total
    execs=$(sed -n 's/^INFO: fuzzed for \([0-9][0-9]*\) iterations.*/\1/p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9][0-9]*\): cov:.*/\1/p' "$log" | tail -1)
  fi
  if [ "$WORKERS" -gt 1 ] || { [ "$FORK" -gt 0 ] && [ "$MODE" != replay ]; }; then  # several processes
    rate=$(awk -v n="${execs:-0}" -v s="$secs" 'BEGIN { if (s > 0) printf "%d", n / s; else print 0 }')
  fi
  after=$(ls "$CRASHES" | grep -cE "^$t-(crash|leak|timeout|oom)-" || true)
  echo "${execs:-0} ${rate:-0} $secs $((after - before)) $rc" >"$LOGS/$t.result"
}

# Prints the table row of one finished target; records failures and shortfalls.
total_execs=0
failed=()
short=()
report_target() {
  local t="$1" execs rate secs crashes rc result reached=-
  read -r execs rate secs crashes rc <"$LOGS/$t.result"
  result=ok
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    result="FAILED (exit $rc, log $LOGS/$t.log)"
    [ "$crashes" -gt 0 ] || crashes=1
    failed+=("$t")
  fi
  if [ "$MODE" = runs ]; then
    if [ "$execs" -ge "$AMOUNT" ]; then reached=yes; else reached=no; short+=("$t=$execs"); fi
  fi
  total_execs=$((total_execs + execs))
  printf '%-22s %12s %10s %8s %8s %8s  %s\n' "$t" "$execs" "$rate" "$secs" "$crashes" "$reached" "$result"
  if [ "$result" != ok ]; then
    grep -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz invariant failed|Test unit written to|SUMMARY" \
      "$LOGS/$t.log" | head -8 | sed 's/^/    /' || true
  fi
}

printf '%-22s %12s %10s %8s %8s %8s  %s\n' target executions exec/s seconds crashes reached result
pending=("${TARGETS[@]}")
running=()  # "pid:target"
not_run=()
for t in "${TARGETS[@]}"; do
  [ -x "$BUILD/tests/fuzz/fuzz_$t" ] || { echo "fuzz.sh: $BUILD/tests/fuzz/fuzz_$t missing (build it, or drop --no-build)" >&2; exit 2; }
  [ -d "$ROOT/tests/fuzz/corpus/$t" ] || { echo "fuzz.sh: no seed corpus $ROOT/tests/fuzz/corpus/$t" >&2; exit 2; }
  rm -f "$LOGS/$t.result"
done
while [ ${#pending[@]} -gt 0 ] || [ ${#running[@]} -gt 0 ]; do
  while [ ${#pending[@]} -gt 0 ] && [ ${#running[@]} -lt "$PARALLEL" ]; do
    t="${pending[0]}"
    pending=("${pending[@]:1}")
    if [ "$BUDGET" -gt 0 ] && [ $(( $(date +%s) - start_all )) -ge "$BUDGET" ]; then
      not_run+=("$t")
      continue
    fi
    set +e
    if [ "$PARALLEL" -eq 1 ]; then
      run_target "$t"
      set -e
      report_target "$t"
      continue
    fi
    run_target "$t" &
    set -e
    running+=("$!:$t")
  done
  [ ${#running[@]} -gt 0 ] || break
  sleep 1
  still=()
  for r in "${running[@]}"; do
    if kill -0 "${r%%:*}" 2>/dev/null; then still+=("$r"); else wait "${r%%:*}" || true; report_target "${r#*:}"; fi
  done
  running=("${still[@]+"${still[@]}"}")
done
elapsed=$(( $(date +%s) - start_all ))

summary="fuzz.sh: $MODE: ${#TARGETS[@]} targets, $total_execs executions in ${elapsed}s"
if [ "$MODE" = runs ]; then
  [ ${#short[@]} -eq 0 ] || summary+=", short of $AMOUNT: ${short[*]}"
  [ ${#not_run[@]} -eq 0 ] || summary+=", not run (budget): ${not_run[*]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crash inputs in $CRASHES:"
  for t in "${failed[@]}"; do ls -1 "$CRASHES" | grep -E "^$t-(crash|leak|timeout|oom)-" | sed "s|^|    $CRASHES/|" || true; done
  echo "$summary, FAILED: ${failed[*]}"
  echo "fuzz.sh: reproduce with $BUILD/tests/fuzz/fuzz_<target> <crash file>"
  exit 1
fi
if [ "$MODE" = runs ] && [ $(( ${#short[@]} + ${#not_run[@]} )) -gt 0 ]; then
  echo "$summary, no crashes, INCOMPLETE"
  exit 3
fi
echo "$summary, no crashes"
