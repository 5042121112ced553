"""The HTTP/2 cases' environment and shared helpers (h2_interop.py has the cases).

The first case to call `environment(suite)` makes a throwaway certificate (`openssl req -x509`, EC P-256, for
127.0.0.1 and localhost), starts backend_h2.py under uvicorn and an ssekeeper (log: ssekeeper-h2.log) with a plain, a
`tls` and an `h2c` listener and `route /h2/` to that backend; `Environment.control()` starts the `http2 off;` one.
"""

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import harness
import sse_script
import whatwg_sse
from harness import CaseFailure, check

PREFIX = "/h2/"
IDLE = "1500ms"
CURL_TIMEOUT_S = 20

_lock = threading.Lock()


def new_tag(kind):
    return "%s-%s" % (kind, uuid.uuid4().hex[:10])


class Environment:
    """The certificate, the backend and the HTTP/2 ssekeeper (ports["plain"|"tls"|"h2c"]) of the h2 cases."""

    def __init__(self, suite):
        self.suite = suite
        self.ports = {}
        self.dir = tempfile.mkdtemp(prefix="h2-", dir=suite.workdir)
        self.cert, self.key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        self._control_port = None
        self._control_error = None

    def start(self):
        made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                               "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                               "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], capture_output=True, text=True)
        if made.returncode != 0:
            raise harness.SetupError("openssl req -x509 failed: %s" % made.stderr.strip())
        suite, p = self.suite, self.ports
        p["backend"] = harness.free_port()
        env = {"INTEROP_REPORT": suite.report_path, "PYTHONPATH": harness.HERE, "PYTHONUNBUFFERED": "1"}
        suite.procs.start("uvicorn-h2", [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port",
                                         str(p["backend"]), "--log-level", "warning", "--timeout-graceful-shutdown",
                                         "2", "backend_h2:app"], env=env, ports=[p["backend"]])
        p["plain"], p["tls"], p["h2c"] = harness.free_port(), harness.free_port(), harness.free_port()
        self._start_ssekeeper("ssekeeper-h2", p["plain"], ["listen 127.0.0.1:%d tls;" % p["tls"],
                                                          "listen 127.0.0.1:%d h2c;" % p["h2c"]], [p["tls"], p["h2c"]])

    def _start_ssekeeper(self, name, port, top, more_ports):
        top = top + ["tls_certificate %s;" % self.cert, "tls_certificate_key %s;" % self.key]
        config = harness.ssekeeper_config(port, {"h2": self.ports["backend"]}, [(PREFIX, "h2", IDLE)], top=top)
        path = os.path.join(self.suite.workdir, name + ".conf")
        with open(path, "w") as f:
            f.write(config)
        checked = subprocess.run([self.suite.binary, "check", "-c", path], capture_output=True, text=True)
        if checked.returncode != 0:
            raise harness.SetupError("ssekeeper check refused %s:\n%s%s%s" % (path, config, checked.stdout,
                                                                             checked.stderr))
        self.suite.procs.start(name, [self.suite.binary, "run", "-c", path], ports=[port] + more_ports)

    def control(self):
        """The port of the `http2 off;` tls listener (Chromium's HTTP/1.1 control), started on first use."""
        with _lock:
            if self._control_port is None and self._control_error is None:
                try:
                    port = harness.free_port()
                    self._start_ssekeeper("ssekeeper-h1tls", harness.free_port(),
                                          ["listen 127.0.0.1:%d tls;" % port, "http2 off;"], [port])
                    self._control_port = port
                except harness.SetupError as error:
                    self._control_error = str(error)
            if self._control_error is not None:
                raise CaseFailure("the http2-off control did not start: %s" % self._control_error)
            return self._control_port

    def url(self, listener, path):
        scheme = "https" if listener == "tls" else "http"
        return "%s://127.0.0.1:%d%s%s" % (scheme, self.ports[listener], PREFIX, path)

    def log(self, name="ssekeeper-h2"):
        return os.path.join(self.suite.workdir, name + ".log")


def environment(suite):
    """The h2 cases' Environment, started by the first case that asks; a failed start fails every h2 case."""
    with _lock:
        existing = getattr(suite, "h2_environment", None)
        if existing is None:
            existing = Environment(suite)
            try:
                existing.start()
            except harness.SetupError as error:
                existing = str(error)
            suite.h2_environment = existing
    if isinstance(existing, str):
        raise CaseFailure("the HTTP/2 setup failed: %s" % existing)
    return existing


def rejected(env):
    """ssekeeper-h2's access lines of connections it rejected (e.g. an HTTP/2 preface read as HTTP/1.1), as a
    hint for failure messages; "" when there are none."""
    with open(env.log(), errors="replace") as f:
        lines = [line.strip() for line in f if " end=rejected " in line]
    return ("; ssekeeper-h2.log has %d rejected connection(s), last: %s" % (len(lines), lines[-1])) if lines else ""


def every(env, parts, runner):
    """Runs each (label, function) with `runner` (concurrently, or one after the other), and reports them all:
    the joined results, or a CaseFailure naming every part that failed (and the ones that passed)."""
    def guarded(label, function):
        def run():
            try:
                return True, "%s: %s" % (label, function())
            except Exception as error:  # every part is reported, the case fails below
                return False, "%s FAILED: %s" % (label, error)
        return run

    outcomes = runner(*[guarded(label, function) for label, function in parts])
    text = "; ".join(line for _, line in outcomes)
    check(all(ok for ok, _ in outcomes), text + rejected(env))
    return text


def one_after_another(*functions):
    return [function() for function in functions]


def concurrently(*functions):
    """Runs the functions in threads; their results in order (an exception is raised after all have ended)."""
    results = [None] * len(functions)

    def run(i):
        try:
            results[i] = functions[i]()
        except BaseException as error:  # re-raised in the calling thread
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(functions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def curl(url, *flags):
    """(curl's %{http_version}, the body) of one SSE request with the given protocol flags."""
    with tempfile.NamedTemporaryFile(prefix="curl-body-") as body:
        done = subprocess.run(["curl", "-sS", "-N", "-k", "--max-time", str(CURL_TIMEOUT_S), "-H",
                               "Accept: text/event-stream", "-o", body.name, "-w", "%{http_version} %{http_code}"]
                              + list(flags) + [url], capture_output=True, text=True, timeout=CURL_TIMEOUT_S + 10)
        data = open(body.name, "rb").read()
    if done.returncode != 0:
        raise CaseFailure("curl %s %s exited %d: %s (got %d bytes: %r)" % (" ".join(flags), url, done.returncode,
                                                                            done.stderr.strip(), len(data), data[:300]))
    version, status = done.stdout.split()
    check(status == "200", "curl %s %s: status %s, body %r" % (" ".join(flags), url, status, data[:300]))
    return version, data


def same_events(name, body, reference, script):
    """Checks that `body` (read over HTTP/2) dispatches exactly the events and retries of `reference` (the same
    stream read over HTTP/1.1), and that those are the script's; returns the parsed HTTP/2 body."""
    got, want = whatwg_sse.parse(body), whatwg_sse.parse(reference)
    expected = whatwg_sse.parse(sse_script.script_bytes(script))
    check(want.events == expected.events, "the HTTP/1.1 reference read %r, the script has %r"
          % (want.events, expected.events))
    check((got.events, got.retries) == (want.events, want.retries),
          "%s events differ from HTTP/1.1's:\n  h2   %r %r\n  h1.1 %r %r\n  h2 body %r"
          % (name, got.events, got.retries, want.events, want.retries, body[:600]))
    return got


def access_records(log, tag, count=1, timeout_s=3.0):
    """ssekeeper's access lines (dicts of their fields) for paths with `tag`, once there are `count` of them or
    timeout_s passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        with open(log, errors="replace") as f:
            found = [{k: v.strip('"') for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line)}
                     for line in f if " access " in line and tag in line]
        if len(found) >= count or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)
