#!/usr/bin/env bash
# bench/upload.sh: the delivery's upload rate to S3-compatible storage (issue 17's figure), next to
# a plain PUT of the same files, on a throwaway single-node Ceph RADOS Gateway on loopback
# (tests/scripts/s3_test_server.sh; memstore OSD, so the store's disk is not in the figure).
#
#   bench/upload.sh [--files N] [--records R] [--rounds K] [--build-dir DIR] [--out DIR]
#
# Defaults: 200 log files of 1,000 generator records (~1.2 MB of JSON, ~120 KB gzipped, what a
# busy account-region's 5-minute log file holds), 3 rounds. See bench/upload_bench.cc for what is
# timed. Prints and writes $OUT/report.json. No figure is asserted.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILES=200
RECORDS=1000
ROUNDS=3
BUILD_DIR="${ORGTRAIL_BENCH_BUILD_DIR:-$ROOT/build}"
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --records) RECORDS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "upload.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
BENCH="$BUILD_DIR/bench/upload_bench"
[ -x "$BENCH" ] || { echo "upload.sh: missing $BENCH (cmake --build $BUILD_DIR --target upload_bench)" >&2; exit 1; }
S3="$ROOT/tests/scripts/s3_test_server.sh"
"$S3" check
OUT="${OUT:-$ROOT/bench/results/upload-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/orgtrail-upload-bench.XXXXXX")"
trap '"$S3" stop "$WORK/s3" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT INT TERM
echo "[upload] starting the object store" >&2
"$S3" start "$WORK/s3" >"$WORK/s3-start.log" 2>&1 || { cat "$WORK/s3-start.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$WORK/s3/env"
echo "[upload] cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) files=$FILES records=$RECORDS rounds=$ROUNDS" >&2
mkdir -p "$WORK/files"
"$BENCH" --files "$FILES" --records "$RECORDS" --rounds "$ROUNDS" --dir "$WORK/files" --bucket upload-bench \
  | tee "$OUT/report.json"
