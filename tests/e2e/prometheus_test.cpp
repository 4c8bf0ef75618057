// `install/uninstall prometheus` against real local clusters with the REAL Prometheus Operator v0.93.0
// running beside each member (tests/support/fleet_operators.hpp): the operator turns kurator's Prometheus
// into its StatefulSet, kwok makes the pods Ready, and the operator's own Reconciled/Available conditions
// are what kurator's wait sees. Nothing else writes Prometheus status.
#include <kurator/core/kube.hpp>
#include <kurator/core/readiness.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>
#include <set>

#include "support/fleet.hpp"
#include "support/fleet_members.hpp"
#include "support/fleet_operators.hpp"
#include "support/mirror.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;
using test::with;

namespace {

stdfs::path fixture() {
  return test::fixtures_dir() / "prometheus-operator-v0.93.0";
}

bool can_run() {
  if (!test::e2e_ready_to_run()) return false;
  if (auto why = test::PrometheusOperator::skip_reason(); !why.empty()) {
    test::skip(why);
    return false;
  }
  if (!stdfs::exists(fixture() / "crds")) {
    test::skip("upstream fixture missing: " + fixture().string());
    return false;
  }
  return true;
}

// Every object kurator labelled as prometheus or prometheus-operator in `c` (CRDs, the operator, RBAC,
// the Prometheus, Secrets, Services), as "Kind/name".
std::vector<std::string> kurator_objects(kube::Client& c) {
  std::vector<std::string> out;
  kube::ListOptions lo;
  lo.label_selector = "kurator.dev/component in (prometheus,prometheus-operator)";
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"apiextensions.k8s.io/v1", "CustomResourceDefinition"},
      {"apps/v1", "Deployment"},
      {"v1", "Service"},
      {"v1", "Secret"},
      {"v1", "ServiceAccount"},
      {"rbac.authorization.k8s.io/v1", "ClusterRole"},
      {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
      {"v1", "Namespace"}};
  for (const auto& [av, kind] : kinds) {
    auto l = c.list(av, kind, lo);
    if (!l) continue;
    const json doc = *l;
    for (const auto& i : doc["items"]) out.push_back(kind + "/" + i["metadata"].value("name", ""));
  }
  return out;
}

using Uninstaller = test::KuratorOnExit;

}  // namespace

TEST_CASE("e2e prometheus direct: the real operator reconciles kurator's Prometheus on two members, federation, "
          "re-run no-op, status, uninstall leaves nothing",
          "[e2e][prometheus]") {
  if (!can_run()) return;
  auto& fleet = test::Fleet::get();
  test::FixtureMirror mirror({"prometheus-operator"});
  REQUIRE(mirror.ok());
  test::TempDir d;
  auto kc = test::merged_kubeconfig(d.path(), {fleet.host(), fleet.member()});
  const std::string members = fleet.host().name + "," + fleet.member().name;
  const std::vector<std::string> global = {"--kubeconfig", kc.string(), "--wait-timeout", "3m"};
  const std::vector<std::string> target = {"--clusters", members, "--mirror", mirror.url(), "--catalog",
                                           mirror.catalog().string()};
  const std::vector<std::string> fed = {"--federate-to", fleet.host().name, "--service-type", "NodePort"};
  auto host = test::client_for(fleet.host().kubeconfig);
  auto member = test::client_for(fleet.member().kubeconfig);
  REQUIRE(kurator_objects(host).empty());
  REQUIRE(kurator_objects(member).empty());

  // Bad input first: nothing changes.
  auto bad = fleet.kurator(with(with(global, {"install", "prometheus", "--federate-to", "nowhere"}), target));
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--federate-to nowhere: not one of the chosen member clusters (e2e-host, e2e-member)") !=
        std::string::npos);

  // --dry-run: the plan per member, nothing changed.
  auto dry = fleet.kurator(with(with(with(global, {"--dry-run", "install", "prometheus"}), target), fed));
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("# e2e-host (" + host.config().server + "): ") == 0);
  CHECK(dry.out.find("kind: Prometheus\n") != std::string::npos);
  CHECK(dry.out.find("cluster: e2e-member") != std::string::npos);
  CHECK(kurator_objects(host).empty());

  test::PrometheusOperator op_host(fleet.host()), op_member(fleet.member());
  Uninstaller cleanup{fleet, with(with(global, {"uninstall", "prometheus"}), target)};
  auto t0 = std::chrono::steady_clock::now();
  auto install = fleet.kurator(with(with(with(global, {"install", "prometheus"}), target), fed), true);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(install.err << "\noperator (host):\n" << op_host.log());
  REQUIRE(install.exit_code == 0);
  std::cerr << "install prometheus on 2 members (federating): " << took << "s\n";
  CHECK(install.err.find("prometheus v0.93.0 installed and ready in e2e-host, e2e-member") != std::string::npos);
  CHECK(install.err.find("e2e-host scrapes e2e-member's /federate at ") != std::string::npos);

  // Right after kurator returned: the operator's own conditions say ready for the current generation, the
  // StatefulSet the operator made exists, external labels per member.
  for (auto* c : {&host, &member}) {
    INFO(c->config().server);
    auto p = c->get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "kurator");
    REQUIRE(p.ok());
    CHECK(kube::evaluate(*p).ready());
    auto sts = c->get("apps/v1", "StatefulSet", "monitoring", "prometheus-kurator");
    REQUIRE(sts.ok());
    CHECK((*sts)["metadata"]["ownerReferences"][0]["kind"] == "Prometheus");
    auto op = c->get("apps/v1", "Deployment", "monitoring", "prometheus-operator");
    REQUIRE(op.ok());
    CHECK(kube::evaluate(*op).ready());
  }
  auto hp = host.get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "kurator");
  auto mp = member.get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "kurator");
  REQUIRE(hp.ok());
  REQUIRE(mp.ok());
  CHECK((*hp)["spec"]["externalLabels"]["cluster"] == "e2e-host");
  CHECK((*mp)["spec"]["externalLabels"]["cluster"] == "e2e-member");
  CHECK((*hp)["spec"]["additionalScrapeConfigs"]["name"] == "additional-scrape-configs");
  CHECK_FALSE((*mp)["spec"].contains("additionalScrapeConfigs"));
  // The federating member's scrape config names the other member's NodePort address.
  auto secret = host.get("v1", "Secret", "monitoring", "additional-scrape-configs");
  REQUIRE(secret.ok());
  auto scrape = base64::decode((*secret)["data"]["prometheus-additional.yaml"].get<std::string>());
  REQUIRE(scrape.has_value());
  auto svc = member.get("v1", "Service", "monitoring", "kurator-prometheus");
  REQUIRE(svc.ok());
  const std::string node_port = std::to_string((*svc)["spec"]["ports"][0]["nodePort"].get<int>());
  CHECK(scrape->find("/federate") != std::string::npos);
  CHECK(scrape->find(":" + node_port) != std::string::npos);
  CHECK(scrape->find("federated_from: e2e-member") != std::string::npos);
  // The operator's generated config (Secret prometheus-kurator) carries the federation job: the real
  // operator accepted the additional scrape config.
  auto gen = host.get("v1", "Secret", "monitoring", "prometheus-kurator");
  CHECK(gen.ok());

  // A re-run is a no-op that says so.
  auto again = fleet.kurator(with(with(with(global, {"-o", "json", "install", "prometheus"}), target), fed));
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("already installed in e2e-host, e2e-member: nothing changed") != std::string::npos);
  CHECK(json::parse(again.out)["unchanged"] == true);

  // status: healthy on both, with the version.
  auto status = fleet.kurator(with(global, {"-o", "json", "status", "--clusters", members}));
  INFO(status.out << status.err);
  const json st = json::parse(status.out);
  std::set<std::string> healthy;
  for (const auto& row : st["components"])
    if (row["component"] == "prometheus" && row["healthy"] == true && row["version"] == "v0.93.0")
      healthy.insert(row["cluster"].get<std::string>());
  CHECK(healthy == std::set<std::string>{"e2e-host", "e2e-member"});

  // Uninstall: everything kurator made is gone from both, the operator's StatefulSet with its Prometheus.
  cleanup.armed = false;
  auto un = fleet.kurator(with(with(global, {"uninstall", "prometheus"}), target), true);
  INFO(un.err);
  REQUIRE(un.exit_code == 0);
  for (auto* c : {&host, &member}) {
    INFO(c->config().server);
    CHECK(kurator_objects(*c).empty());
    CHECK_FALSE(c->get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "kurator").ok());
  }
  auto un_again = fleet.kurator(with(with(global, {"uninstall", "prometheus"}), target));
  CHECK(un_again.exit_code == 0);
  CHECK(un_again.err.find("not installed in e2e-host, e2e-member: nothing to remove") != std::string::npos);
}

TEST_CASE("e2e prometheus karmada: through Karmada to two members, the real operators' conditions waited for, "
          "re-run no-op, uninstall leaves nothing",
          "[e2e][prometheus][karmada]") {
  test::Fleet* fleet = nullptr;
  test::LocalKarmada* karmada = nullptr;
  test::KarmadaMembers* m = nullptr;
  if (!can_run()) return;
  if (!test::karmada_ready(fleet, karmada, m)) return;
  test::FixtureMirror mirror({"prometheus-operator"});
  REQUIRE(mirror.ok());
  const std::vector<std::string> global = {"--wait-timeout", "3m"};
  const std::vector<std::string> target = {"--fleet",  "karmada",    "--clusters", "fk1,fk2",
                                           "--mirror", mirror.url(), "--catalog",  mirror.catalog().string()};
  auto a = test::client_for(m->a.kubeconfig), b = test::client_for(m->b.kubeconfig);
  auto kc = test::client_for(karmada->kubeconfig());
  test::PrometheusOperator op_a(m->a), op_b(m->b);
  Uninstaller cleanup{*fleet, with(with(global, {"uninstall", "prometheus"}), target)};
  auto install = fleet->kurator(with(with(global, {"install", "prometheus"}), target), true);
  INFO(install.err << "\noperator (fk1):\n" << op_a.log());
  REQUIRE(install.exit_code == 0);
  for (auto* c : {&a, &b}) {
    INFO(c->config().server);
    auto p = c->get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "kurator");
    REQUIRE(p.ok());
    CHECK(kube::evaluate(*p).ready());
  }
  auto pa = a.get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "kurator");
  auto pb = b.get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "kurator");
  REQUIRE(pa.ok());
  REQUIRE(pb.ok());
  CHECK((*pa)["spec"]["externalLabels"]["cluster"] == "fk1");
  CHECK((*pb)["spec"]["externalLabels"]["cluster"] == "fk2");
  CHECK(kc.get("policy.karmada.io/v1alpha1", "PropagationPolicy", "monitoring", "kurator-prometheus").ok());
  CHECK(kc.get("policy.karmada.io/v1alpha1", "ClusterPropagationPolicy", "", "kurator-prometheus-operator").ok());

  auto again = fleet->kurator(with(with(global, {"install", "prometheus"}), target));
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("already installed in fk1, fk2: nothing changed") != std::string::npos);

  cleanup.armed = false;
  auto un = fleet->kurator(with(with(global, {"uninstall", "prometheus"}), target), true);
  INFO(un.err);
  REQUIRE(un.exit_code == 0);
  for (auto* c : {&a, &b, &kc}) {
    INFO(c->config().server);
    CHECK(kurator_objects(*c).empty());
  }
}
