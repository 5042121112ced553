#!/usr/bin/env python3
"""What one new stream costs in calls, counted rather than timed: ssekeeper beside nginx.

    swift build -c release --static-swift-stdlib     # the build that ships (a plain release build works too)
    python3 Benchmarks/counts.py                                 # both proxies, 2,000 streams at 500/s, ~30 s
    python3 Benchmarks/counts.py --paths ssekeeper --json /tmp/counts.json
    python3 Benchmarks/counts.py --rate 3000 --times               # and the time inside each call, ~1 min

Why: on the 2-core virtual machine the proxies are benchmarked on, one build's CPU per new stream moves 10-15 %
between runs (docs/BENCHMARKS.md, "Exact CPU readings"), more than most changes to the new-stream path save. The
number of calls a stream makes does not move, so it tells whether a change removed work before a timed run can.

For each path a fresh proxy (compare.py's: one event loop, or one nginx worker; pinned with --proxy-cpus) serves
the load tool's `connrate` workload (one step: --rate new streams/s for --seconds; each stream connects, sends its
request, reads the head and the first event and closes) twice:
  1. under `strace -f -c`, attached to the proxy (nginx: its worker): system calls by name;
  2. under `perf stat` with uprobes: libc's malloc and clock_gettime and, for ssekeeper, libswiftCore's
     swift_retain, swift_release, swift_bridgeObjectRetain, swift_bridgeObjectRelease, swift_beginAccess (the
     dynamic exclusivity checks) and swift_allocObject. The probes are added with `perf probe` where missing, on the
     libraries the running proxy maps.
Each count is divided by the streams the load tool completed in that run. The counters are attached before the load
starts and stopped after it ends, so an idle proxy's few calls around the window are in the figures too.

With --times, a third run per path records every system call's entry and exit (perf's raw_syscalls tracepoints, on
the loop thread or nginx's worker) and gives the time spent inside each call per new stream, the waits
(epoll_wait) left out: where the kernel's share of a stream goes, call by call. Tracing costs a few microseconds
per call, more for the path that makes more calls, so compare the calls with each other, not the total with a run
without --times.

Needs root (uprobes), perf and strace. Exit status 0 when every run completed, 1 when a run failed, 2 on setup
errors (no binary, no perf or strace, no uprobe support).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402  (Benchmarks/compare.py: the proxies, the load tool, pinning)
import compare_loops  # noqa: E402  (role_of: which of a process's threads are its event loops)

SWIFT_CALLS = ["swift_retain", "swift_release", "swift_bridgeObjectRetain", "swift_bridgeObjectRelease",
               "swift_beginAccess", "swift_allocObject"]
LIBC_CALLS = ["malloc", "clock_gettime"]


def mapped_library(pid, name):
    """The path of the library `name` (e.g. `libswiftCore.so`) as process `pid` maps it, or None."""
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 6 and os.path.basename(fields[-1]).startswith(name):
                return fields[-1]
    return None


def probe_group(library):
    """perf's event group for uprobes on `library`: probe_libc, probe_libswiftCore."""
    return "probe_" + re.sub(r"[^A-Za-z0-9_]", "_", os.path.basename(library).split(".so")[0])


def ensure_probes(library, functions):
    """Adds the uprobes `probe_<lib>:<function>` that do not exist yet; returns the event names."""
    listed = subprocess.run(["perf", "probe", "-l"], capture_output=True, text=True).stdout
    group = probe_group(library)
    events = []
    for function in functions:
        event = "%s:%s" % (group, function)
        if event not in listed:
            r = subprocess.run(["perf", "probe", "-q", "-x", library, function], capture_output=True, text=True)
            if r.returncode != 0:
                raise compare.SetupError("perf probe -x %s %s failed: %s" % (library, function, r.stderr.strip()))
        events.append(event)
    return events


def run_tool(workload, target_port, backend_port, pids, options, args):
    """The load tool's `workload` with `options`, pinned to --tool-cpus, reading the CPU of `pids` (none: the
    direct path); its JSON. abtest.py runs its workloads through this too."""
    cmd = [compare.LOADGEN_BIN, workload, "--target", str(target_port), "--backend", str(backend_port)] + options
    if pids:
        cmd += ["--pids", ",".join(map(str, pids))]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120 + 3 * args.seconds,
                       preexec_fn=compare.pinned(compare.parse_cpus(args.tool_cpus or None)))
    if r.returncode != 0:
        raise compare.Broken("the load tool failed (%d): %s" % (r.returncode, r.stderr.strip()[-300:]))
    return json.loads(r.stdout)


def run_load(proxy_port, backend_port, pids, args):
    """The load tool's connrate workload, one step; returns its JSON."""
    return run_tool("connrate", proxy_port, backend_port, pids,
                    ["--steps", str(args.rate), "--step-duration", str(args.seconds), "--connrate-p99-ms", "1000"],
                    args)


def completed(load):
    steps = load.get("steps") or []
    return steps[0]["completed"] if steps else 0


def parse_strace(path):
    """{syscall: calls} from `strace -c` output."""
    calls = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            # % time, seconds, usecs/call, calls, [errors,] syscall
            if len(parts) >= 5 and re.match(r"^\d+\.\d+$", parts[0]) and parts[-1] != "total":
                calls[parts[-1]] = int(parts[3])
    calls.pop("restart_syscall", None)  # the syscall strace interrupted when it attached
    return calls


def parse_perf_stat(path):
    """{event: count} from `perf stat -x,` output."""
    counts = {}
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) >= 3 and parts[0].strip().isdigit():
                counts[parts[2]] = int(parts[0])
    return counts


SYSCALL_NAMES = {0: "read", 1: "write", 3: "close", 12: "brk", 16: "ioctl", 19: "readv", 20: "writev",
                 28: "madvise", 41: "socket", 42: "connect", 43: "accept", 44: "sendto", 45: "recvfrom",
                 46: "sendmsg", 47: "recvmsg", 48: "shutdown", 51: "getsockname", 52: "getpeername",
                 54: "setsockopt", 55: "getsockopt", 72: "fcntl", 232: "epoll_wait", 233: "epoll_ctl",
                 281: "epoll_pwait", 288: "accept4", 441: "epoll_pwait2"}
WAITS = {"epoll_wait", "epoll_pwait", "epoll_pwait2"}


def serving_threads(path):
    """The threads that serve streams: nginx's worker, or ssekeeper's event-loop threads, told apart as compare.py's
    per-thread split tells them (`compare_loops.role_of`)."""
    if isinstance(path, compare.Nginx):
        return [path.worker]
    threads = []
    for pid in path.pids:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    thread = {"comm": f.read().strip(), "tid": int(tid), "pid": pid}
            except OSError:
                continue
            if compare_loops.role_of(thread, path.pids[0]) == "loops":
                threads.append(thread["tid"])
    if not threads:
        raise compare.Broken("%s: no event-loop thread found" % path.name)
    return threads


def parse_syscall_times(script_output):
    """{name: (calls, seconds inside)} from `perf script` lines of raw_syscalls enter and exit events; waits count
    their calls but not their time (asleep, not working)."""
    entered, calls, inside = {}, {}, {}
    pattern = re.compile(r"\s*(\d+)\s+([\d.]+):\s+raw_syscalls:sys_(enter|exit):\s+NR (\d+)")
    for line in script_output.splitlines():
        m = pattern.match(line)
        if not m:
            continue
        tid, when, kind, number = int(m.group(1)), float(m.group(2)), m.group(3), int(m.group(4))
        if kind == "enter":
            entered[tid] = (number, when)
            continue
        started = entered.pop(tid, None)
        if started is None or started[0] != number:
            continue
        name = SYSCALL_NAMES.get(number, "syscall %d" % number)
        calls[name] = calls.get(name, 0) + 1
        if name not in WAITS:
            inside[name] = inside.get(name, 0.0) + (when - started[1])
    return {name: (calls[name], inside.get(name, 0.0)) for name in calls}


def one_run(path, mode, args):
    """One fresh proxy, one load under `mode` ("strace", "perf" or "times"): ({name: calls per stream, or for
    "times" {name: [calls, microseconds inside] per stream}}, streams)."""
    backend = compare.free_port()
    port = path.start(backend, "connrate")
    try:
        time.sleep(0.3)
        # nginx's worker serves the streams (its master only watches it); ssekeeper is one process
        target = [path.worker] if isinstance(path, compare.Nginx) else path.pids
        if mode == "times":
            out = os.path.join(path.dir, "syscalls.data")
            tracer = subprocess.Popen(["perf", "record", "-q", "-m", "1024", "-e",
                                       "raw_syscalls:sys_enter,raw_syscalls:sys_exit", "-t",
                                       ",".join(map(str, serving_threads(path))), "-o", out],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elif mode == "strace":
            out = os.path.join(path.dir, "strace.txt")
            tracer = subprocess.Popen(["strace", "-f", "-c", "-o", out] + sum((["-p", str(p)] for p in target), []),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            events = ensure_probes(args.libc, LIBC_CALLS)
            if isinstance(path, compare.SSEKeeper):
                swift_core = mapped_library(path.proc.pid, "libswiftCore.so")
                if swift_core:  # a static build (--static-swift-stdlib) has the runtime inside the binary
                    events += ensure_probes(swift_core, SWIFT_CALLS)
            out = os.path.join(path.dir, "perf-stat.txt")
            tracer = subprocess.Popen(["perf", "stat", "-x,", "-o", out, "-e", ",".join(events),
                                       "-p", ",".join(map(str, target))],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # strace and perf attach
        load = run_load(port, backend, path.pids, args)
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
        if mode == "times":
            script = subprocess.run(["perf", "script", "-i", out, "-F", "tid,time,event,trace"],
                                    capture_output=True, text=True, timeout=300).stdout
            counts = parse_syscall_times(script)
        else:
            counts = parse_strace(out) if mode == "strace" else parse_perf_stat(out)
    finally:
        info = path.stop()
    streams = completed(load)
    if streams == 0:
        raise compare.Broken("%s: no stream completed under %s (%s)" % (path.name, mode, info))
    if mode == "times":
        cpu = load["steps"][0]["proxy_cpu_s"]
        per_stream = {name: [calls / streams, seconds / streams * 1e6] for name, (calls, seconds) in counts.items()}
        return {"calls": per_stream, "cpu_us": cpu / streams * 1e6 if cpu >= 0 else None}, streams
    return {name: count / streams for name, count in counts.items()}, streams


def table(results, paths):
    names = []
    for kind in ("perf", "strace"):
        for p in paths:
            for name in results[p][kind]["per_stream"]:
                if (kind, name) not in names:
                    names.append((kind, name))
    syscalls = sorted((n for n in names if n[0] == "strace"),
                      key=lambda n: -max(results[p]["strace"]["per_stream"].get(n[1], 0) for p in paths))
    rows = [n for n in names if n[0] == "perf"] + [("strace", "(all system calls)")] + syscalls
    width = max(len(n[1].split(":")[-1]) for n in rows) + 4
    lines = ["%-*s" % (width, "calls per new stream") + "".join("%12s" % p for p in paths)]
    for kind, name in rows:
        label = ("  " if kind == "strace" and not name.startswith("(") else "") + name.split(":")[-1]
        cells = []
        for p in paths:
            per = results[p][kind]["per_stream"]
            value = sum(per.values()) if name == "(all system calls)" else per.get(name)
            cells.append("%12s" % ("n/a" if value is None else "%.1f" % value))
        lines.append("%-*s" % (width, label) + "".join(cells))
    lines.append("streams per run: " + ", ".join("%s %s" % (p, "/".join(str(results[p][k]["streams"])
                                                                        for k in ("perf", "strace")))
                                                for p in paths))
    return "\n".join(lines)


def times_table(results, paths):
    """Microseconds inside each system call per new stream (and its calls), under tracing."""
    names = sorted({n for p in paths for n in results[p]["times"]["per_stream"]["calls"]},
                   key=lambda n: -max(results[p]["times"]["per_stream"]["calls"].get(n, [0, 0])[1] for p in paths))
    width = max([len(n) + len(" (asleep: not counted)") for n in names] + [34]) + 4
    lines = ["%-*s" % (width, "us inside the call per new stream") + "".join("%24s" % p for p in paths)]
    total = {p: 0.0 for p in paths}
    for name in names:
        cells = []
        for p in paths:
            calls, micros = results[p]["times"]["per_stream"]["calls"].get(name, [0, 0])
            total[p] += micros
            cells.append("%24s" % ("%.2f (%.2f calls)" % (micros, calls) if calls else "-"))
        lines.append("%-*s" % (width, "  " + name + (" (asleep: not counted)" if name in WAITS else ""))
                     + "".join(cells))
    lines.append("%-*s" % (width, "(all calls but the waits)") + "".join("%24.1f" % total[p] for p in paths))
    cpu = [results[p]["times"]["per_stream"]["cpu_us"] for p in paths]
    lines.append("%-*s" % (width, "proxy CPU per stream, traced") + "".join(
        "%24s" % ("%.1f" % c if c is not None else "n/a") for c in cpu))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=compare.SSEKEEPER_BIN, help="ssekeeper (default: the release build)")
    ap.add_argument("--paths", default="ssekeeper,nginx", help="comma-separated: ssekeeper, nginx")
    ap.add_argument("--rate", type=int, default=500, help="new streams per second")
    ap.add_argument("--seconds", type=float, default=4.0, help="length of the load")
    ap.add_argument("--proxy-cpus", default="1", help="CPUs the proxy is pinned to (taskset list; '' for none)")
    ap.add_argument("--tool-cpus", default="0", help="CPUs the load tool is pinned to")
    ap.add_argument("--libc", default="/usr/lib/x86_64-linux-gnu/libc.so.6", help="the C library to probe")
    ap.add_argument("--times", action="store_true",
                    help="also time every system call (perf raw_syscalls): microseconds inside each per stream")
    ap.add_argument("--json", metavar="PATH", help="also write every figure here")
    args = ap.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    try:
        if os.geteuid() != 0:
            raise compare.SetupError("uprobes need root")
        for tool in ("perf", "strace"):
            if not shutil.which(tool):
                raise compare.SetupError("%s is needed (apt-get install %s)" % (tool, "linux-perf" if tool == "perf"
                                                                                 else tool))
        if not os.path.exists(args.libc):
            raise compare.SetupError("no C library at %s (--libc)" % args.libc)
        compare.build_loadgen()
        nofile = compare.raise_nofile()
        cpus = compare.parse_cpus(args.proxy_cpus or None)
        runners = {}
        if "ssekeeper" in paths:
            if not os.access(args.binary, os.X_OK):
                raise compare.SetupError("no ssekeeper binary at %s (run: swift build -c release --static-swift-stdlib)"
                                         % args.binary)
            runners["ssekeeper"] = compare.SSEKeeper(args.binary, cpus=cpus)
        if "nginx" in paths:
            nginx = compare.find_nginx()
            if not nginx:
                raise compare.SetupError("nginx is needed (bash Benchmarks/install.sh)")
            runners["nginx"] = compare.Nginx(nginx, nofile, cpus=cpus)
    except compare.SetupError as e:
        print("counts.py: %s" % e, file=sys.stderr)
        return 2
    results = {}
    try:
        for name in paths:
            results[name] = {}
            for mode in ("perf", "strace") + (("times",) if args.times else ()):
                per_stream, streams = one_run(runners[name], mode, args)
                results[name][mode] = {"per_stream": per_stream, "streams": streams}
    except compare.SetupError as e:
        print("counts.py: %s" % e, file=sys.stderr)
        return 2
    except compare.Broken as e:
        print("counts.py: %s" % e, file=sys.stderr)
        return 1
    print(table(results, paths))
    if args.times:
        print()
        print(times_table(results, paths))
    report = {"rate": args.rate, "seconds": args.seconds, "binary": args.binary, "results": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
