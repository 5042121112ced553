"""Hand-written backends on Python's http.server, in three styles:

    --style http10     HTTP/1.0, close-delimited body (no length, no chunking), LF line ends: the legacy CGI shape
    --style crlf       HTTP/1.1 chunked, CRLF line ends, and a pause between a CR and its LF
    --style bytewise   HTTP/1.1 chunked, every byte of the body in its own chunk and its own send(), 2 ms apart

    GET .../events/standard/TAG | silent/TAG | ticker/TAG    as in backend_flask.py

Each stream reports start, end and `finally` (after the write that failed when the client went away) to the side
channel (report.py).
"""

import argparse
import http.server
import socket
import time

import report
import sse_script

BYTE_GAP_S = 0.002


class Handler(http.server.BaseHTTPRequestHandler):
    style = "http10"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        script, tag = report.parse_path(self.path)
        if script != "ticker" and script not in sse_script.SCRIPTS:
            self.send_error(404)
            return
        line_end = "\r\n" if self.style == "crlf" else "\n"
        if script == "ticker":
            chunks = self._ticker(line_end)
        else:
            chunks = sse_script.chunks(sse_script.SCRIPTS[script], line_end)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if self.style != "http10":
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        report.record(tag, "start", last_event_id=self.headers.get("Last-Event-ID"), backend=self.style)
        try:
            for chunk in chunks:
                if isinstance(chunk, float):
                    time.sleep(chunk)
                else:
                    self._write(chunk)
            if self.style != "http10":
                self.wfile.write(b"0\r\n\r\n")
            report.record(tag, "end")
        except OSError as error:
            report.record(tag, "write_failed", error=type(error).__name__)
        finally:
            report.record(tag, "finally")

    def _ticker(self, line_end):
        for n in range(1, sse_script.TICKER_MAX_TICKS + 1):
            yield from sse_script.chunks([sse_script.ticker_step(n), ("sleep", sse_script.TICK_PERIOD_S)], line_end)

    def _write(self, data):
        if self.style == "http10":
            self.wfile.write(data)
        elif self.style == "crlf":
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            for i in range(len(data)):
                self.wfile.write(b"1\r\n" + data[i:i + 1] + b"\r\n")
                time.sleep(BYTE_GAP_S)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", choices=["http10", "crlf", "bytewise"], required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    Handler.style = args.style
    Handler.protocol_version = "HTTP/1.0" if args.style == "http10" else "HTTP/1.1"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
