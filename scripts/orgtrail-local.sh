#!/usr/bin/env bash
# A whole orgtrail organization on this machine, on loopback.
#
#   scripts/orgtrail-local.sh up       install what is missing, build, create the PKI, start a
#                                      collector and 7 agents (4 accounts x 2 regions), create an
#                                      organization trail, let events flow, run the query tour
#   scripts/orgtrail-local.sh status   what is running, per-agent high-water marks, health
#   scripts/orgtrail-local.sh tour     run the query tour again against the running cluster
#   scripts/orgtrail-local.sh down     stop everything (data and logs are kept; `down --purge` deletes them)
#
#   scripts/orgtrail-local.sh up --shards N   (N = 2..4) the same organization on N collectors
#        sharded by account (common/shard_map.h; agents connect to the first and follow its
#        redirect), delivering to a real object store: a throwaway Ceph RADOS Gateway on loopback
#        (tests/scripts/s3_test_server.sh; in memory: `down` discards its contents). Two trails on
#        every shard: org-trail (management events, bucket orgtrail-local-export) and
#        s3-data-events (S3 object data events, bucket orgtrail-local-data-events), both with log
#        file validation. The tour then validates the delivered logs on s3:// and asks DuckDB over
#        the bucket and the collectors' SQL the same question.
#
# Everything (PKI, RocksDB data, spools, logs, pids) lives in one folder, $ORGTRAIL_LOCAL_DIR
# (default: .orgtrail-local/ in the project root); a folder holds one organization, of the shard
# count it was created with. Ports: $ORGTRAIL_LOCAL_PORT_BASE (default 17400): collector gRPC =
# base+43, collector HTTP = base+44 (shard i: +10*i), agent ops ports = base+101.. .
# ORGTRAIL_LOCAL_NO_BUILD=1: use the binaries in $ORGTRAIL_BUILD_DIR as they are (no install, no build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${ORGTRAIL_LOCAL_DIR:-$ROOT/.orgtrail-local}"
BUILD_DIR="${ORGTRAIL_BUILD_DIR:-$ROOT/build}"
SHARED_DATA="${ORGTRAIL_SHARED_DATA:-$ROOT/../shared/data}"
PORT_BASE="${ORGTRAIL_LOCAL_PORT_BASE:-17400}"
GRPC_PORT=$((PORT_BASE + 43))  # the first collector's (the only one without --shards)
HTTP_PORT=$((PORT_BASE + 44))
SHARDS=1  # collectors; set by `up --shards N`, else read from $DIR/shards
ORG="example.org"
ORG_ID="o-exampleorg1"
HOME_REGION="us-east-1"
GENERATED_PER_AGENT="${ORGTRAIL_LOCAL_EVENTS_PER_AGENT:-600}"

COLLECTOR_BIN="$BUILD_DIR/collector/orgtrail-collector"
AGENT_BIN="$BUILD_DIR/agent/orgtrail-agent"
CTL_BIN="$BUILD_DIR/cli/orgtrailctl"

# The organization: management account + three members, in two regions.
# account:region:source   (source: gen = generator, invictus = replay of the real invictus files)
AGENTS=(
  "111111111111:us-east-1:gen"
  "111111111111:eu-west-1:gen"
  "222222222222:us-east-1:gen"
  "222222222222:eu-west-1:gen"
  "333333333333:us-east-1:gen"
  "333333333333:eu-west-1:gen"
  "123837392027:us-east-1:invictus"
)
MEMBER_ACCOUNTS="111111111111,222222222222,333333333333,123837392027"
ACCOUNTS=(111111111111 222222222222 333333333333 123837392027)  # with --shards: account j -> shard j % N
# With --shards: the object store's buckets, one per trail.
ORG_TRAIL_BUCKET=orgtrail-local-export
DATA_TRAIL_BUCKET=orgtrail-local-data-events
# A global-service (IAM) event that the same account's agents in both regions capture.
SHARED_IAM_EVENT_ID="6f1c9a52-4e1b-4c2e-9d51-0b7a3e2f9c11"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'orgtrail-local: %s\n' "$*" >&2; exit 1; }

# Collector i (0-based): its name in the shard map, ports, and the name of its cert, data folder,
# log and pid file (collector-<shard>; plain "collector" without --shards).
shard_name() { if [ "$SHARDS" = 1 ]; then echo main; else echo "shard-$(printf '%s' abcd | cut -c$(($1 + 1)))"; fi; }
grpc_port() { echo $((PORT_BASE + 43 + 10 * $1)); }
http_port() { echo $((PORT_BASE + 44 + 10 * $1)); }
collector_tag() { if [ "$SHARDS" = 1 ]; then echo collector; else echo "collector-$(shard_name "$1")"; fi; }
shards() { seq 0 $((SHARDS - 1)); }

ctl_at() {  # i args... : orgtrailctl at collector i as the security team's auditor
  local i="$1"; shift
  "$CTL_BIN" "$@" --collector "127.0.0.1:$(grpc_port "$i")" --ca "$DIR/pki/ca.crt" \
    --cert "$DIR/pki/auditor.crt" --key "$DIR/pki/auditor.key"
}
ctl_admin_at() {  # i args... : the same as the platform team's admin
  local i="$1"; shift
  "$CTL_BIN" "$@" --collector "127.0.0.1:$(grpc_port "$i")" --ca "$DIR/pki/ca.crt" \
    --cert "$DIR/pki/admin.crt" --key "$DIR/pki/admin.key"
}
ctl() { ctl_at 0 "$@"; }
ctl_admin() { ctl_admin_at 0 "$@"; }
ctl_org() {  # lookup-events, get-event, verify-event over every shard (the CLI fans out and merges)
  if [ "$SHARDS" = 1 ]; then ctl "$@"; else ctl "$@" --shard-map "$DIR/shards.json"; fi
}

is_running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_http_ok() {  # url timeout_seconds
  local deadline=$(( $(date +%s) + $2 ))
  until curl -fsS "$1" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

metric_at() {  # port name -> summed value from http://127.0.0.1:port/metrics (0 if absent); fails if no answer
  local body
  body="$(curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null)" || return 1
  awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }' <<<"$body"
}
metric() {  # name -> the value summed over the collectors (a collector that does not answer counts 0)
  local i v total=0
  for i in $(shards); do v=$(metric_at "$(http_port "$i")" "$1") || v=0; total=$((total + v)); done
  echo "$total"
}

build() {
  if [ -n "${ORGTRAIL_LOCAL_NO_BUILD:-}" ]; then  # tests running beside others: never relink their binaries
    local b
    for b in "$COLLECTOR_BIN" "$AGENT_BIN" "$CTL_BIN"; do [ -x "$b" ] || die "ORGTRAIL_LOCAL_NO_BUILD: missing $b"; done
    return 0
  fi
  "$ROOT/scripts/bootstrap.sh"
  say "Building (Release, $BUILD_DIR)"
  ORGTRAIL_BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/build.sh" --target orgtrail-collector orgtrail-agent orgtrailctl
}

make_pki() {
  local pki="$DIR/pki"
  [ -f "$pki/ca.crt" ] && return 0
  say "Creating the organization CA and certificates ($pki)"
  "$CTL_BIN" pki init-ca --dir "$pki" --org "$ORG" >/dev/null
  local i tag
  for i in $(shards); do
    tag="$(collector_tag "$i")"
    "$CTL_BIN" pki issue-collector --dir "$pki" --name "$(shard_name "$i")" --dns localhost --ip 127.0.0.1 \
      --out-cert "$pki/$tag.crt" --out-key "$pki/$tag.key" >/dev/null
  done
  "$CTL_BIN" pki issue-auditor --dir "$pki" --name security-team \
    --out-cert "$pki/auditor.crt" --out-key "$pki/auditor.key" >/dev/null
  "$CTL_BIN" pki issue-admin --dir "$pki" --name platform-team \
    --out-cert "$pki/admin.crt" --out-key "$pki/admin.key" >/dev/null
  local spec account region
  for spec in "${AGENTS[@]}"; do
    IFS=: read -r account region _ <<<"$spec"
    "$CTL_BIN" pki issue-agent --dir "$pki" --account "$account" --region "$region" --name agent \
      --out-cert "$pki/agent-$account-$region.crt" --out-key "$pki/agent-$account-$region.key" >/dev/null
  done
}

# shellcheck source=lib/local_shards.sh
. "$ROOT/scripts/lib/local_shards.sh"
# shellcheck source=lib/usage.sh
. "$ROOT/scripts/lib/usage.sh"

start_collector() {  # i
  local i="$1" tag name args
  tag="$(collector_tag "$i")"
  name="$(shard_name "$i")"
  is_running "$DIR/run/$tag.pid" && return 0
  if [ "$SHARDS" = 1 ]; then
    say "Starting the collector on 127.0.0.1:$(grpc_port "$i") (metrics: http://127.0.0.1:$(http_port "$i")/metrics)"
  else
    say "Starting collector $name on 127.0.0.1:$(grpc_port "$i") (metrics: http://127.0.0.1:$(http_port "$i")/metrics)"
  fi
  # The SigmaHQ CloudTrail rules beside the repository (../shared), run on every stored event.
  local sigma_rules="${ORGTRAIL_LOCAL_SIGMA_RULES:-$ROOT/../shared/data/sigma-cloudtrail/rules}"
  local export_root="$DIR/export"
  [ "$SHARDS" = 1 ] || export_root="$DIR/export/$name"
  args=(--listen "127.0.0.1:$(grpc_port "$i")" --http-listen "127.0.0.1:$(http_port "$i")"
        --data-dir "$DIR/data/$tag" --ca "$DIR/pki/ca.crt" --cert "$DIR/pki/$tag.crt"
        --key "$DIR/pki/$tag.key" --trust-domain "$ORG" --home-region "$HOME_REGION"
        --management-account-id 111111111111 --export-root "$export_root" --export-org-id "$ORG_ID"
        --export-interval 15s --checkpoint-interval 5s)
  [ -d "$sigma_rules" ] && args+=(--sigma-rules "$sigma_rules")
  if [ "$SHARDS" = 1 ]; then
    args+=(--export-bucket "$ORG_TRAIL_BUCKET" --digest-interval 5m)
  else
    # The trails deliver to the object store; the archive (every stored event) stays a local
    # folder. Digests every minute so the tour can validate what was delivered. Every shard signs
    # digests with the same keys (public-keys.json is one object per organization): the first
    # shard creates them, the others get a copy before their first start.
    args+=(--shard-map "$DIR/shards.json" --shard "$name" --export-bucket orgtrail-local-archive
           --export-s3-endpoint "$AWS_ENDPOINT_URL" --digest-interval 1m)
    if [ "$i" != 0 ] && [ ! -d "$DIR/data/$tag/digest-keys" ]; then
      local keys
      keys="$DIR/data/$(collector_tag 0)/digest-keys"
      wait_for_path "$keys" 30 || die "the first shard created no digest keys ($keys)"
      mkdir -p "$DIR/data/$tag"
      cp -a "$keys" "$DIR/data/$tag/"
    fi
  fi
  "$COLLECTOR_BIN" "${args[@]}" ${ORGTRAIL_LOCAL_COLLECTOR_ARGS:-} >"$DIR/logs/$tag.log" 2>&1 &
  echo $! >"$DIR/run/$tag.pid"
  wait_http_ok "http://127.0.0.1:$(http_port "$i")/healthz" 30 ||
    die "collector $name did not become healthy; see $DIR/logs/$tag.log"
}

wait_for_path() {  # path timeout_seconds
  local deadline=$(( $(date +%s) + $2 ))
  until [ -e "$1" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

create_trails() {  # i: the organization's trails on collector i (trails are configured per collector)
  local i="$1"
  if ! ctl_admin_at "$i" get-trail --name org-trail >/dev/null 2>&1; then
    say "Creating the organization trail 'org-trail' on collector $(shard_name "$i") (multi-region, global services, all management events)"
    ctl_admin_at "$i" create-trail --name org-trail --is-organization-trail --is-multi-region-trail \
      --include-global-service-events --enable-log-file-validation --s3-bucket-name "$ORG_TRAIL_BUCKET" >/dev/null
    ctl_admin_at "$i" start-logging --name org-trail >/dev/null
  fi
  [ "$SHARDS" = 1 ] && return 0
  if ! ctl_admin_at "$i" get-trail --name s3-data-events >/dev/null 2>&1; then
    say "Creating the trail 's3-data-events' on collector $(shard_name "$i") (S3 object data events only, bucket $DATA_TRAIL_BUCKET)"
    ctl_admin_at "$i" create-trail --name s3-data-events --is-organization-trail --is-multi-region-trail \
      --enable-log-file-validation --s3-bucket-name "$DATA_TRAIL_BUCKET" >/dev/null
    ctl_admin_at "$i" put-event-selectors --trail-name s3-data-events --advanced-event-selectors \
      '[{"Name":"S3 object data events","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]}]}]' >/dev/null
    ctl_admin_at "$i" start-logging --name s3-data-events >/dev/null
  fi
}

shared_iam_event() {  # region-independent IAM CreateUser, the same bytes for both regions' agents
  cat <<EOF
{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLEADMIN0001","arn":"arn:aws:iam::222222222222:user/alice","accountId":"222222222222","accessKeyId":"AKIAEXAMPLEALICE001","userName":"alice"},"eventTime":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0","requestParameters":{"userName":"break-glass"},"responseElements":{"user":{"userName":"break-glass","arn":"arn:aws:iam::222222222222:user/break-glass"}},"requestID":"0d6b1b7e-58a1-4c7e-9c1e-ad1a1c0e2f01","eventID":"$SHARED_IAM_EVENT_ID","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"222222222222","eventCategory":"Management"}
EOF
}

start_agents() {
  local i=0 spec account region source ops inbox args
  local iam_event
  iam_event="$(shared_iam_event)"
  for spec in "${AGENTS[@]}"; do
    IFS=: read -r account region source <<<"$spec"
    i=$((i + 1))
    local name="$account-$region"
    is_running "$DIR/run/agent-$name.pid" && continue
    ops=$((PORT_BASE + 100 + i))
    inbox="$DIR/inbox/$name"
    mkdir -p "$inbox"
    args=(--collector "127.0.0.1:$GRPC_PORT" --ca "$DIR/pki/ca.crt"
          --cert "$DIR/pki/agent-$name.crt" --key "$DIR/pki/agent-$name.key"
          --trust-domain "$ORG" --spool-dir "$DIR/data/agent-$name"
          --ops-listen "127.0.0.1:$ops" --watch-dir "$inbox")
    if [ "$source" = gen ]; then
      args+=(--generator-rate 200 --generator-seed "$i" --generator-limit "$GENERATED_PER_AGENT")
    fi
    if [ "$account" = 222222222222 ]; then
      # Both regions' agents of this account capture the same IAM event.
      printf '%s\n' "$iam_event" >"$inbox/iam-createuser.jsonl"
    fi
    if [ "$source" = invictus ]; then
      [ -d "$SHARED_DATA/invictus-aws-dataset/CloudTrail" ] ||
        die "missing $SHARED_DATA/invictus-aws-dataset (../shared/data beside the project)"
      cp "$SHARED_DATA"/invictus-aws-dataset/CloudTrail/*.json "$inbox/"
    fi
    "$AGENT_BIN" "${args[@]}" >"$DIR/logs/agent-$name.log" 2>&1 &
    echo $! >"$DIR/run/agent-$name.pid"
  done
  say "Started ${#AGENTS[@]} agents (accounts $MEMBER_ACCOUNTS; regions us-east-1, eu-west-1)"
}

agents_drained() {  # -> every agent read all its input and its spool holds nothing unacknowledged
  # Only figures that hold across a restart (`down` then `up`): the spool's content, the file
  # source's unfinished files (from its persisted checkpoints) after a complete scan of this
  # process, and for generator agents the generator's count (it generates its events again after
  # a restart; the collector stores each once).
  local i=0 spec account region source ops pending scans unfinished events_read
  for spec in "${AGENTS[@]}"; do
    IFS=: read -r account region source <<<"$spec"
    i=$((i + 1))
    ops=$((PORT_BASE + 100 + i))
    pending=$(metric_at "$ops" orgtrail_agent_spool_events) || return 1
    [ "$pending" -eq 0 ] || return 1
    scans=$(metric_at "$ops" orgtrail_agent_file_scans_total) || return 1
    [ "$scans" -ge 1 ] || return 1
    unfinished=$(metric_at "$ops" orgtrail_agent_files_unfinished) || return 1
    [ "$unfinished" -eq 0 ] || return 1
    if [ "$source" = gen ]; then
      events_read=$(metric_at "$ops" 'orgtrail_agent_events_read_total') || return 1
      [ "$events_read" -ge "$GENERATED_PER_AGENT" ] || return 1
    fi
  done
}

wait_for_events() {
  # Each generator agent emits $GENERATED_PER_AGENT events (the trail keeps the management ones),
  # the invictus agent replays 2,900 records, and two agents carry the same IAM event.
  local deadline=$(( $(date +%s) + ${ORGTRAIL_LOCAL_WAIT_SECONDS:-120} ))
  local stored=0
  say "Waiting until every agent has read its sources and the collector acknowledged everything"
  while :; do
    stored=$(metric orgtrail_collector_events_in_store)
    printf '\r    stored %6d events ' "$stored"
    if agents_drained; then
      stored=$(metric orgtrail_collector_events_in_store)
      printf '\r    stored %6d events; every agent drained\n' "$stored"
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      printf '\n'
      say "Not everything arrived within the wait; the tour runs on what is stored so far"
      return 0
    fi
    sleep 0.5
  done
}

query_each() {  # SQL: asked of every collector (with --shards: each shard answers for its accounts)
  local i
  echo "\$ orgtrailctl query \"$1\""
  for i in $(shards); do
    [ "$SHARDS" = 1 ] || echo "-- collector $(shard_name "$i")"
    ctl_at "$i" query "$1" || true
  done
}

tour() {
  local ran=0
  say "Tour 1: events per account and region (SQL at the collector, over the RocksDB indexes)"
  local q1="SELECT recipientaccountid AS account, partitionregion AS region, COUNT(*) AS events, SUM(eventcategory = 'Data') AS data_events FROM events GROUP BY 1, 2 ORDER BY 1, 2"
  query_each "$q1"
  echo
  say "Tour 2: one IAM event carried by the us-east-1 AND eu-west-1 agents of 222222222222, stored once, under us-east-1"
  echo "\$ orgtrailctl lookup-events --lookup-attributes AttributeKey=EventId,AttributeValue=$SHARED_IAM_EVENT_ID --output table"
  ctl_org lookup-events --lookup-attributes "AttributeKey=EventId,AttributeValue=$SHARED_IAM_EVENT_ID" --output table || true
  echo "    collector duplicates dropped so far: $(metric orgtrail_collector_events_deduplicated_total)"
  echo
  say "Tour 3: who deleted a bucket?"
  echo "\$ orgtrailctl lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=DeleteBucket --max-items 5 --output table"
  ctl_org lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=DeleteBucket --max-items 5 --output table || true
  echo
  say "Tour 4: console sign-ins without MFA"
  local q4="SELECT eventtime, recipientaccountid AS account, useridentity_arn AS who, sourceipaddress FROM events WHERE eventname = 'ConsoleLogin' AND json_extract(eventjson, '$.additionalEventData.MFAUsed') = 'No' ORDER BY eventtime DESC LIMIT 10"
  query_each "$q4"
  echo
  say "Tour 5: prove where one event came from (agent certificate, batch signature, Merkle inclusion)"
  echo "\$ orgtrailctl verify-event $SHARED_IAM_EVENT_ID --ca $DIR/pki/ca.crt"
  ctl_org verify-event "$SHARED_IAM_EVENT_ID" || true
  echo
  say "Tour 6: Sigma findings (the SigmaHQ CloudTrail rules ran on every event as it was stored)"
  echo "\$ orgtrailctl findings --max-items 5"
  local i
  for i in $(shards); do
    [ "$SHARDS" = 1 ] || echo "-- collector $(shard_name "$i")"
    ctl_at "$i" findings --max-items 5 || true
  done
  echo
  say "Tour 7: who looked? Every query above is itself an event (the collector's self-audit, eventSource orgtrail)"
  local q6="SELECT eventtime, eventname, json_extract(eventjson, '$.userIdentity.arn') AS caller, errorcode FROM events WHERE eventsource = 'orgtrail' ORDER BY eventtime DESC LIMIT 6"
  echo "\$ orgtrailctl query \"$q6\""
  ctl query "$q6" || true
  [ "$SHARDS" = 1 ] || tour_object_store
  ran=1
  [ "$ran" = 1 ]
}

# The shard count: `up --shards N` for a new folder, else what the folder was created with.
read_shards() {  # [requested]
  local have=""
  [ -f "$DIR/shards" ] && have="$(cat "$DIR/shards")"
  if [ -n "${1:-}" ]; then
    case "$1" in [1-4]) ;; *) die "--shards: 1 to 4 collectors (got '$1')" ;; esac
    if [ -n "$have" ] && [ "$have" != "$1" ]; then
      die "$DIR holds an organization of $have collector(s), not $1: \`scripts/orgtrail-local.sh down --purge\` first"
    fi
    SHARDS="$1"
  elif [ -n "$have" ]; then
    SHARDS="$have"
  fi
}

cmd_up() {
  build
  if is_running "$DIR/run/$(collector_tag 0).pid"; then
    say "The local organization is already running in $DIR: starting what is stopped, then the tour"
  fi
  mkdir -p "$DIR"/{pki,data,logs,run,inbox}
  echo "$SHARDS" >"$DIR/shards"
  make_pki
  local i
  if [ "$SHARDS" != 1 ]; then
    write_shard_map
    start_object_store
  fi
  for i in $(shards); do start_collector "$i"; done
  for i in $(shards); do
    create_trails "$i" || say "Could not create the trails on collector $(shard_name "$i") (see $DIR/logs/$(collector_tag "$i").log); agents log everything by default"
  done
  start_agents
  wait_for_events
  tour
  echo
  say "The organization keeps running. Folder: $DIR (logs in $DIR/logs)"
  if [ "$SHARDS" = 1 ]; then
    echo "    CloudTrail-layout export (gzipped Records files, every 15 s; signed digests every 5 min): $DIR/export/AWSLogs/$ORG_ID"
  else
    echo "    $SHARDS collectors, shard map $DIR/shards.json; trails deliver to $AWS_ENDPOINT_URL (buckets $ORG_TRAIL_BUCKET, $DATA_TRAIL_BUCKET; credentials: . $DIR/s3/env)"
  fi
  echo "    scripts/orgtrail-local.sh status | tour | down"
  echo "    query it yourself:  $CTL_BIN lookup-events --collector 127.0.0.1:$GRPC_PORT \\"
  if [ "$SHARDS" = 1 ]; then
    echo "        --ca $DIR/pki/ca.crt --cert $DIR/pki/auditor.crt --key $DIR/pki/auditor.key --max-items 3"
  else
    echo "        --ca $DIR/pki/ca.crt --cert $DIR/pki/auditor.crt --key $DIR/pki/auditor.key --max-items 3 --shard-map $DIR/shards.json"
  fi
}

cmd_status() {
  [ -d "$DIR/run" ] || die "no local organization in $DIR (run: scripts/orgtrail-local.sh up)"
  local f name i
  echo "folder: $DIR"
  for f in "$DIR"/run/*.pid; do
    name="$(basename "$f" .pid)"
    if is_running "$f"; then echo "  running  $name (pid $(cat "$f"))"; else echo "  stopped  $name"; fi
  done
  if [ "$SHARDS" != 1 ]; then
    if object_store_up; then echo "object store up: $(cat "$DIR/s3/endpoint")"; else echo "object store not answering"; fi
  fi
  for i in $(shards); do
    name="collector"
    [ "$SHARDS" = 1 ] || name="collector $(shard_name "$i")"
    if curl -fsS "http://127.0.0.1:$(http_port "$i")/healthz" >/dev/null 2>&1; then
      echo "$name healthy; events stored: $(metric_at "$(http_port "$i")" orgtrail_collector_events_in_store), duplicates dropped: $(metric_at "$(http_port "$i")" orgtrail_collector_events_deduplicated_total)"
      ctl_admin_at "$i" status --output table || true
    else
      echo "$name not answering on http://127.0.0.1:$(http_port "$i")/healthz"
    fi
  done
}

cmd_down() {
  local f
  for f in "$DIR"/run/*.pid; do
    [ -f "$f" ] || continue
    if is_running "$f"; then kill "$(cat "$f")" 2>/dev/null || true; fi
  done
  sleep 1
  for f in "$DIR"/run/*.pid; do
    [ -f "$f" ] || continue
    if is_running "$f"; then kill -9 "$(cat "$f")" 2>/dev/null || true; fi
    rm -f "$f"
  done
  if [ -d "$DIR/s3" ]; then  # the in-memory object store: its contents go with it
    "$S3_SERVER" stop "$DIR/s3" >/dev/null 2>&1 || true
    echo "stopped the object store (in memory: its buckets are gone; the local archive stays)"
  fi
  if [ "${1:-}" = "--purge" ]; then rm -rf "$DIR"; echo "stopped; deleted $DIR"; else echo "stopped; data and logs kept in $DIR"; fi
}

command="${1:-up}"
[ $# -gt 0 ] && shift
case "$command" in
  up)
    requested=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --shards) requested="${2:?--shards N}"; shift 2 ;;
        --shards=*) requested="${1#--shards=}"; shift ;;
        *) die "up: unknown option '$1' (up [--shards N])" ;;
      esac
    done
    read_shards "$requested"
    cmd_up ;;
  status) read_shards; cmd_status ;;
  tour)
    read_shards
    if [ "$SHARDS" != 1 ]; then start_object_store >/dev/null; fi
    tour ;;
  down) read_shards; cmd_down "${1:-}" ;;
  -h|--help|help) print_header_comment "$0" ;;
  *) die "unknown command '$command' (up [--shards N] | status | tour | down [--purge])" ;;
esac
