#!/usr/bin/env bash
# smoke_test.sh: ctest bench_harness_tiny (LABELS bench). Runs bench/run.sh --size tiny against the
# binaries of BUILD_DIR (no rebuild) into a temporary folder and checks that report.md and
# report.json exist with every section holding numbers. Asserts no timing and no target.
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
