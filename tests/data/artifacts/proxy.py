#!/usr/bin/env python3
"""A tiny forwarding HTTP proxy on 127.0.0.1 for kurator's proxy tests: prints "PORT <n>", then
"PROXY <method> <absolute URL>" per request, and forwards plain-HTTP requests to loopback targets only."""
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        print(f"PROXY {self.command} {self.path}", flush=True)
        host = urllib.parse.urlsplit(self.path).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            return self.reply(403, {}, b"loopback targets only\n")
        req = urllib.request.Request(self.path, method=self.command)
        if self.headers.get("Range"):
            req.add_header("Range", self.headers["Range"])
        try:
            with opener.open(req, timeout=30) as r:
                self.reply(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            self.reply(e.code, dict(e.headers), e.read())

    def reply(self, code, headers, body):
        self.send_response(code)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    srv.daemon_threads = True
    print(f"PORT {srv.server_address[1]}", flush=True)
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
