#!/usr/bin/env bash
# A throwaway single-node S3 server for tests: Ceph's RADOS Gateway (Debian 12's radosgw) over one
# monitor and one in-memory (memstore) OSD, everything under one folder, bound to 127.0.0.1 only.
#
#   s3_test_server.sh start DIR   creates DIR (must not exist or be empty), starts the cluster,
#                                 creates an S3 user and prints the endpoint. Writes:
#                                   DIR/endpoint      http://127.0.0.1:PORT
#                                   DIR/credentials   an AWS shared credentials file ([default])
#                                   DIR/env           AWS_* exports (source it)
#                                   DIR/pids/*.pid    the daemons' PIDs
#                                 Exit 0 once `GET /` answers; non-zero (with the daemon logs'
#                                 tails on stderr and nothing left running) on failure.
#   s3_test_server.sh stop DIR    TERM, then KILL, the daemons by PID; deletes DIR.
#   s3_test_server.sh start-for-ctest DIR
#                                 stops a leftover server in DIR (an interrupted run), then starts
#                                 one; without the Ceph packages says so and exits 0 (the tests
#                                 then skip with that message).
#   s3_test_server.sh check       exit 0 if the Ceph packages are installed, 3 (with a message) if not.
#
# Ports: the monitor's port is baked into the monitor map and radosgw cannot report a port chosen
# by the kernel, so both are picked at random below the ephemeral range, checked free by a bind,
# and the start is retried with new ports if a daemon still loses the race (3 attempts).
# Every wait is bounded (ORGTRAIL_S3_START_TIMEOUT seconds per step, default 120).
# ORGTRAIL_S3_OWNER_PID=PID (start): a watcher stops the server and deletes DIR once PID is gone,
# so a test binary killed mid-run (timeout, SIGKILL) leaves no daemon behind.
# Facts behind the configuration: ../shared/reference/s3-test-server.md.
set -euo pipefail

STEP_TIMEOUT="${ORGTRAIL_S3_START_TIMEOUT:-120}"
MARKER=".orgtrail-s3-test-server"

die() { echo "s3_test_server: $*" >&2; exit 1; }

check_installed() {
  local missing=()
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl python3; do
    command -v "$b" >/dev/null 2>&1 || missing+=("$b")
  done
  if [ ${#missing[@]} -ne 0 ]; then
    echo "s3_test_server: not installed: ${missing[*]} (scripts/bootstrap.sh installs ceph-mon ceph-osd radosgw)" >&2
    return 3
  fi
}

# A port in [20000, ephemeral low) that a bind on 127.0.0.1 accepts right now.
pick_port() {
  python3 - <<'EOF'
import random, socket
low = 20000
try:
    low_eph = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except Exception:
    low_eph = 32768
high = max(low + 1000, low_eph)
for _ in range(200):
    p = random.randrange(low, high)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    raise SystemExit("no free port")
EOF
}

random_alnum() {  # random_alnum LENGTH CHARSET
  local out=""
  while [ ${#out} -lt "$1" ]; do
    out+=$(head -c 256 /dev/urandom | tr -dc "$2" || true)
  done
  echo "${out:0:$1}"
}

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# stop_pids DIR: TERM every recorded daemon, wait up to 2 s, then KILL. Short on purpose: on TERM
# the memstore OSD writes its whole in-RAM store to DIR (~5 s measured), which is deleted anyway.
stop_pids() {
  local dir="$1" pids=() f p
  for f in "$dir"/pids/*.pid; do
    [ -e "$f" ] || continue
    p=$(cat "$f" 2>/dev/null || true)
    [[ "$p" =~ ^[0-9]+$ ]] && pids+=("$p")
  done
  [ ${#pids[@]} -eq 0 ] && return 0
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  local deadline=$((SECONDS + 2)) any
  while :; do
    any=0
    for p in "${pids[@]}"; do pid_alive "$p" && any=1; done
    [ $any -eq 0 ] && break
    [ $SECONDS -ge $deadline ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  # Return only once they are gone: a caller may check, or reuse the ports, right after.
  deadline=$((SECONDS + 10))
  while :; do
    any=0
    for p in "${pids[@]}"; do pid_alive "$p" && any=1; done
    [ $any -eq 0 ] && break
    [ $SECONDS -ge $deadline ] && { echo "s3_test_server: still running after KILL: ${pids[*]}" >&2; break; }
    sleep 0.1
  done
  rm -f "$dir"/pids/*.pid
}

show_logs() {
  local f
  for f in "$DIR"/log/*.log "$DIR"/log/*.out; do
    [ -s "$f" ] || continue
    echo "--- $f (tail)" >&2
    tail -n 15 "$f" >&2
  done
}

# wait_until DESCRIPTION PID_TO_WATCH COMMAND...: polls COMMAND until it succeeds; fails if the
# watched daemon exits or STEP_TIMEOUT passes.
wait_until() {
  local what="$1" watch="$2"; shift 2
  local deadline=$((SECONDS + STEP_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$watch" ] && ! pid_alive "$watch"; then
      echo "s3_test_server: $what: the daemon (pid $watch) exited" >&2; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "s3_test_server: $what: not done after ${STEP_TIMEOUT}s" >&2; return 1
    fi
    sleep 0.2
  done
}

ceph_cli() { timeout "$STEP_TIMEOUT" ceph -c "$DIR/ceph.conf" --connect-timeout "$STEP_TIMEOUT" "$@"; }

osd_up() { ceph_cli osd stat 2>/dev/null | grep -Eq '(^| )1 up'; }

start_daemon() {  # start_daemon NAME COMMAND...: runs in the background, records its PID
  local name="$1"; shift
  "$@" >"$DIR/log/$name.out" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name.pid"
}

# One attempt at starting the monitor and the OSD. Returns 2 if a port was taken (retry).
start_cluster() {
  local mon_port fsid osd_uuid
  mon_port=$(pick_port)
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$DIR/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $DIR/keyring.\$name
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = true
mon data = $DIR/mon/\$name
osd data = $DIR/osd/\$name
osd objectstore = memstore
memstore device bytes = 4294967296
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
ms bind msgr2 = false
paxos propose interval = 0.05
EOF
  rm -rf "$DIR/mon" "$DIR/osd" "$DIR"/keyring.* "$DIR/monmap"
  mkdir -p "$DIR/mon/mon.a" "$DIR/osd/osd.0"
  # (Called as `start_cluster || rc=$?`, where set -e does not apply: every step is checked.)
  local at="ceph-authtool"
  $at --create-keyring "$DIR/keyring.mon.a" --gen-key -n mon. --cap mon 'allow *' >/dev/null || return 1
  $at --create-keyring "$DIR/keyring.client.admin" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null || return 1
  $at --create-keyring "$DIR/keyring.osd.0" --gen-key -n osd.0 \
    --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null || return 1
  $at --create-keyring "$DIR/keyring.client.rgw.a" --gen-key -n client.rgw.a \
    --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null || return 1
  for k in client.admin osd.0 client.rgw.a; do
    $at "$DIR/keyring.mon.a" --import-keyring "$DIR/keyring.$k" >/dev/null || return 1
  done
  monmaptool --create --fsid "$fsid" --addv a "v1:127.0.0.1:$mon_port" "$DIR/monmap" >/dev/null || return 1
  ceph-mon -c "$DIR/ceph.conf" -i a --mkfs --monmap "$DIR/monmap" \
    --keyring "$DIR/keyring.mon.a" >"$DIR/log/mkfs-mon.out" 2>&1 || { show_logs; return 1; }
  start_daemon mon.a ceph-mon -c "$DIR/ceph.conf" -i a -f
  local mon_pid; mon_pid=$(cat "$DIR/pids/mon.a.pid")
  if ! wait_until "monitor quorum" "$mon_pid" ceph_cli mon stat; then
    grep -qs 'Address already in use' "$DIR"/log/*.log "$DIR"/log/*.out && return 2
    return 1
  fi
  ceph_cli osd new "$osd_uuid" 0 >/dev/null || { echo "s3_test_server: ceph osd new failed" >&2; return 1; }
  ceph-osd -c "$DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" \
    >"$DIR/log/mkfs-osd.out" 2>&1 || { echo "s3_test_server: ceph-osd --mkfs failed" >&2; return 1; }
  start_daemon osd.0 ceph-osd -c "$DIR/ceph.conf" -i 0 -f
  wait_until "OSD up" "$(cat "$DIR/pids/osd.0.pid")" osd_up || return 1
}

# Starts radosgw on a fresh port. Returns 2 if the port was taken (retry).
start_rgw() {
  local port; port=$(pick_port)
  rm -f "$DIR/log/client.rgw.a.log"
  start_daemon rgw.a radosgw -c "$DIR/ceph.conf" -n client.rgw.a -f \
    --rgw-frontends "beast endpoint=127.0.0.1:$port"
  local pid; pid=$(cat "$DIR/pids/rgw.a.pid")
  if ! wait_until "radosgw answering GET /" "$pid" \
      curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/"; then
    if grep -qsi 'address already in use\|failed to bind' "$DIR/log/client.rgw.a.log" "$DIR/log/rgw.a.out"; then
      kill -KILL "$pid" 2>/dev/null || true
      return 2
    fi
    return 1
  fi
  # The answer must be radosgw's (not another process that took the port in the meantime).
  if ! pid_alive "$pid" || ! curl -s -D - -o /dev/null --max-time 5 "http://127.0.0.1:$port/" |
      grep -qi '^x-amz-request-id:'; then
    kill -KILL "$pid" 2>/dev/null || true
    return 2
  fi
  echo "http://127.0.0.1:$port" >"$DIR/endpoint"
}

cmd_start() {
  DIR="$1"
  check_installed || exit 3
  if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then die "$DIR exists and is not empty"; fi
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  touch "$DIR/$MARKER"
  mkdir -p "$DIR/run" "$DIR/log" "$DIR/pids"
  local rc attempt
  for attempt in 1 2 3; do
    rc=0; start_cluster || rc=$?
    [ $rc -eq 0 ] && break
    stop_pids "$DIR"
    if [ $rc -ne 2 ] || [ $attempt -eq 3 ]; then show_logs; die "could not start the Ceph cluster in $DIR"; fi
    echo "s3_test_server: monitor port taken, retrying" >&2
  done
  local access secret
  access=$(random_alnum 20 'A-Z0-9')
  secret=$(random_alnum 40 'A-Za-z0-9')
  if ! timeout "$STEP_TIMEOUT" radosgw-admin -c "$DIR/ceph.conf" user create --uid=test \
      --display-name="orgtrail test" --access-key="$access" --secret-key="$secret" \
      >"$DIR/log/user-create.out" 2>&1; then
    show_logs; stop_pids "$DIR"; die "radosgw-admin user create failed"
  fi
  umask 077
  printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$access" "$secret" \
    >"$DIR/credentials"
  for attempt in 1 2 3; do
    rc=0; start_rgw || rc=$?
    [ $rc -eq 0 ] && break
    if [ $rc -ne 2 ] || [ $attempt -eq 3 ]; then show_logs; stop_pids "$DIR"; die "could not start radosgw"; fi
    echo "s3_test_server: radosgw port taken, retrying" >&2
  done
  printf 'export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_ENDPOINT_URL=%s\nexport AWS_REGION=us-east-1\n' \
    "$access" "$secret" "$(cat "$DIR/endpoint")" >"$DIR/env"
  local owner="${ORGTRAIL_S3_OWNER_PID:-}"
  if [[ "$owner" =~ ^[0-9]+$ ]]; then
    # Detached (own session, no inherited output) so the caller's pipes close when we exit.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
                    [ -d "$2" ] && exec "$0" stop "$2"' "$0" "$owner" "$DIR" \
      </dev/null >/dev/null 2>&1 &
  fi
  cat "$DIR/endpoint"
}

cmd_stop() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  [ -e "$dir/$MARKER" ] || die "$dir was not made by s3_test_server.sh start; not touching it"
  stop_pids "$dir"
  rm -rf "$dir"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: $0 start DIR"; cmd_start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; cmd_stop "$2" ;;
  start-for-ctest)
    [ $# -eq 2 ] || die "usage: $0 start-for-ctest DIR"
    if ! check_installed; then echo "s3_test_server: S3 tests will be skipped"; exit 0; fi
    cmd_stop "$2"
    cmd_start "$2" ;;
  check) check_installed ;;
  *) die "usage: $0 start DIR | start-for-ctest DIR | stop DIR | check" ;;
esac
