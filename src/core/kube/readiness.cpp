// Readiness from status, following sigs.k8s.io/cli-utils/pkg/kstatus (and kubectl rollout status for the
// workload messages). Deliberate differences from kstatus, because kurator waits for installs to finish:
// a running Job is in progress (kstatus: Current), a crash-looping or unschedulable Pod stays in progress
// (it may recover once its dependencies are up), a LoadBalancer Service needs an ingress address, and a
// workload whose status.observedGeneration is missing has not been seen by its controller yet.
#include <kurator/core/readiness.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace kurator::kube {
namespace {
using json = nlohmann::json;

const json* find(const json& obj, std::initializer_list<std::string_view> path) {
  const json* cur = &obj;
  for (auto key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end() || it->is_null()) return nullptr;
    cur = &*it;
  }
  return cur;
}

long long get_int(const json& obj, std::initializer_list<std::string_view> path, long long def) {
  const json* v = find(obj, path);
  if (!v) return def;
  if (v->is_number_integer()) return v->get<long long>();
  if (v->is_number()) return static_cast<long long>(v->get<double>());
  return def;
}

bool has(const json& obj, std::initializer_list<std::string_view> path) {
  return find(obj, path) != nullptr;
}

std::string get_str(const json& obj, std::initializer_list<std::string_view> path, std::string def = {}) {
  const json* v = find(obj, path);
  if (!v || !v->is_string()) return def;
  return v->get<std::string>();
}

std::string str_field(const json& j, std::string_view key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

const json* condition(const json& obj, std::string_view type) {
  const json* conds = find(obj, {"status", "conditions"});
  if (!conds || !conds->is_array()) return nullptr;
  for (const auto& c : *conds) {
    if (str_field(c, "type") == type) return &c;
  }
  return nullptr;
}

bool condition_is(const json& obj, std::string_view type, std::string_view status) {
  const json* c = condition(obj, type);
  return c && str_field(*c, "status") == status;
}

// "Reason: message", either alone, or `fallback` when the condition says neither.
std::string describe_condition(const json& c, const std::string& fallback) {
  std::string reason = str_field(c, "reason"), message = str_field(c, "message");
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (!reason.empty() && !message.empty()) return reason + ": " + message;
  if (!reason.empty()) return reason;
  if (!message.empty()) return message;
  return fallback;
}

std::string plural(long long n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

ReadyState ready(std::string reason) {
  return {Readiness::ready, std::move(reason)};
}
ReadyState progressing(std::string reason) {
  return {Readiness::in_progress, std::move(reason)};
}
ReadyState failed(std::string reason) {
  return {Readiness::failed, std::move(reason)};
}

// metadata.generation not yet reflected in status.observedGeneration. Workload controllers always write
// observedGeneration, so for them a missing one means "not observed yet" (`required`); for other kinds
// it is only compared when present.
std::optional<ReadyState> check_generation(const json& obj, bool required) {
  if (!has(obj, {"metadata", "generation"})) return std::nullopt;
  long long generation = get_int(obj, {"metadata", "generation"}, 0);
  if (!has(obj, {"status", "observedGeneration"})) {
    if (!required) return std::nullopt;
    return progressing("waiting for the controller to observe the object");
  }
  long long observed = get_int(obj, {"status", "observedGeneration"}, 0);
  if (observed < generation) {
    return progressing(
        fmt::format("waiting for generation {} to be observed (observed: {})", generation, observed));
  }
  return std::nullopt;
}

ReadyState deployment(const json& obj) {
  if (auto g = check_generation(obj, true)) return *g;
  if (const json* p = condition(obj, "Progressing");
      p && str_field(*p, "reason") == "ProgressDeadlineExceeded" && str_field(*p, "status") != "True") {
    return failed("rollout failed: " + describe_condition(*p, "ProgressDeadlineExceeded"));
  }
  long long spec = get_int(obj, {"spec", "replicas"}, 1);
  long long replicas = get_int(obj, {"status", "replicas"}, 0);
  long long updated = get_int(obj, {"status", "updatedReplicas"}, 0);
  long long ready_n = get_int(obj, {"status", "readyReplicas"}, 0);
  long long available = get_int(obj, {"status", "availableReplicas"}, 0);
  if (updated < spec) {
    return progressing(fmt::format("waiting for rollout: {}/{} replicas updated", updated, spec));
  }
  if (replicas > updated) {
    return progressing(fmt::format("waiting for rollout: {} pending termination",
                                   plural(replicas - updated, "old replica")));
  }
  if (ready_n < spec) return progressing(fmt::format("{}/{} replicas ready", ready_n, spec));
  if (available < updated) return progressing(fmt::format("{}/{} replicas available", available, spec));
  if (spec == 0) return ready("scaled to 0 replicas");
  return ready(fmt::format("{}/{} replicas ready", ready_n, spec));
}

ReadyState statefulset(const json& obj) {
  if (auto g = check_generation(obj, true)) return *g;
  long long spec = get_int(obj, {"spec", "replicas"}, 1);
  long long replicas = get_int(obj, {"status", "replicas"}, 0);
  long long ready_n = get_int(obj, {"status", "readyReplicas"}, 0);
  long long current = get_int(obj, {"status", "currentReplicas"}, 0);
  long long updated = get_int(obj, {"status", "updatedReplicas"}, 0);
  if (ready_n < spec) return progressing(fmt::format("{}/{} replicas ready", ready_n, spec));
  if (has(obj, {"status", "availableReplicas"})) {
    long long available = get_int(obj, {"status", "availableReplicas"}, 0);
    if (available < spec) return progressing(fmt::format("{}/{} replicas available", available, spec));
  }
  if (replicas > spec) {
    return progressing(
        fmt::format("waiting for scale-down: {} pending termination", plural(replicas - spec, "replica")));
  }
  std::string strategy = get_str(obj, {"spec", "updateStrategy", "type"}, "RollingUpdate");
  if (strategy == "RollingUpdate") {
    long long partition = get_int(obj, {"spec", "updateStrategy", "rollingUpdate", "partition"}, 0);
    if (partition > 0) {
      long long want = std::max(0LL, spec - partition);
      if (updated < want) {
        return progressing(
            fmt::format("waiting for partitioned rollout: {}/{} replicas updated", updated, want));
      }
      return ready(fmt::format("{}/{} replicas ready, partitioned rollout done", ready_n, spec));
    }
    std::string current_rev = get_str(obj, {"status", "currentRevision"});
    std::string update_rev = get_str(obj, {"status", "updateRevision"});
    if (current_rev != update_rev) {
      if (updated < spec)
        return progressing(fmt::format("waiting for rollout: {}/{} replicas updated", updated, spec));
      return progressing(fmt::format("waiting for rollout: revision {} not current yet", update_rev));
    }
    if (current < spec)
      return progressing(fmt::format("waiting for rollout: {}/{} replicas current", current, spec));
  }
  if (spec == 0) return ready("scaled to 0 replicas");
  return ready(fmt::format("{}/{} replicas ready", ready_n, spec));
}

ReadyState daemonset(const json& obj) {
  if (auto g = check_generation(obj, true)) return *g;
  if (!has(obj, {"status", "desiredNumberScheduled"})) return progressing("waiting for the controller");
  long long desired = get_int(obj, {"status", "desiredNumberScheduled"}, 0);
  long long scheduled = get_int(obj, {"status", "currentNumberScheduled"}, 0);
  long long updated = get_int(obj, {"status", "updatedNumberScheduled"}, 0);
  long long ready_n = get_int(obj, {"status", "numberReady"}, 0);
  long long available = get_int(obj, {"status", "numberAvailable"}, 0);
  std::string strategy = get_str(obj, {"spec", "updateStrategy", "type"}, "RollingUpdate");
  if (scheduled < desired) return progressing(fmt::format("{}/{} pods scheduled", scheduled, desired));
  if (strategy == "RollingUpdate" && updated < desired) {
    return progressing(fmt::format("waiting for rollout: {}/{} pods updated", updated, desired));
  }
  if (ready_n < desired) return progressing(fmt::format("{}/{} pods ready", ready_n, desired));
  if (available < desired) return progressing(fmt::format("{}/{} pods available", available, desired));
  if (desired == 0) return ready("no nodes to schedule on (0 pods desired)");
  return ready(fmt::format("{}/{} pods ready", ready_n, desired));
}

ReadyState replicaset(const json& obj) {
  if (auto g = check_generation(obj, true)) return *g;
  long long spec = get_int(obj, {"spec", "replicas"}, 1);
  long long replicas = get_int(obj, {"status", "replicas"}, 0);
  long long ready_n = get_int(obj, {"status", "readyReplicas"}, 0);
  long long available = get_int(obj, {"status", "availableReplicas"}, 0);
  if (const json* f = condition(obj, "ReplicaFailure"); f && str_field(*f, "status") == "True") {
    return progressing(fmt::format("{}/{} replicas ready, ", ready_n, spec) +
                       describe_condition(*f, "ReplicaFailure"));
  }
  if (ready_n < spec) return progressing(fmt::format("{}/{} replicas ready", ready_n, spec));
  if (available < spec) return progressing(fmt::format("{}/{} replicas available", available, spec));
  if (replicas > spec) {
    return progressing(
        fmt::format("waiting for scale-down: {} pending termination", plural(replicas - spec, "replica")));
  }
  if (spec == 0) return ready("scaled to 0 replicas");
  return ready(fmt::format("{}/{} replicas ready", ready_n, spec));
}

ReadyState job(const json& obj) {
  long long succeeded = get_int(obj, {"status", "succeeded"}, 0);
  long long active = get_int(obj, {"status", "active"}, 0);
  long long failed_n = get_int(obj, {"status", "failed"}, 0);
  bool has_completions = has(obj, {"spec", "completions"});
  long long completions = get_int(obj, {"spec", "completions"}, 1);
  auto succeeded_text = [&] {
    return has_completions ? fmt::format("{}/{} succeeded", succeeded, completions)
                           : fmt::format("{} succeeded", succeeded);
  };
  // Failed is final; FailureTarget (1.31+) is set first and means the Job will fail once its pods end.
  for (const char* type : {"Failed", "FailureTarget"}) {
    if (const json* c = condition(obj, type); c && str_field(*c, "status") == "True") {
      std::string reason = str_field(*c, "reason");
      return failed("Job failed: " + (reason.empty() ? describe_condition(*c, "unknown reason") : reason));
    }
  }
  if (condition_is(obj, "Complete", "True")) return ready("Job complete: " + succeeded_text());
  if (condition_is(obj, "SuccessCriteriaMet", "True"))
    return progressing("Job succeeded, waiting for its pods to end");
  if (condition_is(obj, "Suspended", "True")) return progressing("Job suspended");
  if (!has(obj, {"status", "startTime"})) return progressing("Job not started yet");
  std::string text = fmt::format("Job running: {}, {} active", succeeded_text(), active);
  if (failed_n > 0) text += fmt::format(", {} failed", failed_n);
  return progressing(text);
}

// The first container (init containers first) that is waiting or terminated with a reason worth showing.
std::string container_problem(const json& obj) {
  for (auto [key, label] : {std::pair{"initContainerStatuses", "init container "},
                            std::pair{"containerStatuses", "container "}}) {
    const json* statuses = find(obj, {"status", key});
    if (!statuses || !statuses->is_array()) continue;
    for (const auto& cs : *statuses) {
      const json* waiting = find(cs, {"state", "waiting"});
      if (waiting) {
        std::string reason = str_field(*waiting, "reason");
        if (reason.empty()) reason = "waiting";
        return fmt::format("{}{}: {}", label, str_field(cs, "name"), reason);
      }
      const json* term = find(cs, {"state", "terminated"});
      if (term && get_int(*term, {"exitCode"}, 0) != 0) {
        return fmt::format("{}{}: {} (exit code {})", label, str_field(cs, "name"),
                           str_field(*term, "reason").empty() ? "Error" : str_field(*term, "reason"),
                           get_int(*term, {"exitCode"}, 0));
      }
    }
  }
  return {};
}

ReadyState pod(const json& obj) {
  std::string phase = get_str(obj, {"status", "phase"});
  if (phase == "Succeeded") return ready("Succeeded");
  if (phase == "Failed") {
    std::string why = get_str(obj, {"status", "reason"});
    std::string problem = container_problem(obj);
    std::string text = "Pod failed";
    if (!why.empty()) text += ": " + why;
    if (!problem.empty()) text += (why.empty() ? ": " : ", ") + problem;
    if (why.empty() && problem.empty()) {
      std::string msg = get_str(obj, {"status", "message"});
      if (!msg.empty()) text += ": " + msg;
    }
    return failed(text);
  }
  if (condition_is(obj, "Ready", "True"))
    return ready(phase == "Running" || phase.empty() ? "Running, ready" : phase);
  if (phase.empty()) return progressing("waiting for the pod to be scheduled");
  if (const json* s = condition(obj, "PodScheduled"); s && str_field(*s, "status") == "False") {
    return progressing("not scheduled: " + describe_condition(*s, "Unschedulable"));
  }
  if (std::string problem = container_problem(obj); !problem.empty())
    return progressing(phase + ", " + problem);
  if (phase == "Running") {
    if (const json* r = condition(obj, "Ready"); r && !str_field(*r, "reason").empty()) {
      return progressing("Running, not ready: " + describe_condition(*r, "not ready"));
    }
    return progressing("Running, not ready");
  }
  return progressing(phase);
}

ReadyState crd(const json& obj) {
  if (const json* n = condition(obj, "NamesAccepted"); n && str_field(*n, "status") == "False") {
    return failed("names not accepted: " + describe_condition(*n, "NamesAccepted=False"));
  }
  if (const json* e = condition(obj, "Established")) {
    std::string status = str_field(*e, "status");
    if (status == "True") return ready("Established");
    if (status == "False" && str_field(*e, "reason") != "Installing") {
      return failed("not established: " + describe_condition(*e, "Established=False"));
    }
  }
  return progressing("waiting to be Established");
}

ReadyState apiservice(const json& obj) {
  if (const json* a = condition(obj, "Available")) {
    if (str_field(*a, "status") == "True") return ready("Available");
    return progressing("unavailable: " + describe_condition(*a, "Available=" + str_field(*a, "status")));
  }
  return progressing("waiting for the Available condition");
}

ReadyState service(const json& obj) {
  std::string type = get_str(obj, {"spec", "type"}, "ClusterIP");
  if (type != "LoadBalancer") return ready(type);
  const json* ingress = find(obj, {"status", "loadBalancer", "ingress"});
  if (!ingress || !ingress->is_array() || ingress->empty())
    return progressing("waiting for a load balancer address");
  std::string addr = str_field(ingress->front(), "ip");
  if (addr.empty()) addr = str_field(ingress->front(), "hostname");
  return ready(addr.empty() ? "load balancer ready" : "load balancer " + addr);
}

ReadyState pvc(const json& obj) {
  std::string phase = get_str(obj, {"status", "phase"});
  if (phase == "Bound") return ready("Bound");
  if (phase == "Lost") return failed("claim Lost: its volume is gone");
  return progressing(phase.empty() ? "waiting to be bound" : phase);
}

ReadyState namespace_(const json& obj) {
  std::string phase = get_str(obj, {"status", "phase"});
  if (phase == "Active" || phase.empty()) return ready("Active");
  return progressing(phase);
}

// kstatus' standard conditions (Stalled, Reconciling) and the common Ready convention.
ReadyState generic(const json& obj) {
  if (auto g = check_generation(obj, false)) return *g;
  if (const json* s = condition(obj, "Stalled"); s && str_field(*s, "status") == "True") {
    return failed("stalled: " + describe_condition(*s, "Stalled"));
  }
  if (const json* r = condition(obj, "Reconciling"); r && str_field(*r, "status") == "True") {
    return progressing("reconciling: " + describe_condition(*r, "Reconciling"));
  }
  if (const json* r = condition(obj, "Ready")) {
    long long generation = get_int(obj, {"metadata", "generation"}, 0);
    if (r->contains("observedGeneration") && generation > 0 &&
        get_int(*r, {"observedGeneration"}, 0) < generation) {
      return progressing(fmt::format("waiting for generation {} to be observed (Ready condition is for {})",
                                     generation, get_int(*r, {"observedGeneration"}, 0)));
    }
    std::string status = str_field(*r, "status");
    if (status == "True") {
      std::string reason = str_field(*r, "reason");
      return ready(reason.empty() || reason == "Ready" ? "Ready" : "Ready: " + reason);
    }
    return progressing(describe_condition(*r, "Ready=" + (status.empty() ? std::string("Unknown") : status)));
  }
  return ready("exists");
}

// The Prometheus Operator's workloads (Prometheus, PrometheusAgent, Alertmanager, ThanosRuler): its
// statefulset reporter writes Available (True/Degraded/False) and Reconciled, each with the generation it
// is for; ready = both True for the current generation.
ReadyState monitoring(const json& obj) {
  long long generation = get_int(obj, {"metadata", "generation"}, 0);
  for (const char* type : {"Reconciled", "Available"}) {
    const json* c = condition(obj, type);
    if (!c) return progressing(fmt::format("waiting for the operator to report {}", type));
    long long observed = get_int(*c, {"observedGeneration"}, 0);
    if (generation > 0 && observed < generation)
      return progressing(fmt::format("waiting for generation {} to be observed ({} is for {})", generation,
                                     type, observed));
    std::string status = str_field(*c, "status");
    if (status != "True")
      return progressing(type + std::string("=") + (status.empty() ? "Unknown" : status) + " " +
                         describe_condition(*c, ""));
  }
  return ready("Available, Reconciled");
}

// cert-manager's Certificate: issued once its controller reports Ready=True (a Certificate nobody has looked
// at yet has no status at all, which must not count as ready); then as any object with a Ready condition.
ReadyState certificate(const json& obj) {
  if (!condition(obj, "Ready")) return progressing("waiting for cert-manager to issue it");
  return generic(obj);
}

}  // namespace

ReadyState evaluate(const nlohmann::json& obj) {
  if (!obj.is_object()) return progressing("not found yet");
  if (!get_str(obj, {"metadata", "deletionTimestamp"}).empty()) return progressing("being deleted");
  std::string api_version = get_str(obj, {"apiVersion"});
  std::string group =
      api_version.find('/') == std::string::npos ? "" : api_version.substr(0, api_version.find('/'));
  std::string kind = get_str(obj, {"kind"});
  if (group == "apps" || group == "extensions") {
    if (kind == "Deployment") return deployment(obj);
    if (kind == "StatefulSet") return statefulset(obj);
    if (kind == "DaemonSet") return daemonset(obj);
    if (kind == "ReplicaSet") return replicaset(obj);
  }
  if (group == "batch" && kind == "Job") return job(obj);
  if (group.empty()) {
    if (kind == "Pod") return pod(obj);
    if (kind == "Service") return service(obj);
    if (kind == "PersistentVolumeClaim") return pvc(obj);
    if (kind == "Namespace") return namespace_(obj);
  }
  if (group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition") return crd(obj);
  if (group == "apiregistration.k8s.io" && kind == "APIService") return apiservice(obj);
  if (group == "monitoring.coreos.com" &&
      (kind == "Prometheus" || kind == "PrometheusAgent" || kind == "Alertmanager" || kind == "ThanosRuler"))
    return monitoring(obj);
  if (group == "cert-manager.io" && kind == "Certificate") return certificate(obj);
  return generic(obj);
}

std::string format_conditions(const nlohmann::json& obj) {
  const json* conds = find(obj, {"status", "conditions"});
  if (!conds || !conds->is_array() || conds->empty()) return {};
  std::string out;
  for (const auto& c : *conds) {
    if (!out.empty()) out += '\n';
    std::string status = str_field(c, "status");
    out += str_field(c, "type") + "=" + (status.empty() ? "Unknown" : status);
    std::string reason = str_field(c, "reason"), message = str_field(c, "message");
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (!reason.empty()) out += " " + reason;
    if (!message.empty()) out += (reason.empty() ? " " : ": ") + message;
  }
  return out;
}

}  // namespace kurator::kube
