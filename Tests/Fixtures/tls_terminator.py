#!/usr/bin/env python3
"""A TLS-terminating test intermediary on 127.0.0.1 (TEST ONLY): accepts TLS with the test server certificate,
relays plaintext to 127.0.0.1:TARGET, and, with --idle-close SECONDS, closes a connection that has been idle that
long (TLS close_notify, then FIN), like a load balancer's idle timeout; with --idle-drop SECONDS it stops relaying
instead and keeps the sockets open (a silent drop, like a NAT forgetting the connection); with --max-age SECONDS
it closes every connection that long after accepting it, busy or not (a limit on a request's total time, like
Envoy's route timeout). Prints its port on the first line.

Usage: tls_terminator.py TARGET_PORT CERT KEY [--idle-close SECONDS | --idle-drop SECONDS | --max-age SECONDS]
"""
import select
import socket
import ssl
import sys
import threading
import time


def relay(client, target_port, idle, mode):
    try:
        client.do_handshake()
    except (ssl.SSLError, OSError):
        client.close()
        return
    upstream = socket.create_connection(("127.0.0.1", target_port))
    # Without TCP_NODELAY a small record after another waits for a delayed ACK (40 ms), skewing the measurement.
    for sock in (client, upstream):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    born = last = time.monotonic()
    try:
        while True:
            since = born if mode == "--max-age" else last
            wait = 0.1 if idle is None else max(0.001, min(0.1, idle - (time.monotonic() - since)))
            if idle is not None and time.monotonic() - since >= idle:
                if mode == "--idle-drop":
                    while True:  # forget the connection; the sockets stay open until the process ends
                        time.sleep(3600)
                try:
                    client.unwrap()  # close_notify
                except (ssl.SSLError, OSError):
                    pass
                return
            # Bytes already decrypted inside the SSL object do not make the socket readable.
            readable = [client] if client.pending() else select.select([client, upstream], [], [], wait)[0]
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except ssl.SSLWantReadError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)
                last = time.monotonic()
    finally:
        upstream.close()
        client.close()


def main():
    target_port = int(sys.argv[1])
    cert, key = sys.argv[2], sys.argv[3]
    mode = sys.argv[4] if len(sys.argv) > 5 else None
    idle = float(sys.argv[5]) if mode in ("--idle-close", "--idle-drop", "--max-age") else None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    while True:
        raw, _ = listener.accept()
        client = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=relay, args=(client, target_port, idle, mode), daemon=True).start()


if __name__ == "__main__":
    main()
