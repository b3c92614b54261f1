#!/usr/bin/env bash
# Builds the container image of the repository's Dockerfile with buildah and runs orgtrail from it:
#   1. a debian:12 base image made here from a debootstrap bookworm minbase root (no registry is
#      needed: the base is imported into buildah's local store as docker.io/library/debian:12),
#   2. `buildah bud` of the Dockerfile with --build-arg ORGTRAIL_VERSION=<project version>
#      (multi-stage: compile + cpack, then a runtime stage with only the .deb packages),
#   3. checks on the image: it runs as UID 65532 (deploy/k8s's runAsUser), has no compiler, and
#      each binary's --version names the version; then, inside a container of the image, a PKI
#      made with the image's orgtrailctl, the collector started until it logs "collector
#      listening", `orgtrailctl status` answered over mTLS, and the collector stopped by SIGTERM.
# Run by hand, as root; it downloads the Debian packages of the build (~1 GB); not in CI.
#
# usage: tests/scripts/container_image_test.sh [--base-root DIR] [--keep]
#   --base-root DIR  where the debootstrap root is made (default /var/tmp/orgtrail-debian12-base);
#                    reused when it already holds a root
#   --keep           keep the built image (localhost/orgtrail:<version>) and the base root
# Environment: ORGTRAIL_BUILDAH_STORAGE=vfs when overlay mounts are not available (nested setups).
# Exit status: 0 when everything passed, 1 when a check failed, 2 on a usage or setup error.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE_ROOT=/var/tmp/orgtrail-debian12-base
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --base-root) BASE_ROOT="${2:?--base-root DIR}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "container_image_test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "container_image_test.sh: run as root (debootstrap, buildah)" >&2; exit 2; }
for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
done
BUILDAH=(buildah)
[ -z "${ORGTRAIL_BUILDAH_STORAGE:-}" ] || BUILDAH+=(--storage-driver "$ORGTRAIL_BUILDAH_STORAGE")
VERSION="$(sed -n 's/^project(orgtrail VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")"
IMAGE="localhost/orgtrail:$VERSION"
WORK="$(mktemp -d /var/tmp/orgtrail-image-test.XXXXXX)"
CONTAINER=""
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
  [ -z "$CONTAINER" ] || "${BUILDAH[@]}" rm "$CONTAINER" >/dev/null 2>&1 || true
  if [ "$KEEP" = 0 ]; then
    "${BUILDAH[@]}" rmi -f "$IMAGE" >/dev/null 2>&1 || true
    "${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. The base image.
if ! "${BUILDAH[@]}" inspect --type image docker.io/library/debian:12 >/dev/null 2>&1; then
  if [ ! -x "$BASE_ROOT/bin/sh" ]; then
    MIRROR="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
      grep -v '^ *#' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ')" || true
    start=$(date +%s)
    debootstrap --variant=minbase bookworm "$BASE_ROOT" "${MIRROR:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log" 2>&1 ||
      { tail -20 "$WORK/debootstrap.log"; echo "debootstrap failed" >&2; exit 2; }
    echo "debootstrap: $(( $(date +%s) - start )) s"
  fi
  base="$("${BUILDAH[@]}" from scratch)"
  mnt="$("${BUILDAH[@]}" mount "$base")"
  tar -C "$BASE_ROOT" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -cf - . | tar -C "$mnt" -xf -
  "${BUILDAH[@]}" umount "$base" >/dev/null
  "${BUILDAH[@]}" config --cmd /bin/bash "$base"
  "${BUILDAH[@]}" commit -q "$base" docker.io/library/debian:12 >/dev/null
  "${BUILDAH[@]}" rm "$base" >/dev/null
  echo "base image docker.io/library/debian:12 made from $BASE_ROOT"
fi

# 2. The image.
start=$(date +%s)
if ! "${BUILDAH[@]}" bud --isolation chroot --layers=false --build-arg ORGTRAIL_VERSION="$VERSION" \
       -t "$IMAGE" -f "$SRC/Dockerfile" "$SRC" >"$WORK/bud.log" 2>&1; then
  tail -40 "$WORK/bud.log"
  fail "buildah bud failed"
fi
echo "image $IMAGE built in $(( $(date +%s) - start )) s"
"${BUILDAH[@]}" bud --isolation chroot --build-arg ORGTRAIL_VERSION=9.9.9 -f "$SRC/Dockerfile" "$SRC" \
  >"$WORK/bud-wrong.log" 2>&1 && fail "a build with the wrong ORGTRAIL_VERSION succeeded"
grep -q "ORGTRAIL_VERSION=9.9.9 but the sources are version $VERSION" "$WORK/bud-wrong.log" ||
  { tail -5 "$WORK/bud-wrong.log"; fail "the wrong-version build did not say why it stopped"; }
echo "a wrong ORGTRAIL_VERSION stops the build with the reason"

# 3. The image's contents and a collector run from it.
user="$("${BUILDAH[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")"
[ "$user" = "65532:65532" ] || fail "image user is '$user', not 65532:65532"
echo "image user: $user; size: $("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE")"
CONTAINER="$("${BUILDAH[@]}" from "$IMAGE")"
run() { "${BUILDAH[@]}" run --isolation chroot "$CONTAINER" -- "$@"; }
for bin in orgtrail-collector orgtrail-agent orgtrailctl; do
  out="$(run "$bin" --version)" || fail "$bin --version failed"
  grep -q "$VERSION" <<<"$out" || fail "$bin --version does not name $VERSION: $out"
  echo "$out"
done
if run sh -c 'command -v g++ || command -v cc || command -v cmake' >/dev/null 2>&1; then fail "the runtime image has a compiler or cmake"; fi
out="$(run bash -c '
  set -e
  cd /tmp && mkdir -p pki data
  orgtrailctl pki init-ca --dir pki --org example.org >/dev/null
  orgtrailctl pki issue-collector --dir pki --name main --dns localhost --ip 127.0.0.1 >/dev/null
  orgtrailctl pki issue-admin --dir pki --name root >/dev/null
  orgtrail-collector --data-dir data --ca pki/ca.crt --cert pki/collector-main.crt --key pki/collector-main.key \
    --trust-domain example.org --listen 127.0.0.1:17443 --http-listen 127.0.0.1:19443 >collector.log 2>&1 &
  pid=$!
  for i in $(seq 1 100); do grep -q "collector listening" collector.log && break; sleep 0.2; done
  grep -q "collector listening" collector.log || { cat collector.log; exit 1; }
  orgtrailctl status --collector 127.0.0.1:17443 --ca pki/ca.crt --cert pki/admin-root.crt --key pki/admin-root.key \
    --tls-server-name localhost
  kill -TERM $pid && wait $pid
  grep -q "collector stopped" collector.log || { cat collector.log; exit 1; }
  echo "collector stopped cleanly"
' 2>&1)" || { echo "$out"; fail "the collector did not run from the image"; }
echo "$out" | tail -8
echo "container_image_test: PASS ($IMAGE)"
