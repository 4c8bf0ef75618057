#!/usr/bin/env python3
"""An in-memory stand-in for a kube-apiserver, for the fleet layer's unit tests (the e2e tests use real
ones). Enough of the API for kurator's client: /version, discovery of the kinds below, GET/LIST of
objects, server-side apply (PATCH application/apply-patch+yaml: stores the object; the resourceVersion
and the applier's managedFields entry move only when the applied content changes, as on a real apiserver), DELETE. No watches, no controllers
(CRDs are stored Established).

Usage: memory_apiserver.py [--seed FILE.json]   prints "PORT <n>" once listening on 127.0.0.1
  --seed   a JSON list of objects stored at start (e.g. Karmada Cluster objects and their Secrets)
Test-only paths:
  GET /_log       JSON list of "METHOD /path" of every request so far (except /_log)
  GET /_objects   JSON list of every stored object
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

# group/version -> [(plural, kind, namespaced)]
KINDS = {
    "v1": [("namespaces", "Namespace", False), ("serviceaccounts", "ServiceAccount", True),
           ("configmaps", "ConfigMap", True), ("secrets", "Secret", True), ("services", "Service", True)],
    "apps/v1": [("deployments", "Deployment", True)],
    "batch/v1": [("jobs", "Job", True)],
    "rbac.authorization.k8s.io/v1": [("clusterroles", "ClusterRole", False),
                                     ("clusterrolebindings", "ClusterRoleBinding", False),
                                     ("roles", "Role", True), ("rolebindings", "RoleBinding", True)],
    "apiextensions.k8s.io/v1": [("customresourcedefinitions", "CustomResourceDefinition", False)],
    "admissionregistration.k8s.io/v1": [
        ("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False),
        ("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", False)],
    "cluster.karmada.io/v1alpha1": [("clusters", "Cluster", False)],
    "policy.karmada.io/v1alpha1": [("propagationpolicies", "PropagationPolicy", True),
                                   ("clusterpropagationpolicies", "ClusterPropagationPolicy", False),
                                   ("overridepolicies", "OverridePolicy", True),
                                   ("clusteroverridepolicies", "ClusterOverridePolicy", False)],
    "work.karmada.io/v1alpha2": [("resourcebindings", "ResourceBinding", True),
                                 ("clusterresourcebindings", "ClusterResourceBinding", False)],
}
PLURAL = {}  # (gv, plural) -> (kind, namespaced)
KIND = {}    # (gv, kind) -> (plural, namespaced)
for gv, rs in KINDS.items():
    for plural, kind, namespaced in rs:
        PLURAL[(gv, plural)] = (kind, namespaced)
        KIND[(gv, kind)] = (plural, namespaced)

lock = threading.Lock()
store = {}   # (gv, plural, ns, name) -> object
applied = {}  # same key -> the applied configuration (to tell a no-op apply)
log = []
rv = [100]


def next_rv():
    rv[0] += 1
    return str(rv[0])


def put(obj):
    gv, kind = obj["apiVersion"], obj["kind"]
    plural, namespaced = KIND[(gv, kind)]
    md = obj.setdefault("metadata", {})
    ns = md.get("namespace", "") if namespaced else ""
    md["resourceVersion"] = next_rv()
    md.setdefault("uid", "uid-" + md["resourceVersion"])
    if kind == "CustomResourceDefinition":  # no controllers here: CRDs are Established at once
        obj["status"] = {"conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}]}
    store[(gv, plural, ns, md["name"])] = obj


def status(code, reason, msg):
    return code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": msg,
                  "code": code}


def parse(path):
    """-> (gv, plural, ns, name) or None; name/ns may be ''."""
    p = [x for x in path.split("/") if x]
    if p[:1] == ["api"]:
        gv, rest = p[1], p[2:]
    elif p[:1] == ["apis"] and len(p) >= 3:
        gv, rest = p[1] + "/" + p[2], p[3:]
    else:
        return None
    ns = ""
    if len(rest) > 2 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if not rest:
        return (gv, None, ns, "")
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    return (gv, plural, ns, name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        u = urlparse(self.path)
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else b""
        if u.path == "/_log":
            with lock:
                return self.reply(200, list(log))
        if u.path == "/_objects":
            with lock:
                return self.reply(200, list(store.values()))
        with lock:
            log.append(self.command + " " + u.path)
            code, out = self.answer(self.command, u.path, body)
        self.reply(code, out)

    def answer(self, method, path, body):
        if path == "/version":
            return 200, {"major": "1", "minor": "35", "gitVersion": "v1.35.4-memory"}
        t = parse(path)
        if t is None:
            return status(404, "NotFound", "the server could not find the requested resource")
        gv, plural, ns, name = t
        if gv not in KINDS:
            return status(404, "NotFound", "the server could not find the requested resource")
        if plural is None:
            return 200, {"kind": "APIResourceList", "groupVersion": gv,
                         "resources": [{"name": p, "kind": k, "namespaced": n,
                                        "verbs": ["get", "list", "watch", "create", "patch", "delete"]}
                                       for p, k, n in KINDS[gv]]}
        if (gv, plural) not in PLURAL:
            return status(404, "NotFound", "no resource " + plural)
        kind, namespaced = PLURAL[(gv, plural)]
        key = (gv, plural, ns if namespaced else "", name)
        if method == "GET" and not name:
            items = [o for k, o in store.items() if k[0] == gv and k[1] == plural and (not ns or k[2] == ns)]
            return 200, {"kind": kind + "List", "apiVersion": gv, "metadata": {"resourceVersion": str(rv[0])},
                         "items": items}
        if method == "GET":
            if key not in store:
                return status(404, "NotFound", '%s "%s" not found' % (plural, name))
            return 200, store[key]
        if method == "PATCH":
            obj = json.loads(body)
            if applied.get(key) == obj and key in store:
                return 200, store[key]
            stored = json.loads(body)
            md = stored.setdefault("metadata", {})
            if key in store:
                md["uid"] = store[key]["metadata"]["uid"]
            if namespaced:
                md["namespace"] = ns
            put(stored)
            # kurator's apply entry, rewritten with every write of the applier (as a real apiserver does)
            md["managedFields"] = [{"manager": "kurator", "operation": "Apply", "time": "rv-" + md["resourceVersion"],
                                    "fieldsV1": {}}]
            applied[key] = obj
            return 200, stored
        if method == "DELETE":
            if key not in store:
                return status(404, "NotFound", '%s "%s" not found' % (plural, name))
            del store[key]
            applied.pop(key, None)
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
        return status(405, "MethodNotAllowed", method + " is not supported here")

    do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = handle_any


def main():
    args = sys.argv[1:]
    if args[:1] == ["--seed"]:
        for obj in json.load(open(args[1])):
            put(obj)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
