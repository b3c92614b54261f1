# bench/harness/detections_section.sh: section 8 of bench/run.sh (sourced; uses its globals and lib.sh).
# Issue 18's two ratios, each against a baseline measured in this run on the same work:
#  - streaming cost: collector alone (STREAMS mTLS streams x SIGMA_EVENTS generator events, 500 per
#    batch, acked = durable) with the 57 SigmaHQ CloudTrail rules on (--sigma-rules) and off, a fresh
#    collector per run, runs alternating off, on, off, on ... for SIGMA_ROUNDS rounds. Raw:
#    sigma-off-<r>.json, sigma-on-<r>.json (the loader's JSON plus "findings" and "lag_commits" read
#    from the collector when the load ended, and "collector_cpu_s": its CPU time once the engine
#    caught up).
#  - retro-hunt: hunt_bench over HUNT_EVENTS stored generator records (hunt vs iterating and reading
#    the same records without rules, alternating rounds): hunt-bench.json.
# Without ../shared's rules both are marked unavailable with the reason.

sigma_run() {  # mode(on|off) round
  local mode="$1" r="$2" port hport dir="$WORK/sigma-$1-$2" extra=() out pid
  [ "$mode" = on ] && extra=(--sigma-rules "$SIGMA_RULES")
  port=$(free_port); hport=$(free_port)
  start_bg "sigma-$mode-$r" "$COLLECTOR" --listen "127.0.0.1:$port" --http-listen "127.0.0.1:$hport" \
    --data-dir "$dir" --ca "$P/ca.crt" --cert "$P/collector.crt" --key "$P/collector.key" --trust-domain "$ORG" \
    --management-account-id 111111111111 --log-level warn "${extra[@]}"
  pid=$BG_PID
  if ! wait_http "http://127.0.0.1:$hport/healthz" 60; then
    printf '{"mode":"sigma-%s","available":false,"reason":"collector did not start"}\n' "$mode" >"$RES/sigma-$mode-$r.json"
    stop_pid "$pid"; return 0
  fi
  local cpu0
  cpu0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)  # after start-up (rules loaded)
  out=$("$LOADER" ingest --target "127.0.0.1:$port" --pki "$P" --trust-domain "$ORG" --streams "$STREAMS" \
    --per-batch 500 --events "$SIGMA_EVENTS" --source gen --run "sigma-$mode-$r") || out=""
  local m findings lag cpu_s
  m=$(curl -fsS "http://127.0.0.1:$hport/metrics" 2>/dev/null || true)
  findings=$(awk '/^orgtrail_findings_total/ { s += $2 } END { printf "%d", s }' <<<"$m")
  lag=$(awk '$1 == "orgtrail_findings_lag_commits" { print $2 }' <<<"$m")
  # The collector's CPU time (user + system) from the start of the load until the engine has
  # matched every stored event (up to 30 s after the load): a figure neighbours on a shared machine
  # disturb less than events/s, and one that counts the engine's catching up.
  local i
  for i in $(seq 1 300); do
    [ "$mode" = on ] || break
    [ "$(curl -fsS "http://127.0.0.1:$hport/metrics" 2>/dev/null | awk '$1 == "orgtrail_findings_lag_commits" { print $2 }')" != "0" ] || break
    sleep 0.1
  done
  cpu_s=$(awk -v hz="$(getconf CLK_TCK)" -v t0="$cpu0" '{ printf "%.3f", ($14 + $15 - t0) / hz }' "/proc/$pid/stat" 2>/dev/null || echo null)
  stop_pid "$pid"
  rm -rf "$dir"
  if [ -z "$out" ]; then
    printf '{"mode":"sigma-%s","available":false,"reason":"the load failed (see logs)"}\n' "$mode" >"$RES/sigma-$mode-$r.json"
    return 0
  fi
  python3 - "$out" "$mode" "$findings" "${lag:-null}" "${cpu_s:-null}" >"$RES/sigma-$mode-$r.json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
d.update({"mode": "sigma-" + sys.argv[2], "available": True, "findings": int(sys.argv[3]),
          "lag_commits": None if sys.argv[4] == "null" else float(sys.argv[4]),
          "collector_cpu_s": None if sys.argv[5] == "null" else float(sys.argv[5])})
print(json.dumps(d))
PY
}

run_detections_section() {
  SIGMA_RULES="$SHARED_DATA/sigma-cloudtrail/rules"
  if [ ! -d "$SIGMA_RULES" ]; then
    echo "{\"mode\":\"hunt\",\"available\":false,\"reason\":\"no rules at $SIGMA_RULES\"}" >"$RES/hunt-bench.json"
    echo "{\"mode\":\"sigma-on\",\"available\":false,\"reason\":\"no rules at $SIGMA_RULES\"}" >"$RES/sigma-on-1.json"
    return 0
  fi
  say "8. detections: ingest with and without the 57 SigmaHQ rules ($STREAMS x $SIGMA_EVENTS events, $SIGMA_ROUNDS round(s)); hunt_bench on $HUNT_EVENTS events"
  local r
  for r in $(seq 1 "$SIGMA_ROUNDS"); do
    sigma_run off "$r"; say "   round $r off: $(head -c 160 "$RES/sigma-off-$r.json")"
    sigma_run on "$r";  say "   round $r on:  $(head -c 160 "$RES/sigma-on-$r.json")"
  done
  "$HUNT_BENCH" --events "$HUNT_EVENTS" --rounds 3 --dir "$WORK/hunt-store" >"$RES/hunt-bench.json" 2>"$WORK/logs/hunt-bench.log" ||
    echo "{\"mode\":\"hunt\",\"available\":false,\"reason\":\"hunt_bench failed: $(tail -1 "$WORK/logs/hunt-bench.log" | tr -d '"\\')\"}" >"$RES/hunt-bench.json"
  rm -rf "$WORK/hunt-store"
}
