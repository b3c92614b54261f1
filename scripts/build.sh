#!/usr/bin/env bash
# Configures and builds orgtrail (Release) into build/ (or $ORGTRAIL_BUILD_DIR).
# Extra arguments are passed to `cmake --build` (e.g. --target orgtrail-collector).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${ORGTRAIL_BUILD_DIR:-$ROOT/build}"
JOBS="${ORGTRAIL_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"  # ccache hits across clones and build dirs
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release ${ORGTRAIL_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" "$@"
