#!/usr/bin/env bash
# bench/run.sh: the orgtrail benchmark harness (issue 8). One command, one run, one report.
#
#   bench/run.sh [--size tiny|default|large] [--out DIR] [--build-dir DIR] [--no-build] [--no-peer]
#
# Measures, in ONE run on this machine (every figure next to its baseline from the same run):
#   1 limit      raw RocksDB synced WriteBatches of the same ~1.27 KB events (100 and 500 per batch),
#                1 writer thread and as many as ingest streams (the fair limit the ratios use)
#   2 collector  N concurrent mTLS streams of pre-signed batches (generator + invictus replay)
#   3 e2e        real agents (generator source, file source) -> collector, events/s from /metrics
#   4 latency    capture -> durable (ack) and capture -> visible (LookupEvents), the offered rate
#                stepped until it breaks (achieved < 95 %, visible p99 > 100 ms, or a probe unseen); 20k/s
#   5 queries    LookupEvents by attribute/time over gRPC on the run's store, jq over its export;
#                lookup_bench (in-process) on a synthetic store of the size's event count
#   6 resources  collector/agent RSS and CPU (/proc), bytes on disk per event, write amplification
#   7 peer       one file, one sender each, alternating rounds: orgtrail-agent --mTLS--> collector
#                vs rsyslog A (imfile) --RELP/mTLS--> rsyslog B (imrelp, omfile sync=on)
# and writes $OUT/report.md and $OUT/report.json (bench/harness/report.py). No figure is
# asserted; targets are marked reached / not reached. Loopback only; every process it starts is
# stopped and its work folder removed on exit (the report folder is kept).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE=default
OUT=""
BUILD_DIR="${ORGTRAIL_BENCH_BUILD_DIR:-$ROOT/build-bench}"
DO_BUILD=1
DO_PEER=1
SHARED_DATA="${ORGTRAIL_SHARED_DATA:-$ROOT/../shared/data}"
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --no-peer) DO_PEER=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# Sizes: events per phase. Seconds are upper bounds of the fixed-rate runs.
LAT_RATES="1000 2000 5000 10000 15000 20000 30000 40000 50000 70000 100000"  # events/s, stepped in order
case "$SIZE" in
  tiny)    RAW_EVENTS=4000;   STREAMS=2; STREAM_EVENTS=1000;  INVICTUS_EVENTS=2900
           E2E_GEN=2000;      E2E_FILE=2000;   LAT_SECONDS=2;  LOOKUP_ITER=20;  STORE_EVENTS=20000
           PEER_EVENTS=2000;  PEER_ROUNDS=1;   PEER_SETTLE_S=2; LAT_RATES="1000 5000"
           SIGMA_EVENTS=500;  SIGMA_ROUNDS=1;  HUNT_EVENTS=5000 ;;
  default) RAW_EVENTS=100000; STREAMS=4; STREAM_EVENTS=10000; INVICTUS_EVENTS=14500
           E2E_GEN=20000;     E2E_FILE=20000;  LAT_SECONDS=8;  LOOKUP_ITER=100; STORE_EVENTS=300000
           PEER_EVENTS=100000; PEER_ROUNDS=3
           SIGMA_EVENTS=10000; SIGMA_ROUNDS=7; HUNT_EVENTS=200000 ;;
  large)   RAW_EVENTS=200000; STREAMS=4; STREAM_EVENTS=50000; INVICTUS_EVENTS=58000
           E2E_GEN=100000;    E2E_FILE=100000; LAT_SECONDS=15; LOOKUP_ITER=300; STORE_EVENTS=10000000
           PEER_EVENTS=100000; PEER_ROUNDS=3
           SIGMA_EVENTS=25000; SIGMA_ROUNDS=3; HUNT_EVENTS=1000000 ;;
  *) echo "run.sh: --size tiny|default|large" >&2; exit 2 ;;
esac

OUT="${OUT:-$ROOT/bench/results/$SIZE-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/orgtrail-bench.XXXXXX")"
RES="$OUT/raw"          # one JSON file per measurement, read by report.py
mkdir -p "$RES" "$WORK"/{pki,logs,run}
ORG=bench.org
PIDS=()

# shellcheck source=harness/lib.sh
. "$ROOT/bench/harness/lib.sh"
trap cleanup EXIT INT TERM

# ---------------------------------------------------------------- build
CORES=$(nproc)
LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$DO_BUILD" = 1 ]; then
  say "building in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >"$WORK/logs/cmake.log" 2>&1 ||
    { cat "$WORK/logs/cmake.log" >&2; exit 1; }
  cmake --build "$BUILD_DIR" -j"$CORES" --target orgtrail-collector orgtrail-agent orgtrailctl \
    ingest_load_bench lookup_bench hunt_bench >"$WORK/logs/build.log" 2>&1 || { tail -40 "$WORK/logs/build.log" >&2; exit 1; }
fi
COLLECTOR="$BUILD_DIR/collector/orgtrail-collector"
AGENT="$BUILD_DIR/agent/orgtrail-agent"
CTL="$BUILD_DIR/cli/orgtrailctl"
LOADER="$BUILD_DIR/bench/ingest_load_bench"
LOOKUP_BENCH="$BUILD_DIR/bench/lookup_bench"
HUNT_BENCH="$BUILD_DIR/bench/hunt_bench"
for b in "$COLLECTOR" "$AGENT" "$CTL" "$LOADER" "$LOOKUP_BENCH" "$HUNT_BENCH"; do
  [ -x "$b" ] || { echo "run.sh: missing $b (build first or drop --no-build)" >&2; exit 1; }
done
INVICTUS="$SHARED_DATA/invictus-aws-dataset/CloudTrail"
[ -d "$INVICTUS" ] || { echo "run.sh: missing $INVICTUS" >&2; exit 1; }

cat >"$RES/env.json" <<EOF
{"size":"$SIZE","date":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","host":"$(hostname)","cores":$CORES,
 "loadavg_start":"$LOAD","commit":"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)",
 "disk":"$(df -P "$WORK" | awk 'NR==2 {print $1}')","work":"$WORK"}
EOF
say "size=$SIZE out=$OUT work=$WORK load=$LOAD"

# ---------------------------------------------------------------- PKI
P="$WORK/pki"
"$CTL" pki init-ca --dir "$P" --org "$ORG" >/dev/null
"$CTL" pki issue-collector --dir "$P" --name main --dns localhost --ip 127.0.0.1 \
  --out-cert "$P/collector.crt" --out-key "$P/collector.key" >/dev/null
"$CTL" pki issue-auditor --dir "$P" --name bench --out-cert "$P/auditor.crt" --out-key "$P/auditor.key" >/dev/null
issue_agent() {  # account name
  "$CTL" pki issue-agent --dir "$P" --account "$1" --region us-east-1 --name "$2" \
    --out-cert "$P/$2.crt" --out-key "$P/$2.key" >/dev/null
}
for i in $(seq 0 $((STREAMS - 1))); do issue_agent 111111111111 "load-$i"; done
issue_agent 123837392027 invictus-0
for n in e2e-gen-0 e2e-gen-1 e2e-file-0; do issue_agent 111111111111 "$n"; done
for r in $LAT_RATES 20000; do [ -f "$P/lat-$r.crt" ] || issue_agent 111111111111 "lat-$r"; done

# ---------------------------------------------------------------- 1. the limit
# The fair limit: as many writer threads as ingest streams (RocksDB's own group commit), the same
# generator records as the collector load; one thread kept as the single-writer figure.
say "1. raw RocksDB synced WriteBatches ($RAW_EVENTS events; 1 and $STREAMS writer threads)"
for n in 100 500; do
  "$LOADER" raw --dir "$WORK/raw-rocksdb" --threads 1 --per-batch "$n" --events "$RAW_EVENTS" >"$RES/raw-$n.json"
  "$LOADER" raw --dir "$WORK/raw-rocksdb" --threads "$STREAMS" --per-batch "$n" --events "$RAW_EVENTS" \
    >"$RES/raw-fair-$n.json"
done

# ---------------------------------------------------------------- collector
GRPC_PORT=$(free_port)
HTTP_PORT=$(free_port)
TARGET="127.0.0.1:$GRPC_PORT"
start_bg collector "$COLLECTOR" --listen "$TARGET" --http-listen "127.0.0.1:$HTTP_PORT" \
  --data-dir "$WORK/collector" --export-root "$WORK/export" --export-interval 2s \
  --ca "$P/ca.crt" --cert "$P/collector.crt" --key "$P/collector.key" --trust-domain "$ORG" \
  --management-account-id 111111111111 --log-level warn
COLLECTOR_PID=$BG_PID
wait_http "http://127.0.0.1:$HTTP_PORT/healthz" 60 || { tail -20 "$WORK/logs/collector.log" >&2; exit 1; }
start_sampler "$COLLECTOR_PID" collector

# ---------------------------------------------------------------- 2. collector alone
say "2. collector alone: $STREAMS streams x $STREAM_EVENTS generator events; invictus replay $INVICTUS_EVENTS"
mark ingest_start
"$LOADER" ingest --target "$TARGET" --pki "$P" --trust-domain "$ORG" --streams "$STREAMS" \
  --per-batch 100 --events "$STREAM_EVENTS" --source gen --run gen100 >"$RES/ingest-gen-100.json"
"$LOADER" ingest --target "$TARGET" --pki "$P" --trust-domain "$ORG" --streams "$STREAMS" \
  --per-batch 500 --events "$STREAM_EVENTS" --source gen --run gen500 >"$RES/ingest-gen-500.json"
"$LOADER" ingest --target "$TARGET" --pki "$P" --trust-domain "$ORG" --streams 1 \
  --per-batch 100 --events "$INVICTUS_EVENTS" --source invictus --invictus "$INVICTUS" --run inv \
  >"$RES/ingest-invictus.json"
mark ingest_end
curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" >"$RES/metrics-after-ingest.txt" 2>/dev/null || true

# ---------------------------------------------------------------- 3. end to end
say "3. end to end: 2 generator agents x $E2E_GEN + 1 file agent x $E2E_FILE"
"$LOADER" files --out "$WORK/inbox-file" --events "$E2E_FILE" --account 111111111111 --seed 9001 \
  >"$RES/e2e-files.json"
mkdir -p "$WORK/inbox-empty"
before=$(metric orgtrail_collector_events_in_store)
expected=$((before + 2 * E2E_GEN + E2E_FILE))
mark e2e_start
t0=$(date +%s%3N)
AGENT_PIDS=()
i=0
for n in e2e-gen-0 e2e-gen-1 e2e-file-0; do
  args=(--collector "$TARGET" --ca "$P/ca.crt" --cert "$P/$n.crt" --key "$P/$n.key" --trust-domain "$ORG"
        --spool-dir "$WORK/spool-$n" --ops-listen "127.0.0.1:$(free_port)" --log-level warn)
  case "$n" in
    e2e-gen-*) args+=(--generator-rate 1000000 --generator-seed $((7001 + i)) --generator-limit "$E2E_GEN") ;;
    e2e-file-*) args+=(--watch-dir "$WORK/inbox-file") ;;
  esac
  start_bg "agent-$n" "$AGENT" "${args[@]}"
  AGENT_PIDS+=("$BG_PID")
  start_sampler "$BG_PID" "agent-$n"
  i=$((i + 1))
done
deadline=$(( $(date +%s) + 60 + (2 * E2E_GEN + E2E_FILE) / 200 ))
: >"$RES/e2e-series.txt"
while :; do
  stored=$(metric orgtrail_collector_events_in_store)
  echo "$(date +%s%3N) $stored" >>"$RES/e2e-series.txt"
  [ "$stored" -ge "$expected" ] && break
  [ "$(date +%s)" -lt "$deadline" ] || { note "e2e: timed out at $stored of $expected"; break; }
  sleep 0.25
done
t1=$(date +%s%3N)
mark e2e_end
echo "{\"mode\":\"e2e\",\"agents\":3,\"events\":$((stored - before)),\"expected\":$((expected - before)),\"seconds\":$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1000}'),\"events_per_s\":$(awk -v n=$((stored - before)) -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", n*1000/(b-a)}')}" >"$RES/e2e.json"
sleep 1.5   # a few more RSS samples of the idle agents
for pid in "${AGENT_PIDS[@]}"; do stop_pid "$pid"; done

# ---------------------------------------------------------------- 4. latency: step the rate until it breaks
# shellcheck source=harness/latency_section.sh
. "$ROOT/bench/harness/latency_section.sh"
run_latency_section

# ---------------------------------------------------------------- 5. queries
say "5. queries: LookupEvents over gRPC vs jq over the export"
in_store=$(metric orgtrail_collector_events_in_store)
deadline=$(( $(date +%s) + 120 ))
while [ "$(metric orgtrail_export_events_total)" -lt "$in_store" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.5; done
exported=$(metric orgtrail_export_events_total)
"$LOADER" lookup --target "$TARGET" --pki "$P" --iterations "$LOOKUP_ITER" >"$RES/lookup-grpc.json"
JQ_NAME=$(python3 -c "import json;print(json.load(open('$RES/lookup-grpc.json'))['jq_event_name'])")
# Finished log files only: the collector keeps exporting (the lookups above are self-audited), and a
# ".tmp-*" file it is writing is renamed away under zcat (collector/export/export_file.h).
find "$WORK/export" -path '*/CloudTrail/*' -name '*.json.gz' ! -name '.tmp-*' >"$WORK/export-files.txt"
files=$(wc -l <"$WORK/export-files.txt")
jq_best=""
for r in 1 2 3; do
  s=$(date +%s%N)
  matches=$(xargs -a "$WORK/export-files.txt" zcat | jq -c --arg n "$JQ_NAME" '.Records[] | select(.eventName == $n)' | wc -l)
  e=$(date +%s%N)
  ms=$(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.3f", (b-a)/1e6}')
  if [ -z "$jq_best" ] || awk -v x="$ms" -v y="$jq_best" 'BEGIN{exit !(x<y)}'; then jq_best=$ms; fi
done
echo "{\"mode\":\"jq\",\"event_name\":\"$JQ_NAME\",\"files\":$files,\"events_exported\":$exported,\"events_in_store\":$in_store,\"matches\":$matches,\"best_ms\":$jq_best}" >"$RES/jq.json"

# ---------------------------------------------------------------- 6. resources (store side)
db_bytes=$(du -sb "$WORK/collector" | cut -f1)
export_bytes=$(du -sb "$WORK/export" 2>/dev/null | cut -f1 || echo 0)
echo "{\"mode\":\"disk\",\"events_in_store\":$in_store,\"db_bytes\":$db_bytes,\"export_bytes\":${export_bytes:-0}}" >"$RES/disk.json"
cp "$WORK/collector/db/LOG" "$RES/collector-rocksdb-LOG" 2>/dev/null || true
curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" >"$RES/metrics-end.txt" 2>/dev/null || true
stop_pid "$COLLECTOR_PID"

# lookup_bench: in-process LookupEvents on a synthetic store of STORE_EVENTS events.
say "5b. lookup_bench on $STORE_EVENTS synthetic events"
"$LOOKUP_BENCH" --events "$STORE_EVENTS" --iterations "$LOOKUP_ITER" --db "$WORK/lookup-store" >"$RES/lookup-bench.txt" 2>&1 ||
  note "lookup_bench failed (see raw/lookup-bench.txt)"
echo "{\"events\":$STORE_EVENTS,\"db_bytes\":$(du -sb "$WORK/lookup-store" 2>/dev/null | cut -f1 || echo 0)}" >"$RES/lookup-bench-store.json"
rm -rf "$WORK/lookup-store"

# ---------------------------------------------------------------- 7. peer: one agent vs one rsyslog, same file
# shellcheck source=harness/peer_section.sh
. "$ROOT/bench/harness/peer_section.sh"
run_peer_section

# ---------------------------------------------------------------- 8. detections: Sigma streaming cost, retro-hunt
# shellcheck source=harness/detections_section.sh
. "$ROOT/bench/harness/detections_section.sh"
run_detections_section

echo "$(cut -d' ' -f1-3 /proc/loadavg)" >"$RES/loadavg_end.txt"
cp "$WORK/logs/"*.log "$RES/" 2>/dev/null || true
python3 "$ROOT/bench/harness/report.py" "$OUT"
say "report: $OUT/report.md and $OUT/report.json"
