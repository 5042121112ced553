#!/usr/bin/env bash
# Builds the Debian package from a release binary, installs it with dpkg -i, and runs what it installed as an
# operator would (without systemd, which CI does not run): `ssekeeper check` and `ssekeeper run` on
# /etc/ssekeeper/proxy.conf in front of a small Python SSE backend on the config's upstream address, events
# fetched with curl through it, its /metrics scrape validated by `promtool check metrics`, the logrotate snippet
# and the Prometheus examples checked, SIGTERM, `man -w ssekeeper`; then dpkg -r and dpkg -P, and every
# installed file must be gone. Needs root, curl, python3, promtool, man (man-db) and logrotate.
#
# usage: .ci/deb-smoke.sh [RELEASE_BINARY]   (default: build it with swift build -c release --static-swift-stdlib)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in dpkg curl python3 promtool man logrotate; do
    command -v "$tool" >/dev/null || { echo "FAIL: deb smoke test needs $tool"; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "FAIL: deb smoke test needs root (dpkg -i)"; exit 1; }
if dpkg-query -W -f='${Status}' ssekeeper 2>/dev/null | grep -q 'installed'; then
    echo "FAIL: a ssekeeper package is already installed; remove it (dpkg -P ssekeeper) first"
    exit 1
fi

deb=$(bash deploy/build-deb.sh ${1:+--binary "$1"} --out .build/deb | tail -n1)
echo "built $deb"
dpkg-deb --info "$deb" | grep -E '^ (Package|Version|Architecture|Depends):'

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    dpkg -P ssekeeper >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

dpkg -i "$deb"
conf=/etc/ssekeeper/proxy.conf
for file in /usr/bin/ssekeeper "$conf" /etc/logrotate.d/ssekeeper /lib/systemd/system/ssekeeper.service \
        /usr/share/man/man8/ssekeeper.8.gz /usr/share/doc/ssekeeper/copyright; do
    [[ -e $file ]] || { echo "FAIL: $file not installed"; exit 1; }
done
dpkg-query -W -f='${Conffiles}\n' ssekeeper | grep -q "$conf" || { echo "FAIL: $conf is not a conffile"; exit 1; }
grep -q '^ExecStart=/usr/bin/ssekeeper run -c /etc/ssekeeper/proxy.conf$' /lib/systemd/system/ssekeeper.service ||
    { echo "FAIL: the installed unit does not run /usr/bin/ssekeeper"; exit 1; }
/usr/bin/ssekeeper version
[[ $(/usr/bin/ssekeeper check -c "$conf") == "$conf: ok" ]] || { echo "FAIL: ssekeeper check -c $conf"; exit 1; }

# The addresses come from the installed config, so the test runs what an operator gets.
address_of() { awk -v d="$1" '$1 == d { sub(/;$/, "", $2); print $2; exit }' "$conf"; }
listen=$(address_of listen)
admin=$(address_of admin_listen)
upstream=$(address_of server)
echo "installed config: listen $listen, admin_listen $admin, upstream server $upstream"
for address in "$listen" "$admin" "$upstream"; do
    if python3 -c 'import socket,sys; h,p=sys.argv[1].rsplit(":",1); s=socket.socket(); s.connect((h,int(p)))' "$address" 2>/dev/null; then
        echo "FAIL: $address is already in use on this machine; the installed config needs it"
        exit 1
    fi
done

# The backend: three events with ids, a pause, a fourth, then the end of the response (chunked).
cat >"$work/backend.py" <<'EOF'
import http.server, sys, time
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        def chunk(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        for i in range(1, 4):
            chunk(b"id: %d\nevent: tick\ndata: event %d\n\n" % (i, i))
        time.sleep(0.5)
        chunk(b"id: 4\nevent: tick\ndata: last\n\n")
        self.wfile.write(b"0\r\n\r\n")
    def log_message(self, *args):
        pass
host, port = sys.argv[1].rsplit(":", 1)
server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
print("listening", flush=True)
server.serve_forever()
EOF
python3 "$work/backend.py" "$upstream" >"$work/backend.log" 2>&1 &
pids+=($!)
/usr/bin/ssekeeper run -c "$conf" >"$work/ssekeeper.log" 2>&1 &
proxy=$!
pids+=($proxy)
for _ in $(seq 100); do
    grep -q listening "$work/backend.log" && grep -q listening "$work/ssekeeper.log" && break
    sleep 0.1
done

out=$(curl -sN --max-time 10 -H 'Accept: text/event-stream' "http://$listen/events")
echo "$out"
[[ $(grep -c '^event: tick$' <<<"$out") == 4 ]] || { echo "FAIL: not 4 events through the installed proxy"; cat "$work/ssekeeper.log"; exit 1; }
grep -q '^data: last$' <<<"$out" || { echo "FAIL: the last event is missing"; exit 1; }

curl -sf "http://$admin/metrics" >"$work/metrics.txt" || { echo "FAIL: no /metrics on $admin"; exit 1; }
grep -q '^ssekeeper_requests_total{route="/",code="2xx"} [1-9]' "$work/metrics.txt" ||
    { echo "FAIL: the scrape does not count the request"; grep requests_total "$work/metrics.txt"; exit 1; }
grep -q '^ssekeeper_stream_duration_seconds_count{route="/"} [1-9]' "$work/metrics.txt" ||
    { echo "FAIL: the scrape has no finished stream"; exit 1; }
promtool check metrics <"$work/metrics.txt" || { echo "FAIL: promtool check metrics (above)"; exit 1; }
echo "promtool check metrics: ok ($(grep -c '^ssekeeper_' "$work/metrics.txt") samples)"
promtool check config deploy/prometheus/prometheus.yml
[[ $(curl -s "http://$admin/healthz") == ok* ]] || { echo "FAIL: /healthz"; exit 1; }

# Read the whole output first: with pipefail, `grep -q` leaving early could kill logrotate with SIGPIPE and fail
# the pipeline although the line was there (it did, in CI).
rotation=$(logrotate --debug /etc/logrotate.d/ssekeeper 2>&1 || true)
grep -q 'rotating pattern: /var/log/ssekeeper/\*.log' <<<"$rotation" ||
    { echo "FAIL: logrotate does not read /etc/logrotate.d/ssekeeper"; echo "$rotation"; exit 1; }
kill -USR1 "$proxy"
for _ in $(seq 50); do grep -q 'SIGUSR1' "$work/ssekeeper.log" && break; sleep 0.1; done
grep -q 'SIGUSR1: no access_log file to reopen' "$work/ssekeeper.log" || { echo "FAIL: SIGUSR1 not handled"; exit 1; }

kill -TERM "$proxy"
wait "$proxy" || { echo "FAIL: the installed proxy did not exit 0 on SIGTERM"; cat "$work/ssekeeper.log"; exit 1; }
echo "installed proxy exited 0 on SIGTERM"

[[ $(man -w ssekeeper) == /usr/share/man/man8/ssekeeper.8.gz ]] || { echo "FAIL: man -w ssekeeper: $(man -w ssekeeper)"; exit 1; }
man ssekeeper 2>/dev/null | grep -q 'SIGUSR1' || { echo "FAIL: man ssekeeper does not render"; exit 1; }

dpkg -r ssekeeper
for file in /usr/bin/ssekeeper /lib/systemd/system/ssekeeper.service /usr/share/man/man8/ssekeeper.8.gz; do
    [[ ! -e $file ]] || { echo "FAIL: $file left after dpkg -r"; exit 1; }
done
[[ -e $conf ]] || { echo "FAIL: dpkg -r removed the conffile $conf (only purge may)"; exit 1; }
dpkg -P ssekeeper
for path in "$conf" /etc/ssekeeper /etc/logrotate.d/ssekeeper /usr/share/doc/ssekeeper /var/log/ssekeeper; do
    [[ ! -e $path ]] || { echo "FAIL: $path left after dpkg -P"; exit 1; }
done
if dpkg-query -W ssekeeper >/dev/null 2>&1; then echo "FAIL: dpkg still knows ssekeeper after purge"; exit 1; fi
echo "deb smoke test: ok"
