#!/usr/bin/env python3
"""A client rides through a backend restart behind ssekeeper with `upstream_resume on`.

Starts Tests/SSEKeeperIOTests/Fixtures/sse_backend.py (an event every --interval-ms, honouring Last-Event-ID
unless --ignore-last-event-id), ssekeeper in front of it, and one SSE client. After --before seconds the backend
is killed with SIGKILL and started again on the same port --down seconds later. Prints what the client saw: the
longest time without an event, the events lost and duplicated, heartbeats during the outage, and ssekeeper's log
lines about the resume.

  swift build && python3 Benchmarks/resume/ride_through_restart.py [--binary .build/debug/ssekeeper]
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKEND = os.path.join(ROOT, "Tests/SSEKeeperIOTests/Fixtures/sse_backend.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_backend(port: int, extra):
    proc = subprocess.Popen([sys.executable, BACKEND, "--port", str(port)] + extra,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    return proc, int(line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/ssekeeper"))
    parser.add_argument("--interval-ms", type=int, default=100)
    parser.add_argument("--before", type=float, default=3.0)
    parser.add_argument("--down", type=float, default=1.0)
    parser.add_argument("--after", type=float, default=3.0)
    parser.add_argument("--ignore-last-event-id", action="store_true")
    args = parser.parse_args()
    extra = ["--interval-ms", str(args.interval_ms)] + (["--ignore-last-event-id"] if args.ignore_last_event_id else [])

    backend, backend_port = start_backend(0, extra)
    proxy_port = free_port()
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write(f"""listen 127.0.0.1:{proxy_port};
idle_timeout 3s;            # a heartbeat after 1s of silence
upstream_resume on;         # resume_window 30s and resume_backoff 100ms..5s are the defaults
upstream backend {{ server 127.0.0.1:{backend_port}; }}
route / {{ upstream backend; }}
""")
    conf.close()
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    proxy = subprocess.Popen([args.binary, "run", "-c", conf.name], stderr=log, stdout=log)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", proxy_port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)

    client = socket.create_connection(("127.0.0.1", proxy_port))
    client.sendall(b"GET /events HTTP/1.1\r\nHost: demo\r\nAccept: text/event-stream\r\n\r\n")
    client.settimeout(0.05)
    start = time.monotonic()
    raw = b""
    killed_at = restarted_at = None
    while time.monotonic() - start < args.before + args.down + args.after:
        now = time.monotonic() - start
        if killed_at is None and now >= args.before:
            backend.send_signal(signal.SIGKILL)
            backend.wait()
            killed_at = now
        if killed_at is not None and restarted_at is None and now >= killed_at + args.down:
            backend, _ = start_backend(backend_port, extra)
            restarted_at = time.monotonic() - start
        try:
            data = client.recv(65536)
            if not data:
                break
            raw += b"".join(b"\x00%f\x00" % (time.monotonic() - start) for _ in [0]) + data
        except socket.timeout:
            pass
    client.close()

    # Parse: chunked framing removed by scanning lines; timestamps were inserted before each read.
    events, comments = [], []
    stamp = 0.0
    body = raw.split(b"\r\n\r\n", 1)[1]
    text_lines = []
    for piece in body.split(b"\x00"):
        try:
            stamp = float(piece)
            continue
        except ValueError:
            pass
        for line in piece.split(b"\n"):
            text_lines.append((stamp, line.rstrip(b"\r")))
    for stamp, line in text_lines:
        if line.startswith(b"id: "):
            events.append((stamp, int(line[4:])))
        elif line.startswith(b": "):
            comments.append(stamp)
    ids = [i for _, i in events]
    gaps = [(events[k + 1][0] - events[k][0], k) for k in range(len(events) - 1)]
    longest, at = max(gaps)
    expected = list(range(ids[0], ids[0] + len(ids)))
    lost = len(set(range(1, max(ids) + 1)) - set(ids))
    duplicated = len(ids) - len(set(ids))
    print(f"backend killed at {killed_at:.3f}s, restarted at {restarted_at:.3f}s (down {restarted_at - killed_at:.3f}s)")
    print(f"client: {len(ids)} events, ids {ids[0]}..{ids[-1]}, in order without gaps: {ids == expected}")
    print(f"longest time without an event: {longest:.3f}s (between id {events[at][1]} and id {events[at + 1][1]}); "
          f"normal spacing {args.interval_ms / 1000:.3f}s")
    print(f"events lost: {lost}, duplicated: {duplicated}, heartbeats during the gap: "
          f"{sum(1 for c in comments if events[at][0] < c < events[at + 1][0])}")
    proxy.send_signal(signal.SIGTERM)
    proxy.wait(timeout=15)
    backend.send_signal(signal.SIGKILL)
    backend.wait()
    log.seek(0)
    for line in log.read().splitlines():
        if "resum" in line:
            print("log:", line)
    os.unlink(conf.name)
    os.unlink(log.name)


if __name__ == "__main__":
    main()
