# Sourced by scripts/orgtrail-local.sh: the parts of `up --shards N` (several collectors sharded by
# account, delivering to an object store) that a single-collector organization does not use: the
# shard map, the object store, and the tour of the trails' deliveries (validate-logs on s3://,
# DuckDB over each trail's bucket against the collectors' SQL). Uses the caller's variables and
# helpers (DIR, SHARDS, ACCOUNTS, shard_name, grpc_port, ctl_at, ctl_admin_at, say, die).

write_shard_map() {  # account j -> shard j % N; the first shard is also the default
  local i j first=1
  {
    printf '{"shards": ['
    for i in $(shards); do
      [ "$first" = 1 ] || printf ','
      first=0
      printf '\n  {"name": "%s", "endpoint": "127.0.0.1:%s"' "$(shard_name "$i")" "$(grpc_port "$i")"
      [ "$i" = 0 ] && printf ', "default": true'
      printf ', "accounts": ['
      local sep=""
      for j in "${!ACCOUNTS[@]}"; do
        [ $((j % SHARDS)) = "$i" ] || continue
        printf '%s"%s"' "$sep" "${ACCOUNTS[$j]}"
        sep=", "
      done
      printf ']}'
    done
    printf ']}\n'
  } >"$DIR/shards.json"
}

# The object store (with --shards): a throwaway single-node Ceph RADOS Gateway on loopback, its
# credentials exported to the collectors and to orgtrailctl (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...).
S3_SERVER="$ROOT/tests/scripts/s3_test_server.sh"
object_store_up() { [ -f "$DIR/s3/endpoint" ] && curl -fsS -o /dev/null "$(cat "$DIR/s3/endpoint")/" 2>/dev/null; }
start_object_store() {
  if ! object_store_up; then
    [ -d "$DIR/s3" ] && "$S3_SERVER" stop "$DIR/s3" >/dev/null 2>&1
    say "Starting the object store: a single-node Ceph RADOS Gateway on loopback (in memory; logs in $DIR/s3)"
    "$S3_SERVER" check || die "the object store needs Ceph (scripts/bootstrap.sh installs ceph-mon ceph-osd radosgw)"
    "$S3_SERVER" start "$DIR/s3" >"$DIR/logs/object-store.log" 2>&1 ||
      die "the object store did not start; see $DIR/logs/object-store.log"
    date -u +%Y-%m-%dT%H:%M:%SZ >"$DIR/s3/since"  # what the tour validates: deliveries from now on
  fi
  # shellcheck disable=SC1091
  . "$DIR/s3/env"
  local bucket code
  for bucket in "$ORG_TRAIL_BUCKET" "$DATA_TRAIL_BUCKET"; do
    # libcurl signs with SigV4 but leaves x-amz-content-sha256 to us (the empty body's hash).
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
      --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
      -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
      "$AWS_ENDPOINT_URL/$bucket") || code=000
    case "$code" in 200|409) ;; *) die "could not create bucket $bucket at $AWS_ENDPOINT_URL (HTTP $code)" ;; esac
  done
  echo "    object store $AWS_ENDPOINT_URL, buckets $ORG_TRAIL_BUCKET and $DATA_TRAIL_BUCKET"
}

# trail field -> the field of the organization's status (get-trail-status --shard-map merges the
# shards': a time is the oldest shard's, null while any shard has none); empty if null.
trail_status_field() {
  ctl_admin get-trail-status --name "$1" --shard-map "$DIR/shards.json" 2>/dev/null |
    grep -o "\"$2\": *\"[^\"]*\"" | sed 's/.*: *"//; s/"$//' | head -1 || true
}

# The same question to the collectors' SQL (summed over the shards) and to DuckDB over a trail's
# bucket (deploy/analytics/orgtrail-duckdb.mjs); both answer rows (account, region, events).
# Prints both when asked to (show=1); exit status 0 when they agree.
same_answer() {  # sql duckdb_sql bucket show
  local i parts=() duck
  for i in $(shards); do parts+=("$(ctl_at "$i" query "$1" --output json 2>&1)"); done
  duck="$(node "$ROOT/deploy/analytics/orgtrail-duckdb.mjs" --export-root "s3://$3" --sql "$2" \
            --cache "$DIR/duckdb-cache/$3" --orgtrailctl "$CTL_BIN" 2>>"$DIR/logs/duckdb.log")" || duck="[]"
  python3 - "$4" "$duck" "${parts[@]}" <<'EOF'
import json, sys
def rows(texts):
    out = {}
    for text in texts:
        for r in json.loads(text):
            key = (r["account"], r["region"])
            out[key] = out.get(key, 0) + int(r["events"])
    return out
try:
    duck, sql = rows([sys.argv[2]]), rows(sys.argv[3:])
except (ValueError, KeyError) as e:
    print("    could not read an answer: %s" % e); sys.exit(1)
if sys.argv[1] == "1":
    print("    %-14s %-11s %14s %14s" % ("account", "region", "collector SQL", "DuckDB on S3"))
    for key in sorted(set(duck) | set(sql)):
        print("    %-14s %-11s %14s %14s" % (key[0], key[1], sql.get(key, "-"), duck.get(key, "-")))
sys.exit(0 if duck == sql and sql else 1)
EOF
}

tour_object_store() {
  local i trail name deadline pending
  say "Tour 8: the trails' deliveries in the object store ($AWS_ENDPOINT_URL): each shard delivers its accounts into each trail's bucket"
  deadline=$(( $(date +%s) + ${ORGTRAIL_LOCAL_DELIVERY_WAIT_SECONDS:-180} ))
  printf '    waiting for every shard'"'"'s first digest delivery of both trails (digests every minute) '
  while :; do
    pending=0
    for trail in org-trail s3-data-events; do
      [ -n "$(trail_status_field "$trail" LatestDigestDeliveryTime)" ] || pending=1
    done
    [ "$pending" = 0 ] && { printf ' done\n'; break; }
    if [ "$(date +%s)" -ge "$deadline" ]; then
      printf '\n'; say "Not every shard delivered a digest within the wait (digests every minute)"; break
    fi
    printf '.'
    sleep 2
  done
  for i in $(shards); do
    echo "\$ orgtrailctl get-trail-status --name org-trail   # collector $(shard_name "$i")"
    ctl_admin_at "$i" get-trail-status --name org-trail || true
  done
  echo
  say "Tour 9: validate-logs on s3:// (each account's digest chain, whichever shard delivered it)"
  local since arn="arn:aws:cloudtrail:$HOME_REGION:111111111111:trail/org-trail" acct
  since="$(cat "$DIR/s3/since")"
  for acct in "${ACCOUNTS[@]}"; do
    echo "\$ orgtrailctl validate-logs --export-root s3://$ORG_TRAIL_BUCKET --trail-arn $arn --account-id $acct --start-time $since"
    "$CTL_BIN" validate-logs --export-root "s3://$ORG_TRAIL_BUCKET" --trail-arn "$arn" --account-id "$acct" \
      --start-time "$since" || true
  done
  echo
  say "Tour 10: DuckDB over each trail's bucket and the collectors' SQL give the same answer"
  local q_sql q_duck what
  for trail in org-trail s3-data-events; do
    if [ "$trail" = org-trail ]; then
      q_sql="SELECT recipientaccountid AS account, awsregion AS region, COUNT(*) AS events FROM events WHERE eventcategory = 'Management' AND eventsource <> 'orgtrail' GROUP BY 1, 2"
      q_duck="SELECT recipientaccountid AS account, awsregion AS region, COUNT(*) AS events FROM cloudtrail WHERE eventsource <> 'orgtrail' GROUP BY 1, 2"
      name="$ORG_TRAIL_BUCKET" what="management events"
    else
      q_sql="SELECT recipientaccountid AS account, awsregion AS region, COUNT(*) AS events FROM events WHERE eventcategory = 'Data' AND eventsource = 's3.amazonaws.com' GROUP BY 1, 2"
      q_duck="SELECT recipientaccountid AS account, awsregion AS region, COUNT(*) AS events FROM cloudtrail GROUP BY 1, 2"
      name="$DATA_TRAIL_BUCKET" what="S3 object data events"
    fi
    echo "trail $trail: $what per account and region"
    echo "    collector SQL: $q_sql"
    echo "    DuckDB on s3://$name: $q_duck"
    # The last events reach the bucket with the next delivery (every 15 s): ask until both agree.
    deadline=$(( $(date +%s) + 90 ))
    until same_answer "$q_sql" "$q_duck" "$name" 0; do
      [ "$(date +%s)" -lt "$deadline" ] || break
      sleep 5
    done
    if same_answer "$q_sql" "$q_duck" "$name" 1; then
      echo "    DuckDB and the collectors agree"
    else
      echo "    DuckDB and the collectors DIFFER (see above; DuckDB log: $DIR/logs/duckdb.log)"
    fi
  done
}

