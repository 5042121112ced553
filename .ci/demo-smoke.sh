#!/usr/bin/env bash
# Starts `ssekeeper demo` on a free port, reads the stream with curl -N for 7 s, and checks that the first
# event arrived and that a heartbeat comment came in the silence after it (demo: one every 4.95 s).
# usage: .ci/demo-smoke.sh BINARY [LABEL]   (LABEL names the check in the last line; default "demo smoke test")
set -euo pipefail
binary=$1
label=${2:-demo smoke test}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp)
"$binary" demo --listen "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
    grep -q "listening" "$log" && break
    sleep 0.1
done
out=$(curl -sN --max-time 7 "http://127.0.0.1:$port/events" || true)
echo "$out"
echo "$out" | grep -q '^event: tick' || { echo "FAIL: no event from the demo"; cat "$log"; exit 1; }
echo "$out" | grep -q '^: heartbeat' || { echo "FAIL: no heartbeat in 7 s of silence"; cat "$log"; exit 1; }
kill -TERM $pid
wait $pid && echo "demo exited 0 on SIGTERM" || { echo "FAIL: demo did not exit 0 on SIGTERM"; exit 1; }
trap - EXIT
rm -f "$log"
echo "$label: ok"
