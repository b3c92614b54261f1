#!/usr/bin/env bash
# Checks the README's first command for real: `scripts/orgtrail-local.sh up` in a fresh folder
# (quick mode: fewer generated events), then the tour's answers, `status`, and `down --purge`.
# Also checks that the README names exactly the commands the scripts run.
# usage: local_org_test.sh <build dir>
set -euo pipefail
# Checks read the captured output with here-strings, never `echo "$out" | grep -q`: grep -q exits
# at its first match, echo then dies of SIGPIPE, and pipefail turned a found line into a failure.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="$1"
# shellcheck source=local_org_test_lib.sh
. "$ROOT/tests/scripts/local_org_test_lib.sh"

# The README's two commands are the scripts that exist, and CI runs the second one.
grep -qx 'scripts/orgtrail-local.sh up' "$ROOT/README.md" || fail "README lacks 'scripts/orgtrail-local.sh up'"
grep -qx 'scripts/test.sh --full' "$ROOT/README.md" || fail "README lacks 'scripts/test.sh --full'"
grep -q '^exec scripts/test.sh --full$' "$ROOT/.ci/run" || fail ".ci/run does not exec scripts/test.sh --full"
[ -x "$ROOT/scripts/orgtrail-local.sh" ] && [ -x "$ROOT/scripts/test.sh" ] && [ -x "$ROOT/scripts/tsan.sh" ] || fail "scripts not executable"
# Every orgtrailctl subcommand the README's tour table names exists.
for c in $(grep -oE '^\| `[a-z-]+' "$ROOT/README.md" | sed 's/^| `//'); do
  "$BUILD_DIR/cli/orgtrailctl" "$c" --help >/dev/null 2>&1 || fail "README names orgtrailctl $c, which has no --help"
done

start=$(date +%s)
out="$("$ROOT/scripts/orgtrail-local.sh" up 2>&1)" || { echo "$out"; fail "up exited non-zero"; }
echo "$out" | grep -v '^\[' | tail -80
echo "up took $(( $(date +%s) - start ))s (already built)"

grep -q 'every agent drained' <<<"$out" || fail "the agents did not drain within the wait"
grep -q 'verification passed' <<<"$out" || fail "verify-event did not pass"
# The IAM event both regions' agents carried: exactly one record, under us-east-1.
iam_line="$(echo "$out" | grep '6f1c9a52-4e1b-4c2e-9d51-0b7a3e2f9c11 | CreateUser' || true)"
[ "$(echo "$iam_line" | grep -c .)" = 1 ] || fail "shared IAM event not listed exactly once: $iam_line"
grep -q '| 222222222222 | us-east-1 ' <<<"$iam_line" || fail "shared IAM event not homed in us-east-1: $iam_line"
# Events per account and region: every account of the organization appears.
for acct in 111111111111 222222222222 333333333333 123837392027; do
  grep -q "$acct" <<<"$out" || fail "account $acct missing from the tour"
done
grep -q 'DeleteBucket' <<<"$out" || fail "DeleteBucket tour found nothing"
# Sigma findings (the SigmaHQ rules of ../shared ran on every stored event) and the self-audit.
if [ -d "$ROOT/../shared/data/sigma-cloudtrail/rules" ]; then
  grep -q '"ruleId":' <<<"$out" || fail "the Sigma findings tour listed no finding"
fi
grep -q 'spiffe://example.org/auditor/security-team' <<<"$out" || fail "the self-audit tour did not show the tour's own queries"

"$ROOT/scripts/orgtrail-local.sh" status | tee "$WORK/status.txt"
grep -q 'collector healthy' "$WORK/status.txt" || fail "status does not report a healthy collector"

# A second `up` on the running organization says so and drains at once.
again="$("$ROOT/scripts/orgtrail-local.sh" up 2>&1)" || { echo "$again"; fail "second up exited non-zero"; }
grep -q 'already running' <<<"$again" || fail "second up did not say the organization is running"
grep -q 'every agent drained' <<<"$again" || fail "second up did not find the agents drained"

# A restart: `down` then `up` drains (its counters restart at zero; the drain check must not
# depend on them) and stores nothing twice.
# The agents' events: every query of the tour adds a self-audit record, which is not a duplicate.
agent_events() {
  curl -fsS "http://127.0.0.1:$((ORGTRAIL_LOCAL_PORT_BASE + 44))/metrics" |
    awk '$1 == "orgtrail_collector_events_in_store" {all = $2}
         $1 == "orgtrail_collector_self_audit_events_in_store" {own = $2}
         END {if (all == "" || own == "") exit 1; print all - own}'
}
stored_before="$(agent_events)"
"$ROOT/scripts/orgtrail-local.sh" down
start=$(date +%s)
again="$("$ROOT/scripts/orgtrail-local.sh" up 2>&1)" || { echo "$again"; fail "up after down exited non-zero"; }
echo "down then up: up took $(( $(date +%s) - start ))s"
grep -q 'every agent drained' <<<"$again" || { echo "$again" | tail -20; fail "after down and up the agents did not drain"; }
grep -q 'Not everything arrived' <<<"$again" && fail "after down and up: not everything arrived"
stored_after="$(agent_events)"
[ "$stored_after" = "$stored_before" ] || fail "a restart changed the stored events: $stored_before -> $stored_after"
"$ROOT/scripts/orgtrail-local.sh" down --purge
[ ! -d "$ORGTRAIL_LOCAL_DIR" ] || fail "down --purge left $ORGTRAIL_LOCAL_DIR"
echo "1 passed, 0 failed"
