#!/usr/bin/env bash
# rsyslog_peer.sh: the peer of bench/run.sh section 7. The same ~1 KB generator events
# (ingest_load_bench files --format jsonl) through two PRIVATE rsyslogd instances on loopback:
#
#   events.jsonl --imfile--> rsyslog A --omrelp, TLS with client certificate--> rsyslog B
#                                          --imrelp (TLS, client certificate required)--> omfile sync=on
#
# Own config (-f), pid file (-i), work directory and ports; never touches the system rsyslog.
# Installs rsyslog + rsyslog-relp with apt-get only if rsyslogd or the RELP modules are missing.
# Prints one JSON object: events, seconds (A's start -> the N-th line in B's file, polled every
# 0.1 s), events/s, CPU seconds and µs per event of the sender A (utime+stime from /proc/<pid>/stat
# read just before A is stopped) and of the receiver B (over the clocked interval), max RSS of both.
# Durability: RELP acknowledges a message once B has taken it, before omfile's fsync; the figure
# counts lines in B's synced file, so the clock ends only when they are written with sync="on".
# Exit status != 0 (last stderr line = reason) when rsyslog is unavailable or the run failed.
#
#   rsyslog_peer.sh --events N --work DIR (--file events.jsonl | --loader PATH/ingest_load_bench)
# --file: the input (N = its first N lines; the file bench/run.sh also gives orgtrail_peer.sh);
# without it, N generator events are written with the loader.
set -euo pipefail
EVENTS=2000
WORK=""
LOADER=""
FILE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --loader) LOADER="$2"; shift 2 ;;
    --file) FILE="$2"; shift 2 ;;
    *) echo "rsyslog_peer.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$WORK" ] && { [ -f "$FILE" ] || [ -x "$LOADER" ]; } ||
  { echo "rsyslog_peer.sh: --work and --file or --loader are required" >&2; exit 2; }

MODDIR=/usr/lib/x86_64-linux-gnu/rsyslog
have_rsyslog() { command -v rsyslogd >/dev/null 2>&1 && [ -f "$MODDIR/imrelp.so" ] && [ -f "$MODDIR/omrelp.so" ]; }
if ! have_rsyslog; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing rsyslog rsyslog-relp" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsyslog rsyslog-relp >&2 ||
      { echo "rsyslog unavailable: apt-get install rsyslog rsyslog-relp failed" >&2; exit 3; }
    # The package may have started the system service; this harness never uses or touches it.
  else
    echo "rsyslog unavailable: not installed and cannot apt-get install (not root or no apt)" >&2
    exit 3
  fi
fi
have_rsyslog || { echo "rsyslog unavailable: rsyslogd or the RELP modules missing after install" >&2; exit 3; }

rm -rf "$WORK"
mkdir -p "$WORK"/{a,b,pki,in,in-prep}
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
stop_pid() {  # graceful, then forced (bounded)
  local pid="$1" i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
trap cleanup EXIT

# PKI: a CA, a server certificate for B and a client certificate for A (ECDSA P-256, as orgtrail).
K="$WORK/pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/ca.key" -out "$K/ca.crt" \
  -days 2 -subj "/CN=bench-peer-ca" 2>/dev/null
for who in server client; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/$who.key" -out "$K/$who.csr" \
    -subj "/CN=$who" 2>/dev/null
  printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' "$who" >"$K/$who.ext"
  openssl x509 -req -in "$K/$who.csr" -CA "$K/ca.crt" -CAkey "$K/ca.key" -CAcreateserial -days 2 \
    -extfile "$K/$who.ext" -out "$K/$who.crt" 2>/dev/null
done

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
if [ -n "$FILE" ]; then  # a hard link (same bytes, no copy) when possible
  ln "$FILE" "$WORK/in-prep/events.jsonl" 2>/dev/null || cp "$FILE" "$WORK/in-prep/events.jsonl"
else
  "$LOADER" files --format jsonl --out "$WORK/in-prep" --events "$EVENTS" --seed 4242 >/dev/null
  sync "$WORK/in-prep/events.jsonl"  # its writeback would compete with B's fsyncs
fi
# wc -l over B's growing file costs CPU; it runs only once the file holds 90 % of the input's bytes.
MIN_BYTES=$(( $(head -n "$EVENTS" "$WORK/in-prep/events.jsonl" | wc -c) * 9 / 10 ))

cat >"$WORK/b.conf" <<EOF
global(workDirectory="$WORK/b" maxMessageSize="64k")
module(load="imrelp" tls.tlslib="openssl")
input(type="imrelp" port="$PORT" address="127.0.0.1" tls="on" tls.caCert="$K/ca.crt" tls.myCert="$K/server.crt"
      tls.myPrivKey="$K/server.key" tls.authMode="name" tls.permittedPeer=["client"] ruleset="store")
template(name="raw" type="string" string="%msg%\n")
ruleset(name="store") {
  action(type="omfile" file="$WORK/b/out.log" template="raw" sync="on" flushOnTXEnd="on" asyncWriting="off")
}
EOF
cat >"$WORK/a.conf" <<EOF
global(workDirectory="$WORK/a" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="omrelp" tls.tlslib="openssl")
input(type="imfile" file="$WORK/in/events.jsonl" tag="bench" ruleset="fwd" maxLinesAtOnce="0")
ruleset(name="fwd") {
  action(type="omrelp" target="127.0.0.1" port="$PORT" tls="on" tls.caCert="$K/ca.crt" tls.myCert="$K/client.crt"
         tls.myPrivKey="$K/client.key" tls.authMode="name" tls.permittedPeer=["server"] template="RSYSLOG_ForwardFormat")
}
EOF
rsyslogd -N1 -f "$WORK/b.conf" >"$WORK/b-check.log" 2>&1 || { echo "rsyslog config B invalid: $(tail -1 "$WORK/b-check.log")" >&2; exit 4; }
rsyslogd -N1 -f "$WORK/a.conf" >"$WORK/a-check.log" 2>&1 || { echo "rsyslog config A invalid: $(tail -1 "$WORK/a-check.log")" >&2; exit 4; }

rsyslogd -n -f "$WORK/b.conf" -i "$WORK/b.pid" >"$WORK/b.log" 2>&1 &
PIDS+=("$!")
B_PID=$!
sleep 1
mv "$WORK/in-prep/events.jsonl" "$WORK/in/events.jsonl"
b_ticks0=$(ticks "$B_PID")
t0=$(date +%s%3N)
rsyslogd -n -f "$WORK/a.conf" -i "$WORK/a.pid" >"$WORK/a.log" 2>&1 &
PIDS+=("$!")
A_PID=$!
deadline=$(( $(date +%s) + 60 + EVENTS / 200 ))
lines=0
rss_a=0
rss_b=0
while :; do
  size=$(stat -c %s "$WORK/b/out.log" 2>/dev/null || echo 0)
  if [ "$size" -ge "$MIN_BYTES" ]; then lines=$(wc -l <"$WORK/b/out.log"); fi
  r=$(rss_kb "$A_PID"); [ "${r:-0}" -gt "$rss_a" ] && rss_a=$r
  r=$(rss_kb "$B_PID"); [ "${r:-0}" -gt "$rss_b" ] && rss_b=$r
  [ "$lines" -ge "$EVENTS" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then break; fi
  kill -0 "$A_PID" 2>/dev/null && kill -0 "$B_PID" 2>/dev/null || break
  sleep 0.1
done
t1=$(date +%s%3N)
a_ticks=$(ticks "$A_PID")
b_ticks1=$(ticks "$B_PID")
stop_pid "$A_PID"
stop_pid "$B_PID"
if [ "$lines" -lt "$EVENTS" ]; then
  echo "rsyslog peer: only $lines of $EVENTS lines arrived (a.log: $(tail -1 "$WORK/a.log" | tr -d '"'); b.log: $(tail -1 "$WORK/b.log" | tr -d '"'))" >&2
  exit 5
fi
awk -v n="$lines" -v a="$t0" -v b="$t1" -v at="$a_ticks" -v bt="$((b_ticks1 - b_ticks0))" -v hz="$(getconf CLK_TCK)" \
    -v ra="$rss_a" -v rb="$rss_b" -v v="$(rsyslogd -v | head -1 | awk '{print $2}')" 'BEGIN {
  printf "{\"mode\":\"peer-rsyslog\",\"available\":true,\"rsyslog_version\":\"%s\",\"events\":%d,\"seconds\":%.3f,\"events_per_s\":%.1f,", v, n, (b-a)/1000, n*1000/(b-a)
  printf "\"sender_cpu_s\":%.2f,\"sender_cpu_us_per_event\":%.2f,\"receiver_cpu_s\":%.2f,\"receiver_cpu_us_per_event\":%.2f,", at/hz, at/hz*1e6/n, bt/hz, bt/hz*1e6/n
  printf "\"sender_max_rss_kb\":%d,\"receiver_max_rss_kb\":%d}\n", ra, rb }'
