// The vms provider's operations on machines: create, scale, upgrade and delete a KubeSpray cluster,
// list the clusters and give their kubeconfigs. vms.hpp holds the parts that need no machine (config,
// inventory, command lines, progress parsing); this file runs them through the process runner.
//
// Each operation is a list of steps (create: preflight, cluster.yml, kubeconfig, nodes) recorded in
// $KURATOR_HOME/clusters/NAME/vms.json as they finish; a re-run of an operation that failed with the same
// input resumes after its last finished step and says so; a re-run of one that succeeded is a no-op.
#pragma once
#include <kurator/core/artifacts.hpp>
#include <kurator/core/process.hpp>
#include <kurator/providers/vms.hpp>

#include <chrono>
#include <iosfwd>

namespace kurator::providers::vms {

// Marks a cluster folder as a vms cluster and holds its config and operation record.
inline constexpr std::string_view kStateFile = "vms.json";
// The SSH checks' per-host bound and the clock skew they accept.
inline constexpr std::chrono::seconds kSshCheckTimeout{12};
inline constexpr std::chrono::seconds kMaxClockSkew{30};

struct Options {
  stdfs::path home;                   // $KURATOR_HOME (absolute)
  artifacts::Store* store = nullptr;  // the kubespray-source artifact (not used by dry runs)
  process::Runner* runner = nullptr;  // ssh, python3, pip, ansible-playbook
  bool dry_run = false;               // print the files, the checks and the command lines
  bool check = false;                 // KubeSpray's check mode: a preview changing nothing on hosts
  bool yes = false;                   // delete: no confirmation prompt
  int verbosity = 0;                  // > 0: ansible's output streamed to stderr
  std::chrono::milliseconds wait_timeout{600000};  // nodes Ready, kubeconfig
  std::string api_endpoint;          // --api-endpoint: the kubeconfig's server (default: config's
                                     // apiEndpoint, else the first control-plane host:6443)
  std::string python = "python3";    // makes the virtualenv
  std::ostream* out = nullptr;       // results and dry-run text (default std::cout)
  std::ostream* progress = nullptr;  // progress (default std::cerr)
  bool tty = false;                  // progress rewritten in place
  std::istream* in = nullptr;        // delete's confirmation (default std::cin)
};

// ---- machines --------------------------------------------------------------------------------------

// One failed SSH check: check is "reachable", "ssh login", "python3", "sudo" or "clock".
struct HostProblem {
  std::string host, address, check, problem;
};
// Connects to every host at once (ssh -o BatchMode=yes, bounded by kSshCheckTimeout) and checks that it
// answers, accepts the key, has /usr/bin/python3, runs `sudo -n true` (ansible's become) and that its
// clock is within kMaxClockSkew of this machine's. Empty when every host passes.
std::vector<HostProblem> ssh_preflight(const VmsConfig& cfg, process::Runner& runner);
// The argv of one host's check (for --dry-run and tests).
std::vector<std::string> ssh_check_argv(const Host& host);
// The table of problems (HOST ADDRESS CHECK PROBLEM).
std::string problems_table(const std::vector<HostProblem>& problems);

// KubeSpray, managed: the tree from the kubespray-source artifact (fetched and verified by the store) and
// a virtualenv with its requirements.txt in $home/kubespray/venv-<first 12 hex of the file's sha256>
// ($KURATOR_VENV_DIR instead of $home/kubespray when set), made once (python3 -m venv, then pip install -r
// from the configured index: PIP_INDEX_URL, pip.conf, PIP_FIND_LINKS for offline wheels) and reused.
stdfs::path venv_root(const stdfs::path& home);
Result<Toolchain> ensure_toolchain(artifacts::Store& store, const stdfs::path& home, process::Runner& runner,
                                   const std::string& python, std::ostream& progress);
// Where they would be without fetching anything (dry runs): the venv key is shown as
// "<requirements hash>" while the tree is not cached.
Toolchain planned_toolchain(const artifacts::Store* store, const stdfs::path& home);

// Runs one ansible-playbook with a live progress view from its JSON-lines stdout (play, task,
// per-host counts, elapsed) labelled `label`; every line goes to `log` (0600). A failure is an Error
// naming the playbook, the failing task, host and message, and the log.
Status run_playbook(const PlaybookRun& run, process::Runner& runner, const stdfs::path& log,
                    const std::string& label, const Options& opts);

// admin.conf with every cluster's server replaced by `server`.
Result<std::string> kubeconfig_from_admin_conf(std::string_view admin_conf, const std::string& server,
                                               const stdfs::path& source);
// https://<apiEndpoint | first control-plane address>:6443, or opts.api_endpoint.
std::string api_server(const VmsConfig& cfg, const std::string& override_endpoint);

// ---- clusters --------------------------------------------------------------------------------------

struct ClusterInfo {
  std::string name;
  int hosts = 0;
  std::string kubernetes_version;
  std::string api_server;
  std::string last_operation;  // "create", "scale", ...
  std::string result;          // running | succeeded | failed | checked
  std::string message;         // the failure, when failed
  stdfs::path kubeconfig;      // empty until written
};
bool is_vms_cluster(const stdfs::path& home, const std::string& name);
std::vector<ClusterInfo> list_clusters(const stdfs::path& home);
Result<std::string> kubeconfig(const stdfs::path& home, const std::string& name);

Status create(const std::string& name, const stdfs::path& config_file, const Options& opts);
// Adds the hosts of config_file that the cluster does not have (scale.yml limited to them); every
// other field must stay as it is.
Status scale_up(const std::string& name, const stdfs::path& config_file, const Options& opts);
// remove-node.yml for the hosts, then they leave the recorded config.
Status remove_hosts(const std::string& name, const std::vector<std::string>& hosts, const Options& opts);
// upgrade-cluster.yml to `version`: one minor at a time, never down, a version KubeSpray supports.
Status upgrade(const std::string& name, const std::string& version, const Options& opts);
// reset.yml on every host (after a confirmation unless opts.yes), then the folder goes.
Status remove(const std::string& name, const Options& opts);

}  // namespace kurator::providers::vms
