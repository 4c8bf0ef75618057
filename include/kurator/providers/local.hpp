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
// Everything listens on 127.0.0.1 only. Run kurator (and so the components) inside a private network
// namespace (scripts/netns-run.sh) so the Service/Pod addresses the apiserver dials never leave the
// machine.
#pragma once
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kurator::providers::local {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

// The components in start order (stopped in reverse).
inline const std::vector<std::string>& component_names() {
  static const std::vector<std::string> names = {"etcd", "kube-apiserver", "kube-controller-manager",
                                                 "kube-scheduler", "kwok"};
  return names;
}

// What the user asked for; two creates with equal specs are the same cluster.
struct ClusterSpec {
  std::string name;
  std::string provider = "local";
  int nodes = 1;
  std::string kubernetes_version;  // empty: versions::kubernetes
  json to_json() const;
  static Result<ClusterSpec> from_json(const json& j);
};
// Fills defaults and validates (name a DNS label of at most 40 characters, 0 <= nodes <= 100,
// version "vMAJOR.MINOR.PATCH"; a missing leading "v" is added).
Result<ClusterSpec> normalize(ClusterSpec spec);
// Human-readable differences ("nodes: 3 (existing) vs 1 (requested)"); empty when the same.
std::vector<std::string> spec_differences(const ClusterSpec& existing, const ClusterSpec& requested);

struct Ports {
  int etcd_client = 0, etcd_peer = 0, apiserver = 0, controller_manager = 0, scheduler = 0, kwok = 0;
  json to_json() const;
  static Ports from_json(const json& j);
};
// Picks `n` distinct free TCP ports on 127.0.0.1 (binds port 0 on all of them at once, then releases).
Result<std::vector<int>> pick_free_ports(int n);
// True when something accepts TCP connections on 127.0.0.1:port.
bool port_open(int port, std::chrono::milliseconds timeout = std::chrono::milliseconds(500));
// True when some socket in this network namespace listens on TCP `port` (reads /proc/net/tcp{,6}).
bool port_listening(int port);

// Where the binaries are.
struct Binaries {
  stdfs::path etcd, kube_apiserver, kube_controller_manager, kube_scheduler, kwok, kubectl;
  json to_json() const;
  static Binaries from_json(const json& j);
};
// $KURATOR_BIN_CACHE, else ~/.cache/kurator/bin (the layout of scripts/build-test-binaries.sh).
stdfs::path default_bin_cache();
// Finds each binary in `bin_dir` (flat, or <component>-<version>/ below it); empty `bin_dir`: the
// default cache. Errors list every missing binary and how to build them.
Result<Binaries> resolve_binaries(const stdfs::path& bin_dir, const std::string& kubernetes_version);
// Gets the binaries through the artifact layer (catalog entries for the upstream release files, cached
// under $KURATOR_HOME/cache; KURATOR_MIRROR / KURATOR_CATALOG point it at a mirror such as the one
// scripts/build-test-binaries.sh writes). Used when no --bin-dir was given and the build cache lacks them.
Result<Binaries> fetch_binaries(const stdfs::path& home, const std::string& kubernetes_version);

// The files of one cluster.
struct ClusterPaths {
  stdfs::path root;
  explicit ClusterPaths(stdfs::path r) : root(std::move(r)) {}
  stdfs::path spec() const { return root / "spec.json"; }
  stdfs::path state() const { return root / "state.json"; }
  stdfs::path kubeconfig() const { return root / "kubeconfig"; }
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

struct CreateOptions {
  ClusterSpec spec;
  stdfs::path bin_dir;  // empty: the build cache, else the artifact layer
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
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

  // Creates and starts a cluster and waits until its API is ready and its nodes are Ready; progress
  // goes to stderr. Same spec as an existing running cluster: no-op; existing but (partly) stopped:
  // starts what is down; different spec: refused. On failure prints the failing component's log
  // tail and stops what it started.
  Result<CreateResult> create(const CreateOptions& opts);
  // Stops every process of the cluster (SIGTERM, then SIGKILL) and removes its state; works when
  // components crashed or the state is partly gone.
  Status remove(const std::string& name, const std::string& provider = "local");
  Result<ClusterStatus> status(const std::string& name) const;
  Result<std::vector<ClusterStatus>> list() const;
  // The admin kubeconfig of a cluster.
  Result<std::string> kubeconfig(const std::string& name) const;

 private:
  stdfs::path m_home;
};

}  // namespace kurator::providers::local
