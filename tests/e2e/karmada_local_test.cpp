// The local Karmada (`kurator install karmada --provider local`) on real binaries: the Cluster API
// answers through the Karmada apiserver, every Karmada CRD is Established, the mutating webhook is really
// called, `get clusters` shows it, a re-run is a no-op, and uninstall leaves no process and no state.
#include <kurator/core/process.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "support/fleet.hpp"
#include "support/fleet_karmada.hpp"
#include "support/test_env.hpp"

using kurator::test::Fleet;
using kurator::test::LocalKarmada;
using json = nlohmann::json;
namespace local = kurator::providers::local;
namespace stdfs = std::filesystem;

namespace {

json parse(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

bool skip_unless_ready() {
  if (auto why = LocalKarmada::skip_reason(); !why.empty()) {
    kurator::test::skip(why);
    return true;
  }
  kurator::test::require_isolated_network();
  return false;
}

size_t fixture_crd_files() {
  size_t n = 0;
  auto bases = kurator::test::fixtures_dir() /
               ("karmada-" + std::string(kurator::providers::versions::karmada)) / "crds" / "bases";
  for (const auto& e : stdfs::recursive_directory_iterator(bases))
    if (e.is_regular_file() && e.path().extension() == ".yaml") ++n;
  return n;
}

}  // namespace

TEST_CASE("local Karmada: the Cluster API answers, every CRD is Established, the webhook is called",
          "[e2e][karmada]") {
  if (skip_unless_ready()) return;
  auto& fleet = Fleet::get();
  auto& karmada = LocalKarmada::get(fleet);
  if (karmada.install_seconds() > 0)
    std::cerr << "karmada: install took " << karmada.install_seconds() << "s\n";

  // The Cluster API (served by karmada-aggregated-apiserver through the APIService) answers at once:
  // install returned only once the APIService was Available.
  auto clusters = karmada.kubectl({"get", "clusters.cluster.karmada.io", "-o", "json"});
  INFO(clusters.err);
  REQUIRE(clusters.exit_code == 0);
  CHECK(parse(clusters.out).value("kind", "") == "List");
  auto apiservice = karmada.kubectl({"get", "apiservice", "v1alpha1.cluster.karmada.io", "-o", "json"});
  REQUIRE(apiservice.exit_code == 0);
  auto as = parse(apiservice.out);
  CHECK_FALSE(as["spec"].value("insecureSkipTLSVerify", false));
  CHECK_FALSE(as["spec"].value("caBundle", "").empty());

  // Every CRD of the artifact is Established.
  auto crds = karmada.kubectl({"get", "crd", "-o", "json"});
  REQUIRE(crds.exit_code == 0);
  size_t established = 0, karmada_crds = 0;
  const json crd_list = parse(crds.out);
  for (const auto& c : crd_list["items"]) {
    ++karmada_crds;
    bool ok = false;
    for (const auto& cond : c["status"].value("conditions", json::array()))
      if (cond.value("type", "") == "Established" && cond.value("status", "") == "True") ok = true;
    INFO(c["metadata"].value("name", ""));
    CHECK(ok);
    if (ok) ++established;
  }
  CHECK(karmada_crds == fixture_crd_files());
  CHECK(established == karmada_crds);
  auto rb = karmada.kubectl({"get", "crd", "resourcebindings.work.karmada.io", "-o", "json"});
  REQUIRE(rb.exit_code == 0);
  CHECK(parse(rb.out)["spec"]["conversion"].value("strategy", "") == "Webhook");

  // The mutating webhook really runs: a PropagationPolicy gets its permanent-id label.
  kurator::test::TempDir tmp;
  auto pp_file = tmp.path() / "pp.yaml";
  std::ofstream(pp_file) << "apiVersion: policy.karmada.io/v1alpha1\nkind: PropagationPolicy\nmetadata:\n"
                            "  name: e2e-webhook-probe\n  namespace: default\nspec:\n  resourceSelectors:\n"
                            "    - apiVersion: apps/v1\n      kind: Deployment\n      name: nothing\n"
                            "  placement:\n    clusterAffinity:\n      clusterNames: [nowhere]\n";
  auto applied = karmada.kubectl({"apply", "-f", pp_file.string()});
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
  auto pp = karmada.kubectl({"get", "propagationpolicy", "e2e-webhook-probe", "-n", "default", "-o", "json"});
  REQUIRE(pp.exit_code == 0);
  auto ppj = parse(pp.out);
  CHECK_FALSE(ppj["metadata"]["labels"].value("propagationpolicy.karmada.io/permanent-id", "").empty());
  auto del =
      karmada.kubectl({"delete", "propagationpolicy", "e2e-webhook-probe", "-n", "default", "--wait=false"});
  CHECK(del.exit_code == 0);

  // get clusters shows it with its health.
  auto list = fleet.kurator({"get", "clusters", "-o", "json"});
  REQUIRE(list.exit_code == 0);
  const json* entry = nullptr;
  auto lj = parse(list.out);
  for (const auto& c : lj)
    if (c.value("role", "") == "karmada") entry = &c;
  REQUIRE(entry);
  CHECK((*entry)["name"] == "karmada");
  CHECK((*entry)["provider"] == "local");
  CHECK((*entry)["status"] == "Running");
  auto table = fleet.kurator({"get", "clusters"});
  CHECK(table.out.find("karmada") != std::string::npos);
}

TEST_CASE("local Karmada: a re-run is a no-op, dry runs change nothing, bad input fails cleanly",
          "[e2e][karmada]") {
  if (skip_unless_ready()) return;
  auto& fleet = Fleet::get();
  auto& karmada = LocalKarmada::get(fleet);
  local::Provider provider(fleet.home());
  auto before = provider.karmada_status();
  REQUIRE(before.ok());
  REQUIRE(before->phase == "Running");

  auto again = fleet.kurator({"install", "karmada", "--provider", "local"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.find("nothing to do") != std::string::npos);
  CHECK(again.seconds < 10);
  auto after = provider.karmada_status();
  REQUIRE(after.ok());
  for (size_t i = 0; i < before->components.size(); ++i)
    CHECK(before->components[i].pid == after->components[i].pid);

  auto dry = fleet.kurator({"install", "karmada", "--provider", "local", "--dry-run"});
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("would do nothing") != std::string::npos);

  // A fresh home: the dry run names every process and the objects, writes nothing, and prints no key.
  kurator::test::TempDir tmp;
  auto fresh = kurator::test::run_command(
      {kurator::test::kurator_bin().string(), "install", "karmada", "--provider", "local", "--dry-run"},
      {{"KURATOR_HOME", (tmp.path() / "home").string()}});
  INFO(fresh.err);
  REQUIRE(fresh.exit_code == 0);
  for (const char* p :
       {"karmada-aggregated-apiserver", "karmada-webhook", "karmada-controller-manager", "karmada-scheduler",
        "--disable-admission-plugins=StorageObjectInUseProtection,ServiceAccount"})
    CHECK(fresh.out.find(p) != std::string::npos);
  CHECK(fresh.out.find("PRIVATE KEY") == std::string::npos);
  CHECK_FALSE(stdfs::exists(tmp.path() / "home" / "karmada"));

  auto no_provider = fleet.kurator({"install", "karmada"});
  CHECK(no_provider.exit_code == 2);
  CHECK(no_provider.err.find("--provider") != std::string::npos);
  // The in-cluster install from a home holding the local Karmada is refused, naming it.
  auto in_cluster = fleet.kurator({"install", "karmada", "--provider", "kubernetes"});
  CHECK(in_cluster.exit_code == 1);
  CHECK(in_cluster.err.find("the local Karmada is installed") != std::string::npos);
  auto bad_kc = fleet.kurator(
      {"--kubeconfig", (tmp.path() / "missing").string(), "install", "karmada", "--provider", "local"});
  CHECK(bad_kc.exit_code == 1);
  CHECK(bad_kc.err.find("missing") != std::string::npos);
  auto still = provider.karmada_status();
  REQUIRE(still.ok());
  CHECK(still->phase == "Running");
  (void)karmada;
}

TEST_CASE("local Karmada: uninstall leaves no process, no port and no state", "[e2e][karmada]") {
  if (skip_unless_ready()) return;
  auto& fleet = Fleet::get();
  auto& karmada = LocalKarmada::get(fleet);
  local::Provider provider(fleet.home());
  auto st = provider.karmada_status();
  REQUIRE(st.ok());
  std::vector<int> pids;
  for (const auto& c : st->components)
    if (c.pid) pids.push_back(*c.pid);
  auto state = kurator::fs::read_file(karmada.dir() / "state.json");
  REQUIRE(state.ok());
  std::vector<int> ports;
  const json state_json = parse(*state);
  for (const auto& [k, v] : state_json["ports"].items())
    if (v.get<int>() > 0) ports.push_back(v.get<int>());

  auto r = fleet.kurator({"uninstall", "karmada", "--provider", "local"}, true);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(stdfs::exists(karmada.dir()));
  for (int p : pids) CHECK_FALSE(kurator::process::is_alive(p));
  CHECK(local::find_cluster_processes(karmada.dir()).empty());
  for (int port : ports) {
    INFO("port " << port);
    CHECK_FALSE(local::port_listening(port));
  }
  auto again = fleet.kurator({"uninstall", "karmada", "--provider", "local"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("nothing to do") != std::string::npos);
  // The clusters beside it are untouched.
  auto host = fleet.kubectl(fleet.host(), {"get", "nodes"});
  CHECK(host.exit_code == 0);
}
