"""A small HTTP/1.1 streaming client over a plain socket, for timings the packaged clients do not expose.

It records when every piece of the body arrived, decodes chunked and close-delimited bodies, and says how the
response ended: "complete" (final chunk, or close of a close-delimited body), "eof" (FIN in the middle of a
chunked body), "reset" (ECONNRESET) or "timeout" (nothing for `read_timeout` seconds).
"""

import socket
import time

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024


class Stream:
    """An open streaming GET. Use read_until(...) and close(); `body` and `pieces` grow as bytes arrive."""

    def __init__(self, port, path, headers=None, connect_timeout=5.0):
        self.started = time.monotonic()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=connect_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Accept: text/event-stream"]
        for name, value in (headers or {}).items():
            lines.append("%s: %s" % (name, value))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.status = None
        self.headers = {}
        self.body = b""
        self.pieces = []  # (monotonic time, decoded body bytes)
        self.end = None  # how the body ended, once it has
        self.ended_at = None
        self._raw = b""
        self._chunked = False
        self._chunk_left = 0  # body bytes left in the current chunk; -1 while reading a size line
        self._head_done = False

    def _receive(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            self._finish("reset")
            return b""
        if not data:
            self._finish("complete" if self._head_done and not self._chunked else "eof")
        return data

    def _finish(self, how):
        if self.end is None:
            self.end = how
            self.ended_at = time.monotonic()

    def _consume(self, data, now):
        self._raw += data
        if not self._head_done:
            end = self._raw.find(b"\r\n\r\n")
            if end < 0:
                if len(self._raw) > MAX_HEAD_BYTES:
                    raise ValueError("response head over %d bytes" % MAX_HEAD_BYTES)
                return
            head, self._raw = self._raw[:end].decode("latin-1"), self._raw[end + 4:]
            lines = head.split("\r\n")
            self.status = int(lines[0].split(" ")[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()
            self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
            self._chunk_left = -1
            self._head_done = True
        if not self._chunked:
            if self._raw:
                self._append(self._raw, now)
                self._raw = b""
            return
        while self._raw:
            if self._chunk_left == -1:
                line_end = self._raw.find(b"\r\n")
                if line_end < 0:
                    return
                size = int(self._raw[:line_end].split(b";")[0], 16)
                self._raw = self._raw[line_end + 2:]
                if size == 0:
                    self._finish("complete")
                    return
                self._chunk_left = size
            elif self._chunk_left == 0:
                if len(self._raw) < 2:
                    return
                self._raw = self._raw[2:]
                self._chunk_left = -1
            else:
                piece = self._raw[:self._chunk_left]
                self._raw = self._raw[len(piece):]
                self._chunk_left -= len(piece)
                self._append(piece, now)

    def _append(self, piece, now):
        self.body += piece
        self.pieces.append((now, piece))
        if len(self.body) > MAX_BODY_BYTES:
            raise ValueError("body over %d bytes" % MAX_BODY_BYTES)

    def read_until(self, done=lambda stream: False, deadline_s=30.0, read_timeout=30.0):
        """Reads until done(self) is true, the body ends, nothing came for read_timeout s, or deadline_s passed."""
        deadline = time.monotonic() + deadline_s
        while self.end is None and not done(self):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            data = self._receive(min(left, read_timeout))
            if data is None:
                if left > read_timeout:
                    self._finish("timeout")
                return
            if data:
                self._consume(data, time.monotonic())

    def close(self, reset=False):
        """Closes the socket (FIN, or RST with reset=True) and returns the monotonic time it did."""
        if reset:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        t = time.monotonic()
        self.sock.close()
        return t
