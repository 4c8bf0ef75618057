// Why pods are not ready, from pods as kube-apiserver v1.35 returns them (status written by the
// scheduler and the kubelet), and the bounded, deduplicated lines the waiter prints on timeout.
#include <kurator/core/pod_diagnosis.hpp>

#include <catch2/catch.hpp>
#include <chrono>

using namespace kurator::kube;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* kRsUid = "3c1f9a2e-8d4b-4e6f-a1c2-5b7d9e0f1a2b";

// A pod of ReplicaSet web-5f7b9c6d8 as the apiserver returns it, with the given status.
json pod(const std::string& name, const char* status_json, const char* created = "2026-01-15T10:02:11Z") {
  json p = json::parse(R"json({
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
      "name": "web-5f7b9c6d8-x2x4q",
      "generateName": "web-5f7b9c6d8-",
      "namespace": "default",
      "uid": "9b2e4f61-0c3d-4a5b-8e7f-1a2b3c4d5e6f",
      "resourceVersion": "1873",
      "generation": 1,
      "creationTimestamp": "2026-01-15T10:02:11Z",
      "labels": {"app": "web", "pod-template-hash": "5f7b9c6d8"},
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5f7b9c6d8",
                           "uid": "3c1f9a2e-8d4b-4e6f-a1c2-5b7d9e0f1a2b", "controller": true,
                           "blockOwnerDeletion": true}]
    },
    "spec": {
      "containers": [{"name": "web", "image": "registry.example.com/web:1.4.2", "resources": {},
                      "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                      "imagePullPolicy": "IfNotPresent"}],
      "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
      "serviceAccountName": "default", "serviceAccount": "default", "securityContext": {},
      "schedulerName": "default-scheduler",
      "tolerations": [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
      "priority": 0, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority"
    }
  })json");
  p["metadata"]["name"] = name;
  p["metadata"]["creationTimestamp"] = created;
  p["status"] = json::parse(status_json);
  return p;
}

const char* kUnschedulable = R"json({
  "observedGeneration": 1,
  "phase": "Pending",
  "conditions": [{"observedGeneration": 1, "type": "PodScheduled", "status": "False", "lastProbeTime": null,
                  "lastTransitionTime": "2026-01-15T10:02:11Z", "reason": "Unschedulable",
                  "message": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."}],
  "qosClass": "BestEffort"
})json";

const char* kImagePullBackOff = R"json({
  "observedGeneration": 1,
  "phase": "Pending",
  "conditions": [
    {"observedGeneration": 1, "type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:13Z"},
    {"observedGeneration": 1, "type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"},
    {"observedGeneration": 1, "type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z", "reason": "ContainersNotReady", "message": "containers with unready status: [web]"},
    {"observedGeneration": 1, "type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z", "reason": "ContainersNotReady", "message": "containers with unready status: [web]"},
    {"observedGeneration": 1, "type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"}],
  "hostIP": "172.18.0.3", "hostIPs": [{"ip": "172.18.0.3"}],
  "podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}],
  "startTime": "2026-01-15T10:02:11Z",
  "containerStatuses": [{
    "name": "web",
    "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"registry.example.com/web:1.4.2\": ErrImagePull: failed to pull and unpack image \"registry.example.com/web:1.4.2\": failed to resolve reference \"registry.example.com/web:1.4.2\": registry.example.com/web:1.4.2: not found"}},
    "lastState": {}, "ready": false, "restartCount": 0,
    "image": "registry.example.com/web:1.4.2", "imageID": "", "started": false,
    "volumeMounts": [{"name": "kube-api-access-8qz2m", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true, "recursiveReadOnly": "Disabled"}]
  }],
  "qosClass": "BestEffort"
})json";

const char* kCrashLoop = R"json({
  "observedGeneration": 1,
  "phase": "Running",
  "conditions": [
    {"observedGeneration": 1, "type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:13Z"},
    {"observedGeneration": 1, "type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"},
    {"observedGeneration": 1, "type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:40Z", "reason": "ContainersNotReady", "message": "containers with unready status: [web]"},
    {"observedGeneration": 1, "type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:40Z", "reason": "ContainersNotReady", "message": "containers with unready status: [web]"},
    {"observedGeneration": 1, "type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"}],
  "hostIP": "172.18.0.3", "hostIPs": [{"ip": "172.18.0.3"}],
  "podIP": "10.244.1.8", "podIPs": [{"ip": "10.244.1.8"}],
  "startTime": "2026-01-15T10:02:11Z",
  "containerStatuses": [{
    "name": "web",
    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container=web pod=web-5f7b9c6d8-x2x4q_default(9b2e4f61-0c3d-4a5b-8e7f-1a2b3c4d5e6f)"}},
    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2026-01-15T10:03:02Z", "finishedAt": "2026-01-15T10:03:02Z", "containerID": "containerd://4f1c2b3a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"}},
    "ready": false, "restartCount": 3,
    "image": "registry.example.com/web:1.4.2", "imageID": "registry.example.com/web@sha256:0f9e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a",
    "containerID": "containerd://4f1c2b3a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70", "started": false,
    "resources": {},
    "volumeMounts": [{"name": "kube-api-access-8qz2m", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true, "recursiveReadOnly": "Disabled"}],
    "user": {"linux": {"uid": 0, "gid": 0, "supplementalGroups": [0]}},
    "allocatedResources": {}, "stopSignal": "SIGTERM"
  }],
  "qosClass": "BestEffort"
})json";

const char* kConfigError = R"json({
  "observedGeneration": 1,
  "phase": "Pending",
  "conditions": [
    {"observedGeneration": 1, "type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:13Z"},
    {"observedGeneration": 1, "type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"},
    {"observedGeneration": 1, "type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z", "reason": "ContainersNotReady", "message": "containers with unready status: [web]"},
    {"observedGeneration": 1, "type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z", "reason": "ContainersNotReady", "message": "containers with unready status: [web]"},
    {"observedGeneration": 1, "type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"}],
  "hostIP": "172.18.0.2", "hostIPs": [{"ip": "172.18.0.2"}],
  "podIP": "10.244.0.12", "podIPs": [{"ip": "10.244.0.12"}],
  "startTime": "2026-01-15T10:02:11Z",
  "containerStatuses": [{
    "name": "web",
    "state": {"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"db-pass\" not found"}},
    "lastState": {}, "ready": false, "restartCount": 0,
    "image": "registry.example.com/web:1.4.2", "imageID": "", "started": false,
    "volumeMounts": [{"name": "kube-api-access-8qz2m", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true, "recursiveReadOnly": "Disabled"}]
  }],
  "qosClass": "BestEffort"
})json";

const char* kRunningReady = R"json({
  "observedGeneration": 1,
  "phase": "Running",
  "conditions": [
    {"observedGeneration": 1, "type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:13Z"},
    {"observedGeneration": 1, "type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"},
    {"observedGeneration": 1, "type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:14Z"},
    {"observedGeneration": 1, "type": "ContainersReady", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:14Z"},
    {"observedGeneration": 1, "type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"}],
  "hostIP": "172.18.0.2", "hostIPs": [{"ip": "172.18.0.2"}],
  "podIP": "10.244.0.9", "podIPs": [{"ip": "10.244.0.9"}],
  "startTime": "2026-01-15T10:02:11Z",
  "containerStatuses": [{
    "name": "web",
    "state": {"running": {"startedAt": "2026-01-15T10:02:13Z"}},
    "lastState": {}, "ready": true, "restartCount": 0,
    "image": "registry.example.com/web:1.4.2", "imageID": "registry.example.com/web@sha256:0f9e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a",
    "containerID": "containerd://8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b", "started": true,
    "volumeMounts": [{"name": "kube-api-access-8qz2m", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true, "recursiveReadOnly": "Disabled"}]
  }],
  "qosClass": "BestEffort"
})json";

const char* kContainerCreating = R"json({
  "observedGeneration": 1,
  "phase": "Pending",
  "conditions": [
    {"observedGeneration": 1, "type": "PodReadyToStartContainers", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"},
    {"observedGeneration": 1, "type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"},
    {"observedGeneration": 1, "type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z", "reason": "ContainersNotReady", "message": "containers with unready status: [web]"},
    {"observedGeneration": 1, "type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z", "reason": "ContainersNotReady", "message": "containers with unready status: [web]"},
    {"observedGeneration": 1, "type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-15T10:02:11Z"}],
  "hostIP": "172.18.0.2", "hostIPs": [{"ip": "172.18.0.2"}],
  "startTime": "2026-01-15T10:02:11Z",
  "containerStatuses": [{
    "name": "web", "state": {"waiting": {"reason": "ContainerCreating"}},
    "lastState": {}, "ready": false, "restartCount": 0,
    "image": "registry.example.com/web:1.4.2", "imageID": "", "started": false
  }],
  "qosClass": "BestEffort"
})json";

// A FailedScheduling event as the scheduler writes it (events.k8s.io/v1, read through core/v1).
json failed_scheduling_event(const std::string& pod_name) {
  json ev = json::parse(R"json({
    "kind": "Event", "apiVersion": "v1",
    "metadata": {"name": "web-5f7b9c6d8-x2x4q.188a3c2f4b1e7d90", "namespace": "default",
                 "uid": "51c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e", "resourceVersion": "1880",
                 "creationTimestamp": "2026-01-15T10:02:11Z"},
    "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-5f7b9c6d8-x2x4q",
                       "uid": "9b2e4f61-0c3d-4a5b-8e7f-1a2b3c4d5e6f", "apiVersion": "v1", "resourceVersion": "1873"},
    "reason": "FailedScheduling",
    "message": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    "source": {}, "firstTimestamp": null, "lastTimestamp": null,
    "type": "Warning", "eventTime": "2026-01-15T10:02:11.482913Z",
    "series": {"count": 2, "lastObservedTime": "2026-01-15T10:07:20.101122Z"},
    "action": "Scheduling", "reportingComponent": "default-scheduler", "reportingInstance": "default-scheduler-h1"
  })json");
  ev["involvedObject"]["name"] = pod_name;
  return ev;
}

std::chrono::system_clock::time_point at(int h, int m, int s) {
  using namespace std::chrono;
  return sys_days{year{2026} / January / 15} + hours(h) + minutes(m) + seconds(s);
}

}  // namespace

TEST_CASE("an unschedulable pod: PodScheduled=False with the scheduler's message", "[pods]") {
  auto d = diagnose_pod(pod("web-5f7b9c6d8-x2x4q", kUnschedulable));
  REQUIRE(d);
  CHECK(d->name == "web-5f7b9c6d8-x2x4q");
  CHECK(d->phase == "Pending");
  CHECK(d->key == "PodScheduled=False Unschedulable");
  CHECK(d->summary ==
        "Pending, PodScheduled=False Unschedulable: 0/2 nodes are available: 2 node(s) didn't match Pod's "
        "node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for "
        "scheduling.");
  CHECK(d->blocking);
}

TEST_CASE("ImagePullBackOff names the image and the registry's answer", "[pods]") {
  auto d = diagnose_pod(pod("web-5f7b9c6d8-x2x4q", kImagePullBackOff));
  REQUIRE(d);
  CHECK(d->key == "container web: ImagePullBackOff");
  CHECK(d->summary ==
        "Pending, container web: ImagePullBackOff: Back-off pulling image \"registry.example.com/web:1.4.2\": "
        "ErrImagePull: failed to pull and unpack image \"registry.example.com/web:1.4.2\": failed to resolve "
        "reference \"registry.example.com/web:1.4.2\": registry.example.com/web:1.4.2: not found");
  CHECK(d->blocking);
}

TEST_CASE("CrashLoopBackOff gives the last exit code and the restarts, not the back-off text", "[pods]") {
  auto d = diagnose_pod(pod("web-5f7b9c6d8-x2x4q", kCrashLoop));
  REQUIRE(d);
  CHECK(d->phase == "Running");
  CHECK(d->key == "container web: CrashLoopBackOff");
  CHECK(d->summary == "Running, container web: CrashLoopBackOff (last exit code 1: Error, 3 restarts)");
  CHECK(d->blocking);
}

TEST_CASE("CreateContainerConfigError names the missing Secret", "[pods]") {
  auto d = diagnose_pod(pod("web-5f7b9c6d8-x2x4q", kConfigError));
  REQUIRE(d);
  CHECK(d->key == "container web: CreateContainerConfigError");
  CHECK(d->summary == "Pending, container web: CreateContainerConfigError: secret \"db-pass\" not found");
  CHECK(d->blocking);
}

TEST_CASE("a Running and Ready pod, or a Succeeded one, needs no diagnosis", "[pods]") {
  CHECK_FALSE(diagnose_pod(pod("web-5f7b9c6d8-x2x4q", kRunningReady)));
  CHECK_FALSE(diagnose_pod(pod("migrate-7kq2p", R"json({"phase": "Succeeded", "conditions": [
    {"type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": "2026-01-15T10:03:00Z"}]})json")));
  CHECK_FALSE(diagnose_pod(json()));
}

TEST_CASE("a container still being created is reported but does not block", "[pods]") {
  auto d = diagnose_pod(pod("web-5f7b9c6d8-x2x4q", kContainerCreating));
  REQUIRE(d);
  CHECK(d->summary == "Pending, container web: ContainerCreating");
  CHECK_FALSE(d->blocking);
}

TEST_CASE("a running pod failing its readiness probe shows the Ready conditions", "[pods]") {
  json p = pod("web-5f7b9c6d8-x2x4q", kRunningReady);
  for (auto& c : p["status"]["conditions"]) {
    if (c["type"] == "Ready" || c["type"] == "ContainersReady") {
      c["status"] = "False";
      c["reason"] = "ContainersNotReady";
      c["message"] = "containers with unready status: [web]";
    }
  }
  p["status"]["containerStatuses"][0]["ready"] = false;
  auto d = diagnose_pod(p);
  REQUIRE(d);
  CHECK(d->summary == "Running, ContainersReady=False ContainersNotReady: containers with unready status: [web]");
  CHECK_FALSE(d->blocking);
}

TEST_CASE("a crash-looping init container comes before the waiting main container", "[pods]") {
  json p = pod("web-5f7b9c6d8-x2x4q", R"json({
    "phase": "Pending",
    "conditions": [
      {"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized", "message": "containers with incomplete status: [migrate]"},
      {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": "containers with unready status: [web]"},
      {"type": "PodScheduled", "status": "True"}],
    "initContainerStatuses": [{"name": "migrate", "ready": false, "restartCount": 1, "image": "migrate:2", "imageID": "",
      "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container=migrate pod=web-5f7b9c6d8-x2x4q_default(9b2e4f61)"}},
      "lastState": {"terminated": {"exitCode": 2, "reason": "Error", "message": "connection refused: db:5432",
                                   "startedAt": "2026-01-15T10:02:20Z", "finishedAt": "2026-01-15T10:02:21Z"}}}],
    "containerStatuses": [{"name": "web", "ready": false, "restartCount": 0, "image": "web:1", "imageID": "",
      "state": {"waiting": {"reason": "PodInitializing"}}}]
  })json");
  auto d = diagnose_pod(p);
  REQUIRE(d);
  CHECK(d->summary ==
        "Pending, init container migrate: CrashLoopBackOff (last exit code 2: Error (connection refused: "
        "db:5432), 1 restart)");
  CHECK(d->blocking);
}

TEST_CASE("a failed Job pod gives the container's exit code, an evicted pod the kubelet's reason", "[pods]") {
  auto job = diagnose_pod(pod("migrate-7kq2p", R"json({
    "phase": "Failed",
    "conditions": [{"type": "Ready", "status": "False", "reason": "PodFailed"}],
    "containerStatuses": [{"name": "migrate", "ready": false, "restartCount": 0, "image": "migrate:2", "imageID": "",
      "state": {"terminated": {"exitCode": 2, "reason": "Error", "startedAt": "2026-01-15T10:02:20Z",
                               "finishedAt": "2026-01-15T10:02:21Z"}}}]
  })json"));
  REQUIRE(job);
  CHECK(job->key == "container migrate: Error");
  CHECK(job->summary == "Failed, container migrate: Error (exit code 2)");
  CHECK(job->blocking);

  auto evicted = diagnose_pod(pod("web-5f7b9c6d8-zz9kd", R"json({
    "phase": "Failed", "reason": "Evicted",
    "message": "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91204Ki. "
  })json"));
  REQUIRE(evicted);
  CHECK(evicted->key == "Evicted");
  CHECK(evicted->summary ==
        "Failed, Evicted: The node was low on resource: memory. Threshold quantity: 100Mi, available: 91204Ki.");
}

TEST_CASE("pods are grouped by reason, blocking reasons first, bounded", "[pods]") {
  std::vector<json> pods = {
      pod("web-5f7b9c6d8-bbbbb", kUnschedulable, "2026-01-15T10:02:12Z"),
      pod("web-5f7b9c6d8-ready", kRunningReady),
      pod("web-5f7b9c6d8-ccccc", kContainerCreating),
      pod("web-5f7b9c6d8-aaaaa", kUnschedulable, "2026-01-15T10:02:11Z"),
      pod("web-5f7b9c6d8-ddddd", kUnschedulable, "2026-01-15T10:02:13Z"),
      pod("web-5f7b9c6d8-eeeee", kImagePullBackOff),
  };
  auto g = group_pods(pods);
  CHECK(g.total == 6);
  CHECK(g.ready == 1);
  CHECK(g.other_unready == 0);
  REQUIRE(g.groups.size() == 3);
  CHECK(g.groups[0].first.key == "PodScheduled=False Unschedulable");
  CHECK(g.groups[0].first.name == "web-5f7b9c6d8-aaaaa");  // the oldest represents its group
  CHECK(g.groups[0].pod["metadata"]["name"] == "web-5f7b9c6d8-aaaaa");
  CHECK(g.groups[0].more == 2);
  CHECK(g.groups[1].first.key == "container web: ImagePullBackOff");
  CHECK(g.groups[2].first.key == "container web: ContainerCreating");

  auto bounded = group_pods(pods, 2);
  CHECK(bounded.groups.size() == 2);
  CHECK(bounded.other_unready == 1);

  std::map<std::string, std::vector<json>> events{
      {"web-5f7b9c6d8-aaaaa", {failed_scheduling_event("web-5f7b9c6d8-aaaaa")}}};
  auto lines = format_pod_groups(bounded, events, at(10, 7, 30));
  std::vector<std::string> want = {
      "pod web-5f7b9c6d8-aaaaa: Pending, PodScheduled=False Unschedulable: 0/2 nodes are available: 2 node(s) "
      "didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not "
      "helpful for scheduling.",
      "  Warning  FailedScheduling  0/2 nodes are available: 2 node(s) didn't match Pod's node "
      "affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling. "
      "(x2, 10s ago)",
      "2 more pods: same reason",
      "pod web-5f7b9c6d8-eeeee: Pending, container web: ImagePullBackOff: Back-off pulling image "
      "\"registry.example.com/web:1.4.2\": ErrImagePull: failed to pull and unpack image "
      "\"registry.example.com/web:1.4.2\": failed to resolve reference \"registry.example.com/web:1.4.2\": "
      "registry.example.com/web:1.4.2: not found",
      "1 more pod not ready for other reasons",
  };
  CHECK(lines == want);

  CHECK(blocking_hint(g, true) == "3 pods PodScheduled=False Unschedulable");
  CHECK(blocking_hint(g, false).rfind("pod web-5f7b9c6d8-aaaaa: Pending, PodScheduled=False Unschedulable: 0/2", 0) == 0);
  CHECK(blocking_hint(g, false).find("(and 2 more pods with the same reason)") != std::string::npos);
}

TEST_CASE("only the newest events of a pod are shown", "[pods]") {
  PodGroups g = group_pods({pod("web-5f7b9c6d8-aaaaa", kUnschedulable)});
  std::vector<json> evs;
  for (int i = 0; i < 8; ++i) {
    json ev = failed_scheduling_event("web-5f7b9c6d8-aaaaa");
    ev["message"] = "attempt " + std::to_string(i);
    ev.erase("series");
    evs.push_back(ev);
  }
  auto lines = format_pod_groups(g, {{"web-5f7b9c6d8-aaaaa", evs}}, at(10, 2, 11), 3);
  REQUIRE(lines.size() == 4);
  CHECK(lines[1] == "  Warning  FailedScheduling  attempt 5 (just now)");
  CHECK(lines[3] == "  Warning  FailedScheduling  attempt 7 (just now)");
}

TEST_CASE("nothing blocks while pods are only starting, or all are ready", "[pods]") {
  CHECK(blocking_hint(group_pods({pod("a", kContainerCreating)}), false).empty());
  auto ready = group_pods({pod("a", kRunningReady), pod("b", kRunningReady)});
  CHECK(ready.groups.empty());
  CHECK(ready.ready == 2);
  CHECK(blocking_hint(ready, true).empty());
  CHECK(format_pod_groups(ready, {}, at(10, 0, 0)).empty());
}

TEST_CASE("label selectors from spec.selector", "[pods]") {
  CHECK(label_selector(json::parse(R"({"matchLabels": {"app": "web", "tier": "front"}})")) == "app=web,tier=front");
  CHECK(label_selector(json::parse(R"({"matchLabels": {"app": "web"}, "matchExpressions": [
    {"key": "env", "operator": "In", "values": ["prod", "stage"]},
    {"key": "canary", "operator": "NotIn", "values": ["true"]},
    {"key": "team", "operator": "Exists"},
    {"key": "legacy", "operator": "DoesNotExist"}]})")) ==
        "app=web,env in (prod,stage),canary notin (true),team,!legacy");
  CHECK(label_selector(json::object()).empty());
}

TEST_CASE("the newest ReplicaSet owned by the Deployment", "[pods]") {
  json dep = json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "uid": "7f0d3c4e-1b2a-4c5d-9e8f-0a1b2c3d4e5f"}})");
  auto rs = [](const char* name, const char* owner_uid, const char* revision, const char* created) {
    json r = {{"metadata",
               {{"name", name},
                {"namespace", "default"},
                {"creationTimestamp", created},
                {"annotations", {{"deployment.kubernetes.io/revision", revision}}},
                {"ownerReferences",
                 json::array({{{"apiVersion", "apps/v1"},
                               {"kind", "Deployment"},
                               {"name", "web"},
                               {"uid", owner_uid},
                               {"controller", true}}})}}}};
    return r;
  };
  json items = json::array({rs("web-6c9d8f7b5", "7f0d3c4e-1b2a-4c5d-9e8f-0a1b2c3d4e5f", "1", "2026-01-15T09:00:00Z"),
                            rs("web-5f7b9c6d8", "7f0d3c4e-1b2a-4c5d-9e8f-0a1b2c3d4e5f", "2", "2026-01-15T10:02:11Z"),
                            rs("web-other", "00000000-0000-0000-0000-000000000000", "9", "2026-01-15T11:00:00Z")});
  const json* newest = newest_owned_replicaset(dep, items);
  REQUIRE(newest);
  CHECK((*newest)["metadata"]["name"] == "web-5f7b9c6d8");
  CHECK(owned_by(items[0], dep));
  CHECK_FALSE(owned_by(items[2], dep));
  CHECK_FALSE(newest_owned_replicaset(dep, json::array()));

  json p = pod("web-5f7b9c6d8-x2x4q", kUnschedulable);
  json owner_rs = {{"metadata", {{"name", "web-5f7b9c6d8"}, {"uid", kRsUid}}}};
  CHECK(owned_by(p, owner_rs));
}

TEST_CASE("which kinds have pods to look at", "[pods]") {
  auto obj = [](const char* api_version, const char* kind) {
    return json{{"apiVersion", api_version}, {"kind", kind}};
  };
  CHECK(has_pods(obj("apps/v1", "Deployment")));
  CHECK(has_pods(obj("apps/v1", "StatefulSet")));
  CHECK(has_pods(obj("apps/v1", "DaemonSet")));
  CHECK(has_pods(obj("apps/v1", "ReplicaSet")));
  CHECK(has_pods(obj("batch/v1", "Job")));
  CHECK_FALSE(has_pods(obj("v1", "Pod")));
  CHECK_FALSE(has_pods(obj("v1", "Service")));
  CHECK_FALSE(has_pods(obj("example.com/v1", "Deployment")));
  CHECK_FALSE(has_pods(json()));
}

TEST_CASE("a ReplicaSet that cannot create its pods says why", "[pods]") {
  json rs = json::parse(R"json({
    "apiVersion": "apps/v1", "kind": "ReplicaSet",
    "metadata": {"name": "web-5f7b9c6d8", "namespace": "default", "uid": "3c1f9a2e-8d4b-4e6f-a1c2-5b7d9e0f1a2b"},
    "status": {"replicas": 0, "observedGeneration": 1, "conditions": [{
      "type": "ReplicaFailure", "status": "True", "lastTransitionTime": "2026-01-15T10:02:11Z",
      "reason": "FailedCreate",
      "message": "pods \"web-5f7b9c6d8-\" is forbidden: error looking up service account default/web: serviceaccount \"web\" not found"}]}
  })json");
  CHECK(replicaset_failure(rs) ==
        "ReplicaSet web-5f7b9c6d8: ReplicaFailure FailedCreate: pods \"web-5f7b9c6d8-\" is forbidden: error "
        "looking up service account default/web: serviceaccount \"web\" not found");
  OwnedPods owned{rs, {}};
  CHECK(workload_hint(owned, group_pods(owned.pods), true) == replicaset_failure(rs));
  rs["status"].erase("conditions");
  CHECK(replicaset_failure(rs).empty());
  CHECK(replicaset_failure(json()).empty());
}
