#!/usr/bin/env bash
# The ThreadSanitizer pass (run by `scripts/test.sh --full`, or alone):
#   configures build-tsan/ (-DORGTRAIL_TSAN=ON, Debug at -O1 -g1), builds only the unit and
#   integration test binaries and the daemons and CLI they start (all under TSan), and runs
#   `ctest -L 'unit|integration'` there. Every child's stderr is scanned for sanitizer reports
#   (tests/testutil/sanitizer_report.h) and a test binary with a report exits non-zero, so any
#   "WARNING: ThreadSanitizer" report fails its test.
# Suppressions: tests/tsan.supp, only for the uninstrumented Debian libraries (gRPC, abseil,
# protobuf, RocksDB); a race in orgtrail's own code is fixed, never suppressed.
# Options: --no-build (run the tests of an existing build-tsan/). Environment: ORGTRAIL_JOBS.
# No test is ever rerun: a failure fails the run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$ROOT/build-tsan"
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "tsan.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
JOBS="${ORGTRAIL_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"  # ccache hits across clones and build dirs
export CCACHE_NOHASHDIR=1  # debug info: do not hash the build dir
start=$(date +%s)

if [ "$BUILD" = 1 ]; then
  echo "== ThreadSanitizer build (unit and integration tests, daemons under TSan)"
  # -O1 -g1: reports keep function names and lines; compiles much faster than -O2 -g.
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" -DORGTRAIL_TSAN=ON -DORGTRAIL_SANITIZE=OFF \
    -DORGTRAIL_BUILD_BENCH=OFF >/dev/null
  # The same test binaries as the ASan pass in test.sh, without the chaos harness.
  cmake --build "$BUILD_DIR" -j "$JOBS" --target orgtrail_test_binaries  # tests/CMakeLists.txt
  echo "== TSan build finished in $(( $(date +%s) - start ))s"
fi

echo "== Tests (ThreadSanitizer, labels unit and integration; the local-org script runs in the Release pass)"
# halt_on_error=0: a test binary prints every race it sees and exits 66 (exitcode) at the end;
# a daemon's reports are in its stderr, which the test scans when it reaps it.
# second_deadlock_stack=1: lock-order reports show both acquisitions.
# The 1M-event proportionality proof runs in the Release pass (200000 under ASan); TSan is
# slower still, and the races it looks for do not depend on the store's size.
# Not run here (they run in the Release and ASan passes): the crash-consistency tests that fork()
# the multi-threaded test process (RocksDB's background threads) and start threads in the child
# (a RocksDB store); TSan does not support that: it kills such a child (die_after_fork=1) or,
# with die_after_fork=0, its thread registry fails a CHECK ("dup thread with used id").
fork_tests='^(SpoolTest\.CheckpointAndEventsAreAtomicUnderKill9|LogExporterTest\.CrashAtEveryStepLeavesNoGapNoDuplicate'
fork_tests+='|EventIndexerTest\.EntriesLostWithTheProcessAreRebuiltAtTheNextOpen'
fork_tests+='|DigestPublisherTest\.CrashAtEveryStepKeepsTheChain|PowerLossTest\.RocksDbKeepsSyncedWritesAndLosesUnsyncedOnesAtThePowerCut'
# The upload crash tests fork too (the child's libcurl may start its resolver thread).
fork_tests+='|ExportUploaderTest\.CrashAnywhereInAPassResumesWithNothingMissingOrDoubled|ExportUploaderTest\.KillNineMidPassResumesCompletely)$'
# Also left to the other passes: the 2,000-stream flood (2,000 Ingest streams from 20 identities
# plus 200 silent TLS connections against one collector, with 30 s deadlines): a capacity test
# whose TLS handshakes alone outlast its deadlines under TSan's slowdown on a 2-core machine.
heavy_tests='^IngestStreamFloodTest\.SilentStreamsDoNotStopALegitimateAgent$'
tests_start=$(date +%s)
(cd "$BUILD_DIR" && ORGTRAIL_QUERY_SCALE_EVENTS=100000 GRPC_DNS_RESOLVER=native \
   TSAN_OPTIONS="suppressions=$ROOT/tests/tsan.supp:second_deadlock_stack=1:halt_on_error=0:exitcode=66:history_size=4" \
   ctest --output-on-failure -j "$JOBS" -L 'unit|integration' -E "^local_org_(quickstart|shards)\$|$fork_tests|$heavy_tests" --timeout 900)
echo "== TSan tests finished in $(( $(date +%s) - tests_start ))s (tsan.sh: $(( $(date +%s) - start ))s)"
