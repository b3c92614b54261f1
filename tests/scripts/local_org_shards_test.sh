#!/usr/bin/env bash
# Checks `scripts/orgtrail-local.sh up --shards 2` for real: two collectors sharded by account
# (agents connect to the first, the others' accounts follow its redirect), a throwaway Ceph RADOS
# Gateway as the object store, two trails on every shard delivering to their own buckets; then the
# tour's answers: the IAM event carried by two regions' agents is found once through the merged
# lookup and verifies, every account's delivered logs validate on s3://, and DuckDB over each
# trail's bucket answers like the collectors' SQL. `down --purge` leaves no daemon behind.
# usage: local_org_shards_test.sh <build dir>   (exit 77 = skipped: the Ceph packages are missing)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="$1"
"$ROOT/tests/scripts/s3_test_server.sh" check || exit 77
# shellcheck source=local_org_test_lib.sh
. "$ROOT/tests/scripts/local_org_test_lib.sh"
# This test runs beside others (not RUN_SERIAL): it must not rebuild the binaries they are running
# (a relink after a new commit made orgtrailctl briefly non-executable for a chaos run).
export ORGTRAIL_LOCAL_NO_BUILD=1
count() { grep -c -- "$1" <<<"$out" || true; }

start=$(date +%s)
out="$("$ROOT/scripts/orgtrail-local.sh" up --shards 2 2>&1)" || { echo "$out"; fail "up --shards 2 exited non-zero"; }
echo "$out" | grep -v '^\[' | grep -v '^{"commitIndex"' | tail -90
echo "up --shards 2 took $(( $(date +%s) - start ))s (already built)"

grep -q 'every agent drained' <<<"$out" || fail "the agents did not drain within the wait"
[ -f "$ORGTRAIL_LOCAL_DIR/shards.json" ] || fail "no shard map written"
# Both shards store events: the agents of the second shard's accounts followed the redirect.
for port in $((ORGTRAIL_LOCAL_PORT_BASE + 44)) $((ORGTRAIL_LOCAL_PORT_BASE + 54)); do
  stored="$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '$1 == "orgtrail_collector_events_in_store" {print $2}')"
  [ "${stored%.*}" -gt 100 ] 2>/dev/null || fail "collector on metrics port $port stores ${stored:-nothing}"
done
# The IAM event both regions' agents of 222222222222 carried: one record across the shards.
iam_line="$(grep '6f1c9a52-4e1b-4c2e-9d51-0b7a3e2f9c11 | CreateUser' <<<"$out" || true)"
[ "$(grep -c . <<<"$iam_line")" = 1 ] || fail "shared IAM event not listed exactly once: $iam_line"
grep -q 'verification passed' <<<"$out" || fail "verify-event through the shard map did not pass"
# Delivery: every shard delivered digests of both trails; every account's logs validate on s3://.
grep -q "first digest delivery of both trails.* done" <<<"$out" || fail "not every shard delivered a digest"
[ "$(count 'LatestDeliveryError": null')" = 2 ] || fail "a shard's org-trail status shows a delivery error"
[ "$(count '^\$ orgtrailctl validate-logs --export-root s3://')" = 4 ] || fail "validate-logs did not run for the 4 accounts"
[ "$(count 'digest files valid')" = 4 ] || fail "not every account's digests validated"
[ "$(count 'INVALID')" = 0 ] || fail "validate-logs found invalid files"
[ "$(count 'No digest\|not listed\|missing')" = 0 ] || fail "validate-logs reported a gap"
# DuckDB over each trail's bucket and the collectors' SQL agree (both trails).
[ "$(count 'DuckDB and the collectors agree')" = 2 ] || fail "DuckDB and the collectors' SQL do not agree"
grep -q '123837392027   us-east-1             2900           2900' <<<"$out" ||
  fail "the 2,900 invictus records are not all in the org-trail bucket"

"$ROOT/scripts/orgtrail-local.sh" status | tee "$WORK/status.txt"
[ "$(grep -c 'collector shard-[ab] healthy' "$WORK/status.txt")" = 2 ] || fail "status does not report two healthy collectors"
grep -q 'object store up' "$WORK/status.txt" || fail "status does not report the object store"

# A folder holds the organization it was created with.
if "$ROOT/scripts/orgtrail-local.sh" up --shards 3 >"$WORK/wrong.txt" 2>&1; then fail "up --shards 3 on a 2-shard folder succeeded"; fi
grep -q 'holds an organization of 2 collector' "$WORK/wrong.txt" || fail "no clear error for a shard count change: $(cat "$WORK/wrong.txt")"

s3_pids="$(cat "$ORGTRAIL_LOCAL_DIR"/s3/pids/*.pid 2>/dev/null || true)"
[ -n "$s3_pids" ] || fail "no object store pids recorded"
"$ROOT/scripts/orgtrail-local.sh" down --purge
[ ! -d "$ORGTRAIL_LOCAL_DIR" ] || fail "down --purge left $ORGTRAIL_LOCAL_DIR"
for pid in $s3_pids; do
  if kill -0 "$pid" 2>/dev/null; then fail "object store daemon $pid still running after down"; fi
done
echo "1 passed, 0 failed"
