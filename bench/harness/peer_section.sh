# bench/harness/peer_section.sh: section 7 of bench/run.sh (sourced; uses its globals and lib.sh).
# Like with like: ONE JSON Lines file of PEER_EVENTS generator events, written once, read by both
# sides; one sender each (one orgtrail-agent tailing the file / one rsyslog A with imfile) and one
# receiver each (a fresh orgtrail-collector / rsyslog B), run alternating for PEER_ROUNDS rounds
# (rsyslog, orgtrail, rsyslog, orgtrail, ...). Raw: peer-input.json, peer-rsyslog-<r>.json,
# peer-orgtrail-<r>.json (one JSON object each; "available":false with the reason when a run
# could not be made), peer-context-<side>-<r>.json (load average and IO pressure just before).

io_pressure() {  # /proc/pressure/io "some avg10" (%), empty when the kernel has no PSI
  awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/io 2>/dev/null
}

# Both receivers fsync, so the previous run's writeback (the collector's files, rsyslog's output)
# must not land in the next run. Every run of either side starts on a settled disk: the dirty
# pages written (sync), then up to PEER_SETTLE_S seconds until IO pressure (some avg10) is at most
# PEER_SETTLE_PRESSURE %. The time waited and the pressure at the start are in
# peer-context-<side>-<round>.json. It does not make rsyslog steady: run alone, back to back, on a
# settled disk, its rate here was 14.5k and then 4.7k events/s (bench/README.md); the report lists
# every round for that reason.
settle_disk() {  # -> SETTLED_S
  local start now p
  start=$(date +%s%3N)
  sync
  while :; do
    p=$(io_pressure)
    [ -z "$p" ] && break
    awk -v p="$p" -v t="${PEER_SETTLE_PRESSURE:-2}" 'BEGIN { exit !(p <= t) }' && break
    now=$(date +%s%3N)
    [ $((now - start)) -lt $(( ${PEER_SETTLE_S:-30} * 1000 )) ] || break
    sleep 0.5
  done
  SETTLED_S=$(awk -v a="$start" -v b="$(date +%s%3N)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
}

peer_context() {  # side round: settle the disk, then record the machine's state just before the run
  settle_disk
  printf '{"loadavg_1m":%s,"io_pressure_some_avg10":%s,"settled_s":%s}\n' "$(cut -d' ' -f1 /proc/loadavg)" \
    "$(io_pressure | grep . || echo null)" "$SETTLED_S" >"$RES/peer-context-$1-$2.json"
}

peer_unavailable() {  # side logfile -> one JSON line with the last line of the log as the reason
  printf '{"mode":"peer-%s","available":false,"reason":"%s"}\n' "$1" "$(tail -1 "$2" 2>/dev/null | tr -d '"\\')"
}

run_peer_section() {
  if [ "$DO_PEER" != 1 ]; then
    echo '{"mode":"peer-input","available":false,"reason":"skipped (--no-peer)"}' >"$RES/peer-input.json"
    return 0
  fi
  say "7. peer: one file of $PEER_EVENTS events, rsyslog and orgtrail alternating, $PEER_ROUNDS round(s)"
  local input="$WORK/peer-input/events.jsonl" r rc rsyslog_usable=1
  "$LOADER" files --format jsonl --out "$WORK/peer-input" --events "$PEER_EVENTS" --seed 4242 \
    >"$RES/peer-input.json"
  # On disk before any round: otherwise the writeback of this ~127 MB file competes with the first
  # round's fsyncs (measured: rsyslog round 1 at 6.5k events/s, rounds 2-3 at 10-12k).
  sync "$input"
  for r in $(seq 1 "$PEER_ROUNDS"); do
    if [ "$rsyslog_usable" = 1 ]; then
      rc=0
      peer_context rsyslog "$r"
      "$ROOT/bench/harness/rsyslog_peer.sh" --file "$input" --events "$PEER_EVENTS" --work "$WORK/peer-rsyslog" \
        >"$RES/peer-rsyslog-$r.json" 2>"$WORK/logs/peer-rsyslog-$r.log" || rc=$?
      if [ "$rc" != 0 ]; then
        peer_unavailable rsyslog "$WORK/logs/peer-rsyslog-$r.log" >"$RES/peer-rsyslog-$r.json"
        # 3 = not installed / cannot install, 4 = config refused: later rounds would say the same.
        case "$rc" in 3|4) rsyslog_usable=0 ;; esac
      fi
      say "   round $r rsyslog: $(head -c 200 "$RES/peer-rsyslog-$r.json")"
    fi
    rm -rf "$WORK/peer-rsyslog"
    rc=0
    peer_context orgtrail "$r"
    "$ROOT/bench/harness/orgtrail_peer.sh" --file "$input" --events "$PEER_EVENTS" --work "$WORK/peer-orgtrail" \
      --build-dir "$BUILD_DIR" >"$RES/peer-orgtrail-$r.json" 2>"$WORK/logs/peer-orgtrail-$r.log" || rc=$?
    [ "$rc" = 0 ] || peer_unavailable orgtrail "$WORK/logs/peer-orgtrail-$r.log" >"$RES/peer-orgtrail-$r.json"
    say "   round $r orgtrail: $(head -c 200 "$RES/peer-orgtrail-$r.json")"
    cp "$WORK/peer-orgtrail/agent.log" "$RES/peer-orgtrail-agent-$r.log" 2>/dev/null || true
    rm -rf "$WORK/peer-orgtrail"
  done
  rm -rf "$WORK/peer-input"
}
