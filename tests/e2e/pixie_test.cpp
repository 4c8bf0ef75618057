// `install pixie vizier` / `uninstall pixie` / `status` against the e2e fleet's real local clusters (direct
// mode): the operator chart rendered by the real helm, OLM's Deployments run by kwok, and — because neither
// Pixie's operator nor its cloud can run here — the TEST HELPER PixieStandIn writing the Vizier's status.
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "support/fleet.hpp"
#include "support/fleet_members.hpp"
#include "support/fleet_pixie_stand_in.hpp"
#include "support/mirror.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {
using test::client_for;
using test::cmdlines_with;
using test::merged_kubeconfig;
using test::with;

const std::string kKey = "px-dep-7d1c4b0e-2f5a-4e8b-a1c3-9e6f0d2b7a45";

bool ready_to_run() {
  if (auto why = test::e2e_skip_reason(); !why.empty()) {
    test::skip(why);
    return false;
  }
  test::require_isolated_network();
  if (!stdfs::exists(test::fixtures_dir() / "pixie-operator-v0.1.7")) {
    test::skip("upstream fixture pixie-operator-v0.1.7 missing");
    return false;
  }
  return true;
}

// Everything labelled kurator.dev/component=pixie of the kinds the chart makes.
std::vector<std::string> pixie_objects(kube::Client& c) {
  std::vector<std::string> out;
  kube::ListOptions lo;
  lo.label_selector = "kurator.dev/component=pixie";
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"v1", "Namespace"},
      {"v1", "Secret"},
      {"v1", "ServiceAccount"},
      {"apps/v1", "Deployment"},
      {"rbac.authorization.k8s.io/v1", "ClusterRole"},
      {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
      {"apiextensions.k8s.io/v1", "CustomResourceDefinition"}};
  for (const auto& [av, kind] : kinds) {
    auto l = c.list(av, kind, lo);
    if (!l) continue;
    for (const auto& o : (*l)["items"]) {
      if (o["metadata"].contains("deletionTimestamp")) continue;
      out.push_back(kind + "/" + o["metadata"].value("namespace", "") + "/" +
                    o["metadata"].value("name", ""));
    }
  }
  return out;
}

std::string events_text(kube::Client& c) {
  std::string all;
  for (const auto& [av, kind] :
       std::vector<std::pair<std::string, std::string>>{{"v1", "Event"}, {"events.k8s.io/v1", "Event"}}) {
    auto l = c.list(av, kind);
    if (l) all += l->dump();
  }
  return all;
}

using Uninstaller = test::KuratorOnExit;

// In a member after install: the Vizier named for it, Healthy, its key only in the Secret it references,
// OLM's Deployments available.
void check_installed(kube::Client& c, const std::string& cluster) {
  auto v = c.get("px.dev/v1alpha1", "Vizier", "pl", "pixie");
  REQUIRE(v.ok());
  CHECK((*v)["spec"]["clusterName"] == cluster);
  CHECK((*v)["spec"]["customDeployKeySecret"] == "pixie-deploy-key");
  CHECK_FALSE((*v)["spec"].contains("deployKey"));
  CHECK((*v)["status"]["vizierPhase"] == "Healthy");
  auto s = c.get("v1", "Secret", "pl", "pixie-deploy-key");
  REQUIRE(s.ok());
  CHECK(base64::decode((*s)["data"]["deploy-key"].get<std::string>()) == kKey);
  for (const char* dep : {"olm-operator", "catalog-operator"}) {
    auto o = c.get("apps/v1", "Deployment", "olm", dep);
    REQUIRE(o.ok());
    CHECK((*o)["status"].value("availableReplicas", 0) == 1);
  }
}

}  // namespace

TEST_CASE(
    "e2e pixie direct: install waits for Healthy, re-run no-op, status, uninstall leaves nothing, key "
    "nowhere",
    "[e2e][pixie]") {
  if (!ready_to_run()) return;
  auto& fleet = test::Fleet::get();
  test::FixtureMirror mirror({"pixie-operator"}, true);
  REQUIRE(mirror.ok());
  test::TempDir d;
  auto kc = merged_kubeconfig(d.path(), {fleet.host(), fleet.member()});
  auto key_file = d.path() / "deploy-key";
  REQUIRE(fs::write_private_file(key_file, kKey + "\n").ok());
  const std::vector<std::string> global = {"--kubeconfig", kc.string(), "--wait-timeout", "3m"};
  const std::vector<std::string> target = {"--clusters", fleet.host().name + "," + fleet.member().name,
                                           "--mirror",   mirror.url(),
                                           "--catalog",  mirror.catalog().string()};
  const std::vector<std::string> key = {"--deploy-key-file", key_file.string()};
  auto host = client_for(fleet.host().kubeconfig);
  auto member = client_for(fleet.member().kubeconfig);
  REQUIRE(pixie_objects(host).empty());
  REQUIRE(pixie_objects(member).empty());

  // --dry-run: the plan, the Secret's data redacted, nothing applied.
  auto dry =
      fleet.kurator(with(with(with(global, {"--dry-run", "install", "pixie", "vizier"}), target), key));
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("# e2e-host (" + host.config().server + "): 30 objects\n") == 0);
  CHECK(dry.out.find("kind: Vizier") != std::string::npos);
  CHECK(dry.out.find("clusterName: e2e-member") != std::string::npos);
  CHECK(dry.out.find("deploy-key: <redacted>") != std::string::npos);
  CHECK(dry.out.find(kKey) == std::string::npos);
  CHECK(dry.out.find(base64::encode(kKey)) == std::string::npos);
  CHECK(pixie_objects(host).empty());

  Uninstaller cleanup{fleet, with(with(global, {"uninstall", "pixie"}), target)};
  // The stand-in reports Updating first and Healthy 6 s after it sees each Vizier.
  test::PixieStandIn stand_in({fleet.host().kubeconfig, fleet.member().kubeconfig}, "Updating",
                              std::chrono::seconds(6));
  std::atomic<bool> done{false};
  test::CommandResult install;
  auto t0 = std::chrono::steady_clock::now();
  std::thread runner([&] {
    install = fleet.kurator(with(with(with(global, {"install", "pixie", "vizier"}), target), key), true);
    done = true;
  });
  // While it runs: the key is on no process's command line.
  std::set<std::string> cmdline_hits;
  while (!done) {
    for (const auto& h : cmdlines_with(kKey)) cmdline_hits.insert(h);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  runner.join();
  auto end = std::chrono::steady_clock::now();
  INFO(install.err);
  REQUIRE(install.exit_code == 0);
  CHECK(cmdline_hits.empty());
  std::cerr << "install pixie on 2 members: " << std::chrono::duration<double>(end - t0).count() << "s\n";
  // It waited for the Vizier: progress named the phase, and it returned only after Healthy was written.
  CHECK(install.err.find("Vizier pl/pixie: phase=Updating") != std::string::npos);
  CHECK(install.err.find("e2e-host: ") != std::string::npos);
  auto healthy_at = stand_in.all_healthy_at();
  REQUIRE(healthy_at.has_value());
  CHECK(end + std::chrono::seconds(1) >= *healthy_at);
  // The key: in no output line and no Event.
  for (const auto& text : {install.out, install.err, dry.err}) {
    CHECK(text.find(kKey) == std::string::npos);
    CHECK(text.find(base64::encode(kKey)) == std::string::npos);
  }
  for (auto* c : {&host, &member}) {
    auto ev = events_text(*c);
    CHECK(ev.find(kKey) == std::string::npos);
    CHECK(ev.find(base64::encode(kKey)) == std::string::npos);
  }

  for (auto* c : {&host, &member}) {
    INFO(c->config().server);
    check_installed(*c, c == &host ? "e2e-host" : "e2e-member");
    CHECK(
        c->get("operators.coreos.com/v1alpha1", "CatalogSource", "px-operator", "pixie-operator-index").ok());
    CHECK(
        c->get("operators.coreos.com/v1alpha1", "Subscription", "px-operator", "pixie-operator-subscription")
            .ok());
    // helm's pre-delete hook Jobs are not applied.
    CHECK_FALSE(c->get("batch/v1", "Job", "pl", "vizier-deleter").ok());
    CHECK_FALSE(c->get("batch/v1", "Job", "olm", "csv-deleter").ok());
  }

  // Re-run: a no-op that says so.
  auto again =
      fleet.kurator(with(with(with(global, {"-o", "json", "install", "pixie", "vizier"}), target), key));
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("already installed in e2e-host, e2e-member: nothing changed") != std::string::npos);
  CHECK(json::parse(again.out)["unchanged"] == true);

  // status: a pixie row, healthy, with the version.
  auto status = fleet.kurator(
      with(global, {"-o", "json", "status", "--clusters", fleet.host().name + "," + fleet.member().name}));
  INFO(status.out << status.err);
  CHECK(status.exit_code == 0);
  const json st = json::parse(status.out);
  std::set<std::string> healthy;
  for (const auto& row : st["components"])
    if (row["component"] == "pixie" && row["healthy"] == true && row["version"] == "v0.1.7")
      healthy.insert(row["cluster"].get<std::string>());
  CHECK(healthy == std::set<std::string>{"e2e-host", "e2e-member"});

  // Uninstall: nothing of it left in either member.
  cleanup.armed = false;
  auto un = fleet.kurator(with(with(global, {"uninstall", "pixie"}), target), true);
  INFO(un.err);
  REQUIRE(un.exit_code == 0);
  for (auto* c : {&host, &member}) {
    INFO(c->config().server);
    CHECK(pixie_objects(*c).empty());
    CHECK_FALSE(c->get("v1", "Namespace", "", "pl").ok());
    CHECK_FALSE(c->get("v1", "Namespace", "", "olm").ok());
    CHECK_FALSE(c->get("v1", "Namespace", "", "px-operator").ok());
    CHECK_FALSE(c->get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "viziers.px.dev").ok());
  }
  auto un_again = fleet.kurator(with(with(global, {"uninstall", "pixie"}), target));
  CHECK(un_again.exit_code == 0);
  CHECK(un_again.err.find("not installed in e2e-host, e2e-member: nothing to remove") != std::string::npos);
}

TEST_CASE(
    "e2e pixie direct: a node with kernel 4.9.0 fails the preflight naming node and cluster, nothing applied",
    "[e2e][pixie]") {
  if (!ready_to_run()) return;
  auto& fleet = test::Fleet::get();
  test::FixtureMirror mirror({"pixie-operator"}, true);
  REQUIRE(mirror.ok());
  test::TempDir d;
  auto kc = merged_kubeconfig(d.path(), {fleet.host(), fleet.member()});
  auto key_file = d.path() / "deploy-key";
  REQUIRE(fs::write_private_file(key_file, kKey).ok());
  auto member = client_for(fleet.member().kubeconfig);
  auto host = client_for(fleet.host().kubeconfig);
  auto node = member.get("v1", "Node", "", "kwok-node-0");
  REQUIRE(node.ok());
  std::string kernel = (*node)["status"]["nodeInfo"].value("kernelVersion", "");
  INFO("kernelVersion set by the local provider: " << kernel);
  CHECK_FALSE(kernel.empty());
  CHECK(kernel.rfind("kwok", 0) != 0);  // the machine's, not kwok's placeholder
  REQUIRE(member.patch_status(*node, {{"status", {{"nodeInfo", {{"kernelVersion", "4.9.0"}}}}}}).ok());
  struct Restore {
    kube::Client& c;
    std::string kernel;
    ~Restore() {
      auto n = c.get("v1", "Node", "", "kwok-node-0");
      if (n) (void)c.patch_status(*n, {{"status", {{"nodeInfo", {{"kernelVersion", kernel}}}}}});
    }
  } restore{member, kernel};

  auto r = fleet.kurator({"--kubeconfig", kc.string(), "install", "pixie", "vizier", "--clusters",
                          "e2e-host,e2e-member", "--deploy-key-file", key_file.string(), "--mirror",
                          mirror.url(), "--catalog", mirror.catalog().string()});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("node kwok-node-0: kernel version 4.9.0 is older than 4.14.0") != std::string::npos);
  CHECK(r.err.find("e2e-member") != std::string::npos);
  CHECK(r.err.find("error: pixie preflight failed: 1 problem in e2e-member") != std::string::npos);
  CHECK(pixie_objects(host).empty());
  CHECK(pixie_objects(member).empty());
  CHECK_FALSE(member.get("v1", "Namespace", "", "pl").ok());
}

TEST_CASE("e2e pixie: no deploy key is one error line with a hint, before any cluster is touched",
          "[e2e][pixie]") {
  if (!ready_to_run()) return;
  auto& fleet = test::Fleet::get();
  test::TempDir d;
  auto kc = merged_kubeconfig(d.path(), {fleet.host(), fleet.member()});
  auto r = fleet.kurator({"--kubeconfig", kc.string(), "install", "pixie", "vizier"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("error: no Pixie deploy key: give --deploy-key-file FILE or set PX_DEPLOY_KEY\n") == 0);
  CHECK(r.err.find("hint: ") != std::string::npos);
}

TEST_CASE(
    "e2e pixie karmada: through Karmada to two members, Vizier Healthy waited for in each, clusterName per "
    "member, re-run no-op, uninstall leaves nothing",
    "[e2e][pixie][karmada]") {
  if (!ready_to_run()) return;
  test::Fleet* fleet = nullptr;
  test::LocalKarmada* karmada = nullptr;
  test::KarmadaMembers* m = nullptr;
  if (!test::karmada_ready(fleet, karmada, m)) return;
  test::FixtureMirror mirror({"pixie-operator"}, true);
  REQUIRE(mirror.ok());
  test::TempDir d;
  auto key_file = d.path() / "deploy-key";
  REQUIRE(fs::write_private_file(key_file, kKey + "\n").ok());
  const std::vector<std::string> global = {"--wait-timeout", "3m"};
  const std::vector<std::string> target = {"--fleet",  "karmada",    "--clusters", "fk1,fk2",
                                           "--mirror", mirror.url(), "--catalog",  mirror.catalog().string()};
  const std::vector<std::string> key = {"--deploy-key-file", key_file.string()};
  auto a = client_for(m->a.kubeconfig), b = client_for(m->b.kubeconfig);
  auto kc = client_for(karmada->kubeconfig());
  REQUIRE(pixie_objects(a).empty());
  REQUIRE(pixie_objects(b).empty());

  Uninstaller cleanup{*fleet, with(with(global, {"uninstall", "pixie"}), target)};
  test::PixieStandIn stand_in({m->a.kubeconfig, m->b.kubeconfig}, "Updating", std::chrono::seconds(3));
  auto install = fleet->kurator(with(with(with(global, {"install", "pixie", "vizier"}), target), key), true);
  INFO(install.err);
  REQUIRE(install.exit_code == 0);
  CHECK(install.err.find(kKey) == std::string::npos);
  CHECK(install.err.find("fk1: ") != std::string::npos);
  CHECK(install.err.find("fk2: ") != std::string::npos);
  REQUIRE(stand_in.all_healthy_at().has_value());
  for (auto* c : {&a, &b}) {
    INFO(c->config().server);
    check_installed(*c, c == &a ? "fk1" : "fk2");
  }
  // The templates and their policies live in Karmada; the Vizier's clusterName is an override per member.
  CHECK(kc.get("px.dev/v1alpha1", "Vizier", "pl", "pixie").ok());
  auto events = events_text(kc);
  CHECK(events.find(kKey) == std::string::npos);
  CHECK(events.find(base64::encode(kKey)) == std::string::npos);

  auto again = fleet->kurator(with(with(with(global, {"install", "pixie", "vizier"}), target), key));
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("already installed in fk1, fk2: nothing changed") != std::string::npos);

  cleanup.armed = false;
  auto un = fleet->kurator(with(with(global, {"uninstall", "pixie"}), target), true);
  INFO(un.err);
  REQUIRE(un.exit_code == 0);
  for (auto* c : {&a, &b, &kc}) {
    INFO(c->config().server);
    CHECK(pixie_objects(*c).empty());
    CHECK_FALSE(c->get("v1", "Namespace", "", "pl").ok());
  }
}
