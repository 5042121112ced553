#!/usr/bin/env python3
"""User-space instructions per new stream and per saturated event, counted by callgrind: ssekeeper beside nginx.

    swift build -c release --static-swift-stdlib          # the build that ships
    python3 Benchmarks/instructions.py                    # both proxies, both workloads, ~2 min
    python3 Benchmarks/instructions.py --paths ssekeeper --workloads connrate --top 30 --keep /tmp/cg

Why: on the 2-core virtual machine CPU per new stream moves 5-15 % between runs (docs/BENCHMARKS.md, "Exact CPU
readings"), and abtest.py needs minutes of alternating rounds to see a 3 % change. Instructions executed in user
space do not move between runs: callgrind counts every one, attributes it to a function and to the call that led
there. It says at once whether a change removed work, and where the rest is. It does not say how long the work took:
instructions are not time (cache and TLB misses after each system call are much of a new stream's user time; this
run's --cache-sim shows a proxy's first-level cache misses), so timed figures still come from compare.py and
abtest.py.

Each proxy runs under valgrind --tool=callgrind, pinned as compare.py pins it, and the load tool drives it:
  - connrate: one step of --rate new streams/s for --seconds (each stream connects, sends its request, reads the
    head and the first event and closes);
  - throughput: 20 streams of 100-byte events, paced then saturated, for a few seconds; under callgrind the proxy
    runs some 50 times slower, so it reads larger batches than at full speed: the count is a floor for the
    per-event work, a fair one for comparing builds.
ssekeeper's counters are zeroed once it listens and dumped when the load ends (callgrind_control), so its start is
not counted. nginx's worker runs as another user and cannot be controlled that way: it is run twice, with
--seconds and three times as long, and the difference of the two totals is divided by the difference of the
streams (or events), which takes its start and exit out.

Needs valgrind (Debian's `valgrind`; callgrind_control comes with it). Exit status 0 when every run completed, 1 when
a run failed, 2 on setup errors.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402  (the proxies, the load tool, pinning)
import counts  # noqa: E402  (run_load: one connrate step)

THROUGHPUT_ARGS = ["--streams", "20", "--event-size", "100", "--paced-rate", "2000", "--batch",
                   str(compare.SATURATED_BATCH)]


def wrapper(directory, binary, out, extra):
    """A script that runs `binary` under callgrind, writing to `out` (a pattern with %p for nginx's processes)."""
    path = os.path.join(directory, "callgrind-%s.sh" % os.path.basename(out).split(".")[0])
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s %s %s \"$@\"\n"
                % (out, " ".join(extra), binary))
    os.chmod(path, 0o755)
    return path


def load(workload, port, backend, pids, args, seconds):
    """Runs the load tool once; returns (what it completed: streams or events, its JSON)."""
    if workload == "connrate":
        class Step:
            pass
        step = Step()
        step.rate, step.seconds, step.tool_cpus = args.rate, seconds, args.tool_cpus
        result = counts.run_load(port, backend, pids, step)
        return counts.completed(result), result
    cmd = [compare.LOADGEN_BIN, "throughput", "--target", str(port), "--backend", str(backend), "--duration",
           "%g" % seconds, "--paced-duration", "%g" % (seconds / 2), "--pids", ",".join(map(str, pids))] + THROUGHPUT_ARGS
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300 + 10 * seconds,
                       preexec_fn=compare.pinned(compare.parse_cpus(args.tool_cpus)))
    if r.returncode != 0:
        raise compare.Broken("the load tool failed (%d): %s" % (r.returncode, r.stderr.strip()[-300:]))
    result = json.loads(r.stdout)
    return result["events"], result


def totals(path):
    """{event: count} of a callgrind output file's totals line."""
    events, values = None, None
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("totals:"):
                values = [int(v) for v in line.split()[1:]]
    if not events or not values:
        raise compare.Broken("no totals in %s" % path)
    return dict(zip(events, values))


def run_ssekeeper(workload, args, directory):
    out = os.path.join(directory, "ssekeeper-%s.out" % workload)
    for old in glob.glob(out + "*"):
        os.remove(old)
    path = compare.SSEKeeper(wrapper(directory, args.binary, out, CALLGRIND_OPTIONS + ["--separate-threads=no"]),
                             cpus=compare.parse_cpus(args.proxy_cpus))
    backend = compare.free_port()
    port = path.start(backend, workload)
    try:
        time.sleep(1.0)
        subprocess.run(["callgrind_control", "-z", str(path.proc.pid)], check=True, stdout=subprocess.DEVNULL)
        done, _ = load(workload, port, backend, path.pids, args, args.seconds)
        subprocess.run(["callgrind_control", "-d", str(path.proc.pid)], check=True, stdout=subprocess.DEVNULL)
    finally:
        path.stop()
    dumps = sorted(glob.glob(out + ".*"))
    if not dumps or not done:
        raise compare.Broken("ssekeeper/%s: no dump or nothing completed" % workload)
    return done, totals(dumps[-1]), dumps[-1]


def run_nginx(workload, args, directory, nofile):
    """Two runs, --seconds and 3x as long; the worker's totals by difference."""
    results = []
    for scale in (1, 3):
        outdir = tempfile.mkdtemp(prefix="nginx-%s-" % workload, dir=directory)
        os.chmod(outdir, 0o777)  # the worker runs as nginx's user
        script = wrapper(outdir, compare.find_nginx(), os.path.join(outdir, "cg.%p"),
                         CALLGRIND_OPTIONS + ["--trace-children=yes"])
        path = compare.Nginx(script, nofile, cpus=compare.parse_cpus(args.proxy_cpus))
        backend = compare.free_port()
        port = path.start(backend, workload)
        try:
            time.sleep(1.0)
            done, _ = load(workload, port, backend, path.pids, args, args.seconds * scale)
        finally:
            path.stop()
        worker = os.path.join(outdir, "cg.%d" % path.worker)
        if not os.path.exists(worker) or not done:
            raise compare.Broken("nginx/%s: no dump of the worker or nothing completed" % workload)
        results.append((done, totals(worker), worker))
    (done1, t1, _), (done3, t3, file3) = results
    if done3 <= done1:
        raise compare.Broken("nginx/%s: the long run completed no more than the short one" % workload)
    return done3 - done1, {k: t3[k] - t1.get(k, 0) for k in t3}, file3


def top_functions(path, count):
    """The `count` functions with the most instructions of their own, from callgrind_annotate."""
    r = subprocess.run(["callgrind_annotate", "--threshold=100", "--show=Ir", path], capture_output=True, text=True)
    rows = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].replace(",", "").isdigit() and "%)" in parts[2] and "TOTALS" not in line:
            name = line.split(")", 1)[1].strip().split(" [")[0]
            rows.append((int(parts[0].replace(",", "")), name))
    rows = [row for row in rows if "start_thread" not in row[1] and "clone" not in row[1]
            and "ReadinessPollerC5start" not in row[1]]
    return rows[:count]


CALLGRIND_OPTIONS = ["--cache-sim=yes", "--I1=8192,2,64", "--D1=8192,2,64", "--LL=262144,8,64"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=compare.SSEKEEPER_BIN)
    parser.add_argument("--paths", default="ssekeeper,nginx")
    parser.add_argument("--workloads", default="connrate,throughput")
    parser.add_argument("--rate", type=int, default=200, help="new streams/s in connrate (default 200)")
    parser.add_argument("--seconds", type=float, default=5, help="length of a run (default 5)")
    parser.add_argument("--proxy-cpus", default="1")
    parser.add_argument("--tool-cpus", default="0")
    parser.add_argument("--top", type=int, default=0, help="also list ssekeeper's N costliest functions per run")
    parser.add_argument("--keep", help="keep the callgrind files in this directory")
    parser.add_argument("--json")
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if not shutil.which(tool):
            print("needs %s (apt-get install valgrind)" % tool, file=sys.stderr)
            return 2
    paths = args.paths.split(",")
    if "ssekeeper" in paths and not os.access(args.binary, os.X_OK):
        print("no ssekeeper binary at %s" % args.binary, file=sys.stderr)
        return 2
    compare.build_loadgen()
    nofile = compare.raise_nofile()
    directory = args.keep or tempfile.mkdtemp(prefix="instructions-")
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)  # nginx's worker, another user, writes below it
    report = {"binary": args.binary, "rate": args.rate, "seconds": args.seconds, "runs": {}}
    status = 0
    for workload in args.workloads.split(","):
        unit = "stream" if workload == "connrate" else "event"
        for name in paths:
            try:
                if name == "ssekeeper":
                    done, counted, path = run_ssekeeper(workload, args, directory)
                else:
                    done, counted, path = run_nginx(workload, args, directory, nofile)
            except compare.Broken as error:
                print("%s/%s: %s" % (name, workload, error), file=sys.stderr)
                status = 1
                continue
            per = {k: v / done for k, v in counted.items()}
            report["runs"]["%s/%s" % (name, workload)] = {"completed": done, "per_" + unit: per}
            print("%-9s %-10s %8d %ss  %9.0f instructions per %s  (first-level misses: %.0f instruction, %.0f data)"
                  % (name, workload, done, unit, per["Ir"], unit, per.get("I1mr", 0),
                     per.get("D1mr", 0) + per.get("D1mw", 0)))
            # nginx's figures are differences of two runs, and Debian's binary has no symbols: ssekeeper's only
            for cost, function in (top_functions(path, args.top) if name == "ssekeeper" else []):
                print("    %9.0f  %s" % (cost / done, function[:150]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
