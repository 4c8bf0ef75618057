// The vms provider: a production cluster on machines the user already has (VMs, bare metal), built by
// KubeSpray (the pinned v2.31.0 release) driven by a real ansible-playbook over SSH.
//
// This file holds the parts that need no machine: the user's config (`-f hosts.yaml`, kind VmsCluster)
// and its checks, the KubeSpray inventory and group vars rendered from it, the exact ansible-playbook
// command line of each operation, and the parser of ansible's JSON-lines progress (ansible.posix.jsonl).
//
// State of cluster NAME lives in $KURATOR_HOME/clusters/NAME/ (ClusterDir):
//   inventory/hosts.yaml          KubeSpray's YAML inventory (render_inventory)
//   inventory/group_vars/all.yml  kurator's variables, then the config's extraVars (render_group_vars)
//   artifacts/                    KubeSpray's artifacts_dir: admin.conf (kubeconfig_localhost: true)
//   runs/<operation>/facts, ssh   per-run ansible fact cache and SSH control-socket folders
#pragma once
#include <kurator/util/result.hpp>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurator::providers::vms {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

inline constexpr std::string_view kApiVersion = "kurator.dev/v1alpha1";
inline constexpr std::string_view kKind = "VmsCluster";
// The one KubeSpray release kurator drives, and its defaults
// (roles/kubespray_defaults/defaults/main/main.yml: kube_version is the first key of kubelet_checksums).
inline constexpr std::string_view kKubesprayVersion = "v2.31.0";
inline constexpr std::string_view kDefaultKubernetesVersion = "v1.35.4";
inline constexpr std::string_view kDefaultCni = "calico";
inline constexpr std::string_view kDefaultPodCidr = "10.233.64.0/18";
inline constexpr std::string_view kDefaultServiceCidr = "10.233.0.0/18";
inline constexpr int kDefaultApiPort = 6443;  // kube_apiserver_port

// Kubernetes versions KubeSpray v2.31.0 can install ("v1.33.0" ... "v1.35.4", oldest first): the keys
// present in kubeadm_checksums, kubelet_checksums and kubectl_checksums of
// roles/kubespray_defaults/vars/main/checksums.yml (what validate_inventory asserts). A unit test
// compares this table with the release tarball.
const std::vector<std::string>& supported_kubernetes_versions();
// KubeSpray v2.31.0's kube_network_plugin values (roles/validate_inventory/tasks/main.yml, "Stop if
// unsupported options selected").
const std::vector<std::string>& network_plugins();
// Group variables kurator sets itself; extraVars may not set them (value: the config field to use).
const std::map<std::string, std::string>& managed_variables();

enum class Role { control_plane, etcd, worker };
std::string to_string(Role role);  // control-plane | etcd | worker

struct Host {
  std::string name;         // node name (a lower-case DNS name); the inventory host name
  std::string address;      // where ansible connects over SSH (ansible_host)
  std::string internal_ip;  // optional: KubeSpray's ip and access_ip (default: the host's default IPv4)
  std::vector<Role> roles;  // in the order control-plane, etcd, worker; no duplicates
  std::string user;         // SSH user (ansible_user)
  int port = 22;            // SSH port (ansible_port)
  stdfs::path key_file;     // SSH private key, absolute (ansible_ssh_private_key_file)
  bool has(Role r) const;
};

struct VmsConfig {
  stdfs::path source;  // the file it was read from (names it in errors)
  std::vector<Host> hosts;
  std::string kubernetes_version = std::string(kDefaultKubernetesVersion);  // "vX.Y.Z"
  std::string cni = std::string(kDefaultCni);
  std::string pod_cidr = std::string(kDefaultPodCidr);
  std::string service_cidr = std::string(kDefaultServiceCidr);
  std::string kubespray_version = std::string(kKubesprayVersion);
  json extra_vars = json::object();  // passed as group vars after kurator's own
  std::string api_endpoint;          // optional, normalized to "https://host:port"
  std::vector<const Host*> with_role(Role r) const;
};

// Reads and checks a config file. Every error is one line naming the file and the field
// ("hosts.yaml: hosts[1] (node2).roles: \"master\" is not a role"), with a hint; exit code failure.
// Relative key paths are relative to the config file's folder; a leading "~/" is the user's home.
Result<VmsConfig> load_config(const stdfs::path& path);
// The same checks on text already read (`source` names it in errors and anchors relative key paths).
Result<VmsConfig> parse_config(std::string_view text, const stdfs::path& source);
// A commented sample for --print-config; load_config accepts it as it is once its addresses and key
// paths (~/.ssh/id_ed25519) are the user's.
std::string sample_config();

// A cluster name: a lower-case DNS label of at most 40 characters (as the local provider's); usage error.
Status check_cluster_name(const std::string& name);

// The files of one vms cluster.
struct ClusterDir {
  stdfs::path root;
  explicit ClusterDir(stdfs::path r) : root(std::move(r)) {}
  stdfs::path inventory_dir() const { return root / "inventory"; }
  stdfs::path inventory() const { return inventory_dir() / "hosts.yaml"; }
  stdfs::path group_vars() const { return inventory_dir() / "group_vars" / "all.yml"; }
  stdfs::path artifacts() const { return root / "artifacts"; }
  stdfs::path admin_conf() const { return artifacts() / "admin.conf"; }
  stdfs::path run_dir(const std::string& operation) const { return root / "runs" / operation; }
};

// KubeSpray's YAML inventory: all.hosts.<name> {ansible_host, ip, access_ip, ansible_port, ansible_user,
// ansible_ssh_private_key_file, ansible_python_interpreter: /usr/bin/python3} and
// all.children.{kube_control_plane,etcd,kube_node}.hosts (k8s_cluster is made by KubeSpray at run time).
json inventory(const VmsConfig& cfg);
std::string render_inventory(const VmsConfig& cfg);
// group_vars/all.yml: kube_version (without the "v", as KubeSpray's checksums keys), kube_network_plugin,
// kube_pods_subnet, kube_service_addresses, kubeconfig_localhost: true, artifacts_dir (the cluster's
// artifacts/), supplementary_addresses_in_ssl_keys (apiEndpoint's host, when set), then extraVars.
json group_vars(const VmsConfig& cfg, const stdfs::path& cluster_dir);
std::string render_group_vars(const VmsConfig& cfg, const stdfs::path& cluster_dir);
// YAML as Ansible (PyYAML, YAML 1.1) reads it back: strings that could read as anything else
// (1.35, yes, on, 010, ...) are quoted.
std::string dump_for_ansible(const json& value);

// Where the KubeSpray tree and its Python virtualenv are (made by kurator in a later step).
struct Toolchain {
  stdfs::path kubespray_dir;  // the extracted release (its ansible.cfg is used: ansible runs there)
  stdfs::path venv;           // virtualenv with KubeSpray's requirements.txt (bin/ansible-playbook)
};
// $KURATOR_HOME/kubespray/<version>/kubespray-<version without v> and .../venv.
Toolchain default_toolchain(const stdfs::path& home, std::string_view kubespray_version = kKubesprayVersion);

struct PlaybookOptions {
  Toolchain toolchain;
  std::string operation;           // names the per-run folder runs/<operation>/ (fact cache, SSH sockets)
  bool check = false;              // --check: KubeSpray's check mode, changes nothing on the hosts
  bool become = true;              // -b
  std::string tags;                // --tags
  std::vector<std::string> limit;  // --limit a,b
  std::vector<std::pair<std::string, std::string>> extra_vars;  // -e k=v, in order
};

struct PlaybookRun {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to the inherited environment
  stdfs::path cwd;                         // the KubeSpray tree
};
// The SSH control-socket folder for a run: `wanted` (runs/<operation>/ssh), or /tmp/kurator-ssh-<hash of it>
// when ansible's sockets in it would pass the 107-byte limit of a socket path.
std::string control_path_dir(const stdfs::path& wanted);
// argv: <venv>/bin/ansible-playbook -i <cluster_dir>/inventory/hosts.yaml [-b] <playbook> [--check]
// [--tags T] [--limit a,b] [-e k=v]...; env: the JSON-lines stdout callback with no other callbacks,
// the per-run fact cache and control-socket folders, bounded SSH attempts and timeouts.
PlaybookRun playbook_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, std::string playbook,
                             const PlaybookOptions& options);
// The commands of each operation (options.operation is set when empty, options' playbook fields added).
// preflight: cluster.yml --tags always (version check, inventory validation, facts; changes nothing).
PlaybookRun preflight_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, PlaybookOptions options);
PlaybookRun create_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, PlaybookOptions options);
// scale: playbooks/facts.yml on every host (KubeSpray's docs: refresh the fact cache before --limit),
// then scale.yml --limit <new hosts>, both with the same run folder.
std::vector<PlaybookRun> scale_commands(const VmsConfig& cfg, const stdfs::path& cluster_dir,
                                        const std::vector<std::string>& new_hosts, PlaybookOptions options);
// remove-node.yml -e node=a,b -e skip_confirmation=true
PlaybookRun remove_node_command(const VmsConfig& cfg, const stdfs::path& cluster_dir,
                                const std::vector<std::string>& nodes, PlaybookOptions options);
// upgrade-cluster.yml -e kube_version=X.Y.Z (the "v" dropped)
PlaybookRun upgrade_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, const std::string& version,
                            PlaybookOptions options);
// reset.yml -e reset_confirmation=yes
PlaybookRun reset_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, PlaybookOptions options);
// For display (dry-run, logs): "cd DIR", one "KEY=value \" line per variable, then the argv, each
// word shell-quoted when it needs it. Display only: kurator never runs a shell string.
std::string display(const PlaybookRun& run);

// Live progress from ansible's JSON-lines stdout (ANSIBLE_STDOUT_CALLBACK=ansible.posix.jsonl): one
// object per line, `_event` v2_playbook_on_play_start, v2_playbook_on_task_start (v2_runner_on_start
// under strategy free, v2_playbook_on_handler_task_start), v2_runner_on_{ok,failed,skipped,unreachable}
// and v2_playbook_on_stats. Lines that are not such JSON objects are counted and ignored.
class PlaybookProgress {
 public:
  struct HostCounts {
    int ok = 0, changed = 0, failed = 0, unreachable = 0, skipped = 0, rescued = 0, ignored = 0;
  };
  struct Failure {
    std::string task;  // "kubernetes/preinstall : Stop if non systemd OS type"
    std::string host;
    std::string msg;   // the module's msg (for loops: the failed item's), else its stderr
    std::string item;  // loops: the failed item (a string, or its JSON)
    bool unreachable = false;
  };

  void feed(std::string_view line);

  const std::string& play() const { return m_play; }
  const std::string& task() const { return m_task; }
  int plays() const { return m_plays; }
  int tasks() const { return m_tasks; }
  // Per host: the final stats once v2_playbook_on_stats came, else the sums of the runner events so
  // far (failed: fatal and ignored failures alike, as the events do not tell them apart).
  const std::map<std::string, HostCounts>& hosts() const { return m_final ? m_stats : m_live; }
  bool finished() const { return m_final; }
  // The failure that stopped the run: once the stats came, the last failure of the first host (in
  // event order) whose stats count failures or unreachability (a host stops at its fatal failure;
  // ignored and rescued ones come before it); before the stats, the latest failure seen.
  std::optional<Failure> failure() const;
  int ignored_lines() const { return m_ignored_lines; }

 private:
  void on_result(const json& ev, const std::string& kind);
  std::string m_play, m_task;
  int m_plays = 0, m_tasks = 0, m_ignored_lines = 0;
  bool m_final = false;
  std::map<std::string, HostCounts> m_live, m_stats;
  std::vector<Failure> m_failures;  // every failed/unreachable result, in order
};

}  // namespace kurator::providers::vms
