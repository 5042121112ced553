#!/usr/bin/env python3
"""Writes the checked-in seed corpora Fuzz/Corpus/<target>/ (small, hand-picked inputs, valid and tricky) and the
libFuzzer dictionaries Fuzz/Dictionaries/<target>.dict.

Each target's input starts with a few parameter bytes (see the comment at the top of Fuzz/Targets/<target>.swift);
the seeds below add them. Re-run after changing a target's input format: `python3 Fuzz/make_corpus.py`.
Existing seed files of a target are replaced; nothing else is touched. Inputs that still crash belong in
Fuzz/Regressions/<target>/, not here: a crashing seed would stop the target before it fuzzes anything.
"""
import os
import re
import shutil

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)


def b(text):
    return text.encode("latin-1") if isinstance(text, str) else text


def write(target, seeds):
    directory = os.path.join(FUZZ, "Corpus", target)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for index, (name, data) in enumerate(seeds):
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48]
        with open(os.path.join(directory, "%03d-%s" % (index, slug)), "wb") as handle:
            handle.write(data)
    print("%-16s %3d seeds" % (target, len(seeds)))


def head_prefix(selector, split):
    return bytes([selector, split & 0xFF, split >> 8])


H = "Host: example.com\r\n"
REQUESTS = [
    ("get", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("sse request", "GET /events?topic=a HTTP/1.1\r\n" + H + "Accept: text/event-stream\r\nAccept-Encoding: gzip, br\r\n"
     "Last-Event-ID: 42\r\nCache-Control: no-cache\r\nUser-Agent: fuzz/1.0\r\n\r\n"),
    ("accept with params", "GET /e HTTP/1.1\r\n" + H + "Accept: text/html;q=0.9, TEXT/Event-Stream ; q=1\r\nAccept-Encoding: gzip\r\n\r\n"),
    ("post content-length", "POST /api HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
    ("post chunked", "POST /upload HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("te and cl", "POST / HTTP/1.1\r\n" + H + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("te gzip chunked", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n"),
    ("te chunked twice", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("te empty", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding:\r\n\r\n"),
    ("te chunked not last", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, identity\r\n\r\n"),
    ("te http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("cl list equal", "POST / HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\ncontent-length: 5\r\n\r\n"),
    ("cl list differs", "POST / HTTP/1.1\r\n" + H + "Content-Length: 5, 6\r\n\r\n"),
    ("cl signed", "POST / HTTP/1.1\r\n" + H + "Content-Length: +5\r\n\r\n"),
    ("cl overflow", "POST / HTTP/1.1\r\n" + H + "Content-Length: 18446744073709551616\r\n\r\n"),
    ("cl max", "POST / HTTP/1.1\r\n" + H + "Content-Length: 18446744073709551615\r\n\r\n"),
    ("cl empty elements", "POST / HTTP/1.1\r\n" + H + "Content-Length: ,\r\n\r\n"),
    ("http10 no host", "GET /old HTTP/1.0\r\n\r\n"),
    ("http10 keep-alive", "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
    ("absolute form", "GET http://user:pw@example.com:8080/a/b?c=d HTTP/1.1\r\nHost: other.example\r\n\r\n"),
    ("absolute https upper", "GET HTTPS://Example.COM HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("absolute query only", "GET http://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n"),
    ("absolute fragment", "GET http://h#frag HTTP/1.1\r\nHost: h\r\n\r\n"),
    ("absolute empty authority", "GET http:///x HTTP/1.0\r\n\r\n"),
    ("authority form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
    ("asterisk form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("connection options", "GET / HTTP/1.1\r\n" + H + "Connection: keep-alive, X-Secret, Host, Upgrade\r\nX-Secret: 1\r\n"
     "Upgrade: websocket\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X\r\nProxy-Connection: keep-alive\r\n\r\n"),
    ("connection names framing", "POST / HTTP/1.1\r\n" + H + "Connection: Content-Length, X-Forwarded-For, close\r\n"
     "Content-Length: 3\r\nX-Forwarded-For: 1.1.1.1\r\n\r\nabc"),
    ("forwarded fields", "GET / HTTP/1.1\r\n" + H + "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For:\r\n"
     "x-forwarded-for: 5.6.7.8, 9.9.9.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n\r\n"),
    ("bare lf", "GET / HTTP/1.1\nHost: a\n\n"),
    ("mixed line ends", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\n"),
    ("bare cr in start line", "GET / HTTP/1.1\rHost: a\r\n\r\n"),
    ("bare cr in value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"),
    ("leading empty lines", "\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("too many empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("obs fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"),
    ("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
    ("utf8 value", "GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9 \xe2\x9c\x93\r\n\r\n"),
    ("invalid utf8 value", "GET / HTTP/1.1\r\nHost: a\r\nX-Name: \xff\xfe\xc3\r\n\r\n"),
    ("nul in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n"),
    ("tab in value", "GET / HTTP/1.1\r\nHost: a\r\nX:\t a\tb \t\r\n\r\n"),
    ("empty value", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nY:   \r\n\r\n"),
    ("http2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    ("http12", "GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
    ("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n"),
    ("trailing space version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
    ("two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("no version", "GET /\r\nHost: a\r\n\r\n"),
    ("non-ascii target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("two hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"),
    ("missing host", "GET / HTTP/1.1\r\nX: y\r\n\r\n"),
    ("empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n"),
    ("odd method", "M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("pipelined", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("expect", "POST /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"),
    ("no colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"),
    ("incomplete", "GET / HTTP/1.1\r\nHost: a\r\n"),
    ("incomplete cr", "GET / HTTP/1.1\r"),
]


def requests():
    seeds = []
    for name, text in REQUESTS:
        data = b(text)
        seeds.append((name, head_prefix(0, len(data) // 2) + data))
    # Small limits (bits 0-1 header bytes 16k/1k/96/40, bit 2: 3 fields, bit 3: 24-byte line, bit 4: no empty lines).
    seeds.append(("limit long target", head_prefix(8, 10) + b("GET /" + "a" * 40 + " HTTP/1.1\r\nHost: a\r\n\r\n")))
    seeds.append(("limit fields", head_prefix(4, 30) + b("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")))
    seeds.append(("limit long field", head_prefix(2, 60) + b("GET / HTTP/1.1\r\nHost: a\r\nC: " + "x" * 80 + "\r\n\r\n")))
    seeds.append(("limit header bytes", head_prefix(3, 5) + b("GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + "y" * 30 + "\r\n\r\n")))
    seeds.append(("limit empty lines", head_prefix(16, 1) + b("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")))
    seeds.append(("split inside crlf", head_prefix(0, 15) + b("GET / HTTP/1.1\r\nHost: a\r\n\r\n")))
    # None of the four target forms (RFC 9112 §3.2): 400.
    seeds.append(("target no form", head_prefix(0, 5) + b("GET foo HTTP/1.1\r\nHost: a\r\n\r\n")))
    seeds.append(("target asterisk not options", head_prefix(0, 5) + b("GET * HTTP/1.1\r\nHost: a\r\n\r\n")))
    return seeds


RESPONSES = [
    # (name, method index: GET 0, HEAD 1, POST 2, CONNECT 4, OPTIONS 5, DELETE 7; text)
    ("sse", 0, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"),
    ("sse chunked", 0, "HTTP/1.1 200 OK\r\nContent-Type: Text/Event-Stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("sse length", 0, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 13\r\nX-Accel-Buffering: yes\r\n\r\n"),
    ("sse gzip", 0, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\n\r\n"),
    ("length", 2, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: keep-alive, X-Internal\r\nX-Internal: 1\r\n"
     "Keep-Alive: timeout=5\r\nServer: up\r\n\r\n"),
    ("http10 chunked", 0, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("http10 close", 0, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"),
    ("204 with length", 7, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"),
    ("304 with length", 0, "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nETag: \"x\"\r\n\r\n"),
    ("304 bad length", 0, "HTTP/1.1 304 Not Modified\r\nContent-Length: abc\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("head with length", 1, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nContent-Type: text/event-stream\r\n\r\n"),
    ("100 continue", 2, "HTTP/1.1 100 Continue\r\n\r\n"),
    ("103 early hints", 0, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nContent-Length: 3\r\n\r\n"),
    ("101 switching", 0, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
    ("no reason", 0, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"),
    ("empty reason", 0, "HTTP/1.1 404 \r\n\r\n"),
    ("reason obs-text", 0, "HTTP/1.1 200 \xe9t\xe9 \xff\r\n\r\n"),
    ("reason spaces", 0, "HTTP/1.1 500  Internal  Error \r\n\r\n"),
    ("te gzip chunked", 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
    ("te and cl", 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
    ("cl conflict", 0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
    ("status 099", 0, "HTTP/1.1 099 Low\r\n\r\n"),
    ("status 600", 0, "HTTP/1.1 600 High\r\n\r\n"),
    ("status short", 0, "HTTP/1.1 20 OK\r\n\r\n"),
    ("status letters", 0, "HTTP/1.1 2x0 OK\r\n\r\n"),
    ("http2", 0, "HTTP/2 200\r\n\r\n"),
    ("bare cr", 0, "HTTP/1.1 200 OK\rX: y\r\n\r\n"),
    ("bare lf", 0, "HTTP/1.1 200 OK\nContent-Length: 1\n\n"),
    ("connect 200", 4, "HTTP/1.1 200 Connection Established\r\n\r\n"),
    ("options", 5, "HTTP/1.1 200 OK\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n\r\n"),
    ("hop by hop", 0, "HTTP/1.1 200 OK\r\nConnection: close, X-A\r\nX-A: 1\r\nProxy-Connection: close\r\nTE: x\r\n"
     "Trailer: Y\r\nUpgrade: h2c\r\nContent-Type: text/event-stream\r\n\r\n"),
    ("incomplete", 0, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"),
    ("leading empty", 0, "\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
]


def responses():
    seeds = []
    for name, method, text in RESPONSES:
        data = b(text)
        seeds.append((name, head_prefix(method << 5, len(data) // 3) + data))
    seeds.append(("limit fields", head_prefix(4, 40) + b("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n")))
    seeds.append(("limit header bytes", head_prefix(2, 40) + b("HTTP/1.1 200 OK\r\nD: " + "d" * 90 + "\r\n\r\n")))
    seeds.append(("limit line", head_prefix(8, 12) + b("HTTP/1.1 200 " + "R" * 30 + "\r\n\r\n")))
    return seeds


def builders():
    seeds = []

    def req(name, head_only=False):
        text = dict(REQUESTS)[name]
        return text.split("\r\n\r\n")[0] + "\r\n\r\n" if head_only else text

    def res(name):
        return {entry[0]: entry[2] for entry in RESPONSES}[name]

    pairs = [
        ("sse exchange", 0, req("sse request"), res("sse chunked")),
        ("sse length to 1.0", 8, req("sse request"), res("sse length")),
        ("post length", 1, req("post content-length", True), res("length")),
        ("chunked upload", 2, req("post chunked", True), "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
        ("head", 4, "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", res("head with length")),
        ("http10 keep-alive", 5, req("http10 keep-alive"), res("http10 close")),
        ("http10 close", 6, req("http10 no host"), res("http10 chunked")),
        ("absolute form", 3, req("absolute form"), res("sse")),
        ("connection options", 7, req("connection options"), res("hop by hop")),
        ("forwarded", 0, req("forwarded fields"), res("no reason")),
        ("304", 1, "GET /c HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\nConnection: close\r\n\r\n", res("304 with length")),
        ("interim", 2, req("expect", True), res("103 early hints")),
    ]
    for name, params, request, response in pairs:
        seeds.append((name, bytes([params]) + b(request) + b(response)))
    return seeds


def chunked():
    seeds = []
    bodies = [
        ("simple", 0, [], "5\r\nhello\r\n0\r\n\r\n"),
        ("two chunks split", 0, [1, 2, 3, 4, 5], "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
        ("hex sizes", 0, [7], "A\r\n0123456789\r\nf\r\n0123456789abcde\r\n0\r\n\r\n"),
        ("extensions", 0, [3, 9], "5;name=value\r\nhello\r\n3 ; a=\"b c\" ;d\r\nabc\r\n0;last\r\n\r\n"),
        ("extension whitespace", 0, [], "5 \t\r\nhello\r\n0\r\n\r\n"),
        ("trailers", 0, [20], "3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum: 1\r\n\r\n"),
        ("next message", 0, [0, 5], "0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("sse events", 0, [10, 10, 10], "e\r\ndata: hello\n\n\r\n11\r\n: heartbeat\n\nid: 1\r\n0\r\n\r\n"),
        ("max size", 0, [], "ffffffffffffffff\r\nabc"),
        ("17 digits", 0, [], "10000000000000000\r\n"),
        ("leading zeros", 0, [], "0000000000000005\r\nhello\r\n0\r\n\r\n"),
        ("leading zeros 20 digits", 3, [], "00000000000000000005\r\nhello\r\n0\r\n\r\n"),
        ("bare lf", 0, [], "5\nhello\n0\n\n"),
        ("missing crlf after data", 0, [], "5\r\nhelloX\r\n"),
        ("negative", 0, [], "-1\r\n"),
        ("0x prefix", 0, [], "0x5\r\nhello\r\n"),
        ("leading space", 0, [], " 5\r\nhello\r\n"),
        ("cr without lf", 0, [], "5\rhello"),
        ("control in extension", 0, [], "5;a=\x01\r\nhello\r\n0\r\n\r\n"),
        ("trailer bare lf", 0, [], "0\r\nX: y\n\r\n"),
        ("trailer control", 0, [], "0\r\nX: \x00\r\n\r\n"),
        ("small limits", 1 | 4 | 16, [2, 2], "5;e\r\nhello\r\n0\r\nAB: c\r\n\r\n"),
        ("zero limits", 2 | 8 | 32, [], "1;\r\nx\r\n0\r\n\r\n"),
        ("empty pieces", 0, [0, 0, 1, 0, 3], "2\r\nhi\r\n0\r\n\r\n"),
        ("unfinished", 0, [4], "10\r\nonly part"),
    ]
    for name, selector, lengths, text in bodies:
        seeds.append((name, bytes([selector, len(lengths)] + lengths) + b(text)))
    return seeds


def request_bodies():
    """Byte 0: bits 0-1 framing (0 none, 1 Content-Length, 2 chunked, 3 close-delimited), bit 2 a limit, bit 3 a
    huge Content-Length; bytes 1-2 the length N, bytes 3-4 the limit L (both big-endian); byte 5 the number of piece
    lengths that follow; then the client's stream."""
    NONE, LENGTH, CHUNKED, CLOSE, LIMIT, HUGE = 0, 1, 2, 3, 4, 8
    nxt = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
    bodies = [
        ("none pipelined", NONE, 0, 0, [], nxt),
        ("close delimited", CLOSE | LIMIT, 0, 0, [], "stray bytes"),
        ("length exact", LENGTH, 5, 0, [], "hello"),
        ("length short", LENGTH, 10, 0, [2], "hello"),
        ("length pipelined", LENGTH, 5, 0, [3, 0, 4], "hello" + nxt),
        ("length looks chunked", LENGTH, 38, 0, [], "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("length zero", LENGTH | LIMIT, 0, 0, [], nxt),
        ("length at limit", LENGTH | LIMIT, 10, 10, [1, 1], "0123456789" + nxt),
        ("length over limit", LENGTH | LIMIT, 11, 10, [], "0123456789A"),
        ("length huge", LENGTH | HUGE, 0, 0, [7], "some of an endless body"),
        ("length huge limit", LENGTH | HUGE | LIMIT, 0, 65535, [], "x"),
        ("chunked simple", CHUNKED, 0, 0, [], "5\r\nhello\r\n0\r\n\r\n"),
        ("chunked pieces", CHUNKED, 0, 0, [1, 2, 3, 4, 5], "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
        ("chunked extensions trailers", CHUNKED, 0, 0, [9],
         "5;name=\"v;x\" ; flag\r\nhello\r\n0;last=1\r\nX-Checksum: 12\r\nContent-Length: 99\r\n\r\n"),
        ("chunked leading zeros uppercase", CHUNKED, 0, 0, [], "001A\r\n" + "x" * 26 + "\r\n0000\r\n\r\n"),
        ("chunked pipelined", CHUNKED, 0, 0, [0, 12], "3\r\nabc\r\n0\r\n\r\n" + nxt),
        ("chunked smuggled request", CHUNKED, 0, 0, [], "0\r\n\r\nPOST /admin HTTP/1.1\r\nHost: a\r\n"
         "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        ("chunked at limit", CHUNKED | LIMIT, 0, 5, [], "5;long-extension-not-counted\r\nhello\r\n0\r\nT: v\r\n\r\n"),
        ("chunked over limit", CHUNKED | LIMIT, 0, 5, [4], "5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n"),
        ("chunked zero limit", CHUNKED | LIMIT, 0, 0, [], "0\r\n\r\n"),
        ("chunked too large then bad", CHUNKED | LIMIT, 0, 5, [], "6\r\nhello!X\r\n"),
        ("chunked bad then too large", CHUNKED | LIMIT, 0, 5, [], "3\r\nabcX\r\n9\r\n123456789\r\n"),
        ("chunked max size", CHUNKED | LIMIT, 0, 2, [], "ffffffffffffffff\r\nabc"),
        ("chunked 17 digits", CHUNKED, 0, 0, [], "00000000000000001\r\nx\r\n0\r\n\r\n"),
        ("chunked bad hex", CHUNKED, 0, 0, [], "0x5\r\nhello\r\n0\r\n\r\n"),
        ("chunked bare lf", CHUNKED, 0, 0, [], "5\nhello\n0\n\n"),
        ("chunked missing crlf after data", CHUNKED, 0, 0, [], "5\r\nhello!\r\n0\r\n\r\n"),
        ("chunked cr without lf", CHUNKED, 0, 0, [], "5\rhello\r\n"),
        ("chunked control in extension", CHUNKED, 0, 0, [], "5;a=\x01\r\nhello\r\n0\r\n\r\n"),
        ("chunked trailer bare lf", CHUNKED, 0, 0, [], "0\r\nX: y\n\r\n"),
        ("chunked unfinished", CHUNKED, 0, 0, [4], "10\r\nonly part"),
    ]
    seeds = []
    for name, flags, length, limit, lengths, text in bodies:
        prefix = bytes([flags, length >> 8, length & 0xFF, limit >> 8, limit & 0xFF, len(lengths)] + lengths)
        seeds.append((name, prefix + b(text)))
    return seeds


def sse():
    seeds = []
    HB = 0x80
    streams = [
        ("single event", 0, [], "data: hello\n\n"),
        ("events with heartbeats", 0, [5, HB, 8, HB, 1, HB], "data: hello\n\nevent: up\ndata: x\nid: 7\n\n"),
        ("bom", 0, [HB, 1, HB, 1, HB, 1], "\xef\xbb\xbfdata: a\r\n\r\n"),
        ("bom no injection", 0, [1, 1, 1], "\xef\xbb\xbfdata: a\n\n"),
        ("partial bom", 0, [1, HB, 1, HB], "\xef\xbbX: y\n\n"),
        ("bom only", 0, [HB, 2], "\xef\xbb"),
        ("cr line ends", 0, [8, HB, 1, HB, 8, HB], "data: a\rdata: b\r\r"),
        ("crlf split", 0, [7, HB, 1, HB, 1, HB], "data: a\r\n\r\nid: 5\r\n\r\n"),
        ("crlf events", 0, [], "event: up\r\ndata: x\r\nid: 7\r\n\r\n"),
        ("retry", 0, [12, HB], "retry: 1000\n\nretry: 10a\n\n"),
        ("comments", 0, [HB, 9, HB], ":comment\n: another\n\n"),
        ("id without value", 0x10, [HB, 4, HB, 1, HB], "id\n\ndata: z\n\n"),
        ("id with nul", 0x10, [], "id: a\x00b\n\ndata: after\n\n"),
        ("data without colon", 0, [], "data\n\ndata:no space\n\n"),
        ("before first dispatch", 0x10, [HB, 6, HB, 1, HB], "id: 9\n\n"),
        ("retry preamble", 1 | (2 << 1), [HB, 5, HB], "data: x\n\n"),
        ("retry preamble then bom", 1, [1, 1, 1, HB], "\xef\xbb\xbfdata: y\n\n"),
        ("carried id", 0x10, [HB, 3, HB], "\n\ndata: after\n\n"),
        ("mid line", 0, [3, HB, 3, HB], "data: long line\n"),
        ("utf8", 0, [7, HB], "data: caf\xc3\xa9 \xe2\x9c\x93\n\n"),
        ("invalid utf8", 0, [2, HB], "data: \xff\xfe\xc3\n\n"),
        ("empty reads", 0, [0, HB, 0, HB, 0], "data: e\n\n"),
        ("lone cr at end", 0, [8, HB | 1, HB | 2], "data: a\r"),
        ("cr then lf across reads", 0, [8, HB, 1, HB, 1], "data: a\r\n\n"),
        ("many blank", 0, [1, HB, 1, HB, 1, HB, 1, HB], "\r\r\n\n\r"),
    ]
    for name, flags, operations, text in streams:
        seeds.append((name, bytes([flags, len(operations)] + operations) + b(text)))
    return seeds


def ride_through():
    """Byte 0 flags (bits 0-1 upstream framing, bit 2 assembler, bit 3 heartbeat events, bit 4 sse_retry, bit 5
    chunked client, bits 6-7 the opening Last-Event-ID), byte 1 sizes (bits 0-2 buffer 64 << n, bits 3-5 assembler
    limit 16 << n, bits 6-7 chunk size), byte 2 the number of operations that follow, then the backend's bytes (see
    Fuzz/Targets/ride_through.swift)."""
    CLOSE, CHUNKED, RAW, LENGTH = 0, 1, 2, 3
    ASSEMBLER, HB_EVENT, RETRY, CLIENT_CHUNKED, CARRIED_42, CARRIED_OTHER = 4, 8, 16, 32, 64, 128
    HB, LEAVE = 0x80, 0xA0

    def read(n):
        return n if n < 64 else 0x40 | min(n // 64, 63)

    def evict(sixteenths):
        return 0xB0 | sixteenths

    def back(where=0, chunked=False):
        # where: 0 real, 1 oldest, 2 oldest - 1, 3 newest, 4 newest + 1, 5 max, 6 zero, 7 middle, 8-15 oldest + n
        return 0xC0 | where | (0x20 if chunked else 0)

    def sizes(buffer_shift=4, assembler_shift=4, chunk=1):
        return buffer_shift | assembler_shift << 3 | chunk << 6

    events = "data: a\n\ndata: b\nid: 7\n\nevent: up\ndata: c\n\n"
    many = "".join("data: event %d\n\n" % i for i in range(40))
    streams = [
        ("close delimited", CLOSE, sizes(), [], events),
        ("chunked by target", CHUNKED | CLIENT_CHUNKED, sizes(chunk=1), [read(5), read(9), HB], events),
        ("chunked one byte chunks", CHUNKED, sizes(chunk=0), [read(3), read(3)], events),
        ("raw chunked", RAW | CLIENT_CHUNKED, sizes(), [read(12)], "9\r\ndata: a\n\n\r\n0\r\n\r\n"),
        ("raw chunked broken", RAW, sizes(), [], "9\r\ndata: a\n\nX\r\n0\r\n\r\n"),
        ("raw chunked trailing", RAW, sizes(), [], "3\r\n:\n\n\r\n0\r\n\r\ndata: after\n\n"),
        ("content length", LENGTH | CLIENT_CHUNKED, sizes(), [read(4), HB], events),
        ("crlf", CLOSE, sizes(), [read(11), read(1)], "data: a\r\nid: 1\r\n\r\ndata: b\r\n\r\n"),
        ("cr line ends", CLOSE, sizes(), [read(8), HB], "data: a\rid: x\r\rdata: b\r\r"),
        ("bom", CLOSE | CLIENT_CHUNKED, sizes(), [], "\xef\xbb\xbfdata: a\n\n"),
        ("bom split", CLOSE, sizes(), [read(1), HB, read(1), read(1)], "\xef\xbb\xbfdata: a\n\n"),
        ("bom leading line", CLOSE, sizes(), [], "data: a\n\n\xef\xbb\xbfdata: b\n\ndata: c\n\n"),
        ("huge event small buffer", CLOSE, sizes(0), [read(100), LEAVE, back(), read(64)],
         "data: a\n\ndata: " + "x" * 3000 + "\n\ndata: b\n\n"),
        ("huge event big buffer", CHUNKED | CLIENT_CHUNKED, sizes(7, chunk=3), [read(640), LEAVE, back(1)],
         "data: " + "y" * 7000 + "\n\ndata: z\n\n"),
        ("ids with dots", CLOSE, sizes(), [], "id: a.b..c.\ndata: 1\n\nid: sk1.x.2\ndata: 2\n\n"),
        ("empty ids", CLOSE, sizes(), [read(20), LEAVE, back()], "id\ndata: 1\n\nid:\ndata: 2\n\nid: \ndata: 3\n\n"),
        ("id with nul", CLOSE, sizes(), [], "id: 5\ndata: 1\n\nid: a\x00b\ndata: 2\n\n"),
        ("stamped looking id", CLOSE, sizes(), [],
         "id: sk1.AAECAwQFBgcICQoLDA0ODw.99\ndata: x\n\nid: sk1.AAECAwQFBgcICQoLDA0ODw.1\n\ndata: y\n\n"),
        ("long backend id", CLOSE, sizes(5), [], "id: " + "i" * 1100 + "\ndata: 1\n\nid: ok\ndata: 2\n\n"),
        ("utf8 backend id", CLOSE, sizes(), [], "id: caf\xc3\xa9 \xff\ndata: 1\n\n"),
        ("retry only events", CLOSE | RETRY, sizes(), [read(14), LEAVE, back()],
         "retry: 10\n\ndata: x\n\nretry: 20\nevent: e\n\ndata: y\n\n"),
        ("event without data", CLOSE | CARRIED_42, sizes(), [read(10), HB], "event: x\n\nid: 3\n\ndata: y\n\n"),
        ("comments", CLOSE | HB_EVENT, sizes(), [read(9), HB, read(20), HB], ": hi\n\ndata: a\n: mid\n\n:bye\n"),
        ("leave and come back", CLOSE, sizes(), [read(20), LEAVE, read(30), back(0, True), read(10)], many),
        ("come back too old", CLOSE, sizes(1), [LEAVE, read(63), read(63), back(2)], many),
        ("come back in the future", CLOSE, sizes(), [read(30), LEAVE, back(4), back(3)], many),
        ("come back at max", CLOSE, sizes(), [read(30), back(5), back(6)], many),
        ("away until full", CHUNKED | CLIENT_CHUNKED, sizes(0), [LEAVE] + [read(32)] * 12 + [back(1, True)], many),
        ("memory cap", CLOSE, sizes(3), [read(63), LEAVE, read(63), evict(8), back(1), evict(0), back(7)], many),
        ("heartbeat events carried", CLOSE | HB_EVENT | CARRIED_42, sizes(), [HB, read(3), HB, read(20), HB, LEAVE,
                                                                          back(3), HB], events),
        ("carried other stream", CLOSE | HB_EVENT | CARRIED_OTHER | RETRY, sizes(), [HB, read(12), HB], "retry: 5\n\n" + events),
        ("assembler partial event", CLOSE | ASSEMBLER, sizes(4, 2), [read(9), LEAVE, read(5), back(0, True)], events),
        ("assembler overflow", CLOSE | ASSEMBLER | CLIENT_CHUNKED, sizes(6, 0), [read(20), HB, LEAVE, back()],
         "data: " + "o" * 100 + "\n\n" + events),
        ("leave mid pass-through", CLOSE, sizes(0), [read(40), LEAVE, back(), read(63), back()],
         "data: " + "p" * 200 + "\n\ndata: q\n\n"),
        ("alternating clients", CLOSE, sizes(2), [read(40), back(1, True), read(40), back(7), LEAVE, read(40),
                                                   back(8, True), back(9)], many),
        ("empty stream", CLOSE | RETRY, sizes(), [HB, LEAVE, back(6)], ""),
    ]
    seeds = []
    for name, flags, size, operations, text in streams:
        seeds.append((name, bytes([flags, size, len(operations)] + operations) + b(text)))
    return seeds


def configs():
    seeds = []
    with open(os.path.join(ROOT, "proxy.conf.example"), "rb") as handle:
        seeds.append(("example", handle.read()))
    texts = [
        ("minimal", "listen 8080;\nupstream u { server 127.0.0.1:9000; }\nroute / { upstream u; }\n"),
        ("full", "listen [::1]:8080;\nlisten *:81;\nlisten 0.0.0.0:82;\nidle_timeout 90s;\nheartbeat_fraction 0.25;\n"
         "heartbeat_comment \"keep \\\"alive\\\" \\\\ ok\";\nsse_retry 2500ms;\nclient_header_timeout 5s;\n"
         "upstream_connect_timeout 250ms;\nupstream_header_timeout 2m;\nkeepalive_timeout 1h;\nmax_connections 1000000;\n"
         "max_header_size 1m;\nmax_buffer_size 64M;\n"
         "upstream a.b-c_D { server [2001:db8::1]:80; server host.example:1; server 10.0.0.1:65535; "
         "server [::ffff:1.2.3.4]:9; }\n"
         "route /x/ { upstream a.b-c_D; sse_retry off; heartbeat_comment hb; idle_timeout 1ms; heartbeat_fraction 0.999; }\n"
         "route / { upstream a.b-c_D; }\n"),
        ("forward reference", "route /a { upstream later; }\nlisten 1;\nupstream later {\n  server a:1;\n}\n"),
        ("bom and comments", "\xef\xbb\xbf# comment\nlisten 8080; # trailing\nupstream u{server h:1;}route /{upstream u;}#end"),
        ("crlf", "listen 8080;\r\nupstream u {\r\n\tserver h:1;\r\n}\r\nroute / {\r\n\tupstream u;\r\n}\r\n"),
        ("typos", "listen 8080;\nidle_timout 5s;\nupstream u { sever h:1; server h:1; }\nroute / { upstream v; }\n"),
        ("unterminated string", "listen \"8080;\nroute / { upstream u; }\n"),
        ("bad escape", "heartbeat_comment \"a\\nb\";\n"),
        ("quote in word", "listen 80\"80;\n"),
        ("nested deep", "a{b{c{d{e{f{g{h{i{j{k{}}}}}}}}}}}\n"),
        ("unclosed", "route / { upstream u;\n"),
        ("stray", "; } { listen 1;\n"),
        ("missing semicolon", "listen 8080\nidle_timeout 5s\n"),
        ("bad values", "listen 0;\nlisten 70000;\nlisten 1.2.3.256:80;\nlisten [::1;\nlisten ::1:80;\nmax_header_size 2g;\n"
         "idle_timeout 1.5s;\nheartbeat_fraction 1;\nheartbeat_fraction 0;\nsse_retry 25h;\nmax_connections 0;\n"
         "heartbeat_comment \"\";\n"),
        ("duplicates", "listen 80;\nlisten 0.0.0.0:80;\nidle_timeout 1s;\nidle_timeout 2s;\nupstream u { server h:1; }\n"
         "upstream u { server h:2; }\nroute / { upstream u; upstream u; }\nroute / { upstream u; }\n"),
        ("wrong context", "server h:1;\nupstream u { listen 1; route / { } }\nroute / { upstream u; max_connections 5; }\n"),
        ("block shapes", "listen 80 { }\nroute /;\nupstream;\nroute / x { upstream u; }\n"),
        ("tiny fraction", "listen 80;\nidle_timeout 1ms;\nheartbeat_fraction 0.5;\nupstream u { server h:1; }\nroute / { upstream u; }\n"),
        ("controls", "listen 80;\x01\x7f\nroute /\x00 { }\n"),
        ("long word", "listen " + "9" * 5000 + ";\n"),
        ("utf8 names", "r\xc3\xa9oute / { upstream \xc3\xa9; }\nupstream \xc3\xa9 { server h\xc3\xa9:1; }\n"),
        ("pools", "listen 1;\nupstream u {\n  server a:1 weight=5 max_fails=2 fail_timeout=30s;\n  server b:2;\n"
         "  server c:3 backup weight=2;\n  upstream_keepalive 16;\n  upstream_keepalive_timeout 5s;\n}\n"
         "route / { upstream u; }\n"),
        ("bad pool options", "listen 1;\nupstream u { server a:1 weight=0 wieght=2 max_fails=x fail_timeout= backup=1; "
         "server b:2 backup; upstream_keepalive 4 5; }\nupstream v { server c:3 backup; }\nroute / { upstream u; }\n"),
        ("prefix problems", "listen 1;\nupstream u { server h:1; }\nroute a { upstream u; }\nroute /a?b { upstream u; }\n"
         "route \"/a b\" { upstream u; }\nroute /# { upstream u; }\n"),
    ]
    for name, text in texts:
        seeds.append((name, b(text)))
    return seeds


def stamped_ids():
    """The whole input is the text parsed (see Fuzz/Targets/stamped_id.swift); its bytes also build an id."""
    token = "AAECAwQFBgcICQoLDA0ODw"
    texts = [
        ("id", "sk1.%s.42" % token),
        ("id zero", "sk1.%s.0" % token),
        ("id max", "sk1.%s.18446744073709551615" % token),
        ("id overflow", "sk1.%s.18446744073709551616" % token),
        ("id leading zero", "sk1.%s.007" % token),
        ("id backend", "sk1.%s.7.evt-9" % token),
        ("id backend dots", "sk1.%s.7.a.b..c." % token),
        ("id nested", "sk1.%s.1.sk1.%s.2" % (token, token)),
        ("id backend crlf", "sk1.%s.7.a\r\nid: x" % token),
        ("id backend nul", "sk1.%s.7.a\x00b" % token),
        ("id backend utf8", "sk1.%s.7.caf\xc3\xa9 \xff" % token),
        ("id empty backend", "sk1.%s.7." % token),
        ("id no seq", "sk1.%s." % token),
        ("id bad token bits", "sk1.AAECAwQFBgcICQoLDA0ODx.1"),
        ("id short token", "sk1.AAECAwQFBgcICQoLDA0OD.1"),
        ("id padded token", "sk1.AAECAwQFBgcICQoLDA0ODw==.1"),
        ("id other version", "sk2.%s.1" % token),
        ("token", token),
        ("token ones", "_____________________w"),
        ("base64url rfc", "Zm9vYmFy"),
        ("base64url tail 2", "Zm9vYg"),
        ("base64url tail 3", "Zm9vYmE"),
        ("base64url noncanonical", "Zh"),
        ("base64 standard", "+/+/Zg=="),
        ("empty", ""),
    ]
    return [(name, b(text)) for name, text in texts]


def cgroup_cpu():
    """Byte 0 sets the CPUs; NUL splits /proc/self/cgroup, mountinfo, the quota text, the period text (see
    Fuzz/Targets/cgroup_cpu.swift)."""
    v2 = "30 24 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
    hybrid = ("31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
              "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
              "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")
    seeds = [
        ("v2 service", "\x10", "0::/system.slice/ssekeeper.service\n", v2, "250000 100000\n", ""),
        ("v2 namespace root", "\x03", "0::/\n", v2, "50000 100000\n", ""),
        ("v2 unlimited", "\x07", "0::/a/b\n", v2, "max 100000\n", ""),
        ("v2 bind mounted", "\x0f", "0::/kubepods/pod1/c1\n",
         "1 0 0:26 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n", "200000 100000", ""),
        ("v1 hybrid", "\x01", "4:memory:/x\n1:cpu:/ssk\n0::/\n", hybrid, "100000\n", "100000\n"),
        ("v1 combined", "\x20", "3:cpu,cpuacct:/docker/abc\n",
         "7 1 0:3 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n", "-1\n", "100000\n"),
        ("escaped mount", "\x02", "0::/a\n", "1 0 0:26 / /mnt/my\\040cgroups rw - cgroup2 none rw\n",
         "100000 100000", ""),
        ("outside namespace", "\x02", "0::/../../x\n", v2, "100000 100000", ""),
    ]
    return [(name, b(cpus + "\x00".join([cgroup, mounts, quota, period])))
            for name, cpus, cgroup, mounts, quota, period in seeds]


CGROUP_TOKENS = ["0::/", ":cpu:", ":cpu,cpuacct:", " - cgroup2 cgroup2 rw\n", " - cgroup cgroup rw,cpu\n",
                 "/sys/fs/cgroup", " / ", "max ", "100000", "-1", "\\040", "/..", "\n"]


def h2_frame(kind, flags=0, stream=0, payload=b"", length=None):
    """One HTTP/2 frame (RFC 9113 §4.1): 24-bit length, type, flags, 31-bit stream, payload."""
    payload = b(payload)
    length = len(payload) if length is None else length
    return bytes([length >> 16 & 0xFF, length >> 8 & 0xFF, length & 0xFF, kind, flags]) + stream.to_bytes(4, "big") + payload


def h2_frames():
    """Byte 0 limits and start, byte 1 = K, K piece lengths, then the stream (see Fuzz/Targets/h2_frames.swift).
    Selector bit 4 prefixes the client preface, so most seeds start with the client's SETTINGS."""
    PREFACE = 0x10
    settings = h2_frame(4, payload=bytes([0, 3, 0, 0, 0, 100, 0, 4, 0, 0x10, 0, 0, 0, 2, 0, 0, 0, 0]))
    ack = h2_frame(4, 1)
    headers = h2_frame(1, 0x5, 1, bytes([0x82, 0x86, 0x84, 0x41, 0x8a, 0x08, 0x9d, 0x5c, 0x0b, 0x81, 0x70, 0xdc, 0x78, 0x0f, 0x03]))
    ping = h2_frame(6, 0, 0, bytes(range(1, 9)))
    streams = [
        ("settings only", PREFACE, [], settings),
        ("sse request", PREFACE, [30, 9], settings + ack + headers + h2_frame(8, 0, 0, bytes([0, 0x0f, 0, 1]))),
        ("headers continuation", PREFACE, [12], settings + h2_frame(1, 0, 3, b"\x82\x86") + h2_frame(9, 0, 3, b"\x84")
         + h2_frame(9, 4, 3, b"\x41\x81\x1f")),
        ("padded data and priority", PREFACE, [5, 5, 5], settings + h2_frame(1, 0x2c, 1, bytes([1, 0x80, 0, 0, 3, 15, 0x82, 0]))
         + h2_frame(0, 0x9, 1, bytes([2]) + b"data: x\n\n" + bytes(2)) + h2_frame(2, 0, 5, bytes([0, 0, 0, 1, 7]))),
        ("ping rst goaway", PREFACE, [1, 1, 1], settings + ping + h2_frame(6, 1, 0, bytes(8)) + h2_frame(3, 0, 1, bytes([0, 0, 0, 8]))
         + h2_frame(7, 0, 0, bytes([0, 0, 0, 1, 0, 0, 0, 0]) + b"bye")),
        ("unknown frames", PREFACE, [], settings + h2_frame(0x42, 0xff, 0, b"ext") + h2_frame(0xfa, 0, 7)),
        ("stream errors", PREFACE, [], settings + h2_frame(8, 0, 3, bytes(4)) + h2_frame(2, 0, 3, bytes([0, 0, 0, 3, 1]))
         + h2_frame(2, 0, 5, bytes(4))),
        ("continuation flood", PREFACE, [9], settings + h2_frame(1, 0, 1, b"\x82") + h2_frame(9, 0, 1) * 20),
        ("continuation wrong stream", PREFACE, [], settings + h2_frame(1, 0, 1, b"\x82") + h2_frame(9, 4, 3)),
        ("data inside field block", PREFACE, [], settings + h2_frame(1, 0, 1, b"\x82") + h2_frame(0, 0, 1, b"x")),
        ("oversized frame", PREFACE, [4], settings + h2_frame(0, 0, 1, length=16385)),
        ("bad settings", PREFACE, [], h2_frame(4, payload=bytes([0, 2, 0, 0, 0, 2, 0, 4, 0x80, 0, 0, 0]))),
        ("settings ack with payload", PREFACE, [], settings + h2_frame(4, 1, 0, bytes(6))),
        ("push promise", PREFACE, [], settings + h2_frame(5, 4, 1, bytes([0, 0, 0, 2, 0x82]))),
        ("zero window connection", PREFACE, [], settings + h2_frame(8, 0, 0, bytes(4))),
        ("padding too long", PREFACE, [], settings + h2_frame(0, 8, 1, bytes([5, 0, 0]))),
        ("first frame not settings", PREFACE, [], ping),
        ("small limits", PREFACE | 0x20 | 0x40 | 0x1 | 0x8, [3, 3], settings + headers + h2_frame(0, 0, 1, b"y" * 80)),
        ("http11 fallback", 0x80, [3], b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("broken preface", 0x80, [], b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + settings),
        ("frames without preface", 0, [2], ping + h2_frame(4, 1) + h2_frame(3, 0, 9, bytes(4))),
    ]
    seeds = []
    for name, selector, pieces, stream in streams:
        seeds.append((name, bytes([selector, len(pieces)] + pieces) + stream))
    return seeds


def h2_connection():
    """Byte 0 configuration and start, byte 1 = K, K steps of 3 bytes (client bytes to feed, proxy call and clock,
    argument), then the client's bytes (see Fuzz/Targets/h2_connection.swift). Selector bit 4 prefixes the client
    preface and an empty SETTINGS, so most seeds start with valid frames."""
    PREFACE, START, SMALL_WINDOWS, SMALL_BUDGETS, SHORT_TIMEOUT = 0x10, 0x20, 0x04, 0x40, 0x80

    def literal(name, value):
        return bytes([0, len(name)]) + b(name) + bytes([len(value)]) + b(value)

    authority = bytes([0x41, 11]) + b"example.com"
    get = bytes([0x82, 0x87, 0x84]) + authority
    post = bytes([0x83, 0x87, 0x84]) + authority
    settings_ack = h2_frame(4, 1)

    def headers(stream, block, end_stream=True):
        return h2_frame(1, 0x4 | (0x1 if end_stream else 0), stream, block)

    def data(stream, payload, end_stream=False, pad=None):
        if pad is None:
            return h2_frame(0, 0x1 if end_stream else 0, stream, payload)
        return h2_frame(0, 0x8 | (0x1 if end_stream else 0), stream, bytes([pad]) + b(payload) + bytes(pad))

    def steps(*records):
        """Records of (client bytes to feed, op, arg); lengths from 200 on go up in 512-byte units."""
        def piece(length):
            return length if length < 200 else 199 + -(-length // 512)
        return bytes([len(records)] + [value for length, op, arg in records for value in (piece(length), op, arg)])

    rapid = b"".join(headers(2 * n + 1, get) + h2_frame(3, 0, 2 * n + 1, bytes([0, 0, 0, 8])) for n in range(12))
    seeds = [
        ("get then event stream", PREFACE, steps((len(settings_ack + headers(1, get)), 0x01, 0), (0, 0x02, 10), (0, 0x02, 0x45)),
         settings_ack + headers(1, get)),
        ("post body consumed", PREFACE, steps((60, 0x00, 0), (200, 0x05, 0x3f), (0, 0x0c, 0), (0, 0x01, 0x40)),
         settings_ack + headers(1, post + literal("content-length", "300"), False) + data(1, b"a" * 100)
         + data(1, b"b" * 100, pad=30) + data(1, b"c" * 100, True)),
        ("small windows upload past the window", PREFACE | SMALL_WINDOWS, steps((80, 0x00, 0), (250, 0x00, 0), (0, 0x05, 0x3f)),
         headers(1, post, False) + data(1, b"x" * 999) + data(1, b"yy") + data(1, b"z", True)),
        ("small windows consumed in time", PREFACE | SMALL_WINDOWS, steps((600, 0x0c, 0), (600, 0x0c, 0), (600, 0x0c, 0)),
         headers(1, post, False) + data(1, b"x" * 500) + data(1, b"x" * 500) + data(1, b"x" * 500) + data(1, b"", True)),
        ("rapid reset", PREFACE | SMALL_BUDGETS, steps((100, 0x01, 0), (100, 0x04, 1), (100, 0x02, 3)), rapid),
        ("settings timeout", START | SHORT_TIMEOUT, steps((24, 0x00, 0), (9, 0x48, 0), (0, 0x18, 0)),
         bytes(HTTP2_PREFACE) + h2_frame(4) + headers(1, get)),
        ("settings acknowledged in time", PREFACE | SHORT_TIMEOUT, steps((9, 0x38, 0), (0, 0xf8, 0)), settings_ack),
        ("ping and goaway", PREFACE, steps((17, 0x07, 0), (0, 0x06, 1), (30, 0x01, 0x40)),
         h2_frame(6, 0, 0, bytes(range(8))) + h2_frame(6, 1, 0, bytes(8)) + headers(1, get)),
        ("window update resumes a blocked stream", PREFACE,
         steps((15 + 9 + len(headers(1, get)), 0x01, 0), (0, 0x03, 3), (13, 0x0b, 5), (0, 0x0c, 0)),
         h2_frame(4, 0, 0, bytes([0, 4, 0, 0, 0, 100])) + settings_ack + headers(1, get)
         + h2_frame(8, 0, 1, bytes([0, 0, 1, 0]))),
        ("preface in pieces", 0, steps((5, 0x00, 0), (19, 0x09, 0), (9, 0x00, 0)), bytes(HTTP2_PREFACE) + h2_frame(4) + settings_ack),
        ("http11 instead", 0, steps((3, 0x00, 0)), b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("continuation and one stream", PREFACE | 0x01 | 0x08, steps((40, 0x0a, 0), (0, 0x0a, 0x40)),
         h2_frame(1, 0, 1, get[:2]) + h2_frame(9, 4, 1, get[2:]) + headers(3, get)),
        ("trailers and reset", PREFACE, steps((60, 0x05, 0x3f), (0, 0x04, 0)),
         headers(1, post, False) + data(1, b"body") + headers(1, literal("x-checksum", "1"), True)
         + h2_frame(3, 0, 1, bytes([0, 0, 0, 8]))),
        ("client goaway while streaming", PREFACE, steps((30, 0x01, 0), (17, 0x03, 0x41)),
         headers(1, get) + h2_frame(7, 0, 0, bytes([0, 0, 0, 1, 0, 0, 0, 0]))),
    ]
    return [(name, bytes([selector]) + records + stream) for name, selector, records, stream in seeds]


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def dict_entry(token):
    out = ""
    for byte in b(token):
        out += "\\x%02x" % byte if byte in (0x22, 0x5C) or byte < 0x20 or byte > 0x7E else chr(byte)
    return '"%s"' % out


def write_dictionary(target, tokens):
    directory = os.path.join(FUZZ, "Dictionaries")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, target + ".dict"), "w") as handle:
        handle.write("".join(dict_entry(token) + "\n" for token in tokens))


HTTP_TOKENS = [
    "\r\n", "\r\n\r\n", "\n", "\r", " ", ":", ", ", ";", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/", "GET", "HEAD",
    "POST", "CONNECT", "OPTIONS", "Host", "Content-Length", "Transfer-Encoding", "chunked", "gzip", "identity",
    "Connection", "close", "keep-alive", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Connection",
    "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Accept", "Accept-Encoding", "text/event-stream",
    "Content-Type", "Cache-Control", "X-Accel-Buffering", "Last-Event-ID", "http://", "https://", "@", "?", "#", "*",
    "/", "0", "18446744073709551615", "18446744073709551616", "\t", "\x00", "\x7f", "\xff", "\xc3\xa9",
]
STATUS_TOKENS = ["200", "204", "304", "100", "101", "103", "404", "500", "099", "600", " OK"]
CHUNKED_TOKENS = [
    "\r\n", "0\r\n\r\n", ";", "; name=value", "\"", "ffffffffffffffff", "10000000000000000", "0000000000000000", "A",
    "f", " ", "\t", "\x00", "\n", "Trailer-Field: v\r\n",
]
SSE_TOKENS = [
    "data:", "data: ", "event:", "id:", "id: ", "retry:", "retry: 1000", ":", "\n", "\r", "\r\n", "\n\n",
    "\xef\xbb\xbf", "\xef\xbb", "\x80", "\x81", "\x82", "\x83", "\x00",
]
CONFIG_TOKENS = [
    "listen", "upstream", "route", "server", "idle_timeout", "heartbeat_fraction", "heartbeat_comment", "sse_retry",
    "off", "client_header_timeout", "upstream_connect_timeout", "upstream_header_timeout", "keepalive_timeout",
    "max_connections", "max_header_size", "max_buffer_size", ";", "{", "}", "#", "\"", "\\\"", "\\\\", "\n",
    "127.0.0.1:8080", "[::1]:8080", "*:8080", "8080", "host.example:9000", "[::ffff:1.2.3.4]:1", "ms", "s", "m", "h",
    "k", "M", "0.33", "0.000000000000000000000000000001", "24h", "86400s", "1ms", "route / { upstream u; }",
    "upstream u { server h:1; }", "listen 1;", "\xef\xbb\xbf", "weight=", "max_fails=", "fail_timeout=", "backup",
    "upstream_keepalive", "upstream_keepalive_timeout", "=",
    # added to config.dict by hand with the directives they name; here so a regeneration keeps them
    "upstream_resume", "resume_window", "resume_backoff", "..", "always", "tls", "h2c", "listen 1 h2c;", "http2",
    "http2_max_concurrent_streams", "on",
]

H2_TOKENS = [
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\x00\x00\x00\x04\x00\x00\x00\x00\x00", "\x00\x00\x00\x04\x01\x00\x00\x00\x00",
    "\x00\x00\x08\x06\x00\x00\x00\x00\x00", "\x00\x00\x04\x08\x00\x00\x00\x00\x01", "\x00\x00\x04\x03\x00\x00\x00\x00\x01",
    "\x00\x00\x00\x09\x04\x00\x00\x00\x01", "\x00\x00\x00\x09\x00\x00\x00\x00\x01", "\x00\x00\x01\x01\x05\x00\x00\x00\x01",
    "\x00\x40\x00", "\x00\x40\x01", "\x7f\xff\xff\xff", "\x80\x00\x00\x00", "\x00\x05\x00\x00\x40\x00",
    "\x00\x04\x7f\xff\xff\xff", "\x00\x02\x00\x00\x00\x01",
]

STAMPED_ID_TOKENS = [
    "sk1.", "sk1", ".", "AAECAwQFBgcICQoLDA0ODw", "_____________________w", "0", "1", "9", "18446744073709551615",
    "18446744073709551616", "99999999999999999999", "=", "==", "+", "/", "-", "_", "\r", "\n", "\x00", " ", "\xff",
]


def hpack():
    """Byte 0 decoder limits and advertised table size, byte 1 re-encoder, byte 2 = K, K block lengths, blocks
    (see Fuzz/Targets/hpack.swift). Seeds: every RFC 7541 Appendix C block sequence, and hostile blocks."""
    h = bytes.fromhex
    requests = ["82868441 0f777777 2e657861 6d706c65 2e636f6d", "828684be 58086e6f 2d636163 6865",
                "828785bf 400a6375 73746f6d 2d6b6579 0c637573 746f6d2d 76616c75 65"]
    requests_huffman = ["82868441 8cf1e3c2 e5f23a6b a0ab90f4 ff", "828684be 5886a8eb 10649cbf",
                        "828785bf 408825a8 49e95ba9 7d7f8925 a849e95b b8e8b4bf"]
    responses = ["48033330 32580770 72697661 7465611d 4d6f6e2c 20323120 4f637420 32303133 2032303a 31333a32 3120474d"
                 " 546e1768 74747073 3a2f2f77 77772e65 78616d70 6c652e63 6f6d", "48033330 37c1c0bf",
                 "88c1611d 4d6f6e2c 20323120 4f637420 32303133 2032303a 31333a32 3220474d 54c05a04 677a6970 7738666f"
                 " 6f3d4153 444a4b48 514b425a 584f5157 454f5049 55415851 57454f49 553b206d 61782d61 67653d33 3630303b"
                 " 20766572 73696f6e 3d31"]
    responses_huffman = ["48826402 5885aec3 771a4b61 96d07abe 941054d4 44a82005 95040b81 66e082a6 2d1bff6e 919d29ad 171863c7"
                         " 8f0b97c8 e9ae82ae 43d3", "4883640e ffc1c0bf",
                         "88c16196 d07abe94 1054d444 a8200595 040b8166 e084a62d 1bffc05a 839bd9ab 77ad94e7 821dd7f2 e6c7b335"
                         " dfdfcd5b 3960d5af 27087f36 72c1ab27 0fb5291f 95873160 65c003ed 4ee5b106 3d5007"]

    def sequence(limits, reencoder, blocks):
        blocks = [h(block.replace(" ", "")) if isinstance(block, str) else block for block in blocks]
        return bytes([limits, reencoder, len(blocks) - 1] + [len(block) for block in blocks[:-1]]) + b"".join(blocks)

    table_256 = bytes([0x3F, 0xE1, 0x01])  # dynamic table size update to 256: the advertised limit was lowered
    seeds = [
        ("c2 1 literal with indexing", sequence(0, 1, ["400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"])),
        ("c2 2 literal without indexing", sequence(0, 0, ["040c 2f73 616d 706c 652f 7061 7468"])),
        ("c2 3 never indexed", sequence(0, 1, ["1008 7061 7373 776f 7264 0673 6563 7265 74"])),
        ("c2 4 indexed", sequence(0, 0, ["82"])),
        ("c3 requests", sequence(0, 1, requests)),
        ("c4 requests huffman", sequence(0, 1, requests_huffman)),
        ("c3 requests small limits", sequence(0x15, 0x05, requests)),
        ("c5 responses", sequence(0x40, 0x05, [table_256 + h(responses[0].replace(" ", ""))] + responses[1:])),
        ("c6 responses huffman", sequence(0x40, 0x07, [table_256 + h(responses_huffman[0].replace(" ", ""))]
                                          + responses_huffman[1:])),
        ("c6 responses list limit", sequence(0x42, 0x31, [table_256 + h(responses_huffman[0].replace(" ", ""))]
                                             + responses_huffman[1:])),
        ("two size updates", sequence(0, 1, [b"\x20\x3f\xe1\x1f\x82", "3f e1 1f 40 01 61 01 62 be"])),
        ("size update not at start", sequence(0, 0, [b"\x82\x20"])),
        ("size update above limit", sequence(0xC0, 0, [b"\x21"])),
        ("missing size update", sequence(0x80, 0, [b"\x82"])),
        ("index zero", sequence(0, 0, [b"\x80"])),
        ("index past tables", sequence(0, 0, [b"\xbe"])),
        ("integer overflow", sequence(0, 0, [b"\x1f\xff\xff\xff\xff\x0f"])),
        ("integer zero continuations", sequence(0, 0, [b"\x3f\x80\x80\x80\x80\x80\x00"])),
        ("string length huge", sequence(0, 0, [b"\x00\x7f\x80\xff\xff\xff\x0f"])),
        ("huffman eos", sequence(0, 0, [b"\x00\x01\x61\x84\xff\xff\xff\xff"])),
        ("huffman padding too long", sequence(0, 0, [b"\x00\x01\x61\x82\x1f\xff"])),
        ("huffman padding zeros", sequence(0, 0, [b"\x00\x01\x61\x81\x18"])),
        ("truncated string", sequence(0, 0, [b"\x00\x01\x61\x05\x62"])),
        ("too many fields then more", sequence(0x0C, 1, [b"\x82\x84\x86\x40\x01\x78\x01\x31", b"\xbe"])),
        ("entry larger than table", sequence(0x80, 1, [b"\x3f\x21\x40\x02ab\x20" + b"v" * 32 + b"\x82"])),
    ]
    return seeds


HPACK_TOKENS = [
    "\x82", "\x88", "\xbe", "\xbf", "\x40", "\x00", "\x10", "\x0f", "\x1f", "\x3f\xe1\x1f", "\x20", "\x3f\xe1\x01",
    "\x7f", "\xff\xff\xff\xff", "\x80\x80\x80\x80", "\x0f\x10", ":status", ":path", "content-type",
    "text/event-stream", "\x8c\xf1\xe3\xc2\xe5\xf2\x3a\x6b\xa0\xab\x90\xf4\xff",
]


if __name__ == "__main__":
    write("request_head", requests())
    write("response_head", responses())
    write("builders", builders())
    write("chunked_decoder", chunked())
    write("request_body", request_bodies())
    write("sse_tracker", sse())
    write("config", configs())
    write("stamped_id", stamped_ids())
    write("ride_through", ride_through())
    write("hpack", hpack())
    write("h2_frames", h2_frames())
    write("h2_connection", h2_connection())
    write("cgroup_cpu", cgroup_cpu())
    write_dictionary("request_head", HTTP_TOKENS)
    write_dictionary("response_head", HTTP_TOKENS + STATUS_TOKENS)
    write_dictionary("builders", HTTP_TOKENS + STATUS_TOKENS)
    write_dictionary("chunked_decoder", CHUNKED_TOKENS)
    write_dictionary("request_body", CHUNKED_TOKENS + ["GET / HTTP/1.1\r\n", "Host: a\r\n", "\r\n\r\n"])
    write_dictionary("sse_tracker", SSE_TOKENS)
    write_dictionary("config", CONFIG_TOKENS)
    write_dictionary("stamped_id", STAMPED_ID_TOKENS)
    write_dictionary("hpack", HPACK_TOKENS)
    write_dictionary("cgroup_cpu", CGROUP_TOKENS)
    write_dictionary("h2_frames", H2_TOKENS)
    write_dictionary("h2_connection", H2_TOKENS)
    write_dictionary("ride_through", SSE_TOKENS + ["sk1.AAECAwQFBgcICQoLDA0ODw.", "\r\n0\r\n\r\n", "data: x\n\n"])
