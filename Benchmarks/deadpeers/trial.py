"""One dead-peer trial of Benchmarks/deadpeers/run.py: a backend, one client stream through a proxy, and the
moment the vanished (or stalled) peer is noticed. See run.py's head for the scenarios.
"""

import fcntl
import select
import socket
import struct
import termios
import time

PROXY_HOST, CLIENT_HOST, BACKEND_HOST = "127.0.0.1", "127.0.0.2", "127.0.0.3"
QUIET_BEFORE_DROP_S = 1.0  # (a), (c): the stream runs quiet this long before the peer vanishes
SETUP_TIMEOUT_S = 10.0
EVENT_BYTES, EVENTS_PER_TICK, TICK_S = 1024, 8, 0.010  # (b): 800 KiB/s from the backend
CLIENT_RCVBUF = 4096  # (b): the kernel doubles it; the window closes after a few KiB
REQUEST = b"GET /events HTTP/1.1\r\nHost: deadpeers\r\nAccept: text/event-stream\r\n\r\n"
RESPONSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")


class Broken(Exception):
    """A trial that could not run: its stream did not open, or ended before the peer vanished (exit 1)."""


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


class ChunkedReader:
    """The client's view of its response: the head, then the chunked body, fed whatever bytes arrived."""

    def __init__(self):
        self.raw, self.body, self.head_done, self.ended = b"", b"", False, False

    def feed(self, data):
        self.raw += data
        if not self.head_done:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.raw = self.raw[:end], self.raw[end + 4:]
            if b" 200 " not in head.split(b"\r\n")[0]:
                raise Broken("the proxy answered " + head.split(b"\r\n")[0].decode("latin-1"))
            self.head_done = True
        while not self.ended:
            line_end = self.raw.find(b"\r\n")
            if line_end < 0:
                return
            size = int(self.raw[:line_end].split(b";")[0], 16)
            if len(self.raw) < line_end + 2 + size + 2:
                return
            self.body += self.raw[line_end + 2:line_end + 2 + size]
            self.raw = self.raw[line_end + 2 + size + 2:]
            self.ended = size == 0


def proxy_send_queue(proxy_port, client_port):
    """Bytes the proxy's kernel holds for one client (/proc/net/tcp tx_queue: written, not yet acknowledged)."""
    local = "%s:%04X" % (socket.inet_aton(PROXY_HOST)[::-1].hex().upper(), proxy_port)
    remote = "%s:%04X" % (socket.inet_aton(CLIENT_HOST)[::-1].hex().upper(), client_port)
    with open("/proc/net/tcp") as f:
        for line in f:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return int(fields[4].split(":")[0], 16)
    return None


class Trial:
    """One scenario through one proxy: a backend on BACKEND_HOST, one client stream from CLIENT_HOST."""

    def __init__(self, scenario, proxy, cap, firewall):
        self.scenario, self.proxy, self.cap, self.firewall = scenario, proxy, cap, firewall
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((BACKEND_HOST, 0))
        self.listener.listen(4)
        self.backend_port = self.listener.getsockname()[1]
        self.result = {"scenario": scenario, "path": proxy.name, "cap_s": cap, "seconds": None, "noticed_as": None}

    def run(self):
        try:
            self._run()
        except (Broken, OSError) as e:
            self.result["error"] = str(e) or type(e).__name__

    def _open(self):
        cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.scenario == "b":
            cli.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
        cli.bind((CLIENT_HOST, 0))
        cli.settimeout(SETUP_TIMEOUT_S)
        cli.connect((PROXY_HOST, self.proxy_port))
        cli.sendall(REQUEST)
        self.listener.settimeout(SETUP_TIMEOUT_S)
        try:
            be, _ = self.listener.accept()
        except socket.timeout:
            raise Broken("the proxy did not connect to the backend")
        be.settimeout(SETUP_TIMEOUT_S)
        request = b""
        while b"\r\n\r\n" not in request:
            data = be.recv(4096)
            if not data:
                raise Broken("the proxy closed the backend connection before its request ended")
            request += data
        be.sendall(RESPONSE_HEAD + chunk(b"data: hello\n\n"))
        reader = ChunkedReader()
        while b"data: hello" not in reader.body:
            data = cli.recv(65536)
            if not data:
                raise Broken("the stream ended before its first event")
            reader.feed(data)
        cli.setblocking(False)
        be.setblocking(False)
        return cli, be, reader

    def _run(self):
        self.proxy_port = self.proxy.start(self.backend_port)
        cli, be, reader = self._open()
        self.sockets = (cli, be)
        if self.scenario == "a":
            self._quiet(cli, reader)
            self.firewall.drop(CLIENT_HOST, cli.getsockname()[1])
            self._wait_backend_end(be, time.monotonic())
        elif self.scenario == "b":
            self._stop_reading(cli, be)
        else:
            self._quiet(cli, reader)
            self.firewall.drop(BACKEND_HOST, self.backend_port)
            self._wait_client_told(cli, reader, time.monotonic())

    def _noticed(self, t0, how):
        self.result["seconds"] = round(time.monotonic() - t0, 3)
        self.result["noticed_as"] = how

    def _quiet(self, cli, reader):
        """The stream runs quiet for QUIET_BEFORE_DROP_S, the client reading what comes (heartbeats)."""
        deadline = time.monotonic() + QUIET_BEFORE_DROP_S
        while time.monotonic() < deadline:
            if select.select([cli], [], [], max(0.0, deadline - time.monotonic()))[0]:
                data = cli.recv(65536)
                if not data:
                    raise Broken("the stream ended before the peer vanished")
                reader.feed(data)
                if reader.ended:
                    raise Broken("the response ended before the peer vanished")

    def _wait_backend_end(self, be, t0):
        """(a): until the backend's connection ends (EOF or reset) or the cap."""
        deadline = t0 + self.cap
        while time.monotonic() < deadline:
            if select.select([be], [], [], max(0.0, deadline - time.monotonic()))[0]:
                try:
                    if be.recv(65536) == b"":
                        return self._noticed(t0, "backend EOF")
                except ConnectionResetError:
                    return self._noticed(t0, "backend reset")

    def _wait_client_told(self, cli, reader, t0):
        """(c): until the client's response or connection ends, or an `event: error` arrives, or the cap."""
        deadline = t0 + self.cap
        while time.monotonic() < deadline:
            if select.select([cli], [], [], max(0.0, deadline - time.monotonic()))[0]:
                try:
                    data = cli.recv(65536)
                except ConnectionResetError:
                    return self._noticed(t0, "client reset")
                if not data:
                    return self._noticed(t0, "client connection closed")
                reader.feed(data)
                if b"\nevent: error\n" in b"\n" + reader.body:
                    return self._noticed(t0, "client got event: error")
                if reader.ended:
                    return self._noticed(t0, "client response ended")

    def _stop_reading(self, cli, be):
        """(b): the client reads nothing more; the backend writes EVENTS_PER_TICK events every TICK_S (a write
        that would block keeps its rest and waits, as a real backend's would), until its connection ends."""
        t0 = time.monotonic()
        deadline = t0 + self.cap
        payload = chunk(b"data: " + b"x" * (EVENT_BYTES - 8) + b"\n\n") * EVENTS_PER_TICK
        pending, next_tick, sent = b"", t0, 0
        inq_max, inq_grew = 0, t0
        outq_max, outq_grew, next_outq = 0, t0, t0
        blocked_at = None
        client_port = cli.getsockname()[1]
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if now >= next_tick:
                if not pending:
                    pending = payload
                next_tick += TICK_S
            if pending:
                try:
                    n = be.send(pending)
                    sent += n
                    pending = pending[n:]
                except BlockingIOError:
                    n = 0
                except (BrokenPipeError, ConnectionResetError):
                    self._noticed(t0, "backend write failed")
                    break
                if pending and blocked_at is None:
                    blocked_at = now
            inq = struct.unpack("i", fcntl.ioctl(cli, termios.FIONREAD, b"\0\0\0\0"))[0]
            if inq > inq_max:
                inq_max, inq_grew = inq, now
            if now >= next_outq:
                outq = proxy_send_queue(self.proxy_port, client_port) or 0
                if outq > outq_max:
                    outq_max, outq_grew = outq, now
                next_outq = now + 0.1
            wait = max(0.0, min(next_tick - time.monotonic(), 0.02))
            if select.select([be], [], [], wait)[0]:
                try:
                    if be.recv(65536) == b"":
                        self._noticed(t0, "backend EOF")
                        break
                except ConnectionResetError:
                    self._noticed(t0, "backend reset")
                    break
        self.result.update({
            "client_window_closed_s": round(inq_grew - t0, 3), "client_unread_bytes": inq_max,
            "proxy_send_queue_max_bytes": outq_max, "proxy_send_queue_full_s": round(outq_grew - t0, 3),
            "backend_first_blocked_s": None if blocked_at is None else round(blocked_at - t0, 3),
            "backend_bytes_written": sent,
        })

    def close(self):
        for s in getattr(self, "sockets", ()) + (self.listener,):
            s.close()
