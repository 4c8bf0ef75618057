#!/usr/bin/env python3
"""A loopback HTTP(S) server that misbehaves on purpose, for the HTTP client's retry and error tests.

Usage: apiserver_double.py [--tls CERT KEY]. Prints "PORT <n>" once listening on 127.0.0.1.
Paths (the query string's key=K separates counters):
  /ok                  200 "hello"
  /status/N            answers HTTP N once, with a Kubernetes Status body
  /fail/N/M            the first M requests answer HTTP N (Retry-After: 0), then 200 "recovered"
  /retry-after/S       first request 429 with Retry-After: S, then 200
  /reset/M             the first M requests close the connection without an answer, then 200
  /slow/S              sleeps S seconds before answering
  /count               200, body = number of requests seen for this key so far (excluding this one)
  /watch-gone          a watch stream with one ERROR event, code 410
  /stream/N            N newline-separated JSON watch events, 50 ms apart
"""
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

counts = {}
lock = threading.Lock()


def bump(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="text/plain", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def status_body(self, code, msg):
        return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": msg, "code": code})

    def handle_any(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        key = q.get("key", [""])[0]
        parts = [p for p in u.path.split("/") if p]
        length = int(self.headers.get("Content-Length", "0") or 0)
        if length:
            self.rfile.read(length)
        n = bump((u.path, key))
        if parts == ["ok"]:
            return self.send(200, "hello")
        if parts[:1] == ["status"]:
            code = int(parts[1])
            return self.send(code, self.status_body(code, "status %d as asked" % code), "application/json")
        if parts[:1] == ["fail"]:
            code, m = int(parts[1]), int(parts[2])
            if n <= m:
                return self.send(code, self.status_body(code, "failing on purpose"), "application/json", {"Retry-After": "0"})
            return self.send(200, "recovered")
        if parts[:1] == ["retry-after"]:
            if n == 1:
                return self.send(429, self.status_body(429, "slow down"), "application/json", {"Retry-After": parts[1]})
            return self.send(200, "recovered")
        if parts[:1] == ["reset"]:
            if n <= int(parts[1]):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.connection.close()
                self.close_connection = True
                return
            return self.send(200, "recovered")
        if parts[:1] == ["slow"]:
            time.sleep(float(parts[1]))
            return self.send(200, "late")
        if parts == ["count"]:
            with lock:
                c = sum(v for (p, k), v in counts.items() if k == key and p != "/count")
            return self.send(200, str(c))
        if parts == ["watch-gone"]:
            ev = json.dumps({"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired",
                                                         "message": "too old resource version"}}) + "\n"
            return self.send(200, ev, "application/json")
        if parts[:1] == ["stream"]:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(int(parts[1])):
                line = (json.dumps({"type": "ADDED", "object": {"metadata": {"name": "o%d" % i}}}) + "\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
            return
        return self.send(404, self.status_body(404, "no such path"), "application/json")

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
