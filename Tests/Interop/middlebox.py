"""A TCP middlebox that breaks client connections: it forwards 127.0.0.1:PORT to a target port and, at a random
moment 1-2 s after a connection's event stream began (the server's bytes on it first held `text/event-stream`), RESETS
it (SO_LINGER 0, then close) on both sides, dropping whatever it had read but not yet forwarded. A client behind it
sees `ECONNRESET` mid-stream; the server sees an RST, as from a phone that lost its network.

The clock starts at the stream's response head, not at accept: a browser loads the page and then opens its
EventSource on the same keep-alive connection, and a reset between the two (before the stream's first byte) would
leave the client nothing to resume from, a new stream rather than a broken one. Connections that never carry an
event stream (the page, a favicon) are not reset; `--arm-on ''` starts the clock at accept instead.

    python3 middlebox.py --target 8080 [--port 0] [--min 1 --max 2]     # prints "listening on PORT"

In the suite it runs in a thread of the runner (`Middlebox(target).start()`), which reads its counters.
"""

import argparse
import asyncio
import random
import socket
import struct
import threading

PIPE_READ_BYTES = 65536
ARM_ON = b"text/event-stream"


class Middlebox:
    """One listener on 127.0.0.1 (port picked by the kernel unless given) running its own asyncio loop in a thread.

    `accepted`: client connections taken; `resets`: those it reset at their random moment; `closed`: those that
    ended first by themselves (either side's FIN or error) and were closed normally. `arm_on`: the bytes in the
    server's direction that start a connection's clock (None or empty: its accept does)."""

    def __init__(self, target_port, min_s=1.0, max_s=2.0, port=0, seed=None, arm_on=ARM_ON):
        self.target_port = target_port
        self.min_s, self.max_s = min_s, max_s
        self.arm_on = arm_on or None
        self.port = port
        self.random = random.Random(seed)
        self.accepted = self.resets = self.closed = 0
        self._loop = None
        self._thread = None
        self._server = None
        self._ready = threading.Event()

    def start(self):
        """Starts listening; returns the port."""
        self._thread = threading.Thread(target=self._run, name="middlebox", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("middlebox did not start")
        return self.port

    def stop(self):
        """Stops listening and resets the connections still open."""
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    async def _shutdown(self):
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            self._loop.close()

    async def _serve(self, client_reader, client_writer):
        self.accepted += 1
        lifetime = self.random.uniform(self.min_s, self.max_s)
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            reset(client_writer)
            return
        armed = asyncio.Event()
        if self.arm_on is None:
            armed.set()

        async def clock():  # the connection's life: from the moment it is armed
            await armed.wait()
            await asyncio.sleep(lifetime)

        pipes = [asyncio.ensure_future(pipe(client_reader, server_writer)),
                 asyncio.ensure_future(pipe(server_reader, client_writer, self.arm_on, armed))]
        timer = asyncio.ensure_future(clock())
        try:
            done, pending = await asyncio.wait(pipes + [timer], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # stop(): reset what is still open, uncounted
            done, pending = None, pipes + [timer]
        for task in pending:
            task.cancel()
        if done is None:
            reset(client_writer)
            reset(server_writer)
        elif done - {timer}:  # a pipe ended first (either side's FIN or error)
            self.closed += 1
            for writer in (client_writer, server_writer):
                writer.close()
        else:
            self.resets += 1
            reset(client_writer)
            reset(server_writer)


async def pipe(reader, writer, marker=None, seen=None):
    """Copies until EOF or an error; sets the event `seen` once the bytes copied hold `marker` (across reads)."""
    tail = b""
    try:
        while True:
            data = await reader.read(PIPE_READ_BYTES)
            if not data:
                return
            if marker is not None and not seen.is_set():
                if marker in tail + data:
                    seen.set()
                tail = (tail + data)[-(len(marker) - 1):]
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        return


def reset(writer):
    """Closes the connection with an RST: SO_LINGER on with a zero timeout, then an immediate close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=int, required=True, help="the port it forwards to, on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="the port it listens on (default: one the kernel picks)")
    parser.add_argument("--min", type=float, default=1.0, help="shortest life of a connection, s (default 1)")
    parser.add_argument("--max", type=float, default=2.0, help="longest life of a connection, s (default 2)")
    parser.add_argument("--arm-on", default=ARM_ON.decode(),
                        help="server bytes that start a connection's clock (default text/event-stream; '' = accept)")
    args = parser.parse_args()
    box = Middlebox(args.target, args.min, args.max, args.port, arm_on=args.arm_on.encode())
    print("listening on %d" % box.start(), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        box.stop()


if __name__ == "__main__":
    main()
