// End-to-end: real local control planes (etcd, kube-apiserver, controller-manager, scheduler, kwok)
// created by `kurator create cluster --provider local`, checked with the real kubectl.
// Run inside a private network namespace: scripts/netns-run.sh build/tests/test_e2e
#include <kurator/core/process.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/util/fs.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "support/fleet.hpp"
#include "support/test_env.hpp"

using kurator::test::Fleet;
using kurator::test::FleetCluster;
using json = nlohmann::json;
namespace local = kurator::providers::local;
using namespace std::chrono_literals;

namespace {

// Common preconditions: SKIP loudly without binaries, refuse without an isolated network.
bool e2e_ready() {
  if (auto why = kurator::test::e2e_skip_reason(); !why.empty()) {
    kurator::test::skip(why);
    return false;
  }
  kurator::test::require_isolated_network();
  return true;
}

json parse(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  INFO(text);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

int ready_nodes(const json& list) {
  int ready = 0;
  for (const auto& n : list["items"])
    for (const auto& c : n["status"].value("conditions", json::array()))
      if (c["type"] == "Ready" && c["status"] == "True") ++ready;
  return ready;
}

// The ports a cluster listed in its state.json.
std::vector<int> cluster_ports(const FleetCluster& c) {
  std::ifstream in(c.dir / "state.json");
  json state = json::parse(in, nullptr, false);
  REQUIRE_FALSE(state.is_discarded());
  std::vector<int> ports;
  for (const auto& [k, v] : state["ports"].items()) ports.push_back(v.get<int>());
  return ports;
}

json get_clusters(const Fleet& fleet) {
  auto r = fleet.kurator({"get", "clusters", "-o", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return parse(r.out);
}

const json* find_cluster(const json& list, const std::string& name) {
  for (const auto& c : list)
    if (c["name"] == name) return &c;
  return nullptr;
}

}  // namespace

TEST_CASE("a 3-node local cluster: kubectl sees 3 Ready nodes", "[e2e][local]") {
  if (!e2e_ready()) return;
  auto& fleet = Fleet::get();
  const auto& host = fleet.host();

  struct stat st {};
  REQUIRE(::stat(host.kubeconfig.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto nodes = fleet.kubectl(host, {"get", "nodes", "-o", "json"});
  INFO(nodes.err);
  REQUIRE(nodes.exit_code == 0);
  auto list = parse(nodes.out);
  CHECK(list["items"].size() == 3);
  CHECK(ready_nodes(list) == 3);
  for (const auto& n : list["items"]) {
    CHECK(n["metadata"]["labels"]["type"] == "kwok");
    CHECK(n["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake");
    CHECK_FALSE(n["spec"].contains("taints"));
  }
  // The plain table a user sees.
  auto table = fleet.kubectl(host, {"get", "nodes"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("Ready") != std::string::npos);
  CHECK(table.out.find("NotReady") == std::string::npos);

  auto version = fleet.kubectl(host, {"version", "-o", "json"});
  REQUIRE(version.exit_code == 0);
  CHECK(parse(version.out)["serverVersion"]["gitVersion"] == "v1.35.4");

  SECTION("get clusters lists the fleet as Running") {
    auto clusters = get_clusters(fleet);
    for (const auto& c : fleet.clusters()) {
      const json* entry = find_cluster(clusters, c.name);
      REQUIRE(entry);
      CHECK((*entry)["status"] == "Running");
      CHECK((*entry)["provider"] == "local");
      CHECK((*entry)["nodes"] == c.nodes);
    }
    auto table = fleet.kurator({"get", "clusters"});
    REQUIRE(table.exit_code == 0);
    CHECK(table.out.find("NAME") != std::string::npos);
    CHECK(table.out.find("e2e-host") != std::string::npos);
  }
  SECTION("get kubeconfig prints the admin kubeconfig") {
    auto r = fleet.kurator({"get", "kubeconfig", host.name});
    REQUIRE(r.exit_code == 0);
    auto file = kurator::fs::read_file(host.kubeconfig);
    REQUIRE(file.ok());
    CHECK(r.out == *file);
  }
  SECTION("create with the same spec is a no-op; another spec is refused") {
    auto same = fleet.kurator({"create", "cluster", host.name, "--provider", "local", "--nodes", "3"});
    INFO(same.err);
    CHECK(same.exit_code == 0);
    CHECK(same.out.find("already exists with the same spec") != std::string::npos);
    auto other = fleet.kurator({"create", "cluster", host.name, "--provider", "local", "--nodes", "2"});
    CHECK(other.exit_code == 1);
    CHECK(other.err.find("different spec") != std::string::npos);
  }
}

TEST_CASE("kurator apply: a Deployment becomes Ready and a Job Complete", "[e2e][local]") {
  if (!e2e_ready()) return;
  auto& fleet = Fleet::get();
  const auto& host = fleet.host();
  if (fleet.kurator({"apply", "--help"}).exit_code != 0) {
    kurator::test::skip("kurator has no apply command yet");
    return;
  }
  kurator::test::TempDir tmp;
  auto manifest = tmp.path() / "workload.yaml";
  std::ofstream(manifest) << R"(apiVersion: v1
kind: Namespace
metadata:
  name: e2e-local-apply
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: e2e-local-apply
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.invalid/web:1.0
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: e2e-local-apply
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: once
          image: registry.invalid/once:1.0
)";
  auto r = fleet.kurator({"--kubeconfig", host.kubeconfig.string(), "--wait-timeout", "3m", "apply", "-f",
                          manifest.string(), "--wait"},
                         true);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);

  auto deploy = fleet.kubectl(host, {"-n", "e2e-local-apply", "get", "deployment", "web", "-o", "json"});
  REQUIRE(deploy.exit_code == 0);
  CHECK(parse(deploy.out)["status"].value("readyReplicas", 0) == 2);
  auto job = fleet.kubectl(host, {"-n", "e2e-local-apply", "get", "job", "once", "-o", "json"});
  REQUIRE(job.exit_code == 0);
  CHECK(parse(job.out)["status"].value("succeeded", 0) == 1);
  auto pods = fleet.kubectl(host, {"-n", "e2e-local-apply", "get", "pods", "-l", "app=web", "-o", "json"});
  REQUIRE(pods.exit_code == 0);
  auto pod_list = parse(pods.out);
  REQUIRE(pod_list["items"].size() == 2);
  for (const auto& p : pod_list["items"]) {
    CHECK(p["status"]["phase"] == "Running");
    CHECK(p["spec"].value("nodeName", "").rfind("kwok-node-", 0) == 0);
  }
  // Namespace deletion finishes (controller-manager's namespace controller and GC work).
  auto del = fleet.kubectl(host, {"delete", "namespace", "e2e-local-apply", "--timeout=120s"});
  INFO(del.err);
  CHECK(del.exit_code == 0);
}

TEST_CASE("RBAC: the unprivileged token is denied, the admin token allowed", "[e2e][local]") {
  if (!e2e_ready()) return;
  auto& fleet = Fleet::get();
  const auto& host = fleet.host();
  auto unprivileged = host.dir / "kubeconfigs" / "unprivileged.kubeconfig";
  auto admin_token = host.dir / "kubeconfigs" / "admin-token.kubeconfig";

  auto denied = fleet.kubectl(host, {"-n", "kube-system", "get", "secrets"}, unprivileged);
  CHECK(denied.exit_code != 0);
  CHECK(denied.err.find("Forbidden") != std::string::npos);
  CHECK(denied.err.find("kurator-unprivileged") != std::string::npos);
  auto can_i = fleet.kubectl(host, {"auth", "can-i", "create", "deployments"}, unprivileged);
  CHECK(can_i.out.find("no") != std::string::npos);

  auto allowed = fleet.kubectl(host, {"-n", "kube-system", "get", "secrets"}, admin_token);
  INFO(allowed.err);
  CHECK(allowed.exit_code == 0);
  auto whoami = fleet.kubectl(host, {"auth", "whoami", "-o", "json"}, admin_token);
  REQUIRE(whoami.exit_code == 0);
  CHECK(parse(whoami.out)["status"]["userInfo"]["username"] == "kurator-admin");

  // Granting a Role makes the same token work.
  REQUIRE(fleet.kubectl(host, {"create", "namespace", "e2e-rbac"}).exit_code == 0);
  REQUIRE(fleet
              .kubectl(host, {"-n", "e2e-rbac", "create", "rolebinding", "view", "--clusterrole=view",
                              "--user=kurator-unprivileged"})
              .exit_code == 0);
  auto viewed = fleet.kubectl(host, {"-n", "e2e-rbac", "get", "configmaps"}, unprivileged);
  INFO(viewed.err);
  CHECK(viewed.exit_code == 0);
}

TEST_CASE("clusters side by side, a killed apiserver is reported, delete leaves nothing", "[e2e][local]") {
  if (!e2e_ready()) return;
  auto& fleet = Fleet::get();
  // Two fleet clusters serve at once, on different ports.
  auto host_ports = cluster_ports(fleet.host());
  auto member_ports = cluster_ports(fleet.member());
  for (int p : host_ports)
    CHECK(std::find(member_ports.begin(), member_ports.end(), p) == member_ports.end());
  for (const auto& c : fleet.clusters()) {
    auto r = fleet.kubectl(c, {"get", "nodes", "-o", "json"});
    REQUIRE(r.exit_code == 0);
    CHECK(ready_nodes(parse(r.out)) == c.nodes);
  }

  // A third one, then its apiserver dies.
  auto extra = fleet.create_extra("e2e-crash", 1);
  auto extra_ports = cluster_ports(extra);
  auto pid = kurator::process::read_pid_file(extra.dir / "pids" / "kube-apiserver.pid");
  REQUIRE(pid);
  std::vector<int> pids;
  for (const auto& c : local::component_names()) {
    auto p = kurator::process::read_pid_file(extra.dir / "pids" / (c + ".pid"));
    REQUIRE(p);
    pids.push_back(*p);
  }
  REQUIRE(::kill(*pid, SIGKILL) == 0);
  for (int i = 0; i < 500 && kurator::process::is_alive(*pid); ++i) std::this_thread::sleep_for(10ms);

  auto clusters = get_clusters(fleet);
  const json* entry = find_cluster(clusters, "e2e-crash");
  REQUIRE(entry);
  CHECK((*entry)["status"] == "Degraded: kube-apiserver not running");
  auto table = fleet.kurator({"get", "clusters"});
  CHECK(table.out.find("Degraded: kube-apiserver not running") != std::string::npos);

  auto del = fleet.kurator({"delete", "cluster", "e2e-crash", "--provider", "local"}, true);
  INFO(del.err);
  REQUIRE(del.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(extra.dir));
  for (int p : pids) CHECK_FALSE(kurator::process::is_alive(p));
  CHECK(local::find_cluster_processes(extra.dir).empty());
  for (int port : extra_ports) {
    INFO("port " << port);
    CHECK_FALSE(local::port_listening(port));
  }
  clusters = get_clusters(fleet);
  CHECK(find_cluster(clusters, "e2e-crash") == nullptr);

  // The others still serve.
  for (const auto& c : fleet.clusters()) {
    auto r = fleet.kubectl(c, {"get", "nodes", "-o", "json"});
    INFO(c.name << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(ready_nodes(parse(r.out)) == c.nodes);
  }
}

TEST_CASE("helm installs a chart with --wait on a local cluster", "[e2e][local]") {
  if (!e2e_ready()) return;
  auto& fleet = Fleet::get();
  const auto& member = fleet.member();
  auto helm = kurator::fs::user_home() / ".cache" / "kurator" / "bin" / "helm-v3.19.0" / "helm";
  if (auto c = kurator::fs::env("KURATOR_BIN_CACHE"); !c.empty())
    helm = std::filesystem::path(c) / "helm-v3.19.0" / "helm";
  if (::access(helm.c_str(), X_OK) != 0) {
    kurator::test::skip("helm missing at " + helm.string() +
                        "; build it with scripts/build-test-binaries.sh");
    return;
  }
  kurator::test::TempDir tmp;
  const std::vector<std::pair<std::string, std::string>> env = {{"HOME", tmp.path().string()},
                                                                {"KUBECONFIG", member.kubeconfig.string()}};
  auto create = kurator::test::run_command({helm.string(), "create", (tmp.path() / "demo").string()}, env);
  INFO(create.err);
  REQUIRE(create.exit_code == 0);
  auto install = kurator::test::run_command(
      {helm.string(), "install", "e2e-helm", (tmp.path() / "demo").string(), "--namespace", "e2e-helm",
       "--create-namespace", "--wait", "--timeout", "3m"},
      env);
  INFO(install.out << install.err);
  REQUIRE(install.exit_code == 0);
  auto list = kurator::test::run_command({helm.string(), "list", "-A", "-o", "json"}, env);
  REQUIRE(list.exit_code == 0);
  auto releases = parse(list.out);
  REQUIRE(releases.size() == 1);
  CHECK(releases[0]["status"] == "deployed");
  auto uninstall = kurator::test::run_command(
      {helm.string(), "uninstall", "e2e-helm", "--namespace", "e2e-helm", "--wait"}, env);
  CHECK(uninstall.exit_code == 0);
}
