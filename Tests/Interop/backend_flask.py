"""Flask backend, run under gunicorn with sync workers (`gunicorn -k sync backend_flask:app`).

Streams SSE the way Flask apps usually do: a Response around a generator that yields text and sleeps. Its
`finally` reports to the side channel (report.py), so the suite sees when gunicorn closed the generator.

    GET .../events/standard/TAG   the standard script (sse_script.STANDARD)
    GET .../events/silent/TAG     one event, 10 s of silence, one event
    GET .../events/ticker/TAG     an event every 200 ms until the client goes away
    GET .../events/browser/TAG    the browser script: first connection, then the reconnect (by Last-Event-ID)
    GET .../page/TAG              the page with an EventSource for the browser case
    GET .../events/cors/TAG       the cross-origin script: first connection, then the reconnect (by Last-Event-ID)
    GET .../corspage/TAG?src=URL&credentials=0|1[&fetch=1]
                                  a page (served directly, on the backend's own origin) whose EventSource opens URL;
                                  with fetch=1 it first fetches URL with a custom header (a preflighted request)
"""

import time

from flask import Flask, Response, request

import report
import sse_script

app = Flask(__name__)

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>ssekeeper interop</title>
<script>
window.__log = [];
const started = performance.now();
const source = new EventSource("../events/browser/" + location.pathname.split("/").pop());
function note(kind, event) {
  window.__log.push({kind: kind, type: event.type, data: event.data === undefined ? null : event.data,
                     id: event.lastEventId === undefined ? null : event.lastEventId,
                     state: source.readyState, at_ms: Math.round(performance.now() - started)});
}
source.onopen = e => note("open", e);
source.onerror = e => note("error", e);
source.onmessage = e => { note("message", e); if (e.data === "done") source.close(); };
source.addEventListener("tick", e => note("tick", e));
</script>
<p>ssekeeper interop page</p>
"""

CORS_PAGE = """<!doctype html>
<meta charset="utf-8">
<title>ssekeeper interop: cross-origin EventSource</title>
<script>
window.__log = [];
const params = new URLSearchParams(location.search);
const started = performance.now();
if (params.get("fetch") === "1") {
  fetch(params.get("src") + "?via=fetch", {headers: {"X-Interop": "preflighted"},
                                      credentials: params.get("credentials") === "1" ? "include" : "same-origin"})
    .then(r => { window.__log.push({kind: "fetch", status: r.status, state: null}); return r.body.cancel(); })
    .catch(e => window.__log.push({kind: "fetch-failed", data: String(e), state: null}));
}
const source = new EventSource(params.get("src"), {withCredentials: params.get("credentials") === "1"});
function note(kind, event) {
  window.__log.push({kind: kind, type: event.type, data: event.data === undefined ? null : event.data,
                     id: event.lastEventId === undefined ? null : event.lastEventId,
                     state: source.readyState, at_ms: Math.round(performance.now() - started)});
}
source.onopen = e => note("open", e);
source.onerror = e => note("error", e);
source.onmessage = e => { note("message", e); if (e.data === "done") source.close(); };
</script>
<p>ssekeeper interop: cross-origin page</p>
"""


def _stream(tag, chunks, last_event_id):
    report.record(tag, "start", last_event_id=last_event_id, backend="flask")

    def generate():
        try:
            for chunk in chunks:
                if isinstance(chunk, float):
                    time.sleep(chunk)
                else:
                    yield chunk
            report.record(tag, "end")
        finally:
            report.record(tag, "finally")

    return Response(generate(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})


def _ticker():
    for n in range(1, sse_script.TICKER_MAX_TICKS + 1):
        yield from sse_script.chunks([sse_script.ticker_step(n), ("sleep", sse_script.TICK_PERIOD_S)])


@app.route("/", defaults={"path": ""})
@app.route("/<path:path>")
def catch_all(path):
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "page":
        return Response(PAGE, mimetype="text/html")
    if len(parts) >= 2 and parts[-2] == "corspage":
        return Response(CORS_PAGE, mimetype="text/html")
    script, tag = report.parse_path(path)
    last_event_id = request.headers.get("Last-Event-ID")
    if script == "ticker":
        return _stream(tag, _ticker(), last_event_id)
    if script == "browser":
        steps = sse_script.BROWSER_FIRST if last_event_id is None else sse_script.BROWSER_SECOND + [("sleep", 10.0)]
        return _stream(tag, sse_script.chunks(steps), last_event_id)
    if script == "cors":
        steps = sse_script.CORS_FIRST if last_event_id is None else sse_script.CORS_SECOND + [("sleep", 10.0)]
        return _stream(tag, sse_script.chunks(steps), last_event_id)
    if script in sse_script.SCRIPTS:
        return _stream(tag, sse_script.chunks(sse_script.SCRIPTS[script]), last_event_id)
    return Response("no such stream\n", status=404, mimetype="text/plain")
