// The fleet layer: how every installer reaches member clusters. "These objects go to these member
// clusters, with these per-cluster values; wait until they are ready there."
//
// Two modes behind one interface:
//   karmada  objects are applied to the Karmada apiserver with a PropagationPolicy (namespaced) /
//            ClusterPropagationPolicy (cluster-scoped) naming the chosen members, per-member values as
//            OverridePolicy / ClusterOverridePolicy; readiness is read back from each member through a
//            client built from its Cluster object and the Secret it references (members.hpp).
//   direct   objects are applied to each member (kubeconfig contexts) in parallel, per-member values
//            applied by kurator itself (the same patch operations).
#pragma once
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kurator::fleet {
using json = nlohmann::json;

enum class Mode { direct, karmada };

// One member cluster as kurator reaches it.
struct Member {
  std::string name;  // kubeconfig context (direct) or Karmada Cluster name (karmada)
  kubeconfig::RestConfig config;
};

// What the user chose with the fleet flags (--fleet, --karmada-kubeconfig, --clusters, --kubeconfig,
// --context).
struct Selection {
  Mode mode = Mode::direct;
  kubeconfig::LoadOptions kubeconfig;  // direct: the kubeconfig whose contexts are the members
  // direct: context names (empty: the current context); karmada: joined member names (empty: all).
  std::vector<std::string> clusters;
  std::filesystem::path karmada_kubeconfig;  // karmada: default $KURATOR_HOME/karmada/karmada-apiserver.config
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};  // an unreachable member fails in bounded time
};

// One JSON-patch operation on one object for one member, with the semantics of Karmada's plaintext
// overrider (operator add | replace | remove, `path` a JSON pointer).
struct PatchOp {
  std::string op;
  std::string path;
  json value;  // unused for remove
};

struct Override {
  std::string api_version, kind, namespace_, name;  // the object it applies to
  std::vector<PatchOp> ops;
};

// What an installer hands the fleet.
struct Workload {
  std::string component;       // e.g. "volcano": names the policies kurator makes ("kurator-volcano")
  std::vector<json> objects;   // the same for every member (already customised for all of them)
  std::map<std::string, std::vector<Override>> per_member;  // member name -> its overrides
};

// What apply would do, for --dry-run: per apiserver, the objects that would be sent there.
struct PlannedStep {
  std::string target;  // "karmada" or the member name
  std::string server;  // the apiserver URL
  std::vector<json> objects;
};

class Fleet {
 public:
  virtual ~Fleet() = default;
  virtual Mode mode() const = 0;
  // The chosen members (resolved and checked reachable when the fleet was opened).
  virtual const std::vector<Member>& members() const = 0;
  // Exactly what apply() sends where; changes nothing.
  virtual Result<std::vector<PlannedStep>> plan(const Workload& w) = 0;
  // Server-side applies everything (idempotent). Members are worked in parallel.
  virtual Status apply(const Workload& w) = 0;
  // Waits until every object of `w` is ready in every member (the watch-based waiter, members in
  // parallel, progress prefixed with the member's name). On timeout names what is not ready where.
  virtual Status wait_ready(const Workload& w, const kube::WaitOptions& opts) = 0;
  // Deletes what apply() made (and its policies), waits until it is gone; names what it could not remove.
  virtual Status remove(const Workload& w, std::chrono::milliseconds timeout) = 0;
};

// Opens the fleet the selection names: loads kubeconfigs, resolves members (errors name an unknown
// context / member and list the known ones; "Karmada not installed" names the kubeconfig path and the
// command that installs it), and checks each member answers within connect_timeout.
Result<std::unique_ptr<Fleet>> open(const Selection& sel);

// Applies one Override's operations to an object (direct mode; also used by tests to check what
// Karmada would produce). Errors name the object, the path and the operation.
Status apply_overrides(json& obj, const std::vector<PatchOp>& ops);

}  // namespace kurator::fleet
