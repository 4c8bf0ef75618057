// Readiness of workloads, from objects as the apiserver and the controllers write them.
#include <kurator/core/readiness.hpp>

#include <catch2/catch.hpp>

using kurator::kube::evaluate;
using kurator::kube::Readiness;
using nlohmann::json;

namespace {

// A Deployment as returned by the apiserver, with the given status (and generation).
json deployment(const char* status_json, int generation = 2, int replicas = 3) {
  json d = json::parse(R"json({
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
      "name": "web", "namespace": "default", "uid": "7f0d3c4e-1b2a-4c5d-9e8f-0a1b2c3d4e5f",
      "resourceVersion": "48213", "generation": 2, "creationTimestamp": "2024-05-02T09:14:07Z",
      "annotations": {"deployment.kubernetes.io/revision": "2"}
    },
    "spec": {
      "replicas": 3,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {
        "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "resources": {},
                                 "terminationMessagePath": "/dev/termination-log",
                                 "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
                 "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                 "securityContext": {}, "schedulerName": "default-scheduler"}
      },
      "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
      "revisionHistoryLimit": 10,
      "progressDeadlineSeconds": 600
    }
  })json");
  d["metadata"]["generation"] = generation;
  d["spec"]["replicas"] = replicas;
  d["status"] = json::parse(status_json);
  return d;
}

}  // namespace

TEST_CASE("Deployment just created: pods not ready yet", "[readiness][deployment]") {
  auto st = evaluate(deployment(R"json({
    "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1,
    "conditions": [
      {"type": "Available", "status": "False", "lastUpdateTime": "2024-05-02T09:14:07Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "MinimumReplicasUnavailable",
       "message": "Deployment does not have minimum availability."},
      {"type": "Progressing", "status": "True", "lastUpdateTime": "2024-05-02T09:14:07Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "ReplicaSetUpdated",
       "message": "ReplicaSet \"web-5d8f9b7c6\" is progressing."}
    ]})json",
                                1, 1));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "0/1 replicas ready");
}

TEST_CASE("Deployment mid-rollout: new ReplicaSet scaling up", "[readiness][deployment]") {
  auto st = evaluate(deployment(R"json({
    "observedGeneration": 2, "replicas": 4, "updatedReplicas": 1, "readyReplicas": 3,
    "availableReplicas": 3, "unavailableReplicas": 1,
    "conditions": [
      {"type": "Available", "status": "True", "lastUpdateTime": "2024-05-02T09:14:12Z",
       "lastTransitionTime": "2024-05-02T09:14:12Z", "reason": "MinimumReplicasAvailable",
       "message": "Deployment has minimum availability."},
      {"type": "Progressing", "status": "True", "lastUpdateTime": "2024-05-02T09:20:41Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "ReplicaSetUpdated",
       "message": "ReplicaSet \"web-7c5ddbdf54\" is progressing."}
    ]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for rollout: 1/3 replicas updated");
}

TEST_CASE("Deployment mid-rollout: old replica pending termination", "[readiness][deployment]") {
  auto st = evaluate(deployment(R"json({
    "observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "readyReplicas": 4,
    "availableReplicas": 4,
    "conditions": [
      {"type": "Available", "status": "True", "lastUpdateTime": "2024-05-02T09:14:12Z",
       "lastTransitionTime": "2024-05-02T09:14:12Z", "reason": "MinimumReplicasAvailable",
       "message": "Deployment has minimum availability."},
      {"type": "Progressing", "status": "True", "lastUpdateTime": "2024-05-02T09:20:55Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "ReplicaSetUpdated",
       "message": "ReplicaSet \"web-7c5ddbdf54\" is progressing."}
    ]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for rollout: 1 old replica pending termination");
}

TEST_CASE("Deployment updated but new pods not ready", "[readiness][deployment]") {
  auto st = evaluate(deployment(R"json({
    "observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 2,
    "availableReplicas": 2, "unavailableReplicas": 1,
    "conditions": [
      {"type": "Available", "status": "True", "lastUpdateTime": "2024-05-02T09:14:12Z",
       "lastTransitionTime": "2024-05-02T09:14:12Z", "reason": "MinimumReplicasAvailable",
       "message": "Deployment has minimum availability."},
      {"type": "Progressing", "status": "True", "lastUpdateTime": "2024-05-02T09:21:03Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "ReplicaSetUpdated",
       "message": "ReplicaSet \"web-7c5ddbdf54\" is progressing."}
    ]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "2/3 replicas ready");
}

TEST_CASE("Deployment rolled out", "[readiness][deployment]") {
  auto st = evaluate(deployment(R"json({
    "observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
    "availableReplicas": 3,
    "conditions": [
      {"type": "Available", "status": "True", "lastUpdateTime": "2024-05-02T09:14:12Z",
       "lastTransitionTime": "2024-05-02T09:14:12Z", "reason": "MinimumReplicasAvailable",
       "message": "Deployment has minimum availability."},
      {"type": "Progressing", "status": "True", "lastUpdateTime": "2024-05-02T09:21:09Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "NewReplicaSetAvailable",
       "message": "ReplicaSet \"web-7c5ddbdf54\" has successfully progressed."}
    ]})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "3/3 replicas ready");
  CHECK(st.ready());
}

TEST_CASE("Deployment whose new spec the controller has not seen is not ready", "[readiness][deployment]") {
  // Status still describes generation 2 (fully rolled out) while the object is at generation 3.
  auto st = evaluate(deployment(R"json({
    "observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
    "availableReplicas": 3,
    "conditions": [
      {"type": "Available", "status": "True", "lastUpdateTime": "2024-05-02T09:14:12Z",
       "lastTransitionTime": "2024-05-02T09:14:12Z", "reason": "MinimumReplicasAvailable",
       "message": "Deployment has minimum availability."},
      {"type": "Progressing", "status": "True", "lastUpdateTime": "2024-05-02T09:21:09Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "NewReplicaSetAvailable",
       "message": "ReplicaSet \"web-7c5ddbdf54\" has successfully progressed."}
    ]})json",
                                3));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for generation 3 to be observed (observed: 2)");
}

TEST_CASE("Deployment just applied, no status yet", "[readiness][deployment]") {
  auto st = evaluate(deployment("{}", 1, 0));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for the controller to observe the object");
}

TEST_CASE("Deployment scaled to zero", "[readiness][deployment]") {
  auto st = evaluate(deployment(R"json({
    "observedGeneration": 4,
    "conditions": [
      {"type": "Available", "status": "True", "lastUpdateTime": "2024-05-02T09:14:12Z",
       "lastTransitionTime": "2024-05-02T09:14:12Z", "reason": "MinimumReplicasAvailable",
       "message": "Deployment has minimum availability."},
      {"type": "Progressing", "status": "True", "lastUpdateTime": "2024-05-02T09:21:09Z",
       "lastTransitionTime": "2024-05-02T09:14:07Z", "reason": "NewReplicaSetAvailable",
       "message": "ReplicaSet \"web-7c5ddbdf54\" has successfully progressed."}
    ]})json",
                                4, 0));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "scaled to 0 replicas");
}

TEST_CASE("Deployment past its progress deadline has failed", "[readiness][deployment]") {
  auto st = evaluate(deployment(R"json({
    "observedGeneration": 2, "replicas": 4, "updatedReplicas": 1, "readyReplicas": 3,
    "availableReplicas": 3, "unavailableReplicas": 1,
    "conditions": [
      {"type": "Available", "status": "True", "lastUpdateTime": "2024-05-02T09:14:12Z",
       "lastTransitionTime": "2024-05-02T09:14:12Z", "reason": "MinimumReplicasAvailable",
       "message": "Deployment has minimum availability."},
      {"type": "Progressing", "status": "False", "lastUpdateTime": "2024-05-02T09:30:41Z",
       "lastTransitionTime": "2024-05-02T09:30:41Z", "reason": "ProgressDeadlineExceeded",
       "message": "ReplicaSet \"web-7c5ddbdf54\" has timed out progressing."}
    ]})json"));
  CHECK(st.state == Readiness::failed);
  CHECK(st.reason ==
        "rollout failed: ProgressDeadlineExceeded: ReplicaSet \"web-7c5ddbdf54\" has timed out progressing.");
}

TEST_CASE("Deployment re-applied after a deadline exceeded waits for the new generation",
          "[readiness][deployment]") {
  // The stale Progressing=False belongs to generation 2; the fix (generation 3) is not observed yet.
  auto st = evaluate(deployment(R"json({
    "observedGeneration": 2, "replicas": 4, "updatedReplicas": 1, "readyReplicas": 3,
    "availableReplicas": 3, "unavailableReplicas": 1,
    "conditions": [
      {"type": "Progressing", "status": "False", "lastUpdateTime": "2024-05-02T09:30:41Z",
       "lastTransitionTime": "2024-05-02T09:30:41Z", "reason": "ProgressDeadlineExceeded",
       "message": "ReplicaSet \"web-7c5ddbdf54\" has timed out progressing."}
    ]})json",
                                3));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for generation 3 to be observed (observed: 2)");
}

namespace {
json statefulset(const char* status_json, int partition = 0) {
  json s = json::parse(R"json({
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "db", "namespace": "data", "uid": "1c9e6f0a-58d3-4f7e-a2b1-3c4d5e6f7a8b",
                 "resourceVersion": "90211", "generation": 2, "creationTimestamp": "2024-05-02T10:01:00Z"},
    "spec": {
      "replicas": 3,
      "selector": {"matchLabels": {"app": "db"}},
      "serviceName": "db",
      "podManagementPolicy": "OrderedReady",
      "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
      "revisionHistoryLimit": 10,
      "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
      "template": {"metadata": {"labels": {"app": "db"}},
                   "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]}}
    }
  })json");
  s["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = partition;
  s["status"] = json::parse(status_json);
  return s;
}
}  // namespace

TEST_CASE("StatefulSet starting its ordered pods", "[readiness][statefulset]") {
  auto st = evaluate(statefulset(R"json({
    "observedGeneration": 2, "replicas": 2, "readyReplicas": 1, "currentReplicas": 2, "updatedReplicas": 2,
    "currentRevision": "db-6b8c9d7f5", "updateRevision": "db-6b8c9d7f5", "collisionCount": 0,
    "availableReplicas": 1})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "1/3 replicas ready");
}

TEST_CASE("StatefulSet rolling update in progress", "[readiness][statefulset]") {
  auto st = evaluate(statefulset(R"json({
    "observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "currentReplicas": 2, "updatedReplicas": 1,
    "currentRevision": "db-6b8c9d7f5", "updateRevision": "db-84f6d5c7b9", "collisionCount": 0,
    "availableReplicas": 3})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for rollout: 1/3 replicas updated");
}

TEST_CASE("StatefulSet all updated but revision not promoted yet", "[readiness][statefulset]") {
  auto st = evaluate(statefulset(R"json({
    "observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "currentReplicas": 0, "updatedReplicas": 3,
    "currentRevision": "db-6b8c9d7f5", "updateRevision": "db-84f6d5c7b9", "collisionCount": 0,
    "availableReplicas": 3})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for rollout: revision db-84f6d5c7b9 not current yet");
}

TEST_CASE("StatefulSet rolled out", "[readiness][statefulset]") {
  auto st = evaluate(statefulset(R"json({
    "observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "currentReplicas": 3, "updatedReplicas": 3,
    "currentRevision": "db-84f6d5c7b9", "updateRevision": "db-84f6d5c7b9", "collisionCount": 0,
    "availableReplicas": 3})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "3/3 replicas ready");
}

TEST_CASE("StatefulSet partitioned rollout counts only the partition", "[readiness][statefulset]") {
  auto waiting = evaluate(statefulset(R"json({
    "observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "currentReplicas": 3, "updatedReplicas": 0,
    "currentRevision": "db-6b8c9d7f5", "updateRevision": "db-84f6d5c7b9", "collisionCount": 0,
    "availableReplicas": 3})json",
                                      2));
  CHECK(waiting.state == Readiness::in_progress);
  CHECK(waiting.reason == "waiting for partitioned rollout: 0/1 replicas updated");

  auto done = evaluate(statefulset(R"json({
    "observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "currentReplicas": 2, "updatedReplicas": 1,
    "currentRevision": "db-6b8c9d7f5", "updateRevision": "db-84f6d5c7b9", "collisionCount": 0,
    "availableReplicas": 3})json",
                                   2));
  CHECK(done.state == Readiness::ready);
  CHECK(done.reason == "3/3 replicas ready, partitioned rollout done");
}

namespace {
json daemonset(const char* status_json, int generation = 1) {
  json d = json::parse(R"json({
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "node-exporter", "namespace": "monitoring", "uid": "0a7c2b1e-9d8f-4e6a-b5c4-d3e2f1a0b9c8",
                 "resourceVersion": "1207", "generation": 1, "creationTimestamp": "2024-05-02T11:00:00Z",
                 "annotations": {"deprecated.daemonset.template.generation": "1"}},
    "spec": {
      "selector": {"matchLabels": {"app": "node-exporter"}},
      "template": {"metadata": {"labels": {"app": "node-exporter"}},
                   "spec": {"containers": [{"name": "exporter", "image": "prom/node-exporter:v1.8.0"}]}},
      "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
      "revisionHistoryLimit": 10
    }
  })json");
  d["metadata"]["generation"] = generation;
  d["status"] = json::parse(status_json);
  return d;
}
}  // namespace

TEST_CASE("DaemonSet just created: status zeroed by the apiserver", "[readiness][daemonset]") {
  // The apiserver writes the non-omitempty counters as 0 before the controller has looked at it.
  auto st = evaluate(daemonset(R"json({
    "currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for the controller to observe the object");
}

TEST_CASE("DaemonSet rolling update in progress", "[readiness][daemonset]") {
  auto st = evaluate(daemonset(R"json({
    "currentNumberScheduled": 3, "numberMisscheduled": 0, "desiredNumberScheduled": 3, "numberReady": 2,
    "observedGeneration": 2, "updatedNumberScheduled": 1, "numberAvailable": 2, "numberUnavailable": 1})json",
                               2));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for rollout: 1/3 pods updated");
}

TEST_CASE("DaemonSet pods starting", "[readiness][daemonset]") {
  auto st = evaluate(daemonset(R"json({
    "currentNumberScheduled": 3, "numberMisscheduled": 0, "desiredNumberScheduled": 3, "numberReady": 1,
    "observedGeneration": 1, "updatedNumberScheduled": 3, "numberAvailable": 1, "numberUnavailable": 2})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "1/3 pods ready");
}

TEST_CASE("DaemonSet ready on every node", "[readiness][daemonset]") {
  auto st = evaluate(daemonset(R"json({
    "currentNumberScheduled": 3, "numberMisscheduled": 0, "desiredNumberScheduled": 3, "numberReady": 3,
    "observedGeneration": 1, "updatedNumberScheduled": 3, "numberAvailable": 3})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "3/3 pods ready");
}

TEST_CASE("ReplicaSet with a pod not ready, and with a quota failure", "[readiness][replicaset]") {
  json rs = json::parse(R"json({
    "apiVersion": "apps/v1", "kind": "ReplicaSet",
    "metadata": {"name": "web-7c5ddbdf54", "namespace": "default", "generation": 1, "resourceVersion": "48100"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}},
    "status": {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 1, "availableReplicas": 1,
               "observedGeneration": 1}
  })json");
  auto st = evaluate(rs);
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "1/2 replicas ready");

  rs["status"] = json::parse(R"json({
    "replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 1,
    "conditions": [{"type": "ReplicaFailure", "status": "True", "lastTransitionTime": "2024-05-02T09:15:00Z",
                    "reason": "FailedCreate",
                    "message": "pods \"web-7c5ddbdf54-x2x9k\" is forbidden: exceeded quota: compute, requested: cpu=500m, used: cpu=1500m, limited: cpu=2"}]})json");
  st = evaluate(rs);
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason ==
        "1/2 replicas ready, FailedCreate: pods \"web-7c5ddbdf54-x2x9k\" is forbidden: exceeded quota: "
        "compute, "
        "requested: cpu=500m, used: cpu=1500m, limited: cpu=2");

  rs["status"] = json::parse(R"json({
    "replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 2, "observedGeneration": 1})json");
  st = evaluate(rs);
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "2/2 replicas ready");
}

namespace {
json job(const char* status_json) {
  json j = json::parse(R"json({
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "migrate", "namespace": "default", "uid": "5e2d7c1a-4b3f-4a9e-8d6c-2f1e0d9c8b7a",
                 "resourceVersion": "51234", "generation": 1, "creationTimestamp": "2024-05-02T12:00:00Z",
                 "labels": {"batch.kubernetes.io/job-name": "migrate"}},
    "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
             "suspend": false, "podReplacementPolicy": "TerminatingOrFailed", "manualSelector": false,
             "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "5e2d7c1a-4b3f-4a9e-8d6c-2f1e0d9c8b7a"}},
             "template": {"spec": {"restartPolicy": "Never",
                                   "containers": [{"name": "migrate", "image": "migrate:1.0"}]}}}
  })json");
  j["status"] = json::parse(status_json);
  return j;
}
}  // namespace

TEST_CASE("Job just created", "[readiness][job]") {
  auto st = evaluate(job("{}"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "Job not started yet");
}

TEST_CASE("Job running", "[readiness][job]") {
  auto st = evaluate(job(R"json({
    "startTime": "2024-05-02T12:00:00Z", "active": 1, "terminating": 0, "uncountedTerminatedPods": {},
    "ready": 0})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "Job running: 0/1 succeeded, 1 active");

  st = evaluate(job(R"json({
    "startTime": "2024-05-02T12:00:00Z", "active": 1, "failed": 2, "terminating": 0,
    "uncountedTerminatedPods": {}, "ready": 1})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "Job running: 0/1 succeeded, 1 active, 2 failed");
}

TEST_CASE("Job complete", "[readiness][job]") {
  auto st = evaluate(job(R"json({
    "conditions": [
      {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": "2024-05-02T12:00:09Z",
       "lastTransitionTime": "2024-05-02T12:00:09Z", "reason": "CompletionsReached",
       "message": "Reached expected number of succeeded pods"},
      {"type": "Complete", "status": "True", "lastProbeTime": "2024-05-02T12:00:09Z",
       "lastTransitionTime": "2024-05-02T12:00:09Z", "reason": "CompletionsReached",
       "message": "Reached expected number of succeeded pods"}],
    "startTime": "2024-05-02T12:00:00Z", "completionTime": "2024-05-02T12:00:09Z", "succeeded": 1,
    "terminating": 0, "uncountedTerminatedPods": {}, "ready": 0})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "Job complete: 1/1 succeeded");
}

TEST_CASE("Job failed after its backoff limit", "[readiness][job]") {
  auto st = evaluate(job(R"json({
    "conditions": [
      {"type": "FailureTarget", "status": "True", "lastProbeTime": "2024-05-02T12:06:31Z",
       "lastTransitionTime": "2024-05-02T12:06:31Z", "reason": "BackoffLimitExceeded",
       "message": "Job has reached the specified backoff limit"},
      {"type": "Failed", "status": "True", "lastProbeTime": "2024-05-02T12:06:31Z",
       "lastTransitionTime": "2024-05-02T12:06:31Z", "reason": "BackoffLimitExceeded",
       "message": "Job has reached the specified backoff limit"}],
    "startTime": "2024-05-02T12:00:00Z", "failed": 7, "terminating": 0, "uncountedTerminatedPods": {},
    "ready": 0})json"));
  CHECK(st.state == Readiness::failed);
  CHECK(st.reason == "Job failed: BackoffLimitExceeded");
}

TEST_CASE("Job past its active deadline, pods still terminating", "[readiness][job]") {
  auto st = evaluate(job(R"json({
    "conditions": [
      {"type": "FailureTarget", "status": "True", "lastProbeTime": "2024-05-02T12:10:00Z",
       "lastTransitionTime": "2024-05-02T12:10:00Z", "reason": "DeadlineExceeded",
       "message": "Job was active longer than specified deadline"}],
    "startTime": "2024-05-02T12:00:00Z", "failed": 0, "terminating": 1, "uncountedTerminatedPods": {},
    "ready": 0})json"));
  CHECK(st.state == Readiness::failed);
  CHECK(st.reason == "Job failed: DeadlineExceeded");
}

TEST_CASE("Job suspended", "[readiness][job]") {
  auto st = evaluate(job(R"json({
    "conditions": [{"type": "Suspended", "status": "True", "lastProbeTime": "2024-05-02T12:00:00Z",
                    "lastTransitionTime": "2024-05-02T12:00:00Z", "reason": "JobSuspended",
                    "message": "Job suspended"}]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "Job suspended");
}

namespace {
json pod(const char* status_json) {
  json p = json::parse(R"json({
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-7c5ddbdf54-qz8lm", "namespace": "default", "uid": "9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
                 "resourceVersion": "48190", "creationTimestamp": "2024-05-02T09:20:30Z",
                 "labels": {"app": "web", "pod-template-hash": "7c5ddbdf54"}},
    "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}], "restartPolicy": "Always",
             "nodeName": "kind-control-plane", "schedulerName": "default-scheduler"}
  })json");
  p["status"] = json::parse(status_json);
  return p;
}
}  // namespace

TEST_CASE("Pod not yet scheduled: no status", "[readiness][pod]") {
  auto st = evaluate(pod(R"json({"phase": "Pending", "qosClass": "BestEffort"})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "Pending");

  st = evaluate(pod("{}"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "waiting for the pod to be scheduled");
}

TEST_CASE("Pod pending: unschedulable", "[readiness][pod]") {
  auto st = evaluate(pod(R"json({
    "phase": "Pending",
    "conditions": [{"type": "PodScheduled", "status": "False", "lastProbeTime": null,
                    "lastTransitionTime": "2024-05-02T09:20:30Z", "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."}],
    "qosClass": "Burstable"})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason ==
        "not scheduled: Unschedulable: 0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes "
        "are "
        "available: 1 No preemption victims found for incoming pod.");
}

TEST_CASE("Pod pending: image cannot be pulled", "[readiness][pod]") {
  auto st = evaluate(pod(R"json({
    "phase": "Pending",
    "conditions": [
      {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:32Z"},
      {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:30Z"},
      {"type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:30Z",
       "reason": "ContainersNotReady", "message": "containers with unready status: [app]"},
      {"type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:30Z",
       "reason": "ContainersNotReady", "message": "containers with unready status: [app]"},
      {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:30Z"}],
    "hostIP": "172.18.0.2", "hostIPs": [{"ip": "172.18.0.2"}], "podIP": "10.244.0.17", "podIPs": [{"ip": "10.244.0.17"}],
    "startTime": "2024-05-02T09:20:30Z",
    "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff",
                           "message": "Back-off pulling image \"nginx:1.277\""}},
                           "lastState": {}, "ready": false, "restartCount": 0, "image": "nginx:1.277",
                           "imageID": "", "started": false}],
    "qosClass": "BestEffort"})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "Pending, container app: ImagePullBackOff");
}

TEST_CASE("Pod running and ready", "[readiness][pod]") {
  auto st = evaluate(pod(R"json({
    "phase": "Running",
    "conditions": [
      {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:33Z"},
      {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:30Z"},
      {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:35Z"},
      {"type": "ContainersReady", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:35Z"},
      {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:30Z"}],
    "hostIP": "172.18.0.2", "podIP": "10.244.0.17", "startTime": "2024-05-02T09:20:30Z",
    "containerStatuses": [{"name": "app", "state": {"running": {"startedAt": "2024-05-02T09:20:33Z"}},
                           "lastState": {}, "ready": true, "restartCount": 0, "image": "docker.io/library/nginx:1.27",
                           "imageID": "docker.io/library/nginx@sha256:0f04e4f646a3f14bf31d8bc8d885b6c951fdcf42589d06845f64d18aec6a3c4d",
                           "containerID": "containerd://4c1f0e9d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
                           "started": true}],
    "qosClass": "BestEffort"})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "Running, ready");
}

TEST_CASE("Pod running but crash-looping stays in progress", "[readiness][pod]") {
  auto st = evaluate(pod(R"json({
    "phase": "Running",
    "conditions": [
      {"type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:40Z",
       "reason": "ContainersNotReady", "message": "containers with unready status: [app]"},
      {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:30Z"}],
    "startTime": "2024-05-02T09:20:30Z",
    "containerStatuses": [{"name": "app",
                           "state": {"waiting": {"reason": "CrashLoopBackOff",
                                                 "message": "back-off 40s restarting failed container=app pod=web-7c5ddbdf54-qz8lm_default(9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d)"}},
                           "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                                        "startedAt": "2024-05-02T09:21:10Z",
                                                        "finishedAt": "2024-05-02T09:21:11Z"}},
                           "ready": false, "restartCount": 3, "image": "nginx:1.27", "started": false}]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "Running, container app: CrashLoopBackOff");
}

TEST_CASE("Pod running, readiness probe failing", "[readiness][pod]") {
  auto st = evaluate(pod(R"json({
    "phase": "Running",
    "conditions": [
      {"type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:40Z",
       "reason": "ContainersNotReady", "message": "containers with unready status: [app]"}],
    "containerStatuses": [{"name": "app", "state": {"running": {"startedAt": "2024-05-02T09:20:33Z"}},
                           "lastState": {}, "ready": false, "restartCount": 0, "started": true}]})json"));
  CHECK(st.state == Readiness::in_progress);
  CHECK(st.reason == "Running, not ready: ContainersNotReady: containers with unready status: [app]");
}

TEST_CASE("Pod failed", "[readiness][pod]") {
  auto st = evaluate(pod(R"json({
    "phase": "Failed",
    "conditions": [
      {"type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2024-05-02T09:20:40Z",
       "reason": "PodFailed"}],
    "startTime": "2024-05-02T09:20:30Z",
    "containerStatuses": [{"name": "app",
                           "state": {"terminated": {"exitCode": 2, "reason": "Error",
                                                    "startedAt": "2024-05-02T09:20:33Z",
                                                    "finishedAt": "2024-05-02T09:20:39Z",
                                                    "containerID": "containerd://4c1f0e9d"}},
                           "lastState": {}, "ready": false, "restartCount": 0, "started": false}]})json"));
  CHECK(st.state == Readiness::failed);
  CHECK(st.reason == "Pod failed: container app: Error (exit code 2)");

  st = evaluate(pod(R"json({
    "phase": "Failed", "reason": "Evicted",
    "message": "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91452Ki. ",
    "startTime": "2024-05-02T09:20:30Z"})json"));
  CHECK(st.state == Readiness::failed);
  CHECK(st.reason == "Pod failed: Evicted");
}

TEST_CASE("Pod succeeded", "[readiness][pod]") {
  auto st = evaluate(pod(R"json({
    "phase": "Succeeded",
    "conditions": [{"type": "Ready", "status": "False", "lastProbeTime": null,
                    "lastTransitionTime": "2024-05-02T09:20:40Z", "reason": "PodCompleted"}],
    "containerStatuses": [{"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                           "startedAt": "2024-05-02T09:20:33Z", "finishedAt": "2024-05-02T09:20:39Z"}},
                           "ready": false, "restartCount": 0, "started": false}]})json"));
  CHECK(st.state == Readiness::ready);
  CHECK(st.reason == "Succeeded");
}
