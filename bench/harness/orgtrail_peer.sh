#!/usr/bin/env bash
# orgtrail_peer.sh: the orgtrail side of bench/run.sh section 7, the mirror of rsyslog_peer.sh.
# The same JSON Lines file of generator events through one agent and one collector on loopback:
#
#   events.jsonl --file source (tailed *.jsonl)--> orgtrail-agent (spool, batch, sign)
#                 --Ingest stream, mTLS--> orgtrail-collector (verify, synced RocksDB write, ack)
#
# A fresh collector (own data dir, default options, its own PKI from orgtrailctl) is started and
# healthy before the clock starts; the clock runs from the agent's start to the collector's
# orgtrail_collector_events_in_store reaching N (polled every 0.1 s), i.e. every event
# acknowledged: the collector acks a batch only after its synced RocksDB write.
# CPU: the agent's utime+stime from /proc/<pid>/stat read just before it is stopped (sender), and
# the collector's utime+stime over the clocked interval (receiver).
# Prints one JSON object: events, seconds, events/s, CPU seconds and µs per event of both sides,
# max RSS of both. Exit status != 0 (last stderr line = reason) when the run failed.
#
#   orgtrail_peer.sh --file events.jsonl --events N --work DIR --build-dir DIR
#
# ORGTRAIL_PEER_AGENT_ARGS (unset in bench/run.sh): extra agent flags, for tuning experiments.
set -euo pipefail
FILE=""
EVENTS=0
WORK=""
BUILD_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --file) FILE="$2"; shift 2 ;;
    --events) EVENTS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    *) echo "orgtrail_peer.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$WORK" ] && [ -f "$FILE" ] && [ "$EVENTS" -gt 0 ] && [ -d "$BUILD_DIR" ] ||
  { echo "orgtrail_peer.sh: --file, --events > 0, --work and --build-dir are required" >&2; exit 2; }
COLLECTOR="$BUILD_DIR/collector/orgtrail-collector"
AGENT="$BUILD_DIR/agent/orgtrail-agent"
CTL="$BUILD_DIR/cli/orgtrailctl"
for b in "$COLLECTOR" "$AGENT" "$CTL"; do
  [ -x "$b" ] || { echo "orgtrail_peer.sh: missing $b" >&2; exit 2; }
done

rm -rf "$WORK"
mkdir -p "$WORK"/{pki,in,collector}
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

stop_pid() {  # graceful, then forced (bounded)
  local pid="$1" i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

ORG=bench.org
K="$WORK/pki"
"$CTL" pki init-ca --dir "$K" --org "$ORG" >/dev/null
"$CTL" pki issue-collector --dir "$K" --name peer --dns localhost --ip 127.0.0.1 \
  --out-cert "$K/collector.crt" --out-key "$K/collector.key" >/dev/null
"$CTL" pki issue-agent --dir "$K" --account 111111111111 --region us-east-1 --name peer-agent \
  --out-cert "$K/agent.crt" --out-key "$K/agent.key" >/dev/null

# The agent tails *.jsonl in its watch dir; a hard link (same bytes, no copy) when possible.
ln "$FILE" "$WORK/in/events.jsonl" 2>/dev/null || cp "$FILE" "$WORK/in/events.jsonl"

GRPC_PORT=$(free_port)
HTTP_PORT=$(free_port)
"$COLLECTOR" --listen "127.0.0.1:$GRPC_PORT" --http-listen "127.0.0.1:$HTTP_PORT" --data-dir "$WORK/collector" \
  --ca "$K/ca.crt" --cert "$K/collector.crt" --key "$K/collector.key" --trust-domain "$ORG" \
  --management-account-id 111111111111 --log-level warn >"$WORK/collector.log" 2>&1 &
C_PID=$!
PIDS+=("$C_PID")
metric() {
  curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" 2>/dev/null |
    awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}
deadline=$(( $(date +%s) + 60 ))
until curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$C_PID" 2>/dev/null ||
    { echo "orgtrail peer: collector not healthy: $(tail -1 "$WORK/collector.log" | tr -d '"')" >&2; exit 5; }
  sleep 0.2
done

c_ticks0=$(ticks "$C_PID")
t0=$(date +%s%3N)
"$AGENT" --collector "127.0.0.1:$GRPC_PORT" --ca "$K/ca.crt" --cert "$K/agent.crt" --key "$K/agent.key" \
  --trust-domain "$ORG" --spool-dir "$WORK/spool" --ops-listen "127.0.0.1:$(free_port)" \
  --watch-dir "$WORK/in" --log-level warn ${ORGTRAIL_PEER_AGENT_ARGS:-} >"$WORK/agent.log" 2>&1 &
A_PID=$!
PIDS+=("$A_PID")
deadline=$(( $(date +%s) + 60 + EVENTS / 200 ))
stored=0
rss_a=0
rss_c=0
while :; do
  stored=$(metric orgtrail_collector_events_in_store)
  r=$(rss_kb "$A_PID"); [ "${r:-0}" -gt "$rss_a" ] && rss_a=$r
  r=$(rss_kb "$C_PID"); [ "${r:-0}" -gt "$rss_c" ] && rss_c=$r
  [ "$stored" -ge "$EVENTS" ] && break
  [ "$(date +%s)" -lt "$deadline" ] || break
  kill -0 "$A_PID" 2>/dev/null && kill -0 "$C_PID" 2>/dev/null || break
  sleep 0.1
done
t1=$(date +%s%3N)
a_ticks=$(ticks "$A_PID")
c_ticks1=$(ticks "$C_PID")
stop_pid "$A_PID"
stop_pid "$C_PID"
if [ "$stored" -lt "$EVENTS" ]; then
  echo "orgtrail peer: only $stored of $EVENTS events stored (agent.log: $(tail -1 "$WORK/agent.log" | tr -d '"'); collector.log: $(tail -1 "$WORK/collector.log" | tr -d '"'))" >&2
  exit 5
fi
awk -v n="$stored" -v a="$t0" -v b="$t1" -v at="$a_ticks" -v ct="$((c_ticks1 - c_ticks0))" -v hz="$(getconf CLK_TCK)" \
    -v ra="$rss_a" -v rc="$rss_c" 'BEGIN {
  printf "{\"mode\":\"peer-orgtrail\",\"available\":true,\"events\":%d,\"seconds\":%.3f,\"events_per_s\":%.1f,", n, (b-a)/1000, n*1000/(b-a)
  printf "\"sender_cpu_s\":%.2f,\"sender_cpu_us_per_event\":%.2f,\"receiver_cpu_s\":%.2f,\"receiver_cpu_us_per_event\":%.2f,", at/hz, at/hz*1e6/n, ct/hz, ct/hz*1e6/n
  printf "\"sender_max_rss_kb\":%d,\"receiver_max_rss_kb\":%d}\n", ra, rc }'
