#!/usr/bin/env bash
# Installs the Debian 12 packages orgtrail needs, only those that are missing.
# Idempotent and non-interactive. Run as root or with sudo available.
set -euo pipefail

PACKAGES=(
  build-essential g++ cmake pkg-config ccache git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libssl-dev openssl zlib1g-dev libgoogle-perftools-dev libdeflate-dev
  libboost-program-options-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsimdjson-dev libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev
  libyaml-cpp-dev libre2-dev
  jq curl procps iproute2 systemd
  python3 gzip tar
)
# Fuzzing (scripts/fuzz.sh, tests/fuzz): Debian's clang and its libFuzzer/sanitizer runtime.
PACKAGES+=(clang libclang-rt-14-dev)
# The benchmark harness's peer section (bench/harness/rsyslog_peer.sh, run by ctest's
# bench_harness_tiny): rsyslogd with RELP over TLS, installed here rather than mid-suite.
PACKAGES+=(rsyslog rsyslog-relp)
# Object storage delivery (objectstore/): libcurl (HTTP + AWS SigV4) and libxml2 (S3's XML answers).
PACKAGES+=(libcurl4-openssl-dev libxml2-dev)
# The throwaway S3 server the objectstore tests start (tests/scripts/s3_test_server.sh): Ceph's
# RADOS Gateway over one monitor and one in-memory OSD.
PACKAGES+=(ceph-mon ceph-osd radosgw)
# DuckDB over the export (deploy/analytics/orgtrail-duckdb.mjs): node runs it; DuckDB itself comes
# from the npm registry (@duckdb/node-api, pinned in deploy/analytics/package-lock.json). A node and
# npm already installed (e.g. from NodeSource, whose nodejs ships npm) are used as they are.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then PACKAGES+=(nodejs npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# kubectl renders deploy/k8s (DeployFlagsTest.KustomizeRendersTheManifests; skipped without it).
# Debian's is kubernetes-client; any kubectl already installed (e.g. Google's apt repository's
# `kubectl` package, which ships the same file) is used as is.
if ! command -v kubectl >/dev/null; then missing+=(kubernetes-client); fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm_packages() {  # DuckDB for deploy/analytics, from the lock file, once
  if [ ! -d "$ROOT/deploy/analytics/node_modules/@duckdb/node-api" ]; then
    echo "bootstrap: npm ci --prefix deploy/analytics (DuckDB)"
    if ! npm ci --prefix "$ROOT/deploy/analytics" --no-audit --no-fund --loglevel=error; then
      echo "bootstrap: npm ci failed (above). If this network re-signs TLS (a proxy with its own CA):" \
           "install that CA (/usr/local/share/ca-certificates/*.crt, then update-ca-certificates) and" \
           "set NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt; if it needs a proxy, set HTTPS_PROXY." >&2
      return 1
    fi
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#PACKAGES[@]} packages present"
  npm_packages
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "bootstrap: missing packages (${missing[*]}) and not root; install them or run as root" >&2
    exit 1
  fi
fi
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
npm_packages
echo "bootstrap: done"
