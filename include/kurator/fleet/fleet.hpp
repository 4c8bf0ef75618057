// The fleet layer: how every installer reaches member clusters. "These objects go to these member
// clusters, with these per-cluster values; wait until they are ready there."
//
// Two modes behind one interface:
//   karmada  objects are applied to the Karmada apiserver with a PropagationPolicy (namespaced, one per
//            namespace) / ClusterPropagationPolicy (cluster-scoped) named kurator-<component> listing the
//            objects and naming the chosen members; per-member values as OverridePolicy /
//            ClusterOverridePolicy (plaintext overriders, one rule per member). Namespaces are not
//            selected: Karmada propagates them to every member itself. Readiness is read back from each
//            member through a client built from its Cluster object and the Secret it references
//            (karmada.hpp): the Karmada apiserver runs no workload controllers.
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
#include <ostream>
#include <string>
#include <vector>

namespace kurator::fleet {
using json = nlohmann::json;

enum class Mode { direct, karmada };
std::string to_string(Mode m);

// One member cluster as kurator reaches it.
struct Member {
  std::string name;  // kubeconfig context (direct) or Karmada Cluster name (karmada)
  kubeconfig::RestConfig config;
  // Why the member cannot be reached (empty: it answered). Only ever set when the selection allowed
  // unreachable members (Selection::require_reachable = false, e.g. `kurator status`).
  std::string problem;
};

// What the user chose with the fleet flags (--fleet, --karmada-kubeconfig, --clusters, --kubeconfig,
// --context).
struct Selection {
  Mode mode = Mode::direct;
  kubeconfig::LoadOptions kubeconfig;  // direct: the kubeconfig whose contexts are the members
  // direct: context names (empty: --context, else the current context); karmada: joined member names
  // (empty: all).
  std::vector<std::string> clusters;
  std::filesystem::path
      karmada_kubeconfig;  // karmada: default $KURATOR_HOME/karmada/karmada-apiserver.config
  std::chrono::milliseconds connect_timeout{
      std::chrono::seconds(10)};  // an unreachable member fails in bounded time
  // false: an unreachable member is kept with Member::problem set instead of failing open().
  bool require_reachable = true;
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
  std::string component;      // e.g. "volcano": names the policies kurator makes ("kurator-volcano")
  std::vector<json> objects;  // the same for every member (already customised for all of them)
  std::map<std::string, std::vector<Override>> per_member;  // member name -> its overrides
};

// What apply would do, for --dry-run: per apiserver, the objects that would be sent there.
struct PlannedStep {
  std::string target;  // "karmada" or the member name
  std::string server;  // the apiserver URL
  std::vector<json> objects;
};

// What apply did on one apiserver.
struct AppliedStep {
  std::string target;  // "karmada" or the member name
  std::string server;
  size_t objects = 0;
  std::vector<std::string> changed;  // objects the apiserver changed ("Deployment/ns/name"); empty: a no-op
};
struct ApplyReport {
  std::vector<AppliedStep> steps;
  bool unchanged() const;  // nothing changed anywhere
};

// What remove did on one apiserver.
struct RemovedStep {
  std::string target;
  size_t deleted = 0;  // objects that were there and are gone now
  size_t absent = 0;   // objects that were not there
};
struct RemoveReport {
  std::vector<RemovedStep> steps;
  bool nothing_found() const;  // nothing was installed anywhere
};

class Fleet {
 public:
  virtual ~Fleet() = default;
  virtual Mode mode() const = 0;
  // The chosen members (resolved and checked reachable when the fleet was opened).
  virtual const std::vector<Member>& members() const = 0;
  // Where objects are sent: the Karmada apiserver (karmada) or empty (direct: each member's own).
  virtual std::string control_plane() const = 0;
  // Exactly what apply() sends where; changes nothing.
  virtual Result<std::vector<PlannedStep>> plan(const Workload& w) = 0;
  // Server-side applies everything (idempotent; fieldValidation=Strict). Members are worked in parallel.
  // Reports which objects each apiserver changed (none on a re-run of the same workload).
  virtual Result<ApplyReport> apply(const Workload& w) = 0;
  // Waits until every object of `w` is ready in every member (the watch-based waiter, members in
  // parallel, progress prefixed with the member's name). On timeout names what is not ready where.
  virtual Status wait_ready(const Workload& w, const kube::WaitOptions& opts) = 0;
  // Deletes what apply() made (and its policies) in reverse dependency order (webhooks first, namespaces
  // last), waits until it is gone from every member; names what it could not remove.
  virtual Result<RemoveReport> remove(const Workload& w, std::chrono::milliseconds timeout) = 0;
};

// Opens the fleet the selection names: loads kubeconfigs, resolves members (errors name an unknown
// context / member and list the known ones; "Karmada not installed" names the kubeconfig path and the
// command that installs it), and checks each member answers within connect_timeout.
Result<std::unique_ptr<Fleet>> open(const Selection& sel);

// Applies one Override's operations to an object (direct mode; also used by tests to check what
// Karmada would produce). Errors name the object, the path and the operation.
Status apply_overrides(json& obj, const std::vector<PatchOp>& ops);

// Karmada mode's policies for a workload sent to `members` (objects must carry their namespace when
// namespaced): a PropagationPolicy kurator-<component> per namespace, a ClusterPropagationPolicy
// kurator-<component> for the cluster-scoped objects (Namespaces are left to Karmada), and per overridden
// object an OverridePolicy / ClusterOverridePolicy kurator-<component>-<kind>-<name> with one rule per
// member. Labelled app.kubernetes.io/managed-by=kurator, kurator.dev/component=<component>.
std::vector<json> karmada_policies(const Workload& w, const std::vector<std::string>& members);

// The name of an object's OverridePolicy (DNS-1123, at most 63 characters: a hash replaces the tail).
std::string override_policy_name(const std::string& component, const std::string& kind,
                                 const std::string& name);

// For --dry-run: the plan as YAML, each target's objects after a comment line
// "# <target> (<server>): N objects". Secrets' data/stringData values print as "<redacted>" (keys kept).
std::string render_plan(const std::vector<PlannedStep>& plan);

}  // namespace kurator::fleet
