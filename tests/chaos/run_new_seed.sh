#!/usr/bin/env bash
# Runs the chaos harness in quick mode with a NEW seed each time (CI runs this beside the fixed
# seed). The seed is printed first; replay a failure with:
#   orgtrail-chaos --quick --seed <seed>
# Usage: run_new_seed.sh <orgtrail-chaos binary> <report.json>
set -euo pipefail
seed="${ORGTRAIL_CHAOS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
echo "chaos quick run with new seed ${seed} (replay: orgtrail-chaos --quick --seed ${seed})"
exec "$1" --quick --seed "${seed}" --out "$2"
