// Readiness of non-workload kinds and custom resources, from objects as the apiserver writes them.
#include <kurator/core/readiness.hpp>

#include <catch2/catch.hpp>

using kurator::kube::evaluate;
using kurator::kube::format_conditions;
using kurator::kube::Readiness;
using nlohmann::json;

namespace {
json crd(const char* status_json) {
  json c = json::parse(R"json({
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com", "uid": "3d2c1b0a-9f8e-4d7c-6b5a-4f3e2d1c0b9a",
                 "resourceVersion": "702", "generation": 1, "creationTimestamp": "2024-05-02T08:00:00Z"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": true, "storage": true,
                           "schema": {"openAPIV3Schema": {"type": "object"}}}],
             "conversion": {"strategy": "None"}}
  })json");
  c["status"] = json::parse(status_json);
  return c;
}
}  // namespace

TEST_CASE("CRD just created, not established", "[readiness][crd]") {
  auto st =
      evaluate(crd(R"json({"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": ["v1"]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting to be Established");

  st = evaluate(crd(R"json({
    "conditions": [
      {"type": "NamesAccepted", "status": "True", "lastTransitionTime": "2024-05-02T08:00:00Z",
       "reason": "NoConflicts", "message": "no conflicts found"},
      {"type": "Established", "status": "False", "lastTransitionTime": "2024-05-02T08:00:00Z",
       "reason": "Installing", "message": "the initial names have been accepted"}],
    "acceptedNames": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
    "storedVersions": ["v1"]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting to be Established");
}

TEST_CASE("CRD established", "[readiness][crd]") {
  auto st = evaluate(crd(R"json({
    "conditions": [
      {"type": "NamesAccepted", "status": "True", "lastTransitionTime": "2024-05-02T08:00:00Z",
       "reason": "NoConflicts", "message": "no conflicts found"},
      {"type": "Established", "status": "True", "lastTransitionTime": "2024-05-02T08:00:00Z",
       "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}],
    "acceptedNames": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
    "storedVersions": ["v1"]})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "Established");
}

TEST_CASE("CRD whose names conflict has failed", "[readiness][crd]") {
  auto st = evaluate(crd(R"json({
    "conditions": [
      {"type": "NamesAccepted", "status": "False", "lastTransitionTime": "2024-05-02T08:00:00Z",
       "reason": "ListKindConflict", "message": "\"WidgetList\" is already in use"},
      {"type": "Established", "status": "False", "lastTransitionTime": "2024-05-02T08:00:00Z",
       "reason": "NotAccepted", "message": "not all names are accepted"}],
    "acceptedNames": {"plural": "", "kind": ""},
    "storedVersions": ["v1"]})json"));
  CHECK(st.state == Readiness::failed);
  CHECK(st.reason == "names not accepted: ListKindConflict: \"WidgetList\" is already in use");
}

TEST_CASE("APIService unavailable, then available", "[readiness][apiservice]") {
  json svc = json::parse(R"json({
    "apiVersion": "apiregistration.k8s.io/v1",
    "kind": "APIService",
    "metadata": {"name": "v1beta1.metrics.k8s.io", "resourceVersion": "1544", "creationTimestamp": "2024-05-02T08:05:00Z",
                 "labels": {"k8s-app": "metrics-server"}},
    "spec": {"service": {"namespace": "kube-system", "name": "metrics-server", "port": 443},
             "group": "metrics.k8s.io", "version": "v1beta1", "insecureSkipTLSVerify": true,
             "groupPriorityMinimum": 100, "versionPriority": 100},
    "status": {"conditions": [{"type": "Available", "status": "False",
                               "lastTransitionTime": "2024-05-02T08:05:00Z", "reason": "MissingEndpoints",
                               "message": "endpoints for service/metrics-server in \"kube-system\" have no addresses with port name \"https\""}]}
  })json");
  auto st = evaluate(svc);
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason ==
        "unavailable: MissingEndpoints: endpoints for service/metrics-server in \"kube-system\" have no "
        "addresses with "
        "port name \"https\"");

  svc["status"]["conditions"][0] = json::parse(R"json({
    "type": "Available", "status": "False", "lastTransitionTime": "2024-05-02T08:05:30Z",
    "reason": "FailedDiscoveryCheck",
    "message": "failing or missing response from https://10.96.44.12:443/apis/metrics.k8s.io/v1beta1: Get \"https://10.96.44.12:443/apis/metrics.k8s.io/v1beta1\": dial tcp 10.96.44.12:443: connect: connection refused"})json");
  st = evaluate(svc);
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason.rfind("unavailable: FailedDiscoveryCheck: failing or missing response from https://", 0) ==
        0);

  svc["status"]["conditions"][0] = json::parse(R"json({
    "type": "Available", "status": "True", "lastTransitionTime": "2024-05-02T08:06:00Z",
    "reason": "Passed", "message": "all checks passed"})json");
  st = evaluate(svc);
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "Available");
}

namespace {
json service(const char* type, const char* status_json) {
  json s = json::parse(R"json({
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx",
                 "uid": "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5f6e", "resourceVersion": "2311",
                 "creationTimestamp": "2024-05-02T08:10:00Z"},
    "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http", "nodePort": 31080}],
             "selector": {"app.kubernetes.io/name": "ingress-nginx"},
             "clusterIP": "10.96.120.7", "clusterIPs": ["10.96.120.7"], "type": "LoadBalancer",
             "sessionAffinity": "None", "externalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
             "ipFamilyPolicy": "SingleStack", "allocateLoadBalancerNodePorts": true,
             "internalTrafficPolicy": "Cluster"}
  })json");
  s["spec"]["type"] = type;
  s["status"] = json::parse(status_json);
  return s;
}
}  // namespace

TEST_CASE("LoadBalancer Service without an ingress address is waiting", "[readiness][service]") {
  auto st = evaluate(service("LoadBalancer", R"json({"loadBalancer": {}})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for a load balancer address");
}

TEST_CASE("LoadBalancer Service with an ingress is ready", "[readiness][service]") {
  auto st = evaluate(
      service("LoadBalancer",
              R"json({"loadBalancer": {"ingress": [{"ip": "172.18.255.200", "ipMode": "VIP"}]}})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "load balancer 172.18.255.200");

  st = evaluate(service("LoadBalancer", R"json({"loadBalancer": {"ingress": [
    {"hostname": "a1b2c3d4e5f6-1234567890.eu-west-1.elb.amazonaws.com"}]}})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "load balancer a1b2c3d4e5f6-1234567890.eu-west-1.elb.amazonaws.com");
}

TEST_CASE("ClusterIP and NodePort Services are ready once they exist", "[readiness][service]") {
  auto st = evaluate(service("ClusterIP", R"json({"loadBalancer": {}})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "ClusterIP");
  st = evaluate(service("NodePort", R"json({"loadBalancer": {}})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "NodePort");
}

TEST_CASE("PersistentVolumeClaim pending, then bound", "[readiness][pvc]") {
  json pvc = json::parse(R"json({
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "data-db-0", "namespace": "data", "uid": "6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2f1e",
                 "resourceVersion": "90150", "creationTimestamp": "2024-05-02T10:01:01Z",
                 "finalizers": ["kubernetes.io/pvc-protection"],
                 "annotations": {"volume.kubernetes.io/selected-node": "kind-control-plane"}},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
             "storageClassName": "standard", "volumeMode": "Filesystem"},
    "status": {"phase": "Pending"}
  })json");
  auto st = evaluate(pvc);
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "Pending");

  pvc["spec"]["volumeName"] = "pvc-6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2f1e";
  pvc["status"] = json::parse(R"json({"phase": "Bound", "accessModes": ["ReadWriteOnce"],
                                      "capacity": {"storage": "1Gi"}})json");
  st = evaluate(pvc);
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "Bound");

  pvc["status"] = json::parse(R"json({"phase": "Lost", "accessModes": ["ReadWriteOnce"],
                                      "capacity": {"storage": "1Gi"}})json");
  st = evaluate(pvc);
  CHECK(st.state == Readiness::failed);
  CHECK(st.reason == "claim Lost: its volume is gone");
}

TEST_CASE("Namespace active and terminating", "[readiness][namespace]") {
  json ns = json::parse(R"json({
    "apiVersion": "v1", "kind": "Namespace",
    "metadata": {"name": "monitoring", "uid": "2a1b0c9d-8e7f-4a6b-5c4d-3e2f1a0b9c8d", "resourceVersion": "310",
                 "creationTimestamp": "2024-05-02T08:00:00Z", "labels": {"kubernetes.io/metadata.name": "monitoring"}},
    "spec": {"finalizers": ["kubernetes"]},
    "status": {"phase": "Active"}
  })json");
  auto st = evaluate(ns);
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "Active");

  ns["metadata"]["deletionTimestamp"] = "2024-05-02T13:00:00Z";
  ns["status"] = json::parse(R"json({"phase": "Terminating", "conditions": [
    {"type": "NamespaceContentRemaining", "status": "True", "lastTransitionTime": "2024-05-02T13:00:05Z",
     "reason": "SomeResourcesRemain", "message": "Some resources are remaining: pods. has 1 resource instances"}]})json");
  st = evaluate(ns);
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "being deleted");
}

namespace {
// A cert-manager Certificate: conditions carry their own observedGeneration.
json certificate(int generation, const char* status_json) {
  json c = json::parse(R"json({
    "apiVersion": "cert-manager.io/v1",
    "kind": "Certificate",
    "metadata": {"name": "web-tls", "namespace": "default", "uid": "4b3a2918-0f1e-4d2c-b3a4-95867a8b9c0d",
                 "resourceVersion": "61002", "generation": 1, "creationTimestamp": "2024-05-02T14:00:00Z"},
    "spec": {"secretName": "web-tls", "dnsNames": ["web.example.com"],
             "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}}
  })json");
  c["metadata"]["generation"] = generation;
  c["status"] = json::parse(status_json);
  return c;
}
}  // namespace

TEST_CASE("Custom resource Ready=False shows its reason", "[readiness][custom]") {
  auto st = evaluate(certificate(1, R"json({"conditions": [
    {"type": "Ready", "status": "False", "lastTransitionTime": "2024-05-02T14:00:00Z",
     "reason": "DoesNotExist", "message": "Issuing certificate as Secret does not exist", "observedGeneration": 1},
    {"type": "Issuing", "status": "True", "lastTransitionTime": "2024-05-02T14:00:00Z",
     "reason": "DoesNotExist", "message": "Issuing certificate as Secret does not exist", "observedGeneration": 1}]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "DoesNotExist: Issuing certificate as Secret does not exist");
}

TEST_CASE("A Certificate with no status yet is not issued", "[readiness][custom]") {
  auto st = evaluate(certificate(1, "{}"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for cert-manager to issue it");
}

TEST_CASE("Custom resource whose Ready condition is for an older generation", "[readiness][custom]") {
  // Ready=True, but for generation 1; the spec changed (generation 2) and the controller has not caught up.
  auto st = evaluate(certificate(2, R"json({"conditions": [
    {"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-02T14:00:40Z",
     "reason": "Ready", "message": "Certificate is up to date and has not expired", "observedGeneration": 1}],
    "notAfter": "2024-07-31T13:00:39Z", "notBefore": "2024-05-02T13:00:40Z", "renewalTime": "2024-07-01T13:00:39Z",
    "revision": 1})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for generation 2 to be observed (Ready condition is for 1)");

  st = evaluate(certificate(2, R"json({"conditions": [
    {"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-02T14:05:00Z",
     "reason": "Ready", "message": "Certificate is up to date and has not expired", "observedGeneration": 2}],
    "revision": 2})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "Ready");
}

namespace {
// A Flux HelmRelease: status.observedGeneration at the top, kstatus conditions.
json helmrelease(int generation, const char* status_json) {
  json h = json::parse(R"json({
    "apiVersion": "helm.toolkit.fluxcd.io/v2",
    "kind": "HelmRelease",
    "metadata": {"name": "podinfo", "namespace": "apps", "generation": 1, "resourceVersion": "77001",
                 "finalizers": ["finalizers.fluxcd.io"]},
    "spec": {"interval": "10m", "chart": {"spec": {"chart": "podinfo", "version": "6.x",
             "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}}}
  })json");
  h["metadata"]["generation"] = generation;
  h["status"] = json::parse(status_json);
  return h;
}
}  // namespace

TEST_CASE("Custom resource with Ready=False and a stale status.observedGeneration", "[readiness][custom]") {
  const char* status = R"json({
    "observedGeneration": 1,
    "conditions": [
      {"type": "Ready", "status": "False", "observedGeneration": 1, "lastTransitionTime": "2024-05-02T15:00:00Z",
       "reason": "InstallFailed", "message": "Helm install failed for release apps/podinfo with chart podinfo@6.6.2: context deadline exceeded"},
      {"type": "Released", "status": "False", "observedGeneration": 1, "lastTransitionTime": "2024-05-02T15:00:00Z",
       "reason": "InstallFailed", "message": "Helm install failed for release apps/podinfo with chart podinfo@6.6.2: context deadline exceeded"}]})json";
  auto stale = evaluate(helmrelease(2, status));
  CHECK(stale.state == Readiness::in_progress);
  CHECK(stale.reason == "waiting for generation 2 to be observed (observed: 1)");

  auto current = evaluate(helmrelease(1, status));
  CHECK(current.state == Readiness::in_progress);
  CHECK(current.reason ==
        "InstallFailed: Helm install failed for release apps/podinfo with chart podinfo@6.6.2: context "
        "deadline "
        "exceeded");
}

TEST_CASE("Custom resource kstatus conditions: Reconciling and Stalled", "[readiness][custom]") {
  auto st = evaluate(helmrelease(1, R"json({
    "observedGeneration": 1,
    "conditions": [
      {"type": "Reconciling", "status": "True", "observedGeneration": 1, "lastTransitionTime": "2024-05-02T15:00:00Z",
       "reason": "Progressing", "message": "Running 'install' action with timeout of 5m0s"},
      {"type": "Ready", "status": "Unknown", "observedGeneration": 1, "lastTransitionTime": "2024-05-02T15:00:00Z",
       "reason": "Progressing", "message": "Running 'install' action with timeout of 5m0s"}]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "reconciling: Progressing: Running 'install' action with timeout of 5m0s");

  st = evaluate(helmrelease(1, R"json({
    "observedGeneration": 1,
    "conditions": [
      {"type": "Stalled", "status": "True", "observedGeneration": 1, "lastTransitionTime": "2024-05-02T15:10:00Z",
       "reason": "RetriesExceeded", "message": "Failed to install after 1 attempt(s)"},
      {"type": "Ready", "status": "False", "observedGeneration": 1, "lastTransitionTime": "2024-05-02T15:10:00Z",
       "reason": "InstallFailed", "message": "Helm install failed"}]})json"));
  CHECK(st.state == Readiness::failed);
  CHECK(st.reason == "stalled: RetriesExceeded: Failed to install after 1 attempt(s)");

  st = evaluate(helmrelease(1, R"json({
    "observedGeneration": 1,
    "conditions": [
      {"type": "Ready", "status": "True", "observedGeneration": 1, "lastTransitionTime": "2024-05-02T15:10:00Z",
       "reason": "InstallSucceeded", "message": "Helm install succeeded for release apps/podinfo.v1 with chart podinfo@6.6.2"}]})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "Ready: InstallSucceeded");
}

TEST_CASE("Objects without status are ready once they exist", "[readiness][generic]") {
  json cm = json::parse(R"json({"apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "default", "resourceVersion": "100"},
    "data": {"key": "value"}})json");
  auto st = evaluate(cm);
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "exists");

  json sa = json::parse(R"json({"apiVersion": "v1", "kind": "ServiceAccount",
    "metadata": {"name": "web", "namespace": "default", "resourceVersion": "101"}})json");
  st = evaluate(sa);
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "exists");

  st = evaluate(json());
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "not found yet");
}

TEST_CASE("format_conditions renders one condition per line", "[readiness][conditions]") {
  json d = json::parse(R"json({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
    "status": {"conditions": [
      {"type": "Available", "status": "False", "lastUpdateTime": "2024-05-02T09:14:07Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "MinimumReplicasUnavailable",
       "message": "Deployment does not have minimum availability."},
      {"type": "Progressing", "status": "True", "lastUpdateTime": "2024-05-02T09:14:07Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "ReplicaSetUpdated",
       "message": "ReplicaSet \"web-5d8f9b7c6\" is progressing."},
      {"type": "PodScheduled", "status": "True"}]}})json");
  CHECK(format_conditions(d) ==
        "Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.\n"
        "Progressing=True ReplicaSetUpdated: ReplicaSet \"web-5d8f9b7c6\" is progressing.\n"
        "PodScheduled=True");

  json none = json::parse(R"json({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})json");
  CHECK(format_conditions(none).empty());
}

TEST_CASE("readiness: a Prometheus is ready when Reconciled and Available are True for its generation",
          "[unit][kube][readiness]") {
  auto prom = json::parse(R"({"apiVersion":"monitoring.coreos.com/v1","kind":"Prometheus",
    "metadata":{"name":"k","namespace":"monitoring","generation":2},"status":{"conditions":[
      {"type":"Available","status":"True","observedGeneration":2},
      {"type":"Reconciled","status":"True","observedGeneration":2}]}})");
  CHECK(evaluate(prom).ready());
  // No status yet: waiting for the operator.
  auto fresh = prom;
  fresh.erase("status");
  auto st = evaluate(fresh);
  CHECK_FALSE(st.ready());
  CHECK(st.reason == "waiting for the operator to report Reconciled");
  // Conditions for an older generation.
  auto old = prom;
  old["metadata"]["generation"] = 3;
  st = evaluate(old);
  CHECK_FALSE(st.ready());
  CHECK(st.reason == "waiting for generation 3 to be observed (Reconciled is for 2)");
  // Degraded: not ready, with the operator's reason and message.
  auto degraded = prom;
  degraded["status"]["conditions"][0] = {{"type", "Available"}, {"status", "Degraded"}, {"observedGeneration", 2},
                                         {"reason", "SomePodsNotReady"}, {"message", "1/2 pods ready"}};
  st = evaluate(degraded);
  CHECK_FALSE(st.ready());
  CHECK(st.reason == "Available=Degraded SomePodsNotReady: 1/2 pods ready");
}
