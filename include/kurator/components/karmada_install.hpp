// The in-cluster install of Karmada (`kurator install karmada --provider kubernetes`): the object list
// `karmadactl init` (v1.18.2, pkg/karmadactl/cmdinit/kubernetes) creates in a host cluster, made natively
// (no karmadactl, no Jobs): a PKI made by kurator (providers/pki.hpp) kept in the host as Secrets,
// etcd, karmada-apiserver (the stock kube-apiserver), karmada-aggregated-apiserver, kube-controller-
// manager with Karmada's controller subset, karmada-scheduler, karmada-controller-manager and
// karmada-webhook, from manifests/karmada/host/ by structured edits. Once the workloads are Ready the
// Karmada apiserver is reached through its Service's exposed address and the Karmada-side objects are
// applied by components/karmada.hpp, the code the local Karmada runs.
#pragma once
#include <kurator/core/artifacts.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kurator::components::karmada_install {
using json = nlohmann::json;

inline constexpr const char* kCertSecret = "karmada-cert";  // every certificate and key of the PKI
inline constexpr const char* kApiserverService = "karmada-apiserver";
inline constexpr int kApiserverPort = 5443;
inline constexpr int kDefaultNodePort = 32443;  // karmadactl init --port
// Marks the host namespace as made by kurator: uninstall deletes only a namespace that has it.
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";

struct Options {
  std::string namespace_ = "karmada-system";
  std::string service_type = "NodePort";  // NodePort | LoadBalancer | ClusterIP
  // Replaces the registry of every image (registry.k8s.io, docker.io/karmada): R/<name>:<tag>.
  std::string image_registry;
  // Extra IP SANs of the karmada-apiserver serving certificate (node InternalIPs, the exposed address).
  std::vector<std::string> apiserver_ips;
};
// Ok, or one error (usage) naming the bad field: the namespace must be a DNS-1123 label, the service
// type one of the three, the registry a host[/path] without scheme or trailing '/'.
Status validate(const Options& opts);

// The PKI as file name -> PEM (ca.crt, ca.key, etcd-ca.*, etcd-server.*, etcd-client.*, karmada.*
// (client system:admin/system:masters), apiserver.*, front-proxy-ca.*, front-proxy-client.*,
// karmada-webhook.*, karmada-aggregated-apiserver.*, sa.key, sa.pub).
using Pki = std::map<std::string, std::string>;
Result<Pki> make_pki(const Options& opts);
// The PKI kept in the host's karmada-cert Secret (as read back from the apiserver).
Result<Pki> pki_from_secret(const json& secret);

// The image of a component at its pinned version, with `registry` replacing the upstream one.
std::string image(const std::string& component, const std::string& registry = {});

// Every host object, in apply order: the namespace, the Secrets (karmada-cert, etcd-cert,
// karmada-webhook-cert, <component>-config kubeconfigs), etcd, karmada-apiserver and its Service,
// karmada-aggregated-apiserver, kube-controller-manager, karmada-scheduler, karmada-controller-manager,
// karmada-webhook and their Services.
Result<std::vector<json>> host_objects(const Options& opts, const Pki& pki);
// A copy with every Secret's data and stringData values replaced by "<redacted>" (for --dry-run).
json redact(const json& obj);

// The admin kubeconfig of the Karmada apiserver at `server` (CN system:admin).
std::string admin_kubeconfig(const Pki& pki, const std::string& server);

struct InstallResult {
  std::string apiserver_url;         // where the Karmada apiserver was reached
  std::filesystem::path kubeconfig;  // the admin kubeconfig written (0600)
  bool pki_reused = false;           // the PKI came from the host's karmada-cert Secret
  size_t host_changed = 0;           // host objects the apply created or changed
  size_t host_objects = 0;
};

struct InstallRequest {
  Options options;
  std::filesystem::path crds_dir;             // fetched before anything changes
  std::filesystem::path kubeconfig_out;       // $KURATOR_HOME/karmada/karmada-apiserver.config
  std::chrono::milliseconds timeout{600000};  // for the whole install
};
// Applies the host objects (server-side, field manager kurator), waits for every workload Ready,
// reaches the Karmada apiserver (bounded by the timeout, with progress on stderr), applies the
// Karmada-side objects and waits for them, then writes the kubeconfig. The PKI is reused when the host
// already has it. Errors: timeout (ExitCode::timeout) names what did not become ready or the address
// that did not answer.
Result<InstallResult> install(kube::Client& host, const InstallRequest& req);

// Where the Karmada apiserver of `ns` is reachable from here, read from its Service: NodePort: the
// first node's InternalIP (else ExternalIP; else the host apiserver's address) and the node port;
// LoadBalancer: the ingress IP or hostname (empty while none is assigned); ClusterIP: the cluster IP
// (reachable only from inside the cluster network).
Result<std::string> apiserver_url(kube::Client& host, const std::string& ns);

// The InternalIPs of the host's nodes, else their ExternalIPs (for the serving certificate's SANs).
Result<std::vector<std::string>> node_ips(kube::Client& host);

struct UninstallResult {
  bool was_installed = false;
  std::vector<std::string> removed;  // what was deleted ("Namespace/karmada-system", the kubeconfig)
};
// Deletes the namespace (and with it every object the install made: the install makes no
// cluster-scoped object in the host), waits until it is gone, removes `kubeconfig` when present.
// A namespace without kurator's managed-by label is refused. On timeout names what is left.
Result<UninstallResult> uninstall(kube::Client& host, const std::string& ns,
                                  const std::filesystem::path& kubeconfig, std::chrono::milliseconds timeout);

}  // namespace kurator::components::karmada_install
