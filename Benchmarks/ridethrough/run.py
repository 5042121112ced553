#!/usr/bin/env python3
"""Client ride-through (issue 15): what reattaching costs in time, memory and CPU, against the same proxy without it.

    swift build -c release && python3 Benchmarks/ridethrough/run.py --markdown    # full run, about 2.5 minutes
    python3 Benchmarks/ridethrough/run.py --quick                                  # smoke run, under 30 s

Every part starts its own ssekeeper (the release build, or --binary) with `admin_listen`, `access_log off` and no
heartbeats. Routes: `/rt/` with `client_resume_window 60s` (the buffer at its default, 1m), `/plain/` without.
The backend is backend.py (asyncio, its own process): each event is `id: <i>` plus padding, 100 bytes.

1. Reattach latency (--trials, default 200, one at a time). A client opens /rt/tI, reads 3 events and closes; once
   /metrics shows the stream detached, the backend sends --missed (default 20) more events, and once the replay
   buffer holds them the client reconnects with its last id as `Last-Event-ID`. Timed on the client (after each
   recv() returns, so the Python client's own wake-up is in every figure): from the request sent to the first
   replayed byte, and to the end of the replay (the last missed event parsed); the replayed ids are checked.
   References on the same proxy: a new request to /plain/ (no ride-through), and a new request to /rt/ (with
   ride-through, nothing to replay), each from connect() to the response's first byte and to its first event.
   With --loops N (default 1) this part's proxy runs N event loops: a reconnect accepted on another loop than its
   stream's is handed over through that loop's inbox, and `ssekeeper_connections_handed_over_total` (read before
   and after each reattach) splits the reattaches into those handed over and those accepted on the stream's loop.
   The acceptor hands connections to the loops in turn, so every other trial opens and closes a bare connection
   before reconnecting: with two loops, half the reconnects land on their stream's loop.
2. Memory per detached stream (--streams, default 2,000). A fresh proxy; 20 streams opened and ended first
   (one-off allocations), then RSS (VmRSS) before; N streams on /rt/ get 3 events each: RSS attached; every client
   closes; once `ssekeeper_client_resume_detached_streams` reaches N: RSS detached, and the replay buffer bytes
   `ssekeeper_client_resume_buffer_bytes` shows. The same N on /plain/ in another fresh proxy as the reference
   (attached, and after the clients closed).
3. CPU of id stamping. The load tool of Benchmarks/compare.py (loadgen.c, its `throughput` workload, paced phase)
   plays backend and clients: --rate events/s (default 20,000) of 100 bytes over --cpu-streams streams (200) for
   --cpu-seconds (15), one send() per event, through a fresh proxy whose one route has the window, then one
   without, --repeats times (3) alternately. Figure: ssekeeper's CPU-seconds (its CPU-time clock) per
   million events delivered; medians, and their ratio.

The table goes to stdout (--markdown for markdown), then one line of JSON with every figure (also --json PATH).
Exit status 0 when everything ran and every check held (replays complete and in order, N streams detached, no
event lost in part 3), 1 when something broke, 2 on setup errors.
"""
import argparse
import json
import os
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time

from proxy import PLAIN_ROUTE, RT_ROUTE, Backend, Broken, Proxy, SSEReader, compare, cpu_seconds, rss_kib
from backend import EVENT_BYTES

FIRST_EVENTS = 3  # events every stream gets before its client leaves


def now():
    return time.perf_counter()


def request(path, last_id=None):
    extra = "Last-Event-ID: %s\r\n" % last_id if last_id else ""
    return ("GET %s HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n%s\r\n" % (path, extra)).encode()


def connect(proxy):
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until(sock, reader, events, marks=None):
    """recv() into reader until it holds `events` events; marks['first'] / ['body'] get the time of the first
    byte and of the first body byte."""
    while len(reader.events) < events:
        data = sock.recv(65536)
        t = now()
        if not data:
            raise Broken("EOF after %d of %d events" % (len(reader.events), events))
        reader.feed(data)
        if marks is not None:
            marks.setdefault("first", t)
            if reader.body_bytes:
                marks.setdefault("body", t)
    return now()


def end_stream(backend, proxy_sock, reader, name):
    """The backend ends stream `name`; the client reads to the end of the response (its last chunk, or EOF), so
    nothing is left kept or detached when it closes."""
    backend.command("end %s" % name)
    proxy_sock.settimeout(5)
    while not reader.finished:
        data = proxy_sock.recv(65536)
        if not data:
            break
        reader.feed(data)
    proxy_sock.close()


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def summary_ms(values):
    return {"p50_ms": round(1000 * statistics.median(values), 3), "p99_ms": round(1000 * pct(values, 0.99), 3),
            "n": len(values)}


# ------------------------------------------------------------------------------------- 1. reattach latency

def reattach_trial(proxy, backend, i, missed, shift=False):
    """One reattach. `shift`: a bare connection is opened and closed before the reconnect, so with two loops (the
    acceptor hands connections out in turn) the reconnect lands on its stream's loop rather than the other one."""
    name = "t%d" % i
    proxy.wait_metric("client_resume_detached_streams", lambda v: v == 0, 5)
    target = "%st%d?n=%d" % (RT_ROUTE, i, FIRST_EVENTS)  # a reconnect must repeat the target, query included
    s = connect(proxy)
    s.sendall(request(target))
    first = SSEReader()
    read_until(s, first, FIRST_EVENTS)
    last_id = first.events[-1]
    s.close()
    proxy.wait_metric("client_resume_detached_streams", lambda v: v == 1, 5)
    held = proxy.metric("client_resume_buffer_bytes")
    if backend.command("send %s %d" % (name, missed)) != "ok":
        raise Broken("the backend lost stream %s" % name)
    proxy.wait_metric("client_resume_buffer_bytes", lambda v: v >= held + missed * EVENT_BYTES, 5)
    if shift:
        connect(proxy).close()
    handed0 = proxy.metric("connections_handed_over_total", route=None)  # also gives the bare connection time to end
    t_connect = now()
    s = connect(proxy)
    payload = request(target, last_id)
    t_sent = now()
    s.sendall(payload)
    marks, again = {}, SSEReader()
    t_end = read_until(s, again, missed, marks)
    want = [str(n) for n in range(FIRST_EVENTS + 1, FIRST_EVENTS + missed + 1)]
    got = [e.rsplit(".", 1)[-1] if e else None for e in again.events[:missed]]
    if got != want or not all(e and e.startswith("sk1.") for e in again.events[:missed]):
        raise Broken("trial %d replayed %s, expected backend ids %s..%s" % (i, got[:5], want[0], want[-1]))
    handed = proxy.metric("connections_handed_over_total", route=None) - handed0
    end_stream(backend, s, again, name)
    return {"connect_to_first_byte": marks["body"] - t_connect, "sent_to_first_byte": marks["body"] - t_sent,
            "sent_to_head": marks["first"] - t_sent, "sent_to_replay_end": t_end - t_sent, "handed_over": handed}


def new_request_trial(proxy, backend, route, i):
    name = "%s%d" % ("r" if route == RT_ROUTE else "p", i)
    t_connect = now()
    s = connect(proxy)
    t_sent = now()
    s.sendall(request("%s%s?n=1" % (route, name)))
    marks, reader = {}, SSEReader()
    t_event = read_until(s, reader, 1, marks)
    end_stream(backend, s, reader, name)
    return {"connect_to_first_byte": marks["first"] - t_connect, "sent_to_first_byte": marks["first"] - t_sent,
            "connect_to_first_event": t_event - t_connect}


def part_latency(args):
    backend = Backend()
    proxy = Proxy(args.binary, backend.port, loops=args.loops)
    try:
        for i in range(5):  # warm-up, not counted
            reattach_trial(proxy, backend, 100000 + i, args.missed)
            new_request_trial(proxy, backend, PLAIN_ROUTE, 100000 + i)
        rows = {"reattach": [], "new_plain": [], "new_rt": []}
        cpu0 = cpu_seconds(proxy.pid)
        for i in range(args.trials):  # interleaved, so drifts of the machine touch all three alike
            rows["reattach"].append(reattach_trial(proxy, backend, i, args.missed, shift=args.loops > 1 and i % 2 == 1))
            rows["new_plain"].append(new_request_trial(proxy, backend, PLAIN_ROUTE, i))
            rows["new_rt"].append(new_request_trial(proxy, backend, RT_ROUTE, i))
        cpu = cpu_seconds(proxy.pid) - cpu0
        reattached = proxy.metric("client_resume_reattached_total")
        replayed = proxy.metric("client_resume_replayed_events_total")
        stats = json.loads(backend.command("stats"))
    finally:
        log = proxy.stop()
        backend.stop()
    out = {"trials": args.trials, "missed_events": args.missed, "proxy_cpu_s": round(cpu, 3),
           "metrics": {"reattached_total": reattached, "replayed_events_total": replayed},
           "backend_requests_per_trial_kind": stats["by_kind"], "log_not_info": log[:5]}
    timed = lambda trials: {key: summary_ms([t[key] for t in trials]) for key in trials[0] if key != "handed_over"}
    for kind, trials in rows.items():
        out[kind] = timed(trials)
    # With several loops a reconnect accepted on another loop than its stream's is handed over through that loop's
    # inbox (HTTP1Connection.handOverToStreamLoop); the counter tells the trials apart.
    handed = [t for t in rows["reattach"] if t["handed_over"] > 0]
    same = [t for t in rows["reattach"] if t["handed_over"] == 0]
    out["reattach_handed_over_trials"] = len(handed)
    if args.loops > 1 and handed and same:
        out["reattach_same_loop"], out["reattach_handed_over"] = timed(same), timed(handed)
    warm = 5
    if reattached != args.trials + warm or stats["by_kind"].get("t") != args.trials + warm:
        raise Broken("reattached %g, backend requests for reattach streams %s, trials %d (+%d warm-up)"
                     % (reattached, stats["by_kind"].get("t"), args.trials, warm))
    return out


# ------------------------------------------------------------------------------------- 2. memory

def open_streams(proxy, route, names, events):
    """Opens a stream per name (in batches of 200) and reads `events` events on each; returns (socket, reader)
    pairs."""
    sockets, selector = [], selectors.DefaultSelector()
    for start in range(0, len(names), 200):
        batch = []
        for name in names[start:start + 200]:
            s = connect(proxy)
            s.sendall(request("%s%s?n=%d" % (route, name, events)))
            s.setblocking(False)
            batch.append(s)
            selector.register(s, selectors.EVENT_READ, SSEReader())
        waiting, deadline = len(batch), time.monotonic() + 30
        while waiting:
            if time.monotonic() > deadline:
                raise Broken("%d of %d streams did not get %d events in 30 s" % (waiting, len(batch), events))
            for key, _ in selector.select(timeout=1):
                data = key.fileobj.recv(65536)
                if not data:
                    raise Broken("a stream ended while opening")
                key.data.feed(data)
                if len(key.data.events) >= events:
                    selector.unregister(key.fileobj)
                    waiting -= 1
                    sockets.append((key.fileobj, key.data))
    selector.close()
    return sockets


def settle_rss(pid, seconds=1.0):
    time.sleep(seconds)
    return rss_kib(pid)


def memory_run(args, route):
    backend = Backend()
    proxy = Proxy(args.binary, backend.port)
    try:
        warm = open_streams(proxy, route, ["w%d" % i for i in range(20)], FIRST_EVENTS)
        for i, (s, reader) in enumerate(warm):
            s.setblocking(True)
            end_stream(backend, s, reader, "w%d" % i)
        out = {"rss_before_kib": settle_rss(proxy.pid)}
        socks = open_streams(proxy, route, ["m%d" % i for i in range(args.streams)], FIRST_EVENTS)
        out["rss_attached_kib"] = settle_rss(proxy.pid)
        if route == RT_ROUTE:
            out["buffer_bytes_attached"] = proxy.metric("client_resume_buffer_bytes")
        t0 = time.monotonic()
        for s, _ in socks:
            s.close()
        if route == RT_ROUTE:
            proxy.wait_metric("client_resume_detached_streams", lambda v: v >= args.streams, 60)
            out["detach_all_s"] = round(time.monotonic() - t0, 3)
            out["rss_detached_kib"] = settle_rss(proxy.pid)
            out["buffer_bytes_detached"] = proxy.metric("client_resume_buffer_bytes")
            out["detached_streams"] = proxy.metric("client_resume_detached_streams")
        else:
            deadline = time.monotonic() + 60
            while json.loads(backend.command("stats"))["open"] > 0:
                if time.monotonic() > deadline:
                    raise Broken("the plain route's upstreams stayed open after their clients left")
                time.sleep(0.05)
            out["rss_after_close_kib"] = settle_rss(proxy.pid)
    finally:
        out["log_not_info"] = proxy.stop()[:5]
        backend.stop()
    n = args.streams
    out["attached_kib_per_stream"] = round((out["rss_attached_kib"] - out["rss_before_kib"]) / n, 2)
    if route == RT_ROUTE:
        out["detached_kib_per_stream"] = round((out["rss_detached_kib"] - out["rss_before_kib"]) / n, 2)
        out["buffer_bytes_per_detached_stream"] = round(out["buffer_bytes_detached"] / n, 1)
    return out


def part_memory(args):
    return {"streams": args.streams, "events_per_stream": FIRST_EVENTS, "event_bytes_from_backend": EVENT_BYTES,
            "ride_through": memory_run(args, RT_ROUTE), "plain": memory_run(args, PLAIN_ROUTE)}


# ------------------------------------------------------------------------------------- 3. CPU of stamping

def cpu_run(args, mode):
    backend_port = compare.free_port()
    proxy = Proxy(args.binary, backend_port, single_route=mode)
    try:
        cmd = [compare.LOADGEN_BIN, "throughput", "--target", str(proxy.port), "--backend", str(backend_port),
               "--streams", str(args.cpu_streams), "--event-size", str(EVENT_BYTES), "--paced-rate", str(args.rate),
               "--paced-duration", str(args.cpu_seconds), "--duration", "0.2", "--pids", str(proxy.pid)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.cpu_seconds + 60)
        if r.returncode != 0:
            raise Broken("the load tool failed: %s" % r.stderr.strip()[-300:])
        paced = json.loads(r.stdout)["paced"]
    finally:
        log = proxy.stop()
    sent = int(args.rate * args.cpu_seconds)
    if paced["events"] < sent:
        raise Broken("%s: %d of %d paced events arrived" % (mode, paced["events"], sent))
    others = max(0.0, paced["machine_busy_s"] - paced["proxy_cpu_s"] - paced["loadgen_cpu_s"])
    return {"mode": mode, "events": paced["events"], "proxy_cpu_s": paced["proxy_cpu_s"],
            "cpu_s_per_million": round(1e6 * paced["proxy_cpu_s"] / paced["events"], 3),
            "wall_s": paced["wall_s"], "ctxsw_per_event": round(paced["proxy_ctxsw"] / paced["events"], 3),
            "other_processes_cpu_pct": round(100 * others / paced["wall_s"], 1),
            "mean_send_lag_ms": paced["mean_send_lag_ms"], "log_not_info": log[:3]}


def part_cpu(args):
    compare.build_loadgen()
    runs = []
    for _ in range(args.repeats):
        for mode in ("rt", "plain"):
            runs.append(cpu_run(args, mode))
    med = {m: statistics.median(r["cpu_s_per_million"] for r in runs if r["mode"] == m) for m in ("rt", "plain")}
    return {"rate": args.rate, "streams": args.cpu_streams, "seconds": args.cpu_seconds, "repeats": args.repeats,
            "median_cpu_s_per_million": med, "ratio": round(med["rt"] / med["plain"], 3), "runs": runs}


# ------------------------------------------------------------------------------------- report

def rows_of(report):
    lat, mem, cpu = report.get("latency"), report.get("memory"), report.get("cpu")
    rows = []
    if lat:
        r, p, n = lat["reattach"], lat["new_plain"], lat["new_rt"]
        rows += [
            ("reattach: request sent -> first replayed byte (ms)", r["sent_to_first_byte"]),
            ("reattach: request sent -> end of replay of %d events (ms)" % lat["missed_events"],
             r["sent_to_replay_end"]),
            ("reattach: connect -> first replayed byte (ms)", r["connect_to_first_byte"]),
            ("new request, no ride-through: connect -> first byte (ms)", p["connect_to_first_byte"]),
            ("new request, no ride-through: request sent -> first byte (ms)", p["sent_to_first_byte"]),
            ("new request, ride-through route: connect -> first byte (ms)", n["connect_to_first_byte"]),
        ]
        if "reattach_handed_over" in lat:
            same, handed = lat["reattach_same_loop"], lat["reattach_handed_over"]
            rows += [
                ("reattach accepted on the stream's loop (%d): sent -> first replayed byte (ms)"
                 % same["sent_to_first_byte"]["n"], same["sent_to_first_byte"]),
                ("reattach handed over from another loop (%d): sent -> first replayed byte (ms)"
                 % handed["sent_to_first_byte"]["n"], handed["sent_to_first_byte"]),
            ]
        rows = [(name, "%.3f / %.3f" % (v["p50_ms"], v["p99_ms"])) for name, v in rows]
    if mem:
        rt, pl = mem["ride_through"], mem["plain"]
        rows += [
            ("RSS before / %d attached / %d detached, ride-through (MiB)" % (mem["streams"], mem["streams"]),
             "%.1f / %.1f / %.1f" % (rt["rss_before_kib"] / 1024, rt["rss_attached_kib"] / 1024,
                                     rt["rss_detached_kib"] / 1024)),
            ("RSS per stream, ride-through: attached / detached (KiB)",
             "%.2f / %.2f" % (rt["attached_kib_per_stream"], rt["detached_kib_per_stream"])),
            ("replay buffer bytes per detached stream (metrics)", "%.0f" % rt["buffer_bytes_per_detached_stream"]),
            ("RSS before / %d attached / closed, no ride-through (MiB)" % mem["streams"],
             "%.1f / %.1f / %.1f" % (pl["rss_before_kib"] / 1024, pl["rss_attached_kib"] / 1024,
                                     pl["rss_after_close_kib"] / 1024)),
            ("RSS per stream, no ride-through: attached (KiB)", "%.2f" % pl["attached_kib_per_stream"]),
        ]
    if cpu:
        med = cpu["median_cpu_s_per_million"]

        def each(mode):
            return ", ".join("%.1f" % r["cpu_s_per_million"] for r in cpu["runs"] if r["mode"] == mode)

        others = ", ".join("%.0f" % r["other_processes_cpu_pct"] for r in cpu["runs"])
        rows += [
            ("proxy CPU-s per 1M events, ride-through (median of %d)" % cpu["repeats"],
             "%.2f (runs: %s)" % (med["rt"], each("rt"))),
            ("proxy CPU-s per 1M events, no ride-through (median of %d)" % cpu["repeats"],
             "%.2f (runs: %s)" % (med["plain"], each("plain"))),
            ("ratio ride-through / none", "%.3f" % cpu["ratio"]),
            ("other processes' CPU during each run, in run order (% of a core)", others),
        ]
    return rows


def render(report, markdown):
    rows = rows_of(report)
    if markdown:
        lines = ["| figure | value (latency: p50 / p99) |", "| --- | --- |"] + ["| %s | %s |" % r for r in rows]
    else:
        width = max(len(r[0]) for r in rows)
        lines = ["%s  %s" % (name.ljust(width), value) for name, value in rows]
    return "\n".join(lines)


def parse_arguments(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=compare.SSEKEEPER_BIN, help="ssekeeper (default: the release build)")
    ap.add_argument("--quick", action="store_true", help="tiny settings for a smoke run (under 30 s)")
    ap.add_argument("--only", default="latency,memory,cpu", help="comma-separated parts to run")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--loops", type=int, default=1,
                    help="event_loops of the reattach-latency part's proxy; with 2 or more, its table splits the "
                         "reattaches handed over to the stream's loop from those accepted on it")
    ap.add_argument("--missed", type=int, default=20, help="events sent while the client is away")
    ap.add_argument("--streams", type=int, default=2000, help="streams in the memory part")
    ap.add_argument("--rate", type=int, default=20000, help="events/s in the CPU part")
    ap.add_argument("--cpu-streams", type=int, default=200)
    ap.add_argument("--cpu-seconds", type=float, default=15.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", metavar="PATH", help="also write the JSON summary here")
    args = ap.parse_args(argv)
    if args.quick:
        args.trials, args.streams, args.rate, args.cpu_streams = 20, 50, 2000, 20
        args.cpu_seconds, args.repeats = 2.0, 1
    return args


def main(argv):
    args = parse_arguments(argv)
    if not os.access(args.binary, os.X_OK):
        print("ridethrough: no ssekeeper binary at %s (swift build -c release)" % args.binary, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a timeout's SIGTERM still stops our processes
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if 2 * args.streams + 200 > hard:
        print("ridethrough: %d streams need more than RLIMIT_NOFILE %d" % (args.streams, hard), file=sys.stderr)
        return 2
    parts = {"latency": part_latency, "memory": part_memory, "cpu": part_cpu}
    report = {"binary": args.binary, "cpus": os.cpu_count(), "quick": args.quick}
    status = 0
    for name in args.only.split(","):
        started = time.monotonic()
        try:
            report[name] = parts[name](args)
        except (Broken, compare.SetupError, subprocess.TimeoutExpired) as e:
            report.setdefault("broken", {})[name] = str(e)
            status = 1
        print("ridethrough: %s took %.1f s" % (name, time.monotonic() - started), file=sys.stderr)
    print(render(report, args.markdown))
    if report.get("broken"):
        print("BROKEN: %s" % report["broken"])
    text = json.dumps(report)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
