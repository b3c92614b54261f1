#!/usr/bin/env bash
# Runs the README's two commands on a fresh Debian 12 machine and times them: a debootstrap'ed
# bookworm minbase root with only git added (no compiler, cmake, python3, curl, procps, ...), a
# clean clone of one commit of this repository with ../shared beside it, then inside a chroot:
#   1. the README's first command  (scripts/orgtrail-local.sh up: install, build, organization, tour)
#      then `scripts/orgtrail-local.sh down`
#   2. the README's second command (the whole test suite, e.g. scripts/test.sh)
# The commands are read from the cloned commit's README ("## The two commands"), so the script
# follows the README. Run by hand, as root (debootstrap, chroot, mount; it downloads ~300 Debian
# packages); not in CI. The chroot shares the host's kernel and network (loopback ports included).
#
# usage: tests/scripts/fresh_machine_test.sh [options]
#   --root DIR            the fresh root (default /var/tmp/orgtrail-fresh-root); must not exist,
#                         unless --reuse-root
#   --reuse-root          reuse DIR's debootstrap (skips step debootstrap; /work in it is recreated)
#   --keep-work           with --reuse-root: keep DIR's /work (clone, builds) as is: no apt-get
#                         of git and no new clone (e.g. command 2 after an earlier --no-test run)
#   --keep-root           keep DIR at the end (default: deleted once everything is unmounted)
#   --commit REV          commit to clone (default HEAD of the repository this script is in)
#   --mirror URL          Debian mirror (default: the host's deb.debian.org-style URI from
#                         /etc/apt/sources.list*, else http://deb.debian.org/debian)
#   --up-command CMD      command 1 (default: the README's first command)
#   --test-command CMD    command 2 (default: the README's second command)
#   --no-test             run command 1 (and down) only
#   --no-up               run command 2 only
#   --logs DIR            log folder (default /var/tmp/orgtrail-fresh-logs.<date>)
#   --timeout-debootstrap S / --timeout-prepare S / --timeout-up S / --timeout-test S
#                         per-step limits in seconds (defaults 1800 / 1200 / 10800 / 21600)
#   --nice N              run the chroot commands under `nice -n N` (default 0)
#   -h, --help
# Exit status: 0 when every step succeeded, 1 when one failed, 2 on a usage or setup error.
set -euo pipefail
# The whole script is one { } block: bash reads all of it before running any, so a checkout or an
# edit of this file during a (long) run cannot change what the run executes.
{
SELF="$(basename "$0")"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

FRESH=/var/tmp/orgtrail-fresh-root
REUSE=0
KEEP=0
COMMIT=HEAD
MIRROR=""
UP_CMD=""
TEST_CMD=""
RUN_TEST=1
RUN_UP=1
KEEP_WORK=0
LOGS="/var/tmp/orgtrail-fresh-logs.$(date -u +%Y%m%dT%H%M%SZ)"
T_DEBOOTSTRAP=1800
T_PREPARE=1200
T_UP=10800
T_DOWN=120
T_TEST=21600
NICE=0

usage() { sed -n '2,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "$SELF: $*" >&2; exit 2; }
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) need_arg "$@"; FRESH="$2"; shift ;;
    --reuse-root) REUSE=1 ;;
    --keep-work) KEEP_WORK=1 ;;
    --keep-root) KEEP=1 ;;
    --commit) need_arg "$@"; COMMIT="$2"; shift ;;
    --mirror) need_arg "$@"; MIRROR="$2"; shift ;;
    --up-command) need_arg "$@"; UP_CMD="$2"; shift ;;
    --test-command) need_arg "$@"; TEST_CMD="$2"; shift ;;
    --no-test) RUN_TEST=0 ;;
    --no-up) RUN_UP=0 ;;
    --logs) need_arg "$@"; LOGS="$2"; shift ;;
    --timeout-debootstrap) need_arg "$@"; T_DEBOOTSTRAP="$2"; shift ;;
    --timeout-prepare) need_arg "$@"; T_PREPARE="$2"; shift ;;
    --timeout-up) need_arg "$@"; T_UP="$2"; shift ;;
    --timeout-test) need_arg "$@"; T_TEST="$2"; shift ;;
    --nice) need_arg "$@"; NICE="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and mount need it); try: sudo $0 $*"
FRESH="$(realpath -m "$FRESH")"
case "$FRESH" in /|/bin|/boot|/dev|/etc|/home|/lib*|/proc|/root|/run|/sbin|/sys|/usr|/var|/tmp|/work)
  die "refusing --root $FRESH" ;; esac
case "$FRESH/" in "$SRC"/*) die "--root must be outside the repository ($SRC)" ;; esac
if [ -e "$FRESH" ] && [ "$REUSE" = 0 ]; then
  die "$FRESH exists; remove it, choose another --root, or pass --reuse-root"
fi
if [ "$REUSE" = 1 ] && [ ! -x "$FRESH/bin/bash" ]; then die "--reuse-root: no debootstrap'ed root in $FRESH"; fi
if [ "$KEEP_WORK" = 1 ] && { [ "$REUSE" = 0 ] || [ ! -d "$FRESH/work/main/.git" ]; }; then
  die "--keep-work needs --reuse-root and a clone in $FRESH/work/main"
fi
[ "$RUN_UP" = 1 ] || [ "$RUN_TEST" = 1 ] || die "--no-up and --no-test: nothing to run"
SHA="$(git -C "$SRC" rev-parse --verify "$COMMIT^{commit}")" || die "no commit '$COMMIT' in $SRC"
[ -d "$SRC/../shared" ] || die "missing $SRC/../shared (the shared folder must sit beside the repository)"
if [ -z "$MIRROR" ]; then
  MIRROR="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ')" || true
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi
MIRROR="${MIRROR%/}"
mkdir -p "$LOGS"
LOGS="$(cd "$LOGS" && pwd)"
SUMMARY="$LOGS/summary.txt"
: >"$SUMMARY"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$SUMMARY"; }

# ---- mounts, processes and cleanup (every exit path) -----------------------------------------
MOUNTS=(proc sys dev dev/pts dev/shm)
mounted_under_root() { awk -v r="$FRESH" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo; }
chroot_pids() {  # processes whose root directory is the fresh root (all started by this script)
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$FRESH" ] && echo "${p#/proc/}"
  done
  return 0
}
kill_chroot_processes() {
  local pids
  pids="$(chroot_pids)"
  [ -n "$pids" ] || return 0
  log "stopping $(echo "$pids" | wc -w) process(es) still running in the root"
  kill $pids 2>/dev/null || true
  sleep 2
  pids="$(chroot_pids)"
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  sleep 1
}
mount_all() {
  local m
  for m in "${MOUNTS[@]}"; do
    mkdir -p "$FRESH/$m"
    mountpoint -q "$FRESH/$m" || mount --bind "/$m" "$FRESH/$m"
  done
}
umount_all() {
  local i m
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    m="${MOUNTS[$i]}"
    if mountpoint -q "$FRESH/$m" 2>/dev/null; then
      umount "$FRESH/$m" 2>/dev/null || umount -l "$FRESH/$m" 2>/dev/null || true
    fi
  done
}
UP_STARTED=0
STEP_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$STEP_PID" ]; then  # interrupted during a step: timeout passes the signal to the step
    log "interrupted during a step; stopping it"
    kill -TERM "$STEP_PID" 2>/dev/null || true
    wait "$STEP_PID" 2>/dev/null || true
  fi
  if [ "$UP_STARTED" = 1 ] && [ -x "$FRESH/bin/bash" ]; then  # the organization may still run
    timeout -k 10 "$T_DOWN" chroot "$FRESH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      bash -c 'cd /work/main && [ -d .orgtrail-local/run ] && scripts/orgtrail-local.sh down' >>"$LOGS/cleanup.log" 2>&1 || true
  fi
  [ -d "$FRESH" ] && kill_chroot_processes
  [ -d "$FRESH" ] && umount_all
  if [ -d "$FRESH" ]; then
    if [ -n "$(mounted_under_root)" ]; then
      log "WARNING: still mounted under $FRESH (not deleted): $(mounted_under_root | tr '\n' ' ')"
    elif [ "$KEEP" = 1 ]; then
      log "root kept: $FRESH"
    else
      rm -rf --one-file-system "$FRESH" && log "root deleted: $FRESH (--keep-root keeps it)"
    fi
  fi
  echo "logs: $LOGS"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- steps -----------------------------------------------------------------------------------
declare -A STEP_TIME STEP_RC
STEPS=()
FAILED=0
run_step() {  # name timeout_seconds command... ; output in $LOGS/<name>.log
  local name="$1" limit="$2" start rc
  shift 2
  STEPS+=("$name")
  log "== $name (limit ${limit}s; log $LOGS/$name.log)"
  start=$(date +%s)
  set +e
  # In the background: `wait` returns on a signal (Ctrl-C, kill), and cleanup stops the step.
  timeout -k 30 "$limit" "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  STEP_PID=$!
  wait "$STEP_PID"
  rc=$?
  STEP_PID=""
  set -e
  STEP_TIME[$name]=$(( $(date +%s) - start ))
  STEP_RC[$name]=$rc
  if [ "$rc" = 0 ]; then
    log "   $name ok in ${STEP_TIME[$name]}s"
  else
    FAILED=1
    [ "$rc" = 124 ] && log "   $name TIMED OUT after ${STEP_TIME[$name]}s" ||
      log "   $name FAILED (exit $rc) after ${STEP_TIME[$name]}s; last lines:"
    tail -n 15 "$LOGS/$name.log" | sed 's/^/   | /' | tee -a "$SUMMARY"
  fi
  return "$rc"
}
# A command string run by bash inside the chroot, from /work/main, with a fresh login's minimal environment.
IN_ROOT=(nice -n "$NICE" chroot "$FRESH" /usr/bin/env -i
         PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
         ${NODE_EXTRA_CA_CERTS:+"NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS"} bash -c)
summary() {
  local s line="fresh_machine_test: commit ${SHA:0:12}"
  for s in "${STEPS[@]}"; do
    if [ "${STEP_RC[$s]}" = 0 ]; then line+=" | $s ok ${STEP_TIME[$s]}s"
    else line+=" | $s FAILED(exit ${STEP_RC[$s]}) ${STEP_TIME[$s]}s"; fi
  done
  [ "$RUN_UP" = 1 ] || line+=" | up not run (--no-up)"
  [ "$RUN_TEST" = 1 ] || line+=" | test not run (--no-test)"
  log "$line"
}

if [ "$KEEP_WORK" = 1 ]; then
  log "fresh_machine_test: the clone kept in $FRESH/work, root $FRESH, mirror $MIRROR, logs $LOGS"
else
  log "fresh_machine_test: commit $SHA of $SRC, root $FRESH, mirror $MIRROR, logs $LOGS"
fi

# 1. debootstrap (minbase) + apt sources like an installed Debian 12 (main, updates, security)
if [ "$REUSE" = 0 ]; then
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap on the host"
    apt-get install -y -qq debootstrap >>"$LOGS/host.log" 2>&1 ||
      { apt-get update -qq >>"$LOGS/host.log" 2>&1 && apt-get install -y -qq debootstrap >>"$LOGS/host.log" 2>&1; } ||
      die "could not install debootstrap (see $LOGS/host.log)"
  fi
  mkdir -p "$FRESH"
  run_step debootstrap "$T_DEBOOTSTRAP" debootstrap --variant=minbase bookworm "$FRESH" "$MIRROR" || { summary; exit 1; }
fi
security="${MIRROR%/debian}/debian-security"
[ "$security" != "$MIRROR/debian-security" ] || security=http://deb.debian.org/debian-security
cat >"$FRESH/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $security bookworm-security main
EOF
cp /etc/resolv.conf "$FRESH/etc/resolv.conf" 2>/dev/null || true
# The network's trust as the host has it: certificate authorities the host added locally (an egress
# proxy that re-signs TLS, say) go to the root's /usr/local/share/ca-certificates, where the
# ca-certificates package (installed by the bootstrap) adds them to the system bundle, as an admin
# of a machine on this network would; NODE_EXTRA_CA_CERTS is passed on when the host sets it (npm).
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$FRESH/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$FRESH/usr/local/share/ca-certificates/"
fi
# debootstrap writes no /etc/hosts; every installed Debian has the installer's (localhost resolves).
[ -s "$FRESH/etc/hosts" ] || cat >"$FRESH/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$(cat "$FRESH/etc/hostname" 2>/dev/null || hostname)
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
# As in Debian's container images: packages installed in the chroot start no daemon (a service
# there would share the host's /dev and network and outlive the run).
printf '#!/bin/sh\nexit 101\n' >"$FRESH/usr/sbin/policy-rc.d"
chmod 755 "$FRESH/usr/sbin/policy-rc.d"
mount_all

# 2. git only, then a clean clone of the commit with ../shared beside it
prepare() {
  set -euo pipefail
  chroot "$FRESH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive \
    bash -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends git'
  rm -rf "$FRESH/work"
  mkdir -p "$FRESH/work"
  git clone -q --no-hardlinks --no-checkout "$SRC" "$FRESH/work/main"
  git -C "$FRESH/work/main" checkout -q --detach "$SHA"
  git -C "$FRESH/work/main" remote remove origin
  cp -a "$SRC/../shared" "$FRESH/work/shared"
  echo "installed packages: $(chroot "$FRESH" dpkg-query -W -f='${Package}\n' | wc -l)"
  chroot "$FRESH" git -C /work/main log -1 --oneline
}
export -f prepare
export FRESH SRC SHA
if [ "$KEEP_WORK" = 0 ]; then
  run_step prepare "$T_PREPARE" bash -c prepare || { summary; exit 1; }
else
  SHA="$(chroot "$FRESH" git -C /work/main rev-parse HEAD)"
  log "kept $FRESH/work (--keep-work): commit $SHA, builds as they are"
fi

# Commands from the cloned README: the fenced lines under "## The two commands".
readme_commands() {
  awk '/^## /{ in_sec = ($0 ~ /^## The two commands/) } in_sec && /^```/{ fence = !fence; next }
       in_sec && fence && NF { print }' "$FRESH/work/main/README.md"
}
[ -n "$UP_CMD" ] || UP_CMD="$(readme_commands | sed -n 1p)"
[ -n "$TEST_CMD" ] || TEST_CMD="$(readme_commands | sed -n 2p)"
[ -n "$UP_CMD" ] || [ "$RUN_UP" = 0 ] || die "no first command in README.md's '## The two commands'; pass --up-command"
[ -n "$TEST_CMD" ] || [ "$RUN_TEST" = 0 ] || die "no second command in README.md's '## The two commands'; pass --test-command"
log "command 1: ${UP_CMD:-(none)}$([ "$RUN_UP" = 1 ] || echo ' (not run: --no-up)')"
log "command 2: ${TEST_CMD:-(none)}$([ "$RUN_TEST" = 1 ] || echo ' (not run: --no-test)')"

# 3. command 1, then down (the organization is stopped before the suite, which uses its own ports)
if [ "$RUN_UP" = 1 ]; then
  UP_STARTED=1
  run_step up "$T_UP" "${IN_ROOT[@]}" "cd /work/main && $UP_CMD" || true
  run_step down "$T_DOWN" "${IN_ROOT[@]}" 'cd /work/main && scripts/orgtrail-local.sh down' || true
  kill_chroot_processes
fi

# 4. command 2
if [ "$RUN_TEST" = 1 ]; then
  run_step test "$T_TEST" "${IN_ROOT[@]}" "cd /work/main && $TEST_CMD" || true
  kill_chroot_processes
fi
summary
exit "$FAILED"
}
