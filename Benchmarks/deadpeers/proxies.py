"""The proxies of Benchmarks/deadpeers/run.py: ssekeeper with a generated config, and compare.py's nginx.

Both listen on PROXY_HOST and forward to one backend on BACKEND_HOST (trial.py).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import compare  # noqa: E402  shares nginx's config and start-up, free_port, wait_listening, machine_info

from isolation import SetupError  # noqa: E402
from trial import BACKEND_HOST, PROXY_HOST  # noqa: E402

SHORT_SETTINGS = [("idle_timeout", "2s"), ("client_ack_timeout", "2s"), ("client_send_timeout", "3s"),
                  ("upstream_dead_timeout", "3s"), ("sse_upstream_error_event", "on")]
# (b) alone raises client_ack_timeout above client_send_timeout: a client that stops reading closes its window at
# once, and the kernel ends a connection whose window stayed shut for TCP_USER_TIMEOUT (it bounds zero-window
# probing too), which would hide ssekeeper's own send watch, the thing (b) is there to time.
SHORT_OVERRIDES = {}
# ssekeeper's defaults (Sources/SSEKeeperCore/Config/Config.swift), seconds; used for the expected bounds
DEFAULTS = {"idle_timeout": 60.0, "client_ack_timeout": 30.0, "client_send_timeout": 60.0,
            "upstream_dead_timeout": 60.0}


def accepted_short_settings(binary):
    """SHORT_SETTINGS and SHORT_OVERRIDES as far as the binary's `ssekeeper check` accepts them: (accepted settings,
    accepted overrides by scenario, rejected ones with the reason). The settings are checked cumulatively, in their
    order (client_send_timeout is checked against idle_timeout's heartbeat interval, as in the run)."""
    accepted, overrides, rejected = [], {}, []
    workdir = tempfile.mkdtemp(prefix="deadpeers-check-")

    def check(settings):
        path = os.path.join(workdir, "check.conf")
        with open(path, "w") as f:
            f.write(ssekeeper_config(8080, 8081, settings))
        r = subprocess.run([binary, "check", "-c", path], capture_output=True, text=True)
        return None if r.returncode == 0 else (r.stderr or r.stdout).strip().replace(path, "conf")

    try:
        for name, value in SHORT_SETTINGS:
            reason = check(accepted + [(name, value)])
            if reason is None:
                accepted.append((name, value))
            else:
                rejected.append((name, value, reason))
        for scenario, changes in SHORT_OVERRIDES.items():
            usable = {n: v for n, v in changes.items() if n in dict(accepted)}
            reason = check(short_settings(accepted, {scenario: usable}, scenario)) if usable else None
            if reason is None and usable:
                overrides[scenario] = usable
            elif reason is not None:
                rejected += [("(%s) %s" % (scenario, n), v, reason) for n, v in usable.items()]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return accepted, overrides, rejected


def short_settings(accepted, overrides, scenario):
    """The accepted short settings as one scenario uses them (its accepted overrides applied)."""
    changes = overrides.get(scenario, {})
    return [(name, changes.get(name, value)) for name, value in accepted]


def ssekeeper_config(port, backend_port, settings):
    # event_loops 1, as against compare.py's one-worker nginx and as the figures in docs/BENCHMARKS.md were taken
    # (the default is one loop per CPU); dead-peer detection is per connection, so the count does not change it
    lines = ["listen %s:%d;" % (PROXY_HOST, port), "event_loops 1;"] + ["%s %s;" % s for s in settings]
    lines += ["upstream backend { server %s:%d; }" % (BACKEND_HOST, backend_port), "route / { upstream backend; }"]
    return "\n".join(lines) + "\n"


def seconds_of(value):
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in ("ms", "s", "m", "h"):
        if value.endswith(unit) and value[:-len(unit)].replace(".", "", 1).isdigit():
            return float(value[:-len(unit)]) * units[unit]
    return None


class SSEKeeperProxy:
    """One `ssekeeper run` with a generated config; its log (the access log) is kept for the end reasons."""

    def __init__(self, binary, name, settings):
        self.binary, self.name, self.settings = binary, name, settings

    def effective(self):
        """The settings that bound the scenarios, in seconds (defaults where not set)."""
        values = dict(DEFAULTS)
        for name, value in self.settings:
            if name in values and seconds_of(value) is not None:
                values[name] = seconds_of(value)
        return values

    def start(self, backend_port):
        self.dir = tempfile.mkdtemp(prefix="deadpeers-ssekeeper-")
        self.port = compare.free_port()
        conf = os.path.join(self.dir, "ssekeeper.conf")
        with open(conf, "w") as f:
            f.write(ssekeeper_config(self.port, backend_port, self.settings))
        self.log_path = os.path.join(self.dir, "ssekeeper.log")
        with open(self.log_path, "wb") as log_file:
            self.proc = subprocess.Popen([self.binary, "run", "-c", conf], stdin=subprocess.DEVNULL,
                                         stdout=log_file, stderr=log_file)
        compare.wait_listening(self.port, self.proc, self.name)
        return self.port

    def stop(self):
        """SIGTERM, SIGKILL after 2 s: the figures are taken, a drain would only wait for the dropped peers."""
        info = {"alive_at_end": self.proc.poll() is None}
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with open(self.log_path, errors="replace") as f:
            info["log"] = [line.rstrip() for line in f if " warn " in line or " error " in line][:5]
        shutil.rmtree(self.dir, ignore_errors=True)
        return info


class NginxProxy:
    """compare.py's nginx, pointed at a backend on BACKEND_HOST."""

    def __init__(self, binary):
        self.name = "nginx"
        self.inner = compare.Nginx(binary, compare.raise_nofile(), backend_host=BACKEND_HOST)

    def effective(self):
        return None

    def start(self, backend_port):
        try:
            return self.inner.start(backend_port, "deadpeers")
        except compare.Broken as e:
            raise SetupError(str(e))

    def stop(self):
        info = self.inner.stop()
        return {"alive_at_end": info.get("alive_at_end"), "log": info.get("log_sample", [])}
