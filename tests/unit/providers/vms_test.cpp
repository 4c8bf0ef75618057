// The vms provider's machine-free parts: config checks (exact error lines), the KubeSpray inventory
// and group vars, the ansible-playbook command lines, the JSON-lines progress parser, and the tables
// taken from KubeSpray v2.31.0 compared with the release tarball in the fixtures.
#include <kurator/core/process.hpp>
#include <kurator/providers/vms.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iterator>
#include <regex>
#include <set>

#include "support/test_env.hpp"

using namespace kurator;
namespace vms = kurator::providers::vms;
namespace stdfs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* const kPrivateKey =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

// A folder with a config file, two private keys (one absolute, one named relative to the config) and
// a public key.
struct Bed {
  test::TempDir dir;
  stdfs::path key = dir.path() / "keys" / "id_test";
  stdfs::path config = dir.path() / "hosts.yaml";
  Bed() {
    REQUIRE(fs::write_private_file(key, kPrivateKey).ok());
    REQUIRE(fs::write_private_file(dir.path() / "id_rel", kPrivateKey).ok());
    REQUIRE(fs::write_file_atomic(dir.path() / "id_test.pub", "ssh-ed25519 AAAAC3Nza test@host\n").ok());
  }
  std::string base() const {
    return "apiVersion: kurator.dev/v1alpha1\n"
           "kind: VmsCluster\n"
           "hosts:\n"
           "  - name: node1\n"
           "    address: 10.250.0.11\n"
           "    internalIP: 10.250.0.11\n"
           "    roles: [control-plane, etcd]\n"
           "    user: root\n"
           "    keyFile: " +
           key.string() +
           "\n"
           "  - name: node2\n"
           "    address: 10.250.0.12\n"
           "    roles: [worker, etcd, control-plane]\n"
           "    user: debian\n"
           "    port: 2222\n"
           "    keyFile: " +
           key.string() +
           "\n"
           "  - name: node3\n"
           "    address: node3.example.test\n"
           "    internalIP: 10.250.0.13\n"
           "    roles: [etcd, worker]\n"
           "    user: root\n"
           "    keyFile: id_rel\n";
  }
  Result<vms::VmsConfig> load(const std::string& text) const {
    REQUIRE(fs::write_file_atomic(config, text).ok());
    return vms::load_config(config);
  }
};

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

json parsed(const std::string& yaml_text) {
  auto j = yaml::parse_one(yaml_text, "rendered");
  REQUIRE(j.ok());
  return *j;
}

// Reads one file of the KubeSpray release tarball with the real tar (empty when the fixture is missing).
std::string from_tarball(const std::string& member) {
  auto fixtures = test::fixtures_dir();
  if (fixtures.empty()) return {};
  auto tarball = fixtures / "kubespray-v2.31.0" / "release" / "kubespray-2.31.0.tar.gz";
  std::error_code ec;
  if (!stdfs::exists(tarball, ec)) return {};
  process::SystemRunner runner;
  process::Spec spec;
  spec.argv = {"tar", "-xzOf", tarball.string(), "kubespray-2.31.0/" + member};
  auto out = runner.run(spec);
  REQUIRE(out.ok());
  REQUIRE(out->success());
  return out->out;
}

}  // namespace

TEST_CASE("vms config: a 3-host file loads with KubeSpray's defaults", "[providers][vms]") {
  Bed bed;
  auto cfg = bed.load(bed.base());
  REQUIRE(cfg.ok());
  REQUIRE(cfg->hosts.size() == 3);
  CHECK(cfg->hosts[0].name == "node1");
  CHECK(cfg->hosts[0].port == 22);
  CHECK(cfg->hosts[1].port == 2222);
  CHECK(cfg->hosts[1].internal_ip.empty());
  // Roles come back in a fixed order, whatever order the file lists them in.
  CHECK(cfg->hosts[1].roles ==
        std::vector<vms::Role>{vms::Role::control_plane, vms::Role::etcd, vms::Role::worker});
  CHECK(cfg->hosts[2].key_file == (bed.dir.path() / "id_rel").lexically_normal());  // relative to the file
  CHECK(cfg->kubernetes_version == "v1.35.4");
  CHECK(cfg->cni == "calico");
  CHECK(cfg->pod_cidr == "10.233.64.0/18");
  CHECK(cfg->service_cidr == "10.233.0.0/18");
  CHECK(cfg->kubespray_version == "v2.31.0");
  CHECK(cfg->extra_vars == json::object());
  CHECK(cfg->api_endpoint.empty());
  CHECK(cfg->with_role(vms::Role::control_plane).size() == 2);
  CHECK(cfg->with_role(vms::Role::etcd).size() == 3);
  CHECK(cfg->with_role(vms::Role::worker).size() == 2);

  auto more =
      bed.load(bed.base() +
               "kubernetesVersion: 1.34.7\ncni: cilium\npodCIDR: 10.100.0.0/16\nserviceCIDR: 10.96.0.0/16\n"
               "kubesprayVersion: 2.31.0\napiEndpoint: api.example.test\n"
               "extraVars: {container_manager: containerd, kube_proxy_mode: nftables}\n");
  REQUIRE(more.ok());
  CHECK(more->kubernetes_version == "v1.34.7");
  CHECK(more->cni == "cilium");
  CHECK(more->kubespray_version == "v2.31.0");
  CHECK(more->api_endpoint == "https://api.example.test:6443");
  CHECK(more->extra_vars == json{{"container_manager", "containerd"}, {"kube_proxy_mode", "nftables"}});

  // ~/ is the user's home.
  test::TempDir home;
  REQUIRE(fs::write_private_file(home.path() / ".ssh" / "id_ed25519", kPrivateKey).ok());
  std::string old_home = fs::env("HOME");
  ::setenv("HOME", home.path().c_str(), 1);
  auto tilde = bed.load(replaced(bed.base(), "keyFile: id_rel", "keyFile: ~/.ssh/id_ed25519"));
  ::setenv("HOME", old_home.c_str(), 1);
  REQUIRE(tilde.ok());
  CHECK(tilde->hosts[2].key_file == home.path() / ".ssh" / "id_ed25519");
}

TEST_CASE("vms config: every check gives its exact error line and hint", "[providers][vms][bad-input]") {
  Bed bed;
  const std::string f = bed.config.string() + ": ";
  const std::string base = bed.base();
  const std::string k = bed.key.string();
  struct Case {
    std::string text;
    std::string message;
    std::string hint;  // a part of the hint
  };
  std::vector<Case> cases = {
      {"hosts: [\n", "", "--print-config"},  // message checked below (yaml-cpp's wording)
      {"- just\n- a list\n", f + "not a VmsCluster config (expected a mapping)", "--print-config"},
      {base + "nodes: 3\n", f + "unknown field \"nodes\"", "the fields are apiVersion, kind, hosts,"},
      {replaced(base, "apiVersion: kurator.dev/v1alpha1\n", ""), f + "apiVersion: is missing",
       "set apiVersion: kurator.dev/v1alpha1"},
      {replaced(base, "kurator.dev/v1alpha1", "kubekey.kubesphere.io/v1alpha2"),
       f + "apiVersion: \"kubekey.kubesphere.io/v1alpha2\" is not supported",
       "use apiVersion: kurator.dev/v1alpha1"},
      {replaced(base, "kind: VmsCluster", "kind: Cluster"), f + "kind: \"Cluster\" is not VmsCluster",
       "use kind: VmsCluster"},
      {"apiVersion: kurator.dev/v1alpha1\nkind: VmsCluster\n", f + "hosts: is missing", "list the machines"},
      {"apiVersion: kurator.dev/v1alpha1\nkind: VmsCluster\nhosts: []\n",
       f + "hosts: must be a non-empty list of hosts", "list the machines"},
      {"apiVersion: kurator.dev/v1alpha1\nkind: VmsCluster\nhosts: [node1]\n",
       f + "hosts[0]: must be a mapping",
       "host fields: name, address, internalIP, roles, user, port, keyFile"},
      {replaced(base, "  - name: node1\n", "  - address2: x\n"), f + "hosts[0].name: is missing",
       "node name"},
      {replaced(base, "name: node1", "name: Node_1"),
       f + "hosts[0].name: \"Node_1\" is not a valid node name", "lower-case letters"},
      {replaced(base, "name: node1", "name: 1"), f + "hosts[0].name: must be a string (got 1)",
       "quote the value"},
      {replaced(base, "name: node2", "name: node1"), f + "hosts[1].name: \"node1\" is used by hosts[0] too",
       "must be unique"},
      {replaced(base, "    user: debian\n", "    user: debian\n    password: secret\n"),
       f + "hosts[1] (node2): unknown field \"password\"", "host fields: name, address,"},
      {replaced(base, "    address: 10.250.0.12\n", ""), f + "hosts[1] (node2).address: is missing",
       "over SSH"},
      {replaced(base, "address: 10.250.0.12", "address: 10.250.0.300"),
       f + "hosts[1] (node2).address: \"10.250.0.300\" is not a host name or IP address", "over SSH"},
      {replaced(base, "address: node3.example.test", "address: 10.250.0.11"),
       f + "hosts[2] (node3).address: 10.250.0.11 is used by hosts[0] (node1) too", "its own address"},
      {replaced(base, "internalIP: 10.250.0.13", "internalIP: node3"),
       f + "hosts[2] (node3).internalIP: \"node3\" is not an IPv4 address", "KubeSpray's ip"},
      {replaced(base, "internalIP: 10.250.0.13", "internalIP: 10.250.0.11"),
       f + "hosts[2] (node3).internalIP: 10.250.0.11 is used by hosts[0] (node1) too", "its own address"},
      {replaced(base, "    roles: [etcd, worker]\n", ""), f + "hosts[2] (node3).roles: is missing",
       "roles are control-plane, etcd and worker"},
      {replaced(base, "roles: [etcd, worker]", "roles: []"),
       f + "hosts[2] (node3).roles: must be a non-empty list", "roles are control-plane, etcd and worker"},
      {replaced(base, "roles: [etcd, worker]", "roles: [etcd, master]"),
       f + "hosts[2] (node3).roles: \"master\" is not a role", "roles are control-plane, etcd and worker"},
      {replaced(base, "    user: debian\n", ""), f + "hosts[1] (node2).user: is missing", "SSH user"},
      {replaced(base, "port: 2222", "port: 70000"), f + "hosts[1] (node2).port: 70000 is not a TCP port",
       "1 to 65535"},
      {replaced(base, "port: 2222", "port: \"22\""), f + "hosts[1] (node2).port: \"22\" is not a TCP port",
       "1 to 65535"},
      {replaced(base, "    keyFile: id_rel\n", ""), f + "hosts[2] (node3).keyFile: is missing",
       "private key"},
      {replaced(base, "keyFile: id_rel", "keyFile: id_missing"),
       f + "hosts[2] (node3).keyFile: " + (bed.dir.path() / "id_missing").string() +
           ": No such file or directory",
       "private key"},
      {replaced(base, "keyFile: id_rel", "keyFile: keys"),
       f + "hosts[2] (node3).keyFile: " + (bed.dir.path() / "keys").string() + " is a directory",
       "private key"},
      {replaced(base, "keyFile: id_rel", "keyFile: id_test.pub"),
       f + "hosts[2] (node3).keyFile: " + (bed.dir.path() / "id_test.pub").string() + " is a public key",
       "without .pub"},
      {replaced(base, "keyFile: id_rel", "keyFile: hosts.yaml"),
       f + "hosts[2] (node3).keyFile: " + bed.config.string() +
           " does not hold a private key (no PRIVATE KEY header)",
       "private key"},
      {replaced(replaced(base, "roles: [control-plane, etcd]", "roles: [etcd]"),
                "roles: [worker, etcd, control-plane]", "roles: [worker, etcd]"),
       f + "hosts: no host has the role control-plane", "control-plane"},
      {replaced(base, "roles: [etcd, worker]", "roles: [worker]"),
       f + "hosts: 2 hosts have the role etcd (node1, node2); etcd needs an odd number", "1, 3 or 5 hosts"},
      {replaced(replaced(replaced(base, "roles: [control-plane, etcd]", "roles: [control-plane]"),
                         "roles: [worker, etcd, control-plane]", "roles: [worker]"),
                "roles: [etcd, worker]", "roles: [worker]"),
       f + "hosts: no host has the role etcd", "1, 3 or 5 hosts"},
      {base + "kubernetesVersion: latest\n",
       f + "kubernetesVersion: \"latest\" is not a version (vMAJOR.MINOR.PATCH)",
       "installs v1.33.0 to v1.35.4 (default v1.35.4)"},
      {base + "kubernetesVersion: v1.32.9\n",
       f + "kubernetesVersion: v1.32.9 is not supported by KubeSpray v2.31.0",
       "KubeSpray v2.31.0 installs v1.33.0 to v1.35.4 (default v1.35.4)"},
      {base + "kubernetesVersion: 1.36.0\n",
       f + "kubernetesVersion: v1.36.0 is not supported by KubeSpray v2.31.0", "installs v1.33.0 to v1.35.4"},
      {base + "kubernetesVersion: 1.35\n", f + "kubernetesVersion: must be a string (got 1.35)",
       "quote the value"},
      {base + "cni: weave\n", f + "cni: \"weave\" is not a network plugin of KubeSpray v2.31.0",
       "use one of calico, flannel, cloud, cilium, cni, kube-ovn, kube-router, macvlan, custom_cni, none"},
      {base + "podCIDR: 10.233.64.0\n", f + "podCIDR: \"10.233.64.0\" is not an IPv4 network (a.b.c.d/n)",
       "e.g. 10.233.64.0/18"},
      {base + "serviceCIDR: 10.233.0.0/33\n",
       f + "serviceCIDR: \"10.233.0.0/33\" is not an IPv4 network (a.b.c.d/n)", "e.g. 10.233.0.0/18"},
      {base + "podCIDR: 10.233.64.1/18\n", f + "podCIDR: 10.233.64.1/18 has host bits set",
       "did you mean 10.233.64.0/18?"},
      {base + "podCIDR: 10.0.0.0/30\n", f + "podCIDR: 10.0.0.0/30: the prefix must be between /8 and /28",
       "e.g."},
      {base + "podCIDR: 10.233.0.0/16\n", f + "podCIDR: 10.233.0.0/16 overlaps serviceCIDR 10.233.0.0/18",
       "do not overlap"},
      {base + "serviceCIDR: 10.233.96.0/20\n",
       f + "podCIDR: 10.233.64.0/18 overlaps serviceCIDR 10.233.96.0/20", "do not overlap"},
      {base + "podCIDR: 10.250.0.0/16\n",
       f + "podCIDR: 10.250.0.0/16 contains the address 10.250.0.11 of host node1", "the machines' network"},
      {base + "kubesprayVersion: v2.30.0\n",
       f + "kubesprayVersion: \"v2.30.0\" is not supported by this kurator", "use v2.31.0"},
      {base + "apiEndpoint: http://10.0.0.1:6443\n",
       f + "apiEndpoint: \"http://10.0.0.1:6443\" is not host[:port] or https://host[:port]", "API server"},
      {base + "extraVars: [a]\n", f + "extraVars: must be a mapping of KubeSpray variables",
       "container_manager"},
      {base + "extraVars: {kube_version: 1.34.0}\n", f + "extraVars.kube_version: is set by kurator",
       "set kubernetesVersion instead"},
      {base + "extraVars: {kube_network_plugin: flannel}\n",
       f + "extraVars.kube_network_plugin: is set by kurator", "set cni instead"},
      {base + "extraVars: {kube_pods_subnet: 10.0.0.0/16}\n",
       f + "extraVars.kube_pods_subnet: is set by kurator", "set podCIDR instead"},
      {base + "extraVars: {kube_service_addresses: 10.0.0.0/16}\n",
       f + "extraVars.kube_service_addresses: is set by kurator", "set serviceCIDR instead"},
      {base + "extraVars: {kubeconfig_localhost: false}\n",
       f + "extraVars.kubeconfig_localhost: is set by kurator", "admin.conf"},
      {base + "extraVars: {artifacts_dir: /tmp}\n", f + "extraVars.artifacts_dir: is set by kurator",
       "cluster's folder"},
      {base + "extraVars: {foo-bar: 1}\n", f + "extraVars: \"foo-bar\" is not an Ansible variable name",
       "letters, digits"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = bed.load(c.text);
    REQUIRE_FALSE(r.ok());
    if (!c.message.empty())
      CHECK(r.error().message == c.message);
    else
      CHECK(r.error().message.rfind(f + "line ", 0) == 0);
    CHECK(r.error().message.find('\n') == std::string::npos);
    CHECK(r.error().hint.find(c.hint) != std::string::npos);
    CHECK(r.error().exit == ExitCode::failure);
    // The key's content never appears in a message.
    CHECK(r.error().message.find("b3BlbnNzaC1rZXkt") == std::string::npos);
  }

  auto missing = vms::load_config(bed.dir.path() / "nope.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == (bed.dir.path() / "nope.yaml").string() + ": No such file or directory");
  CHECK(missing.error().hint.find("--print-config") != std::string::npos);

  if (::geteuid() != 0) {  // root reads any file
    ::chmod(bed.key.c_str(), 0);
    auto unreadable = bed.load(base);
    ::chmod(bed.key.c_str(), 0600);
    REQUIRE_FALSE(unreadable.ok());
    CHECK(unreadable.error().message == f + "hosts[0] (node1).keyFile: " + k + ": Permission denied");
  }
}

TEST_CASE("vms inventory: KubeSpray's YAML inventory from a 3-host config", "[providers][vms]") {
  Bed bed;
  auto cfg = bed.load(bed.base());
  REQUIRE(cfg.ok());
  std::string text = vms::render_inventory(*cfg);
  json expected = {{"all",
                    {{"hosts",
                      {{"node1",
                        {{"ansible_host", "10.250.0.11"},
                         {"ip", "10.250.0.11"},
                         {"access_ip", "10.250.0.11"},
                         {"ansible_port", 22},
                         {"ansible_user", "root"},
                         {"ansible_ssh_private_key_file", bed.key.string()},
                         {"ansible_python_interpreter", "/usr/bin/python3"}}},
                       {"node2",
                        {{"ansible_host", "10.250.0.12"},
                         {"ansible_port", 2222},
                         {"ansible_user", "debian"},
                         {"ansible_ssh_private_key_file", bed.key.string()},
                         {"ansible_python_interpreter", "/usr/bin/python3"}}},
                       {"node3",
                        {{"ansible_host", "node3.example.test"},
                         {"ip", "10.250.0.13"},
                         {"access_ip", "10.250.0.13"},
                         {"ansible_port", 22},
                         {"ansible_user", "root"},
                         {"ansible_ssh_private_key_file", (bed.dir.path() / "id_rel").string()},
                         {"ansible_python_interpreter", "/usr/bin/python3"}}}}},
                     {"children",
                      {{"kube_control_plane", {{"hosts", {{"node1", nullptr}, {"node2", nullptr}}}}},
                       {"etcd", {{"hosts", {{"node1", nullptr}, {"node2", nullptr}, {"node3", nullptr}}}}},
                       {"kube_node", {{"hosts", {{"node2", nullptr}, {"node3", nullptr}}}}}}}}}};
  CHECK(parsed(text) == expected);
  CHECK(vms::inventory(*cfg) == expected);
  CHECK(text.rfind("# KubeSpray inventory written by kurator from " + bed.config.string() + "\n", 0) == 0);
  // Addresses are quoted: PyYAML must read them as strings.
  CHECK(text.find("ansible_host: \"10.250.0.11\"") != std::string::npos);
}

TEST_CASE("vms group vars: kurator's variables, then extraVars", "[providers][vms]") {
  Bed bed;
  auto cfg = bed.load(bed.base() +
                      "kubernetesVersion: v1.34.7\ncni: flannel\napiEndpoint: https://192.0.2.10:443/\n"
                      "extraVars:\n  container_manager: containerd\n  kube_proxy_strict_arp: true\n"
                      "  supplementary_addresses_in_ssl_keys: [api.example.test]\n  dns_mode: \"yes\"\n");
  REQUIRE(cfg.ok());
  CHECK(cfg->api_endpoint == "https://192.0.2.10:443");
  stdfs::path dir = "/home/u/.kurator/clusters/demo";
  json expected = {{"kube_version", "1.34.7"},
                   {"kube_network_plugin", "flannel"},
                   {"kube_pods_subnet", "10.233.64.0/18"},
                   {"kube_service_addresses", "10.233.0.0/18"},
                   {"kubeconfig_localhost", true},
                   {"artifacts_dir", "/home/u/.kurator/clusters/demo/artifacts"},
                   {"container_manager", "containerd"},
                   {"kube_proxy_strict_arp", true},
                   {"supplementary_addresses_in_ssl_keys", {"api.example.test", "192.0.2.10"}},
                   {"dns_mode", "yes"}};
  std::string text = vms::render_group_vars(*cfg, dir);
  CHECK(parsed(text) == expected);
  CHECK(vms::group_vars(*cfg, dir) == expected);
  // kurator's own first, in a fixed order; then the extraVars.
  CHECK(text.find("kube_version: \"1.34.7\"\nkube_network_plugin: flannel\n") != std::string::npos);
  CHECK(text.find("kube_version") < text.find("container_manager"));
  // "yes" would be a boolean to Ansible's YAML 1.1 reader: quoted.
  CHECK(text.find("dns_mode: \"yes\"") != std::string::npos);

  // No extraVars, no apiEndpoint: only kurator's variables.
  auto plain = bed.load(bed.base());
  REQUIRE(plain.ok());
  CHECK(parsed(vms::render_group_vars(*plain, dir)).size() == 6);
}

TEST_CASE("vms yaml for ansible: strings PyYAML would retype are quoted", "[providers][vms]") {
  json v = {{"a", "1.35"},
            {"b", "yes"},
            {"c", "010"},
            {"d", "on"},
            {"e", "~"},
            {"f", ""},
            {"g", "plain/path-1.x"},
            {"h", "two words"},
            {"i", json::array()},
            {"j", json::object()},
            {"k", 3},
            {"l", false},
            {"m", "a\nb"},
            {"Yes", 1}};
  std::string text = vms::dump_for_ansible(v);
  CHECK(parsed(text) == v);
  for (const char* q : {"a: \"1.35\"", "b: \"yes\"", "c: \"010\"", "d: \"on\"", "e: \"~\"", "\"Yes\": 1"}) {
    INFO(q);
    CHECK(text.find(q) != std::string::npos);
  }
  CHECK(text.find("g: plain/path-1.x") != std::string::npos);
}

TEST_CASE("vms sample config loads once its key paths are real", "[providers][vms]") {
  Bed bed;
  std::string sample = vms::sample_config();
  CHECK(sample.find("~/.ssh/id_ed25519") != std::string::npos);
  CHECK(sample.find("v1.33.0 to v1.35.4") != std::string::npos);
  std::string text = std::regex_replace(sample, std::regex("~/\\.ssh/id_ed25519"), bed.key.string());
  auto cfg = bed.load(text);
  REQUIRE(cfg.ok());
  CHECK(cfg->hosts.size() == 3);
  CHECK(cfg->with_role(vms::Role::etcd).size() == 3);
  CHECK(cfg->kubernetes_version == std::string(vms::kDefaultKubernetesVersion));
  CHECK(cfg->extra_vars == json{{"container_manager", "containerd"}});
  // Every line is YAML or a comment: no template markers left.
  CHECK(sample.find("{{") == std::string::npos);
  // Unchanged, it fails on the key file only (with a home that has no ~/.ssh/id_ed25519).
  test::TempDir home;
  std::string old_home = fs::env("HOME");
  ::setenv("HOME", home.path().c_str(), 1);
  auto as_is = bed.load(sample);
  ::setenv("HOME", old_home.c_str(), 1);
  REQUIRE_FALSE(as_is.ok());
  CHECK(as_is.error().message.find("hosts[0] (node1).keyFile: ") != std::string::npos);
}

TEST_CASE("vms playbook commands: argv, environment and folder of each operation", "[providers][vms]") {
  Bed bed;
  auto cfg = bed.load(bed.base());
  REQUIRE(cfg.ok());
  stdfs::path home = "/h/.kurator";
  stdfs::path dir = home / "clusters" / "demo";
  vms::PlaybookOptions o;
  o.toolchain = vms::default_toolchain(home);
  CHECK(o.toolchain.kubespray_dir == "/h/.kurator/kubespray/v2.31.0/kubespray-2.31.0");
  CHECK(o.toolchain.venv == "/h/.kurator/kubespray/v2.31.0/venv");
  const std::string ap = "/h/.kurator/kubespray/v2.31.0/venv/bin/ansible-playbook";
  const std::string inv = "/h/.kurator/clusters/demo/inventory/hosts.yaml";
  using Argv = std::vector<std::string>;

  auto pre = vms::preflight_command(*cfg, dir, o);
  CHECK(pre.argv == Argv{ap, "-i", inv, "-b", "cluster.yml", "--tags", "always"});
  CHECK(pre.cwd == o.toolchain.kubespray_dir);
  std::map<std::string, std::string> env = {
      {"ANSIBLE_STDOUT_CALLBACK", "ansible.posix.jsonl"},
      {"ANSIBLE_CALLBACKS_ENABLED", ""},
      {"ANSIBLE_CACHE_PLUGIN_CONNECTION", "/h/.kurator/clusters/demo/runs/preflight/facts"},
      {"ANSIBLE_SSH_CONTROL_PATH_DIR", "/h/.kurator/clusters/demo/runs/preflight/ssh"},
      {"ANSIBLE_SSH_ARGS",
       "-o ControlMaster=auto -o ControlPersist=60s -o ConnectionAttempts=1 -o UserKnownHostsFile=/dev/null "
       "-o "
       "StrictHostKeyChecking=no"},
      {"ANSIBLE_TIMEOUT", "10"},
      {"ANSIBLE_HOST_KEY_CHECKING", "False"}};
  CHECK(pre.env == env);

  auto create = vms::create_command(*cfg, dir, o);
  CHECK(create.argv == Argv{ap, "-i", inv, "-b", "cluster.yml"});
  CHECK(create.env.at("ANSIBLE_CACHE_PLUGIN_CONNECTION") == "/h/.kurator/clusters/demo/runs/create/facts");
  auto checked = o;
  checked.check = true;
  CHECK(vms::create_command(*cfg, dir, checked).argv == Argv{ap, "-i", inv, "-b", "cluster.yml", "--check"});

  auto scale = vms::scale_commands(*cfg, dir, {"node4", "node5"}, o);
  REQUIRE(scale.size() == 2);
  CHECK(scale[0].argv == Argv{ap, "-i", inv, "-b", "playbooks/facts.yml"});
  CHECK(scale[1].argv == Argv{ap, "-i", inv, "-b", "scale.yml", "--limit", "node4,node5"});
  CHECK(scale[0].env == scale[1].env);  // one fact cache for both
  CHECK(scale[1].env.at("ANSIBLE_SSH_CONTROL_PATH_DIR") == "/h/.kurator/clusters/demo/runs/scale/ssh");

  CHECK(
      vms::remove_node_command(*cfg, dir, {"node2", "node3"}, o).argv ==
      Argv{ap, "-i", inv, "-b", "remove-node.yml", "-e", "node=node2,node3", "-e", "skip_confirmation=true"});
  CHECK(vms::upgrade_command(*cfg, dir, "v1.35.4", o).argv ==
        Argv{ap, "-i", inv, "-b", "upgrade-cluster.yml", "-e", "kube_version=1.35.4"});
  auto reset = vms::reset_command(*cfg, dir, checked);
  CHECK(reset.argv == Argv{ap, "-i", inv, "-b", "reset.yml", "--check", "-e", "reset_confirmation=yes"});
  CHECK(reset.env.at("ANSIBLE_CACHE_PLUGIN_CONNECTION") == "/h/.kurator/clusters/demo/runs/reset/facts");

  auto no_become = o;
  no_become.become = false;
  no_become.operation = "ping";
  no_become.extra_vars = {{"a", "b c"}};
  auto p = vms::playbook_command(*cfg, dir, "playbooks/ansible_version.yml", no_become);
  CHECK(p.argv == Argv{ap, "-i", inv, "playbooks/ansible_version.yml", "-e", "a=b c"});

  // Display: the folder, the variables, then the argv, quoted where a shell would need it.
  std::string shown = vms::display(p);
  CHECK(shown.rfind("cd /h/.kurator/kubespray/v2.31.0/kubespray-2.31.0\n", 0) == 0);
  CHECK(shown.find("ANSIBLE_CALLBACKS_ENABLED='' \\\n") != std::string::npos);
  CHECK(shown.find("ANSIBLE_SSH_ARGS='-o ControlMaster=auto") != std::string::npos);
  CHECK(shown.find("\n" + ap + " -i " + inv + " playbooks/ansible_version.yml -e 'a=b c'\n") !=
        std::string::npos);
}

TEST_CASE("vms progress: a run that stops at KubeSpray's systemd assert", "[providers][vms][progress]") {
  vms::PlaybookProgress p;
  const char* lines[] = {
      R"({"_event":"v2_playbook_on_play_start","_timestamp":"2026-12-02T07:00:00Z","play":{"duration":{"start":"x"},"id":"1","name":"Check Ansible version"},"tasks":[]})",
      R"({"_event":"v2_playbook_on_task_start","_timestamp":"t","hosts":{},"task":{"duration":{"start":"x"},"id":"2","name":"Check 2.18.0 <= Ansible version < 2.19.0"}})",
      R"({"_event":"v2_runner_on_ok","_timestamp":"t","hosts":{"localhost":{"_ansible_no_log":false,"action":"assert","changed":false,"msg":"All assertions passed"}},"task":{"duration":{"end":"y","start":"x"},"id":"2","name":"Check 2.18.0 <= Ansible version < 2.19.0"}})",
      "[WARNING]: a warning that went to stdout",
      "",
      R"({"_event":"v2_playbook_on_play_start","play":{"id":"3","name":"Prepare for etcd install"},"tasks":[]})",
      R"({"_event":"v2_playbook_on_task_start","hosts":{},"task":{"id":"4","name":"kubernetes/preinstall : Create kubernetes directories"}})",
      R"({"_event":"v2_runner_on_ok","hosts":{"node1":{"action":"file","changed":true}},"task":{"id":"4","name":"kubernetes/preinstall : Create kubernetes directories"}})",
      R"({"_event":"v2_runner_on_ok","hosts":{"node2":{"action":"file","changed":false}},"task":{"id":"4","name":"kubernetes/preinstall : Create kubernetes directories"}})",
      R"({"_event":"v2_runner_on_skipped","hosts":{"node3":{"action":"file","changed":false,"skipped":true}},"task":{"id":"4","name":"kubernetes/preinstall : Create kubernetes directories"}})",
      R"({"_event":"v2_playbook_on_task_start","hosts":{},"task":{"id":"5","name":"kubernetes/preinstall : Stop if non systemd OS type"}})",
      R"({"_event":"v2_runner_on_failed","hosts":{"node1":{"_ansible_no_log":false,"action":"assert","assertion":"ansible_service_mgr == \"systemd\"","changed":false,"evaluated_to":false,"failed":true,"msg":"Assertion failed"}},"task":{"id":"5","name":"kubernetes/preinstall : Stop if non systemd OS type"}})",
      R"({"_event":"v2_runner_on_failed","hosts":{"node2":{"action":"assert","changed":false,"failed":true,"msg":"Assertion failed"}},"task":{"id":"5","name":"kubernetes/preinstall : Stop if non systemd OS type"}})",
      R"({"_event":"v2_runner_on_failed","hosts":{"node3":{"action":"assert","changed":false,"failed":true,"msg":"Assertion failed"}},"task":{"id":"5","name":"kubernetes/preinstall : Stop if non systemd OS type"}})",
  };
  for (const char* l : lines) p.feed(l);
  CHECK(p.play() == "Prepare for etcd install");
  CHECK(p.task() == "kubernetes/preinstall : Stop if non systemd OS type");
  CHECK(p.plays() == 2);
  CHECK(p.tasks() == 3);
  CHECK(p.ignored_lines() == 2);
  CHECK_FALSE(p.finished());
  // Live counts, before the stats.
  CHECK(p.hosts().at("node1").ok == 1);
  CHECK(p.hosts().at("node1").changed == 1);
  CHECK(p.hosts().at("node1").failed == 1);
  CHECK(p.hosts().at("node3").skipped == 1);
  CHECK(p.hosts().at("localhost").ok == 1);
  auto live = p.failure();
  REQUIRE(live);
  CHECK(live->host == "node3");  // the latest, until the stats say which host really stopped

  p.feed(
      R"({"_event":"v2_playbook_on_stats","custom_stats":{},"global_custom_stats":{},"stats":{"localhost":{"changed":0,"failures":0,"ignored":0,"ok":1,"rescued":0,"skipped":0,"unreachable":0},"node1":{"changed":1,"failures":1,"ignored":0,"ok":20,"rescued":0,"skipped":7,"unreachable":0},"node2":{"changed":0,"failures":1,"ignored":0,"ok":19,"rescued":0,"skipped":7,"unreachable":0},"node3":{"changed":0,"failures":1,"ignored":0,"ok":19,"rescued":0,"skipped":8,"unreachable":0}}})");
  CHECK(p.finished());
  // The final stats win over the live sums.
  CHECK(p.hosts().at("node1").ok == 20);
  CHECK(p.hosts().at("node1").skipped == 7);
  CHECK(p.hosts().at("node2").failed == 1);
  auto f = p.failure();
  REQUIRE(f);
  CHECK(f->task == "kubernetes/preinstall : Stop if non systemd OS type");
  CHECK(f->host == "node1");
  CHECK(f->msg == "Assertion failed");
  CHECK(f->item.empty());
  CHECK_FALSE(f->unreachable);
}

TEST_CASE("vms progress: loops, ignored failures, unreachable hosts, junk", "[providers][vms][progress]") {
  SECTION("a failed loop item is the reason") {
    vms::PlaybookProgress p;
    p.feed(R"({"_event":"v2_playbook_on_play_start","play":{"name":"Install Kubernetes nodes"}})");
    p.feed(
        R"({"_event":"v2_playbook_on_task_start","task":{"name":"kubernetes/preinstall : Create kubernetes directories"}})");
    p.feed(
        R"({"_event":"v2_runner_on_failed","hosts":{"node2":{"changed":false,"failed":true,"msg":"One or more items failed","results":[{"changed":false,"failed":false,"item":"/etc/kubernetes"},{"changed":false,"failed":true,"item":"/usr/local/bin/kubernetes-scripts","msg":"failed to look up user kube"}]}},"task":{"name":"kubernetes/preinstall : Create kubernetes directories"}})");
    p.feed(
        R"({"_event":"v2_playbook_on_stats","stats":{"node2":{"changed":0,"failures":1,"ignored":0,"ok":5,"rescued":0,"skipped":0,"unreachable":0}}})");
    auto f = p.failure();
    REQUIRE(f);
    CHECK(f->host == "node2");
    CHECK(f->msg == "failed to look up user kube");
    CHECK(f->item == "/usr/local/bin/kubernetes-scripts");
  }
  SECTION("an ignored failure is not the reason, the fatal one after it is") {
    vms::PlaybookProgress p;
    p.feed(
        R"({"_event":"v2_runner_on_failed","hosts":{"node1":{"failed":true,"msg":"probe failed, ignored"}},"task":{"name":"probe"}})");
    p.feed(
        R"({"_event":"v2_runner_on_failed","hosts":{"node1":{"failed":true,"msg":"","stderr":"iptables: not found\n","rc":127}},"task":{"name":"reset : flush iptables"}})");
    p.feed(R"({"_event":"v2_playbook_on_stats","stats":{"node1":{"failures":1,"ignored":1,"ok":3}}})");
    auto f = p.failure();
    REQUIRE(f);
    CHECK(f->task == "reset : flush iptables");
    CHECK(f->msg == "iptables: not found");
    CHECK(p.hosts().at("node1").ignored == 1);
  }
  SECTION("only ignored failures: the run did not fail") {
    vms::PlaybookProgress p;
    p.feed(
        R"({"_event":"v2_runner_on_failed","hosts":{"node1":{"failed":true,"msg":"ignored"}},"task":{"name":"probe"}})");
    p.feed(R"({"_event":"v2_playbook_on_stats","stats":{"node1":{"failures":0,"ignored":1,"ok":3}}})");
    CHECK_FALSE(p.failure());
  }
  SECTION("an unreachable host") {
    vms::PlaybookProgress p;
    p.feed(R"({"_event":"v2_playbook_on_task_start","task":{"name":"Gathering Facts"}})");
    p.feed(
        R"({"_event":"v2_runner_on_unreachable","hosts":{"node3":{"changed":false,"msg":"Failed to connect to the host via ssh: ssh: connect to host 10.250.0.13 port 22: No route to host","unreachable":true}},"task":{"name":"Gathering Facts"}})");
    p.feed(R"({"_event":"v2_playbook_on_stats","stats":{"node3":{"failures":0,"unreachable":1,"ok":0}}})");
    auto f = p.failure();
    REQUIRE(f);
    CHECK(f->unreachable);
    CHECK(f->host == "node3");
    CHECK(f->task == "Gathering Facts");
    CHECK(f->msg.find("No route to host") != std::string::npos);
    CHECK(p.hosts().at("node3").unreachable == 1);
  }
  SECTION("strategy free: v2_runner_on_start names the task") {
    vms::PlaybookProgress p;
    p.feed(R"({"_event":"v2_runner_on_start","hosts":{},"task":{"name":"download : Download files"}})");
    CHECK(p.task() == "download : Download files");
  }
  SECTION("lines that are not events are ignored safely") {
    vms::PlaybookProgress p;
    for (const char* junk : {"", "PLAY RECAP ****", "{", "{\"no_event\":1}", "[1,2]", "{\"_event\":3}",
                             "text {\"_event\":\"v2_playbook_on_play_start\"}", "\xff\xfe{",
                             R"({"_event":"v2_runner_on_ok","hosts":"node1"})",
                             R"({"_event":"v2_playbook_on_stats","stats":[1]})",
                             R"({"_event":"v2_playbook_on_play_start","play":"x"})"})
      p.feed(junk);
    CHECK(p.plays() == 1);  // the last one is a play start with an odd body
    CHECK(p.play().empty());
    CHECK(p.hosts().empty());
    CHECK_FALSE(p.failure());
    CHECK(p.ignored_lines() == 8);
  }
}

TEST_CASE("vms tables equal KubeSpray v2.31.0's own", "[providers][vms][fixtures]") {
  std::string checksums = from_tarball("roles/kubespray_defaults/vars/main/checksums.yml");
  if (checksums.empty()) {
    test::skip(
        "upstream fixture kubespray-v2.31.0/release/kubespray-2.31.0.tar.gz not found: "
        "the Kubernetes version table, network plugins and defaults are not checked against KubeSpray");
    return;
  }
  auto doc = yaml::parse_one(checksums, "checksums.yml");
  REQUIRE(doc.ok());
  for (const char* arch : {"amd64", "arm64"}) {
    std::set<std::string> common;
    bool first = true;
    for (const char* table : {"kubeadm_checksums", "kubelet_checksums", "kubectl_checksums"}) {
      std::set<std::string> keys;
      for (auto it = (*doc)[table][arch].begin(); it != (*doc)[table][arch].end(); ++it)
        keys.insert("v" + it.key());
      if (first)
        common = keys;
      else {
        std::set<std::string> both;
        std::set_intersection(common.begin(), common.end(), keys.begin(), keys.end(),
                              std::inserter(both, both.end()));
        common = both;
      }
      first = false;
    }
    INFO(arch);
    const auto& ours = vms::supported_kubernetes_versions();
    CHECK(std::set<std::string>(ours.begin(), ours.end()) == common);
  }
  // kube_version's default is the first key of kubelet_checksums.amd64 (the file's order).
  auto at = checksums.find("kubelet_checksums:");
  auto amd = checksums.find("  amd64:\n", at);
  REQUIRE(amd != std::string::npos);
  std::smatch m;
  std::string after = checksums.substr(amd + 9, 200);
  REQUIRE(std::regex_search(after, m, std::regex(R"(^\s+([0-9.]+):)")));
  CHECK("v" + m[1].str() == std::string(vms::kDefaultKubernetesVersion));
  CHECK(vms::supported_kubernetes_versions().back() == std::string(vms::kDefaultKubernetesVersion));

  auto defaults =
      yaml::parse_one(from_tarball("roles/kubespray_defaults/defaults/main/main.yml"), "main.yml");
  REQUIRE(defaults.ok());
  CHECK((*defaults)["kube_network_plugin"] == std::string(vms::kDefaultCni));
  CHECK((*defaults)["kube_pods_subnet"] == std::string(vms::kDefaultPodCidr));
  CHECK((*defaults)["kube_service_addresses"] == std::string(vms::kDefaultServiceCidr));
  CHECK((*defaults)["kube_apiserver_port"] == vms::kDefaultApiPort);
  for (const auto& [k, why] : vms::managed_variables()) {
    INFO(k);
    if (k != "artifacts_dir") CHECK(defaults->contains(k));  // artifacts_dir is read by the client role only
  }

  std::string validate = from_tarball("roles/validate_inventory/tasks/main.yml");
  REQUIRE(std::regex_search(validate, m, std::regex(R"(kube_network_plugin in \[([^\]]+)\])")));
  std::vector<std::string> plugins;
  std::string list = m[1].str();
  const std::regex quoted_word("'([^']+)'");
  for (std::sregex_iterator it(list.begin(), list.end(), quoted_word), end; it != end; ++it)
    plugins.push_back((*it)[1].str());
  CHECK(plugins == vms::network_plugins());
  CHECK(validate.find("Stop if even number of etcd hosts") != std::string::npos);

  std::string client = from_tarball("roles/kubernetes/client/tasks/main.yml");
  CHECK(client.find("artifacts_dir") != std::string::npos);
}

TEST_CASE("vms control sockets: a deep cluster folder gets a short socket folder", "[unit][providers][vms]") {
  CHECK(vms::control_path_dir("/root/.kurator/clusters/demo/runs/create/ssh") ==
        "/root/.kurator/clusters/demo/runs/create/ssh");
  const std::string deep = "/home/someone-with-a-long-name/.kurator/clusters/production-eu-west/runs/create/ssh";
  auto short_dir = vms::control_path_dir(deep);
  CHECK(short_dir.rfind("/tmp/kurator-ssh-", 0) == 0);
  CHECK(short_dir.size() == 29);
  CHECK((short_dir + "/" + std::string(40, 'c') + "." + std::string(16, 'r')).size() <= 107);
  CHECK(vms::control_path_dir(deep) == short_dir);  // the same folder on every run
}
