"""The SSE clients of the suite, each reading one whole stream and returning what it dispatched.

Every client returns (events, raw): events as a list of tuples in that client's own terms, raw the body bytes
when the client exposes them (curl), else None. Event tuples:
    curl             (type, data, lastEventId) from the WHATWG parser over curl's output, plus retries
    httpx-sse        (event, data, id, retry) as httpx_sse.ServerSentEvent gives them
    sseclient-py     (event, data, id, retry) as sseclient.Event gives them (over requests, stream=True)
"""

import subprocess

import whatwg_sse

STREAM_TIMEOUT_S = 40


def curl(url):
    """`curl -sN` and the WHATWG reading of its output."""
    done = subprocess.run(["curl", "-sS", "-N", "--max-time", str(STREAM_TIMEOUT_S), "-H", "Accept: text/event-stream",
                           url], capture_output=True, timeout=STREAM_TIMEOUT_S + 10)
    if done.returncode != 0:
        raise RuntimeError("curl exited %d: %s" % (done.returncode, done.stderr.decode("utf-8", "replace").strip()))
    parsed = whatwg_sse.parse(done.stdout)
    return [tuple(e) for e in parsed.events] + [("retry", r) for r in parsed.retries], done.stdout


def httpx_sse(url):
    """httpx + httpx-sse: connect_sse(...).iter_sse()."""
    import httpx
    from httpx_sse import connect_sse

    events = []
    with httpx.Client(timeout=STREAM_TIMEOUT_S) as client:
        with connect_sse(client, "GET", url) as source:
            source.response.raise_for_status()
            for sse in source.iter_sse():
                events.append((sse.event, sse.data, sse.id, sse.retry))
    return events, None


def sseclient_py(url):
    """requests (stream=True) + sseclient-py: SSEClient(response).events()."""
    import requests
    import sseclient

    events = []
    response = requests.get(url, stream=True, timeout=STREAM_TIMEOUT_S, headers={"Accept": "text/event-stream"})
    try:
        response.raise_for_status()
        for event in sseclient.SSEClient(response).events():
            events.append((event.event, event.data, event.id, event.retry))
    finally:
        response.close()
    return events, None


CLIENTS = {"curl": curl, "httpx-sse": httpx_sse, "sseclient-py": sseclient_py}
