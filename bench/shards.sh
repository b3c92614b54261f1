#!/usr/bin/env bash
# bench/shards.sh: ingest with one collector and with two collectors sharded by account, on this
# machine, the same work both ways (issue 17's figure; deploy/README.md sizes an organization with it).
#
#   bench/shards.sh [--rounds R] [--streams S] [--events E] [--per-batch N] [--build-dir DIR] [--out DIR]
#
# Each round runs both setups, alternating which goes first, each on fresh collectors:
#   one  one collector; S mTLS Ingest streams of pre-signed generator batches, half as account
#        111111111111 and half as 222222222222 (bench/ingest_load_bench ingest --accounts)
#   two  two collectors with a shard map (shard-a serves 111111111111, shard-b 222222222222); the
#        same S streams, each to its account's shard (--target A,B): one client process, one clock
# Both: acked = durable (each batch's synced RocksDB write before its ack), the same collector flags
# (export on, no Sigma rules), the same disk. Figures: events/s per round, the medians, the ratio
# two/one. The machine's cores are shared by the collectors and the client: on 2 cores two
# collectors compete for the same CPU, so the ratio shows what a second collector buys *here*;
# the per-collector rate is what sizing uses. No figure is asserted.
# Defaults: 3 rounds, 4 streams, 20,000 events per stream, 500 per batch.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=3
STREAMS=4
EVENTS=20000
PER_BATCH=500
BUILD_DIR="${ORGTRAIL_BENCH_BUILD_DIR:-$ROOT/build}"
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --streams) STREAMS="$2"; shift 2 ;;
    --events) EVENTS="$2"; shift 2 ;;
    --per-batch) PER_BATCH="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "shards.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$STREAMS" -ge 2 ] && [ $((STREAMS % 2)) = 0 ] || { echo "shards.sh: --streams must be even and >= 2" >&2; exit 2; }

COLLECTOR="$BUILD_DIR/collector/orgtrail-collector"
CTL="$BUILD_DIR/cli/orgtrailctl"
LOADER="$BUILD_DIR/bench/ingest_load_bench"
for b in "$COLLECTOR" "$CTL" "$LOADER"; do
  [ -x "$b" ] || { echo "shards.sh: missing $b (cmake --build $BUILD_DIR --target orgtrail-collector orgtrailctl ingest_load_bench)" >&2; exit 1; }
done
OUT="${OUT:-$ROOT/bench/results/shards-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/orgtrail-shards-bench.XXXXXX")"
RES="$OUT/raw"
mkdir -p "$RES" "$WORK"/{pki,logs}
ORG=bench.org
PIDS=()
# shellcheck source=harness/lib.sh
. "$ROOT/bench/harness/lib.sh"
trap cleanup EXIT INT TERM

ACCOUNTS=(111111111111 222222222222)
P="$WORK/pki"
"$CTL" pki init-ca --dir "$P" --org "$ORG" >/dev/null
"$CTL" pki issue-collector --dir "$P" --name main --dns localhost --ip 127.0.0.1 \
  --out-cert "$P/collector.crt" --out-key "$P/collector.key" >/dev/null
for i in $(seq 0 $((STREAMS - 1))); do
  account="${ACCOUNTS[$((i % 2))]}"
  "$CTL" pki issue-agent --dir "$P" --account "$account" --region us-east-1 --name "load-$account-$i" \
    --out-cert "$P/load-$account-$i.crt" --out-key "$P/load-$account-$i.key" >/dev/null
done
say "cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) rounds=$ROUNDS streams=$STREAMS events/stream=$EVENTS per-batch=$PER_BATCH out=$OUT"

start_collector() {  # name data_dir grpc_port http_port [shard-map shard] -> BG_PID
  local name="$1" data="$2" grpc="$3" http="$4"; shift 4
  local extra=()
  [ $# -eq 2 ] && extra=(--shard-map "$1" --shard "$2")
  start_bg "$name" "$COLLECTOR" --listen "127.0.0.1:$grpc" --http-listen "127.0.0.1:$http" \
    --data-dir "$data" --export-root "$data-export" --export-interval 2s \
    --ca "$P/ca.crt" --cert "$P/collector.crt" --key "$P/collector.key" --trust-domain "$ORG" \
    --management-account-id 111111111111 --log-level warn "${extra[@]}"
  wait_http "http://127.0.0.1:$http/healthz" 60 || { tail -20 "$WORK/logs/$name.log" >&2; exit 1; }
}

run_one() {  # round
  local r="$1" g h pid
  g=$(free_port); h=$(free_port)
  start_collector "one-$r" "$WORK/one-$r" "$g" "$h"; pid=$BG_PID
  "$LOADER" ingest --target "127.0.0.1:$g" --pki "$P" --trust-domain "$ORG" --streams "$STREAMS" \
    --accounts "$(IFS=,; echo "${ACCOUNTS[*]}")" --per-batch "$PER_BATCH" --events "$EVENTS" --run "one-$r" \
    >"$RES/one-$r.json"
  stop_pid "$pid"
  rm -rf "$WORK/one-$r" "$WORK/one-$r-export"
}

run_two() {  # round
  local r="$1" ga gb ha hb pa pb map="$WORK/shards-$r.json"
  ga=$(free_port); gb=$(free_port); ha=$(free_port); hb=$(free_port)
  cat >"$map" <<JSON
{"shards": [
  {"name": "shard-a", "endpoint": "127.0.0.1:$ga", "accounts": ["${ACCOUNTS[0]}"], "default": true},
  {"name": "shard-b", "endpoint": "127.0.0.1:$gb", "accounts": ["${ACCOUNTS[1]}"]}]}
JSON
  start_collector "two-a-$r" "$WORK/two-a-$r" "$ga" "$ha" "$map" shard-a; pa=$BG_PID
  start_collector "two-b-$r" "$WORK/two-b-$r" "$gb" "$hb" "$map" shard-b; pb=$BG_PID
  "$LOADER" ingest --target "127.0.0.1:$ga,127.0.0.1:$gb" --pki "$P" --trust-domain "$ORG" --streams "$STREAMS" \
    --accounts "$(IFS=,; echo "${ACCOUNTS[*]}")" --per-batch "$PER_BATCH" --events "$EVENTS" --run "two-$r" \
    >"$RES/two-$r.json"
  # Every event went to its account's shard (a wrong_shard refusal would have failed the run).
  HTTP_PORT=$ha; a=$(metric orgtrail_collector_events_in_store)
  HTTP_PORT=$hb; b=$(metric orgtrail_collector_events_in_store)
  echo "{\"round\":$r,\"shard_a_events\":$a,\"shard_b_events\":$b}" >"$RES/two-$r-split.json"
  stop_pid "$pa"; stop_pid "$pb"
  rm -rf "$WORK/two-a-$r" "$WORK/two-b-$r" "$WORK/two-a-$r-export" "$WORK/two-b-$r-export"
}

for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run_one "$r"; run_two "$r"; else run_two "$r"; run_one "$r"; fi
  say "round $r: one $(sed 's/.*"events_per_s":\([0-9.]*\).*/\1/' "$RES/one-$r.json") ev/s, two $(sed 's/.*"events_per_s":\([0-9.]*\).*/\1/' "$RES/two-$r.json") ev/s"
done

python3 - "$RES" "$OUT" "$ROUNDS" "$STREAMS" "$EVENTS" "$PER_BATCH" <<'PY'
import json, os, statistics, sys
res, out, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def rate(name):
    with open(os.path.join(res, name)) as f:
        return json.load(f)["events_per_s"]
one = [rate("one-%d.json" % r) for r in range(1, rounds + 1)]
two = [rate("two-%d.json" % r) for r in range(1, rounds + 1)]
splits = [json.load(open(os.path.join(res, "two-%d-split.json" % r))) for r in range(1, rounds + 1)]
report = {"cores": os.cpu_count(), "rounds": rounds, "streams": int(sys.argv[4]),
          "events_per_stream": int(sys.argv[5]), "per_batch": int(sys.argv[6]),
          "one_collector_events_per_s": one, "two_collectors_events_per_s": two,
          "one_median": statistics.median(one), "two_median": statistics.median(two),
          "ratio_two_over_one": statistics.median(two) / statistics.median(one), "two_split": splits}
with open(os.path.join(out, "report.json"), "w") as f:
    json.dump(report, f, indent=1)
lines = ["# Ingest: one collector vs two sharded collectors",
         "", "%d cores; %d rounds; %d streams x %d events, %d per batch; acked = durable" %
         (report["cores"], rounds, report["streams"], report["events_per_stream"], report["per_batch"]), "",
         "| round | one collector (events/s) | two collectors (events/s) | shard-a / shard-b events |", "|---|---|---|---|"]
for r in range(rounds):
    lines.append("| %d | %.0f | %.0f | %d / %d |" % (r + 1, one[r], two[r], splits[r]["shard_a_events"], splits[r]["shard_b_events"]))
lines += ["", "median: one %.0f, two %.0f events/s; two/one = %.2f" %
          (report["one_median"], report["two_median"], report["ratio_two_over_one"])]
with open(os.path.join(out, "report.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
