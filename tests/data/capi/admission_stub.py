#!/usr/bin/env python3
"""TEST HELPER: the webhooks of what cannot run here (cert-manager's webhook, CAPA's webhooks), over HTTPS on
127.0.0.1 (a free port, printed as "PORT <n>"). Every AdmissionReview is allowed unchanged; a ConversionReview
(CAPA's CRDs) gets its objects back with the desired apiVersion (CAPA's served versions share one schema here).
Each request is logged as "REQ <path> <kind> <name>" so tests can see what was asked."""
import argparse
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        try:
            review = json.loads(body or b"{}")
        except ValueError:
            self.send_error(400)
            return
        req = review.get("request") or {}
        if review.get("kind") == "ConversionReview":
            objs = []
            for o in req.get("objects") or []:
                o["apiVersion"] = req.get("desiredAPIVersion", o.get("apiVersion"))
                objs.append(o)
            print("REQ %s ConversionReview %d" % (self.path, len(objs)), flush=True)
            answer = {
                "apiVersion": review.get("apiVersion", "apiextensions.k8s.io/v1"),
                "kind": "ConversionReview",
                "response": {"uid": req.get("uid", ""), "convertedObjects": objs, "result": {"status": "Success"}},
            }
        else:
            kind = (req.get("kind") or {}).get("kind", "")
            print("REQ %s %s %s" % (self.path, kind, req.get("name", "")), flush=True)
            answer = {
                "apiVersion": review.get("apiVersion", "admission.k8s.io/v1"),
                "kind": "AdmissionReview",
                "response": {"uid": req.get("uid", ""), "allowed": True},
            }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--root")  # accepted for LoopbackServer's uniform command line; unused
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
