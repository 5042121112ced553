"""Processes for Benchmarks/ridethrough/run.py: ssekeeper with two routes and its admin endpoint, the asyncio
backend (backend.py), /proc readings, /metrics scrapes, and an incremental reader of one SSE response."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import compare  # noqa: E402  (Benchmarks/compare.py: free_port, wait_listening, terminate, the load tool)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "compare"))
import tlsload  # noqa: E402  (Benchmarks/compare/tlsload.py: proc_cpu_s, the process CPU-time clock)

RT_ROUTE, PLAIN_ROUTE = "/rt/", "/plain/"
WINDOW = "60s"
METRIC_LINE = re.compile(r'^(\w+)(?:\{route="([^"]*)"\})? (\S+)$')  # per-route samples, and unlabelled ones


class Broken(Exception):
    """A run that did not do what it should (a stream that did not open, a replay that was wrong)."""


def cpu_seconds(pid):
    """The CPU the process has used so far, to the nanosecond (its CPU-time clock; /proc/PID/stat's utime+stime
    come in 10 ms steps)."""
    seconds = tlsload.proc_cpu_s([pid])
    if seconds < 0:
        raise Broken("process %d is gone" % pid)
    return seconds


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Broken("no VmRSS for %d" % pid)


class Backend:
    """backend.py in its own process, so its work never lands on the timed client's thread."""

    def __init__(self, port=0):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "backend.py"), "--port", str(port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stop(self):
        self.proc.stdin.close()
        self.proc.kill()
        self.proc.wait()


class Proxy:
    """ssekeeper with `route /rt/` (client_resume_window) and `route /plain/` (none), or one `route /` with or
    without the window (for the load tool, which asks for /s/N), an admin endpoint, no access log, no heartbeats."""

    def __init__(self, binary, backend_port, single_route=None, loops=1):
        self.dir = tempfile.mkdtemp(prefix="ridethrough-")
        self.port, self.admin = compare.free_port(), compare.free_port()
        if single_route is None:
            routes = ("route %s { upstream backend; client_resume_window %s; }\nroute %s { upstream backend; }\n"
                      % (RT_ROUTE, WINDOW, PLAIN_ROUTE))
        else:
            window = " client_resume_window %s;" % WINDOW if single_route == "rt" else ""
            routes = "route / { upstream backend;%s }\n" % window
        conf = os.path.join(self.dir, "bench.conf")
        with open(conf, "w") as f:
            # event_loops 1 unless asked: its CPU figures (docs/BENCHMARKS.md) are one-loop figures, like
            # compare.py's default
            f.write("listen 127.0.0.1:%d;\nadmin_listen 127.0.0.1:%d;\nevent_loops %d;\nmax_connections 20000;\n"
                    "access_log off;\n"
                    "idle_timeout 1h;\nupstream backend { server 127.0.0.1:%d; }\n%s"
                    % (self.port, self.admin, loops, backend_port, routes))
        self.log_path = os.path.join(self.dir, "ssekeeper.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, "run", "-c", conf], stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        compare.wait_listening(self.port, self.proc, "ssekeeper")
        compare.wait_listening(self.admin, self.proc, "ssekeeper's admin endpoint")

    @property
    def pid(self):
        return self.proc.pid

    def metrics(self):
        """{(name, route): value} for every per-route sample of GET /metrics, and {(name, None): value} for every
        unlabelled one (the process's)."""
        with socket.create_connection(("127.0.0.1", self.admin), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            raw = b""
            while chunk := s.recv(65536):
                raw += chunk
        samples = {}
        for line in raw.split(b"\r\n\r\n", 1)[1].decode().splitlines():
            m = METRIC_LINE.match(line)
            if m:
                samples[(m.group(1), m.group(2))] = float(m.group(3))
        return samples

    def metric(self, name, route=RT_ROUTE):
        """`ssekeeper_<name>{route=...}`, or the unlabelled sample when route is None."""
        return self.metrics().get(("ssekeeper_" + name, route), 0.0)

    def wait_metric(self, name, predicate, timeout, route=RT_ROUTE):
        """Polls /metrics until predicate(value) holds; returns the value, or raises Broken after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.metric(name, route)
            if predicate(value):
                return value
            if time.monotonic() > deadline:
                raise Broken("%s{route=%s} is %g after %g s" % (name, route, value, timeout))
            time.sleep(0.002)

    def stop(self):
        """Stops the proxy; returns its log lines that are not `info`."""
        info = {}
        compare.terminate(self.proc, info)
        self.log.close()
        with open(self.log_path, "rb") as f:
            notable = [line.decode("utf-8", "replace").rstrip() for line in f if b" info " not in line]
        shutil.rmtree(self.dir, ignore_errors=True)
        return notable


class SSEReader:
    """Reads one HTTP/1.1 SSE response fed in pieces: the head, then a chunked or close-delimited body cut into
    events at blank lines. `events` holds each event's `id:` value (None for an event without one)."""

    def __init__(self):
        self.buffer = b""
        self.head = None
        self.chunked = False
        self.chunk_left = 0
        self.text = b""
        self.body_bytes = 0
        self.events = []
        self.finished = False  # the chunked body's last chunk arrived

    def feed(self, data):
        self.buffer += data
        if self.head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            if not self.head.startswith(b"HTTP/1.1 200"):
                raise Broken("response %r" % self.head[:60])
            self.chunked = b"transfer-encoding: chunked" in self.head.lower()
        if not self.chunked:
            self.text += self.buffer
            self.body_bytes += len(self.buffer)
            self.buffer = b""
        while self.chunked and self.buffer:
            if self.chunk_left == 0:
                line_end = self.buffer.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self.buffer[:line_end].split(b";")[0], 16)
                if size == 0:
                    self.buffer, self.finished = b"", True
                    break
                self.chunk_left, self.buffer = size + 2, self.buffer[line_end + 2:]  # the data and its CRLF
            take = self.buffer[:self.chunk_left]
            data = take[:max(0, self.chunk_left - 2)]  # not the CRLF after the data
            self.buffer, self.chunk_left = self.buffer[len(take):], self.chunk_left - len(take)
            self.text += data
            self.body_bytes += len(data)
        while (end := self.text.find(b"\n\n")) >= 0:
            block, self.text = self.text[:end], self.text[end + 2:]
            lines = block.split(b"\n")
            if all(line.startswith(b":") for line in lines):
                continue  # a comment (heartbeat), not an event
            ids = [line[4:].decode() for line in lines if line.startswith(b"id: ")]
            self.events.append(ids[-1] if ids else None)
