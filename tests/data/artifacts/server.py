#!/usr/bin/env python3
"""Loopback HTTP(S) server for kurator's artifact tests. Binds 127.0.0.1 on a free port, prints
"PORT <n>" on stdout, then one "REQ <method> <path> range=<Range>" line per request.

Routes (GET and HEAD):
  /redirect/<p>        302 to /<p>
  /status/<code>/<p>   answers <code>
  /flaky/<n>/<p>       the first <n> requests for <p> answer 500, then /<p>
  /reset/<p>           the first request sends half of <p> then resets the connection; later ones serve
                       /<p> (with Range)
  /slow/<p>            sends the headers, then one byte per second
  /delay/<ms>/<p>      waits <ms> before serving /<p>
  /norange/<p>         serves /<p> ignoring Range
  /<p>                 the file <root>/<p>, honouring Range (206)
"""
import argparse
import os
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}
lock = threading.Lock()


def count(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, fmt, *args):
        pass

    def do_HEAD(self):
        self.handle_any(head=True)

    def do_GET(self):
        self.handle_any(head=False)

    def handle_any(self, head):
        rng = self.headers.get("Range", "")
        print(f"REQ {self.command} {self.path} range={rng}", flush=True)
        path = self.path.split("?", 1)[0]
        parts = path.lstrip("/").split("/")
        route = parts[0]
        if route == "redirect":
            return self.answer(302, b"", {"Location": "/" + "/".join(parts[1:])})
        if route == "status":
            return self.answer(int(parts[1]), b"status\n")
        if route == "flaky":
            n = int(parts[1])
            rest = "/".join(parts[2:])
            if count("flaky/" + rest) <= n:
                return self.answer(500, b"try again\n")
            return self.serve(rest, head, rng)
        if route == "reset":
            rest = "/".join(parts[1:])
            if count("reset/" + rest) == 1:
                data = self.read(rest)
                if data is None:
                    return self.answer(404, b"not found\n")
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            return self.serve(rest, head, rng)
        if route == "slow":
            data = self.read("/".join(parts[1:])) or b"x" * 100
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for i in range(len(data)):
                try:
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(1)
            return
        if route == "delay":
            time.sleep(int(parts[1]) / 1000.0)
            return self.serve("/".join(parts[2:]), head, rng)
        if route == "norange":
            return self.serve("/".join(parts[1:]), head, "")
        return self.serve("/".join(parts), head, rng)

    def read(self, rel):
        # Lexical check (the fixture mirror links in other folders on purpose).
        full = os.path.normpath(os.path.join(os.path.abspath(self.root), rel))
        if not full.startswith(os.path.abspath(self.root) + os.sep) or not os.path.isfile(full):
            return None
        with open(full, "rb") as f:
            return f.read()

    def serve(self, rel, head, rng):
        data = self.read(rel)
        if data is None:
            return self.answer(404, b"not found\n")
        if rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                return self.answer(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            body = data[start:]
            return self.answer(206, body, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}, head)
        return self.answer(200, data, {}, head)

    def answer(self, code, body, headers=None, head=False):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=".")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    Handler.root = args.root
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(f"PORT {srv.server_address[1]}", flush=True)
    # Stop when the test (our parent) is gone.
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
