#!/usr/bin/env python3
"""tlsload: the TLS load tool of Benchmarks/compare.py --tls (issue 17). One process, one thread, one epoll loop that
plays both sides of an SSE path on 127.0.0.1, like Benchmarks/compare/loadgen.c does for cleartext:

  - the backend: listens on --backend PORT and answers `GET /s/<id>` with a chunked `200 text/event-stream`; each
    event is its own send() and carries its send time (CLOCK_MONOTONIC ns, read just before send()):
    `data: <send_ns> <seq>\\n\\n`. `GET /hello` gets a 3-byte `200 text/plain` (the handshake workload's request);
  - the clients: open streams to --target PORT over TLS (--proto h1: HTTP/1.1, one stream per connection, ALPN
    http/1.1; --proto h2: HTTP/2 with the `h2` package, --connections connections carrying the streams, ALPN h2) or
    in cleartext (--proto plain: HTTP/1.1 to the backend itself, the floor), decode the chunks or DATA frames and
    the SSE lines, and time every event.

Timing: the client reads its socket with recvmsg() and SO_TIMESTAMPNS and feeds the bytes to an ssl.SSLObject through
a MemoryBIO, so every event decrypted from a read gets that read's kernel receive time. On loopback the kernel takes
it inside the sender's send(): through a proxy it is the moment the proxy wrote the TLS record, so the figure holds
the proxy's work (decrypting nothing, encrypting the event) and leaves out this tool's own (Python, h2, decryption).
The "app" time is CLOCK_MONOTONIC read right after recvmsg() returned.

Workloads (one per run; the result is one JSON object on stdout):
  stream  --streams N --rate R --duration S: R events/s in all, round-robin over the N streams, after --warmup s;
          latency (kernel and app) of every event in the window, the proxy's CPU in the window
  memory  --streams N: after a warm-up of 50 streams opened and closed, N idle streams (head and one event each);
          proxy RSS before and after
  serve   the backend only, until SIGTERM or stdin closes (the handshake workload drives it with h2load)

Pacing: events are sent when due, each at its own time (`PreciseTimer`, a timerfd), as loadgen.c paces its own
(epoll_pwait2): epoll's timeout through Python's selectors has whole milliseconds, which sent a paced load in bursts
of every event due within a millisecond, and the proxies' wake-ups per event then depended on how a burst met their
processing.

The proxy's CPU (each process's CPU-time clock, nanoseconds, see `proc_cpu_s`; summed over --pids), RSS (VmRSS,
summed over --rss-pids) and context switches are read at the edges of the measured window, with this tool's own CPU
and the machine's busy CPU (/proc/stat), as loadgen.c does. Exit status: 0 when the run completed (the JSON says
what was lost), 2 on setup errors.
"""

import argparse
import ctypes
import ctypes.util
import json
import os
import resource
import selectors
import signal
import socket
import ssl
import struct
import sys
import time

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
CMSG_SPACE = socket.CMSG_SPACE(16)
TICK = os.sysconf("SC_CLK_TCK")
SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
HELLO = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
H2_WINDOW = 1 << 30


def mono_ns():
    return time.monotonic_ns()


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class PreciseTimer:
    """A timerfd (through ctypes: Python 3.11 has no os.timerfd_*) armed at absolute CLOCK_MONOTONIC times, which
    `mono_ns` reads. Registered in the loop's selector, it wakes epoll to the microsecond where the selector's own
    timeout is rounded up to whole milliseconds."""
    CLOCK_MONOTONIC, TFD_NONBLOCK, TFD_CLOEXEC, TFD_TIMER_ABSTIME = 1, os.O_NONBLOCK, os.O_CLOEXEC, 1

    def __init__(self):
        self.libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = self.libc.timerfd_create(self.CLOCK_MONOTONIC, self.TFD_NONBLOCK | self.TFD_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create")

    def arm(self, at_ns):
        """Fires at `at_ns` (CLOCK_MONOTONIC), at once when that has passed; replaces any earlier arming."""
        at_ns = max(1, at_ns)  # 0 would disarm it
        spec = _Itimerspec(_Timespec(0, 0), _Timespec(at_ns // 1_000_000_000, at_ns % 1_000_000_000))
        if self.libc.timerfd_settime(self.fd, self.TFD_TIMER_ABSTIME, ctypes.byref(spec), None) != 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime")

    def clear(self, _mask=None):
        try:
            os.read(self.fd, 8)
        except BlockingIOError:
            pass


REALTIME_OFFSET = time.time_ns() - time.monotonic_ns()  # kernel timestamps are CLOCK_REALTIME


# ---------------------------------------------------------------------------------------------- /proc readings

def proc_cpu_s(pids):
    """The CPU `pids` have used so far, to the nanosecond: each process's CPU-time clock (the scheduler's runtime summed
    over its threads, those that ended included; the clock id is the kernel's MAKE_PROCESS_CPUCLOCK(pid,
    CPUCLOCK_SCHED), what clock_getcpuclockid returns). /proc/PID/stat holds the same total in 10 ms steps.
    -1.0 when a process is gone."""
    total = 0
    for pid in pids:
        try:
            total += time.clock_gettime_ns(((~pid) << 3) | 2)
        except OSError:
            return -1.0
    return total / 1e9


def proc_rss_kib(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def proc_ctxsw(pids):
    total = 0
    for pid in pids:
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    for line in f:
                        if "ctxt_switches" in line:
                            total += int(line.split()[1])
        except OSError:
            return -1
    return total


def machine_busy_s():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / TICK


def own_cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Window:
    """The readings at the edges of a measured window."""

    def __init__(self, pids):
        self.pids = pids
        self.t0, self.cpu0, self.own0, self.busy0 = mono_ns(), proc_cpu_s(pids), own_cpu_s(), machine_busy_s()
        self.sw0 = proc_ctxsw(pids)

    def close(self):
        cpu1, sw1 = proc_cpu_s(self.pids), proc_ctxsw(self.pids)
        return {"wall_s": (mono_ns() - self.t0) / 1e9,
                "proxy_cpu_s": cpu1 - self.cpu0 if self.pids and cpu1 >= 0 and self.cpu0 >= 0 else -1.0,
                "proxy_ctxsw": sw1 - self.sw0 if self.pids and sw1 >= 0 and self.sw0 >= 0 else None,
                "loadgen_cpu_s": own_cpu_s() - self.own0, "machine_busy_s": machine_busy_s() - self.busy0}


def percentiles(values_ns):
    v = sorted(values_ns)
    if not v:
        return {"n": 0, "p50": None, "p99": None, "p999": None, "max": None}
    at = lambda q: v[min(len(v) - 1, int(q * len(v)))] / 1e6
    return {"n": len(v), "p50": at(0.50), "p99": at(0.99), "p999": at(0.999), "max": v[-1] / 1e6}


# ---------------------------------------------------------------------------------------------- the backend

class Backend:
    """One epoll-driven HTTP/1.1 SSE backend: streams by id, events stamped just before send()."""

    def __init__(self, loop, port):
        self.loop = loop
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.lsock.bind(("127.0.0.1", port))
        except OSError as e:
            die("bind 127.0.0.1:%d: %s" % (port, e))
        self.lsock.listen(4096)
        self.lsock.setblocking(False)
        loop.sel.register(self.lsock, selectors.EVENT_READ, self.on_accept)
        self.streams = {}      # id -> socket
        self.heads = {}        # socket -> bytes of the request head so far
        self.seq = {}          # id -> next seq
        self.sent = 0
        self.send_failures = 0
        self.requests = 0

    def on_accept(self, _mask):
        while True:
            try:
                s, _ = self.lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.heads[s] = b""
            self.loop.sel.register(s, selectors.EVENT_READ, lambda m, s=s: self.on_readable(s))

    def on_readable(self, s):
        try:
            data = s.recv(8192)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.drop(s)
            return
        buf = self.heads.get(s, b"") + data
        while b"\r\n\r\n" in buf:
            head, _, buf = buf.partition(b"\r\n\r\n")
            self.requests += 1
            path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
            if path.startswith(b"/s/"):
                sid = int(path[3:].split(b"?")[0])
                self.streams[sid] = s
                self.seq.setdefault(sid, 0)
                self.send(s, SSE_HEAD)
                if self.loop.first_event:
                    self.send_event(sid)
            else:
                self.send(s, HELLO)
        self.heads[s] = buf

    def drop(self, s):
        self.heads.pop(s, None)
        for sid in [k for k, v in self.streams.items() if v is s]:
            del self.streams[sid]
        try:
            self.loop.sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()

    def send(self, s, data):
        try:
            if s.send(data) != len(data):
                self.send_failures += 1
        except OSError:
            self.send_failures += 1

    def send_event(self, sid):
        s = self.streams.get(sid)
        if s is None:
            return
        seq = self.seq[sid]
        self.seq[sid] = seq + 1
        t = mono_ns()
        payload = b"data: %d %d\n\n" % (t, seq)
        self.send(s, b"%x\r\n%s\r\n" % (len(payload), payload))
        self.sent += 1


# ---------------------------------------------------------------------------------------------- the clients

class Stats:
    def __init__(self):
        self.recording = False
        self.lat_k, self.lat_app = [], []
        self.events = self.window_events = self.gaps = self.bad_status = self.resets = 0


class SSEParser:
    """SSE lines of one stream: `data: <send_ns> <seq>` events, checked for order."""

    def __init__(self, stats):
        self.stats, self.buf, self.next_seq, self.events = stats, b"", 0, 0

    def feed(self, data, kts, app):
        self.buf += data
        while b"\n" in self.buf:
            line, _, self.buf = self.buf.partition(b"\n")
            if not line.startswith(b"data: "):
                continue
            sent, seq = line[6:].split(b" ")[:2]
            sent, seq = int(sent), int(seq)
            if seq != self.next_seq:
                self.stats.gaps += 1
            self.next_seq = seq + 1
            self.events += 1
            self.stats.events += 1
            if self.stats.recording:
                self.stats.window_events += 1
                self.stats.lat_k.append(kts - sent)
                self.stats.lat_app.append(app - sent)


class H1Stream:
    """One HTTP/1.1 response: the head, then chunked framing into an SSEParser."""

    def __init__(self, stats):
        self.stats, self.head, self.buf, self.sse, self.status = stats, b"", b"", SSEParser(stats), None

    def feed(self, data, kts, app):
        if self.status is None:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, _, data = self.head.partition(b"\r\n\r\n")
            self.status = int(head.split(b" ", 2)[1])
            if self.status != 200:
                self.stats.bad_status += 1
        self.buf += data
        while True:
            line_end = self.buf.find(b"\r\n")
            if line_end < 0:
                return
            size = int(self.buf[:line_end].split(b";")[0], 16)
            if len(self.buf) < line_end + 2 + size + 2:
                return
            self.sse.feed(self.buf[line_end + 2:line_end + 2 + size], kts, app)
            self.buf = self.buf[line_end + 4 + size:]


class H2Stream:
    """One HTTP/2 response: its :status, then DATA frames into an SSEParser."""

    def __init__(self, stats):
        self.status, self.sse = None, SSEParser(stats)

    def feed(self, data, kts, app):
        self.sse.feed(data, kts, app)


class Client:
    """One client connection (TLS through a MemoryBIO, or plain) with its streams."""

    def __init__(self, loop, ctx, proto, port, ids):
        import h2.config
        import h2.connection  # noqa: F401 (imported here: the plain and h1 runs do not need it)
        self.loop, self.proto, self.ids = loop, proto, ids
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.tls = None
        self.closed = False
        if proto != "plain":
            self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname="localhost")
            while True:  # the handshake, blocking: the backend's accepts wait in its listen queue meanwhile
                try:
                    self.tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    self.sock.sendall(self.out.read())
                    data = self.sock.recv(65536)
                    if not data:
                        raise ConnectionError("closed during the TLS handshake")
                    self.inc.write(data)
            self.sock.sendall(self.out.read())
            want = "h2" if proto == "h2" else "http/1.1"
            if self.tls.selected_alpn_protocol() != want:
                raise ConnectionError("ALPN chose %r, not %r" % (self.tls.selected_alpn_protocol(), want))
        self.streams = {}
        if proto == "h2":
            self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
            self.h2.initiate_connection()
            self.h2.update_settings({4: 1 << 24})  # SETTINGS_INITIAL_WINDOW_SIZE
            self.h2.increment_flow_control_window(H2_WINDOW - 65535)
            for sid in ids:
                stream_id = self.h2.get_next_available_stream_id()
                self.h2.send_headers(stream_id, [(":method", "GET"), (":path", "/s/%d" % sid), (":scheme", "https"),
                                                 (":authority", "127.0.0.1:%d" % port),
                                                 ("accept", "text/event-stream")], end_stream=True)
                self.streams[stream_id] = H2Stream(loop.stats)
            self.write(self.h2.data_to_send())
        else:
            sid = ids[0]
            self.streams[sid] = H1Stream(loop.stats)
            self.write(b"GET /s/%d HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n" % sid)
        self.sock.setblocking(False)
        loop.sel.register(self.sock, selectors.EVENT_READ, self.on_readable)

    def write(self, data):
        if self.tls is not None:
            if data:
                self.tls.write(data)
            data = self.out.read()
        if data:
            self.sock.setblocking(True)
            self.sock.sendall(data)
            self.sock.setblocking(False)

    def on_readable(self, _mask):
        try:
            data, anc, _flags, _addr = self.sock.recvmsg(262144, CMSG_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, anc = b"", []
        app = mono_ns()
        if not data:
            self.close(lost=True)
            return
        kts = app
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(value) >= 16:
                sec, nsec = struct.unpack("qq", value[:16])
                kts = sec * 1000000000 + nsec - REALTIME_OFFSET
        if self.tls is not None:
            self.inc.write(data)
            chunks = []
            while True:
                try:
                    chunks.append(self.tls.read(262144))
                except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                    break
            data = b"".join(chunks)
            pending = self.out.read()  # a key update or alert to answer
            if pending:
                self.write(pending)
        if not data:
            return
        if self.proto == "h2":
            import h2.events
            for ev in self.h2.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    status = dict(ev.headers).get(":status")
                    self.streams[ev.stream_id].status = int(status)
                    if status != "200":
                        self.loop.stats.bad_status += 1
                elif isinstance(ev, h2.events.DataReceived):
                    self.streams[ev.stream_id].feed(ev.data, kts, app)
                    self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, (h2.events.StreamReset, h2.events.StreamEnded, h2.events.ConnectionTerminated)):
                    self.loop.stats.resets += 1
            self.write(self.h2.data_to_send())
        else:
            next(iter(self.streams.values())).feed(data, kts, app)

    def ready(self):
        """Every stream has its response head (and, when the backend sends one, its first event)."""
        need = 1 if self.loop.first_event else 0
        return all(p.status is not None and p.sse.events >= need for p in self.streams.values())

    def close(self, lost=False):
        if self.closed:
            return
        self.closed = True
        if lost:
            self.loop.stats.resets += 1
        try:
            self.loop.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.sock.close()


class Loop:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.EpollSelector()
        self.stats = Stats()
        self.first_event = args.workload == "memory"
        self.backend = Backend(self, args.backend)
        self.clients = []
        self.timers = []
        self.timer = PreciseTimer()
        self.sel.register(self.timer.fd, selectors.EVENT_READ, self.timer.clear)

    def run_for(self, seconds, on_tick=None, until=None):
        """Serves the sockets for `seconds` (or until `until()`); `on_tick(now)` sends what is due and returns the
        seconds to its next due time, when the timerfd wakes the loop."""
        end = mono_ns() + int(seconds * 1e9)
        while True:
            now = mono_ns()
            if now >= end or (until is not None and until()):
                return
            wait = (end - now) / 1e9
            if on_tick is not None:
                due_in = on_tick(now)
                if due_in < wait:
                    self.timer.arm(mono_ns() + int(due_in * 1e9))  # on_tick measured due_in after its sends
                wait = min(wait, due_in)
            for key, mask in self.sel.select(max(0.0, wait)):
                key.data(mask)

    def context(self):
        if self.args.proto == "plain":
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"] if self.args.proto == "h2" else ["http/1.1"])
        return ctx

    def open(self, first, count):
        """Opens streams first..first+count-1 (h2: over --connections connections) and waits until each has its head
        (and first event) or, when the backend sends no first event, until the backend has every request: a proxy
        may hold a response's head until its first body bytes (nginx does over HTTP/2)."""
        ctx, a, out = self.context(), self.args, []
        ids = list(range(first, first + count))
        groups = ([ids[i::a.connections] for i in range(min(a.connections, count))] if a.proto == "h2"
                  else [[i] for i in ids])
        for g in groups:
            out.append(Client(self, ctx, a.proto, a.target, g))
            self.run_for(0)  # let the backend accept meanwhile
        self.clients += out
        known = len(self.backend.streams)
        heads = ((lambda: all(c.ready() for c in out)) if self.first_event
                 else (lambda: len(self.backend.streams) >= known + count))
        self.run_for(30, until=heads)
        return out, heads()


# ---------------------------------------------------------------------------------------------- workloads

def stream_workload(loop, a):
    clients, ok = loop.open(0, a.streams)
    if not ok:
        return {"workload": "stream", "open_failed": a.streams - len(loop.backend.streams), "proxy_alive": True}
    rate = a.rate
    state = {"k": 0, "t0": mono_ns()}

    def tick(now):
        due = int((now - state["t0"]) * rate / 1e9)
        while state["k"] < due:
            loop.backend.send_event(state["k"] % a.streams)
            state["k"] += 1
        return max(0.0, (state["t0"] + (state["k"] + 1) * 1e9 / rate - mono_ns()) / 1e9)

    loop.run_for(a.warmup, tick)
    no_head = sum(1 for c in clients for p in c.streams.values() if p.status is None)
    sent0 = loop.backend.sent
    w = Window(a.pids)
    loop.stats.recording = True
    loop.run_for(a.duration, tick)
    sent_in_window = loop.backend.sent - sent0
    loop.stats.recording = False
    result = w.close()
    sent = loop.backend.sent
    loop.run_for(2.0, until=lambda: loop.stats.events >= sent)  # drain
    st = loop.stats
    result.update({"workload": "stream", "proto": a.proto, "streams": a.streams, "rate": rate,
                   "sent": sent, "events": st.events, "window_events": st.window_events,
                   "window_sent": sent_in_window, "gaps": st.gaps, "bad_status": st.bad_status,
                   "resets": st.resets, "send_failures": loop.backend.send_failures, "open_failed": no_head,
                   "latency_kernel": percentiles(st.lat_k), "latency_app": percentiles(st.lat_app),
                   "proxy_alive": all(os.path.exists("/proc/%d" % p) for p in a.pids)})
    return result


def memory_workload(loop, a):
    warm = min(50, a.streams)
    clients, ok = loop.open(0, warm)
    for c in clients:
        c.close()
    loop.clients = []
    loop.run_for(0.5)
    rss0 = proc_rss_kib(a.rss_pids) if a.rss_pids else 0
    w = Window(a.pids)
    clients, ok = loop.open(warm, a.streams)
    loop.run_for(0.5)
    rss1 = proc_rss_kib(a.rss_pids) if a.rss_pids else 0
    result = w.close()
    opened = sum(1 for c in clients for p in c.streams.values() if p.sse.events >= 1)
    result.update({"workload": "memory", "proto": a.proto, "streams": a.streams,
                   "connections": len(clients), "open_failed": a.streams - opened,
                   "rss_before_kib": rss0, "rss_after_kib": rss1,
                   "rss_per_stream_kib": (rss1 - rss0) / a.streams, "gaps": loop.stats.gaps,
                   "bad_status": loop.stats.bad_status, "resets": loop.stats.resets,
                   "send_failures": loop.backend.send_failures,
                   "proxy_alive": all(os.path.exists("/proc/%d" % p) for p in a.pids)})
    return result


def serve_workload(loop, a):
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    print(json.dumps({"listening": a.backend}), flush=True)
    while not stop["now"]:
        loop.run_for(0.2)
    return {"workload": "serve", "requests": loop.backend.requests, "send_failures": loop.backend.send_failures}


def die(msg):
    print("tlsload: " + msg, file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workload", choices=["stream", "memory", "serve"])
    ap.add_argument("--target", type=int, default=0)
    ap.add_argument("--backend", type=int, required=True)
    ap.add_argument("--proto", choices=["h1", "h2", "plain"], default="h1")
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--connections", type=int, default=10, help="h2: connections carrying the streams")
    ap.add_argument("--rate", type=float, default=100, help="stream: events/s in all")
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=1.0, help="stream: seconds of events before the window")
    ap.add_argument("--pids", default="")
    ap.add_argument("--rss-pids", default="")
    a = ap.parse_args()
    a.pids = [int(p) for p in a.pids.split(",") if p]
    a.rss_pids = [int(p) for p in a.rss_pids.split(",") if p]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if a.workload == "memory" and 2 * a.streams + 200 > soft:
        die("%d streams need %d descriptors; RLIMIT_NOFILE is %d" % (a.streams, 2 * a.streams + 200, soft))
    loop = Loop(a)
    try:
        result = {"stream": stream_workload, "memory": memory_workload, "serve": serve_workload}[a.workload](loop, a)
        for c in loop.clients:  # the clients end first, so the proxies see a client close, not an upstream one
            c.close()
        loop.run_for(0.2)
    except (ConnectionError, OSError, ssl.SSLError) as e:
        result = {"workload": a.workload, "error": "%s: %s" % (type(e).__name__, e),
                  "proxy_alive": all(os.path.exists("/proc/%d" % p) for p in a.pids)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
