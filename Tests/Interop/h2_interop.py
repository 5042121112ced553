"""HTTP/2 to clients (issue 17; docs/configuration.md "listen", "http2") with real HTTP/2 clients.

The first h2 case starts, for all of them (h2_environment.py): a throwaway certificate (`openssl req -x509`, EC
P-256, for 127.0.0.1 and localhost) in a temp dir, backend_h2.py under uvicorn, and a second ssekeeper (log:
ssekeeper-h2.log) with

    listen 127.0.0.1:PLAIN;   listen 127.0.0.1:TLS tls;   listen 127.0.0.1:H2C h2c;
    route /h2/ -> backend_h2 (uvicorn + sse-starlette)     idle_timeout 1500ms (heartbeat after 495 ms)

and the Chromium case starts a third one like it with `http2 off;` (log: ssekeeper-h1tls.log) as its control.

  h2_curl_tls          curl --http2 -k to the tls listener negotiates HTTP/2 (%{http_version} = 2); its events are
                       the ones curl --http1.1 -k reads from the same listener at the same time (WHATWG parser)
  h2_curl_h2c          the same with curl --http2-prior-knowledge against the h2c listener, and curl --http1.1 to
                       the same h2c port is still served (as HTTP/1.1)
  h2_nghttp            nghttp -nv --hexdump fetches an SSE stream and a plain response on one connection (h2c and
                       tls): both requests sent at once, the plain one ends while the stream runs, and the SSE
                       stream's DATA payloads (read from the hexdump) carry the events curl --http1.1 reads
  h2_h2load            h2load -n 200 -c 4 -m 10 on a plain and a short SSE route (h2c and tls): all succeeded, 2xx
  h2_python            the Python h2 client, default 65,535-byte windows: 50 streams on one TLS connection all get
                       every event of a 30 KB stream; RST_STREAM(CANCEL) of one makes its backend generator stop
                       within 2 s while the others go on
  h2_chromium_20_tabs  headless Chromium's page over HTTPS opens 20 EventSources to its origin: all 20 get events
                       over h2; the same page through `http2 off;` (HTTP/1.1) gets at most 6 going
"""

import os
import re
import socket
import ssl
import subprocess
import tempfile
import time

import sse_script
import whatwg_sse
from h2_environment import (CURL_TIMEOUT_S, PREFIX, access_records, concurrently, curl, environment, every,
                            new_tag, one_after_another, rejected, same_events)
from harness import CaseFailure, check

STREAMS = 50
CANCEL_LIMIT_S = 2.0
TABS = 20
BROWSER_H1_LIMIT = 6


# ---- curl --------------------------------------------------------------------------------------------------------

def case_curl(suite, listener):
    env = environment(suite)
    h2_flag = "--http2" if listener == "tls" else "--http2-prior-knowledge"
    tag_h2, tag_h1 = new_tag("h2curl"), new_tag("h1curl")
    started = time.monotonic()

    def read(tag, flag):
        try:
            return [curl(env.url(listener, "events/standard/" + tag), flag)]
        except CaseFailure as failure:
            return [failure]  # reported below with the other read's outcome

    (h2_read,), (h1_read,) = concurrently(lambda: read(tag_h2, h2_flag), lambda: read(tag_h1, "--http1.1"))
    seconds = time.monotonic() - started
    h1_text = ("curl --http1.1 to the same port: %s" % h1_read if isinstance(h1_read, CaseFailure)
               else "curl --http1.1 to the same port was served (HTTP/%s, %d bytes)" % (h1_read[0], len(h1_read[1])))
    check(not isinstance(h2_read, CaseFailure), "%s; %s%s" % (h2_read, h1_text, rejected(env)))
    check(not isinstance(h1_read, CaseFailure), h1_text + rejected(env))
    (v2, body2), (v1, body1) = h2_read, h1_read
    check(v2 == "2", "curl %s to the %s listener used HTTP/%s, not 2" % (h2_flag, listener, v2))
    check(v1 == "1.1", "curl --http1.1 to the %s listener used HTTP/%s" % (listener, v1))
    parsed = same_events("curl " + h2_flag, body2, body1, sse_script.STANDARD)
    heartbeats = parsed.comments.count("heartbeat")
    # 3 s of pauses at a 495 ms interval, as in events/*/curl: heartbeats are DATA frames like any other read.
    check(heartbeats >= 3, "only %d heartbeat comments over HTTP/2 in 3 s of pauses (interval 495 ms): %r"
          % (heartbeats, body2[:600]))
    (record2,), (record1,) = access_records(env.log(), tag_h2), access_records(env.log(), tag_h1)
    check(record2.get("protocol") == "h2" and record1.get("protocol") in (None, "http/1.1"),
          "access lines say protocol %r (h2) and %r (HTTP/1.1)" % (record2.get("protocol"), record1.get("protocol")))
    check(record2["status"] == "200" and record2["end"] == "completed", "access line: %s" % record2)
    check(int(record2["heartbeats"]) == heartbeats, "curl saw %d heartbeat comments over h2, ssekeeper logged %s"
          % (heartbeats, record2["heartbeats"]))
    return ("curl %s: HTTP/2 (access line protocol=h2), %d events + retry identical to curl --http1.1 on the "
            "same %s port (HTTP/1.1), "
            "%d heartbeats over h2 / %d over h1.1, %d / %d bytes; %.1f s"
            % (h2_flag, len(parsed.events), listener, heartbeats, whatwg_sse.parse(body1).comments.count("heartbeat"),
               len(body2), len(body1), seconds))


# ---- nghttp ------------------------------------------------------------------------------------------------------

FRAME = re.compile(r"^\[\s*([\d.]+)\] (send|recv) (\w+) frame <length=(\d+), flags=(0x[0-9a-f]+), stream_id=(\d+)>")


def nghttp_frames(text):
    """(connections, frames) from `nghttp -v` output: frames as dicts t, dir, type, flags, stream, lines (the
    indented lines that follow), plus each response status as a frame of type "status"."""
    frames, connections = [], 0
    for line in text.splitlines():
        if re.match(r"^\[\s*[\d.]+\] Connected", line):
            connections += 1
        match = FRAME.match(line)
        status = re.match(r"^\[\s*([\d.]+)\] recv \(stream_id=(\d+)\) :status: (\d+)", line)
        if match:
            t, direction, kind, _, flags, stream = match.groups()
            frames.append(dict(t=float(t), dir=direction, type=kind, flags=int(flags, 16), stream=int(stream),
                               lines=[]))
        elif status:
            frames.append(dict(t=float(status.group(1)), dir="recv", type="status", flags=0,
                               stream=int(status.group(2)), lines=[status.group(3)]))
        elif frames and line.startswith(" "):
            frames[-1]["lines"].append(line.strip())
    return connections, frames


HEXDUMP = re.compile(r"^[0-9a-f]{8}  ([0-9a-f ]+?)\s+\|")


def data_by_stream(text):
    """{stream id: the concatenated DATA payloads} of the server's frames in `nghttp --hexdump` output (each read
    is dumped as lines `OFFSET  HEX BYTES  |ASCII|`, decrypted when over TLS; nghttp's -v lines are skipped)."""
    raw = bytearray()
    for line in text.splitlines():
        match = HEXDUMP.match(line)
        if match:
            raw += bytes.fromhex(match.group(1))
    out, at = {}, 0
    while at + 9 <= len(raw):
        length, kind, flags, stream = (int.from_bytes(raw[at:at + 3], "big"), raw[at + 3], raw[at + 4],
                                       int.from_bytes(raw[at + 5:at + 9], "big") & 0x7FFFFFFF)
        payload = bytes(raw[at + 9:at + 9 + length])
        if kind == 0:  # DATA, without its padding (PADDED: a pad-length byte, then that many bytes at the end)
            if flags & 0x8:
                payload = payload[1:len(payload) - payload[0]]
            out[stream] = out.get(stream, b"") + payload
        at += 9 + length
    return out


def nghttp_once(env, listener):
    """One nghttp run (an SSE stream and a plain response on one connection) checked against curl --http1.1."""
    sse_tag, plain_tag, h1_tag = new_tag("nghttp"), new_tag("plain"), new_tag("h1ref")
    workdir = tempfile.mkdtemp(prefix="nghttp-", dir=env.dir)
    argv = ["nghttp", "-n", "-v", "--hexdump", "-y", "-t", str(CURL_TIMEOUT_S), "-H", "accept: text/event-stream",
            env.url(listener, "events/standard/" + sse_tag), env.url(listener, "plain/" + plain_tag)]

    def run():
        return subprocess.run(argv, capture_output=True, text=True, cwd=workdir, timeout=CURL_TIMEOUT_S + 10)

    done, (_, reference) = concurrently(run, lambda: curl(env.url(listener, "events/standard/" + h1_tag),
                                                          "--http1.1"))
    log_path = os.path.join(workdir, "nghttp-v.txt")
    with open(log_path, "w") as f:
        f.write(done.stdout + done.stderr)
    check(done.returncode == 0, "nghttp (%s) exited %d: %s; frames in %s" % (listener, done.returncode,
                                                                            done.stderr.strip()[-500:], log_path))
    connections, frames = nghttp_frames(done.stdout)
    check(connections == 1, "nghttp made %d connections (frames in %s)" % (connections, log_path))
    requests = {}
    for f in frames:
        if f["dir"] == "send" and f["type"] == "HEADERS":
            path = next((l.split(": ", 1)[1] for l in f["lines"] if l.startswith(":path: ")), None)
            requests[path] = f
    sse_path, plain_path = PREFIX + "events/standard/" + sse_tag, PREFIX + "plain/" + plain_tag
    check(set(requests) == {sse_path, plain_path}, "requests sent: %r" % sorted(requests))
    sse_id, plain_id = requests[sse_path]["stream"], requests[plain_path]["stream"]
    statuses = {f["stream"]: f["lines"][0] for f in frames if f["type"] == "status"}
    errors = [line for line in (done.stdout + done.stderr).splitlines() if "[ERROR]" in line]
    check(statuses.get(sse_id) == "200" and statuses.get(plain_id) == "200",
          "response statuses %r; nghttp said %r (frames in %s)" % (statuses, errors, log_path))
    resets = [f for f in frames if f["dir"] == "recv" and f["type"] in ("RST_STREAM", "GOAWAY")]
    check(not resets, "received %s (frames in %s)" % (["%s %s" % (f["type"], f["lines"]) for f in resets], log_path))

    def ended(stream):
        return next((f["t"] for f in frames if f["dir"] == "recv" and f["stream"] == stream
                     and f["type"] in ("DATA", "HEADERS") and f["flags"] & 0x1), None)

    sse_end, plain_end = ended(sse_id), ended(plain_id)
    check(sse_end is not None and plain_end is not None, "END_STREAM of stream %d at %s, of %d at %s (frames in %s)"
          % (sse_id, sse_end, plain_id, plain_end, log_path))
    check(plain_end < sse_end - 1.0, "the plain response (stream %d) ended at %.3f s, the SSE stream (%d) at %.3f s: "
          "not served while the stream ran" % (plain_id, plain_end, sse_id, sse_end))
    bodies = data_by_stream(done.stdout)
    plain_body, body = bodies.get(plain_id, b""), bodies.get(sse_id, b"")
    check(plain_body == b"plain %s\n" % plain_tag.encode(), "plain body %r" % plain_body)
    parsed = same_events("nghttp (%s)" % listener, body, reference, sse_script.STANDARD)
    data_frames = sum(1 for f in frames if f["dir"] == "recv" and f["type"] == "DATA" and f["stream"] == sse_id)
    return ("streams %d (SSE, %d events in %d DATA frames, ended %.2f s) and %d (plain, ended %.3f s) on 1 "
            "connection" % (sse_id, len(parsed.events), data_frames, sse_end, plain_id, plain_end))


def case_nghttp(suite):
    env = environment(suite)
    started = time.monotonic()
    text = every(env, [(listener, lambda l=listener: nghttp_once(env, l)) for listener in ("h2c", "tls")],
                 concurrently)
    return "%s; events identical to curl --http1.1's; %.1f s" % (text, time.monotonic() - started)


# ---- h2load ------------------------------------------------------------------------------------------------------

def h2load_once(env, listener, path, label):
    argv = ["h2load", "-n", "200", "-c", "4", "-m", "10", "-H", "accept: text/event-stream", env.url(listener, path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    out = done.stdout + done.stderr
    summary = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                        r"(\d+) errored, (\d+) timeout", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    protocol = re.search(r"Application protocol: (\S+)", out)
    check(done.returncode == 0 and summary and codes, "`%s` exited %d:\n%s" % (" ".join(argv), done.returncode,
                                                                               out[-1500:]))
    total, _, _, succeeded, failed, errored, timeouts = map(int, summary.groups())
    check(protocol and protocol.group(1) in ("h2", "h2c"), "%s %s: application protocol %s\n%s"
          % (listener, path, protocol and protocol.group(1), out[-1500:]))
    check((succeeded, failed, errored, timeouts) == (200, 0, 0, 0) and int(codes.group(1)) == 200,
          "%s %s: %s; %s" % (listener, path, summary.group(0), codes.group(0)))
    finished = re.search(r"finished in ([\d.]+\w+)", out)
    return "%s %s: 200/200 2xx (%s)" % (protocol.group(1), label, finished.group(1) if finished else "?")


def case_h2load(suite):
    env = environment(suite)
    started = time.monotonic()

    def sse(listener):
        tag = new_tag("h2load-sse")
        line = h2load_once(env, listener, "events/short/" + tag, "short SSE")
        starts = len([r for r in suite.records(tag) if r["what"] == "start"])
        check(starts == 200, "the backend saw %d requests of %s, h2load 200 succeeded" % (starts, tag))
        return line + ", 200 at the backend"

    parts = []
    for listener in ("h2c", "tls"):
        parts.append((listener, lambda l=listener: h2load_once(env, l, "plain/" + new_tag("h2load-plain"), "plain")))
        parts.append((listener, lambda l=listener: sse(l)))
    return "%s; %.1f s" % (every(env, parts, one_after_another), time.monotonic() - started)


# ---- the Python h2 client ----------------------------------------------------------------------------------------

def case_python(suite):
    import h2.config
    import h2.connection
    import h2.errors
    import h2.events

    env = environment(suite)
    started = time.monotonic()
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", env.ports["tls"]), timeout=5),
                               server_hostname="127.0.0.1")
    try:
        check(sock.selected_alpn_protocol() == "h2", "ALPN chose %r" % sock.selected_alpn_protocol())
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        check(conn.local_settings.initial_window_size == 65535, "the client's window is not the default")
        base = new_tag("h2py")
        streams = {}
        for i in range(STREAMS):
            tag = "%s-%s" % (base, "ticker" if i == 0 else i)
            sid = conn.get_next_available_stream_id()
            conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                                    (":authority", "127.0.0.1:%d" % env.ports["tls"]),
                                    (":path", PREFIX + "events/%s/%s" % ("ticker" if i == 0 else "burst", tag)),
                                    ("accept", "text/event-stream")], end_stream=True)
            streams[sid] = dict(tag=tag, parser=whatwg_sse.Parser(), status=None, ended=False, times=[], reset=None)
        ticker = min(streams)
        sock.sendall(conn.data_to_send())
        sock.settimeout(0.2)
        reset_at, received, terminated = None, 0, None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if reset_at is not None and all(s["ended"] for sid, s in streams.items() if sid != ticker):
                break
            try:
                data = sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                data = None
            if data == b"":
                terminated = terminated or "the server closed the connection"
                break
            now = time.monotonic()
            for event in conn.receive_data(data) if data else []:
                stream = streams.get(getattr(event, "stream_id", None))
                if isinstance(event, h2.events.ResponseReceived):
                    stream["status"] = dict(event.headers).get(":status")
                elif isinstance(event, h2.events.DataReceived):
                    received += event.flow_controlled_length
                    before = len(stream["parser"].events)
                    stream["parser"].feed(event.data)
                    stream["times"] += [now] * (len(stream["parser"].events) - before)
                    if stream["reset"] is None:  # the default client: every byte read is given back at once
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    stream["ended"] = True
                elif isinstance(event, h2.events.StreamReset):
                    stream["reset"] = stream["reset"] or "by the server: %r" % event.error_code
                elif isinstance(event, h2.events.ConnectionTerminated):
                    terminated = "GOAWAY %r (%r)" % (event.error_code, event.additional_data)
            if reset_at is None and len(streams[ticker]["parser"].events) >= 3:
                conn.reset_stream(ticker, h2.errors.ErrorCodes.CANCEL)
                streams[ticker]["reset"] = "CANCEL"
                reset_at = time.monotonic()
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
            if terminated:
                break
        server = conn.remote_settings
    finally:
        sock.close()
    seconds = time.monotonic() - started
    check(terminated is None, "the connection ended: %s" % terminated)
    check(reset_at is not None, "the ticker stream (%d) got %d events in 15 s, never reset"
          % (ticker, len(streams[ticker]["parser"].events)))
    expected = whatwg_sse.parse(sse_script.script_bytes(sse_script.BURST)).events
    short = {sid: (len(s["parser"].events), s["status"], s["ended"], s["reset"]) for sid, s in streams.items()
             if sid != ticker and (s["parser"].events != expected or not s["ended"])}
    check(not short, "%d of %d streams did not get their %d events in 15 s (stream: events, status, ended, reset): "
          "%r; %d bytes received" % (len(short), STREAMS - 1, len(expected), short, received))
    after = min(sum(1 for t in s["times"] if t > reset_at) for sid, s in streams.items() if sid != ticker)
    check(after > 0, "some stream got no event after the RST_STREAM of stream %d" % ticker)
    record = suite.wait_record(streams[ticker]["tag"], "finally", CANCEL_LIMIT_S + 1)
    check(record is not None, "the backend's ticker generator did not stop within %.1f s of RST_STREAM(CANCEL)"
          % (CANCEL_LIMIT_S + 1))
    stopped = record["t"] - reset_at
    check(stopped < CANCEL_LIMIT_S, "the backend's ticker stopped %.3f s after RST_STREAM(CANCEL) (limit %.1f s)"
          % (stopped, CANCEL_LIMIT_S))
    ends = sorted(s["times"][-1] - started for sid, s in streams.items() if sid != ticker)
    return ("h2 client, initial window 65535 (server: initial window %d, max streams %s): %d streams x %d events "
            "(%d KB) on one TLS connection, all complete, last ones %.2f-%.2f s; RST_STREAM(CANCEL) of stream %d: "
            "backend generator stopped %.3f s later, every other stream got >= %d events after it; %.1f s"
            % (server.initial_window_size, server.max_concurrent_streams, STREAMS - 1, len(expected),
               received // 1024, ends[0], ends[-1], ticker, stopped, after, seconds))


# ---- Chromium ----------------------------------------------------------------------------------------------------

def many_sources(driver, url, until, timeout_s):
    """Loads the many-EventSource page and polls it until until(opens, messages) or timeout_s; returns
    (opens, messages, errors, the page's nextHopProtocol, when its sources were closed) and leaves the page.

    The sources are closed by script before leaving: a page left for about:blank stays alive in Chromium's
    back/forward cache with its EventSources open (seen: none of 20 h2 streams reset within 10 s of leaving; with
    --disable-features=BackForwardCache all 20 within 34 ms)."""
    driver.get(url)
    deadline = time.monotonic() + timeout_s
    state = None
    while time.monotonic() < deadline:
        state = driver.execute_script("return [window.__opens, window.__messages, window.__errors, "
                                      "performance.getEntriesByType('navigation')[0].nextHopProtocol]")
        if state and state[0] is not None and until(state[0], state[1]):
            break
        time.sleep(0.2)
    driver.execute_script("window.__sources.forEach(s => s.close())")
    closed_at = time.monotonic()
    driver.get("about:blank")
    return state + [closed_at]


def case_chromium(suite):
    env = environment(suite)
    started = time.monotonic()
    control_port = env.control()
    tag, control_tag = new_tag("tabs"), new_tag("tabs-h1")
    with suite.browser() as driver:
        opens, messages, errors, protocol, closed_at = many_sources(
            driver, env.url("tls", "many/%s?n=%d" % (tag, TABS)), lambda o, m: all(n >= 3 for n in m), 12)
        h1_wait = 5.0
        c_opens, c_messages, _, c_protocol, _ = many_sources(
            driver, "https://127.0.0.1:%d%smany/%s?n=%d" % (control_port, PREFIX, control_tag, TABS),
            lambda o, m: False, h1_wait)
    check(protocol == "h2", "the page came over %r, not h2" % protocol)
    check(all(n >= 3 for n in messages), "over h2, EventSources got %r messages (opens %r, errors %r); want >= 3 each"
          % (messages, opens, errors))
    backend = len({r["tag"] for i in range(TABS) for r in suite.records("%s-%d" % (tag, i)) if r["what"] == "start"})
    check(backend == TABS, "the backend saw %d of the %d streams" % (backend, TABS))
    # EventSource.close() over h2 is an RST_STREAM(CANCEL) on the shared connection: every upstream ends.
    stops = [suite.wait_record("%s-%d" % (tag, i), "finally", CANCEL_LIMIT_S) for i in range(TABS)]
    late = [i for i, r in enumerate(stops) if r is None]
    check(not late, "the backend generators of EventSources %r did not stop within %.1f s of close()"
          % (late, CANCEL_LIMIT_S))
    stopped = max(r["t"] for r in stops) - closed_at
    clients = {r["client"] for r in access_records(env.log(), tag, TABS)}
    check(len(clients) == 1, "the %d streams came on %d connections (%s), not one" % (TABS, len(clients),
                                                                                     sorted(clients)))
    check(c_protocol == "http/1.1", "the control page came over %r, not http/1.1" % c_protocol)
    going = sum(1 for n in c_messages if n > 0)
    opened = sum(1 for n in c_opens if n > 0)
    check(1 <= going and opened <= BROWSER_H1_LIMIT, "over HTTP/1.1, %d EventSources opened and %d got messages "
          "(opens %r): expected 1..%d, the per-origin connection limit" % (opened, going, c_opens, BROWSER_H1_LIMIT))
    return ("Chromium over h2: all %d EventSources of one page got events (>= %d messages each, backend saw %d), "
            "on one connection; their close() stopped all %d backend generators within %.3f s; the same page over "
            "HTTP/1.1 (http2 off): "
            "%d opened, %d got messages in %.0f s; %.1f s"
            % (TABS, min(messages), backend, TABS, stopped, opened, going, h1_wait, time.monotonic() - started))


def cases(suite):
    return [("h2_curl_tls", lambda: case_curl(suite, "tls")),
            ("h2_curl_h2c", lambda: case_curl(suite, "h2c")),
            ("h2_nghttp", lambda: case_nghttp(suite)),
            ("h2_h2load", lambda: case_h2load(suite)),
            ("h2_python", lambda: case_python(suite)),
            ("h2_chromium_20_tabs", lambda: case_chromium(suite))]
