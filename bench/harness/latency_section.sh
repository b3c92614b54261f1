# bench/harness/latency_section.sh: section 4 of bench/run.sh (sourced; uses its globals and lib.sh).
# No estimated rates: the offered rate steps up through LAT_RATES (each step LAT_SECONDS long, one
# fresh agent identity lat-<rate> each) until a step breaks: the load client sent less than 95 % of
# the offered rate, p99 capture -> visible exceeded 100 ms, or the run failed (an event never
# acknowledged or a probe never visible: "probes_missing" > 0). The highest rate that held is the
# figure. 20k events/s (the target's rate) is always measured: as a step when the stepping got
# there, otherwise on its own afterwards. Raw: latency-step-<rate>.json (in order, listed in
# latency-steps.txt) and latency-20k.json.
# The hold rule is the one report.py applies (step_why); keep them the same.

latency_step_held() {  # json rate -> exit 0 when the step held
  python3 - "$1" "$2" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(1)
rate = float(sys.argv[2])
ok = d.get("ok") and (d.get("achieved_rate") or 0) >= 0.95 * rate \
    and 0 <= (d.get("visible_p99_ms") if d.get("visible_p99_ms") is not None else -1) <= 100
sys.exit(0 if ok else 1)
EOF
}

run_latency() {  # rate outfile: one fixed-rate run (identity lat-<rate>); a failed run still leaves JSON
  local rate="$1" out="$2" rc=0
  "$LOADER" latency --target "$TARGET" --pki "$P" --trust-domain "$ORG" --rate "$rate" --seconds "$LAT_SECONDS" \
    --name "lat-$rate" >"$out" 2>"$WORK/logs/latency-$rate.log" || rc=$?
  if [ "$rc" != 0 ] && ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out" 2>/dev/null; then
    printf '{"mode":"latency","ok":false,"failure":"%s","target_rate":%s}\n' \
      "$(tail -1 "$WORK/logs/latency-$rate.log" | tr -d '"\\')" "$rate" >"$out"
  fi
  say "   $rate/s: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("ok" if d.get("ok") else "FAILED %s" % d.get("failure"), "achieved", d.get("achieved_rate"), "visible p99", d.get("visible_p99_ms"))' "$out")"
}

run_latency_section() {
  say "4. latency: offered rate stepped through $LAT_RATES (${LAT_SECONDS}s each) until it breaks"
  mark latency_start
  local rate held=0 did20k=0
  : >"$RES/latency-steps.txt"
  for rate in $LAT_RATES; do
    run_latency "$rate" "$RES/latency-step-$rate.json"
    echo "$rate" >>"$RES/latency-steps.txt"
    [ "$rate" = 20000 ] && { cp "$RES/latency-step-$rate.json" "$RES/latency-20k.json"; did20k=1; }
    latency_step_held "$RES/latency-step-$rate.json" "$rate" || break
    held=$rate
  done
  if [ "$did20k" = 0 ]; then
    say "   20k events/s (the target's rate), measured on its own"
    run_latency 20000 "$RES/latency-20k.json"
  fi
  echo "{\"mode\":\"latency-steps\",\"highest_held\":$held,\"lat_seconds\":$LAT_SECONDS}" >"$RES/latency-summary.json"
  mark latency_end
}
