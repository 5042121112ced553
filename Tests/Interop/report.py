"""The backends' side channel: one JSON line per observation, appended to the file named by $INTEROP_REPORT.

Records carry the stream's tag (the last path segment of its URL) and time.monotonic(), which is the system-wide
CLOCK_MONOTONIC on Linux, so the runner can compare it with its own clock. Each record is one write(2) to a file
opened with O_APPEND, so records of concurrent workers and processes never interleave.
"""

import json
import os
import time


def record(tag, what, **fields):
    """Appends {"tag", "what", "t", ...fields} to the report file."""
    path = os.environ.get("INTEROP_REPORT")
    if not path:
        return
    line = json.dumps(dict(tag=tag, what=what, t=time.monotonic(), pid=os.getpid(), **fields)) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def parse_path(path):
    """(script, tag) from a path ending in /events/SCRIPT/TAG (any prefix, any query); (None, None) otherwise."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) >= 3 and parts[-3] == "events":
        return parts[-2], parts[-1]
    return None, None
