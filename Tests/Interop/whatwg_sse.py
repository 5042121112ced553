"""A WHATWG-exact event stream parser (HTML Living Standard, "Server-sent events", 9.2.5 and 9.2.6).

Used as the reference: it turns the bytes a client received (curl's output, a raw socket's body) into the events
an EventSource would dispatch, so two byte streams that differ only by comments compare equal.
"""


class Parser:
    """Feed bytes in any pieces; `events` collects dispatched events as (type, data, lastEventId) tuples,
    `retries` every valid retry value, `comments` every comment line's text."""

    def __init__(self):
        self.events = []
        self.retries = []
        self.comments = []
        self._buffer = b""
        self._started = False
        self._last_cr = False
        self._data = ""
        self._type = ""
        self._last_event_id = ""

    def feed(self, data):
        if not self._started:
            self._buffer += data
            if len(self._buffer) < 3 and b"\xef\xbb\xbf".startswith(self._buffer):
                return
            self._started = True
            data, self._buffer = self._buffer, b""
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
        for byte in data:
            if self._last_cr:
                self._last_cr = False
                if byte == 0x0A:
                    continue
            if byte == 0x0D:
                self._last_cr = True
                self._line(self._buffer)
                self._buffer = b""
            elif byte == 0x0A:
                self._line(self._buffer)
                self._buffer = b""
            else:
                self._buffer += bytes([byte])

    def _line(self, raw):
        line = raw.decode("utf-8", errors="replace")
        if line == "":
            self._dispatch()
            return
        if line.startswith(":"):
            self.comments.append(line[1:].lstrip(" ") if line[1:2] == " " else line[1:])
            return
        if ":" in line:
            name, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "event":
            self._type = value
        elif name == "data":
            self._data += value + "\n"
        elif name == "id":
            if "\x00" not in value:
                self._last_event_id = value
        elif name == "retry":
            if value and all("0" <= c <= "9" for c in value):
                self.retries.append(int(value))

    def _dispatch(self):
        if self._data == "":
            self._type = ""
            return
        data = self._data[:-1] if self._data.endswith("\n") else self._data
        self.events.append((self._type or "message", data, self._last_event_id))
        self._data = ""
        self._type = ""


def parse(data):
    """The events, retries and comments of a complete byte string."""
    parser = Parser()
    parser.feed(data)
    return parser
