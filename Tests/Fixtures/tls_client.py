"""A TLS client for TLSListenerTests: connects to 127.0.0.1:PORT with Python's ssl, sends one HTTP/1.1 request,
and writes what it saw to stdout, flushed as it arrives.

First line: "HANDSHAKE version=V alpn=A subject=CN" or "ERROR reason" (then it exits 2). Then the raw response
bytes until the server closes, --seconds pass, or --until TEXT was seen (then it closes at once, without
close_notify, like a browser tab going away).
"""
import argparse, socket, ssl, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("--cafile")
parser.add_argument("--path", default="/events")
parser.add_argument("--alpn", default="")
parser.add_argument("--tls-version", choices=["1.1", "1.2", "1.3"])
parser.add_argument("--seconds", type=float, default=10)
parser.add_argument("--until")
parser.add_argument("--delay-read", type=float, default=0, help="seconds to wait before reading the response")
parser.add_argument("--summary", action="store_true", help="print a check of a numbered-lines body, not the bytes")
parser.add_argument("--header", action="append", default=[], help="an extra request header line, e.g. 'Last-Event-ID: x'")
args = parser.parse_args()

context = ssl.create_default_context(cafile=args.cafile)
if args.tls_version:
    version = {"1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[args.tls_version]
    if args.tls_version == "1.1":
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = version
    context.maximum_version = version
if args.alpn:
    context.set_alpn_protocols(args.alpn.split(","))
out = sys.stdout.buffer
raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
if args.delay_read:
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)  # a small window, so the server's writes stall
raw.settimeout(args.seconds)
raw.connect(("127.0.0.1", args.port))
try:
    tls = context.wrap_socket(raw, server_hostname="127.0.0.1")
except (ssl.SSLError, OSError) as error:
    out.write(b"ERROR " + str(error).encode() + b"\n")
    out.flush()
    sys.exit(2)
subject = dict(item[0] for item in tls.getpeercert()["subject"]).get("commonName", "")
out.write(("HANDSHAKE version=%s alpn=%s subject=%s\n" % (tls.version(), tls.selected_alpn_protocol(), subject)).encode())
out.flush()
extra = "".join(line + "\r\n" for line in args.header)
tls.sendall(("GET %s HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n%s\r\n" % (args.path, extra)).encode())
time.sleep(args.delay_read)
deadline = time.monotonic() + args.seconds
seen = b""
while time.monotonic() < deadline:
    tls.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        data = tls.recv(65536)
    except socket.timeout:
        break
    except (ssl.SSLError, OSError) as error:
        out.write(b"\nRECV-ERROR " + str(error).encode() + b"\n")
        break
    if not data:
        break
    seen += data
    if args.summary:
        if args.until and args.until.encode() in seen[-len(args.until) - len(data):]:
            break
        continue
    out.write(data)
    out.flush()
    if args.until and args.until.encode() in seen:
        raw.close()
        break
if args.summary:
    # The body must be the lines "0000000\n", "0000001\n", ... in order (what the large-body test sends).
    body = seen.split(b"\r\n\r\n", 1)[-1]
    lines = body.split(b"\n")[:-1]
    ordered = all(line == b"%07d" % index for index, line in enumerate(lines))
    out.write(b"SUMMARY bytes=%d lines=%d ordered=%s\n" % (len(body), len(lines), str(ordered).encode()))
out.flush()
