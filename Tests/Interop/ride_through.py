"""The client ride-through cases (issue 15; docs/configuration.md "Client ride-through").

The main ssekeeper serves `route /ride/ -> backend_ride.py (uvicorn)` with `client_resume_window 30s;`. The
backend is legacy: it ignores Last-Event-ID and starts every request at `data: 1`, so a client that sees every event
exactly once, in order, over many broken connections, while the backend counted one request, was given its stream
back by ssekeeper each time.

  ride_through_browser     headless Chromium's EventSource through middlebox.py, which resets every client
                           connection 1-2 s after its event stream's response head, for RIDE_SECONDS (20 s; 60 s
                           with run.py --long)
  ride_through_post        a fetch-event-source-style POST client (httpx, JSON body, Authorization) through the
                           same kind of middlebox, for the same time
  ride_through_other_auth  a second client with another Authorization and the first one's id gets a new backend
                           request (with the backend's own id), never the stream; the first then reattaches
  ride_through_haproxy     HAProxy (`cookie SRV insert indirect nocache`, roundrobin) in front of two ssekeeper
                           processes: a client cut mid-stream comes back with the cookie and reattaches; without
                           the cookie the reconnect lands on the other instance and is a new request; with
                           `cookie SRV insert` (no `indirect`) it reaches the right instance but its Cookie
                           differs from the first request's (client_resume_match), so it is a new request too
"""

import json
import os
import subprocess
import sys
import threading
import time
import uuid

import harness
import whatwg_sse
from harness import CaseFailure, check
from middlebox import Middlebox

ROUTE = ("/ride/", "ride", "3s", "client_resume_window 30s;")
PERIOD_MS = 50
DEFAULT_SECONDS = 20
LONG_SECONDS = 60
READ_TIMEOUT_S = 10.0


def ride_seconds():
    """How long the middlebox cases stream: $INTEROP_RIDE_SECONDS (set by run.py --long), else 20 s."""
    return int(os.environ.get("INTEROP_RIDE_SECONDS", DEFAULT_SECONDS))


def new_tag(kind):
    return "%s-%s" % (kind, uuid.uuid4().hex[:10])


def start_backend(suite):
    """The ride backend under uvicorn; its port is suite.ports["ride"]."""
    port = suite.ports["ride"] = harness.free_port()
    env = {"INTEROP_REPORT": suite.report_path, "PYTHONPATH": harness.HERE, "PYTHONUNBUFFERED": "1"}
    suite.procs.start("uvicorn-ride", [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
                                       "--log-level", "warning", "--timeout-graceful-shutdown", "2",
                                       "backend_ride:app"], env=env, ports=[port])


# ---- ids and checks ---------------------------------------------------------------------------------------------

def stamped(event_id):
    """(token, seq, backend id or None) of `sk1.<token>.<seq>[.<backend-id>]`; None for any other id."""
    parts = (event_id or "").split(".", 3)
    if len(parts) < 3 or parts[0] != "sk1" or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2]), parts[3] if len(parts) == 4 else None


def expected_backend_id(i):
    """The backend's last-event-id buffer after event i (every fourth event carries no id of its own)."""
    return "b-%d" % (i if i % 4 else i - 1)


def check_sequence(who, got, first, last):
    """`got` (the data of the events a client dispatched) is first..last, each once, in order."""
    want = [str(i) for i in range(first, last + 1)]
    if got == want:
        return
    seen = set()
    duplicates = sorted({d for d in got if d in seen or seen.add(d)}, key=int)
    missing = [w for w in want if w not in seen]
    at = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
    raise CaseFailure("%s dispatched %d events, expected %d..%d: first difference at #%d (%r, expected %r); "
                      "duplicates %s; missing %s" % (who, len(got), first, last, at, got[at:at + 5], want[at:at + 5],
                                                     duplicates[:20], missing[:20]))


def check_ids(who, data, ids):
    """Every id is ssekeeper's `sk1.` id of one stream, its `<seq>` rising, carrying the backend's id."""
    tokens = set()
    previous = 0
    for d, event_id in zip(data, ids):
        parts = stamped(event_id)
        check(parts is not None, "%s: event %s has id %r, not sk1.<token>.<seq>[.<backend-id>]" % (who, d, event_id))
        token, seq, backend = parts
        tokens.add(token)
        check(seq > previous, "%s: event %s has seq %d after %d" % (who, d, seq, previous))
        previous = seq
        check(backend == expected_backend_id(int(d)), "%s: event %s carries backend id %r, expected %r"
              % (who, d, backend, expected_backend_id(int(d))))
    check(len(tokens) == 1, "%s: ids of %d streams (tokens %s)" % (who, len(tokens), sorted(tokens)))
    return tokens.pop()


def starts(suite, tag):
    return [r for r in suite.records(tag) if r["what"] == "start"]


def one_backend_request(suite, tag):
    """The backend's requests of the stream, checked to be exactly one."""
    requests = starts(suite, tag)
    check(len(requests) == 1, "the backend got %d requests (Last-Event-IDs %r); ride-through should keep one"
          % (len(requests), [r["last_event_id"] for r in requests]))
    return requests


def middlebox_stream(suite, kind):
    """(events, tag, a started Middlebox in front of ssekeeper) for a RIDE_SECONDS stream."""
    box = Middlebox(suite.ports["ssekeeper"])
    box.start()
    return ride_seconds() * 1000 // PERIOD_MS, new_tag(kind), box


def access_lines(suite, tag, log="ssekeeper.log"):
    """ssekeeper's access records (field dicts) whose path has `tag`, in the order logged."""
    import re

    out = []
    with open(os.path.join(suite.workdir, log), errors="replace") as f:
        for line in f:
            if " access " in line and tag in line:
                out.append({k: v.strip('"') for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line)})
    return out


def ends(suite, tag, log="ssekeeper.log"):
    """How many access records of the tag ended each way, e.g. {"client_detached": 9, "completed": 1}."""
    counts = {}
    for record in access_lines(suite, tag, log):
        counts[record.get("end")] = counts.get(record.get("end"), 0) + 1
    return counts


def wait_detached(suite, tag, count=1, log="ssekeeper.log", timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ends(suite, tag, log).get("client_detached", 0) >= count:
            return True
        time.sleep(0.05)
    return False


# ---- a fetch-event-source-style client ----------------------------------------------------------------------------

class Reader:
    """A streaming SSE client over httpx that reconnects like fetch-event-source: after a broken connection it
    sends the request again with `Last-Event-ID` set to the id of the last event it dispatched. Each connection gets
    a fresh WHATWG parser (whatwg_sse.py) whose last-event-id buffer starts at that id. `cookies` (an httpx.Cookies)
    is kept across connections, as a browser keeps them."""

    def __init__(self, url, method="GET", headers=None, body=None, cookies=None):
        import httpx

        self.url, self.method, self.body = url, method, body
        self.headers = dict(headers or {})
        self.cookies = cookies if cookies is not None else httpx.Cookies()
        self.events = []  # (data, id) dispatched, over all connections
        self.last_id = None
        self.connections = 0
        self.breaks = []  # why each connection ended
        self.responses = []  # (status, content-type, set-cookie) per connection

    def connect(self, stop):
        """One connection: reads until `stop(self)` holds (then closes it: the client's own cut), the body ends
        ("end"), or it breaks (the exception's name). Returns how it ended."""
        import httpx

        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        headers.update(self.headers)
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        parser = whatwg_sse.Parser()
        parser._last_event_id = self.last_id or ""
        self.connections += 1
        how = "end"
        try:
            with httpx.Client(timeout=httpx.Timeout(READ_TIMEOUT_S), cookies=self.cookies) as client:
                with client.stream(self.method, self.url, headers=headers, content=self.body) as response:
                    self.responses.append((response.status_code, response.headers.get("content-type"),
                                           response.headers.get("set-cookie")))
                    if response.status_code != 200:
                        return "status %d" % response.status_code
                    for chunk in response.iter_raw():
                        parser.feed(chunk)
                        for _, data, event_id in parser.events:
                            self.events.append((data, event_id))
                            self.last_id = event_id
                        parser.events.clear()
                        if stop(self):
                            how = "done" if self.done() else "cut"
                            break
                self.cookies = httpx.Cookies(client.cookies)
        except httpx.TransportError as error:
            how = type(error).__name__
        self.breaks.append(how)
        return how

    def run(self, deadline_s, stop):
        """Connects again and again (50 ms apart) until `stop(self)` holds or deadline_s passed."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline and not stop(self):
            self.connect(stop)
            if not stop(self):
                time.sleep(0.05)

    def data(self):
        return [d for d, _ in self.events if d != "done"]

    def ids(self):
        return [i for d, i in self.events if d != "done"]

    def done(self):
        return any(d == "done" for d, _ in self.events)


def until_count(count):
    return lambda reader: len(reader.events) >= count or reader.done()


def until_done(reader):
    return reader.done()


# ---- cases ------------------------------------------------------------------------------------------------------

def case_browser(suite):
    seconds = ride_seconds()
    events, tag, box = middlebox_stream(suite, "ride-browser")
    started = time.monotonic()
    try:
        # Its own Chromium (as browser/chromium has), so the shared one stays free for the cors cases meanwhile.
        driver = harness.start_chromium(suite.procs, suite.workdir, "chromedriver-ride")
        try:
            driver.get("http://127.0.0.1:%d/ride/page/%s?n=%d&period_ms=%d" % (box.port, tag, events, PERIOD_MS))
            deadline = time.monotonic() + seconds + 30
            while time.monotonic() < deadline and not driver.execute_script("return window.__done === true"):
                time.sleep(0.25)
            page = driver.execute_script("return {got: window.__got, ids: window.__ids, opens: window.__opens, "
                                         "errors: window.__errors, done: window.__done}")
            version = driver.capabilities.get("browserVersion", "?")
        finally:
            driver.quit()
    finally:
        box.stop()
    took = time.monotonic() - started
    requests = one_backend_request(suite, tag)
    check(page["done"], "no `done` within %d s: %d events, %d opens, %d errors" % (seconds + 30, len(page["got"]),
                                                                                    page["opens"], page["errors"]))
    check_sequence("the page's EventSource", page["got"], 1, events)
    check_ids("the page's EventSource", page["got"], page["ids"])
    check(page["opens"] >= 5 and box.resets >= 5, "only %d opens / %d resets in %d s: the proof needs many breaks"
          % (page["opens"], box.resets, seconds))
    endings = ends(suite, tag)
    return ("Chromium %s: %d events once each, in order, over %d opens (%d errors; middlebox reset %d of %d "
            "connections) in %.1f s; backend requests: 1; ssekeeper access ends %s"
            % (version, events, page["opens"], page["errors"], box.resets, box.accepted, took, endings))


def case_post(suite):
    seconds = ride_seconds()
    events, tag, box = middlebox_stream(suite, "ride-post")
    body = json.dumps({"task": "summarize", "tag": tag, "steps": events}, sort_keys=True).encode()
    reader = Reader("http://127.0.0.1:%d/ride/events/ride/%s?n=%d&period_ms=%d" % (box.port, tag, events, PERIOD_MS),
                    method="POST", body=body,
                    headers={"Authorization": "Bearer x", "Content-Type": "application/json"})
    started = time.monotonic()
    try:
        reader.run(seconds + 30, until_done)
    finally:
        box.stop()
    took = time.monotonic() - started
    requests = one_backend_request(suite, tag)
    check(requests[0]["method"] == "POST" and requests[0]["body_sha256"], "backend saw %r" % requests[0])
    check(reader.done(), "no `done` within %d s: %d events over %d connections (%s)"
          % (seconds + 30, len(reader.events), reader.connections, reader.breaks[-5:]))
    bad = [r for r in reader.responses if r[0] != 200 or not (r[1] or "").startswith("text/event-stream")]
    check(not bad, "answers other than 200 text/event-stream: %r" % bad[:5])
    check_sequence("the POST client", reader.data(), 1, events)
    check_ids("the POST client", reader.data(), reader.ids())
    check(reader.connections >= 5, "only %d connections in %d s" % (reader.connections, seconds))
    kinds = {}
    for how in reader.breaks:
        kinds[how] = kinds.get(how, 0) + 1
    return ("%d events once each, in order, over %d connections (broken: %s; middlebox reset %d) in %.1f s; "
            "backend requests: 1 (POST, body %s…); ssekeeper access ends %s"
            % (events, reader.connections, kinds, box.resets, took, requests[0]["body_sha256"][:12], ends(suite, tag)))


def case_other_auth(suite):
    events = 120
    tag = new_tag("ride-auth")
    url = "http://127.0.0.1:%d/ride/events/ride/%s?n=%d&period_ms=%d" % (suite.ports["ssekeeper"], tag, events,
                                                                        PERIOD_MS)
    alice = Reader(url, headers={"Authorization": "Bearer alice"})
    check(alice.connect(until_count(10)) == "cut", "alice's first connection: %r" % alice.breaks)
    alice_token = check_ids("alice", alice.data(), alice.ids())
    check(wait_detached(suite, tag), "ssekeeper did not log alice's stream as client_detached: %r"
          % access_lines(suite, tag))
    time.sleep(0.3)  # events arrive for alice while she is away
    taken_id = alice.last_id
    mallory = Reader(url, headers={"Authorization": "Bearer mallory"})
    mallory.last_id = taken_id
    check(mallory.connect(until_count(5)) == "cut", "mallory's connection: %r" % mallory.breaks)
    mallory_token = check_ids("mallory", mallory.data(), mallory.ids())
    check(mallory.data()[:5] == ["1", "2", "3", "4", "5"], "mallory saw %r: a replay of alice's stream?" % mallory.data())
    check(mallory_token != alice_token, "mallory's events carry alice's stream token")
    requests = starts(suite, tag)
    check(len(requests) == 2, "backend requests: %r (expected alice's and mallory's)" % requests)
    backend_id = stamped(taken_id)[2]
    check(requests[1]["authorization"] == "Bearer mallory" and requests[1]["last_event_id"] == backend_id,
          "mallory's request reached the backend with Last-Event-ID %r (the backend's own id is %r)"
          % (requests[1]["last_event_id"], backend_id))
    with open(os.path.join(suite.workdir, "ssekeeper.log"), errors="replace") as f:
        log = f.read()
    check("does not match" in log, "no mismatch logged")
    check("mallory" not in log and "alice" not in log, "the Authorization values appear in ssekeeper's log")
    # Alice comes back with the id she had: the events after it, once each, then the live stream to its end.
    seen_before = len(alice.data())
    alice.run(events * PERIOD_MS / 1000 + 15, until_done)
    check(alice.done(), "alice's reattached stream did not reach `done`: %r" % alice.breaks)
    check_sequence("alice (both connections)", alice.data(), 1, events)
    check(check_ids("alice", alice.data(), alice.ids()) == alice_token, "alice's stream changed token")
    requests = starts(suite, tag)
    check(len(requests) == 2, "alice's return reached the backend: %r" % requests[2:])
    check(not any((r["last_event_id"] or "").startswith("sk1.") for r in requests), "an sk1. id reached the backend")
    return ("mallory (other Authorization, alice's id %s…) got a new stream from 1 (backend Last-Event-ID %r, "
            "mismatch logged without values); alice then reattached after event %d and read to %d: backend "
            "requests 2" % (taken_id[:20], requests[1]["last_event_id"], seen_before, events))


# ---- HAProxy in front of two ssekeeper processes --------------------------------------------------------------------

HAPROXY_RIDE = """global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    # An SSE response is an ordinary HTTP response: while it streams, `timeout client` and `timeout server` are
    # its inactivity timeouts (`timeout tunnel` is for WebSocket/CONNECT). ssekeeper's heartbeats (idle_timeout 3s
    # here) keep both busy.
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout http-request 10s
    timeout http-keep-alive 10s
frontend ride
    bind 127.0.0.1:%(port)d
    default_backend ssekeepers
backend ssekeepers
    balance roundrobin
    # Affinity: HAProxy names the instance in a cookie; `indirect` removes it from the requests it forwards, so the
    # reconnect's Cookie header equals the original request's (client_resume_match compares Cookie).
    cookie SRV insert indirect nocache
    option http-no-delay
    server a 127.0.0.1:%(a)d cookie a
    server b 127.0.0.1:%(b)d cookie b
# The same without `indirect`: the cookie reaches ssekeeper on the reconnect only, so the requests differ.
frontend ride-direct-cookie
    bind 127.0.0.1:%(direct_port)d
    default_backend ssekeepers-direct-cookie
backend ssekeepers-direct-cookie
    balance roundrobin
    cookie SRV insert nocache
    option http-no-delay
    server a 127.0.0.1:%(a)d cookie a
    server b 127.0.0.1:%(b)d cookie b
"""

_haproxy_lock = threading.Lock()


def start_haproxy_pair(suite):
    """Two ssekeeper processes (ride route, each its own port) behind one HAProxy; started once per suite."""
    with _haproxy_lock:
        if "haproxy-ride" in suite.ports:
            return
        p = suite.ports
        for name in ("a", "b"):
            port = p["ssekeeper-ride-" + name] = harness.free_port()
            config_path = os.path.join(suite.workdir, "ssekeeper-ride-%s.conf" % name)
            with open(config_path, "w") as f:
                f.write(harness.ssekeeper_config(port, {"ride": p["ride"]}, [ROUTE]))
            suite.procs.start("ssekeeper-ride-" + name, [suite.binary, "run", "-c", config_path], ports=[port])
        haproxy_port, direct_port = harness.free_port(), harness.free_port()
        config_path = os.path.join(suite.workdir, "haproxy-ride.cfg")
        with open(config_path, "w") as f:
            f.write(HAPROXY_RIDE % dict(port=haproxy_port, direct_port=direct_port, a=p["ssekeeper-ride-a"],
                                        b=p["ssekeeper-ride-b"]))
        checked = subprocess.run([harness.find_tool("haproxy"), "-c", "-f", config_path], capture_output=True, text=True)
        if checked.returncode != 0:
            raise CaseFailure("haproxy -c: %s%s" % (checked.stdout, checked.stderr))
        suite.procs.start("haproxy-ride", [harness.find_tool("haproxy"), "-db", "-f", config_path],
                          ports=[haproxy_port, direct_port])
        p["haproxy-ride-direct-cookie"] = direct_port
        p["haproxy-ride"] = haproxy_port


def instance_of(reader, index):
    """The instance HAProxy's Set-Cookie named on the index-th connection, or None when it set none."""
    cookie = reader.responses[index][2] or ""
    return cookie.split("=", 1)[1].split(";", 1)[0] if cookie.startswith("SRV=") else None


def case_haproxy(suite):
    start_haproxy_pair(suite)
    events = 80
    base = "http://127.0.0.1:%d/ride/events/ride/%%s?n=%d&period_ms=%d" % (suite.ports["haproxy-ride"], events,
                                                                          PERIOD_MS)
    # With the cookie: the reconnect reaches the instance that holds the stream and reattaches.
    tag = new_tag("ride-haproxy")
    client = Reader(base % tag, headers={"Authorization": "Bearer h"})
    check(client.connect(until_count(15)) == "cut", "first connection: %r" % client.breaks)
    first = instance_of(client, 0)
    check(first in ("a", "b"), "HAProxy set no SRV cookie: %r" % client.responses)
    check(client.cookies.get("SRV") == first, "the client did not keep the cookie: %r" % dict(client.cookies))
    log = "ssekeeper-ride-%s.log" % first
    check(wait_detached(suite, tag, log=log), "instance %s did not detach the stream: %r"
          % (first, access_lines(suite, tag, log)))
    time.sleep(0.3)
    cut_after = len(client.data())
    client.run(events * PERIOD_MS / 1000 + 15, until_done)
    check(client.done(), "the reattached stream did not reach `done`: %r" % client.breaks)
    check(client.responses[1][2] is None, "HAProxy set a cookie again on the reconnect: %r" % (client.responses[1],))
    requests = starts(suite, tag)
    check(len(requests) == 1, "backend requests: %r (expected one)" % requests)
    check(requests[0]["cookie"] is None, "the SRV cookie reached ssekeeper and the backend: %r" % requests[0])
    check_sequence("the client through HAProxy", client.data(), 1, events)
    check_ids("the client through HAProxy", client.data(), client.ids())
    other = "b" if first == "a" else "a"
    check(not access_lines(suite, tag, "ssekeeper-ride-%s.log" % other), "instance %s saw the stream" % other)

    # Without the cookie: roundrobin sends the reconnect to the other instance, which cannot know the stream.
    tag = new_tag("ride-haproxy-nocookie")
    control = Reader(base % tag, headers={"Authorization": "Bearer h"})
    check(control.connect(until_count(15)) == "cut", "control's first connection: %r" % control.breaks)
    control_first = instance_of(control, 0)
    check(wait_detached(suite, tag, log="ssekeeper-ride-%s.log" % control_first), "control stream not detached")
    cut_id, before = control.last_id, len(control.data())
    control.cookies.clear()
    control.connect(until_count(len(control.events) + 5))
    control_second = instance_of(control, 1)
    requests = starts(suite, tag)
    if control_second != control_first:
        check(len(requests) == 2, "reconnect on the other instance (%s): backend requests %r" % (control_second,
                                                                                             requests))
        check(requests[1]["last_event_id"] == stamped(cut_id)[2],
              "the other instance sent Last-Event-ID %r to the backend" % requests[1]["last_event_id"])
        check(control.data()[before:before + 5] == ["1", "2", "3", "4", "5"],
              "control after the move: %r" % control.data()[before:])
        control_text = ("without the cookie roundrobin sent the reconnect to %s (stream on %s): a new backend "
                        "request from event 1, Last-Event-ID %s" % (control_second, control_first,
                                                                    requests[1]["last_event_id"]))
    else:
        control_text = ("without the cookie the reconnect happened to land on the same instance %s (backend "
                        "requests %d): informational" % (control_second, len(requests)))
    # Without `indirect` the reconnect reaches the right instance, but carries a Cookie the first request had not.
    tag = new_tag("ride-haproxy-direct-cookie")
    url = "http://127.0.0.1:%d/ride/events/ride/%s?n=%d&period_ms=%d" % (suite.ports["haproxy-ride-direct-cookie"],
                                                                        tag, events, PERIOD_MS)
    plain = Reader(url, headers={"Authorization": "Bearer h"})
    check(plain.connect(until_count(15)) == "cut", "direct-cookie first connection: %r" % plain.breaks)
    plain_first = instance_of(plain, 0)
    plain_log = "ssekeeper-ride-%s.log" % plain_first
    check(wait_detached(suite, tag, log=plain_log), "direct-cookie stream not detached")
    plain.connect(until_count(len(plain.events) + 5))
    requests = starts(suite, tag)
    check(len(requests) == 2 and requests[1]["cookie"] == "SRV=%s" % plain_first,
          "without `indirect`: backend requests %r" % requests)
    check(wait_detached(suite, tag, count=2, log=plain_log), "the reconnect did not reach instance %s: %r"
          % (plain_first, access_lines(suite, tag, plain_log)))
    with open(os.path.join(suite.workdir, plain_log), errors="replace") as f:
        check("does not match" in f.read(), "instance %s logged no mismatch" % plain_first)
    return ("cut after %d events on instance %s, reconnect with SRV=%s and Last-Event-ID reattached there: %d "
            "events once each, in order, backend requests 1, the other instance never saw it; %s; without "
            "`indirect` the reconnect reached %s with Cookie SRV=%s, did not match the original request, and was a "
            "new backend request" % (cut_after, first, first, events, control_text, plain_first, plain_first))


def cases(suite):
    return [("ride_through_browser", lambda: case_browser(suite)),
            ("ride_through_post", lambda: case_post(suite)),
            ("ride_through_other_auth", lambda: case_other_auth(suite)),
            ("ride_through_haproxy", lambda: case_haproxy(suite))]
