# Sourced by the local-organization tests (ROOT and BUILD_DIR set): a work folder WORK for
# scripts/orgtrail-local.sh (ORGTRAIL_LOCAL_DIR=$WORK/local, quick mode, a free port base), fail,
# and an EXIT trap that stops the organization and deletes WORK.
# pick_port_base prints a port base (ORGTRAIL_LOCAL_PORT_BASE). The local organization uses fixed ports
# (collectors base+43/44, +53/54, ...; agents base+101..base+120). The base is drawn below the
# kernel's ephemeral range (where every port-0 listener and outgoing connection of the other tests
# lands) and its ports are checked free; a random base inside that range could collide with another
# test's socket.
pick_port_base() {
  local ephemeral_start
  ephemeral_start="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  local span=$(( ephemeral_start - 10000 - 200 ))
  [ "$span" -gt 1000 ] || { echo 17400; return; }
  for _ in $(seq 1 50); do
    local base=$(( 10000 + (RANDOM * 32768 + RANDOM) % span ))
    local used=0
    for port in $(seq $((base + 43)) $((base + 80))) $(seq $((base + 101)) $((base + 120))); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then used=1; break; fi
    done
    [ "$used" = 0 ] && { echo "$base"; return; }
  done
  echo "local_org_ports: no free port base found" >&2
  return 1
}

WORK="$(mktemp -d /tmp/orgtrail-local-test.XXXXXX)"
export ORGTRAIL_LOCAL_DIR="$WORK/local"
export ORGTRAIL_BUILD_DIR="$BUILD_DIR"
export ORGTRAIL_LOCAL_PORT_BASE="${ORGTRAIL_LOCAL_PORT_BASE:-$(pick_port_base)}"
export ORGTRAIL_LOCAL_EVENTS_PER_AGENT=100
export ORGTRAIL_LOCAL_WAIT_SECONDS=180
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() { "$ROOT/scripts/orgtrail-local.sh" down --purge >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
