#!/usr/bin/env python3
"""CPU per new stream (or per paced or saturated event, or added latency) of several ssekeeper builds (and nginx), measured in
alternating rounds: an A/B for the new-stream path and the per-event path.

    python3 Benchmarks/abtest.py before=/tmp/before/ssekeeper after=.build/release/ssekeeper nginx
    python3 Benchmarks/abtest.py --rate 3000 --seconds 4 --rounds 6 --json /tmp/ab.json shared=A static=B nginx
    python3 Benchmarks/abtest.py --workload paced --rounds 8 sk=.build/release/ssekeeper nginx
    python3 Benchmarks/abtest.py --workload saturated --rounds 6 sk=.build/release/ssekeeper nginx
    python3 Benchmarks/abtest.py --workload latency --rounds 8 sk=.build/release/ssekeeper nginx
    python3 Benchmarks/abtest.py --workload heartbeats --rounds 8 before=/tmp/before/ssekeeper sk=.build/release/ssekeeper direct

Why: one build's CPU per new stream moves 5-15 % between compare.py runs on the 2-core machine (docs/BENCHMARKS.md,
"Exact CPU readings"), as much as most changes to the path save, and two builds measured in separate runs differ
by whatever the machine did meanwhile. Here every round runs each build once, in alternating order (A B C, then
C B A), so a drift of the machine lands on all of them; the medians over the rounds are the figures to compare.
counts.py says whether a change removed calls; this says whether it removed time.

Each run is a fresh proxy (compare.py's: one event loop or one nginx worker, pinned to --proxy-cpus) serving the
load tool's `connrate` workload for one step (--rate new streams/s for --seconds; each stream connects, sends its
request, reads the head and the first event and closes), with the load tool pinned to --tool-cpus. Per run:
  - CPU per new stream: the proxy's CPU in the step (the load tool reads it exactly, clock_getcpuclockid) divided
    by the streams completed;
  - its user and system parts, from /proc/PID/task/*/stat (10 ms ticks, attributed by sampling: read them as a
    split, not to the microsecond).
With --workload paced, each run is compare.py's paced throughput phase instead: 100 open streams, --rate events/s
(default 10,000) spread over them, one send() per event, for --seconds; the figures are per event (CPU, its user
and system parts, and the proxy's context switches), the same reading as compare.py's "CPU per 1M events, paced",
whose three runs moved 10-35 % between runs of one build on the 2-core machine (docs/BENCHMARKS.md).
With --workload saturated, each run is compare.py's saturated throughput phase alone for --seconds (default 8): 100
streams, the backend sending as fast as the load tool can (8 events of 100 bytes per send()); the figure is the
proxy's CPU per event in the window (compare.py's "CPU per 1M events, saturated", in microseconds), with the
events/s and the load tool's CPU, which is at or near a full core: the events/s are the rig's, not the proxy's.
A run fails unless every event sent arrived.
With --workload latency, each round also runs the direct path (no proxy), and each run is compare.py's latency
workload for --seconds (default 10): 1,000 streams, each sent one event a second; the figures are the added
latency p50 / p99 (the path's percentile of the kernel receive times minus the direct path's in the same round),
in microseconds. `cpu_us` is then the proxy's CPU per event.
With --workload heartbeats, each run is compare.py's heartbeats workload for --seconds (default 15): 9,000 silent
streams (--streams), one heartbeat a second each; the figure is the proxy's CPU in % of a core (and the heartbeats'
lateness p99), the reading of compare.py's "heartbeats" row, whose single runs move by a point or more. nginx sends
no heartbeats; `direct` is the floor instead, compare.py's minimal C sender of the same bytes.
A build is NAME=PATH; `nginx` is Debian's nginx (bash Benchmarks/install.sh). Exit status 0 when every run
completed at least 99 % of its streams (or events; saturated: all), 1 when a run failed, 2 on setup errors.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402  (the proxies, the load tool, pinning)
import counts  # noqa: E402  (run_load: one connrate step; run_tool: the load tool)


def cpu_ticks(pids):
    """(user, system) seconds of every thread of `pids`, from /proc (10 ms ticks)."""
    user = system = 0
    for pid in pids:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:  # the thread ended meanwhile
                continue
            user += int(fields[11])
            system += int(fields[12])
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, system / tick


def paced_load(proxy_port, backend_port, pids, args):
    """The load tool's throughput workload, its paced phase only (the saturated one cut to 0.2 s); its JSON."""
    return counts.run_tool("throughput", proxy_port, backend_port, pids,
                    ["--streams", "100", "--event-size", "100", "--paced-rate", str(args.rate), "--paced-duration",
                     str(args.seconds), "--duration", "0.2", "--batch", str(compare.SATURATED_BATCH)], args)


def saturated_load(proxy_port, backend_port, pids, args):
    """The load tool's throughput workload, its saturated phase only (no paced phase); its JSON."""
    return counts.run_tool("throughput", proxy_port, backend_port, pids,
                    ["--streams", "100", "--event-size", "100", "--duration", "%g" % args.seconds,
                     "--batch", str(compare.SATURATED_BATCH)], args)


def latency_load(target_port, backend_port, pids, args):
    """The load tool's latency workload (1,000 streams, one event each per second); its JSON."""
    return counts.run_tool("latency", target_port, backend_port, pids,
                    ["--streams", "1000", "--duration", str(args.seconds)], args)


def latency_run(spec, args, nofile, cpus):
    """{"p50_us", "p99_us", "cpu_us", "completed", "expected"} of one latency run (the direct path when spec is
    "direct"): kernel-clock percentiles, not yet the direct path's subtracted."""
    if spec == "direct":
        backend = compare.free_port()
        load = latency_load(backend, backend, [], args)
    else:
        path = (compare.Nginx(compare.find_nginx(), nofile, cpus=cpus) if spec == "nginx"
                else compare.SSEKeeper(spec.split("=", 1)[1], cpus=cpus))
        backend = compare.free_port()
        port = path.start(backend, "latency")
        try:
            time.sleep(0.3)
            load = latency_load(port, backend, path.pids, args)
        finally:
            path.stop()
    kernel = load["latency_kernel"]
    done = kernel["n"] or 1
    return {"p50_us": kernel["p50"] * 1e3, "p99_us": kernel["p99"] * 1e3,
            "cpu_us": load["proxy_cpu_s"] / done * 1e6 if load["proxy_cpu_s"] >= 0 else 0.0,
            "completed": kernel["n"], "expected": int(1000 * args.seconds)}


def heartbeat_run(spec, args, nofile, cpus):
    """{"cpu_pct", "late_p99_ms", "completed", "expected"} of one heartbeats run: `spec` a build or "direct" (the
    floor: compare.py's heartbeat sender where the proxy would be)."""
    path = compare.Direct(cpus=cpus) if spec == "direct" else compare.SSEKeeper(spec.split("=", 1)[1], cpus=cpus)
    backend = compare.free_port()
    port = path.start(backend, "heartbeats")
    try:
        time.sleep(0.3)
        options = ["--streams", str(args.streams), "--duration", "%g" % args.seconds,
                   "--interval-ms", str(compare.HEARTBEAT_INTERVAL_MS)]
        if getattr(path, "remote_backend", False):
            options.append("--remote-backend")  # the sender answers the streams itself
        load = counts.run_tool("heartbeats", port, backend, path.pids, options, args)
    finally:
        path.stop()
    return {"cpu_pct": 100 * load["proxy_cpu_s"] / load["wall_s"], "late_p99_ms": load["lateness"]["p99"],
            "completed": load["window_heartbeats"], "expected": load["expected_heartbeats"],
            "silent_streams": load["streams_without_heartbeat"]}


def one_run(spec, args, nofile, cpus):
    """{"cpu_us", "user_us", "system_us", "completed", "expected"} of one fresh proxy under one connrate step
    (per new stream), or under the paced phase (per event, with "ctxsw"); with --workload latency, latency_run's."""
    if args.workload == "latency":
        return latency_run(spec, args, nofile, cpus)
    if args.workload == "heartbeats":
        return heartbeat_run(spec, args, nofile, cpus)
    if spec == "nginx":
        path = compare.Nginx(compare.find_nginx(), nofile, cpus=cpus)
    else:
        path = compare.SSEKeeper(spec.split("=", 1)[1], cpus=cpus)
    backend = compare.free_port()
    port = path.start(backend, "throughput" if args.workload in ("paced", "saturated") else "connrate")
    try:
        time.sleep(0.3)
        measured = [path.worker] if isinstance(path, compare.Nginx) else path.pids
        user0, system0 = cpu_ticks(measured)
        if args.workload == "paced":
            window = paced_load(port, backend, path.pids, args)["paced"]
        elif args.workload == "saturated":
            window = saturated_load(port, backend, path.pids, args)
        else:
            window = counts.run_load(port, backend, path.pids, args)["steps"][0]
        user1, system1 = cpu_ticks(measured)
    finally:
        path.stop()
    if args.workload in ("paced", "saturated"):
        # per event: the exact CPU over the window's events; the ticks span the whole run (streams opened, the
        # other phase), so they only split it into user and system
        paced = args.workload == "paced"
        done = (window["events"] if paced else window["window_events"]) or 1
        ticks = (user1 - user0) + (system1 - system0) or 1
        cpu_us = window["proxy_cpu_s"] / done * 1e6
        run = {"cpu_us": cpu_us, "user_us": cpu_us * (user1 - user0) / ticks,
               "system_us": cpu_us * (system1 - system0) / ticks, "ctxsw": window["proxy_ctxsw"] / done,
               "completed": window["events"]}
        if paced:
            run["expected"] = int(args.rate * args.seconds)
        else:  # compare.py's "CPU per 1M events, saturated", with the rig's events/s and the tool's CPU beside it
            run.update(expected=window["sent"], events_per_s=window["events_per_s"],
                       tool_cpu_pct=100 * window["loadgen_cpu_s"] / window["wall_s"])
        return run
    done = window["completed"] or 1
    return {"cpu_us": window["proxy_cpu_s"] / done * 1e6, "user_us": (user1 - user0) / done * 1e6,
            "system_us": (system1 - system0) / done * 1e6, "completed": window["completed"],
            "expected": int(args.rate * args.seconds)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("builds", nargs="+", metavar="NAME=PATH|nginx", help="the builds to compare, and nginx")
    ap.add_argument("--workload", choices=("connrate", "paced", "saturated", "latency", "heartbeats"),
                    default="connrate",
                    help="connrate: CPU per new stream; paced: CPU per event of the paced throughput phase; "
                    "saturated: CPU per event of the saturated phase; "
                    "latency: added latency p50 / p99 over the direct path; heartbeats: CPU for 9,000 "
                    "heartbeating streams (with `direct`, the floor)")
    ap.add_argument("--streams", type=int, default=9000, help="heartbeating streams (--workload heartbeats)")
    ap.add_argument("--rate", type=int, help="new streams per second (default 3000), or with --workload paced "
                    "events per second (default %d)" % compare.PACED_RATE)
    ap.add_argument("--seconds", type=float, help="length of each run's step (default 4; saturated: 8; latency: 10; heartbeats: 15)")
    ap.add_argument("--rounds", type=int, default=6, help="rounds; each runs every build once (default %(default)s)")
    ap.add_argument("--proxy-cpus", default="1", help="CPUs the proxy is pinned to (default %(default)s)")
    ap.add_argument("--tool-cpus", default="0", help="CPUs the load tool is pinned to (default %(default)s)")
    ap.add_argument("--json", help="write every run and the medians here")
    args = ap.parse_args()
    if args.rate is None:
        args.rate = compare.PACED_RATE if args.workload == "paced" else 3000
    if args.seconds is None:
        args.seconds = {"saturated": 8, "latency": 10, "heartbeats": 15}.get(args.workload, 4)

    names = []
    for spec in args.builds:
        if spec == "direct" and args.workload == "heartbeats":
            names.append("direct")
            continue
        if spec == "nginx" and args.workload == "heartbeats":
            print("abtest: nginx sends no heartbeats; `direct` is the floor of that workload", file=sys.stderr)
            return 2
        if spec == "nginx":
            if not compare.find_nginx():
                print("abtest: nginx is needed (bash Benchmarks/install.sh)", file=sys.stderr)
                return 2
            names.append("nginx")
            continue
        name, sep, binary = spec.partition("=")
        if not sep or not name or not os.access(binary, os.X_OK):
            print("abtest: %r is not NAME=PATH of an executable" % spec, file=sys.stderr)
            return 2
        names.append(name)
    if len(set(names)) != len(names):
        print("abtest: two builds share a name: %s" % ", ".join(names), file=sys.stderr)
        return 2
    compare.build_loadgen()
    nofile = compare.raise_nofile()
    cpus = compare.parse_cpus(args.proxy_cpus)
    heartbeats = args.workload == "heartbeats"
    saturated = args.workload == "saturated"
    runs = {name: [] for name in names}
    failed = False
    latency = args.workload == "latency"
    for round_index in range(args.rounds):
        order = list(zip(names, args.builds))
        if round_index % 2:
            order.reverse()
        floor = None
        if latency:  # the floor of this round, subtracted from each path's percentiles
            try:
                floor = one_run("direct", args, nofile, cpus)
            except compare.Broken as e:
                print("abtest: direct, round %d: %s" % (round_index + 1, e), file=sys.stderr)
                failed = True
                continue
        for name, spec in order:
            try:
                run = one_run(spec, args, nofile, cpus)
            except compare.Broken as e:
                print("abtest: %s, round %d: %s" % (name, round_index + 1, e), file=sys.stderr)
                failed = True
                continue
            if heartbeats and (run["silent_streams"] or run["completed"] < 0.5 * run["expected"]):
                # judged as compare.py judges a heartbeat run: a heartbeat due at the window's edge may land
                # just outside it, so a short window counts up to one a stream fewer than "expected"
                print("abtest: %s, round %d: %d of about %d heartbeats in the window, %d streams without one" % (
                    name, round_index + 1, run["completed"], run["expected"], run["silent_streams"]),
                    file=sys.stderr)
                failed = True
            elif saturated and run["completed"] < run["expected"]:
                # as compare.py judges a throughput run: every event sent must arrive
                print("abtest: %s, round %d: %d of %d events arrived" % (
                    name, round_index + 1, run["completed"], run["expected"]), file=sys.stderr)
                failed = True
            elif not heartbeats and run["completed"] < 0.99 * run["expected"]:
                print("abtest: %s, round %d: %d of %d %s completed" % (
                    name, round_index + 1, run["completed"], run["expected"],
                    {"connrate": "streams", "heartbeats": "heartbeats"}.get(args.workload, "events")),
                    file=sys.stderr)
                failed = True
            if floor:
                run["added_p50_us"] = run["p50_us"] - floor["p50_us"]
                run["added_p99_us"] = run["p99_us"] - floor["p99_us"]
                run["direct_p50_us"], run["direct_p99_us"] = floor["p50_us"], floor["p99_us"]
            runs[name].append(run)
        if latency:
            print("round %d: direct p50 / p99 %.1f / %.1f us; added: %s" % (
                round_index + 1, floor["p50_us"], floor["p99_us"], ", ".join(
                    "%s %.1f / %.1f" % (n, runs[n][-1]["added_p50_us"], runs[n][-1]["added_p99_us"])
                    for n in names if runs[n])), flush=True)
        elif heartbeats:
            print("round %d: %s" % (round_index + 1, ", ".join(
                "%s %.2f %% (late p99 %.1f ms)" % (n, runs[n][-1]["cpu_pct"], runs[n][-1]["late_p99_ms"])
                for n in names if runs[n])), flush=True)
        elif saturated:
            print("round %d: %s" % (round_index + 1, ", ".join(
                "%s %.3f us (%.0f events/s, load tool %.0f %%)" % (
                    n, runs[n][-1]["cpu_us"], runs[n][-1]["events_per_s"], runs[n][-1]["tool_cpu_pct"])
                for n in names if runs[n])), flush=True)
        else:
            print("round %d: %s" % (round_index + 1, ", ".join(
                "%s %.1f us (user %.1f)" % (n, runs[n][-1]["cpu_us"], runs[n][-1]["user_us"])
                for n in names if runs[n])), flush=True)
    if latency:
        keys = ("added_p50_us", "added_p99_us", "direct_p50_us", "direct_p99_us", "cpu_us")
    elif heartbeats:
        keys = ("cpu_pct", "late_p99_ms")
    elif saturated:
        keys = ("cpu_us", "user_us", "system_us", "ctxsw", "events_per_s", "tool_cpu_pct")
    else:
        keys = ("cpu_us", "user_us", "system_us") + (("ctxsw",) if args.workload == "paced" else ())
    medians = {n: {k: statistics.median(r[k] for r in rs) for k in keys} for n, rs in runs.items() if rs}
    if latency:
        print("\nAdded latency over the direct path, median of %d rounds of %g s (kernel receive times):"
              % (args.rounds, args.seconds))
        for name in names:
            if name in medians:
                m = medians[name]
                print("  %-12s p50 %6.1f us   p99 %6.1f us   (direct %.1f / %.1f)   CPU per event %.1f us" % (
                    name, m["added_p50_us"], m["added_p99_us"], m["direct_p50_us"], m["direct_p99_us"],
                    m["cpu_us"]))
    elif heartbeats:
        print("\nCPU for %d streams, one heartbeat a second each, median of %d rounds of %g s:" % (
            args.streams, args.rounds, args.seconds))
        for name in names:
            if name in medians:
                m = medians[name]
                lower = ""
                if name != "direct" and medians.get("direct", {}).get("cpu_pct"):
                    lower = "   (%.2f x the floor)" % (m["cpu_pct"] / medians["direct"]["cpu_pct"])
                print("  %-12s %6.2f %% of a core   lateness p99 %5.1f ms%s" % (
                    name, m["cpu_pct"], m["late_p99_ms"], lower))
    elif saturated:
        print("\nCPU per saturated event, median of %d rounds of %g s (user + system from /proc ticks):" % (
            args.rounds, args.seconds))
        for name in names:
            if name in medians:
                m = medians[name]
                print("  %-12s %6.3f us   user %5.3f  system %5.3f   %.0f events/s, load tool %.0f %% of a core" % (
                    name, m["cpu_us"], m["user_us"], m["system_us"], m["events_per_s"], m["tool_cpu_pct"]))
    else:
        print("\nCPU per %s, median of %d rounds at %d/s (user + system from /proc ticks):" % (
            "paced event" if args.workload == "paced" else "new stream", args.rounds, args.rate))
        for name in names:
            if name in medians:
                m = medians[name]
                print("  %-12s %6.1f us   user %5.1f  system %5.1f%s" % (
                    name, m["cpu_us"], m["user_us"], m["system_us"],
                    "   context switches %.3f" % m["ctxsw"] if "ctxsw" in m else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"workload": args.workload, "rate": args.rate, "seconds": args.seconds, "rounds": args.rounds,
                       "builds": args.builds,
                       "runs": runs, "medians": medians,
                       "runtimes": {n: compare.swift_runtime(s.split("=", 1)[1]) for n, s in zip(names, args.builds)
                                    if "=" in s}}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
