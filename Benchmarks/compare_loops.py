"""Several event loops in Benchmarks/compare.py (issue 16): the paths --loops and --accept make, the proxy's CPU
split across its threads, and the several-loop targets.

Paths: `--loops 1` (the default) keeps the three paths `direct`, `ssekeeper`, `nginx` (ssekeeper with `event_loops 1;`,
nginx with `worker_processes 1;`). Any other list makes one ssekeeper and one nginx path per count, named
`ssekeeper×N` and `nginx×N`; with several accept modes (or a mode other than the default `acceptor`), a path with
N > 1 loops or workers is made once per mode, named `ssekeeper×N/per-loop`, `nginx×N/per-loop` and so on (with one
loop both modes are the same single socket, so it runs once). For nginx, `acceptor` is its default (one listening
socket its workers share; which worker takes a connection is up to the kernel's wake-up, so the split can be
uneven) and `per-loop` is `listen ... reuseport` (a socket per worker, the kernel spreading connections by a hash,
as ssekeeper's per-loop mode does). Ratios and targets pair each ssekeeper path with the nginx path of the same
count and mode.

Thread split: the load tool reports, at the edges of each measured window, the CPU of every thread of the proxy's
processes (the nanoseconds of /proc/PID/task/TID/schedstat; the name is /proc/PID/task/TID/comm), and the split
groups them by role (`role_of`): ssekeeper's loop threads (ReadinessPoller's, one per loop, blocking in epoll_wait
and serving each batch on the loop's queue; named `ssk-loop-N`), libdispatch's workers (named after their root
queue, `-qos.overcommit`: they run work queued onto a loop while its thread is not serving), and the main thread;
nginx's master and worker processes, one thread each.
"""

import statistics

TIMES = "\u00d7"

# (phase key, label, workload, window of a run's JSON)
THREAD_PHASES = [
    ("latency", "latency run", "latency", lambda r: r),
    ("paced", "throughput, paced", "throughput", lambda r: r.get("paced")),
    ("saturated", "throughput, saturated", "throughput", lambda r: r),
    ("heartbeats", "heartbeats", "heartbeats", lambda r: r),
    ("connrate", "connrate, best sustained step", "connrate", lambda r: best_step(r)),
]
SHOWN_MIN_PCT = 1.0  # threads below this share of a core are folded into "rest"
SHOWN_MAX = 4        # at most this many threads shown one by one


def plan_paths(loops, accepts, bases):
    """[(name, base, loops, accept)] for the --loops counts and --accept modes, limited to the wanted `bases`
    (direct, ssekeeper, nginx), direct first, then the ssekeeper paths, then nginx's."""
    plain = loops == [1]
    named = lambda base, n: base if plain else "%s%s%d" % (base, TIMES, n)
    out = [("direct", "direct", 0, None)] if "direct" in bases else []
    for base in ("ssekeeper", "nginx"):
        if base not in bases:
            continue
        for n in loops:
            modes = accepts if n > 1 else accepts[:1]
            for mode in modes:
                suffix = "/" + mode if n > 1 and (len(accepts) > 1 or mode != "acceptor") else ""
                out.append((named(base, n) + suffix, base, n, mode))
    return out


def mode_of(name):
    """The accept mode a path name says ("" for none)."""
    return name.split("/")[1] if "/" in name else ""


def nginx_like(p, paths):
    """The nginx path with as many workers as ssekeeper path `p` has loops, in the same accept mode when there is
    one (ssekeeper×2/per-loop against nginx×2/per-loop), else the first with that count."""
    same_count = [q for q in paths if base_of(q) == "nginx" and loops_of(q) == loops_of(p)]
    return next((q for q in same_count if mode_of(q) == mode_of(p)), same_count[0] if same_count else None)


def base_of(name):
    return name.split(TIMES)[0].split("/")[0]


def loops_of(name):
    """The loop (nginx: worker) count a path name says; 1 for the plain names."""
    if TIMES not in name:
        return 1
    return int(name.split(TIMES)[1].split("/")[0])


def ratio_pairs(paths):
    """(ssekeeper path, nginx path with as many workers) for every ssekeeper path that has one."""
    pairs = []
    for p in paths:
        if base_of(p) != "ssekeeper":
            continue
        ng = nginx_like(p, paths)
        if ng:
            pairs.append((p, ng))
    return pairs


def ratio_label(a, b):
    if TIMES not in a:
        return "sk/nginx"
    return "%s / %s" % (a.replace("ssekeeper", "sk"), b.replace("nginx", "ng"))


# ---------------------------------------------------------------------------------------------- thread split

def best_step(r):
    steps = r.get("steps") or []
    sustained = [s for s in steps if s.get("sustained")]
    return sustained[-1] if sustained else (steps[0] if steps else None)


ROLES = [("loops", "loop threads"), ("workers", "nginx workers"), ("dispatch", "libdispatch workers"),
         ("main", "main thread / nginx master")]


def role_of(thread, first_pid):
    """Which kind of thread this is, from its name and ids. libdispatch names its workers after their root queue
    (`comm` reads `-qos.overcommit`, the last 15 bytes of the name); ssekeeper names its loop threads `ssk-loop-N`;
    the main thread's id is the process's; nginx's workers are their own processes."""
    if "qos" in thread["comm"]:
        return "dispatch"
    if thread["comm"].startswith("ssk-loop"):
        return "loops"
    if thread["tid"] == thread["pid"]:
        return "main" if thread["pid"] == first_pid else "workers"
    return "loops"


def thread_split(window):
    """One window's split: each thread's CPU as % of one core, busiest first within its role, and the names seen."""
    if not window or not window.get("wall_s") or "proxy_threads" not in window:
        return None
    threads = window["proxy_threads"]
    first_pid = threads[0]["pid"] if threads else None
    roles = {}
    for t in threads:
        roles.setdefault(role_of(t, first_pid), []).append(100 * t["cpu_s"] / window["wall_s"])
    return {"roles": {r: sorted(v, reverse=True) for r, v in roles.items()}, "threads": len(threads),
            "names": sorted({t["comm"] for t in threads})}


def splits_of(workload, r):
    """{phase: split} for one run of `workload`."""
    out = {}
    for key, _, w, window in THREAD_PHASES:
        if w == workload:
            s = thread_split(window(r))
            if s:
                out[key] = s
    return out


def median_split(splits):
    """The per-rank median of several runs' splits, role by role (the busiest loop thread's median, the
    second's, ...)."""
    splits = [s for s in splits if s]
    if not splits:
        return None
    roles = {}
    for role in {r for s in splits for r in s["roles"]}:
        lists = [s["roles"].get(role, []) for s in splits]
        width = max(len(v) for v in lists)
        padded = [v + [0.0] * (width - len(v)) for v in lists]
        roles[role] = [statistics.median(col) for col in zip(*padded)]
    return {"roles": roles, "threads": statistics.median(s["threads"] for s in splits),
            "names": sorted({n for s in splits for n in s["names"]})}


def split_text(s):
    """`loops 26 + 25, dispatch 0, main 0 = 51`: % of one core per thread, by role, busiest first; at most
    SHOWN_MAX threads of a role one by one, the rest (or threads under SHOWN_MIN_PCT) summed as `+x in n`."""
    if not s:
        return "n/a"
    f = lambda v: "0" if v < 0.05 else ("%.0f" % v if v >= 10 else "%.1f" % v)
    parts, total = [], 0.0
    for role, _ in ROLES:
        values = s["roles"].get(role)
        if not values:
            continue
        total += sum(values)
        shown = [v for v in values[:SHOWN_MAX] if v >= SHOWN_MIN_PCT]
        rest = values[len(shown):]
        text = " + ".join(f(v) for v in shown)
        if rest and (sum(rest) >= 0.05 or not shown):
            rest_text = f(sum(rest)) if len(rest) == 1 or sum(rest) < 0.05 else "%s in %d" % (f(sum(rest)), len(rest))
            text += (" + " if text else "") + rest_text
        parts.append("%s %s" % (role, text))
    return "%s = %s" % (", ".join(parts), f(total))


def render_splits(splits, paths, markdown=False):
    """The split table: one row per measured phase, one column per proxy path."""
    cols = [p for p in paths if p != "direct"]
    rows = []
    for key, label, _, _ in THREAD_PHASES:
        cells = [split_text(splits.get(p, {}).get(key)) for p in cols]
        if any(c != "n/a" for c in cells):
            rows.append([label] + cells)
    if not rows:
        return ""
    header = ["proxy CPU by thread (% of a core)"] + cols
    if markdown:
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                         + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


# ---------------------------------------------------------------------------------------------- loop targets

def loop_verdicts(medians, paths, judged=True):
    """Issue 16's targets for every ssekeeper path with several loops, against the 1-loop ssekeeper path: CPU per
    event (paced and saturated) at most 5 % above 1 loop's and at most nginx's with as many workers; added latency
    p99 no worse than 1 loop's. Rows [figure, path, value, against, verdict]."""
    one = next((p for p in paths if base_of(p) == "ssekeeper" and loops_of(p) == 1), None)
    direct = medians.get("direct", {})
    added = lambda p, k: (medians.get(p, {}).get(k) - direct[k]
                          if medians.get(p, {}).get(k) is not None and direct.get(k) is not None else None)
    rows = []
    for p in paths:
        if base_of(p) != "ssekeeper" or loops_of(p) == 1 or one is None:
            continue
        ng = nginx_like(p, paths)
        for key, label in (("paced_cpu_s_per_m", "CPU per 1M events, paced (s)"),
                           ("throughput_cpu_s_per_m", "CPU per 1M events, saturated (s)")):
            v, base = medians.get(p, {}).get(key), medians.get(one, {}).get(key)
            if v is not None and base:
                rows.append([label, p, v, "<= 1.05 x %s (%.3f)" % (one, 1.05 * base), v <= 1.05 * base])
            n = medians.get(ng, {}).get(key) if ng else None
            if v is not None and n is not None:
                rows.append([label, p, v, "<= %s (%.3f)" % (ng, n), v <= n])
        v, base = added(p, "latency_p99"), added(one, "latency_p99")
        if v is not None and base is not None:
            rows.append(["latency added p99 (ms)", p, v, "<= %s (%.3f)" % (one, base), v <= base])
        v, base = medians.get(p, {}).get("throughput_events_per_s"), medians.get(one, {}).get("throughput_events_per_s")
        if v is not None and base:
            rows.append(["throughput, saturated (events/s)", p, v, "%.2f x %s" % (v / base, one), None])
    out = []
    for label, p, v, against, ok in rows:
        verdict = "" if ok is None else ("not judged" if not judged else ("met" if ok else "not met"))
        out.append([label, p, "{:,.0f}".format(v) if v >= 100 else "%.3f" % v, against, verdict])
    return out


def render_verdicts(rows, markdown=False):
    header = ["figure (issue 16)", "path", "value", "target / against", "verdict"]
    if markdown:
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                         + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])
