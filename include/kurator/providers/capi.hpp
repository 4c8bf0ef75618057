// Cluster API on a management cluster, as clusterctl does it, natively: the providers' release components
// (from the artifact layer) processed as `clusterctl init` processes them — its `${VAR}` rules, the
// clusterctl labels, the `Provider` inventory —, cert-manager first and checked the way clusterctl checks
// it, then every provider applied at once and its controllers waited for; and the view of one workload
// cluster's objects as the tree `clusterctl describe cluster` prints.
#pragma once
#include <kurator/core/artifacts.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/util/envsubst.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::providers::capi {
using json = nlohmann::json;

enum class ProviderType { core, bootstrap, control_plane, infrastructure };
// CoreProvider, BootstrapProvider, ControlPlaneProvider, InfrastructureProvider (the inventory's `type`).
std::string to_string(ProviderType t);

// One provider as clusterctl knows it.
struct ProviderSpec {
  std::string inventory_name;  // cluster-api, bootstrap-kubeadm, control-plane-kubeadm, infrastructure-aws
  std::string provider_name;   // cluster-api, kubeadm, kubeadm, aws
  ProviderType type = ProviderType::core;
  std::string artifact;        // catalog name of its components YAML
  std::string version;         // pinned
  std::string namespace_;      // where its controller runs (the components' one Namespace)
};

// What `clusterctl init --infrastructure aws:v2.11.1` installs with clusterctl v1.14.0: core, kubeadm
// bootstrap, kubeadm control plane, aws.
const std::vector<ProviderSpec>& aws_providers();
inline constexpr std::string_view kCertManagerArtifact = "cert-manager";
inline constexpr std::string_view kCertManagerNamespace = "cert-manager";

// A provider's components from its release YAML: variables substituted (clusterctl's rules: a variable
// without default that `vars` does not have is an error naming it), then the labels clusterctl adds
// (`clusterctl.cluster.x-k8s.io: ""`, `cluster.x-k8s.io/provider: <inventory name>`) on every object.
Result<std::vector<json>> provider_objects(const ProviderSpec& p, std::string_view text, std::string_view source,
                                           const envsubst::Lookup& vars);
// cert-manager's static manifest with clusterctl's label `clusterctl.cluster.x-k8s.io/core: cert-manager`.
Result<std::vector<json>> cert_manager_objects(std::string_view text, std::string_view source);
// The inventory CRD (manifests/capi/inventory-crd.yaml) and one provider's inventory object.
Result<json> inventory_crd();
json inventory_object(const ProviderSpec& p);

// Server-side applies `objs` in dependency order (CRDs Established before their custom resources), keeping
// only the objects' identities; what the provider layers' operations apply on a cluster.
Status apply_objects(kube::Client& c, std::vector<json> objs, std::chrono::milliseconds timeout);
// A dry-run plan: "# <title>: N objects", then each object as YAML (Secret values "<redacted>").
void print_plan(std::ostream& out, const std::string& title, const std::vector<json>& objs);

// A provider found in the inventory.
struct Installed {
  std::string inventory_name;
  std::string namespace_;
  std::string version;
};
// The inventory's Providers; empty when the inventory CRD is not there.
Result<std::vector<Installed>> installed_providers(kube::Client& mgmt);

struct EnsureOptions {
  artifacts::Store* store = nullptr;  // null on a dry run without a store: the plan then names the artifacts
  envsubst::Lookup vars;              // the variables the components need (AWS_B64ENCODED_CREDENTIALS)
  bool dry_run = false;
  std::chrono::milliseconds timeout{600000};
  bool tty = false;
  std::ostream* progress = nullptr;  // default std::cerr
  std::ostream* plan = nullptr;      // dry run: the objects (Secrets redacted); default std::cout
};
struct EnsureResult {
  std::vector<std::string> installed;  // inventory names applied by this run
  std::vector<std::string> present;    // already at the pinned version: left alone
  std::vector<std::string> other_version;  // "cluster-api v1.13.2 (kurator pins v1.14.0)": left alone
  bool cert_manager_installed = false;
};
// Makes `mgmt` a management cluster for `providers`: the inventory CRD; cert-manager (unless present),
// its Deployments waited for and then proved to issue a certificate; the providers not yet in the
// inventory, all applied at once, their inventory objects, and every provider Deployment waited for.
// Providers in the inventory are left alone (another version is reported, never upgraded).
Result<EnsureResult> ensure_providers(kube::Client& mgmt, const std::vector<ProviderSpec>& providers,
                                     const EnsureOptions& opts);

// ---- a workload cluster's objects on the management cluster ------------------------------------------

// The Cluster API objects of cluster `name` in `ns`, read at the versions the pinned releases store
// (cluster.x-k8s.io/v1beta2 etc.); the infrastructure kinds are those the Cluster's refs name.
struct ClusterObjects {
  json cluster;                   // null when gone
  json infrastructure;            // the AWSCluster (null when not found)
  json control_plane;             // the KubeadmControlPlane
  std::vector<json> machine_deployments;
  std::vector<json> machines;
  std::vector<json> infra_machines;  // AWSMachines
};
Result<ClusterObjects> read_cluster(kube::Client& mgmt, const std::string& ns, const std::string& name);

// One row of the tree, like clusterctl describe: "Cluster/demo", "├─ControlPlane - KubeadmControlPlane/…".
struct TreeRow {
  std::string name;      // with the tree prefix
  std::string object;    // Kind/name ("" for the Workers group row)
  std::string replicas;  // "ready/desired" or ""
  std::string status;    // Available=True / Ready=False / phase
  std::string reason;    // the failing condition's reason
  std::string message;   // and its message
};
std::vector<TreeRow> tree(const ClusterObjects& objs);
std::string render_tree(const std::vector<TreeRow>& rows);

// The condition `type` of an object (v1beta2 status.conditions), or null.
json condition(const json& obj, std::string_view type);
// Cluster Available=True for the current generation.
bool cluster_available(const json& cluster);
// What is not ready, from the tree: "Machine/demo-md-0-x: Ready=False WaitingForInfrastructure: …; …".
std::string not_ready_summary(const ClusterObjects& objs);

struct WatchClusterOptions {
  std::chrono::milliseconds timeout{600000};
  bool tty = false;
  std::ostream* progress = nullptr;  // default std::cerr
  std::string what = "Available";    // for messages
};
// Watches the cluster's objects and prints the tree each time it changes until `done(objects)` is true;
// on timeout: Error(timeout) naming what is not ready (not_ready_summary).
Status watch_cluster(kube::Client& mgmt, const std::string& ns, const std::string& name,
                     const std::function<bool(const ClusterObjects&)>& done, const WatchClusterOptions& opts);

}  // namespace kurator::providers::capi
