"""Starlette backend with sse-starlette, run under uvicorn (`uvicorn backend_starlette:app`).

Events are sse-starlette ServerSentEvent objects (its own serialization: CRLF line ends), comments are
ServerSentEvent(comment=...), and the script's fragments are yielded as bytes, which sse-starlette writes as they
are. Its own keep-alive ping is disabled (ping=0), so every comment on the wire through ssekeeper is ssekeeper's.
The async generator's `finally` runs when sse-starlette sees the client go away (it cancels the generator).

    GET .../events/standard/TAG | silent/TAG | ticker/TAG    as in backend_flask.py
"""

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import report
import sse_script


def _steps(script):
    if script == "ticker":
        for n in range(1, sse_script.TICKER_MAX_TICKS + 1):
            yield sse_script.ticker_step(n)
            yield ("sleep", sse_script.TICK_PERIOD_S)
    else:
        yield from sse_script.SCRIPTS[script]


async def events(request):
    script, tag = report.parse_path(request.url.path)
    if script != "ticker" and script not in sse_script.SCRIPTS:
        return PlainTextResponse("no such stream\n", status_code=404)
    report.record(tag, "start", last_event_id=request.headers.get("last-event-id"), backend="starlette")

    async def generate():
        try:
            for kind, value in _steps(script):
                if kind == "sleep":
                    await anyio.sleep(value)
                elif kind == "event":
                    yield ServerSentEvent(**value)
                elif kind == "comment":
                    yield ServerSentEvent(comment=value)
                else:
                    yield value.replace("\n", "\r\n").encode()
            report.record(tag, "end")
        finally:
            report.record(tag, "finally")

    return EventSourceResponse(generate(), ping=0)


app = Starlette(routes=[Route("/{path:path}", events)])
