"""The ride-through backend: a legacy stream that cannot resume, run under uvicorn (`uvicorn backend_ride:app`).

    GET|POST .../events/ride/TAG?n=N&period_ms=P   events `data: 1` .. `data: N`, one every P ms (default 400 events,
                                                   50 ms), then `data: done` and the end of the body. Every event
                                                   but each fourth carries `id: b-I`; the first also `retry: 200`
                                                   (so EventSource reconnects at once); a comment every tenth.
                                                   It ignores Last-Event-ID and always starts at 1, like the
                                                   backend of the issue's story.
    GET .../page/TAG?n=N&period_ms=P               a page whose EventSource reads ../events/ride/TAG with the same
                                                   query and collects what it dispatches in window.__got/__ids
                                                   (opens and errors counted); it closes the source at `done`

Every request for a stream reports `start` (method, Last-Event-ID, Authorization, the body's SHA-256), and the
generator's `end` and `finally`, to the side channel (report.py): the suite counts the backend's requests by tag.
"""

import hashlib

import anyio
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

import report

DEFAULT_EVENTS = 400
DEFAULT_PERIOD_MS = 50
RETRY_MS = 200

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>ssekeeper interop: ride-through</title>
<script>
window.__got = []; window.__ids = []; window.__opens = 0; window.__errors = 0; window.__done = false;
const tag = location.pathname.split("/").pop();
const source = new EventSource("../events/ride/" + tag + location.search);
source.onopen = () => { window.__opens++; };
source.onerror = () => { window.__errors++; };
source.onmessage = e => {
  if (e.data === "done") { window.__done = true; source.close(); return; }
  window.__got.push(e.data); window.__ids.push(e.lastEventId);
};
</script>
<p>ssekeeper interop: ride-through page</p>
"""


def backend_id(i):
    """The backend's `id:` of event i, or None for the events that carry none."""
    return None if i % 4 == 0 else "b-%d" % i


def event_bytes(i):
    lines = ["retry: %d" % RETRY_MS] if i == 1 else []
    if backend_id(i) is not None:
        lines.append("id: %s" % backend_id(i))
    lines.append("data: %d" % i)
    text = "\n".join(lines) + "\n\n"
    if i % 10 == 0:
        text += ": backend comment %d\n\n" % i
    return text.encode()


async def endpoint(request):
    parts = request.url.path.strip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "page":
        return Response(PAGE, media_type="text/html")
    script, tag = report.parse_path(request.url.path)
    if script != "ride":
        return PlainTextResponse("no such stream\n", status_code=404)
    count = int(request.query_params.get("n", DEFAULT_EVENTS))
    period = int(request.query_params.get("period_ms", DEFAULT_PERIOD_MS)) / 1000
    body = await request.body()
    report.record(tag, "start", method=request.method, last_event_id=request.headers.get("last-event-id"),
                  authorization=request.headers.get("authorization"), cookie=request.headers.get("cookie"),
                  body_sha256=hashlib.sha256(body).hexdigest() if body else None, backend="ride")

    async def generate():
        try:
            for i in range(1, count + 1):
                yield event_bytes(i)
                await anyio.sleep(period)
            yield b"data: done\n\n"
            report.record(tag, "end")
        finally:
            report.record(tag, "finally")

    return StreamingResponse(generate(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])
