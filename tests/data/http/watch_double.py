#!/usr/bin/env python3
"""A tiny stand-in for kube-apiserver's discovery, list and watch of ConfigMaps, for the watch tests:
the first watch answers 410 Gone (as an ERROR event), which must make the client list again; the
second list has resourceVersion 5, and a watch from 5 streams one MODIFIED event then ends.
Prints "PORT <n>"; GET /calls returns the request log (one path per line)."""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

calls = []
lists = [0]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, obj):
        data = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path == "/calls":
            return self.send(200, "\n".join(calls))
        calls.append(self.path)
        if u.path == "/api/v1":
            return self.send(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "configmaps", "namespaced": True, "kind": "ConfigMap", "verbs": ["get", "list", "watch"]}]})
        if u.path == "/api/v1/namespaces/default/configmaps":
            if "watch" not in q:
                lists[0] += 1
                rv = "1" if lists[0] == 1 else "5"
                return self.send(200, {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": rv},
                                       "items": [{"metadata": {"name": "a", "namespace": "default", "resourceVersion": rv}}]})
            rv = q.get("resourceVersion", [""])[0]
            if rv == "1":
                ev = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}}
                return self.send(200, json.dumps(ev) + "\n")
            ev = {"type": "MODIFIED", "object": {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "a", "namespace": "default", "resourceVersion": "6"}, "data": {"k": "v"}}}
            return self.send(200, json.dumps(ev) + "\n")
        return self.send(404, {"kind": "Status", "code": 404, "message": "not found"})


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print("PORT %d" % srv.server_address[1], flush=True)
srv.serve_forever()
