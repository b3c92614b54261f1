#!/usr/bin/env bash
# Installs the Debian packages of a build (cpack -G DEB: orgtrail-collector, orgtrail-agent,
# orgtrailctl) in a fresh Debian 12 root and starts the collector from them:
#   1. debootstrap a bookworm minbase root (or reuse one with --root DIR --reuse-root),
#   2. apt-get install systemd (the packages' postinst uses systemd-sysusers) and the three .debs
#      (their dependencies come from the Debian archive),
#   3. check every binary's --version, the installed units (ExecStart in /usr/bin), the service
#      user, then make a PKI with the installed orgtrailctl and run the installed collector until
#      it logs "collector listening", stop it with SIGTERM and check it stopped cleanly.
# Run by hand, as root (debootstrap, chroot, mount); it downloads ~150 Debian packages; not in CI.
#
# usage: tests/scripts/package_install_test.sh BUILD_DIR [--root DIR] [--reuse-root] [--keep-root]
#   BUILD_DIR holds the .deb files (run `cpack -G DEB` there first).
# Exit status: 0 when everything passed, 1 when a check failed, 2 on a usage or setup error.
set -euo pipefail
BUILD="${1:?usage: package_install_test.sh BUILD_DIR [--root DIR] [--reuse-root] [--keep-root]}"
shift
ROOT=/var/tmp/orgtrail-package-root
REUSE=0
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?--root DIR}"; shift 2 ;;
    --reuse-root) REUSE=1; shift ;;
    --keep-root) KEEP=1; shift ;;
    *) echo "package_install_test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "package_install_test.sh: run as root (debootstrap, chroot)" >&2; exit 2; }
DEBS=("$BUILD"/orgtrail-collector_*.deb "$BUILD"/orgtrail-agent_*.deb "$BUILD"/orgtrailctl_*.deb)
for d in "${DEBS[@]}"; do [ -f "$d" ] || { echo "missing $d (run cpack -G DEB in $BUILD)" >&2; exit 2; }; done
command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap >/dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
cleanup() {
  for m in proc sys dev/pts dev; do umount -l "$ROOT/$m" 2>/dev/null || true; done
  [ "$KEEP" = 1 ] || [ "$REUSE" = 1 ] || rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT

if [ "$REUSE" = 0 ]; then
  [ ! -e "$ROOT" ] || { echo "$ROOT exists (use --reuse-root or remove it)" >&2; exit 2; }
  # The host's Debian mirror (as tests/scripts/fresh_machine_test.sh finds it), else deb.debian.org.
  MIRROR="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -v '^ *#' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ')" || true
  start=$(date +%s)
  debootstrap --variant=minbase bookworm "$ROOT" "${MIRROR:-http://deb.debian.org/debian}" >/tmp/package-debootstrap.log 2>&1 ||
    { tail -20 /tmp/package-debootstrap.log; echo "debootstrap failed" >&2; exit 2; }
  echo "debootstrap: $(( $(date +%s) - start )) s"
fi
mount -t proc proc "$ROOT/proc"
mount -t sysfs sys "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true

mkdir -p "$ROOT/tmp/orgtrail-debs"
cp "${DEBS[@]}" "$ROOT/tmp/orgtrail-debs/"
start=$(date +%s)
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
IN_ROOT_DEBS=()
for d in "${DEBS[@]}"; do IN_ROOT_DEBS+=("/tmp/orgtrail-debs/$(basename "$d")"); done
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${IN_ROOT_DEBS[@]}" \
  >/tmp/package-install.log 2>&1 || { tail -30 /tmp/package-install.log; fail "apt-get install of the packages failed"; }
echo "install: $(( $(date +%s) - start )) s"

for b in orgtrail-collector orgtrail-agent orgtrailctl; do
  v="$(in_root "/usr/bin/$b" --version)" || fail "$b --version failed"
  grep -qE 'orgtrail [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{12}' <<<"$v" || fail "$b --version: $v"
  echo "$b: $v"
done
grep -q '^ExecStart=/usr/bin/orgtrail-collector ' "$ROOT/usr/lib/systemd/system/orgtrail-collector.service" ||
  fail "collector unit does not start /usr/bin/orgtrail-collector"
grep -q '^ExecStart=/usr/bin/orgtrail-agent ' "$ROOT/usr/lib/systemd/system/orgtrail-agent@.service" ||
  fail "agent unit does not start /usr/bin/orgtrail-agent"
in_root getent passwd orgtrail >/dev/null || fail "postinst did not create the orgtrail user"
in_root systemd-analyze verify --man=no /usr/lib/systemd/system/orgtrail-collector.service 2>&1 |
  grep orgtrail && fail "systemd-analyze verify complains about the installed collector unit" || true

# The installed collector starts: a PKI from the installed orgtrailctl, ports the kernel picks.
in_root orgtrailctl pki init-ca --dir /tmp/pki --org example.org >/dev/null
in_root orgtrailctl pki issue-collector --dir /tmp/pki --name main --dns localhost --ip 127.0.0.1 \
  --out-cert /tmp/pki/collector.crt --out-key /tmp/pki/collector.key >/dev/null
chroot "$ROOT" /usr/bin/orgtrail-collector --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir /tmp/collector \
  --ca /tmp/pki/ca.crt --cert /tmp/pki/collector.crt --key /tmp/pki/collector.key --trust-domain example.org \
  >"$ROOT/tmp/collector.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  grep -q '"collector listening"' "$ROOT/tmp/collector.log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
grep -q '"collector listening"' "$ROOT/tmp/collector.log" || { cat "$ROOT/tmp/collector.log"; kill -9 "$pid" 2>/dev/null; fail "the installed collector did not start"; }
kill -TERM "$pid"
wait "$pid" || fail "the installed collector did not stop cleanly (exit $?)"
grep -q '"collector stopped"' "$ROOT/tmp/collector.log" || fail "no 'collector stopped' in its log"
echo "the installed collector started and stopped cleanly"
echo "1 passed, 0 failed"
