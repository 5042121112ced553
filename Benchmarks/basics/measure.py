#!/usr/bin/env python3
"""Measures three basic figures of the ssekeeper release binary on this machine.

1. Added event latency. A Python SSE upstream (HTTP/1.1, text/event-stream, chunked) feeds N client
   streams (--streams, default 200), one event per stream every 100 ms for D seconds (--duration,
   default 10). Every event carries the upstream's send time (time.monotonic_ns(), taken just before
   send()) in its data line. The workload runs twice in the same invocation, first direct
   (client -> upstream), then through ssekeeper (client -> ssekeeper -> upstream); the table shows
   p50/p99/p99.9/max of (arrival - send) for each and the difference of each percentile ("added";
   percentiles are nearest-rank, and the "added max" is the difference of two single samples, i.e.
   noise: it can even be negative).
   Sends are spread evenly over the 100 ms period (N x 10 events/s, one every 100/N ms), so the
   figure is not a burst-queueing artefact of the load tool.

2. Heartbeat timing error. S silent streams (--silent-streams, default 500) through ssekeeper with
   idle_timeout 3s; heartbeat_fraction 0.33 (a heartbeat after 990 ms of silence), for D seconds.
   For every ": heartbeat" comment received: (gap since the previous byte on that stream) - 990 ms;
   negative means early. The streams are opened evenly spread over one interval so that their
   heartbeats do not all fall due in the same millisecond (which would measure the client's own
   queueing, not the proxy's timer).

3. Teardown time. K streams (--teardowns, default 200) each receive one event; then the client
   closes them one at a time, alternately with FIN (plain close) and RST (SO_LINGER 0). The
   upstream records when its recv() on that stream's connection returns EOF or an error. The table
   shows p50/p99/max of (upstream sees the close) - (client called close), for FIN and RST, direct
   and through ssekeeper. A close not seen within 2 s is a failure.

Two arrival clocks. Figures 1 and 2 are given for two definitions of "arrival":
  - app recv(): time.monotonic_ns() right after the client's recvmsg() returned, i.e. what an
    application sees, including the wake-up of this Python process;
  - kernel rx: the kernel's receive timestamp of the bytes (SO_TIMESTAMPNS, moved from
    CLOCK_REALTIME to CLOCK_MONOTONIC). On loopback it is taken inside the sender's send(), so it
    leaves out the client's own wake-up and scheduling noise: for the "ssekeeper" rows it is the
    moment ssekeeper wrote the bytes. Use it to judge the proxy; use app recv() for end-to-end.

How: everything on the Python side (upstream server and all clients) runs in ONE thread around one
selectors (epoll) loop, so there is no GIL hand-off between "upstream" and "client". The tool
reports its own CPU use (and ssekeeper's, from /proc/PID/stat) so you can see it was not the
bottleneck; "send lag" is how late the tool sent events against their schedule (Python's epoll
waits have a 1 ms granularity, and wake-ups on a busy or virtual machine can be late by a few ms).
The send timestamp is taken at the actual send, so send lag does not distort the latency figures.
Python's cyclic GC is paused during the timed phases.

ssekeeper runs as a subprocess (`ssekeeper run -c <temp config>`) listening on a free 127.0.0.1
port, with its access log (stderr) in a temp file; it gets SIGTERM at the end. No traffic leaves
127.0.0.1.

Usage (from the repository root):
    python3 Benchmarks/basics/measure.py                 # full run, about 35 s
    python3 Benchmarks/basics/measure.py --quick         # smoke test, < 20 s
    python3 Benchmarks/basics/measure.py --build --json /tmp/measure.json

Exit status: 0 when every phase worked, 1 when something is clearly broken (no events, lost events,
a stream that never got its response head, no heartbeats, a close not seen within 2 s, ssekeeper
died), 2 for setup errors (no binary, failed build, proxy does not start).
"""

import argparse
import gc
import json
import os
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_BINARY = os.path.join(REPO_ROOT, ".build", "release", "ssekeeper")

EVENT_PERIOD_NS = 100_000_000  # one event per stream every 100 ms
IDLE_TIMEOUT_S = 3
HEARTBEAT_FRACTION = 0.33
HEARTBEAT_INTERVAL_NS = round(IDLE_TIMEOUT_S * HEARTBEAT_FRACTION * 1e9)  # 990 ms
TEARDOWN_TIMEOUT_NS = 2_000_000_000  # a close not seen by the upstream within this is a failure
SETUP_TIMEOUT_S = 10.0  # streams must be established within this

# The stream id travels in the query string so the upstream can tell which client a connection
# belongs to even through the proxy (the route `/` matches it like `/events`).
REQUEST = b"GET /events?stream=%d HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
RESPONSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")

# event_loops 1: the figures in docs/BENCHMARKS.md were taken with one loop (the default is one per CPU), and a
# per-stream cost is a one-loop figure
CONFIG = """listen 127.0.0.1:{port};
event_loops 1;
idle_timeout {idle}s;
heartbeat_fraction {fraction};
max_connections 20000;
upstream up {{ server 127.0.0.1:{upstream_port}; }}
route / {{ upstream up; }}
"""


class Broken(Exception):
    """Something is clearly wrong (with the proxy, or the setup): the figure cannot be trusted."""


def event_chunk(data):
    """One SSE event (`data: <data>`) as one HTTP chunk."""
    body = b"data: " + data + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(body), body)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list (p in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[min(len(sorted_values), int(rank)) - 1]


def summary_ms(values_ns, points=(50, 99, 99.9, 100)):
    """{'p50': ms, ..., 'max': ms, 'n': count} of a list of nanosecond values."""
    ordered = sorted(values_ns)
    out = {"n": len(ordered)}
    for p in points:
        key = "max" if p == 100 else "p%g" % p
        value = percentile(ordered, p)
        out[key] = None if value is None else value / 1e6
    if ordered:
        out["min"] = ordered[0] / 1e6
    return out


# SO_TIMESTAMPNS (Linux: 35, not exported by Python's socket module): recvmsg() then carries the
# kernel's receive time of the data as a struct timespec on CLOCK_REALTIME.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TIMESTAMP_CMSG_SPACE = socket.CMSG_SPACE(16)


def realtime_minus_monotonic():
    """CLOCK_REALTIME - CLOCK_MONOTONIC in ns, from the tightest of 200 bracketed readings (~1 us)."""
    best = None
    for _ in range(200):
        before = time.monotonic_ns()
        real = time.time_ns()
        after = time.monotonic_ns()
        if best is None or after - before < best[0]:
            best = (after - before, real - (before + after) // 2)
    return best[1]


CLOCK_OFFSET_NS = realtime_minus_monotonic()


def kernel_receive_time(ancillary, fallback_ns):
    """The SO_TIMESTAMPNS of a recvmsg() on the monotonic clock (fallback_ns if there is none)."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanos = struct.unpack("qq", data[:16])
            return seconds * 1_000_000_000 + nanos - CLOCK_OFFSET_NS
    return fallback_ns


# ---------------------------------------------------------------------------------------------
# The event loop: one selector, every socket's handler object has a `readable()` method.
# ---------------------------------------------------------------------------------------------

class Loop:
    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self._next_id = 0

    def new_ids(self, count):
        """Fresh stream ids, never reused within a run (so phases cannot mix up connections)."""
        first = self._next_id
        self._next_id += count
        return list(range(first, first + count))

    def register(self, sock, handler):
        self.selector.register(sock, selectors.EVENT_READ, handler)

    def unregister(self, sock):
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass

    def poll(self, timeout):
        """Waits up to `timeout` seconds (0: just look) and runs the handlers of ready sockets."""
        for key, _ in self.selector.select(max(0.0, timeout)):
            handler = key.data
            if not handler.closed:
                handler.readable()

    def run_until(self, done, timeout_s, step_s=0.05):
        """Polls until done() is true (True) or `timeout_s` passed (False)."""
        deadline = time.monotonic() + timeout_s
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.poll(min(left, step_s))
        return True

    def run_for(self, seconds):
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.poll(left)


# ---------------------------------------------------------------------------------------------
# The upstream: an SSE origin that answers each request with an event-stream head and then sends
# only what the measuring code tells it to.
# ---------------------------------------------------------------------------------------------

class Upstream:
    def __init__(self, loop):
        self.loop = loop
        self.closed = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.conns = {}          # stream id -> UpstreamConnection (once its request arrived)
        self.greeting = b""      # body bytes sent right after the head (the teardown phase sets one event)
        self.failed_writes = 0   # sends the kernel did not take whole (never expected on loopback)
        loop.register(self.sock, self)

    def readable(self):
        while True:
            try:
                sock, _ = self.sock.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            UpstreamConnection(self, sock)

    def close(self):
        for conn in list(self.conns.values()):
            conn.close()
        self.closed = True
        self.loop.unregister(self.sock)
        self.sock.close()

    def forget(self, ids):
        """Closes and drops the connections of `ids` (end of a phase)."""
        for stream_id in ids:
            conn = self.conns.pop(stream_id, None)
            if conn:
                conn.close()


class UpstreamConnection:
    def __init__(self, upstream, sock):
        self.upstream = upstream
        self.sock = sock
        self.closed = False
        self.request = b""
        self.stream_id = None
        self.close_seen_ns = None  # monotonic ns when recv() returned EOF or an error
        upstream.loop.register(sock, self)

    def readable(self):
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # a reset (ECONNRESET) counts as "saw the close" just like EOF
        if not data:
            self.close_seen_ns = time.monotonic_ns()
            self.close()
            return
        if self.stream_id is not None:
            return  # nothing is expected after the request; ignore it
        self.request += data
        if b"\r\n\r\n" not in self.request:
            return
        target = self.request.split(b"\r\n", 1)[0].split(b" ")[1]
        self.stream_id = int(target.rsplit(b"stream=", 1)[1].split(b"&")[0])
        self.upstream.conns[self.stream_id] = self
        self.send(RESPONSE_HEAD + self.upstream.greeting)

    def send(self, data):
        try:
            sent = self.sock.send(data)
        except OSError:
            sent = -1
        if sent != len(data):
            self.upstream.failed_writes += 1

    def close(self):
        if not self.closed:
            self.closed = True
            self.upstream.loop.unregister(self.sock)
            self.sock.close()


# ---------------------------------------------------------------------------------------------
# The client: one SSE stream. Parses the response head, de-chunks the body, splits it into lines
# and reports `data:` lines and `: heartbeat` comments with the arrival time of the recv().
# ---------------------------------------------------------------------------------------------

class ChunkedBody:
    """Incremental decoder of an HTTP/1.1 chunked body: feed() raw bytes, get the payload bytes."""

    def __init__(self):
        self.buffer = b""
        self.state = "size"   # "size": expecting a size line; "data": inside a chunk; "crlf": after it
        self.left = 0

    def feed(self, data):
        self.buffer += data
        out = []
        while True:
            if self.state == "size":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    break
                size = int(self.buffer[:end].split(b";")[0], 16)
                self.buffer = self.buffer[end + 2:]
                if size == 0:
                    self.state = "done"
                    break
                self.left, self.state = size, "data"
            elif self.state == "data":
                if not self.buffer:
                    break
                piece = self.buffer[:self.left]
                self.buffer = self.buffer[len(piece):]
                out.append(piece)
                self.left -= len(piece)
                if self.left == 0:
                    self.state = "crlf"
            elif self.state == "crlf":
                if len(self.buffer) < 2:
                    break
                self.buffer = self.buffer[2:]
                self.state = "size"
            else:  # done
                break
        return b"".join(out)


class ClientStream:
    """One SSE client stream. Every arrival is stamped twice: `app` = time.monotonic_ns() right after
    recvmsg() returned (what an application sees, including this process's own wake-up), and
    `kernel` = when the kernel queued the bytes on the socket (SO_TIMESTAMPNS; on loopback that is
    inside the sender's send(), so it excludes the client's wake-up)."""

    def __init__(self, loop, port, stream_id, on_data=None, on_heartbeat=None):
        self.loop = loop
        self.stream_id = stream_id
        self.on_data = on_data            # on_data(stream, value_bytes, app_ns, kernel_ns)
        self.on_heartbeat = on_heartbeat  # on_heartbeat(stream, app_gap_ns, kernel_gap_ns): gaps since the previous byte
        self.closed = False
        self.head = b""
        self.status = None
        self.body = None
        self.lines = b""
        self.last_app_ns = None     # arrival of the last byte, both clocks
        self.last_kernel_ns = None
        self.head_ns = None
        self.events = 0
        self.heartbeats = 0
        self.error = None
        # A blocking connect is fine on loopback (the kernel completes it from the listen backlog,
        # even for our own upstream in this thread); then the socket joins the loop non-blocking.
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.sendall(REQUEST % stream_id)
        self.sock.setblocking(False)
        loop.register(self.sock, self)

    @property
    def established(self):
        return self.status == 200

    def readable(self):
        try:
            data, ancillary, _, _ = self.sock.recvmsg(65536, TIMESTAMP_CMSG_SPACE)
        except BlockingIOError:
            return
        except OSError as error:
            self.error = "recv: %s" % error
            self.close()
            return
        app = time.monotonic_ns()
        kernel = kernel_receive_time(ancillary, app)
        previous_app, previous_kernel = self.last_app_ns, self.last_kernel_ns
        self.last_app_ns, self.last_kernel_ns = app, kernel
        if not data:
            self.error = "closed by the server"
            self.close()
            return
        if self.status is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = self.head[:end], self.head[end + 4:]
            self.status = int(head.split(b" ", 2)[1])
            if self.status != 200:
                self.error = "status %d" % self.status
                self.close()
                return
            self.body = ChunkedBody() if b"transfer-encoding: chunked" in head.lower() else None
            self.head_ns = previous_app = app  # the head is the stream's first byte
            previous_kernel = kernel
        payload = self.body.feed(data) if self.body else data
        if not payload:
            return
        lines = (self.lines + payload).split(b"\n")
        self.lines = lines.pop()
        for line in lines:
            if line.startswith(b"data: "):
                self.events += 1
                if self.on_data:
                    self.on_data(self, line[6:].rstrip(b"\r"), app, kernel)
            elif line.startswith(b": heartbeat"):
                self.heartbeats += 1
                if self.on_heartbeat:
                    self.on_heartbeat(self, app - previous_app, kernel - previous_kernel)
                previous_app, previous_kernel = app, kernel  # a second one in the same read follows at once

    def drain(self):
        """Reads whatever is pending (so a plain close() sends FIN, not the RST Linux sends when
        unread data is left in the receive buffer)."""
        while not self.closed:
            try:
                if not self.sock.recv(65536):
                    return
            except (BlockingIOError, OSError):
                return

    def close(self, reset=False):
        if self.closed:
            return
        self.closed = True
        self.loop.unregister(self.sock)
        if reset:
            # SO_LINGER on with a zero timeout: close() sends RST instead of FIN.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.sock.close()


def open_streams(loop, upstream, port, ids, **handlers):
    """Opens one client stream per id and waits until each has its response head and the upstream
    has the matching connection."""
    streams = [ClientStream(loop, port, i, **handlers) for i in ids]
    ok = loop.run_until(lambda: all(s.established or s.closed for s in streams)
                        and all(i in upstream.conns for i in ids), SETUP_TIMEOUT_S)
    broken = [s for s in streams if not s.established]
    if not ok or broken:
        errors = sorted({s.error or "no response head" for s in broken}) or ["upstream never saw the request"]
        raise Broken("%d of %d streams not established within %gs: %s"
                     % (max(len(broken), 1), len(ids), SETUP_TIMEOUT_S, "; ".join(errors)))
    return streams


def close_streams(loop, upstream, streams):
    for stream in streams:
        stream.close()
    upstream.forget([s.stream_id for s in streams])
    loop.run_for(0.2)  # let the proxy finish those sessions before the next phase starts


# ---------------------------------------------------------------------------------------------
# ssekeeper as a subprocess.
# ---------------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Proxy:
    def __init__(self, binary, upstream_port, log_path):
        self.port = free_port()
        self.config = tempfile.NamedTemporaryFile("w", prefix="ssekeeper-measure-", suffix=".conf", delete=False)
        self.config.write(CONFIG.format(port=self.port, idle=IDLE_TIMEOUT_S, fraction=HEARTBEAT_FRACTION,
                                        upstream_port=upstream_port))
        self.config.close()
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen([binary, "run", "-c", self.config.name],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 10
        while True:  # wait until it accepts connections
            if self.process.poll() is not None:
                self.stop()
                raise Broken("ssekeeper exited with status %d at start (log: %s)" % (self.process.returncode, log_path))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise Broken("ssekeeper does not listen on 127.0.0.1:%d after 10 s" % self.port)
                time.sleep(0.05)

    def check_alive(self):
        if self.process.poll() is not None:
            raise Broken("ssekeeper exited with status %d during the run" % self.process.returncode)

    def cpu_seconds(self):
        """The CPU the proxy process has used so far, to the nanosecond: its CPU-time clock (Linux; the clock id is
        the kernel's MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), what clock_getcpuclockid returns). /proc/PID/stat's
        utime+stime hold the same total in 10 ms steps."""
        try:
            return time.clock_gettime_ns(((~self.process.pid) << 3) | 2) / 1e9
        except OSError:
            return None

    def stop(self):
        """SIGTERM, then the exit status (killed after 5 s if it does not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.config.name)
        return self.process.returncode


class CpuMeter:
    """CPU of this tool and of the proxy over a phase, as % of one core."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.wall = time.monotonic()
        self.own = time.process_time()
        self.proxy_cpu = proxy.cpu_seconds() if proxy else None

    def result(self):
        wall = time.monotonic() - self.wall
        out = {"tool_cpu_pct": 100 * (time.process_time() - self.own) / wall}
        if self.proxy and self.proxy_cpu is not None:
            out["proxy_cpu_pct"] = 100 * (self.proxy.cpu_seconds() - self.proxy_cpu) / wall
        return out


# ---------------------------------------------------------------------------------------------
# The three measurements.
# ---------------------------------------------------------------------------------------------

def measure_latency(loop, upstream, port, n, duration, proxy=None):
    """Phase 1 on one path (direct when proxy is None): N streams x 10 events/s for `duration` s."""
    latencies, kernel_latencies = [], []
    unexpected = {"heartbeats": 0}

    def on_data(stream, value, app_ns, kernel_ns):
        sent_ns = int(value)
        latencies.append(app_ns - sent_ns)
        kernel_latencies.append(kernel_ns - sent_ns)

    def on_heartbeat(stream, app_gap_ns, kernel_gap_ns):
        unexpected["heartbeats"] += 1

    upstream.greeting = b""
    failed_writes = upstream.failed_writes
    ids = loop.new_ids(n)
    streams = open_streams(loop, upstream, port, ids, on_data=on_data, on_heartbeat=on_heartbeat)
    conns = [upstream.conns[i] for i in ids]
    step = EVENT_PERIOD_NS // n                      # sends spread evenly over the period
    total = int(duration * 1e9 // EVENT_PERIOD_NS) * n
    send_lag = []
    gc.collect()
    gc.disable()
    cpu = CpuMeter(proxy)
    start = time.monotonic_ns() + 1_000_000
    sent = 0
    while sent < total:
        now = time.monotonic_ns()
        due = start + sent * step
        if due > now:
            loop.poll((due - now) / 1e9)
            continue
        while sent < total and start + sent * step <= now:   # everything due by now
            t = time.monotonic_ns()
            conns[sent % n].send(event_chunk(b"%d" % t))
            send_lag.append(t - (start + sent * step))
            sent += 1
        loop.poll(0)
    loop.run_until(lambda: len(latencies) >= total, 2.0)  # in-flight events
    usage = cpu.result()
    gc.enable()
    received = len(latencies)
    dead = [s for s in streams if s.closed]
    close_streams(loop, upstream, streams)
    result = {"streams": n, "events_sent": total, "events_received": received,
              "latency_ms": summary_ms(latencies), "kernel_latency_ms": summary_ms(kernel_latencies),
              "send_lag_ms": summary_ms(send_lag, (50, 99, 100)),
              "unexpected_heartbeats": unexpected["heartbeats"], **usage}
    problems = []
    if received == 0:
        problems.append("no events arrived")
    elif received < total:
        problems.append("%d of %d events lost" % (total - received, total))
    if dead:
        problems.append("%d streams closed during the run (%s)" % (len(dead), dead[0].error))
    if upstream.failed_writes > failed_writes:
        problems.append("%d upstream sends not taken whole by the kernel" % (upstream.failed_writes - failed_writes))
    if unexpected["heartbeats"]:
        problems.append("%d heartbeats on streams that had an event every 100 ms" % unexpected["heartbeats"])
    return result, problems


def measure_heartbeats(loop, upstream, port, s, duration, proxy):
    """Phase 2: S silent streams through the proxy; lateness of each heartbeat against 990 ms."""
    lateness, kernel_lateness = [], []
    data_lines = {"count": 0}

    def on_heartbeat(stream, app_gap_ns, kernel_gap_ns):
        lateness.append(app_gap_ns - HEARTBEAT_INTERVAL_NS)
        kernel_lateness.append(kernel_gap_ns - HEARTBEAT_INTERVAL_NS)

    def on_data(stream, value, app_ns, kernel_ns):
        data_lines["count"] += 1

    upstream.greeting = b""
    ids = loop.new_ids(s)
    gc.collect()
    gc.disable()
    cpu = CpuMeter(proxy)
    # Open the streams spread over one heartbeat interval, so heartbeats fall due evenly.
    spacing = HEARTBEAT_INTERVAL_NS // s
    start = time.monotonic_ns()
    streams = []
    for k, stream_id in enumerate(ids):
        while (left := start + k * spacing - time.monotonic_ns()) > 0:
            loop.poll(left / 1e9)
        streams.append(ClientStream(loop, port, stream_id, on_data=on_data, on_heartbeat=on_heartbeat))
        loop.poll(0)
    loop.run_for(duration)
    usage = cpu.result()
    gc.enable()
    not_established = [st for st in streams if not st.established]
    dead = [st for st in streams if st.closed]
    # Heartbeats a perfectly punctual proxy would have sent: one per full interval since each head.
    end = time.monotonic_ns()
    expected = sum((end - st.head_ns) // HEARTBEAT_INTERVAL_NS for st in streams if st.established)
    close_streams(loop, upstream, streams)
    result = {"streams": s, "interval_ms": HEARTBEAT_INTERVAL_NS / 1e6, "heartbeats": len(lateness),
              "heartbeats_expected_about": expected, "lateness_ms": summary_ms(lateness, (50, 99, 100)),
              "kernel_lateness_ms": summary_ms(kernel_lateness, (50, 99, 100)),
              "unexpected_data_lines": data_lines["count"], **usage}
    problems = []
    if not lateness:
        problems.append("no heartbeats arrived")
    if not_established:
        problems.append("%d of %d silent streams got no response head" % (len(not_established), s))
    if dead:
        problems.append("%d silent streams were closed during the run (%s)" % (len(dead), dead[0].error))
    if data_lines["count"]:
        problems.append("%d data lines on streams the upstream kept silent" % data_lines["count"])
    return result, problems


def measure_teardown(loop, upstream, port, k):
    """Phase 3 on one path: K streams get one event, then close one at a time, FIN and RST alternately."""
    upstream.greeting = event_chunk(b"hello")
    ids = loop.new_ids(k)
    streams = open_streams(loop, upstream, port, ids)
    if not loop.run_until(lambda: all(st.events for st in streams), SETUP_TIMEOUT_S):
        raise Broken("the first event did not reach every teardown stream")
    gc.collect()
    gc.disable()
    gaps = {"fin": [], "rst": []}
    missed = {"fin": 0, "rst": 0}
    for index, stream in enumerate(streams):
        if sum(missed.values()) >= 3:
            break  # clearly broken; waiting 2 s for every remaining stream would only take long
        kind = "fin" if index % 2 == 0 else "rst"
        conn = upstream.conns[stream.stream_id]
        stream.drain()
        closed_ns = time.monotonic_ns()
        stream.close(reset=(kind == "rst"))
        loop.run_until(lambda: conn.close_seen_ns is not None, TEARDOWN_TIMEOUT_NS / 1e9, step_s=0.01)
        if conn.close_seen_ns is None:
            missed[kind] += 1
        else:
            gaps[kind].append(conn.close_seen_ns - closed_ns)
    gc.enable()
    close_streams(loop, upstream, streams)
    result = {kind: {**summary_ms(gaps[kind], (50, 99, 100)), "missed": missed[kind]} for kind in gaps}
    problems = ["%d %s closes not seen by the upstream within 2 s" % (missed[kind], kind.upper())
                for kind in missed if missed[kind]]
    if sum(missed.values()) >= 3:
        problems.append("gave up after 3 unseen closes (%d of %d streams measured)"
                        % (sum(len(g) for g in gaps.values()), k))
    return result, problems


# ---------------------------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------------------------

def fmt(value, width=9):
    return ("%*.3f" % (width, value)) if isinstance(value, (int, float)) else "%*s" % (width, "-")


def cpu_text(row):
    return "tool %.0f%%%s" % (row["tool_cpu_pct"], ", ssekeeper %.0f%%" % row["proxy_cpu_pct"] if "proxy_cpu_pct" in row else "")


def print_report(report):
    lat = report.get("latency")
    if lat:
        direct, proxied = lat["direct"], lat["ssekeeper"]
        print("\n1. Added event latency: %d streams x 1 event/100 ms x %gs (ms, arrival - send)"
              % (direct["streams"], report["params"]["duration"]))
        for clock, key, title in (("app", "latency_ms", "arrival = app recv()"),
                                  ("kernel", "kernel_latency_ms", "arrival = kernel rx (SO_TIMESTAMPNS)")):
            print("   %-38s %9s %9s %9s %9s" % (title, "p50", "p99", "p99.9", "max"))
            for name, row in (("  direct", direct[key]), ("  ssekeeper", proxied[key]), ("  added", lat["added_ms"][clock])):
                print("   %-38s %s %s %s %s" % (name, fmt(row.get("p50")), fmt(row.get("p99")), fmt(row.get("p99.9")),
                                                fmt(row.get("max"))))
        print("   events received: direct %d/%d, ssekeeper %d/%d; CPU (%% of one core) direct: %s, via ssekeeper: %s;"
              % (direct["events_received"], direct["events_sent"], proxied["events_received"], proxied["events_sent"],
                 cpu_text(direct), cpu_text(proxied)))
        print("   tool send lag p99 %.2f / %.2f ms" % (direct["send_lag_ms"]["p99"], proxied["send_lag_ms"]["p99"]))
    hb = report.get("heartbeats")
    if hb:
        print("\n2. Heartbeat timing: %d silent streams, interval %.0f ms, %gs: %d heartbeats (%d expected)"
              % (hb["streams"], hb["interval_ms"], report["params"]["duration"], hb["heartbeats"],
                 hb["heartbeats_expected_about"]))
        print("   %-38s %9s %9s %9s %9s" % ("lateness = gap since previous byte - %.0f ms" % hb["interval_ms"],
                                          "min", "p50", "p99", "max"))
        for name, row in (("  arrival = app recv()", hb["lateness_ms"]), ("  arrival = kernel rx", hb["kernel_lateness_ms"])):
            print("   %-38s %s %s %s %s" % (name, fmt(row.get("min")), fmt(row["p50"]), fmt(row["p99"]), fmt(row["max"])))
        print("   CPU (%% of one core): %s" % cpu_text(hb))
    td = report.get("teardown")
    if td:
        print("\n3. Teardown: %d streams closed one at a time (ms, upstream recv() sees EOF/error - client close())"
              % report["params"]["teardowns"])
        print("   %-10s %5s %6s %9s %9s %9s %7s" % ("path", "close", "n", "p50", "p99", "max", "missed"))
        for path in ("direct", "ssekeeper"):
            for kind in ("fin", "rst"):
                row = td[path][kind]
                print("   %-10s %5s %6d %s %s %s %7d" % (path, kind.upper(), row["n"], fmt(row["p50"]), fmt(row["p99"]),
                                                       fmt(row["max"]), row["missed"]))


# ---------------------------------------------------------------------------------------------
# Main.
# ---------------------------------------------------------------------------------------------

def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, help="event streams for the latency test (default 200; quick 20)")
    parser.add_argument("--duration", type=float,
                        help="seconds of each latency run and of the heartbeat test (default 10; quick 3)")
    parser.add_argument("--silent-streams", type=int, help="silent streams for the heartbeat test (default 500; quick 50)")
    parser.add_argument("--teardowns", type=int, help="streams closed in the teardown test (default 200; quick 20)")
    parser.add_argument("--quick", action="store_true", help="small numbers, under 20 s: a smoke test for CI")
    parser.add_argument("--binary", default=DEFAULT_BINARY, help="ssekeeper binary (default .build/release/ssekeeper)")
    parser.add_argument("--build", action="store_true", help="run `swift build -c release` first")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON to PATH")
    parser.add_argument("--proxy-log", metavar="PATH", help="keep ssekeeper's stderr (access log) in PATH")
    args = parser.parse_args()
    quick = {"streams": 20, "duration": 3.0, "silent_streams": 50, "teardowns": 20}
    full = {"streams": 200, "duration": 10.0, "silent_streams": 500, "teardowns": 200}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.streams, args.silent_streams, args.teardowns) < 1 or args.duration <= 0:
        parser.error("counts must be >= 1 and --duration > 0")
    return args


def die(message):
    """A setup error (exit status 2), as opposed to a measurement that found something broken (1)."""
    print("measure: " + message, file=sys.stderr)
    sys.exit(2)


def prepare_binary(args):
    if args.build:
        print("building: swift build -c release", file=sys.stderr, flush=True)
        if subprocess.run(["swift", "build", "-c", "release"], cwd=REPO_ROOT).returncode != 0:
            die("swift build -c release failed")
    if not os.access(args.binary, os.X_OK):
        die("no ssekeeper binary at %s (pass --build, or --binary PATH)" % args.binary)
    if os.path.abspath(args.binary) == DEFAULT_BINARY and not args.build:  # after --build, swift build decided
        built = os.path.getmtime(args.binary)
        sources = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(REPO_ROOT, "Sources")) for f in fs]
        newest = max(os.path.getmtime(path) for path in sources + [os.path.join(REPO_ROOT, "Package.swift")])
        if newest > built:
            print("measure: warning: %s is older than Sources/ or Package.swift (pass --build to rebuild)"
                  % args.binary, file=sys.stderr)


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main():
    args = parse_arguments()
    prepare_binary(args)
    fd_limit = raise_fd_limit()  # the proxy inherits it as well
    needed = 2 * max(args.streams, args.silent_streams, args.teardowns) + 64
    if fd_limit < needed:
        die("RLIMIT_NOFILE %d is too low for these counts (need about %d)" % (fd_limit, needed))

    loop = Loop()
    upstream = Upstream(loop)
    if args.proxy_log:
        log_path = args.proxy_log
    else:
        with tempfile.NamedTemporaryFile(prefix="ssekeeper-measure-", suffix=".log", delete=False) as log:
            log_path = log.name
    try:
        proxy = Proxy(args.binary, upstream.port, log_path)
    except Broken as error:
        die(str(error))

    report = {"params": {"streams": args.streams, "duration": args.duration, "silent_streams": args.silent_streams,
                         "teardowns": args.teardowns, "binary": os.path.abspath(args.binary),
                         "binary_mtime": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(os.path.getmtime(args.binary))),
                         "cpus": os.cpu_count(), "python": sys.version.split()[0], "fd_limit": fd_limit,
                         "load_average_at_start": os.getloadavg()[0]}}
    problems = []
    print("ssekeeper %s on 127.0.0.1:%d, upstream on 127.0.0.1:%d, %d CPUs, load average %.2f" % (
        args.binary, proxy.port, upstream.port, os.cpu_count(), os.getloadavg()[0]), flush=True)

    def phase(name, function):
        print("... %s" % name, file=sys.stderr, flush=True)
        try:
            result, found = function()
        except (Broken, OSError) as error:
            result, found = None, [str(error)]
        problems.extend("%s: %s" % (name, p) for p in found)
        proxy.check_alive()
        return result

    try:
        direct = phase("latency direct", lambda: measure_latency(loop, upstream, upstream.port, args.streams, args.duration))
        proxied = phase("latency ssekeeper",
                        lambda: measure_latency(loop, upstream, proxy.port, args.streams, args.duration, proxy))
        if direct and proxied:
            # "added" is the difference of each percentile (not a percentile of differences).
            report["latency"] = {"direct": direct, "ssekeeper": proxied, "added_ms": {
                clock: {key: proxied[field][key] - direct[field][key] for key in ("p50", "p99", "p99.9", "max")}
                for clock, field in (("app", "latency_ms"), ("kernel", "kernel_latency_ms"))}}
        report["heartbeats"] = phase("heartbeats ssekeeper", lambda: measure_heartbeats(
            loop, upstream, proxy.port, args.silent_streams, args.duration, proxy))
        td_direct = phase("teardown direct", lambda: measure_teardown(loop, upstream, upstream.port, args.teardowns))
        td_proxied = phase("teardown ssekeeper", lambda: measure_teardown(loop, upstream, proxy.port, args.teardowns))
        if td_direct and td_proxied:
            report["teardown"] = {"direct": td_direct, "ssekeeper": td_proxied}
    except Broken as error:
        problems.append(str(error))
    finally:
        status = proxy.stop()
        upstream.close()
    report["proxy_exit_status"] = status
    report["load_average_at_end"] = os.getloadavg()[0]  # other work on the machine skews the tails
    # The kernel-rx clock relies on CLOCK_REALTIME - CLOCK_MONOTONIC staying put during the run.
    report["clock_offset_drift_us"] = (realtime_minus_monotonic() - CLOCK_OFFSET_NS) / 1e3
    if abs(report["clock_offset_drift_us"]) > 100:
        print("measure: warning: the realtime clock moved by %.0f us against the monotonic one during the run; "
              "kernel-rx figures are off by up to that much" % report["clock_offset_drift_us"], file=sys.stderr)
    if status != 0:
        problems.append("ssekeeper exited with status %s on SIGTERM" % status)
    with open(log_path, "rb") as log:
        lines = log.read().decode("utf-8", "replace").splitlines()
    report["proxy_log"] = {"access_lines": sum(" access " in l for l in lines),
                           "warn_lines": sum(" warn " in l for l in lines),
                           "error_lines": sum(" error " in l for l in lines)}
    if not args.proxy_log:
        os.unlink(log_path)
    report["problems"] = problems

    print_report({k: v for k, v in report.items() if v is not None})
    print("\n   ssekeeper log: %(access_lines)d access lines, %(warn_lines)d warnings, %(error_lines)d errors"
          % report["proxy_log"])
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    if problems:
        print("\nFAILED:", file=sys.stderr)
        for problem in problems:
            print("  - " + problem, file=sys.stderr)
        sys.exit(1)
    print("\nok")


if __name__ == "__main__":
    main()
