#!/usr/bin/env python3
"""The SSE backend of Benchmarks/ridethrough/run.py: one asyncio process, driven over stdin.

It listens on 127.0.0.1 (an ephemeral port, or --port) and prints `listening PORT` on stdout. Every request
`GET /<anything>/<name>[?n=K]` gets `200 text/event-stream` (close-delimited, no chunking) and K events at once
(default 0); the stream stays open until the driver ends it or the peer closes it. Each event is
`id: <i>\\ndata: <padding>\\n\\n`, EVENT_BYTES bytes long, numbered 1, 2, 3 ... per stream.

Commands, one per line on stdin; each is answered with one line on stdout once its bytes are written:
  send NAME K     K more events on stream NAME          -> `ok` (or `missing`)
  end NAME        end stream NAME (close the connection) -> `ok` (or `missing`)
  stats           -> one JSON line: requests so far, streams open now, requests per name prefix letter
"""
import argparse
import asyncio
import json
import sys

EVENT_BYTES = 100  # one event on the wire from the backend, before ssekeeper stamps its id
HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        b"Connection: close\r\n\r\n")


def event(i: int) -> bytes:
    """Event i, exactly EVENT_BYTES bytes: `id: i`, one `data:` line padded with `x`."""
    start = b"id: %d\ndata: " % i
    return start + b"x" * (EVENT_BYTES - len(start) - 2) + b"\n\n"


class Backend:
    def __init__(self):
        self.streams = {}  # name -> [writer, next event number]
        self.requests = 0
        self.by_kind = {}

    async def serve(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        target = head.split(b" ", 2)[1].decode()
        path, _, query = target.partition("?")
        name = path.rsplit("/", 1)[-1]
        count = int(query[2:]) if query.startswith("n=") else 0
        self.requests += 1
        self.by_kind[name[:1]] = self.by_kind.get(name[:1], 0) + 1
        entry = [writer, 1]
        self.streams[name] = entry
        writer.write(HEAD + b"".join(event(i) for i in range(1, count + 1)))
        entry[1] = count + 1
        try:
            await writer.drain()
            while await reader.read(65536):
                pass  # nothing is expected from the proxy; EOF ends the stream
        except ConnectionError:
            pass
        if self.streams.get(name) is entry:
            del self.streams[name]
        writer.close()

    async def command(self, line: str) -> str:
        words = line.split()
        if words[0] == "stats":
            return json.dumps({"requests": self.requests, "open": len(self.streams), "by_kind": self.by_kind})
        entry = self.streams.get(words[1])
        if entry is None:
            return "missing"
        writer = entry[0]
        if words[0] == "send":
            k = int(words[2])
            writer.write(b"".join(event(i) for i in range(entry[1], entry[1] + k)))
            entry[1] += k
            try:
                await writer.drain()
            except ConnectionError:
                return "missing"
            return "ok"
        if words[0] == "end":
            del self.streams[words[1]]
            writer.close()
            return "ok"
        return "unknown"


async def main(port: int) -> None:
    backend = Backend()
    server = await asyncio.start_server(backend.serve, "127.0.0.1", port, backlog=4096)
    print("listening %d" % server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := await stdin.readline():
        if line.strip():
            print(await backend.command(line.decode()), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args().port))
