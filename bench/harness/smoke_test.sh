#!/usr/bin/env bash
# smoke_test.sh: ctest bench_harness_tiny (LABELS bench). Runs bench/run.sh --size tiny against the
# binaries of BUILD_DIR (no rebuild) into a temporary folder and checks that report.md and
# report.json exist with every section holding numbers; then bench/shards.sh and bench/upload.sh
# (the latter only with the Ceph packages) at a tiny size, checking their reports hold numbers.
# Asserts no timing and no target.
# The peer section may say explicitly that rsyslog is unavailable; that is not a failure.
#
#   smoke_test.sh BUILD_DIR
set -euo pipefail
BUILD_DIR="${1:?usage: smoke_test.sh BUILD_DIR}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/orgtrail-bench-smoke.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
"$HERE/../run.sh" --size tiny --no-build --build-dir "$BUILD_DIR" --out "$OUT"
python3 "$HERE/check_report.py" "$OUT"

"$HERE/../shards.sh" --rounds 1 --streams 2 --events 1000 --build-dir "$BUILD_DIR" --out "$OUT/shards"
python3 - "$OUT/shards/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["one_median"] > 0 and r["two_median"] > 0, r
assert all(s["shard_a_events"] == 1000 and s["shard_b_events"] == 1000 for s in r["two_split"]), r["two_split"]
PY
if "$HERE/../../tests/scripts/s3_test_server.sh" check 2>/dev/null; then
  "$HERE/../upload.sh" --files 5 --rounds 1 --build-dir "$BUILD_DIR" --out "$OUT/upload"
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["put_objects_per_s_median"] > 0 and r["uploader_objects_per_s_median"] > 0, r' \
    "$OUT/upload/report.json"
else
  echo "smoke_test: the Ceph packages are missing: bench/upload.sh not run"
fi
echo "smoke_test: run.sh, shards.sh and upload.sh reports complete"
