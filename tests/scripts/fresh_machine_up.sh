#!/usr/bin/env bash
# Times the README's first command on a fresh Debian 12 machine: a debootstrap'ed minbase root
# (no g++, cmake or pkg-config), a clean clone of this repository with ../shared beside it, then
# `scripts/orgtrail-local.sh up` inside a chroot: apt-get installs, the build, the PKI, the
# organization, the tour. Run by hand, as root (not in CI: it downloads ~150 Debian packages).
#   usage: tests/scripts/fresh_machine_up.sh [root folder, default /var/tmp/orgtrail-fresh-root]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FRESH="${1:-/var/tmp/orgtrail-fresh-root}"
[ "$(id -u)" = 0 ] || { echo "fresh_machine_up: run as root (debootstrap, chroot, mount)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
if [ ! -x "$FRESH/bin/bash" ]; then
  echo "== debootstrap bookworm minbase into $FRESH"
  debootstrap --variant=minbase bookworm "$FRESH" http://deb.debian.org/debian >/dev/null
fi
rm -rf "$FRESH/work" && mkdir -p "$FRESH/work"
git clone -q "$ROOT" "$FRESH/work/main"
cp -r "$ROOT/../shared" "$FRESH/work/shared"
cp /etc/resolv.conf "$FRESH/etc/"
for m in proc dev sys; do mount --bind "/$m" "$FRESH/$m"; done
trap 'for m in proc dev sys; do umount "$FRESH/$m" 2>/dev/null || true; done' EXIT
echo "== scripts/orgtrail-local.sh up inside the fresh root (timed)"
start=$(date +%s)
chroot "$FRESH" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  bash -c 'cd /work/main && scripts/orgtrail-local.sh up' | tail -25
echo "== up on a fresh machine took $(( $(date +%s) - start ))s (apt-get, build, PKI, organization, tour)"
start=$(date +%s)
chroot "$FRESH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  bash -c 'cd /work/main && scripts/orgtrail-local.sh down --purge && scripts/orgtrail-local.sh up' >/dev/null
echo "== up again, already built, took $(( $(date +%s) - start ))s"
chroot "$FRESH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  bash -c 'cd /work/main && scripts/orgtrail-local.sh down --purge' >/dev/null
