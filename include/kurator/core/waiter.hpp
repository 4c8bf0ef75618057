// Waits for many objects at once using watches (one per kind and namespace), printing live progress:
// on a TTY one line per object rewritten in place, otherwise plain timestamped lines on change.
// On timeout prints each unready object's last conditions and recent Events, and for workloads
// (Deployment -> newest ReplicaSet -> Pods; StatefulSet, DaemonSet, ReplicaSet, Job -> Pods) a few of their
// unready pods, deduplicated by reason, with their recent Events (pod_diagnosis.hpp). While waiting, the
// progress line of a workload whose pods are blocked (unschedulable, image pull back-off, crash loop, …)
// names the first such pod and why.
#pragma once
#include <kurator/core/kube.hpp>
#include <kurator/core/readiness.hpp>

#include <chrono>
#include <ostream>
#include <vector>

namespace kurator::kube {

struct WaitOptions {
  std::chrono::milliseconds timeout{600000};
  bool tty = false;           // in-place progress lines
  std::ostream* progress = nullptr;  // default std::cerr
};

struct WaitTarget {
  std::string api_version, kind, namespace_, name;
  static WaitTarget from(const json& obj);
  std::string describe() const;
};

// Ok when every target is ready; Error(exit timeout) naming the unready ones with their reasons (and what
// blocks their pods: "(2 pods PodScheduled=False Unschedulable)") when the timeout passes; Error(failure) at once when one fails (e.g. a Job with BackoffLimitExceeded).
Status wait_ready(Client& client, const std::vector<WaitTarget>& targets, const WaitOptions& opts);

}  // namespace kurator::kube
