// wait_ready against a stand-in apiserver serving a Deployment that cannot become ready (its two pods are
// unschedulable): the timeout follows Deployment -> ReplicaSet -> Pods and says why, the progress line
// names the blocked pod while waiting.
#include <kurator/core/waiter.hpp>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "support/py_server.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using namespace std::chrono_literals;

namespace {

// Discovery, list and watch of Deployments (the watch streams nothing), lists of ReplicaSets, Pods and
// Events, with objects shaped as kube-apiserver v1.35 returns them. Filters on the label selector and
// involvedObject.name as the apiserver would.
const char* kServer = R"py(
import json, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DEP_UID = "7f0d3c4e-1b2a-4c5d-9e8f-0a1b2c3d4e5f"
RS_UID = "3c1f9a2e-8d4b-4e6f-a1c2-5b7d9e0f1a2b"
MSG = ("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes "
       "are available: 2 Preemption is not helpful for scheduling.")
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

deployment = {"metadata": {"name": "stuck", "namespace": "default", "uid": DEP_UID, "generation": 1,
                           "resourceVersion": "700", "creationTimestamp": now,
                           "annotations": {"deployment.kubernetes.io/revision": "1"}},
  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "stuck"}}},
  "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "unavailableReplicas": 2,
    "conditions": [
      {"type": "Available", "status": "False", "lastUpdateTime": now, "lastTransitionTime": now,
       "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."},
      {"type": "Progressing", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
       "reason": "ReplicaSetUpdated", "message": "ReplicaSet \"stuck-6d4b8f9c7\" is progressing."}]}}

def replicaset(name, uid, owner, revision):
    return {"metadata": {"name": name, "namespace": "default", "uid": uid, "creationTimestamp": now,
                         "labels": {"app": "stuck", "pod-template-hash": name.split("-")[-1]},
                         "annotations": {"deployment.kubernetes.io/revision": revision},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "stuck",
                                              "uid": owner, "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "stuck", "pod-template-hash": name.split("-")[-1]}}},
            "status": {"replicas": 2, "fullyLabeledReplicas": 2, "observedGeneration": 1}}

sets = [replicaset("stuck-6d4b8f9c7", RS_UID, DEP_UID, "1"),
        replicaset("stuck-other", "00000000-0000-0000-0000-000000000001", "someone-else", "7")]

def pod(name):
    return {"metadata": {"name": name, "generateName": "stuck-6d4b8f9c7-", "namespace": "default",
                         "uid": "uid-" + name, "generation": 1, "creationTimestamp": now,
                         "labels": {"app": "stuck", "pod-template-hash": "6d4b8f9c7"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "stuck-6d4b8f9c7",
                                              "uid": RS_UID, "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"nodeSelector": {"no-such-node": "true"}, "containers": [{"name": "c", "image": "registry.invalid/c:1"}]},
            "status": {"observedGeneration": 1, "phase": "Pending", "qosClass": "BestEffort",
                       "conditions": [{"observedGeneration": 1, "type": "PodScheduled", "status": "False",
                                       "lastProbeTime": None, "lastTransitionTime": now,
                                       "reason": "Unschedulable", "message": MSG}]}}

pods = [pod("stuck-6d4b8f9c7-k7x2p"), pod("stuck-6d4b8f9c7-q9w4z")]

def event(kind, name, type_, reason, message):
    return {"metadata": {"name": name + ".1", "namespace": "default", "creationTimestamp": now},
            "involvedObject": {"kind": kind, "namespace": "default", "name": name},
            "reason": reason, "message": message, "type": type_, "source": {},
            "firstTimestamp": None, "lastTimestamp": None, "eventTime": now,
            "reportingComponent": "default-scheduler"}

events = [event("Deployment", "stuck", "Normal", "ScalingReplicaSet", "Scaled up replica set stuck-6d4b8f9c7 from 0 to 2")]
events += [event("Pod", p["metadata"]["name"], "Warning", "FailedScheduling", MSG) for p in pods]

def matches(obj, selector):
    labels = obj["metadata"].get("labels", {})
    return all(labels.get(k) == v for k, v in (kv.split("=") for kv in selector.split(",") if kv))

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def send(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def items(self, kind, items):
        return self.send(200, {"kind": kind + "List", "apiVersion": "v1", "metadata": {"resourceVersion": "800"},
                               "items": items})
    def do_GET(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        sel = q.get("labelSelector", "")
        if u.path == "/api/v1":
            return self.send(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "pods", "namespaced": True, "kind": "Pod", "verbs": ["get", "list", "watch"]},
                {"name": "events", "namespaced": True, "kind": "Event", "verbs": ["get", "list", "watch"]}]})
        if u.path == "/apis/apps/v1":
            return self.send(200, {"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
                {"name": "deployments", "namespaced": True, "kind": "Deployment", "verbs": ["get", "list", "watch"]},
                {"name": "replicasets", "namespaced": True, "kind": "ReplicaSet", "verbs": ["get", "list", "watch"]}]})
        if u.path == "/apis/apps/v1/namespaces/default/deployments":
            if "watch" not in q:
                return self.items("Deployment", [deployment])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            time.sleep(30)
            return
        if u.path == "/apis/apps/v1/namespaces/default/replicasets":
            return self.items("ReplicaSet", [s for s in sets if matches(s, sel)])
        if u.path == "/api/v1/namespaces/default/pods":
            return self.items("Pod", [p for p in pods if matches(p, sel)])
        if u.path == "/api/v1/namespaces/default/events":
            f = dict(kv.split("=", 1) for kv in q.get("fieldSelector", "").split(",") if kv)
            return self.items("Event", [e for e in events
                                        if e["involvedObject"]["name"] == f.get("involvedObject.name")
                                        and e["involvedObject"]["kind"] == f.get("involvedObject.kind")])
        return self.send(404, {"kind": "Status", "code": 404, "message": "not found"})

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print("PORT %d" % srv.server_address[1], flush=True)
srv.serve_forever()
)py";

}  // namespace

TEST_CASE("wait: a timed-out Deployment shows its unschedulable pods and their events", "[waiter][pods]") {
  test::TempDir dir;
  auto script = dir.path() / "stuck_deployment.py";
  std::ofstream(script) << kServer;
  test::PyServer srv(script);
  kubeconfig::RestConfig cfg;
  cfg.server = srv.url();
  http::Client http;
  kube::Client c(cfg, &http);

  std::ostringstream progress;
  kube::WaitOptions wo;
  wo.timeout = 4s;  // long enough for the progress line to look at the pods once
  wo.progress = &progress;
  kube::WaitTarget t{"apps/v1", "Deployment", "default", "stuck"};
  auto st = kube::wait_ready(c, {t}, wo);
  std::string out = progress.str();
  INFO(out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().exit == ExitCode::timeout);
  CHECK(st.error().message ==
        "timed out after 4s waiting for Deployment/default/stuck: 0/2 replicas ready (2 pods PodScheduled=False "
        "Unschedulable)");

  // While waiting: the progress line says which pod is blocked and why.
  CHECK(out.find("waiting  0/2 replicas ready; pod stuck-6d4b8f9c7-k7x2p: Pending, PodScheduled=False "
                 "Unschedulable: 0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.") !=
        std::string::npos);
  // On timeout: the Deployment's own conditions and events, then its newest ReplicaSet's pods, one per
  // reason, with the scheduler's event.
  auto at = out.find("Deployment/default/stuck: 0/2 replicas ready\n");
  REQUIRE(at != std::string::npos);
  std::string diag = out.substr(at);
  CHECK(diag.find("    Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.\n") !=
        std::string::npos);
  CHECK(diag.find("    Normal  ScalingReplicaSet  Scaled up replica set stuck-6d4b8f9c7 from 0 to 2") !=
        std::string::npos);
  CHECK(diag.find("  pods of ReplicaSet/stuck-6d4b8f9c7 (0/2 ready):\n"
                  "    pod stuck-6d4b8f9c7-k7x2p: Pending, PodScheduled=False Unschedulable: 0/2 nodes are "
                  "available: 2 node(s) didn't match Pod's node affinity/selector.") != std::string::npos);
  CHECK(diag.find("      Warning  FailedScheduling  0/2 nodes are available: 2 node(s) didn't match Pod's node "
                  "affinity/selector.") != std::string::npos);
  CHECK(diag.find("    1 more pod: same reason\n") != std::string::npos);
  CHECK(diag.find("stuck-other") == std::string::npos);  // not owned by this Deployment
  CHECK(diag.find("q9w4z") == std::string::npos);         // deduplicated
}
