# bench/harness/lib.sh: helpers of bench/run.sh (sourced; not a program). They use the run's
# globals WORK, RES, PIDS and HTTP_PORT. Every process started with start_bg / start_sampler is
# recorded in PIDS and stopped by cleanup (the EXIT trap of run.sh); loops are bounded.

say() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
note() { printf '%s\n' "$*" >>"$RES/notes.txt"; }

cleanup() {  # EXIT trap: every process the run started, then its work folder
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
start_bg() {  # logname cmd...  -> BG_PID
  local log="$WORK/logs/$1.log"; shift
  "$@" >"$log" 2>&1 &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

stop_pid() {  # graceful, then forced
  local pid="$1" i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {  # url seconds
  local deadline=$(( $(date +%s) + $2 ))
  until curl -fsS "$1" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

metric() {  # name -> summed value from the collector's /metrics
  curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" 2>/dev/null |
    awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}

# Resource sampler: "epoch_ms rss_kb cpu_ticks io_write_bytes" every 0.5 s while the pid lives.
sample_proc() {  # pid outfile
  local pid="$1" out="$2"
  while kill -0 "$pid" 2>/dev/null; do
    local rss ticks wb
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    wb=$(awk '/^write_bytes:/ {print $2}' "/proc/$pid/io" 2>/dev/null || echo 0)
    echo "$(date +%s%3N) ${rss:-0} ${ticks:-0} ${wb:-0}" >>"$out"
    sleep 0.5
  done
}
start_sampler() {  # pid name
  sample_proc "$1" "$RES/proc-$2.txt" &
  PIDS+=("$!")
}
mark() { echo "$1 $(date +%s%3N)" >>"$RES/phases.txt"; }
