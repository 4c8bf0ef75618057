#include <kurator/core/kube.hpp>
#include <kurator/core/readiness.hpp>
#include <kurator/util/cancel.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

namespace kurator::kube {

int apply_rank(const json& obj) {
  // Helm's install order: objects that never need a CRD (storage and priority classes, service
  // accounts, config, secrets, quotas, volumes) come before the CRDs, so they are written while the
  // apiserver is not yet busy digesting new CRDs; RBAC, Services and workloads (operators whose
  // types must exist) after them.
  static const std::map<std::string, int> ranks = {
      {"Namespace", 0},
      {"PriorityClass", 1},
      {"StorageClass", 1},
      {"ServiceAccount", 1},
      {"ConfigMap", 1},
      {"Secret", 1},
      {"LimitRange", 1},
      {"ResourceQuota", 1},
      {"PersistentVolume", 1},
      {"CustomResourceDefinition", 2},
      {"PersistentVolumeClaim", 2},
      {"ClusterRole", 3},
      {"Role", 3},
      {"ClusterRoleBinding", 4},
      {"RoleBinding", 4},
      {"Service", 5},
      // Webhook configurations last: a webhook whose backend is not up yet would block the rest.
      {"MutatingWebhookConfiguration", 8},
      {"ValidatingWebhookConfiguration", 8},
      {"APIService", 8},
  };
  auto it = ranks.find(obj.value("kind", ""));
  if (it != ranks.end()) return it->second;
  std::string av = obj.value("apiVersion", "");
  // Built-in workloads and everything in core/apps/batch next; custom resources after their CRDs.
  static const char* builtin_groups[] = {"v1", "apps/", "batch/", "policy/", "networking.k8s.io/", "autoscaling/",
                                         "rbac.authorization.k8s.io/", "scheduling.k8s.io/", "storage.k8s.io/"};
  for (const char* g : builtin_groups)
    if (av == g || av.rfind(g, 0) == 0) return 6;
  return 7;
}

std::vector<std::vector<size_t>> dependency_level_indices(const std::vector<json>& objs) {
  std::map<int, std::vector<size_t>> by_rank;
  for (size_t i = 0; i < objs.size(); ++i) by_rank[apply_rank(objs[i])].push_back(i);
  std::vector<std::vector<size_t>> out;
  for (auto& [rank, level] : by_rank) out.push_back(std::move(level));
  return out;
}

std::vector<std::vector<json>> dependency_levels(std::vector<json> objs) {
  std::vector<std::vector<json>> out;
  for (const auto& level : dependency_level_indices(objs)) {
    out.emplace_back();
    for (size_t i : level) out.back().push_back(std::move(objs[i]));
  }
  return out;
}

Status validate_objects(const std::vector<json>& objs, const std::string& source) {
  for (size_t i = 0; i < objs.size(); ++i) {
    const json& o = objs[i];
    std::string where = source + ": document " + std::to_string(i + 1);
    if (!o.is_object()) return Error(where + ": not a Kubernetes object (expected a mapping)", ExitCode::failure);
    auto str_field = [&](const char* f) { return o.contains(f) && o[f].is_string() && !o[f].get<std::string>().empty(); };
    if (!str_field("apiVersion"))
      return Error(where + ": apiVersion is missing", ExitCode::failure, "every object needs apiVersion, kind and metadata.name");
    if (!str_field("kind"))
      return Error(where + ": kind is missing", ExitCode::failure, "every object needs apiVersion, kind and metadata.name");
    if (o["kind"].get<std::string>().size() > 4 && o["kind"].get<std::string>().ends_with("List") && o.contains("items"))
      continue;  // expanded by the caller
    if (!o.contains("metadata") || !o["metadata"].is_object() || !o["metadata"].contains("name") ||
        !o["metadata"]["name"].is_string() || o["metadata"]["name"].get<std::string>().empty()) {
      if (o.contains("metadata") && o["metadata"].is_object() && o["metadata"].contains("generateName"))
        return Error(where + " (" + o["kind"].get<std::string>() + "): metadata.generateName is not supported by apply",
                     ExitCode::failure, "give the object a metadata.name");
      return Error(where + " (" + o["kind"].get<std::string>() + "): metadata.name is missing", ExitCode::failure,
                   "every object needs apiVersion, kind and metadata.name");
    }
  }
  return {};
}

namespace {

// Waits until every CRD in `crds` reports Established, watching them.
Status wait_crds_established(Client& client, const std::vector<json>& crds, std::chrono::milliseconds timeout) {
  if (crds.empty()) return {};
  std::map<std::string, bool> pending;
  for (const auto& c : crds) pending[c["metadata"].value("name", "")] = true;
  WatchOptions wo;
  wo.timeout = timeout;
  auto st = client.watch("apiextensions.k8s.io/v1", "CustomResourceDefinition", wo, [&](const WatchEvent& ev) {
    std::string name = ev.object["metadata"].value("name", "");
    if (pending.count(name) && evaluate(ev.object).ready()) pending.erase(name);
    return !pending.empty();
  });
  if (!st) {
    if (st.error().exit == ExitCode::timeout) {
      std::string names;
      for (const auto& [n, _] : pending) names += (names.empty() ? "" : ", ") + n;
      return Error("timed out waiting for CustomResourceDefinitions to be Established: " + names, ExitCode::timeout);
    }
    return st;
  }
  return {};
}

}  // namespace

namespace {
json identity_of(const json& o) {
  json id = {{"apiVersion", o.value("apiVersion", "")}, {"kind", o.value("kind", "")}, {"metadata", json::object()}};
  for (const char* k : {"name", "namespace", "uid", "generation", "resourceVersion"})
    if (o.contains("metadata") && o["metadata"].contains(k)) id["metadata"][k] = o["metadata"][k];
  return id;
}
}  // namespace

Result<std::vector<json>> apply_all(Client& client, std::vector<json> objs, const ApplyAllOptions& opts,
                                    const std::string& default_namespace) {
  // Expand v1 List objects.
  std::vector<json> flat;
  flat.reserve(objs.size());
  for (auto& o : objs) {
    std::string kind = o.value("kind", "");
    if (kind.size() > 4 && kind.ends_with("List") && o.contains("items") && o["items"].is_array()) {
      for (auto& item : o["items"]) flat.push_back(std::move(item));
    } else {
      flat.push_back(std::move(o));
    }
  }
  objs.clear();
  std::vector<json> results(flat.size());
  ApplyOptions apply_opts = opts.apply;
  if (!opts.keep_results) apply_opts.identity_only = true;
  // CRDs applied but not yet known to be Established. Only custom resources need them, so the wait
  // happens right before the first level that holds a non-built-in kind (or at the end when custom
  // resources follow nothing): built-in objects are applied meanwhile.
  std::vector<json> pending_crds;
  auto wait_pending = [&]() -> Status {
    if (pending_crds.empty() || opts.apply.dry_run) return {};
    auto st = wait_crds_established(client, pending_crds, opts.crd_timeout);
    pending_crds.clear();
    return st;
  };
  for (const auto& level : dependency_level_indices(flat)) {
    bool needs_crds = false;
    for (size_t i : level)
      if (apply_rank(flat[i]) >= 7) needs_crds = true;
    if (needs_crds) KURATOR_TRY(wait_pending());
    // Namespaced objects without a namespace get the default one (cluster-scoped kinds are left alone).
    for (size_t i : level) {
      json& o = flat[i];
      if (o["metadata"].contains("namespace")) continue;
      auto info = client.resource_for(GroupVersionKind::from_api_version(o.value("apiVersion", ""), o.value("kind", "")));
      if (info && info->namespaced) o["metadata"]["namespace"] = default_namespace;
    }
    for (size_t i : level)
      if (flat[i].value("kind", "") == "CustomResourceDefinition") pending_crds.push_back(identity_of(flat[i]));
    std::atomic<size_t> next{0};
    std::mutex err_mu;
    std::optional<Error> first_error;
    auto worker = [&] {
      for (;;) {
        size_t k = next.fetch_add(1);
        if (k >= level.size()) return;
        {
          std::lock_guard<std::mutex> g(err_mu);
          if (first_error) return;
        }
        if (cancel::requested()) {
          std::lock_guard<std::mutex> g(err_mu);
          if (!first_error) first_error = Error("interrupted", ExitCode::interrupted);
          return;
        }
        size_t index = level[k];
        auto r = client.apply(flat[index], apply_opts);
        flat[index] = nullptr;  // the input is not needed any more
        if (!r) {
          std::lock_guard<std::mutex> g(err_mu);
          if (!first_error) first_error = r.error();
          return;
        }
        if (opts.on_applied) opts.on_applied(*r);
        results[index] = std::move(*r);
      }
    };
    size_t n_threads = std::min<size_t>(std::max(1, opts.concurrency), level.size());
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n_threads; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    if (first_error) return *first_error;
  }
  // Leave only once every CRD of the input is Established, so it can be used right away.
  if (opts.crds_established_at_end) KURATOR_TRY(wait_pending());
  return results;
}

json redact_secret(const json& obj) {
  if (!obj.is_object() || obj.value("kind", "") != "Secret") return obj;
  json r = obj;
  for (const char* field : {"data", "stringData"})
    if (auto it = r.find(field); it != r.end() && it->is_object())
      for (auto& [k, v] : it->items()) v = "<redacted>";
  return r;
}

}  // namespace kurator::kube
