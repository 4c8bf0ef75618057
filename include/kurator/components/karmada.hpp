// The Karmada-side objects: what `karmadactl init` (v1.18.2) applies over the Karmada API once the
// control plane runs, built from data (manifests/karmada/, the CRDs artifact) by structured edits. One
// code path for the local Karmada (webhook and aggregated apiserver on 127.0.0.1) and the in-cluster
// install (Services in the Karmada system namespace).
#pragma once
#include <kurator/core/artifacts.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kurator::components::karmada {
using json = nlohmann::json;

// The catalog artifact holding crds/bases and crds/patches (crds.tar.gz of the Karmada release).
inline constexpr const char* kCrdsArtifact = "karmada-crds";
// The webhook's Service in a cluster, and the aggregated apiserver's Service name.
inline constexpr const char* kWebhookService = "karmada-webhook";
inline constexpr const char* kAggregatedApiserverService = "karmada-aggregated-apiserver";

struct ObjectsOptions {
  std::string namespace_ = "karmada-system";
  std::string ca_pem;  // the CA that signed the webhook's and the aggregated apiserver's serving certificates
  // Where the Karmada apiserver reaches karmada-webhook: https://127.0.0.1:<port> locally,
  // https://karmada-webhook.karmada-system.svc:443 in a cluster (no trailing '/').
  std::string webhook_base_url;
  // The ExternalName the aggregator dials for the Cluster API and the port: 127.0.0.1 and the local
  // aggregated apiserver's port, or karmada-aggregated-apiserver.<ns>.svc and 443.
  std::string aggregated_apiserver_host;
  int aggregated_apiserver_port = 443;
  std::filesystem::path crds_dir;  // holds bases/ (every *.yaml below it) and patches/
  // The Karmada apiserver's address as members and agents reach it, for the kube-public cluster-info
  // ConfigMap (server and CA only). Empty: the ConfigMap is left out.
  std::string apiserver_url;
};
// Defaults for a Karmada in a cluster (Services in `namespace_`).
ObjectsOptions in_cluster_options(const std::string& namespace_ = "karmada-system");

// Every object, in apply order: the namespace, the CRDs of crds_dir/bases with the conversion patches
// of crds_dir/patches merged in (url <webhook base>/convert, caBundle), RBAC, the ExternalName Service
// and APIService v1alpha1.cluster.karmada.io, the webhook configurations mutating-config and
// validating-config (21 hooks by url, caBundle set). Errors name the file or field.
Result<std::vector<json>> objects(const ObjectsOptions& opts);

// What "installed" waits for: every CRD Established and the APIService Available.
std::vector<kube::WaitTarget> wait_targets(const std::vector<json>& objs);

// Applies `objs` (server-side, field manager kurator) and waits for wait_targets(objs); progress on
// stderr. On timeout names what is not ready.
Status apply_and_wait(kube::Client& client, std::vector<json> objs, std::chrono::milliseconds timeout);

// The extracted CRDs folder of the karmada-crds artifact at `version` (empty: the catalog default),
// fetched through the store when not cached.
Result<std::filesystem::path> fetch_crds(artifacts::Store& store, const std::string& version = {});
// The same when already cached (no network); nullopt otherwise. For --dry-run.
std::optional<std::filesystem::path> cached_crds(const artifacts::Store& store,
                                                 const std::string& version = {});

}  // namespace kurator::components::karmada
