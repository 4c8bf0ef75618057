// Why a workload is not ready: its pods (followed from the owner chain Deployment -> newest ReplicaSet ->
// Pods, StatefulSet/DaemonSet/ReplicaSet/Job -> Pods), each diagnosed from its status — phase, the failing
// condition, container waiting/terminated reasons — bounded and deduplicated by reason.
//
// The diagnosis and grouping are pure (pod JSON in, lines out); only pods_of talks to the apiserver.
#pragma once
#include <kurator/core/kube.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kurator::kube {

struct PodDiagnosis {
  std::string name;     // metadata.name
  std::string phase;    // status.phase ("Pending", "Running", …; "Unknown" when missing)
  std::string key;      // what pods with the same problem share: "PodScheduled=False Unschedulable",
                        // "container app: CrashLoopBackOff"; used to deduplicate
  std::string summary;  // one line: "Pending, PodScheduled=False Unschedulable: 0/2 nodes are available: …"
  // A reason the pod will not get past by itself soon (unschedulable, image pull back-off, crash loop,
  // missing Secret/ConfigMap, failed container); false for transient states such as ContainerCreating.
  bool blocking = false;
};

// Nothing for a pod that is Ready or Succeeded; otherwise why it is not.
std::optional<PodDiagnosis> diagnose_pod(const json& pod);

// Unready pods grouped by PodDiagnosis::key: the most telling groups first (blocking, then larger), each
// with one representative pod (the oldest) and how many other pods share its reason.
struct PodGroup {
  PodDiagnosis first;
  json pod;          // the representative pod
  size_t more = 0;   // other pods with the same key
};
struct PodGroups {
  std::vector<PodGroup> groups;  // at most max_groups
  size_t other_unready = 0;      // unready pods in groups left out
  size_t total = 0, ready = 0;   // all pods given, and how many of them were ready (or succeeded)
};
PodGroups group_pods(const std::vector<json>& pods, size_t max_groups = 3);

// Lines (without indentation) describing the groups: for each representative pod its summary followed by
// its recent events (indented by two spaces, at most max_events, newest last), then "N more pods: same
// reason"; events_by_pod is keyed by pod name (a pod missing from it shows no events).
std::vector<std::string> format_pod_groups(const PodGroups& groups,
                                           const std::map<std::string, std::vector<json>>& events_by_pod,
                                           std::chrono::system_clock::time_point now, size_t max_events = 5);

// A one-line hint for progress lines and the timeout message, from the first group when it is blocking:
// "pod web-5f7b-x2x4q: Pending, PodScheduled=False Unschedulable: …" (long) or
// "2 pods PodScheduled=False Unschedulable" (short). Empty when nothing blocks.
std::string blocking_hint(const PodGroups& groups, bool short_form);

// A spec.selector (matchLabels and matchExpressions) as a label selector query: "app=web,tier in (a,b)".
std::string label_selector(const json& selector);
// Whether obj has an ownerReference to owner's uid.
bool owned_by(const json& obj, const json& owner);
// Among `items`, the newest ReplicaSet owned by `deployment` (highest deployment.kubernetes.io/revision,
// then newest creationTimestamp); nullptr when none is.
const json* newest_owned_replicaset(const json& deployment, const json& items);

// A ReplicaSet that cannot create its pods (quota, a missing service account) says so in its
// ReplicaFailure condition: "ReplicaSet web-5f7b9c6d8: ReplicaFailure FailedCreate: pods \"web-…\" is
// forbidden: …". Empty when it has none.
std::string replicaset_failure(const json& replicaset);

// Whether pods_of knows how to find pods of this kind (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job).
bool has_pods(const json& obj);

struct OwnedPods {
  json replicaset;           // Deployment: the newest ReplicaSet it owns (null when it has none yet)
  std::vector<json> pods;    // each with apiVersion v1 and kind Pod set (list items carry neither)
};
// The pods the object controls (through its newest ReplicaSet for a Deployment).
Result<OwnedPods> pods_of(Client& client, const json& obj);
// What blocks a workload: its ReplicaSet's failure to create pods, else blocking_hint of its pods.
std::string workload_hint(const OwnedPods& owned, const PodGroups& groups, bool short_form);

}  // namespace kurator::kube
