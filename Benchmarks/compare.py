#!/usr/bin/env python3
"""Side-by-side benchmark of issue 5: direct (the floor), ssekeeper and nginx, in one run.

One command, from the repository root:

    swift build -c release --static-swift-stdlib && bash Benchmarks/install.sh && python3 Benchmarks/compare.py --repeat 3

`--static-swift-stdlib` builds what ships (deploy/build-deb.sh, docs/operations.md's Deploying): the Swift runtime
linked into the binary. A plain `swift build -c release` works too; its runtime calls go through shared libraries,
about 9 % more CPU per new stream on the 2-core machine (abtest.py at 3,000/s: 206.7 against 188.8 us; see
docs/BENCHMARKS.md, "The build that ships"). The run's header and JSON (`machine.ssekeeper_runtime`) say which of
the two was measured.

Three paths, all on 127.0.0.1:
  direct     clients -> backend (the floor: what the load tool and the kernel cost by themselves)
  ssekeeper  clients -> .build/release/ssekeeper run -c <generated conf, event_loops 1> -> backend
  nginx      clients -> nginx (Debian's package; one worker, proxy_buffering off, proxy_http_version 1.1,
             proxy_set_header Connection "", proxy_read_timeout 24h, access_log off) -> backend

Several loops (issue 16): --loops 1,2 runs ssekeeper with `event_loops N;` and nginx with `worker_processes N;` once
per count, as the paths ssekeeper×1, ssekeeper×2, nginx×1, nginx×2 side by side; --accept acceptor,per-loop runs
each several-loop ssekeeper once per SSEKEEPER_ACCEPT mode (ssekeeper×2/acceptor, ssekeeper×2/per-loop), and each
several-worker nginx once with its shared socket and once with `listen ... reuseport` (nginx×2/acceptor,
nginx×2/per-loop), so each mode is compared with nginx's spreading of the same kind. The table
then gets a ratio column per loop count, a table of the proxy's CPU per thread in each measured window, and the
several-loop targets (CPU per event <= 1.05 x one loop's and <= nginx's with as many workers; added p99 <= one
loop's). See Benchmarks/compare_loops.py and docs/BENCHMARKS.md, "Several event loops".

TLS and HTTP/2 (issue 17): --tls runs ssekeeper with `listen ... tls;` beside nginx with `listen ... ssl http2;`
instead, over HTTP/2 and HTTP/1.1 (--protocols h2,h1), with its own workloads (--only latency,cpu,memory,handshakes)
and load tools (Benchmarks/compare/tlsload.py, h2load); see Benchmarks/compare_tls.py.

The load tool (Benchmarks/compare/loadgen.c, compiled with gcc into .build/bench/sse-loadgen on first use) is
one C process with one epoll thread that plays both the SSE backend and the clients; see its header for what it
measures and how. Every workload starts a fresh proxy, and the proxy's CPU (its CPU-time clock,
clock_getcpuclockid, to the nanosecond: /proc/PID/stat's utime+stime come in 10 ms steps; nginx: master + worker)
and RSS (VmRSS; nginx: the worker) are read by the load tool at the edges of each measured window, with the
context switches of all its threads. The load tool's own CPU is shown too, so a reader can judge whether it was
the bottleneck.

Workloads (full run; --duration scales the timed ones, --quick shrinks everything to a smoke run):
  latency     1,000 streams x 1 event/s for 30 s. Added latency per event = the path's percentile minus the
              direct path's, for p50 / p99 / p99.9. Arrival is the kernel receive timestamp (SO_TIMESTAMPNS;
              on loopback taken inside the sender's send(), i.e. when the proxy wrote the bytes), so the
              figure leaves out the load tool's own wake-ups; the JSON also has the "app" arrival (read
              right after recvmsg returned). The kernel's realtime stamp is turned into monotonic time with
              an offset measured every 100 ms and whenever a stamp comes out later than its read; the JSON's
              "clock_steps" counts the times the offset had moved (a stepped realtime clock: one such step
              shifted a whole run's kernel-clock latencies by 43-77 ms before this).
  throughput  100 streams of 100-byte events. First paced: 10,000 events/s spread evenly over the streams (taken
              in a fixed shuffled order, not the order they were opened) for
              5 s, one send() per event: the same offered load on every path, each event its own write, so
              this is the per-event (per wake-up) cost -- proxy CPU-seconds per million events. Then
              saturated: the backend sends as fast as the sockets take them for 10 s (after 1 s of warm-up),
              8 events per send() (with one per send() the one-thread load tool tops out near 100,000 events/s
              on these machines, below what nginx carries): events/s delivered, and proxy CPU-seconds per
              million events. A proxy at saturation reads many events per wake-up, so this is the bulk cost.
  memory      9,000 idle streams (response head + one event each): proxy RSS growth per stream, measured
              after a warm-up of 50 streams opened and closed.
  heartbeats  9,000 silent streams (response head only) for 30 s, heartbeat interval 1 s (ssekeeper:
              idle_timeout 2s; heartbeat_fraction 0.5): proxy CPU share of one core, and lateness of every
              heartbeat = arrival - (arrival of the previous bytes on the stream + 1 s), p50 / p99 / max.
              nginx sends no heartbeats: n/a. The direct column is the floor, in brackets: `sse-loadgen
              hbsource`, a minimal C sender pinned where the proxy is, sending the same bytes (one send()
              per heartbeat, woken for the earliest due stream, 4 ms leeway) to the same 9,000 clients.
  teardown    200 streams closed by the client with FIN one at a time, then 200 with RST (SO_LINGER 0):
              time from the client's close() until the backend's read() sees its connection end.
  connrate    new SSE streams per second: connect, request, first event, close (FIN), at a constant rate,
              stepped 500, 1000, 2000, 3000, ... /s for 2 s each. A step is sustained when every stream got
              its first event (no error, none later than 2 s), at least 99 % of the offered streams completed,
              and p99 time-to-first-event (connect() to the kernel's receive time of the first event) is at
              most 10 ms. A step that is not is tried once more; the figure is the highest step sustained
              before the first step that failed twice.

Descriptors: RLIMIT_NOFILE's soft limit is raised to the hard limit (20,000 here) and inherited by the load tool
and the proxies (nginx: worker_rlimit_nofile). 9,000 streams take 18,000 descriptors in the proxy and 18,000 in
the load tool (9,000 client and 9,000 backend sockets), so one load-tool process fits; it checks this before it
starts and refuses a stream count that would not fit.

Noise: the load tool also reads /proc/stat, and the table shows how much CPU other processes used during the
measured windows. Before each run the driver waits (--wait-quiet, 60 s at most) until other processes use at
most 20 % of a core, and a run during which they used more than --max-others of a core is run again (--reruns,
up to 2 times; the attempt with the least outside CPU is kept). --quick does neither. The bound is 20 % for the
latency workload, whose proxy itself uses 4-5 % of a core, and 50 % for the rest (the connection-rate workload's
direct path reads 23-30 % by itself: kernel work the accounting places outside the proxy and the tool);
--max-others PCT sets one bound for all.

Pinning: unpinned, on a 2-core VM, one proxy's CPU per paced event swings by up to 1.7x between runs of the same
build (the scheduler puts it beside the load tool or not); `--loops 1 --proxy-cpus 1 --tool-cpus 0` keeps the two
apart, and the same figure then moves by a few per cent. Use it for the one-loop figures on a small machine (two
loops on two cores cannot be kept apart from the tool). The rows "proxy CPU / load tool CPU" divide out the
machine's drift in an unpinned run, as far as the tool's own work is the same for every path.

The table shows the median over --repeat runs of each figure, the three paths side by side, the ratio
ssekeeper / nginx, and the issue's targets (met / not met; "not judged" with --quick, whose shrunken workloads
say nothing about them). --json FILE writes every run and the medians.

Exit status: 0 when every run worked; 1 when something is clearly broken (a path failing, streams that do not
open, events lost or out of order, a proxy that died, no heartbeats, a close never seen) -- never because of a
speed figure; 2 on setup errors (no binary, no nginx, no gcc).
"""

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import compare_loops  # Benchmarks/compare_loops.py: the --loops / --accept paths and the per-thread CPU split
import compare_tls  # Benchmarks/compare_tls.py: --tls, ssekeeper and nginx over TLS with HTTP/2 and HTTP/1.1

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
LOADGEN_SRC = os.path.join(REPO, "Benchmarks", "compare", "loadgen.c")
LOADGEN_BIN = os.path.join(REPO, ".build", "bench", "sse-loadgen")
SSEKEEPER_BIN = os.path.join(REPO, ".build", "release", "ssekeeper")

WORKLOADS = ["latency", "throughput", "memory", "heartbeats", "teardown", "connrate"]
PATHS = ["direct", "ssekeeper", "nginx"]
# Which paths each workload runs on: memory measures the proxy itself (no proxy on the direct path); in the
# heartbeats workload the direct path is a minimal heartbeat sender (the floor, see Direct); nginx sends no
# heartbeats.
WORKLOAD_PATHS = {
    "latency": PATHS, "throughput": PATHS, "memory": ["ssekeeper", "nginx"], "heartbeats": ["direct", "ssekeeper"],
    "teardown": PATHS, "connrate": PATHS,
}
HEARTBEAT_INTERVAL_MS = 1000
PACED_RATE = 10000  # events/s in the throughput workload's paced phase
# Events per send() in the saturated phase, so the one-thread load tool sends faster than one send per event
# allows. The tool still holds a full core there on two cores (it is the clients too): the proxies' CPU per event
# then depends on how their reads fall against its bursts (docs/BENCHMARKS.md, "Three sets of one serving path").
SATURATED_BATCH = 8
CONNRATE_STEPS = [500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 10000, 12000, 15000, 20000]
CONNRATE_P99_MS = 10.0


class Broken(Exception):
    """A run that clearly failed: its figures cannot be trusted."""


class SetupError(Exception):
    """Something the benchmark needs is missing."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def workload_params(name, quick, scale):
    """The load tool's arguments for one workload."""
    if quick:
        return {
            "latency": ["--streams", "200", "--duration", "3"],
            "throughput": ["--streams", "20", "--duration", "2", "--paced-rate", "2000", "--paced-duration", "1",
                           "--batch", str(SATURATED_BATCH)],
            "memory": ["--streams", "500"],
            "heartbeats": ["--streams", "500", "--duration", "3", "--interval-ms", str(HEARTBEAT_INTERVAL_MS)],
            "teardown": ["--streams", "20"],
            "connrate": ["--steps", "500,1000,2000", "--step-duration", "0.5",
                         "--connrate-p99-ms", str(CONNRATE_P99_MS)],
        }[name]
    d = lambda s: "%g" % (s * scale)
    return {
        "latency": ["--streams", "1000", "--duration", d(30)],
        "throughput": ["--streams", "100", "--duration", d(10), "--event-size", "100",
                       "--paced-rate", str(PACED_RATE), "--paced-duration", d(5), "--batch", str(SATURATED_BATCH)],
        "memory": ["--streams", "9000"],
        "heartbeats": ["--streams", "9000", "--duration", d(30), "--interval-ms", str(HEARTBEAT_INTERVAL_MS)],
        "teardown": ["--streams", "200"],
        "connrate": ["--steps", ",".join(map(str, CONNRATE_STEPS)), "--step-duration", d(2),
                     "--connrate-p99-ms", str(CONNRATE_P99_MS)],
    }[name]


# ---------------------------------------------------------------------------------------------- setup

def raise_nofile():
    """Soft RLIMIT_NOFILE to the hard limit, inherited by the load tool and the proxies."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def build_loadgen():
    if not shutil.which("gcc"):
        raise SetupError("gcc is needed to build the load tool")
    if os.path.exists(LOADGEN_BIN) and os.path.getmtime(LOADGEN_BIN) >= os.path.getmtime(LOADGEN_SRC):
        return
    os.makedirs(os.path.dirname(LOADGEN_BIN), exist_ok=True)
    cmd = ["gcc", "-O2", "-Wall", "-o", LOADGEN_BIN, LOADGEN_SRC]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SetupError("building the load tool failed:\n" + r.stderr)


def find_nginx():
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Broken("%s exited with status %s before listening" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise Broken("%s does not listen on 127.0.0.1:%d after %g s" % (what, port, timeout))


def parse_cpus(text):
    """`0-3,8` -> {0, 1, 2, 3, 8} (taskset's list syntax); None for None."""
    if text is None:
        return None
    cpus = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def pinned(cpus):
    """A preexec_fn that pins the child to `cpus` (as `taskset -c` would, keeping its pid), or None."""
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def children_of(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


QUIET_PCT = 20  # "quiet": other processes use at most this much of one core
# A run during which other processes used more than this much of one core is run again, by workload. The seventh
# session's full set let a latency run with 38 % of outside CPU into the medians under one 50 % bound (its p99
# read 1.20x nginx's; a clean set, 0.88x); the connection-rate direct path reads 23-30 % by itself.
MAX_OTHERS = {"latency": 20}
MAX_OTHERS_DEFAULT = 50


def max_others(args, workload):
    """The outside CPU (% of a core) above which a run of the workload is run again: --max-others, else MAX_OTHERS."""
    return args.max_others if args.max_others is not None else MAX_OTHERS.get(workload, MAX_OTHERS_DEFAULT)


def machine_busy_s():
    """The whole machine's busy CPU-seconds so far (user nice system irq softirq, /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def terminate(proc, info):
    """SIGTERM, then SIGKILL after 10 s; notes in `info` when it had to kill."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            info["killed"] = True


def wait_quiet(limit_s):
    """Waits (at most limit_s) until the machine is quiet: over one second, the CPU used by all processes
    (none of ours runs between two runs) is at most QUIET_PCT % of a core. Returns the last reading."""
    if limit_s <= 0:
        return None
    deadline = time.monotonic() + limit_s
    while True:
        b0 = machine_busy_s()
        time.sleep(1.0)
        pct = 100 * (machine_busy_s() - b0)
        if pct <= QUIET_PCT or time.monotonic() >= deadline:
            return pct


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def proc_threads(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ---------------------------------------------------------------------------------------------- the paths

class Direct:
    """The floor: the clients reach the load tool's own backend, no proxy between. In the heartbeats workload
    the floor is a sender instead: `sse-loadgen hbsource`, its own process pinned where the proxy would be, which
    sends each stream the bytes of ssekeeper's heartbeat with one send() (no proxy, no send watch, no upstream);
    its CPU is what 9,000 heartbeats a second cost in the kernel and a minimal C loop."""
    name = "direct"

    def __init__(self, cpus=None):
        self.cpus = cpus  # --proxy-cpus, for the heartbeat sender
        self.source = None
        self.pids = []
        self.rss_pids = []
        self.remote_backend = False

    def start(self, backend_port, workload):
        if workload != "heartbeats":
            self.source, self.pids, self.rss_pids, self.remote_backend = None, [], [], False
            return backend_port
        port = free_port()
        self.source = subprocess.Popen([LOADGEN_BIN, "hbsource", "--backend", str(port),
                                        "--interval-ms", str(HEARTBEAT_INTERVAL_MS)],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       preexec_fn=pinned(self.cpus))
        wait_listening(port, self.source, "the heartbeat sender (sse-loadgen hbsource)")
        self.pids = self.rss_pids = [self.source.pid]
        self.remote_backend = True
        return port

    def stop(self):
        if self.source is None:
            return {}
        info = {"alive_at_end": self.source.poll() is None}
        terminate(self.source, info)
        out, err = self.source.communicate()
        try:
            info.update(json.loads(out.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            info["output"] = (out + err)[-300:]
        self.source = None
        return info


ACCEPT_MODES = ["acceptor", "per-loop"]  # SSEKEEPER_ACCEPT (Sources/SSEKeeperIO/Event/Listener.swift)


class SSEKeeper:
    """ssekeeper with `event_loops <loops>;` and SSEKEEPER_ACCEPT=<accept> (only meaningful with several loops)."""

    def __init__(self, binary, loops=1, accept="acceptor", name="ssekeeper", cpus=None, tls=None):
        self.binary = binary
        self.tls = tls  # (certificate, key) PEM paths: `listen ... tls;` (compare_tls.py), else cleartext
        self.cpus = cpus  # --proxy-cpus
        self.loops = loops
        self.accept = accept
        self.name = name

    def start(self, backend_port, workload):
        self.dir = tempfile.mkdtemp(prefix="compare-ssekeeper-")
        self.port = free_port()
        # heartbeats only in the heartbeat workload (1 s interval); elsewhere they would be noise nginx lacks
        stream = ("idle_timeout 2s;\nheartbeat_fraction 0.5;\n" if workload == "heartbeats"
                  else "idle_timeout 1h;\n")
        conf = os.path.join(self.dir, "generated.conf")
        with open(conf, "w") as f:
            # like nginx's: no access log (the warnings and errors still go to the log file)
            # event_loops is explicit: its default (auto, one per CPU) would make every comparison a
            # several-loop one; --loops says how many
            tls = ("tls_certificate %s;\ntls_certificate_key %s;\n" % self.tls) if self.tls else ""
            f.write("listen 127.0.0.1:%d%s;\n%sevent_loops %d;\n%smax_connections 20000;\naccess_log off;\n"
                    "upstream backend { server 127.0.0.1:%d; }\nroute / { upstream backend; }\n"
                    % (self.port, " tls" if self.tls else "", tls, self.loops, stream, backend_port))
        self.log_path = os.path.join(self.dir, "ssekeeper.log")
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, SSEKEEPER_ACCEPT=self.accept)
        self.proc = subprocess.Popen([self.binary, "run", "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, env=env, preexec_fn=pinned(self.cpus))
        wait_listening(self.port, self.proc, "ssekeeper")
        self.pids = [self.proc.pid]
        self.rss_pids = [self.proc.pid]
        return self.port

    def stop(self):
        info = {"threads": proc_threads(self.proc.pid), "alive_at_end": self.proc.poll() is None}
        terminate(self.proc, info)
        self.log.close()
        # Notable log lines: anything but access lines, and but the warning ssekeeper logs when a client closes
        # a stream during upstream silence (the benchmark closes its silent streams itself, by design).
        notable, expected_closes = [], 0
        with open(self.log_path, "rb") as f:
            for line in f:
                text = line.decode("utf-8", "replace").rstrip()
                if " info " in text:
                    continue
                if "the client side closed a stream" in text:
                    expected_closes += 1
                    continue
                notable.append(text)
        info["log_lines_not_info"] = len(notable)
        info["log_sample"] = notable[:5]
        info["log_client_closed_during_silence"] = expected_closes
        shutil.rmtree(self.dir, ignore_errors=True)
        return info


NGINX_CONF = """# generated by Benchmarks/compare.py: nginx as its users configure it for SSE
worker_processes {workers};
worker_rlimit_nofile {nofile};
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections {conns};
    use epoll;
}}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream backend {{
        server {backend_host}:{backend};
    }}
    server {{
        listen 127.0.0.1:{port}{listen_extra};
{server_extra}        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 24h;
            proxy_send_timeout 24h;
        }}
    }}
}}
"""


class Nginx:
    """nginx with `worker_processes <workers>;` (NGINX_CONF)."""

    def __init__(self, binary, nofile, backend_host="127.0.0.1", workers=1, name="nginx", cpus=None, tls=None,
                 accept="acceptor"):
        self.binary = binary
        # (listen parameters, server directives) for TLS and HTTP/2 (compare_tls.nginx_tls), else cleartext
        self.tls = tls or ("", "")
        # --accept: "per-loop" listens with `reuseport` (a socket per worker, as SSEKEEPER_ACCEPT=per-loop)
        self.listen_extra = self.tls[0] + (" reuseport" if accept == "per-loop" else "")
        self.cpus = cpus  # --proxy-cpus
        self.nofile = nofile
        self.workers = workers
        self.name = name
        self.backend_host = backend_host  # Benchmarks/deadpeers/run.py puts its backends on their own address

    def start(self, backend_port, workload):
        self.dir = tempfile.mkdtemp(prefix="compare-nginx-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, nofile=self.nofile, conns=self.nofile - 100, workers=self.workers,
                                      backend=backend_port, backend_host=self.backend_host,
                                      port=self.port, listen_extra=self.listen_extra, server_extra=self.tls[1]))
        self.proc = subprocess.Popen([self.binary, "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     preexec_fn=pinned(self.cpus))
        try:
            wait_listening(self.port, self.proc, "nginx")
        except Broken:
            err = self.proc.stderr.read().decode("utf-8", "replace") if self.proc.poll() is not None else ""
            raise Broken("nginx did not start: " + err.strip())
        deadline = time.monotonic() + 5
        workers = children_of(self.proc.pid)
        while len(workers) < self.workers and time.monotonic() < deadline:
            time.sleep(0.02)
            workers = children_of(self.proc.pid)
        if len(workers) != self.workers:
            raise Broken("nginx has %d worker processes, expected %d" % (len(workers), self.workers))
        self.worker = workers[0]
        self.all_workers = workers
        self.pids = [self.proc.pid] + workers
        self.rss_pids = workers
        return self.port

    def stop(self):
        info = {"alive_at_end": self.proc.poll() is None
                and all(os.path.exists("/proc/%d" % w) for w in self.all_workers)}
        terminate(self.proc, info)
        problems = []
        try:
            with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
                problems = [l.rstrip() for l in f if any(k in l for k in ("[error]", "[alert]", "[crit]", "[emerg]"))]
        except OSError:
            pass
        info["log_lines_not_info"] = len(problems)
        info["log_sample"] = problems[:5]
        shutil.rmtree(self.dir, ignore_errors=True)
        return info


# ---------------------------------------------------------------------------------------------- one run

def run_one(path, workload, args):
    """One workload on one path with a fresh proxy; returns the load tool's JSON plus the proxy's notes."""
    params = workload_params(workload, args.quick, args.duration)
    for attempt in range(3):
        backend_port = free_port()
        target = path.start(backend_port, workload)
        try:
            cmd = [LOADGEN_BIN, workload, "--target", str(target), "--backend", str(backend_port)] + params
            if path.pids:
                cmd += ["--pids", ",".join(map(str, path.pids)), "--rss-pids", ",".join(map(str, path.rss_pids))]
            if getattr(path, "remote_backend", False):
                cmd.append("--remote-backend")  # the heartbeat sender answers the streams itself
            timeout = 600 if not args.quick else 120
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                               preexec_fn=pinned(parse_cpus(args.tool_cpus)))
        except subprocess.TimeoutExpired:
            path.stop()
            raise Broken("%s/%s: the load tool did not finish within %d s" % (path.name, workload, timeout))
        except BaseException:
            path.stop()  # interrupted: run() has killed the load tool; do not leave the proxy behind
            raise
        notes = path.stop()
        if r.returncode == 2 and "bind 127.0.0.1" in r.stderr and attempt < 2:
            continue  # the free port was taken meanwhile: try another
        if r.returncode != 0:
            raise Broken("%s/%s: the load tool failed (%d): %s" % (path.name, workload, r.returncode, r.stderr.strip()))
        try:
            result = json.loads(r.stdout)
        except ValueError:
            raise Broken("%s/%s: the load tool printed no JSON: %r" % (path.name, workload, r.stdout[:200]))
        result["proxy"] = notes
        return result
    raise Broken("no free port")


def problems_of(path, workload, r):
    """What is clearly broken in one run (never a speed figure)."""
    p = []
    if r.get("open_failed"):
        p.append("%d streams did not open" % r["open_failed"])
    if not r.get("proxy_alive", True) or r["proxy"].get("alive_at_end") is False:
        p.append("the proxy died")
    if r.get("gaps"):
        p.append("%d events out of order or missing" % r["gaps"])
    if workload in ("latency", "throughput", "teardown") and r["events"] < r["sent"]:
        p.append("%d of %d events lost" % (r["sent"] - r["events"], r["sent"]))
    # In the connection-rate run a backend send fails only for a stream whose client already left: one that
    # timed out waiting for its first event on a step past the proxy's capacity, which closes its upstream as it
    # should. Those are that step's errors, judged below (only the first step's are a breakage).
    if r.get("send_failures") and workload != "connrate":
        p.append("%d backend sends failed" % r["send_failures"])
    if r.get("bad_status"):
        p.append("%d responses were not 200" % r["bad_status"])
    if workload == "heartbeats":
        if r["streams_without_heartbeat"]:
            p.append("%d streams got no heartbeat" % r["streams_without_heartbeat"])
        if r["window_heartbeats"] < 0.5 * r["expected_heartbeats"]:
            p.append("%d heartbeats of about %d expected" % (r["window_heartbeats"], r["expected_heartbeats"]))
    if workload == "teardown" and (r["unseen_fin"] or r["unseen_rst"]):
        p.append("closes never seen by the backend within 2 s: %d FIN, %d RST" % (r["unseen_fin"], r["unseen_rst"]))
    if workload == "connrate" and r["steps"]:
        # a slow step is a figure, not a breakage; streams that fail or never get their first event are broken
        first = r["steps"][0]
        if first["errors"] or first["completed"] < first["offered"]:
            p.append("at %d new streams/s: %d of %d completed, %d errors (%d with no first event within 2 s)"
                     % (first["rate"], first["completed"], first["offered"], first["errors"], first["timeouts"]))
    return p


def others_pct(w):
    """CPU (% of one core) that processes other than the proxy and the load tool used during a window."""
    if w.get("workload") == "connrate":
        return median([others_pct(step) for step in w.get("steps", [])])
    if "machine_busy_s" not in w or not w.get("wall_s"):
        return None
    # clamped at 0: the machine's and the processes' tick counts disagree by a few percent either way
    return max(0.0, 100 * (w["machine_busy_s"] - max(w["proxy_cpu_s"], 0) - w["loadgen_cpu_s"]) / w["wall_s"])


def per(count, n):
    return count / n if count is not None and count >= 0 and n else None


def wait_ms(r):
    """The proxy's time runnable but waiting for a CPU in the window (schedstat's run_delay, summed over its threads),
    in ms; None on the direct path or when unreadable. Another task on the proxy's CPU shows here: a tail that moves
    with it is the machine's, not the proxy's."""
    wait = r.get("proxy_wait_s")
    return 1000 * wait if wait is not None and wait >= 0 else None


def figures_of(workload, r):
    """The figures one run yields, by name."""
    f = {}
    if workload == "latency":
        for k in ("p50", "p99", "p999"):
            f["latency_" + k] = r["latency_kernel"][k]
            f["latency_app_" + k] = r["latency_app"][k]
        f["latency_events"] = r["latency_kernel"]["n"]
        f["latency_proxy_cpu_pct"] = 100 * r["proxy_cpu_s"] / r["wall_s"] if r["proxy_cpu_s"] >= 0 else None
        f["latency_loadgen_cpu_pct"] = 100 * r["loadgen_cpu_s"] / r["wall_s"]
        f["latency_ctxsw_per_event"] = per(r.get("proxy_ctxsw"), r["latency_kernel"]["n"])
        f["latency_proxy_wait_ms"] = wait_ms(r)
    elif workload == "throughput":
        f["throughput_events_per_s"] = r["events_per_s"]
        f["throughput_cpu_s_per_m"] = (r["proxy_cpu_s"] / r["window_events"] * 1e6
                                       if r["proxy_cpu_s"] >= 0 and r["window_events"] else None)
        f["throughput_proxy_cpu_pct"] = 100 * r["proxy_cpu_s"] / r["wall_s"] if r["proxy_cpu_s"] >= 0 else None
        f["throughput_loadgen_cpu_pct"] = 100 * r["loadgen_cpu_s"] / r["wall_s"]
        f["throughput_ctxsw_per_event"] = per(r.get("proxy_ctxsw"), r["window_events"])
        paced = r.get("paced")
        if paced:
            f["paced_cpu_s_per_m"] = (paced["proxy_cpu_s"] / paced["events"] * 1e6
                                      if paced["proxy_cpu_s"] >= 0 and paced["events"] else None)
            f["paced_proxy_cpu_pct"] = 100 * paced["proxy_cpu_s"] / paced["wall_s"] if paced["proxy_cpu_s"] >= 0 else None
            f["paced_loadgen_cpu_pct"] = 100 * paced["loadgen_cpu_s"] / paced["wall_s"]
            f["paced_ctxsw_per_event"] = per(paced.get("proxy_ctxsw"), paced["events"])
            f["paced_cpu_per_tool_cpu"] = compare_tls.tool_relative(paced["proxy_cpu_s"], paced["loadgen_cpu_s"])
    elif workload == "memory":
        f["memory_kib_per_stream"] = r["rss_per_stream_kib"]
        f["memory_rss_after_mib"] = r["rss_after_kib"] / 1024
    elif workload == "heartbeats":
        f["heartbeat_cpu_pct"] = 100 * r["proxy_cpu_s"] / r["wall_s"]
        f["heartbeat_late_p50"] = r["lateness"]["p50"]
        f["heartbeat_late_p99"] = r["lateness"]["p99"]
        f["heartbeat_late_max"] = r["lateness"]["max"]
        f["heartbeat_count"] = r["window_heartbeats"]
        f["heartbeat_expected"] = r["expected_heartbeats"]
        f["heartbeat_loadgen_cpu_pct"] = 100 * r["loadgen_cpu_s"] / r["wall_s"]
    elif workload == "teardown":
        for kind in ("fin", "rst"):
            f["teardown_%s_p50" % kind] = r[kind]["p50"]
            f["teardown_%s_p99" % kind] = r[kind]["p99"]
        f["teardown_proxy_wait_ms"] = wait_ms(r)
    elif workload == "connrate":
        f["connrate_best"] = r["best_rate"]
        last = r["steps"][-1] if r["steps"] else None
        f["connrate_first_failing"] = None if not last or last["sustained"] else last["rate"]
        f["connrate_tool_limited"] = any(s["tool_limited"] for s in r["steps"])
        sustained = [s for s in r["steps"] if s["sustained"]]
        if r["steps"]:
            first = r["steps"][0]
            f["connrate_ttfe_p50_first_step"] = first["ttfe_p50"]
            f["connrate_ttfe_p99_first_step"] = first["ttfe_p99"]
            if first["proxy_cpu_s"] >= 0 and first["completed"]:
                f["connrate_cpu_us_per_stream"] = first["proxy_cpu_s"] / first["completed"] * 1e6
                f["connrate_ctxsw_per_stream"] = per(first.get("proxy_ctxsw"), first["completed"])
                f["connrate_cpu_per_tool_cpu"] = compare_tls.tool_relative(first["proxy_cpu_s"], first["loadgen_cpu_s"])
        if sustained:
            top = sustained[-1]
            f["connrate_proxy_cpu_pct_at_best"] = (100 * top["proxy_cpu_s"] / top["wall_s"]
                                                  if top["proxy_cpu_s"] >= 0 else None)
            f["connrate_loadgen_cpu_pct_at_best"] = 100 * top["loadgen_cpu_s"] / top["wall_s"]
    return f


# ---------------------------------------------------------------------------------------------- the table

def median(values):
    values = [v for v in values if v is not None and not isinstance(v, bool)]
    return statistics.median(values) if values else None


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if float(v).is_integer() and abs(v) >= 1 or v == 0:
        return "{:,}".format(int(v))
    if abs(v) >= 1000:
        return "{:,.0f}".format(v)
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return ("%." + str(digits) + "f") % v


# (label, figure key, unit note, "added" = minus direct, target kind, target value)
ROWS = [
    ("latency added p50 (ms)", "latency_p50", True, "le_nginx", None),
    ("latency added p99 (ms)", "latency_p99", True, "le_nginx", None),
    ("latency added p99.9 (ms)", "latency_p999", True, None, None),
    ("  (app clock) added p50 (ms)", "latency_app_p50", True, None, None),
    ("  (app clock) added p99 (ms)", "latency_app_p99", True, None, None),
    ("  proxy CPU in the latency run (% core)", "latency_proxy_cpu_pct", False, None, None),
    ("  proxy context switches per event", "latency_ctxsw_per_event", False, None, None),
    ("  proxy time runnable, waiting for a CPU, latency run (ms)", "latency_proxy_wait_ms", False, None, None),
    ("CPU per 1M events, paced (s)", "paced_cpu_s_per_m", False, "ratio_le", 1.0),
    ("  proxy CPU, paced (% core)", "paced_proxy_cpu_pct", False, None, None),
    ("  proxy context switches per event, paced", "paced_ctxsw_per_event", False, None, None),
    ("  load tool CPU, paced (% core)", "paced_loadgen_cpu_pct", False, None, None),
    ("  proxy CPU / load tool CPU, paced", "paced_cpu_per_tool_cpu", False, None, None),
    ("throughput, saturated (events/s)", "throughput_events_per_s", False, None, None),
    ("CPU per 1M events, saturated (s)", "throughput_cpu_s_per_m", False, "ratio_le", 1.0),
    ("  proxy CPU at saturation (% core)", "throughput_proxy_cpu_pct", False, None, None),
    ("  proxy context switches per event, saturated", "throughput_ctxsw_per_event", False, None, None),
    ("  load tool CPU, saturated (% core)", "throughput_loadgen_cpu_pct", False, None, None),
    ("RSS per idle stream (KiB)", "memory_kib_per_stream", False, "le", 4.0),
    ("  RSS with the idle streams open (MiB)", "memory_rss_after_mib", False, None, None),
    ("heartbeats: proxy CPU (% core)", "heartbeat_cpu_pct", False, "le", 10.0),
    ("heartbeat lateness p50 (ms)", "heartbeat_late_p50", False, None, None),
    ("heartbeat lateness p99 (ms)", "heartbeat_late_p99", False, "le", 20.0),
    ("heartbeat lateness max (ms)", "heartbeat_late_max", False, None, None),
    ("teardown FIN p50 (ms)", "teardown_fin_p50", False, None, None),
    ("teardown FIN p99 (ms)", "teardown_fin_p99", False, "le", 1.0),
    ("teardown RST p50 (ms)", "teardown_rst_p50", False, None, None),
    ("teardown RST p99 (ms)", "teardown_rst_p99", False, "le", 1.0),
    ("  proxy time runnable, waiting for a CPU, teardown run (ms)", "teardown_proxy_wait_ms", False, None, None),
    ("new streams/s sustained", "connrate_best", False, "ge", 5000),
    ("  time to first event p50 at the first step (ms)", "connrate_ttfe_p50_first_step", False, None, None),
    ("  time to first event p99 at the first step (ms)", "connrate_ttfe_p99_first_step", False, None, None),
    ("  proxy CPU per new stream at the first step (us)", "connrate_cpu_us_per_stream", False, None, None),
    ("  proxy context switches per new stream", "connrate_ctxsw_per_stream", False, None, None),
    ("  proxy CPU / load tool CPU, first step", "connrate_cpu_per_tool_cpu", False, None, None),
    ("  load tool CPU at the best step (% core)", "connrate_loadgen_cpu_pct_at_best", False, None, None),
    ("other processes' CPU in the windows (% core)", "others_pct", False, None, None),
]


# Rows whose direct column is a floor to read the others against, not a path of its own (shown in brackets).
FLOOR_ROWS = {"heartbeat_cpu_pct", "heartbeat_late_p50", "heartbeat_late_p99", "heartbeat_late_max"}


def target_text(kind, value):
    return {"le_nginx": "<= nginx", "ratio_le": "<= %.1f x nginx" % (value or 0), "le": "<= %g" % (value or 0),
            "ge": ">= {:,}".format(value or 0)}.get(kind, "")


NOT_JUDGED = "not judged"


def build_table(medians, paths=PATHS, judged=True):
    """Rows of strings, the header, and the target verdicts, from the medians {path: {figure: value}}.

    `paths` are the columns (with --loops: ssekeeper and nginx once per loop count, see `compare_loops`). Each
    ssekeeper path gets a ratio column against nginx with as many workers; the issue-5 targets are judged on the
    first ssekeeper path against its nginx. judged=False (--quick): the workloads are shrunk to a smoke run, so its
    figures say nothing about the targets; each target is shown with "not judged" instead of met / not met, and no
    verdicts are returned."""
    direct = medians.get("direct", {})
    pairs = compare_loops.ratio_pairs(paths)
    primary = pairs[0] if pairs else (next((p for p in paths if p.startswith("ssekeeper")), None), None)
    rows, verdicts = [], {}
    for label, key, added, kind, value in ROWS:
        vals = {}
        for p in paths:
            v = medians.get(p, {}).get(key)
            if added and p != "direct" and v is not None:
                d = direct.get(key)
                v = v - d if d is not None else None
            vals[p] = v
        if all(v is None for v in vals.values()):
            continue
        ratios = []
        for a, b in pairs:
            x, y = vals.get(a), vals.get(b)
            ratios.append(x / y if x is not None and y not in (None, 0) else None)
        sk, ng = vals.get(primary[0]), vals.get(primary[1])
        ratio = ratios[0] if ratios else None
        met = ""
        if kind and sk is not None:
            if kind == "le_nginx":
                ok = ng is not None and sk <= ng
                met = ("met" if ok else "not met") if ng is not None else "?"
            elif kind == "ratio_le":
                met = ("met" if ratio <= value else "not met") if ratio is not None else ("?" if ng is not None else "")
            elif kind == "le":
                met = "met" if sk <= value else "not met"
            elif kind == "ge":
                met = "met" if sk >= value else "not met"
            if not judged:
                met = NOT_JUDGED
            else:
                verdicts[key] = met
        cells = [label]
        for p in paths:
            cell = fmt(vals[p])
            if (added or key in FLOOR_ROWS) and p == "direct" and vals[p] is not None:
                cell = "(%s)" % cell
            cells.append(cell)
        cells += [fmt(r, 2) if r is not None else "" for r in ratios]
        cells += [target_text(kind, value), met]
        rows.append(cells)
    header = (["figure"] + list(paths) + [compare_loops.ratio_label(a, b) for a, b in pairs]
              + ["target (issue 5)", primary[0] or "ssekeeper"])
    return rows, header, verdicts


def render(rows, header):
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    out = []
    line = lambda cells: "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                                   for i, c in enumerate(cells)).rstrip()
    out.append(line(header))
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append(line(r))
    return "\n".join(out)


def finish_report(failures, json_path, fields):
    """The end of a run, for every mode: what broke, the JSON file (`fields`, with the command line and the
    failures) when asked for, and the exit status (1 when anything broke)."""
    if failures:
        print()
        print("BROKEN:")
        for f in failures:
            print("  " + f)
    if json_path:
        with open(json_path, "w") as f:
            json.dump(dict({"command": " ".join([os.path.basename(sys.executable)] + sys.argv)}, **fields,
                           failures=failures), f, indent=1)
    return 1 if failures else 0


def render_markdown(rows, header):
    header = header[:-2] + ["target", "met"]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(c.strip() for c in r) + " |")
    return "\n".join(out)


def swift_runtime(binary):
    """"static" when `binary` has the Swift runtime linked in (--static-swift-stdlib), "shared" when it loads
    libswiftCore.so, None when readelf cannot tell."""
    try:
        r = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True)
    except OSError:
        return None
    if r.returncode != 0:
        return None
    return "shared" if "[libswiftCore.so]" in r.stdout else "static"


def machine_info(nginx, binary=SSEKEEPER_BIN):
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    try:
        info["ssekeeper"] = subprocess.run([binary, "version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    info["ssekeeper_runtime"] = swift_runtime(binary)
    if nginx:
        r = subprocess.run([nginx, "-v"], capture_output=True, text=True)
        info["nginx"] = (r.stderr or r.stdout).strip()
    return info


# ---------------------------------------------------------------------------------------------- main

def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See the module docstring (head of this file) for the workloads.")
    ap.add_argument("--only", help="comma-separated workloads: " + ",".join(WORKLOADS)
                    + " (with --tls: " + ",".join(compare_tls.WORKLOADS) + ")")
    ap.add_argument("--tls", action="store_true",
                    help="the TLS mode (issue 17): ssekeeper `listen ... tls;` beside nginx `listen ... ssl http2;`, "
                         "over HTTP/2 and HTTP/1.1 (see Benchmarks/compare_tls.py)")
    ap.add_argument("--protocols", default=",".join(compare_tls.PROTOCOLS),
                    help="with --tls: h2 and/or h1 (default both)")
    ap.add_argument("--paths", default=",".join(PATHS), help="comma-separated paths (default: all three)")
    ap.add_argument("--loops", default="1", metavar="N[,M...]",
                    help="event loops of ssekeeper (event_loops N;) and workers of nginx (worker_processes N;), "
                         "one path each per count, side by side (default 1: the paths ssekeeper and nginx)")
    ap.add_argument("--accept", default="acceptor", metavar="MODE[,MODE]",
                    help="SSEKEEPER_ACCEPT for ssekeeper with several loops: acceptor (one socket, round-robin "
                         "hand-off) and/or per-loop (a SO_REUSEPORT socket per loop); each is its own path, and so "
                         "is nginx with several workers in the same mode (acceptor: its one shared socket; "
                         "per-loop: `listen ... reuseport`)")
    ap.add_argument("--proxy-cpus", metavar="LIST",
                    help="pin the proxies to these CPUs (taskset syntax, e.g. 0-7); on a larger machine, keep them "
                         "apart from --tool-cpus")
    ap.add_argument("--tool-cpus", metavar="LIST", help="pin the load tool to these CPUs (e.g. 8-9)")
    ap.add_argument("--duration", type=float, default=1.0, help="scales the timed workloads (default 1.0)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per figure; the table shows the median")
    ap.add_argument("--quick", action="store_true", help="a smoke run of well under a minute (CI)")
    ap.add_argument("--json", help="write every run and the medians to this file")
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    ap.add_argument("--binary", default=SSEKEEPER_BIN, help="the ssekeeper binary (default: the release build)")
    ap.add_argument("--build", action="store_true",
                    help="run `swift build -c release --static-swift-stdlib` first (the build that ships)")
    ap.add_argument("--wait-quiet", type=float, default=None, metavar="S",
                    help="before each run, wait up to S seconds until other processes use at most %d %%%% of a core "
                         "(default 60; 0 with --quick)" % QUIET_PCT)
    ap.add_argument("--max-others", type=float, default=None, metavar="PCT",
                    help="run again when other processes used more than PCT %%%% of a core during a run (default "
                         "%d for latency, %d for the other workloads)" % (MAX_OTHERS["latency"], MAX_OTHERS_DEFAULT))
    ap.add_argument("--reruns", type=int, default=None,
                    help="how often at most a run is repeated for that (default 2; 0 with --quick)")
    args = ap.parse_args()

    if args.wait_quiet is None:
        args.wait_quiet = 0 if args.quick else 60
    if args.reruns is None:
        args.reruns = 0 if args.quick else 2
    if args.tls:
        if not os.access(args.binary, os.X_OK) and "ssekeeper" in args.paths:
            log("compare.py: no ssekeeper binary at %s (run: swift build -c release --static-swift-stdlib)" % args.binary)
            return 2
        nginx = find_nginx()
        if "nginx" in args.paths and not nginx:
            log("compare.py: nginx is not installed (run: bash Benchmarks/install.sh)")
            return 2
        return compare_tls.run(sys.modules[__name__], args, nginx, raise_nofile())
    workloads = WORKLOADS if not args.only else args.only.split(",")
    paths = args.paths.split(",")
    for w in workloads:
        if w not in WORKLOADS:
            ap.error("unknown workload %r" % w)
    for p in paths:
        if p not in PATHS:
            ap.error("unknown path %r" % p)
    try:
        loops = [int(n) for n in args.loops.split(",")]
    except ValueError:
        ap.error("--loops takes counts such as 1,2")
    accepts = args.accept.split(",")
    try:
        parse_cpus(args.proxy_cpus), parse_cpus(args.tool_cpus)
    except ValueError:
        ap.error("--proxy-cpus and --tool-cpus take CPU lists such as 0-3,8")
    if any(n < 1 for n in loops) or any(a not in ACCEPT_MODES for a in accepts):
        ap.error("--loops counts are >= 1; --accept modes are " + ",".join(ACCEPT_MODES))
    plan = compare_loops.plan_paths(loops, accepts, set(paths) | ({"direct"} if "latency" in workloads else set()))
    columns = [name for name, _, _, _ in plan]

    try:
        nofile = raise_nofile()
        if args.build:
            subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib"], cwd=REPO, check=True)
        build_loadgen()
        nginx = find_nginx()
        runners = {"direct": Direct(cpus=parse_cpus(args.proxy_cpus))}
        if "ssekeeper" in paths:
            if not os.access(args.binary, os.X_OK):
                raise SetupError("no ssekeeper binary at %s (run: swift build -c release --static-swift-stdlib)"
                                 % args.binary)
        if "nginx" in paths and not nginx:
            raise SetupError("nginx is not installed (run: bash Benchmarks/install.sh)")
        for name, base, n, accept in plan:
            if base == "ssekeeper":
                runners[name] = SSEKeeper(args.binary, loops=n, accept=accept, name=name,
                                          cpus=parse_cpus(args.proxy_cpus))
            elif base == "nginx":
                runners[name] = Nginx(nginx, nofile, workers=n, name=name, cpus=parse_cpus(args.proxy_cpus),
                                      accept=accept)
    except (SetupError, subprocess.CalledProcessError) as e:
        log("compare.py: %s" % e)
        return 2

    machine = machine_info(nginx, args.binary)
    log("compare.py: %s cpus (%s), RLIMIT_NOFILE %d; %s (Swift runtime %s); %s"
        % (machine["cpus"], machine["cpu_model"], nofile, machine.get("ssekeeper"),
           machine.get("ssekeeper_runtime") or "unknown", machine.get("nginx")))
    if machine.get("ssekeeper_runtime") == "shared":
        log("compare.py: this binary loads the Swift runtime from shared libraries; the build that ships links it in "
            "(swift build -c release --static-swift-stdlib)")
    runs, failures = [], []
    load_before = loadavg()
    figures = {p: {} for p in columns}
    splits = {p: {} for p in columns}  # {path: {phase: [thread split per run]}}
    started = time.monotonic()
    for rep in range(args.repeat):
        for w in workloads:
            # the latency figures are "added" over the direct path, so latency always runs it too
            wanted = set(paths) | ({"direct"} if w == "latency" else set())
            order = [name for name, base, _, _ in plan if base in wanted and base in WORKLOAD_PATHS[w]]
            # rotate the order from one repeat to the next, so no path always runs first
            order = order[rep % len(order):] + order[:rep % len(order)] if order else order
            for p in order:
                t = time.monotonic()
                r, reruns = None, 0
                try:
                    # A run during which other processes took much of the machine is run again (the
                    # attempt with the least such CPU is kept): on a shared 2-core machine they skew it.
                    for attempt in range(1 + args.reruns):
                        quiet = wait_quiet(args.wait_quiet)
                        if quiet is not None and quiet > QUIET_PCT:
                            log("  (other processes still use %.0f %% of a core after %g s; running anyway)"
                                % (quiet, args.wait_quiet))
                        attempt_r = run_one(runners[p], w, args)
                        o = others_pct(attempt_r)
                        if r is None or (o is not None and others_pct(r) is not None and o < others_pct(r)):
                            r = attempt_r
                        if o is None or o <= max_others(args, w) or attempt == args.reruns:
                            break
                        reruns += 1
                        log("  (other processes used %.0f %% of a core during %s/%s; running it again)" % (o, w, p))
                except Broken as e:
                    failures.append(str(e))
                    log("  FAILED %s" % e)
                    continue
                problems = problems_of(p, w, r)
                runs.append({"repeat": rep, "workload": w, "path": p, "result": r, "problems": problems,
                             "loadavg_after": loadavg()})
                for k, v in figures_of(w, r).items():
                    figures[p].setdefault(k, []).append(v)
                for k, v in compare_loops.splits_of(w, r).items():
                    splits[p].setdefault(k, []).append(v)
                others = others_pct(r)
                figures[p].setdefault("others_pct", []).append(others)
                runs[-1]["others_pct"] = others
                runs[-1]["reruns_for_noise"] = reruns
                for prob in problems:
                    failures.append("%s/%s (run %d): %s" % (p, w, rep + 1, prob))
                note = r["proxy"].get("log_lines_not_info")
                extra = " (proxy log: %d warning/error lines)" % note if note else ""
                log("  run %d/%d %-10s %-9s %5.1f s  (other processes: %s %% of a core)%s%s"
                    % (rep + 1, args.repeat, w, p, time.monotonic() - t, fmt(others, 0),
                       "  PROBLEMS: " + "; ".join(problems) if problems else "", extra))

    medians = {p: {k: median(v) if not all(isinstance(x, bool) for x in v) else any(v)
                   for k, v in fs.items()} for p, fs in figures.items()}
    rows, header, verdicts = build_table(medians, columns, judged=not args.quick)
    median_splits = {p: {k: compare_loops.median_split(v) for k, v in ph.items()} for p, ph in splits.items()}
    loop_rows = compare_loops.loop_verdicts(medians, columns, judged=not args.quick)
    print()
    print("ssekeeper vs nginx, side by side (median of %d run%s; %s cpus, %s; Swift runtime %s; total %.0f s)"
          % (args.repeat, "s" if args.repeat > 1 else "", machine["cpus"], machine["cpu_model"],
             machine.get("ssekeeper_runtime") or "unknown", time.monotonic() - started))
    print(render(rows, header))
    split_table = compare_loops.render_splits(median_splits, columns)
    if split_table:
        print()
        print(split_table)
        print("(each thread's CPU in the measured window, by role, busiest first: ssekeeper's loop threads, "
              "libdispatch's workers and main thread; nginx's workers and master)")
    if loop_rows:
        print()
        print(compare_loops.render_verdicts(loop_rows))
    if args.quick:
        print("--quick: a smoke run with shrunken workloads; the targets are shown, %s (run without --quick for "
              "verdicts)." % NOT_JUDGED)
    print("latency rows: the direct column is the floor itself (in brackets); the proxies' columns are their "
          "percentile minus the direct one.")
    print("paced: %s events/s of %s streams; the memory and heartbeat runs hold %s streams; "
          "connection rate: sustained = no errors, >= 99 %% completed, p99 time-to-first-event <= %g ms."
          % ("{:,}".format(2000 if args.quick else PACED_RATE), 20 if args.quick else 100,
             "{:,}".format(500 if args.quick else 9000), CONNRATE_P99_MS))
    print("load average (1 min) before / after: %s / %s -- other work on the machine shows up as noise"
          % (load_before, loadavg()))
    noisy = sum(r.get("reruns_for_noise", 0) for r in runs)
    if noisy:
        print("%d run%s repeated because other processes used more than %s of a core meanwhile (see JSON)."
              % (noisy, "s were" if noisy > 1 else " was",
                 "%g %%" % args.max_others if args.max_others is not None
                 else "the workload's bound (--max-others)"))
    lg = [medians[p].get("throughput_loadgen_cpu_pct") for p in columns]
    if any(v is not None and v > 90 for v in lg):
        print("saturated throughput: the load tool used > 90 % of a core, so events/s there is the rig's ceiling "
              "(2 cores shared by the tool and the proxy), not necessarily the proxy's; CPU per event then follows how "
              "the proxy's reads fall against the tool's bursts (a faster proxy reads fewer bytes a call), not only "
              "its work per event (docs/BENCHMARKS.md, \"Three sets of one serving path\").")
    if any(medians[p].get("connrate_tool_limited") for p in columns):
        print("note: the load tool fell behind its connect schedule on some connection-rate step (see JSON).")
    if args.markdown:
        print()
        print(render_markdown(rows, header))
        if split_table:
            print()
            print(compare_loops.render_splits(median_splits, columns, markdown=True))
        if loop_rows:
            print()
            print(compare_loops.render_verdicts(loop_rows, markdown=True))
    return finish_report(failures, args.json, {
        "machine": machine, "repeat": args.repeat, "quick": args.quick, "duration_scale": args.duration,
        "loops": loops, "accept": accepts, "paths": columns, "medians": medians,
        "thread_split_medians": median_splits, "loop_verdicts": loop_rows, "verdicts": verdicts, "runs": runs})


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("compare.py: interrupted")
        sys.exit(130)
