"""The event streams every interop backend replays, and how each backend style turns them into bytes.

A script is a list of steps:
    ("event", {"id": ..., "event": ..., "data": ..., "retry": ...})  one whole event (keys optional)
    ("comment", text)                                                  a comment line the backend sends itself
    ("fragment", text)                                                 raw text, LF line ends: part of an event
    ("sleep", seconds)                                                 the backend says nothing

Fragments exist to put pauses where ssekeeper has to think: inside an event (a heartbeat there must not dispatch
it early) and in the middle of a line (no heartbeat possible). Backends serialize events in their own style; the
runner derives the expected events from the same script with the WHATWG parser in whatwg_sse.py.
"""

# Pauses are chosen against the backend routes' heartbeat interval (idle_timeout 1.5s x 0.33 = 0.495 s):
# BETWEEN_EVENTS gives three heartbeats, IN_EVENT two, and the mid-line pause none (skipped, counted).
BETWEEN_EVENTS_S = 1.8
IN_EVENT_S = 1.2
MID_LINE_S = 1.2

STANDARD = [
    ("event", {"id": "1", "event": "greeting", "data": "hello"}),
    ("event", {"id": "2", "data": "line one\nline two"}),
    ("comment", "a comment from the backend"),
    ("sleep", BETWEEN_EVENTS_S),
    ("fragment", "id: 3\n"),
    ("sleep", IN_EVENT_S),
    ("fragment", 'event: tick\ndata: {"n": 3}\n\n'),
    ("event", {"data": "h\u00e9llo \u2713 \u2014 no id, keeps 3"}),
    ("fragment", "data: split"),
    ("sleep", MID_LINE_S),
    ("fragment", "ted line\n\n"),
    ("event", {"id": "4", "event": "end", "data": "bye", "retry": 2500}),
]

# An endless ticker (bounded at 60 s): what a backend generator looks like when a client goes away.
TICK_PERIOD_S = 0.2
TICKER_MAX_TICKS = 300

# One event, ten seconds of complete silence, one event: what idle timeouts of intermediaries cut.
SILENT_S = 10.0
SILENT = [
    ("event", {"id": "1", "data": "before the silence"}),
    ("sleep", SILENT_S),
    ("event", {"id": "2", "data": "after the silence"}),
]

# The browser's stream: first connection, then (after the browser reconnects) the final event.
BROWSER_RETRY_MS = 1500
BROWSER_FIRST = [
    ("event", {"retry": BROWSER_RETRY_MS, "id": "1", "data": "first"}),
    ("event", {"id": "2", "event": "tick", "data": "second"}),
    ("sleep", 3.5),  # three heartbeats (idle_timeout 3s x 0.33) between events
    ("fragment", "id: 3\n"),
    ("sleep", 2.2),  # two heartbeats inside the event
    ("fragment", "data: third\n\n"),
]
BROWSER_SECOND = [("event", {"id": "4", "data": "done"})]

# The cross-origin (CORS) stream: two events, the end, then (after the browser reconnects with Last-Event-ID,
# which a cross-origin EventSource may only do through ssekeeper's CORS answers) the final event.
CORS_RETRY_MS = 500
CORS_FIRST = [
    ("event", {"retry": CORS_RETRY_MS, "id": "1", "data": "one"}),
    ("event", {"id": "2", "data": "two"}),
]
CORS_SECOND = [("event", {"id": "3", "data": "done"})]

# The HTTP/2 cases (h2_interop.py). SHORT ends at once (h2load's SSE route: 200 requests in a second or two).
# BURST is 30 events of about 1 KB each 100 ms: 50 of them on one connection are 1.5 MB in 3 s, more than twenty
# times a 65,535-byte connection window, so the streams only finish if the proxy honours the client's
# WINDOW_UPDATEs and shares the window among them.
SHORT = [("event", {"id": str(n), "data": "short %d" % n}) for n in range(1, 6)]
BURST_EVENTS = 30
BURST_PERIOD_S = 0.1
BURST = [step for n in range(1, BURST_EVENTS + 1)
         for step in (("event", {"id": str(n), "data": "burst %d %s" % (n, "x" * 1000)}), ("sleep", BURST_PERIOD_S))]

SCRIPTS = {"standard": STANDARD, "silent": SILENT, "short": SHORT, "burst": BURST}


def event_text(fields):
    """One event in the field order id, event, data..., retry, LF line ends, ending with a blank line."""
    lines = []
    if "id" in fields:
        lines.append("id: %s" % fields["id"])
    if "event" in fields:
        lines.append("event: %s" % fields["event"])
    if "data" in fields:
        lines.extend("data: %s" % line for line in fields["data"].split("\n"))
    if "retry" in fields:
        lines.append("retry: %d" % fields["retry"])
    return "\n".join(lines) + "\n\n"


def ticker_step(n):
    """The n-th event of the ticker."""
    return ("event", {"id": str(n), "data": "tick %d" % n})


def chunks(script, line_end="\n"):
    """The script as a list of bytes (to write) and floats (seconds to sleep), with the given line end.

    With line_end "\\r\\n", a fragment followed by a sleep keeps its final LF for after the sleep: the backend
    pauses between CR and LF, the one place where a heartbeat must complete the backend's CRLF."""
    out = []
    carry = ""
    for i, (kind, value) in enumerate(script):
        if kind == "sleep":
            out.append(float(value))
            if carry:
                out.append(carry.encode())
                carry = ""
            continue
        if kind == "event":
            text = event_text(value)
        elif kind == "comment":
            text = ": %s\n" % value
        else:
            text = value
        text = text.replace("\n", line_end)
        next_is_sleep = i + 1 < len(script) and script[i + 1][0] == "sleep"
        if line_end == "\r\n" and kind == "fragment" and next_is_sleep and text.endswith("\r\n"):
            text, carry = text[:-1], "\n"
        out.append(text.encode())
    return out


def script_bytes(script, line_end="\n"):
    """Everything the script writes, without the pauses."""
    return b"".join(c for c in chunks(script, line_end) if isinstance(c, bytes))
