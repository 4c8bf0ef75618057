// `create|get|describe|delete cluster --provider aws` against a local management cluster with the REAL
// Cluster API controllers v1.14.0 (core, kubeadm bootstrap, kubeadm control plane) running beside it
// (tests/support/fleet_capi.hpp): they, not a simulator, reconcile the Cluster, KubeadmControlPlane,
// MachineDeployment, MachineSet and Machines kurator applies, serve the webhooks and CRD conversion, and
// write the kubeconfig. AWS, CAPA and kubeadm on the machines are played by AwsStandIn (a clearly named test
// helper), which makes each machine join a real local workload cluster whose CA the test hands to KCP as
// `<name>-ca`, so the kubeconfig KCP writes really reaches that apiserver, where kurator applies Calico; each
// control-plane machine runs a real etcd member that KCP inspects, moves leadership off and removes through
// that apiserver.
#include <kurator/core/kube.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "support/fleet.hpp"
#include "support/fleet_capi.hpp"
#include "support/fleet_members.hpp"
#include "support/mirror.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;
using test::with;

namespace {

// The "AWS" credentials of the test: the secret key must never show up outside the provider's Secret.
constexpr const char* kAccessKey = "AKIAKURATORE2E000001";
constexpr const char* kSecretKey = "kuratorE2eSecretKey/DoNotLeak+0123456789ab";

bool can_run() {
  if (!test::e2e_ready_to_run()) return false;
  if (auto why = test::ClusterApiControllers::skip_reason(); !why.empty()) {
    test::skip(why);
    return false;
  }
  auto fx = test::fixtures_dir();
  for (const char* f : {"cluster-api-v1.14.0/release/core-components.yaml",
                        "cluster-api-provider-aws-v2.11.1/release/infrastructure-components.yaml",
                        "cert-manager-v1.21.1/release/cert-manager.yaml", "calico-v3.32.1/calico.yaml"})
    if (fx.empty() || !stdfs::exists(fx / f)) {
      test::skip(std::string("upstream fixture missing: ") + f);
      return false;
    }
  return true;
}

std::vector<test::FixtureFile> release_files() {
  return {{"cert-manager", "cert-manager-v1.21.1/release/cert-manager.yaml"},
          {"cluster-api-core-components", "cluster-api-v1.14.0/release/core-components.yaml"},
          {"cluster-api-bootstrap-kubeadm-components", "cluster-api-v1.14.0/release/bootstrap-components.yaml"},
          {"cluster-api-control-plane-kubeadm-components", "cluster-api-v1.14.0/release/control-plane-components.yaml"},
          {"cluster-api-provider-aws-components", "cluster-api-provider-aws-v2.11.1/release/infrastructure-components.yaml"}};
}

struct Bed {
  test::TempDir home;  // kurator's own home for the aws cluster (the fleet's home holds the local clusters)
  test::FixtureMirror mirror{{"cluster-api-provider-aws", "calico"}, false, {}, release_files()};
  std::vector<std::pair<std::string, std::string>> env() const {
    auto e = mirror.env();
    e.push_back({"KURATOR_HOME", home.path().string()});
    e.push_back({"HOME", home.path().string()});  // no ~/.aws of the machine
    e.push_back({"AWS_ACCESS_KEY_ID", kAccessKey});
    e.push_back({"AWS_SECRET_ACCESS_KEY", kSecretKey});
    e.push_back({"AWS_REGION", "eu-central-1"});
    return e;
  }
  test::CommandResult kurator(const std::vector<std::string>& args, bool echo = false) const {
    std::vector<std::string> argv = {test::kurator_bin().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_command(argv, env(), echo, std::chrono::seconds(600));
  }
};

std::string all_of(const test::CommandResult& r) { return r.out + r.err; }

// Every Event on the cluster, as text.
std::string events_text(kube::Client& c) {
  auto l = c.list("v1", "Event");
  return l ? l->dump() : std::string();
}

}  // namespace

TEST_CASE("e2e aws: create against the real Cluster API controllers, describe, kubeconfig, delete",
          "[e2e][aws]") {
  if (!can_run()) {
    WARN("SKIPPED: see the SKIPPED line above");
    return;
  }
  auto& fleet = test::Fleet::get();
  auto mgmt = fleet.create_extra("capi-mgmt", 1);
  auto wl = fleet.create_extra("aws-demo-wl", 0);
  // The two extra control planes go when the case ends, whatever happens.
  struct DropClusters {
    test::Fleet& fleet;
    ~DropClusters() {
      for (const char* n : {"capi-mgmt", "aws-demo-wl"}) fleet.kurator({"delete", "cluster", n, "--provider", "local"});
    }
  } drop{fleet};
  Bed bed;
  REQUIRE(bed.mirror.ok());
  auto pki = test::LoopbackPki::make(bed.home.path() / "webhook-pki");
  test::ClusterApiControllers controllers(mgmt, pki);
  test::AwsStandIn::Options so;
  so.management = mgmt;
  so.workload = wl;
  // The second worker's instance does not boot until the test releases it.
  std::atomic<bool> release{false};
  std::mutex held_mu;
  std::set<std::string> workers_seen;
  std::string held_machine;
  so.hold = [&](const json& m) {
    auto labels = m.value("/metadata/labels"_json_pointer, json::object());
    if (release.load() || labels.contains("cluster.x-k8s.io/control-plane")) return false;
    std::lock_guard<std::mutex> lk(held_mu);
    const std::string name = m["metadata"].value("name", "");
    workers_seen.insert(name);
    if (held_machine.empty() && workers_seen.size() == 2) held_machine = name;
    return name == held_machine;
  };
  test::AwsStandIn aws(so, pki);
  REQUIRE(aws.ok());
  auto routes = controllers.routes();
  routes["cert-manager-webhook"] = aws.stub_port();
  routes["capa-webhook-service"] = aws.stub_port();
  test::WebhookRouter router(mgmt, routes, pki.ca_pem);
  auto mc = test::client_of(mgmt);

  // KCP signs the admin kubeconfig with the cluster CA `<name>-ca` when it exists: the workload cluster's.
  {
    auto crt = fs::read_file(wl.dir / "pki" / "ca.crt"), key = fs::read_file(wl.dir / "pki" / "ca.key");
    REQUIRE(crt.ok());
    REQUIRE(key.ok());
    json ca = {{"apiVersion", "v1"},
               {"kind", "Secret"},
               {"metadata", {{"name", "demo-ca"}, {"namespace", "default"}, {"labels", {{"cluster.x-k8s.io/cluster-name", "demo"}}}}},
               {"type", "kubernetes.io/tls"},
               {"data", {{"tls.crt", base64::encode(*crt)}, {"tls.key", base64::encode(*key)}}}};
    REQUIRE(mc->create(ca).ok());
  }

  const std::vector<std::string> target = {"--kubeconfig", mgmt.kubeconfig.string()};
  const std::vector<std::string> create_args =
      with(target, {"create", "cluster", "demo", "--provider", "aws", "--region", "eu-central-1", "--ssh-key-name",
                    "e2e-key", "--worker-count", "2", "--kubernetes-version", "v1.35.4"});

  // Bad input changes nothing.
  auto bad = bed.kurator(with(target, {"create", "cluster", "demo", "--provider", "aws", "--region", "eu-central-1",
                                       "--control-plane-count", "2"}));
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("--control-plane-count") != std::string::npos);
  CHECK_FALSE(mc->get("v1", "Namespace", "", "capi-system").ok());

  // --dry-run: every object and where it goes; the credentials redacted; nothing applied.
  auto dry = bed.kurator(with({"--dry-run"}, create_args));
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("# provider infrastructure-aws v2.11.1") != std::string::npos);
  CHECK(dry.out.find("kind: KubeadmControlPlane") != std::string::npos);
  CHECK(dry.out.find("credentials: <redacted>") != std::string::npos);
  CHECK(all_of(dry).find(kSecretKey) == std::string::npos);
  CHECK_FALSE(mc->get("v1", "Namespace", "", "capi-system").ok());
  CHECK_FALSE(stdfs::exists(bed.home.path() / "clusters" / "demo"));

  // The real run: providers as clusterctl init installs them, the cluster objects, the control plane
  // initialized by the real KCP, the kubeconfig KCP wrote, Calico into the workload cluster; then the wait
  // for Available times out on the machine that does not boot, naming it.
  std::atomic<bool> scanning{true};
  std::vector<std::string> leaked;
  std::thread scanner([&] {
    while (scanning.load()) {
      for (const auto& p : test::cmdlines_with(kSecretKey)) leaked.push_back(p);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  auto create = bed.kurator(with({"--wait-timeout", "90s"}, create_args), true);
  scanning = false;
  scanner.join();
  INFO(create.err + "\n--- stand-in:\n" + aws.log() + "\n--- controllers:\n" + controllers.log());
  CHECK(leaked.empty());
  CHECK(all_of(create).find(kSecretKey) == std::string::npos);
  CHECK(events_text(*mc).find(kSecretKey) == std::string::npos);
  REQUIRE(create.exit_code == 3);  // timeout
  CHECK(create.err.find("cert-manager: checking that it issues a certificate") != std::string::npos);
  CHECK(create.err.find("Cluster API providers ready") != std::string::npos);
  REQUIRE(!held_machine.empty());
  // The timeout names the machine that never became ready, with its condition's message.
  auto last_error = create.err.substr(create.err.rfind("error: "));
  CHECK(last_error.find("is not Available after 90s") != std::string::npos);
  CHECK(last_error.find("Machine/demo-md-0-") != std::string::npos);
  CHECK(last_error.find("Ready=False") != std::string::npos);

  // Providers and inventory as clusterctl leaves them.
  auto inv = mc->list("clusterctl.cluster.x-k8s.io/v1alpha3", "Provider");
  REQUIRE(inv.ok());
  std::map<std::string, std::string> versions;
  for (const auto& p : (*inv)["items"]) versions[p["metadata"].value("name", "")] = p.value("version", "");
  CHECK(versions == std::map<std::string, std::string>{{"bootstrap-kubeadm", "v1.14.0"},
                                                       {"cluster-api", "v1.14.0"},
                                                       {"control-plane-kubeadm", "v1.14.0"},
                                                       {"infrastructure-aws", "v2.11.1"}});
  auto creds = mc->get("v1", "Secret", "capa-system", "capa-manager-bootstrap-credentials");
  REQUIRE(creds.ok());
  // data holds the Secret's bytes base64-encoded: the bytes are the profile text clusterawsadm encodes.
  auto decoded = base64::decode((*creds)["data"].value("credentials", ""));
  REQUIRE(decoded);
  CHECK(*decoded == std::string("[default]\naws_access_key_id = ") + kAccessKey + "\naws_secret_access_key = " +
                        kSecretKey + "\nregion = eu-central-1\n\n");
  // cert-manager's test resources are gone (or going).
  auto test_ns = mc->get("v1", "Namespace", "", "kurator-cert-manager-test");
  CHECK((!test_ns.ok() || test_ns->contains("/metadata/deletionTimestamp"_json_pointer)));

  // The real controllers did the reconciling: the v1beta1 objects kurator applied are stored as v1beta2, with
  // the finalizer and conditions the core controller writes, and KCP's machine joined.
  auto cluster = mc->get("cluster.x-k8s.io/v1beta2", "Cluster", "default", "demo");
  REQUIRE(cluster.ok());
  CHECK((*cluster)["metadata"]["finalizers"].dump().find("cluster.cluster.x-k8s.io") != std::string::npos);
  CHECK((*cluster)["status"].value("/initialization/controlPlaneInitialized"_json_pointer, false));
  CHECK(controllers.starts() >= 3);
  CHECK(aws.machines_joined() >= 2);

  // The kubeconfig KCP wrote, fetched 0600, reaches the workload apiserver; Calico is there.
  auto kc = bed.home.path() / "clusters" / "demo" / "kubeconfig";
  REQUIRE(stdfs::exists(kc));
  struct stat st {};
  REQUIRE(::stat(kc.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto nodes = fleet.kubectl(wl, {"get", "nodes", "-o", "name"}, kc);
  INFO(nodes.err);
  CHECK(nodes.exit_code == 0);
  CHECK(nodes.out.find("node/ip-127-0-1-") != std::string::npos);
  auto calico = fleet.kubectl(wl, {"-n", "kube-system", "get", "daemonset", "calico-node", "-o", "name"}, kc);
  CHECK(calico.exit_code == 0);

  // get clusters / describe / get kubeconfig.
  auto list = bed.kurator({"get", "clusters"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("demo") != std::string::npos);
  CHECK(list.out.find("aws") != std::string::npos);
  auto describe = bed.kurator({"describe", "cluster", "demo"});
  INFO(describe.err);
  CHECK(describe.exit_code == 0);
  CHECK(describe.out.find("ControlPlane - KubeadmControlPlane/demo-control-plane") != std::string::npos);
  CHECK(describe.out.find("MachineDeployment/demo-md-0") != std::string::npos);
  CHECK(describe.out.find(held_machine.substr(0, 10)) != std::string::npos);
  auto getkc = bed.kurator({"get", "kubeconfig", "demo"});
  CHECK(getkc.exit_code == 0);
  CHECK(getkc.out.find("certificate-authority-data") != std::string::npos);

  // The instance boots after all: a re-run leaves the providers alone (and says so), resumes the cluster and
  // follows it until the real controllers call it Available: KCP from the real etcd member on its machine
  // (reached through the workload apiserver's port-forward), the workers from their Ready nodes.
  release = true;
  const auto cp_node = [&] {
    auto members = aws.etcd_members();
    return members.size() == 1 ? *members.begin() : std::string();
  };
  const std::string first_cp = cp_node();
  CHECK_FALSE(first_cp.empty());
  auto again = bed.kurator(with({"--wait-timeout", "150s"}, create_args), true);
  INFO(again.err + "\n--- stand-in:\n" + aws.log() + "\n--- controllers:\n" + controllers.log());
  CHECK(again.err.find("already installed at the pinned versions: nothing to do") != std::string::npos);
  CHECK(all_of(again).find(kSecretKey) == std::string::npos);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.find("Cluster \"demo\" is Available (1 control plane, 2 workers") != std::string::npos);
  auto condition = [](const json& obj, const std::string& type) {
    for (const auto& c : obj.value("/status/conditions"_json_pointer, json::array()))
      if (c.value("type", "") == type) return c.value("status", "");
    return std::string();
  };
  auto kcp = mc->get("controlplane.cluster.x-k8s.io/v1beta2", "KubeadmControlPlane", "default",
                     "demo-control-plane");
  REQUIRE(kcp.ok());
  CHECK(condition(*kcp, "EtcdClusterHealthy") == "True");
  CHECK(condition(*kcp, "Available") == "True");
  cluster = mc->get("cluster.x-k8s.io/v1beta2", "Cluster", "default", "demo");
  REQUIRE(cluster.ok());
  CHECK(condition(*cluster, "Available") == "True");
  auto ready_nodes = fleet.kubectl(
      wl,
      {"get", "nodes", "-o",
       "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==\"Ready\")].status} {end}"},
      kc);
  CHECK(ready_nodes.out.find("=False") == std::string::npos);
  CHECK(ready_nodes.out.find(first_cp + "=True") != std::string::npos);
  auto rows = bed.kurator({"get", "clusters"});
  CHECK(rows.out.find("Provisioned") != std::string::npos);
  auto third = bed.kurator(create_args);
  CHECK(third.exit_code == 0);
  CHECK(third.out.find("already exists with the same settings and is Available; nothing to do") !=
        std::string::npos);

  // scale: kurator re-renders the MachineDeployment with 3 workers; the real MachineSet controller makes the
  // third Machine, which joins; the command ends when the cluster is Available with it.
  auto scale = bed.kurator(with({"--wait-timeout", "90s"}, {"scale", "cluster", "demo", "--workers", "3"}));
  INFO(scale.err);
  CHECK(scale.exit_code == 0);
  auto md = mc->get("cluster.x-k8s.io/v1beta2", "MachineDeployment", "default", "demo-md-0");
  REQUIRE(md.ok());
  CHECK((*md)["spec"]["replicas"] == 3);
  auto worker_machines = [&] {
    auto l = mc->list("cluster.x-k8s.io/v1beta2", "Machine",
                      {.namespace_ = "default", .label_selector = "cluster.x-k8s.io/deployment-name=demo-md-0"});
    return l ? (*l)["items"].size() : size_t(0);
  };
  CHECK(worker_machines() == 3);
  auto recorded = fs::read_file(bed.home.path() / "clusters" / "demo" / "cluster.yaml");
  REQUIRE(recorded.ok());
  CHECK(recorded->find("count: 3") != std::string::npos);
  auto scale_again = bed.kurator({"scale", "cluster", "demo", "--workers", "3"});
  CHECK(scale_again.exit_code == 0);
  CHECK(scale_again.out.find("nothing to do") != std::string::npos);

  // upgrade: a new control-plane AWSMachineTemplate and the KCP's version in one change, accepted by the real
  // KCP webhook; the real KCP rolls its machine (the new one's etcd member joins, leadership moves to it, the
  // old member is removed), then the workers roll to the new version.
  auto up = bed.kurator(
      with({"--wait-timeout", "240s"}, {"upgrade", "cluster", "demo", "--kubernetes-version", "v1.36.0"}),
      true);
  INFO(up.err + "\n--- stand-in:\n" + aws.log() + "\n--- controllers:\n" + controllers.log());
  CHECK(up.exit_code == 0);
  kcp = mc->get("controlplane.cluster.x-k8s.io/v1beta2", "KubeadmControlPlane", "default",
                "demo-control-plane");
  REQUIRE(kcp.ok());
  CHECK((*kcp)["spec"]["version"] == "v1.36.0");
  CHECK((*kcp)["spec"]["machineTemplate"]["spec"]["infrastructureRef"]["name"] == "demo-control-plane-v1-36-0");
  CHECK(mc->get("infrastructure.cluster.x-k8s.io/v1beta2", "AWSMachineTemplate", "default",
                "demo-control-plane-v1-36-0")
            .ok());
  md = mc->get("cluster.x-k8s.io/v1beta2", "MachineDeployment", "default", "demo-md-0");
  REQUIRE(md.ok());
  CHECK((*md)["spec"]["template"]["spec"]["version"] == "v1.36.0");
  auto all_machines = mc->list("cluster.x-k8s.io/v1beta2", "Machine", {.namespace_ = "default"});
  REQUIRE(all_machines.ok());
  CHECK((*all_machines)["items"].size() == 4);
  for (const auto& m : (*all_machines)["items"])
    CHECK(m.value("/spec/version"_json_pointer, std::string()) == "v1.36.0");
  const std::string new_cp = cp_node();
  CHECK_FALSE(new_cp.empty());
  CHECK(new_cp != first_cp);
  auto up_again =
      bed.kurator({"--wait-timeout", "30s", "upgrade", "cluster", "demo", "--kubernetes-version", "v1.36.0"});
  CHECK(up_again.exit_code == 0);
  CHECK(up_again.out.find("nothing to do") != std::string::npos);

  // Upgrades are checked before anything changes.
  auto down = bed.kurator({"upgrade", "cluster", "demo", "--kubernetes-version", "v1.35.2"});
  CHECK(down.exit_code == 2);
  CHECK(down.err.find("a downgrade is not possible") != std::string::npos);

  // delete: the real controllers tear the cluster down (workers, control plane, infrastructure) until nothing
  // of it is left; then kurator forgets it.
  auto del = bed.kurator(with({"--wait-timeout", "180s"}, with(target, {"delete", "cluster", "demo"})), true);
  INFO(del.err + "\n--- stand-in:\n" + aws.log() + "\n--- controllers:\n" + controllers.log());
  CHECK(del.exit_code == 0);
  CHECK_FALSE(mc->get("cluster.x-k8s.io/v1beta2", "Cluster", "default", "demo").ok());
  auto machines = mc->list("cluster.x-k8s.io/v1beta2", "Machine", {.namespace_ = "default"});
  REQUIRE(machines.ok());
  CHECK((*machines)["items"].empty());
  CHECK_FALSE(stdfs::exists(bed.home.path() / "clusters" / "demo"));
  auto del_again = bed.kurator(with(target, {"delete", "cluster", "demo"}));
  CHECK(del_again.exit_code != 0);
}
