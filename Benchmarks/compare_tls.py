"""TLS and HTTP/2 in Benchmarks/compare.py (issue 17): `compare.py --tls` puts ssekeeper (`listen ... tls;`) beside
nginx (`listen ... ssl http2;`) with both proxying the same SSE backend, and measures each once over HTTP/2 and once
over HTTP/1.1 inside TLS (ALPN chooses: both proxies offer h2 and http/1.1, the client offers one):

  latency     1,000 streams x 1 event/s for 30 s (h2: on 10 connections; h1: 1,000 connections): added latency per
              event, p50 / p99 / p99.9 = the path's percentile minus the direct path's (the same tool reading the
              backend in cleartext, no proxy). Kernel receive timestamps, as in the cleartext latency workload.
  cpu         100 streams (h2: on 10 connections), 5,000 events/s in all for 10 s, one send() per event: proxy
              CPU-seconds per million events at a paced rate (the per-event cost, TLS encryption included).
  memory      1,000 idle streams (head and one event each; h2: 100 per connection on 10 connections, h1: one
              connection each), after a warm-up of 50: proxy RSS growth per stream.
  handshakes  new TLS connections per second, each making one small request (`GET /hello`, a 3-byte answer from
              the backend) and closing: h2load (nghttp2-client) opens them at a constant rate, stepped 100, 200,
              300, ... /s for 2 s each (-r K --rate-period 10ms, one request per client). A step is sustained when
              every request got its 200, h2load finished within 1.1 x the step's length + 50 ms, and the mean time
              to the first byte (connect() to the answer, handshake included) is at most 10 ms; a step that is not
              is tried once more, and the figure is the highest step before the first one that failed twice. The
              proxy's CPU per handshake is taken at the first step.

The streaming workloads' load tool is Benchmarks/compare/tlsload.py (Python: the `h2` package for HTTP/2, the ssl
module's MemoryBIO so that each read keeps its kernel timestamp); it plays the backend and the clients. The
handshake workload runs tlsload.py as the backend only and h2load as the clients. The certificate is a throwaway
EC P-256 one made with `openssl req -x509` in the run's temp directory. Targets (issue 17): CPU per event and
memory per stream at most nginx's, for each protocol.
"""

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TLSLOAD = os.path.join(HERE, "compare", "tlsload.py")
sys.path.insert(0, os.path.dirname(TLSLOAD))
import tlsload  # noqa: E402  (Benchmarks/compare/tlsload.py: the /proc readings)
WORKLOADS = ["latency", "cpu", "memory", "handshakes"]
PROTOCOLS = ["h2", "h1"]
PACED_RATE = 5000
HANDSHAKE_STEPS = [100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000]
HANDSHAKE_TTFB_MS = 10.0
H2_CONNECTIONS = 10


def params(workload, quick, scale):
    """tlsload.py's arguments (handshakes: the steps and their length) for one workload."""
    d = lambda s: "%g" % (s * scale)
    if quick:
        return {"latency": ["--streams", "100", "--rate", "100", "--duration", "0.5", "--warmup", "0.3"],
                "cpu": ["--streams", "20", "--rate", "1000", "--duration", "0.5", "--warmup", "0.3"],
                "memory": ["--streams", "200", "--connections", "2"],
                "handshakes": ([200], 0.5)}[workload]
    return {"latency": ["--streams", "1000", "--rate", "1000", "--duration", d(30),
                        "--connections", str(H2_CONNECTIONS)],
            "cpu": ["--streams", "100", "--rate", str(PACED_RATE), "--duration", d(10),
                    "--connections", str(H2_CONNECTIONS)],
            "memory": ["--streams", "1000", "--connections", str(H2_CONNECTIONS)],
            "handshakes": (HANDSHAKE_STEPS, 2.0 * scale)}[workload]


# ---------------------------------------------------------------------------------------------- setup

def check_tools(nginx):
    """Raises SetupError (compare.py's) text when h2load, openssl, the h2 package or nginx's http_v2 is missing."""
    missing = [t for t in ("openssl", "h2load") if not shutil.which(t)]
    try:
        import h2  # noqa: F401
    except ImportError:
        missing.append("the Python package h2")
    if nginx:
        r = subprocess.run([nginx, "-V"], capture_output=True, text=True)
        if "--with-http_v2_module" not in r.stderr + r.stdout or "--with-http_ssl_module" not in r.stderr + r.stdout:
            missing.append("nginx with http_ssl_module and http_v2_module")
    return missing


def make_certificate(directory):
    """A throwaway EC P-256 certificate for 127.0.0.1 and localhost: (certificate, key), absolute paths."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    os.chmod(directory, 0o755)  # nginx's worker reads them
    return cert, key


def nginx_version(nginx):
    r = subprocess.run([nginx, "-v"], capture_output=True, text=True)
    m = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", r.stderr + r.stdout)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def nginx_tls(nginx, cert, key):
    """(listen parameters, server directives) for compare.Nginx: `listen ... ssl http2;` up to 1.25.0, `listen ...
    ssl;` with `http2 on;` from 1.25.1 (where the listen parameter is deprecated)."""
    new = nginx_version(nginx) >= (1, 25, 1)
    directives = ("        ssl_certificate %s;\n        ssl_certificate_key %s;\n"
                  "        ssl_protocols TLSv1.2 TLSv1.3;\n" % (cert, key))
    if new:
        return " ssl", directives + "        http2 on;\n"
    return " ssl http2", directives


# ---------------------------------------------------------------------------------------------- one run

def run_stream(kit, path, workload, proto, args):
    """latency / cpu / memory on one path (a compare.py runner, or None for the direct path) with a fresh proxy."""
    argv = params(workload, args.quick, args.duration)
    for attempt in range(3):
        backend = kit.free_port()
        target = path.start(backend, "tls") if path else backend
        try:
            cmd = [sys.executable, TLSLOAD, "memory" if workload == "memory" else "stream", "--proto",
                   proto if path else "plain", "--target", str(target), "--backend", str(backend)] + argv
            if path:
                cmd += ["--pids", ",".join(map(str, path.pids)), "--rss-pids", ",".join(map(str, path.rss_pids))]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120 if args.quick else 600,
                               preexec_fn=kit.pinned(kit.parse_cpus(args.tool_cpus)))
        except subprocess.TimeoutExpired:
            if path:
                path.stop()
            raise kit.Broken("%s/%s/%s: tlsload.py did not finish" % (name_of(path), proto, workload))
        except BaseException:
            if path:
                path.stop()
            raise
        notes = path.stop() if path else {}
        if r.returncode == 2 and "bind 127.0.0.1" in r.stderr and attempt < 2:
            continue
        if r.returncode != 0:
            raise kit.Broken("%s/%s/%s: tlsload.py failed (%d): %s" % (name_of(path), proto, workload,
                                                                         r.returncode, r.stderr.strip()[-400:]))
        import json
        result = json.loads(r.stdout)
        result["proxy"] = notes
        return result
    raise kit.Broken("no free port")


def name_of(path):
    return path.name if path else "direct"


def seconds_of(text):
    """h2load's durations: `2.56s`, `31.31ms`, `847us`."""
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]


def h2load_step(kit, path, proto, port, rate, seconds, backend_pid, tool_cpus=None):
    """One handshake step: `rate` new TLS connections/s for `seconds`, one request each (h2load pinned to
    `tool_cpus`, if any)."""
    n = max(1, int(rate * seconds))
    per_period = max(1, rate // 100)
    cmd = ["h2load", "-t", "1", "-c", str(n), "-n", str(n), "-r", str(per_period), "--rate-period", "10ms"]
    cmd += (["--h1"] if proto == "h1" else []) + ["https://127.0.0.1:%d/hello" % port]
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = tlsload.proc_cpu_s
    w = {"cpu0": cpu(path.pids), "backend0": cpu([backend_pid]), "busy0": kit.machine_busy_s(), "t0": time.monotonic()}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60 + 3 * seconds, preexec_fn=kit.pinned(tool_cpus))
    wall = time.monotonic() - w["t0"]
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = r.stdout
    step = {"rate": per_period * 100, "offered": n, "wall_s": wall,
            "proxy_cpu_s": cpu(path.pids) - w["cpu0"], "backend_cpu_s": cpu([backend_pid]) - w["backend0"],
            "loadgen_cpu_s": (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime),
            "machine_busy_s": kit.machine_busy_s() - w["busy0"], "h2load_status": r.returncode}
    m = re.search(r"finished in ([\d.]+\w+),", out)
    step["finished_s"] = seconds_of(m.group(1)) if m else None
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored,"
                  r" (\d+) timeout", out)
    step.update(dict(zip(["total", "started", "done", "succeeded", "failed", "errored", "timeout"],
                         map(int, m.groups()))) if m else {"succeeded": 0, "failed": n})
    m = re.search(r"status codes: (\d+) 2xx", out)
    step["ok"] = int(m.group(1)) if m else 0
    for key, label in (("connect", "time for connect"), ("ttfb", "time to 1st byte")):
        m = re.search(label + r":\s+(\S+)\s+(\S+)\s+(\S+)", out)
        if m:
            step[key + "_min_ms"], step[key + "_max_ms"], step[key + "_mean_ms"] = (
                1000 * seconds_of(x) for x in m.groups())
    expected = n / step["rate"]
    step["sustained"] = (step["ok"] == n and step["finished_s"] is not None
                         and step["finished_s"] <= 1.1 * expected + 0.05
                         and step.get("ttfb_mean_ms", 1e9) <= HANDSHAKE_TTFB_MS)
    return step


def run_handshakes(kit, path, proto, args):
    """The stepped handshake workload on one proxy; stops at the first step that fails twice."""
    steps, seconds = params("handshakes", args.quick, args.duration)
    backend = kit.free_port()
    tool_cpus = kit.parse_cpus(args.tool_cpus)
    serve = subprocess.Popen([sys.executable, TLSLOAD, "serve", "--backend", str(backend)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=kit.pinned(tool_cpus))
    try:
        serve.stdout.readline()  # {"listening": PORT}
        port = path.start(backend, "tls")
        result = {"workload": "handshakes", "proto": proto, "steps": []}
        try:
            best = 0
            for rate in steps:
                attempts = [h2load_step(kit, path, proto, port, rate, seconds, serve.pid, tool_cpus)]
                if not attempts[0]["sustained"]:
                    attempts.append(h2load_step(kit, path, proto, port, rate, seconds, serve.pid, tool_cpus))
                result["steps"].append(attempts[-1])
                result["steps"][-1]["attempts"] = len(attempts)
                if not attempts[-1]["sustained"]:
                    break
                best = rate
            result["best_rate"] = best
        finally:
            result["proxy"] = path.stop()
        result["proxy_alive"] = result["proxy"].get("alive_at_end", True)
        return result
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=10)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()


# ---------------------------------------------------------------------------------------------- figures

def problems_of(workload, r):
    """What is clearly broken in one run (never a speed figure)."""
    p = []
    if r.get("error"):
        p.append("the load tool stopped: " + r["error"])
    if r.get("open_failed"):
        p.append("%d streams did not open" % r["open_failed"])
    if not r.get("proxy_alive", True) or r.get("proxy", {}).get("alive_at_end") is False:
        p.append("the proxy died")
    if r.get("gaps"):
        p.append("%d events out of order or missing" % r["gaps"])
    if workload in ("latency", "cpu") and "sent" in r and r["events"] < r["sent"]:
        p.append("%d of %d events lost" % (r["sent"] - r["events"], r["sent"]))
    if r.get("resets"):
        p.append("%d streams or connections ended or reset early" % r["resets"])
    if r.get("bad_status"):
        p.append("%d responses were not 200" % r["bad_status"])
    if r.get("send_failures"):
        p.append("%d backend sends failed" % r["send_failures"])
    if workload == "handshakes" and r.get("steps"):
        first = r["steps"][0]
        if first["ok"] < first["offered"]:
            p.append("at %d handshakes/s: %d of %d requests answered 200 (%s failed, %s errored)"
                     % (first["rate"], first["ok"], first["offered"], first.get("failed"), first.get("errored")))
    return p


def tool_relative(proxy_cpu_s, loadgen_cpu_s):
    """The proxy's CPU in a window divided by the load tool's in the same window (None when unreadable).

    The load tool does the same work for every path, so this is the proxy's cost in units of the tool's: on a VM
    whose speed drifts from minute to minute (steal time, frequency), it moves far less between runs than the
    CPU-seconds themselves, and a ratio of two paths' values compares them without the drift."""
    if proxy_cpu_s is None or proxy_cpu_s < 0 or not loadgen_cpu_s:
        return None
    return proxy_cpu_s / loadgen_cpu_s


def figures_of(workload, proto, r):
    """The figures one run yields, by name (`<proto>_<figure>`; the direct path's latency run: `plain_...`)."""
    f = {}
    if r.get("error") or r.get("open_failed"):
        return f
    pct = lambda cpu, wall: 100 * cpu / wall if cpu is not None and cpu >= 0 and wall else None
    if workload == "latency":
        for k in ("p50", "p99", "p999"):
            f["%s_latency_%s" % (proto, k)] = r["latency_kernel"][k]
        f["%s_latency_proxy_cpu_pct" % proto] = pct(r["proxy_cpu_s"], r["wall_s"])
        f["%s_latency_loadgen_cpu_pct" % proto] = pct(r["loadgen_cpu_s"], r["wall_s"])
    elif workload == "cpu":
        f["%s_paced_cpu_s_per_m" % proto] = (r["proxy_cpu_s"] / r["window_events"] * 1e6
                                            if r["proxy_cpu_s"] >= 0 and r["window_events"] else None)
        f["%s_paced_proxy_cpu_pct" % proto] = pct(r["proxy_cpu_s"], r["wall_s"])
        f["%s_paced_loadgen_cpu_pct" % proto] = pct(r["loadgen_cpu_s"], r["wall_s"])
        f["%s_paced_ctxsw_per_event" % proto] = (r["proxy_ctxsw"] / r["window_events"]
                                                if r.get("proxy_ctxsw") is not None and r["window_events"] else None)
        f["%s_paced_cpu_per_tool_cpu" % proto] = tool_relative(r["proxy_cpu_s"], r["loadgen_cpu_s"])
    elif workload == "memory":
        f["%s_memory_kib_per_stream" % proto] = r["rss_per_stream_kib"]
        f["%s_memory_rss_after_mib" % proto] = r["rss_after_kib"] / 1024
    elif workload == "handshakes" and r.get("steps"):
        first = r["steps"][0]
        f["%s_handshakes_best" % proto] = r["best_rate"]
        if first["proxy_cpu_s"] >= 0 and first["ok"]:
            f["%s_handshake_cpu_us" % proto] = first["proxy_cpu_s"] / first["ok"] * 1e6
        f["%s_handshake_ttfb_ms" % proto] = first.get("ttfb_mean_ms")
        f["%s_handshake_loadgen_cpu_us" % proto] = first["loadgen_cpu_s"] / max(first["ok"], 1) * 1e6
    return f


def others_pct(r):
    """CPU (% of one core) that other processes used during the run's window(s)."""
    windows = r.get("steps") or [r]
    vals = []
    for w in windows:
        if "machine_busy_s" in w and w.get("wall_s"):
            mine = max(w.get("proxy_cpu_s", 0), 0) + w.get("loadgen_cpu_s", 0) + max(w.get("backend_cpu_s", 0), 0)
            vals.append(max(0.0, 100 * (w["machine_busy_s"] - mine) / w["wall_s"]))
    return sum(vals) / len(vals) if vals else None


# (label, figure without the protocol, "added" = minus direct, target kind)
ROWS = [
    ("latency added p50 (ms)", "latency_p50", True, None),
    ("latency added p99 (ms)", "latency_p99", True, None),
    ("latency added p99.9 (ms)", "latency_p999", True, None),
    ("  proxy CPU in the latency run (% core)", "latency_proxy_cpu_pct", False, None),
    ("  load tool CPU in the latency run (% core)", "latency_loadgen_cpu_pct", False, None),
    ("CPU per 1M events, paced (s)", "paced_cpu_s_per_m", False, "ratio_le"),
    ("  proxy CPU, paced (% core)", "paced_proxy_cpu_pct", False, None),
    ("  proxy context switches per event, paced", "paced_ctxsw_per_event", False, None),
    ("  load tool CPU, paced (% core)", "paced_loadgen_cpu_pct", False, None),
    ("  proxy CPU / load tool CPU, paced", "paced_cpu_per_tool_cpu", False, None),
    ("RSS per idle stream (KiB)", "memory_kib_per_stream", False, "ratio_le"),
    ("  RSS with the idle streams open (MiB)", "memory_rss_after_mib", False, None),
    ("TLS handshakes/s sustained", "handshakes_best", False, None),
    ("  proxy CPU per handshake, first step (us)", "handshake_cpu_us", False, None),
    ("  time to 1st byte, mean, first step (ms)", "handshake_ttfb_ms", False, None),
    ("  h2load CPU per handshake, first step (us)", "handshake_loadgen_cpu_us", False, None),
]


def build_table(kit, medians, columns, protocols, judged):
    """Rows of strings, the header and the verdicts {figure: met / not met}: one block of ROWS per protocol."""
    rows, verdicts = [], {}
    direct = medians.get("direct", {})
    for proto in protocols:
        for label, key, added, kind in ROWS:
            vals = {p: medians.get(p, {}).get("%s_%s" % (proto, key)) for p in columns if p != "direct"}
            if added:
                floor = direct.get("plain_" + key)
                vals = {p: (v - floor if v is not None and floor is not None else None) for p, v in vals.items()}
                vals["direct"] = floor
            if all(v is None for v in vals.values()):
                continue
            sk, ng = vals.get("ssekeeper"), vals.get("nginx")
            ratio = sk / ng if sk is not None and ng not in (None, 0) else None
            met = ""
            if kind == "ratio_le" and ratio is not None:
                met = ("met" if ratio <= 1.0 else "not met") if judged else kit.NOT_JUDGED
                if judged:
                    verdicts["%s_%s" % (proto, key)] = met
            cells = ["%s: %s" % (proto, label.strip()) if not label.startswith(" ") else label]
            for p in columns:
                v = vals.get(p)
                cells.append(("(%s)" % kit.fmt(v)) if p == "direct" and v is not None else
                             (kit.fmt(v) if p in vals else ""))
            cells += [kit.fmt(ratio, 2) if ratio is not None else "", "<= nginx" if kind else "", met]
            rows.append(cells)
    header = ["figure"] + columns + ["sk / ng", "target (issue 17)", "ssekeeper"]
    return rows, header, verdicts


# ---------------------------------------------------------------------------------------------- the run

def run(kit, args, nginx, nofile):
    """compare.py --tls: every chosen workload x protocol x path, --repeat times; prints the table; returns the exit
    status (0 fine, 1 something clearly broken, 2 setup)."""
    workloads = args.only.split(",") if args.only else WORKLOADS
    protocols = args.protocols.split(",")
    paths = [p for p in args.paths.split(",") if p != "direct"]
    bad = [w for w in workloads if w not in WORKLOADS] + [p for p in protocols if p not in PROTOCOLS]
    if bad:
        kit.log("compare.py --tls: unknown %s (workloads: %s; protocols: %s)"
                % (",".join(bad), ",".join(WORKLOADS), ",".join(PROTOCOLS)))
        return 2
    loops = [int(n) for n in args.loops.split(",")]
    if len(loops) != 1:
        kit.log("compare.py --tls: one --loops count at a time")
        return 2
    missing = check_tools(nginx if "nginx" in paths else None)
    if missing:
        kit.log("compare.py --tls: missing %s (run: bash Benchmarks/install.sh)" % ", ".join(missing))
        return 2
    certdir = tempfile.mkdtemp(prefix="compare-tls-")
    try:
        cert, key = make_certificate(certdir)
        runners = {}
        if "ssekeeper" in paths:
            runners["ssekeeper"] = kit.SSEKeeper(args.binary, loops=loops[0], cpus=kit.parse_cpus(args.proxy_cpus),
                                                 tls=(cert, key))
        if "nginx" in paths:
            runners["nginx"] = kit.Nginx(nginx, nofile, workers=loops[0], cpus=kit.parse_cpus(args.proxy_cpus),
                                         tls=nginx_tls(nginx, cert, key))
        return run_all(kit, args, runners, workloads, protocols)
    finally:
        shutil.rmtree(certdir, ignore_errors=True)


def run_all(kit, args, runners, workloads, protocols):
    machine = kit.machine_info(kit.find_nginx(), args.binary)
    columns = (["direct"] if "latency" in workloads else []) + list(runners)
    figures = {p: {} for p in columns}
    runs, failures = [], []
    started, load_before = time.monotonic(), kit.loadavg()
    for rep in range(args.repeat):
        for w in workloads:
            jobs = [(None, "plain")] if w == "latency" else []
            jobs += [(name, proto) for proto in protocols for name in runners]
            jobs = jobs[rep % len(jobs):] + jobs[:rep % len(jobs)]  # no path always first
            for name, proto in jobs:
                path = runners.get(name)
                t = time.monotonic()
                r, reruns = None, 0
                try:
                    for attempt in range(1 + args.reruns):
                        kit.wait_quiet(args.wait_quiet)
                        got = (run_handshakes(kit, path, proto, args) if w == "handshakes"
                               else run_stream(kit, path, w, proto, args))
                        o, best = others_pct(got), others_pct(r) if r else None
                        if r is None or (o is not None and best is not None and o < best):
                            r = got
                        if o is None or o <= kit.max_others(args, w) or attempt == args.reruns:
                            break
                        reruns += 1
                        kit.log("  (other processes used %.0f %% of a core during %s/%s/%s; running it again)"
                                % (o, w, proto, name_of(path)))
                except kit.Broken as e:
                    failures.append(str(e))
                    kit.log("  FAILED %s" % e)
                    continue
                column = name or "direct"
                problems = problems_of(w, r)
                for k, v in figures_of(w, proto, r).items():
                    figures[column].setdefault(k, []).append(v)
                others = others_pct(r)
                figures[column].setdefault("others_pct", []).append(others)
                runs.append({"repeat": rep, "workload": w, "protocol": proto, "path": column, "result": r,
                             "problems": problems, "others_pct": others, "reruns_for_noise": reruns})
                failures += ["%s/%s/%s (run %d): %s" % (column, proto, w, rep + 1, p) for p in problems]
                note = r.get("proxy", {}).get("log_lines_not_info")
                kit.log("  run %d/%d %-10s %-5s %-9s %5.1f s  (other processes: %s %% of a core)%s%s"
                        % (rep + 1, args.repeat, w, proto, column, time.monotonic() - t, kit.fmt(others, 0),
                           "  PROBLEMS: " + "; ".join(problems) if problems else "",
                           " (proxy log: %d warning/error lines)" % note if note else ""))
    medians = {p: {k: kit.median(v) for k, v in fs.items()} for p, fs in figures.items()}
    rows, header, verdicts = build_table(kit, medians, columns, protocols, judged=not args.quick)
    print()
    print("ssekeeper vs nginx over TLS, HTTP/2 and HTTP/1.1 (median of %d run%s; %s cpus, %s; total %.0f s)"
          % (args.repeat, "s" if args.repeat > 1 else "", machine["cpus"], machine["cpu_model"],
             time.monotonic() - started))
    print(kit.render(rows, header))
    if args.quick:
        print("--quick: a smoke run with shrunken workloads; the targets are shown, %s." % kit.NOT_JUDGED)
    print("latency rows: the direct column is the floor (the same tool reading the backend in cleartext); the proxies'"
          " columns are their percentile minus it.")
    print("h2: streams share %s connections; h1: one TLS connection per stream. paced: %s events/s; idle streams: %s; "
          "handshakes: sustained = every request 200, on schedule, mean time to 1st byte <= %g ms."
          % (2 if args.quick else H2_CONNECTIONS, "{:,}".format(1000 if args.quick else PACED_RATE),
             "{:,}".format(200 if args.quick else 1000), HANDSHAKE_TTFB_MS))
    print("load average (1 min) before / after: %s / %s" % (load_before, kit.loadavg()))
    if args.markdown:
        print()
        print(kit.render_markdown(rows, header))
    return kit.finish_report(failures, args.json, {
        "machine": machine, "mode": "tls", "repeat": args.repeat, "quick": args.quick, "duration_scale": args.duration,
        "protocols": protocols, "paths": columns, "medians": medians, "verdicts": verdicts, "runs": runs})
