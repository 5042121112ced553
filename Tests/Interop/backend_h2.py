"""The HTTP/2 cases' backend (h2_interop.py): backend_starlette's event streams under uvicorn, plus a plain
response and a page with many EventSources (`uvicorn backend_h2:app`).

    GET .../events/SCRIPT/TAG    as in backend_starlette.py (sse_script.SCRIPTS and the ticker)
    GET .../plain/TAG            200 text/plain "plain TAG\\n": a non-SSE response for nghttp and h2load
    GET .../many/TAG?n=N         a page opening N EventSources to ../events/ticker/TAG-I (I = 0..N-1) that counts,
                                 per source, its opens and messages in window.__opens / window.__messages (the
                                 sources themselves in window.__sources)
"""

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

import backend_starlette

MANY_PAGE = """<!doctype html>
<meta charset="utf-8">
<title>ssekeeper interop: many EventSources</title>
<script>
const tag = location.pathname.split("/").pop();
const n = Number(new URLSearchParams(location.search).get("n") || "20");
window.__opens = Array(n).fill(0); window.__messages = Array(n).fill(0); window.__errors = Array(n).fill(0);
window.__sources = [];
for (let i = 0; i < n; i++) {
  const source = new EventSource("../events/ticker/" + tag + "-" + i);
  window.__sources.push(source);
  source.onopen = () => { window.__opens[i]++; };
  source.onerror = () => { window.__errors[i]++; };
  source.onmessage = () => { window.__messages[i]++; };
}
</script>
<p>ssekeeper interop: many EventSources</p>
"""


async def endpoint(request):
    parts = request.url.path.strip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "plain":
        return PlainTextResponse("plain %s\n" % parts[-1])
    if len(parts) >= 2 and parts[-2] == "many":
        return HTMLResponse(MANY_PAGE)
    return await backend_starlette.events(request)


app = Starlette(routes=[Route("/{path:path}", endpoint)])
