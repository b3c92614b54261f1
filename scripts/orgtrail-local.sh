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
# Everything (PKI, RocksDB data, spools, logs, pids) lives in one folder, $ORGTRAIL_LOCAL_DIR
# (default: .orgtrail-local/ in the project root). Ports: $ORGTRAIL_LOCAL_PORT_BASE (default 17400):
# collector gRPC = base+43, collector HTTP = base+44, agent ops ports = base+101.. .
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${ORGTRAIL_LOCAL_DIR:-$ROOT/.orgtrail-local}"
BUILD_DIR="${ORGTRAIL_BUILD_DIR:-$ROOT/build}"
SHARED_DATA="${ORGTRAIL_SHARED_DATA:-$ROOT/../shared/data}"
PORT_BASE="${ORGTRAIL_LOCAL_PORT_BASE:-17400}"
GRPC_PORT=$((PORT_BASE + 43))
HTTP_PORT=$((PORT_BASE + 44))
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
# A global-service (IAM) event that the same account's agents in both regions capture.
SHARED_IAM_EVENT_ID="6f1c9a52-4e1b-4c2e-9d51-0b7a3e2f9c11"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'orgtrail-local: %s\n' "$*" >&2; exit 1; }

ctl() {  # orgtrailctl as the security team's auditor
  "$CTL_BIN" "$@" --collector "127.0.0.1:$GRPC_PORT" --ca "$DIR/pki/ca.crt" \
    --cert "$DIR/pki/auditor.crt" --key "$DIR/pki/auditor.key"
}
ctl_admin() {
  "$CTL_BIN" "$@" --collector "127.0.0.1:$GRPC_PORT" --ca "$DIR/pki/ca.crt" \
    --cert "$DIR/pki/admin.crt" --key "$DIR/pki/admin.key"
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
metric() { metric_at "$HTTP_PORT" "$1" || echo 0; }  # name -> the collector's value (0 if it does not answer)

build() {
  "$ROOT/scripts/bootstrap.sh"
  say "Building (Release, $BUILD_DIR)"
  ORGTRAIL_BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/build.sh" --target orgtrail-collector orgtrail-agent orgtrailctl
}

make_pki() {
  local pki="$DIR/pki"
  [ -f "$pki/ca.crt" ] && return 0
  say "Creating the organization CA and certificates ($pki)"
  "$CTL_BIN" pki init-ca --dir "$pki" --org "$ORG" >/dev/null
  "$CTL_BIN" pki issue-collector --dir "$pki" --name main --dns localhost --ip 127.0.0.1 \
    --out-cert "$pki/collector.crt" --out-key "$pki/collector.key" >/dev/null
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

start_collector() {
  is_running "$DIR/run/collector.pid" && return 0
  say "Starting the collector on 127.0.0.1:$GRPC_PORT (metrics: http://127.0.0.1:$HTTP_PORT/metrics)"
  # The SigmaHQ CloudTrail rules beside the repository (../shared), run on every stored event.
  local sigma_rules="${ORGTRAIL_LOCAL_SIGMA_RULES:-$ROOT/../shared/data/sigma-cloudtrail/rules}"
  local sigma_args=()
  [ -d "$sigma_rules" ] && sigma_args=(--sigma-rules "$sigma_rules")
  "$COLLECTOR_BIN" --listen "127.0.0.1:$GRPC_PORT" --http-listen "127.0.0.1:$HTTP_PORT" \
    --data-dir "$DIR/data/collector" --ca "$DIR/pki/ca.crt" --cert "$DIR/pki/collector.crt" \
    --key "$DIR/pki/collector.key" --trust-domain "$ORG" --home-region "$HOME_REGION" \
    --management-account-id 111111111111 \
    --export-root "$DIR/export" --export-bucket orgtrail-local-export --export-org-id "$ORG_ID" \
    --export-interval 15s --digest-interval 5m --checkpoint-interval 5s \
    "${sigma_args[@]}" ${ORGTRAIL_LOCAL_COLLECTOR_ARGS:-} \
    >"$DIR/logs/collector.log" 2>&1 &
  echo $! >"$DIR/run/collector.pid"
  wait_http_ok "http://127.0.0.1:$HTTP_PORT/healthz" 30 ||
    die "collector did not become healthy; see $DIR/logs/collector.log"
}

create_org_trail() {
  if ctl_admin get-trail --name org-trail >/dev/null 2>&1; then return 0; fi
  say "Creating the organization trail 'org-trail' (multi-region, global services, all management events)"
  ctl_admin create-trail --name org-trail --is-organization-trail --is-multi-region-trail \
    --include-global-service-events --enable-log-file-validation --s3-bucket-name orgtrail-local-export >/dev/null
  ctl_admin start-logging --name org-trail >/dev/null
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

tour() {
  local ran=0
  say "Tour 1: events per account and region (SQL at the collector, over the RocksDB indexes)"
  local q1="SELECT recipientaccountid AS account, partitionregion AS region, COUNT(*) AS events, SUM(eventcategory = 'Data') AS data_events FROM events GROUP BY 1, 2 ORDER BY 1, 2"
  echo "\$ orgtrailctl query \"$q1\""
  ctl query "$q1" || true
  echo
  say "Tour 2: one IAM event carried by the us-east-1 AND eu-west-1 agents of 222222222222, stored once, under us-east-1"
  echo "\$ orgtrailctl lookup-events --lookup-attributes AttributeKey=EventId,AttributeValue=$SHARED_IAM_EVENT_ID --output table"
  ctl lookup-events --lookup-attributes "AttributeKey=EventId,AttributeValue=$SHARED_IAM_EVENT_ID" --output table || true
  echo "    collector duplicates dropped so far: $(metric orgtrail_collector_events_deduplicated_total)"
  echo
  say "Tour 3: who deleted a bucket?"
  echo "\$ orgtrailctl lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=DeleteBucket --max-items 5 --output table"
  ctl lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=DeleteBucket --max-items 5 --output table || true
  echo
  say "Tour 4: console sign-ins without MFA"
  local q4="SELECT eventtime, recipientaccountid AS account, useridentity_arn AS who, sourceipaddress FROM events WHERE eventname = 'ConsoleLogin' AND json_extract(eventjson, '$.additionalEventData.MFAUsed') = 'No' ORDER BY eventtime DESC LIMIT 10"
  echo "\$ orgtrailctl query \"$q4\""
  ctl query "$q4" || true
  echo
  say "Tour 5: prove where one event came from (agent certificate, batch signature, Merkle inclusion)"
  echo "\$ orgtrailctl verify-event $SHARED_IAM_EVENT_ID --ca $DIR/pki/ca.crt"
  ctl verify-event "$SHARED_IAM_EVENT_ID" || true
  echo
  say "Tour 6: Sigma findings (the SigmaHQ CloudTrail rules ran on every event as it was stored)"
  echo "\$ orgtrailctl findings --max-items 5"
  ctl findings --max-items 5 || true
  echo
  say "Tour 7: who looked? Every query above is itself an event (the collector's self-audit, eventSource orgtrail)"
  local q6="SELECT eventtime, eventname, json_extract(eventjson, '$.userIdentity.arn') AS caller, errorcode FROM events WHERE eventsource = 'orgtrail' ORDER BY eventtime DESC LIMIT 6"
  echo "\$ orgtrailctl query \"$q6\""
  ctl query "$q6" || true
  ran=1
  [ "$ran" = 1 ]
}

cmd_up() {
  build
  if is_running "$DIR/run/collector.pid"; then
    say "The local organization is already running in $DIR: starting what is stopped, then the tour"
  fi
  mkdir -p "$DIR"/{pki,data,logs,run,inbox}
  make_pki
  start_collector
  create_org_trail || say "Could not create the organization trail (see $DIR/logs/collector.log); agents log everything by default"
  start_agents
  wait_for_events
  tour
  echo
  say "The organization keeps running. Folder: $DIR (logs in $DIR/logs)"
  echo "    CloudTrail-layout export (gzipped Records files, every 15 s; signed digests every 5 min): $DIR/export/AWSLogs/$ORG_ID"
  echo "    scripts/orgtrail-local.sh status | tour | down"
  echo "    query it yourself:  $CTL_BIN lookup-events --collector 127.0.0.1:$GRPC_PORT \\"
  echo "        --ca $DIR/pki/ca.crt --cert $DIR/pki/auditor.crt --key $DIR/pki/auditor.key --max-items 3"
}

cmd_status() {
  [ -d "$DIR/run" ] || die "no local organization in $DIR (run: scripts/orgtrail-local.sh up)"
  local f name
  echo "folder: $DIR"
  for f in "$DIR"/run/*.pid; do
    name="$(basename "$f" .pid)"
    if is_running "$f"; then echo "  running  $name (pid $(cat "$f"))"; else echo "  stopped  $name"; fi
  done
  if curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1; then
    echo "collector healthy; events stored: $(metric orgtrail_collector_events_in_store), duplicates dropped: $(metric orgtrail_collector_events_deduplicated_total)"
    ctl_admin status --output table || true
  else
    echo "collector not answering on http://127.0.0.1:$HTTP_PORT/healthz"
  fi
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
  if [ "${1:-}" = "--purge" ]; then rm -rf "$DIR"; echo "stopped; deleted $DIR"; else echo "stopped; data and logs kept in $DIR"; fi
}

case "${1:-up}" in
  up) cmd_up ;;
  status) cmd_status ;;
  tour) tour ;;
  down) shift || true; cmd_down "${1:-}" ;;
  -h|--help|help) sed -n '2,14p' "$0" ;;
  *) die "unknown command '$1' (up | status | tour | down [--purge])" ;;
esac
