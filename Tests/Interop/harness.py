"""Starts and stops the interop suite's processes: backends, ssekeeper, nginx, HAProxy, chromedriver.

Every process runs in its own session (process group), so stopping it also stops what it started (gunicorn's
workers, chromedriver's Chromium). `Processes.stop_all()` runs at exit, on SIGINT/SIGTERM and after failures.
All listeners are on 127.0.0.1 with ports the kernel picked as free.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
READY_TIMEOUT_S = 30.0


class CaseFailure(Exception):
    """A case saw something other than what it asserts."""


def check(condition, message):
    """Raises CaseFailure(message) unless condition holds."""
    if not condition:
        raise CaseFailure(message)


class SetupError(Exception):
    """A process of the suite could not be started; the message says which and why."""


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_tool(name):
    """The path of a command, also looking in /usr/sbin (nginx, haproxy); None when missing."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


class Processes:
    """The processes of one suite run, with their logs in one directory."""

    def __init__(self, workdir):
        self.workdir = workdir
        self._procs = []
        self._lock = threading.Lock()

    def start(self, name, argv, env=None, cwd=None, ports=()):
        """Starts argv as `name` (log: WORKDIR/name.log) and waits until it accepts connections on every port."""
        log_path = os.path.join(self.workdir, name + ".log")
        log = open(log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=full_env, cwd=cwd or HERE, start_new_session=True)
        log.close()
        with self._lock:
            self._procs.append((name, proc, log_path))
        for port in ports:
            self.wait_for_port(name, proc, port, log_path)
        return proc

    def wait_for_port(self, name, proc, port, log_path):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SetupError("%s exited with status %s before listening on %d:\n%s"
                                 % (name, proc.returncode, port, tail(log_path)))
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise SetupError("%s did not listen on 127.0.0.1:%d within %.0f s:\n%s"
                         % (name, port, READY_TIMEOUT_S, tail(log_path)))

    def check_alive(self):
        """Names of started processes that have exited (the suite fails if one did while it ran)."""
        with self._lock:
            return ["%s (status %s)" % (name, proc.returncode) for name, proc, _ in self._procs
                    if proc.poll() is not None]

    def stop_all(self):
        """SIGTERM to every process group, then SIGKILL to what is left after 5 s."""
        with self._lock:
            procs, self._procs = self._procs, []
        for _, proc, _ in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        for _, proc, _ in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for _, proc, _ in procs:
            _signal_group(proc, signal.SIGKILL)
            try:
                proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                print("warning: pid %d did not exit after SIGKILL" % proc.pid, file=sys.stderr)


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def tail(path, lines=20):
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")
    except OSError:
        return "(no log)"


def ssekeeper_config(port, upstreams, routes, top=()):
    """The config text: `upstreams` maps name -> port, `routes` is a list of (prefix, upstream, idle_timeout) or
    (prefix, upstream, idle_timeout, extra directives of the route); `top` adds directives of the main context
    (more listeners, TLS files)."""
    lines = ["listen 127.0.0.1:%d;" % port, "probe_path /.ssekeeper/probe;", "heartbeat_fraction 0.33;"]
    lines += list(top)
    for name, upstream_port in upstreams.items():
        lines.append("upstream %s { server 127.0.0.1:%d; }" % (name, upstream_port))
    for prefix, upstream, idle, *extra in routes:
        lines.append("route %s { upstream %s; idle_timeout %s;%s }" % (prefix, upstream, idle, "".join(" " + e for e in extra)))
    return "\n".join(lines) + "\n"


def nginx_config(workdir, servers, read_timeout="3s"):
    """nginx in the foreground with everything under workdir; `servers` maps listen port -> upstream port."""
    blocks = []
    for listen, upstream in servers.items():
        blocks.append("""    server {
        listen 127.0.0.1:%d;
        location / {
            proxy_pass http://127.0.0.1:%d;
        }
    }""" % (listen, upstream))
    temp = os.path.join(workdir, "nginx-temp")
    os.makedirs(temp, exist_ok=True)
    return """daemon off;
master_process off;
worker_processes 1;
pid %(wd)s/nginx.pid;
error_log %(wd)s/nginx-error.log info;
events { worker_connections 256; }
http {
    access_log %(wd)s/nginx-access.log;
    client_body_temp_path %(t)s/body;
    proxy_temp_path %(t)s/proxy;
    fastcgi_temp_path %(t)s/fastcgi;
    uwsgi_temp_path %(t)s/uwsgi;
    scgi_temp_path %(t)s/scgi;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;
    proxy_read_timeout %(rt)s;
%(blocks)s
}
""" % dict(wd=workdir, t=temp, rt=read_timeout, blocks="\n".join(blocks))


def haproxy_config(servers, server_timeout="3s"):
    """HAProxy in HTTP mode; `servers` maps listen port -> upstream port. Only `timeout server` is short."""
    parts = ["""global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server %s
""" % server_timeout]
    for i, (listen, upstream) in enumerate(servers.items()):
        parts.append("""frontend f%d
    bind 127.0.0.1:%d
    default_backend b%d
backend b%d
    server s 127.0.0.1:%d
""" % (i, listen, i, i, upstream))
    return "\n".join(parts)


def start_chromium(procs, workdir, name):
    """chromedriver (started as `name`) and a headless Chromium with a fresh profile under workdir; the caller
    quits the returned selenium driver."""
    import tempfile

    from selenium import webdriver

    driver_port = free_port()
    profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
    procs.start(name, [find_tool("chromedriver"), "--port=%d" % driver_port, "--allowed-ips=127.0.0.1"],
                ports=[driver_port])
    options = webdriver.ChromeOptions()
    options.binary_location = find_tool("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--user-data-dir=" + profile, "--no-proxy-server",
                "--ignore-certificate-errors"):  # the HTTP/2 case's throwaway certificate
        options.add_argument(arg)
    driver = webdriver.Remote(command_executor="http://127.0.0.1:%d" % driver_port, options=options)
    driver.set_page_load_timeout(30)
    return driver


def version_of(argv, pattern=None):
    """The first line of a tool's version output (or the first match of `pattern`), or why there is none."""
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20)
        out = done.stdout if done.stdout.strip() else done.stderr
    except (OSError, subprocess.TimeoutExpired) as error:
        return "unavailable (%s)" % error
    text = out.decode("utf-8", "replace").strip()
    if pattern:
        match = re.search(pattern, text)
        return match.group(0) if match else text.splitlines()[0] if text else "?"
    return text.splitlines()[0] if text else "?"
