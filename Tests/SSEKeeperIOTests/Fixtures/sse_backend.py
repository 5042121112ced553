#!/usr/bin/env python3
"""A small real SSE backend for ssekeeper's upstream_resume tests (standard library only).

GET any path answers `200 text/event-stream`, chunked, one event per interval:
    id: N\ndata: event N\n\n
starting at N = Last-Event-ID + 1 (or 1 without the header; with --ignore-last-event-id always 1).

Options:
  --port P                 listen on 127.0.0.1:P (0: any free port); prints "port P" on stdout when ready
  --interval-ms MS         time between events (default 100)
  --ignore-last-event-id   replay from event 1 whatever the request says
  --stall-in-event N       send event N's first line (id and the first data line), then stall forever
  --end-after N            end the response cleanly (final chunk) after event N
  --status-on-resume CODE  answer a request carrying Last-Event-ID with CODE and an empty body
  --status-times N         with --status-on-resume: only the first N such requests (0: every one), then stream
Each request is logged on stderr as "request last-event-id=<value or ->".
"""
import argparse
import socket
import sys
import threading
import time

resume_answers = 0
resume_answers_lock = threading.Lock()


def answers_resume_with_status(args) -> bool:
    """Whether this resume request gets --status-on-resume (counting it against --status-times)."""
    global resume_answers
    if not args.status_on_resume:
        return False
    with resume_answers_lock:
        resume_answers += 1
        return args.status_times == 0 or resume_answers <= args.status_times


def chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


def serve(conn: socket.socket, args) -> None:
    with conn:
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(4096)
            if not data:
                return
            head += data
        last_event_id = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"last-event-id":
                last_event_id = value.strip().decode("utf-8", "replace")
        print("request last-event-id=%s" % (last_event_id if last_event_id is not None else "-"), file=sys.stderr, flush=True)
        if last_event_id is not None and answers_resume_with_status(args):
            conn.sendall(b"HTTP/1.1 %d Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % args.status_on_resume)
            return
        start = 1
        if last_event_id and not args.ignore_last_event_id:
            start = int(last_event_id) + 1
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        n = start
        try:
            while True:
                if n == args.stall_in_event:
                    conn.sendall(chunk(b"id: %d\ndata: event %d part one\n" % (n, n)))
                    time.sleep(3600)
                conn.sendall(chunk(b"id: %d\ndata: event %d\n\n" % (n, n)))
                if args.end_after and n >= args.end_after:
                    conn.sendall(b"0\r\n\r\n")
                    return
                n += 1
                time.sleep(args.interval_ms / 1000.0)
        except OSError:
            return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--interval-ms", type=int, default=100)
    parser.add_argument("--ignore-last-event-id", action="store_true")
    parser.add_argument("--stall-in-event", type=int, default=0)
    parser.add_argument("--end-after", type=int, default=0)
    parser.add_argument("--status-on-resume", type=int, default=0)
    parser.add_argument("--status-times", type=int, default=0)
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(64)
    print("port %d" % listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    main()
