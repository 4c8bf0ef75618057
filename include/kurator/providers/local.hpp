// The local provider: a real control plane on loopback (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) with fake nodes run by kwok, each component a detached process with a pid file.
//
// State of cluster NAME lives in $KURATOR_HOME/clusters/NAME/:
//   spec.json            what was asked for (compared by an idempotent `create`)
//   state.json           phase, ports, binaries, endpoint, network namespace
//   kubeconfig           admin kubeconfig (0600)
//   kubeconfigs/         per-component kubeconfigs, plus admin-token and unprivileged (token) ones (0600)
//   pki/                 CA, serving/client certificates, service-account keys, tokens.csv (keys 0600)
//   etcd/                etcd data directory
//   logs/<component>.log, pids/<component>.pid
//
// The same code runs a second role, the local Karmada (Role::karmada, `kurator install karmada
// --provider local`): etcd, kube-apiserver as karmada-apiserver (Karmada's flags), kube-controller-manager
// with Karmada's controller subset, no scheduler, no kwok, no nodes; then karmada-aggregated-apiserver and
// karmada-webhook; then the CreateOptions::on_api_ready hook (the components layer applies the
// Karmada-side objects there); then karmada-controller-manager and karmada-scheduler. Its state lives in
// $KURATOR_HOME/karmada/ with the same layout, the admin kubeconfig being karmada-apiserver.config, plus
// webhook-certs/ (tls.crt, tls.key of karmada-webhook).
//
// Everything listens on 127.0.0.1 only. Run kurator (and so the components) inside a private network
// namespace (scripts/netns-run.sh) so the Service/Pod addresses the apiserver dials never leave the
// machine.
#pragma once
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kurator::providers::local {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

// What a control plane is for: a Kubernetes cluster with kwok nodes, or the local Karmada.
enum class Role { cluster, karmada };
std::string to_string(Role role);
// The name of the local Karmada (its row in `get clusters`).
inline constexpr const char* kKarmadaName = "karmada";
// In $KURATOR_HOME/karmada when that folder holds the in-cluster install's kubeconfig (not a local
// Karmada): `install karmada --provider kubernetes` writes it.
inline constexpr const char* kInClusterNote = "in-cluster.json";

// The components in start order (stopped in reverse).
const std::vector<std::string>& component_names(Role role = Role::cluster);

// What the user asked for; two creates with equal specs are the same cluster.
struct ClusterSpec {
  std::string name;
  std::string provider = "local";
  Role role = Role::cluster;
  int nodes = 1;
  std::string kubernetes_version;  // empty: versions::kubernetes
  std::string karmada_version;     // Role::karmada; empty: versions::karmada
  std::string host_cluster;        // Role::karmada: the local cluster it was installed beside ("" standalone)
  json to_json() const;
  static Result<ClusterSpec> from_json(const json& j);
};
// Fills defaults and validates (name a DNS label of at most 40 characters, 0 <= nodes <= 100,
// version "vMAJOR.MINOR.PATCH"; a missing leading "v" is added). Role::karmada: the name is
// kKarmadaName and there are no nodes.
Result<ClusterSpec> normalize(ClusterSpec spec);
// Human-readable differences ("nodes: 3 (existing) vs 1 (requested)"); empty when the same.
std::vector<std::string> spec_differences(const ClusterSpec& existing, const ClusterSpec& requested);

struct Ports {
  int etcd_client = 0, etcd_peer = 0, apiserver = 0, controller_manager = 0, scheduler = 0, kwok = 0;
  // Role::karmada: the secure ports of the aggregated apiserver and the webhook, and the health-probe
  // ports of the webhook, karmada-controller-manager and karmada-scheduler (scheduler/kwok stay 0).
  int aggregated_apiserver = 0, webhook = 0, webhook_health = 0, karmada_controller_manager = 0,
      karmada_scheduler = 0;
  json to_json() const;
  static Ports from_json(const json& j);
};
// Picks `n` distinct free TCP ports on 127.0.0.1, at random below the kernel's ephemeral port range (so
// that no outgoing connection takes one before its server binds it), bound all at once, then released.
Result<std::vector<int>> pick_free_ports(int n);
// True when something accepts TCP connections on 127.0.0.1:port.
bool port_open(int port, std::chrono::milliseconds timeout = std::chrono::milliseconds(500));
// True when some socket in this network namespace listens on TCP `port` (reads /proc/net/tcp{,6}).
bool port_listening(int port);

// Where the binaries are.
struct Binaries {
  stdfs::path etcd, kube_apiserver, kube_controller_manager, kube_scheduler, kwok, kubectl;
  stdfs::path karmada_aggregated_apiserver, karmada_webhook, karmada_controller_manager, karmada_scheduler;
  json to_json() const;
  static Binaries from_json(const json& j);
};
// $KURATOR_BIN_CACHE, else ~/.cache/kurator/bin (the layout of scripts/build-test-binaries.sh).
stdfs::path default_bin_cache();
// Finds each binary in `bin_dir` (flat, or <component>-<version>/ below it); empty `bin_dir`: the
// default cache. Errors list every missing binary and how to build them.
Result<Binaries> resolve_binaries(const stdfs::path& bin_dir, const std::string& kubernetes_version);
// Role::karmada: etcd, kube-apiserver and kube-controller-manager as resolve_binaries finds them, plus
// Karmada's four control-plane binaries from `bin_dir` or the cache's karmada-<version>/ (upstream
// publishes them as images only, so there is no artifact-layer fallback for them). Errors name every
// missing binary with the hint scripts/build-test-binaries.sh.
Result<Binaries> resolve_karmada_binaries(const stdfs::path& bin_dir, const std::string& kubernetes_version,
                                          const std::string& karmada_version);
// Gets the binaries through the artifact layer (catalog entries for the upstream release files, cached
// under $KURATOR_HOME/cache; KURATOR_MIRROR / KURATOR_CATALOG point it at a mirror such as the one
// scripts/build-test-binaries.sh writes). Used when no --bin-dir was given and the build cache lacks them.
Result<Binaries> fetch_binaries(const stdfs::path& home, const std::string& kubernetes_version);

// The files of one cluster.
struct ClusterPaths {
  stdfs::path root;
  std::string kubeconfig_name = "kubeconfig";
  explicit ClusterPaths(stdfs::path r, std::string kc = "kubeconfig")
      : root(std::move(r)), kubeconfig_name(std::move(kc)) {}
  stdfs::path spec() const { return root / "spec.json"; }
  stdfs::path state() const { return root / "state.json"; }
  stdfs::path kubeconfig() const { return root / kubeconfig_name; }
  stdfs::path webhook_certs() const { return root / "webhook-certs"; }
  stdfs::path kubeconfigs() const { return root / "kubeconfigs"; }
  stdfs::path component_kubeconfig(const std::string& c) const { return kubeconfigs() / (c + ".kubeconfig"); }
  stdfs::path pki() const { return root / "pki"; }
  stdfs::path etcd_data() const { return root / "etcd"; }
  stdfs::path logs() const { return root / "logs"; }
  stdfs::path log(const std::string& c) const { return logs() / (c + ".log"); }
  stdfs::path pids() const { return root / "pids"; }
  stdfs::path pid(const std::string& c) const { return pids() / (c + ".pid"); }
};

struct ComponentStatus {
  std::string name;
  std::optional<int> pid;  // from the pid file
  bool running = false;    // alive, and the process is this cluster's component
};

struct ClusterStatus {
  ClusterSpec spec;
  std::string phase;   // Running | Degraded | Stopped | Creating | Failed
  std::string status;  // phase, with detail: "Degraded: kube-apiserver not running"
  std::string endpoint;
  std::string netns;         // network namespace the cluster was created in ("net:[4026532…]")
  bool other_netns = false;  // different from the caller's: the endpoint is unreachable from here
  std::vector<ComponentStatus> components;
  stdfs::path kubeconfig;
  json to_json() const;
};

// The network namespace of this process, as readlink(/proc/self/ns/net) says.
std::string current_netns();
// True when `pid`'s command line names a file under `root` and its program (or, for a script, the
// script run by its interpreter) is a control-plane component (guards against pid reuse).
bool process_belongs_to(int pid, const stdfs::path& root);
// Pids of every control-plane process whose command line names `root` (finds strays whose pid file
// is gone).
std::vector<int> find_cluster_processes(const stdfs::path& root);

// What on_api_ready gets: the control plane whose API is up.
struct ApiReady {
  stdfs::path root;
  stdfs::path kubeconfig;  // admin kubeconfig (0600)
  std::string endpoint;    // https://127.0.0.1:<port>
  std::string ca_pem;      // the CA of every serving certificate of this control plane
  Ports ports;
  std::chrono::steady_clock::time_point deadline;  // of the whole create
};

struct CreateOptions {
  ClusterSpec spec;
  stdfs::path bin_dir;  // empty: the build cache, else the artifact layer
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  // Role::karmada: called once the API, the controller-manager, the aggregated apiserver and the
  // webhook are up, before karmada-controller-manager and karmada-scheduler start (also when a create
  // restarts components that were down). A failure fails the create like a component that did not
  // come up. The provider itself knows nothing of Karmada's objects.
  std::function<Status(const ApiReady&)> on_api_ready;
};

// The processes a create would start, for --dry-run (paths and flags only; no secret is ever on a
// command line).
struct PlannedProcess {
  std::string name;
  std::vector<std::string> argv;
};
struct CreatePlan {
  ClusterSpec spec;
  stdfs::path root;
  stdfs::path kubeconfig;
  bool already_running = false;           // a create would be a no-op
  std::vector<PlannedProcess> processes;  // ports as picked now (a real create picks its own)
  json to_json() const;
};

struct CreateResult {
  bool already_existed = false;  // same spec, already running: nothing was done
  bool restarted = false;        // same spec, some components were down and were started again
  ClusterStatus status;
  std::chrono::milliseconds elapsed{0};
};

class Provider {
 public:
  explicit Provider(stdfs::path home) : m_home(std::move(home)) {}

  stdfs::path clusters_dir() const { return m_home / "clusters"; }
  ClusterPaths paths(const std::string& name) const { return ClusterPaths(clusters_dir() / name); }
  // $KURATOR_HOME/karmada/, admin kubeconfig karmada-apiserver.config.
  ClusterPaths karmada_paths() const { return ClusterPaths(m_home / "karmada", "karmada-apiserver.config"); }
  ClusterPaths paths_for(const ClusterSpec& spec) const {
    return spec.role == Role::karmada ? karmada_paths() : paths(spec.name);
  }

  // Creates and starts a cluster and waits until its API is ready and its nodes are Ready; progress
  // goes to stderr. Same spec as an existing running cluster: no-op; existing but (partly) stopped:
  // starts what is down; different spec: refused. On failure prints the failing component's log
  // tail and stops what it started.
  Result<CreateResult> create(const CreateOptions& opts);
  // What create(opts) would start, changing nothing (ports are the ones free now).
  Result<CreatePlan> plan(const CreateOptions& opts) const;
  // Stops every process of the cluster (SIGTERM, then SIGKILL) and removes its state; works when
  // components crashed or the state is partly gone.
  Status remove(const std::string& name, const std::string& provider = "local");
  Result<ClusterStatus> status(const std::string& name) const;
  // Every local cluster, then the local Karmada when installed.
  Result<std::vector<ClusterStatus>> list() const;
  // The admin kubeconfig of a cluster (NAME karmada with no such cluster: the local Karmada's).
  Result<std::string> kubeconfig(const std::string& name) const;

  // The local Karmada (Role::karmada, in karmada_paths()).
  bool karmada_installed() const;
  Result<ClusterStatus> karmada_status() const;
  // Stops every process and removes $KURATOR_HOME/karmada; the error names what could not be stopped
  // or removed. Not installed: ok (nothing to do).
  Status remove_karmada();

 private:
  Result<ClusterStatus> status_at(const ClusterPaths& p, const std::string& name) const;
  Status remove_at(const ClusterPaths& p, const std::string& name, const std::string& provider);

  stdfs::path m_home;
};

}  // namespace kurator::providers::local
