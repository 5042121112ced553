#!/usr/bin/env python3
"""The interop suite: ssekeeper between real clients, real backends and real intermediaries.

    bash Tests/Interop/install.sh                                        # Debian + PyPI packages, idempotent
    python3 Tests/Interop/run.py --binary .build/release/ssekeeper       # the longest cases (ride_through_*) stream 20 s

Everything listens on 127.0.0.1 on ports the kernel picked. One ssekeeper instance serves every case:

    route /flask/      -> Flask under gunicorn (sync workers)          idle_timeout 1500ms (heartbeat after 495 ms)
    route /starlette/  -> uvicorn + sse-starlette (ping disabled)      idle_timeout 1500ms
    route /http10/     -> http.server, HTTP/1.0 close-delimited        idle_timeout 1500ms
    route /crlf/       -> http.server, chunked, CRLF line ends         idle_timeout 1500ms
    route /bytewise/   -> http.server, chunked, one byte per send      idle_timeout 1500ms
    route /browser/    -> Flask (page + EventSource stream)            idle_timeout 3s (heartbeat after 990 ms)
    route /idle/       -> uvicorn + sse-starlette                      idle_timeout 3s
    route /cors/       -> Flask, cors_allow_origin <the Flask origin>; cors_allow_credentials on;
    route /cors-nocred/-> Flask, cors_allow_origin <the Flask origin>; (no credentials)
    route /nocors/     -> Flask, no CORS directive
    route /ride/       -> uvicorn + backend_ride.py (legacy: ignores Last-Event-ID)   client_resume_window 30s
    probe_path /.ssekeeper/probe

nginx (proxy_read_timeout 3s) and HAProxy (timeout server 3s) each listen twice: in front of ssekeeper, and in
front of the Starlette backend directly.

Cases (each prints one PASS/FAIL line with what it saw):
  events/BACKEND/CLIENT   the standard script through BACKEND, read by CLIENT (curl -N, httpx-sse, sseclient-py)
                          directly and through ssekeeper at the same time: identical event sequences, the script's
                          events, heartbeats in the pauses (access log), none in the middle of a line
  disconnect/BACKEND      a client reading a 200 ms ticker through ssekeeper closes; the backend's generator
                          `finally` runs within 1 s (the direct figure is shown for comparison)
  browser/chromium        headless Chromium's EventSource: ids, heartbeats never surface, reconnect after retry:
                          with Last-Event-ID
  cors/chromium/...       a page on one loopback origin (Flask, http://127.0.0.1:P) opens an EventSource to
                          ssekeeper on another (http://localhost:Q): without cors_allow_origin it fails (error,
                          no event); with it the events arrive and the reconnect (Last-Event-ID, preflighted or
                          not) goes through; withCredentials needs cors_allow_credentials on
  idle/PROXY/...          10 s of backend silence behind nginx / HAProxy: survives with ssekeeper, cut without
  probe/...               `ssekeeper probe` through nginx / HAProxy finds their 3 s timeout within 10 %; these
                          run after the other cases, together, on a quiet machine: run among 40 others (Chromium
                          starting on 2 cores), the cut was once noticed 365 ms late (3.365 s measured)
  h2_...                  HTTP/2 to clients (issue 17): curl --http2 / --http2-prior-knowledge, nghttp, h2load, the
                          Python h2 client (50 streams, RST_STREAM) and Chromium's 20 EventSources on one origin,
                          on tls and h2c listeners of a second ssekeeper, events identical to HTTP/1.1's (see
                          h2_interop.py)
  ride_through_...        client ride-through (issue 15): Chromium's EventSource and a fetch-event-source-style
                          POST client through a middlebox resetting their connections every 1-2 s for 20 s
                          (--long: 60 s), another Authorization never gets the stream, HAProxy cookie affinity in
                          front of two ssekeeper processes (see ride_through.py)

Exit status: 0 when every case passed, 1 when one failed, 2 when the suite could not start (missing tool or
package: run install.sh; a missing tool is never a skip).
"""

import argparse
import concurrent.futures
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import clients  # noqa: E402
import h2_interop  # noqa: E402
import harness  # noqa: E402
import rawclient  # noqa: E402
import ride_through  # noqa: E402
import sse_script  # noqa: E402
import whatwg_sse  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_BINARY = os.path.join(REPO_ROOT, ".build", "release", "ssekeeper")

TOOLS = ["curl", "nginx", "haproxy", "chromium", "chromedriver", "nghttp", "h2load", "openssl"]
PY_PACKAGES = [("flask", "flask"), ("gunicorn", "gunicorn"), ("uvicorn", "uvicorn"), ("sse-starlette", "sse_starlette"),
               ("starlette", "starlette"), ("httpx", "httpx"), ("httpx-sse", "httpx_sse"), ("requests", "requests"),
               ("sseclient-py", "sseclient"), ("selenium", "selenium"), ("h2", "h2")]

BACKENDS = ["flask", "starlette", "http10", "crlf", "bytewise"]
BACKEND_NAMES = {"flask": "Flask/gunicorn sync", "starlette": "uvicorn+sse-starlette", "http10": "http.server HTTP/1.0",
                 "crlf": "CRLF chunked", "bytewise": "byte-by-byte chunked"}
BACKEND_IDLE = "1500ms"
SLOW_IDLE = "3s"
INTERMEDIARY_TIMEOUT_S = 3.0
DISCONNECT_LIMIT_S = 1.0
PROBE_TOLERANCE = 0.10
# Cases whose figure is a time measured to PROBE_TOLERANCE: they run after the others, so the machine is quiet.
QUIET_CASES = ("probe/",)


CaseFailure = harness.CaseFailure
check = harness.check


def new_tag(kind):
    return "%s-%s" % (kind, uuid.uuid4().hex[:10])


class Suite:
    """The running processes, their ports, and the side channels (backend reports, ssekeeper's access log)."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.procs = harness.Processes(workdir)
        self.report_path = os.path.join(workdir, "backend-report.jsonl")
        open(self.report_path, "w").close()
        self.ports = {}
        self._browser = None
        self._browser_lock = threading.Lock()

    # ---- processes ----

    def start(self):
        env = {"INTEROP_REPORT": self.report_path, "PYTHONPATH": HERE, "PYTHONUNBUFFERED": "1"}
        p = self.ports
        p["flask"] = harness.free_port()
        self.procs.start("gunicorn", [sys.executable, "-m", "gunicorn", "-k", "sync", "-w", "12", "--preload",
                                      "--timeout", "120", "--graceful-timeout", "2", "-b", "127.0.0.1:%d" % p["flask"],
                                      "backend_flask:app"], env=env, ports=[p["flask"]])
        p["starlette"] = harness.free_port()
        self.procs.start("uvicorn", [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(p["starlette"]),
                                     "--log-level", "warning", "--timeout-graceful-shutdown", "2",
                                     "backend_starlette:app"], env=env, ports=[p["starlette"]])
        for style in ("http10", "crlf", "bytewise"):
            p[style] = harness.free_port()
            self.procs.start("backend-" + style, [sys.executable, os.path.join(HERE, "backend_raw.py"), "--style", style,
                                                  "--port", str(p[style])], env=env, ports=[p[style]])
        ride_through.start_backend(self)
        p["ssekeeper"] = harness.free_port()
        routes = [("/%s/" % b, b, BACKEND_IDLE) for b in BACKENDS]
        routes += [("/browser/", "flask", SLOW_IDLE), ("/idle/", "starlette", SLOW_IDLE)]
        page_origin = "http://127.0.0.1:%d" % p["flask"]
        routes += [("/cors/", "flask", SLOW_IDLE, "cors_allow_origin %s;" % page_origin, "cors_allow_credentials on;"),
                   ("/cors-nocred/", "flask", SLOW_IDLE, "cors_allow_origin %s;" % page_origin),
                   ("/nocors/", "flask", SLOW_IDLE), ride_through.ROUTE]
        upstreams = {b: p[b] for b in BACKENDS}
        upstreams["ride"] = p["ride"]
        config = harness.ssekeeper_config(p["ssekeeper"], upstreams, routes)
        config_path = os.path.join(self.workdir, "ssekeeper.conf")
        with open(config_path, "w") as f:
            f.write(config)
        checked = subprocess.run([self.binary, "check", "-c", config_path], capture_output=True, text=True)
        if checked.returncode != 0:
            raise harness.SetupError("ssekeeper check failed:\n%s%s" % (checked.stdout, checked.stderr))
        self.procs.start("ssekeeper", [self.binary, "run", "-c", config_path], ports=[p["ssekeeper"]])
        p["nginx-via"], p["nginx-direct"] = harness.free_port(), harness.free_port()
        nginx_conf = os.path.join(self.workdir, "nginx.conf")
        with open(nginx_conf, "w") as f:
            f.write(harness.nginx_config(self.workdir, {p["nginx-via"]: p["ssekeeper"],
                                                        p["nginx-direct"]: p["starlette"]}))
        self.procs.start("nginx", [harness.find_tool("nginx"), "-p", self.workdir, "-c", nginx_conf,
                                   "-e", os.path.join(self.workdir, "nginx-error.log")], ports=[p["nginx-via"]])
        p["haproxy-via"], p["haproxy-direct"] = harness.free_port(), harness.free_port()
        haproxy_conf = os.path.join(self.workdir, "haproxy.cfg")
        with open(haproxy_conf, "w") as f:
            f.write(harness.haproxy_config({p["haproxy-via"]: p["ssekeeper"], p["haproxy-direct"]: p["starlette"]}))
        self.procs.start("haproxy", [harness.find_tool("haproxy"), "-db", "-f", haproxy_conf], ports=[p["haproxy-via"]])

    def browser(self):
        """A context manager lending the one shared headless Chromium (started on first use) to one case at a
        time, so the cross-origin cases do not start a browser each."""
        suite = self

        class Lease:
            def __enter__(self):
                suite._browser_lock.acquire()
                try:
                    if suite._browser is None:
                        suite._browser = start_chromium(suite)
                except BaseException:
                    suite._browser_lock.release()
                    raise
                return suite._browser

            def __exit__(self, *exc):
                suite._browser_lock.release()

        return Lease()

    def close_browser(self):
        if self._browser is not None:
            try:
                self._browser.quit()
            except Exception:
                pass
            self._browser = None

    # ---- side channels ----

    def records(self, tag):
        """The backend's reports for one stream, in the order written."""
        out = []
        with open(self.report_path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("tag") == tag:
                    out.append(record)
        return out

    def wait_record(self, tag, what, timeout_s, index=0):
        """The index-th report `what` of a stream, waiting up to timeout_s for it; None if it never came."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [r for r in self.records(tag) if r["what"] == what]
            if len(found) > index:
                return found[index]
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def access(self, tag, timeout_s=5.0, count=1):
        """ssekeeper's access records (dicts of the line's fields) of the event streams tagged `tag`, waiting until
        there are `count` of them or timeout_s passed."""
        deadline = time.monotonic() + timeout_s
        log = os.path.join(self.workdir, "ssekeeper.log")
        while True:
            found = []
            with open(log, errors="replace") as f:
                for line in f:
                    if " access " in line and re.search(r" path=\S*/events/\S*%s " % re.escape(tag), line):
                        found.append({k: v.strip('"') for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line)})
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)


# ---------------------------------------------------------------------------------------------------------------
# events/BACKEND/CLIENT

def expected_standard():
    parsed = whatwg_sse.parse(sse_script.script_bytes(sse_script.STANDARD))
    return parsed


def normalize(client, events):
    """(type, data) of each dispatched event, in every client's terms."""
    if client == "curl":
        return [(e[0], e[1]) for e in events if e[0] != "retry"]
    return [(e[0] or "message", e[1]) for e in events]


def case_events(suite, backend, client):
    expected = expected_standard()
    tag_direct, tag_via = new_tag("direct"), new_tag("via")
    path = "/%s/events/standard/%%s" % backend
    urls = {"direct": "http://127.0.0.1:%d%s" % (suite.ports[backend], path % tag_direct),
            "via": "http://127.0.0.1:%d%s" % (suite.ports["ssekeeper"], path % tag_via)}
    results = {}

    def read(which):
        started = time.monotonic()
        try:
            results[which] = clients.CLIENTS[client](urls[which]) + (time.monotonic() - started,)
        except Exception as error:  # reported below as the case's failure
            results[which] = error

    threads = [threading.Thread(target=read, args=(w,)) for w in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for which in urls:
        if isinstance(results[which], Exception):
            raise CaseFailure("%s read failed: %s: %s" % (which, type(results[which]).__name__, results[which]))
    (direct, raw_direct, _), (via, raw_via, seconds) = results["direct"], results["via"]
    # The assertion is "identical with and without ssekeeper", in the client's own terms (a client may deviate
    # from WHATWG, e.g. dispatch empty events for comment blocks, as long as ssekeeper does not change what it sees).
    # That the direct reading is the script's is a sanity check, on the events that carry data.
    want = [(t, d) for t, d, _ in expected.events]
    got = [(t, d) for t, d in normalize(client, direct) if d != ""]
    check(got == want, "direct: events %r, script has %r" % (got, want))
    check(via == direct, "events differ with ssekeeper:\n  direct %r\n  via    %r" % (direct, via))
    if client == "curl":
        check(via == [tuple(e) for e in expected.events] + [("retry", r) for r in expected.retries],
              "curl's events (with ids and retry) differ from the script's")
    records = suite.access(tag_via)
    check(len(records) == 1, "no access line for %s" % tag_via)
    record = records[0]
    heartbeats, skipped = int(record["heartbeats"]), int(record["skipped"])
    check(record["status"] == "200" and record["end"] == "completed", "access line: %s" % record)
    # Pauses of 1.8 s between events and 1.2 s inside one, at a 495 ms interval: five heartbeats are due.
    check(heartbeats >= 3, "only %d heartbeats in 3 s of pauses (interval 495 ms)" % heartbeats)
    check(skipped >= 1, "no heartbeat was skipped in the 1.2 s mid-line pause (a heartbeat there would break the line)")
    extra = ""
    if client == "curl":
        seen = whatwg_sse.parse(raw_via).comments.count("heartbeat")
        check(seen == heartbeats, "curl saw %d heartbeat comments, ssekeeper logged %d" % (seen, heartbeats))
        check(b"heartbeat" not in raw_direct, "heartbeat in the direct stream?")
        extra = ", %d bytes direct / %d via" % (len(raw_direct), len(raw_via))
    empty = sum(1 for _, d in normalize(client, direct) if d == "")
    empty_text = " (%d empty from the backend's own comment block, also direct)" % empty if empty else ""
    return "%d events identical direct and via ssekeeper%s; heartbeats=%d skipped(mid-line)=%d%s; %.1f s" % (
        len(normalize(client, via)), empty_text, heartbeats, skipped, extra, seconds)


# ---------------------------------------------------------------------------------------------------------------
# disconnect/BACKEND

def disconnect_once(suite, port, backend):
    tag = new_tag("disc")
    stream = rawclient.Stream(port, "/%s/events/ticker/%s" % (backend, tag))
    stream.read_until(lambda s: b"tick 3" in s.body, deadline_s=10)
    check(stream.status == 200 and b"tick 3" in stream.body,
          "no ticks (status %s, %r)" % (stream.status, stream.body[:200]))
    closed_at = stream.close()
    record = suite.wait_record(tag, "finally", timeout_s=5.0)
    check(record is not None, "the backend's generator did not stop within 5 s of the client's close")
    failure = [r.get("error") for r in suite.records(tag) if r["what"] == "write_failed"]
    return tag, record["t"] - closed_at, failure


def case_disconnect(suite, backend):
    results = {}

    def run(which, port):
        try:
            results[which] = disconnect_once(suite, port, backend)
        except Exception as error:
            results[which] = error

    threads = [threading.Thread(target=run, args=("via", suite.ports["ssekeeper"])),
               threading.Thread(target=run, args=("direct", suite.ports[backend]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if isinstance(results["via"], Exception):
        raise results["via"]
    tag, seconds, failure = results["via"]
    direct = results["direct"]
    direct_text = ("%.3f s" % direct[1]) if not isinstance(direct, Exception) else "failed: %s" % direct
    check(seconds < DISCONNECT_LIMIT_S, "generator stopped %.3f s after the client's close (limit %.1f s)"
          % (seconds, DISCONNECT_LIMIT_S))
    record = suite.access(tag)
    check(record and record[0]["end"] == "client_closed", "access line: %s" % record)
    how = (" (backend write failed: %s)" % failure[0]) if failure else ""
    return "generator finally %.3f s after the client's FIN via ssekeeper%s; direct %s" % (seconds, how, direct_text)


# ---------------------------------------------------------------------------------------------------------------
# browser/chromium

def start_chromium(suite):
    """The shared chromedriver and headless Chromium (harness.start_chromium)."""
    return harness.start_chromium(suite.procs, suite.workdir, "chromedriver-shared")


def case_browser(suite):
    from selenium import webdriver

    driver_port = harness.free_port()
    profile = tempfile.mkdtemp(prefix="chromium-", dir=suite.workdir)
    suite.procs.start("chromedriver", [harness.find_tool("chromedriver"), "--port=%d" % driver_port,
                                       "--allowed-ips=127.0.0.1"], ports=[driver_port])
    options = webdriver.ChromeOptions()
    options.binary_location = harness.find_tool("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--user-data-dir=" + profile, "--no-proxy-server"):
        options.add_argument(arg)
    tag = new_tag("browser")
    driver = webdriver.Remote(command_executor="http://127.0.0.1:%d" % driver_port, options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.get("http://127.0.0.1:%d/browser/page/%s" % (suite.ports["ssekeeper"], tag))
        deadline = time.monotonic() + 40
        log = []
        while time.monotonic() < deadline:
            log = driver.execute_script("return window.__log") or []
            if any(e["kind"] == "message" and e["data"] == "done" for e in log):
                break
            time.sleep(0.2)
        version = driver.capabilities.get("browserVersion", "?")
    finally:
        driver.quit()
    kinds = [e["kind"] for e in log]
    dispatched = [(e["type"], e["data"], e["id"]) for e in log if e["kind"] in ("message", "tick")]
    want = [("message", "first", "1"), ("tick", "second", "2"), ("message", "third", "3"), ("message", "done", "4")]
    check(dispatched == want, "the page saw %r, expected %r (log: %r)" % (dispatched, want, log))
    check(kinds == ["open", "message", "tick", "message", "error", "open", "message"],
          "events in the page, in order: %r (one error, at the backend's close, is expected)" % kinds)
    first_start = suite.wait_record(tag, "start", 1.0, index=0)
    first_end = suite.wait_record(tag, "end", 1.0, index=0)
    second = suite.wait_record(tag, "start", 1.0, index=1)
    check(first_start and first_end and second, "backend reports missing: %r" % suite.records(tag))
    check(first_start["last_event_id"] is None, "first request carried Last-Event-ID %r" % first_start["last_event_id"])
    check(second["last_event_id"] == "3", "reconnect carried Last-Event-ID %r, expected '3'" % second["last_event_id"])
    delay = second["t"] - first_end["t"]
    retry_s = sse_script.BROWSER_RETRY_MS / 1000
    check(retry_s - 0.1 <= delay <= retry_s + 2.5, "reconnected %.3f s after the close; retry: was %.1f s"
          % (delay, retry_s))
    records = suite.access(tag, count=1)
    check(records and records[0]["end"] == "completed", "access line of the first stream: %s" % records)
    heartbeats = int(records[0]["heartbeats"])
    check(heartbeats >= 3, "only %d heartbeats in the first stream's 5.7 s of pauses (interval 990 ms)" % heartbeats)
    return ("Chromium %s: 4 events with ids, %d heartbeats never surfaced (no message, no error), "
            "1 error at the close, reconnect after %.3f s (retry: %d ms) with Last-Event-ID 3"
            % (version, heartbeats, delay, sse_script.BROWSER_RETRY_MS))


# ---------------------------------------------------------------------------------------------------------------
# cors/chromium/...

def cross_origin_log(suite, prefix, credentials, until, timeout_s, fetch=False):
    """Opens the Flask-served page (origin http://127.0.0.1:FLASK) whose EventSource reads the cors script from
    ssekeeper at http://localhost:SSEKEEPER/PREFIX/...; returns (tag, the page's log, the page origin, the stream
    URL) once `until(log)` holds or timeout_s passed."""
    tag = new_tag("cors")
    page_origin = "http://127.0.0.1:%d" % suite.ports["flask"]
    src = "http://localhost:%d%sevents/cors/%s" % (suite.ports["ssekeeper"], prefix, tag)
    page = "%s/corspage/%s?src=%s&credentials=%d&fetch=%d" % (page_origin, tag, src, 1 if credentials else 0,
                                                              1 if fetch else 0)
    with suite.browser() as driver:
        driver.get(page)
        deadline = time.monotonic() + timeout_s
        log = []
        while time.monotonic() < deadline:
            log = driver.execute_script("return window.__log") or []
            if until(log):
                break
            time.sleep(0.1)
        driver.get("about:blank")  # closes the page's EventSource
    return tag, log, page_origin, src


def case_cors_allowed(suite, credentials, fetch=False):
    def done(log):
        kinds = [e["kind"] for e in log]
        return ("done", "3") in [(e.get("data"), e.get("id")) for e in log] and (not fetch or "fetch" in kinds
                                                                          or "fetch-failed" in kinds)

    tag, log, page_origin, src = cross_origin_log(suite, "/cors/", credentials, done, 20, fetch=fetch)
    dispatched = [(e["data"], e["id"]) for e in log if e["kind"] == "message"]
    check(dispatched == [("one", "1"), ("two", "2"), ("done", "3")],
          "%s read from %s saw %r (log: %r)" % (page_origin, src, dispatched, log))
    suite.wait_record(tag, "start", 1.0, index=2 if fetch else 1)
    starts = [r["last_event_id"] for r in suite.records(tag) if r["what"] == "start"]
    check("2" in starts, "no reconnect with Last-Event-ID 2 reached the backend (its requests: %r)" % starts)
    records = suite.access(tag, count=4 if fetch else 2)
    methods = [r["method"] for r in records]
    preflights = [r for r in records if r["method"] == "OPTIONS"]
    check(all(r["status"] == "204" for r in preflights), "preflight answers: %r" % preflights)
    check(methods.count("GET") >= (3 if fetch else 2), "access records: %r" % records)
    if fetch:
        fetched = [e for e in log if e["kind"].startswith("fetch")]
        check(fetched and fetched[0]["kind"] == "fetch" and fetched[0]["status"] == 200,
              "the preflighted fetch: %r" % fetched)
        check(len(preflights) == 1, "expected the fetch's one preflight, access records: %r" % records)
        return ("fetch with X-Interop (credentials %s): preflight answered 204 by ssekeeper, then 200; and the "
                "EventSource's 3 events" % ("include" if credentials else "omitted"))
    return ("withCredentials=%s: 3 events from %s on page %s, reconnect with Last-Event-ID 2; %d preflight(s) "
            "answered 204 by ssekeeper" % (str(credentials).lower(), src, page_origin, len(preflights)))


def case_cors_refused(suite, prefix, credentials, why):
    tag, log, page_origin, src = cross_origin_log(
        suite, prefix, credentials, lambda log: any(e["kind"] == "error" and e["state"] == 2 for e in log), 10)
    kinds = [e["kind"] for e in log]
    check("message" not in kinds and "open" not in kinds, "events reached the page: %r" % log)
    check(any(e["kind"] == "error" and e["state"] == 2 for e in log),
          "no error with readyState CLOSED within 10 s (log %r)" % log)
    reached = suite.wait_record(tag, "start", 1.0) is not None
    return ("%s: the page's EventSource (withCredentials=%s) failed: error, readyState CLOSED, no event%s"
            % (why, str(credentials).lower(), "; the backend did answer (the browser blocked it)" if reached else ""))


# ---------------------------------------------------------------------------------------------------------------
# idle/PROXY/with-ssekeeper, idle/PROXY/without-ssekeeper

def case_idle(suite, proxy, with_ssekeeper):
    port = suite.ports["%s-%s" % (proxy, "via" if with_ssekeeper else "direct")]
    tag = new_tag("idle")
    stream = rawclient.Stream(port, "/idle/events/silent/%s" % tag)
    stream.read_until(deadline_s=sse_script.SILENT_S + 10, read_timeout=sse_script.SILENT_S + 5)
    stream.close()
    check(stream.status == 200, "status %s" % stream.status)
    parsed = whatwg_sse.parse(stream.body)
    data = [e[1] for e in parsed.events]
    check(data[:1] == ["before the silence"], "first event missing: %r" % stream.body[:200])
    first_at = next(t for t, _ in stream.pieces)
    # HAProxy holds the first body bytes of a chunked response ~200 ms (MSG_MORE) unless `option http-no-delay`.
    first_text = "first event %.0f ms after the request" % ((first_at - stream.started) * 1000)
    gaps = [b[0] - a[0] for a, b in zip(stream.pieces, stream.pieces[1:])]
    if with_ssekeeper:
        check(data == ["before the silence", "after the silence"] and stream.end == "complete",
              "the stream did not survive: events %r, ended %s after %.2f s"
              % (data, stream.end, (stream.ended_at or time.monotonic()) - first_at))
        heartbeats = parsed.comments.count("heartbeat")
        check(heartbeats >= 8, "only %d heartbeats in 10 s (interval 990 ms)" % heartbeats)
        return ("survived %.1f s of backend silence: both events, %d heartbeats, longest gap %.2f s; %s"
                % (sse_script.SILENT_S, heartbeats, max(gaps), first_text))
    check("after the silence" not in data, "the stream was not cut (events %r): the comparison proves nothing" % data)
    check(stream.end in ("eof", "reset", "complete"), "stream still open after %.0f s (%s)"
          % (sse_script.SILENT_S + 10, stream.end))
    cut_after = stream.ended_at - first_at
    check(INTERMEDIARY_TIMEOUT_S * 0.8 <= cut_after <= INTERMEDIARY_TIMEOUT_S * 1.5,
          "cut after %.2f s of silence, expected about %.0f s" % (cut_after, INTERMEDIARY_TIMEOUT_S))
    return "cut by %s after %.2f s of silence (%.2f s after the request; %s), second event lost; %s" % (
        proxy, cut_after, stream.ended_at - stream.started, stream.end, first_text)


# ---------------------------------------------------------------------------------------------------------------
# probe/...

def case_probe(suite, port_name, expected_s):
    url = "http://127.0.0.1:%d/.ssekeeper/probe" % suite.ports[port_name]
    argv = [suite.binary, "probe", url, "--max", "10s", "--json"]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    seconds = time.monotonic() - started
    if done.returncode != 0 and "unknown command" in done.stderr:
        raise CaseFailure("this ssekeeper binary has no `probe` command (exit %d: %s); it is added on the probe "
                          "branch" % (done.returncode, done.stderr.strip().splitlines()[0]))
    check(done.returncode == 0, "`%s` exited %d: %s" % (" ".join(argv[1:]), done.returncode,
                                                          (done.stderr or done.stdout).strip()[:300]))
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise CaseFailure("not one JSON object: %r" % done.stdout[:300])
    idle, cut_by = result.get("idle_timeout_s"), result.get("cut_by")
    if expected_s is None:
        check(idle is None and cut_by == "none", "no intermediary, yet idle_timeout_s=%r cut_by=%r" % (idle, cut_by))
        return "no cut within 10 s: idle_timeout_s=null cut_by=none (%.1f s)" % seconds
    check(isinstance(idle, (int, float)), "idle_timeout_s=%r cut_by=%r" % (idle, cut_by))
    check(abs(idle - expected_s) <= expected_s * PROBE_TOLERANCE,
          "measured %.3f s, configured %.1f s (tolerance %d %%)" % (idle, expected_s, PROBE_TOLERANCE * 100))
    check(cut_by in ("fin", "rst", "http_error", "silent_drop"), "cut_by=%r" % cut_by)
    return "idle_timeout_s=%.3f (configured %.1f s) cut_by=%s (%.1f s)" % (idle, expected_s, cut_by, seconds)


# ---------------------------------------------------------------------------------------------------------------

def all_cases(suite):
    cases = [("browser/chromium", lambda: case_browser(suite))]
    cases.append(("cors/chromium/without-directive",
                  lambda: case_cors_refused(suite, "/nocors/", False, "no cors_allow_origin")))
    cases.append(("cors/chromium/allowed", lambda: case_cors_allowed(suite, False)))
    cases.append(("cors/chromium/allowed-with-credentials", lambda: case_cors_allowed(suite, True)))
    cases.append(("cors/chromium/preflighted-fetch", lambda: case_cors_allowed(suite, True, fetch=True)))
    cases.append(("cors/chromium/credentials-not-allowed",
                  lambda: case_cors_refused(suite, "/cors-nocred/", True, "cors_allow_credentials off")))
    for proxy in ("nginx", "haproxy"):
        cases.append(("idle/%s/with-ssekeeper" % proxy, lambda p=proxy: case_idle(suite, p, True)))
        cases.append(("idle/%s/without-ssekeeper" % proxy, lambda p=proxy: case_idle(suite, p, False)))
    cases.append(("probe/nginx", lambda: case_probe(suite, "nginx-via", INTERMEDIARY_TIMEOUT_S)))
    cases.append(("probe/haproxy", lambda: case_probe(suite, "haproxy-via", INTERMEDIARY_TIMEOUT_S)))
    cases.append(("probe/no-intermediary", lambda: case_probe(suite, "ssekeeper", None)))
    for backend in BACKENDS:
        for client in clients.CLIENTS:
            cases.append(("events/%s/%s" % (backend, client), lambda b=backend, c=client: case_events(suite, b, c)))
    for backend in BACKENDS:
        cases.append(("disconnect/%s" % backend, lambda b=backend: case_disconnect(suite, b)))
    cases += ride_through.cases(suite)
    cases += h2_interop.cases(suite)
    return cases


def preflight():
    """Names of missing tools and packages."""
    missing = [t for t in TOOLS if not harness.find_tool(t)]
    for dist, module in PY_PACKAGES:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append("python package %s" % dist)
    return missing


def versions(binary):
    from importlib import metadata

    out = [("ssekeeper", harness.version_of([binary, "version"])),
           ("python", sys.version.split()[0]),
           ("curl", harness.version_of(["curl", "--version"], r"curl \S+")),
           ("nginx", harness.version_of([harness.find_tool("nginx"), "-v"], r"nginx/\S+")),
           ("haproxy", harness.version_of([harness.find_tool("haproxy"), "-v"], r"HAProxy version \S+")),
           ("chromium", harness.version_of([harness.find_tool("chromium"), "--version"], r"Chromium \S+")),
           ("chromedriver", harness.version_of([harness.find_tool("chromedriver"), "--version"], r"ChromeDriver \S+")),
           ("nghttp", harness.version_of(["nghttp", "--version"], r"nghttp2/\S+")),
           ("h2load", harness.version_of(["h2load", "--version"], r"nghttp2/\S+")),
           ("openssl", harness.version_of(["openssl", "version"], r"OpenSSL \S+"))]
    for dist, _ in PY_PACKAGES:
        out.append((dist, metadata.version(dist)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=DEFAULT_BINARY, help="ssekeeper executable (default: %(default)s)")
    parser.add_argument("--only", action="append", default=[], help="run only cases whose name contains this")
    parser.add_argument("--jobs", type=int, default=32, help="cases run at once (default: %(default)s)")
    parser.add_argument("--long", action="store_true", help="run the ride_through middlebox cases for %d s "
                        "instead of %d s" % (ride_through.LONG_SECONDS, ride_through.DEFAULT_SECONDS))
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs)")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if args.long:
        os.environ["INTEROP_RIDE_SECONDS"] = str(ride_through.LONG_SECONDS)
    if not os.access(binary, os.X_OK):
        print("ERROR no ssekeeper binary at %s (swift build -c release)" % binary)
        return 2
    missing = preflight()
    if missing:
        print("ERROR missing: %s. Run: bash Tests/Interop/install.sh" % ", ".join(missing))
        return 2
    print("versions:")
    for name, version in versions(binary):
        print("  %-14s %s" % (name, version))
    sys.stdout.flush()

    workdir = tempfile.mkdtemp(prefix="ssekeeper-interop-")
    suite = Suite(binary, workdir)

    def on_signal(signum, frame):
        suite.procs.stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    results = []
    started = time.monotonic()
    try:
        try:
            suite.start()
        except harness.SetupError as error:
            print("ERROR setup: %s" % error)
            return 2
        print("setup: all processes listening after %.1f s (logs in %s)" % (time.monotonic() - started, workdir))
        sys.stdout.flush()
        cases = [c for c in all_cases(suite) if not args.only or any(o in c[0] for o in args.only)]
        lock = threading.Lock()

        def run_case(name, function):
            case_started = time.monotonic()
            try:
                line, ok = function(), True
            except CaseFailure as failure:
                line, ok = str(failure), False
            except Exception as error:
                line, ok = "%s: %s\n%s" % (type(error).__name__, error, traceback.format_exc()), False
            with lock:
                print("%s %-36s %s [%.1f s]" % ("PASS" if ok else "FAIL", name, line, time.monotonic() - case_started))
                sys.stdout.flush()
                results.append((name, ok))

        # Timing-sensitive cases (QUIET_CASES) run after the rest, among themselves only.
        quiet = [c for c in cases if c[0].startswith(QUIET_CASES)]
        busy = [c for c in cases if not c[0].startswith(QUIET_CASES)]
        for batch in (busy, quiet):
            with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
                for future in [pool.submit(run_case, name, function) for name, function in batch]:
                    future.result()
        dead = suite.procs.check_alive()
        if dead:
            print("FAIL %-36s exited during the run: %s" % ("processes", ", ".join(dead)))
            results.append(("processes", False))
    finally:
        suite.close_browser()
        suite.procs.stop_all()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("interop suite: %.1f s" % (time.monotonic() - started))
    print("interop: %d passed, %d failed" % (passed, failed))
    if failed or args.keep:
        print("logs: %s" % workdir)
    else:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
