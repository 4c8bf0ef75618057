// Kubernetes REST client: discovery, get/list/create/server-side apply/delete/watch, ordered apply.
#pragma once
#include <kurator/core/http.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/result.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kurator::kube {
using json = nlohmann::json;

struct GroupVersionKind {
  std::string group, version, kind;
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  static GroupVersionKind from_api_version(const std::string& api_version, const std::string& kind);
};

// What discovery says about a kind.
struct ResourceInfo {
  GroupVersionKind gvk;
  std::string resource;  // plural, e.g. "deployments"
  bool namespaced = true;
  std::vector<std::string> verbs;
};

// Identifies an object for messages: "Deployment/default/web" (namespace left out when cluster-scoped).
std::string describe(const json& obj);

struct ApplyOptions {
  std::string field_manager = "kurator";
  bool force = true;
  bool dry_run = false;       // server-side dry run
  bool strict = true;         // fieldValidation=Strict
  // Return only apiVersion, kind and metadata's name, namespace, uid, generation and resourceVersion
  // of the applied object; the rest of the answer (a CRD's schema, managedFields) is never built.
  bool identity_only = false;
};

struct ListOptions {
  std::string namespace_;       // empty: all namespaces (or cluster-scoped)
  std::string label_selector;
  std::string field_selector;
  long limit = 500;             // page size; continue tokens are followed
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK
  json object;
};

struct WatchOptions {
  std::string namespace_;
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // start after this; empty: list first, then watch from the list's RV
  std::chrono::milliseconds timeout{0};  // overall; 0: until the callback says stop
  // Optional: set to true from another thread to end the watch promptly (within ~1 s) with ok.
  const std::atomic<bool>* stop = nullptr;
};

class Client {
 public:
  // `cfg` as loaded from a kubeconfig; `http` defaults to the process-wide client.
  explicit Client(kubeconfig::RestConfig cfg, http::Client* http = nullptr);
  ~Client();

  const kubeconfig::RestConfig& config() const { return m_cfg; }

  // Discovery (cached per Client; refresh() drops the cache, e.g. after CRDs are added).
  Result<ResourceInfo> resource_for(const GroupVersionKind& gvk);
  void refresh_discovery();
  Result<json> server_version();

  // Objects by apiVersion/kind/namespace/name.
  Result<json> get(const std::string& api_version, const std::string& kind, const std::string& ns,
                   const std::string& name);
  // All items of a kind (pages followed); the result is a List object with "items".
  Result<json> list(const std::string& api_version, const std::string& kind, const ListOptions& opts = {});
  Result<json> create(const json& obj);
  Result<json> apply(const json& obj, const ApplyOptions& opts = {});
  // propagation: Foreground | Background | Orphan. A missing object is success (already gone) when
  // `ignore_not_found` is set.
  Status remove(const std::string& api_version, const std::string& kind, const std::string& ns,
                const std::string& name, const std::string& propagation = "Background",
                bool ignore_not_found = true);
  // Patches the status subresource (merge patch), as a controller would. Used by test helpers that
  // stand in for operators and clouds.
  Result<json> patch_status(const json& obj, const json& merge_patch);

  // Watches a kind: when opts.resource_version is empty, lists first (each current item delivered as
  // ADDED), then streams events; resumes from the last resourceVersion after a dropped stream and
  // re-lists on 410 Gone. The callback returns false to stop. Ends with ok when stopped by the
  // callback, Error(timeout) when opts.timeout passes, Error(interrupted) on SIGINT/SIGTERM.
  Status watch(const std::string& api_version, const std::string& kind, const WatchOptions& opts,
               const std::function<bool(const WatchEvent&)>& on_event);

  // Events about one object (involvedObject uid or kind/name), newest last.
  Result<std::vector<json>> events_for(const json& obj);

  // Raw request against the apiserver (path starting with /), with auth and retries.
  Result<http::Response> request(const std::string& method, const std::string& path,
                                 const std::string& body = {}, const std::string& content_type = {},
                                 const std::function<bool(std::string_view)>& on_body = {},
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // Path of a kind's collection or object: /api/v1/namespaces/ns/pods[/name].
  Result<std::string> path_for(const GroupVersionKind& gvk, const std::string& ns, const std::string& name);

 private:
  Result<std::string> object_path(const json& obj, bool with_name);
  Error api_error(const http::Response& resp, const std::string& what);

  kubeconfig::RestConfig m_cfg;
  http::Client* m_http;
  std::unique_ptr<kubeconfig::CredentialProvider> m_creds;
  std::mutex m_discovery_mu;
  std::mutex m_discovery_load_mu;
  std::map<std::string, std::vector<ResourceInfo>> m_discovery;  // by apiVersion
};

// Ordering for apply, Helm's install order: Namespaces; ServiceAccounts, ConfigMaps, Secrets, storage
// and priority classes, quotas (they never need a CRD); CRDs; RBAC; bindings; Services; workloads;
// custom resources (once their CRDs are Established); webhooks.
// Ranks 0-6 are built-in kinds; 7 and up are custom resources and webhooks, which need CRDs.
int apply_rank(const json& obj);
// Stable-sorts objects into dependency levels by apply_rank (the objects are moved, not copied).
std::vector<std::vector<json>> dependency_levels(std::vector<json> objs);
// The indices of `objs` grouped the same way, for callers that keep the objects where they are.
std::vector<std::vector<size_t>> dependency_level_indices(const std::vector<json>& objs);

struct ApplyAllOptions {
  ApplyOptions apply;
  int concurrency = 8;                         // objects of one level applied at once
  std::chrono::milliseconds crd_timeout{60000};
  std::function<void(const json& applied)> on_applied;  // progress: called per applied object
  // false: keep only each applied object's identity (apiVersion, kind, metadata.name/namespace) in the
  // result, not the server's full answer, so large inputs (CRDs) are not held twice.
  bool keep_results = true;
  // true: return only once every CRD of the input is Established, so the next call can use it.
  // false: like `kubectl apply`, return once the apiserver accepted everything (CRDs are still waited
  // for before custom resources of the same input).
  bool crds_established_at_end = true;
};
// Applies objects level by level (concurrently within a level over reused connections). CRDs must be
// Established before custom resources are applied; built-in kinds do not wait for them. Objects without a
// namespace whose kind is namespaced get `default_namespace`. Returns the applied objects as the
// server returned them, in input order.
Result<std::vector<json>> apply_all(Client& client, std::vector<json> objs, const ApplyAllOptions& opts,
                                    const std::string& default_namespace = "default");

// A copy of `obj` with a Secret's data/stringData values replaced by "<redacted>" (keys kept; other kinds
// unchanged): what dry-run plans print.
json redact_secret(const json& obj);

// Validates that each document looks like a Kubernetes object (apiVersion, kind, metadata.name).
// Errors name the source and the document index.
Status validate_objects(const std::vector<json>& objs, const std::string& source);

}  // namespace kurator::kube
