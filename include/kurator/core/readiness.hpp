// Readiness decided from an object's status, the way kstatus does.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace kurator::kube {

enum class Readiness { ready, in_progress, failed };

struct ReadyState {
  Readiness state = Readiness::in_progress;
  std::string reason;   // short: "2/3 replicas ready", "Established", "Job failed: BackoffLimitExceeded"
  bool ready() const { return state == Readiness::ready; }
};

// Deployment, StatefulSet, DaemonSet, ReplicaSet (observedGeneration + counts), Job (Complete/Failed),
// Pod (Ready condition / Succeeded), CustomResourceDefinition (Established), APIService (Available),
// Service (LoadBalancer needs an ingress), PersistentVolumeClaim (Bound), Namespace (Active), the
// Prometheus Operator's Prometheus/PrometheusAgent/Alertmanager/ThanosRuler (Reconciled and Available True
// for the current generation), cert-manager's Certificate (Ready=True; no status yet is not ready), any
// object with a Ready condition (observedGeneration respected); anything else is ready once it exists.
ReadyState evaluate(const nlohmann::json& obj);

// The object's status.conditions rendered one per line: "Type=Status Reason: Message".
std::string format_conditions(const nlohmann::json& obj);

}  // namespace kurator::kube
