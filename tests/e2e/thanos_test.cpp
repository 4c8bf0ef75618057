// `install/uninstall thanos` against real local clusters: the REAL Prometheus Operator beside each member
// turns kurator's Prometheus `thanos` into its StatefulSet with the thanos-sidecar container and writes the
// conditions kurator waits for; a clearly named TEST HELPER (tests/support/fleet_lb.hpp) plays the cloud's
// load-balancer controller, one member's address coming late. The object-store config holds a secret that
// must appear nowhere: not in kurator's output, not in any Event, not in any process's arguments.
#include <kurator/core/kube.hpp>
#include <kurator/core/readiness.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "support/fleet.hpp"
#include "support/fleet_lb.hpp"
#include "support/fleet_members.hpp"
#include "support/fleet_operators.hpp"
#include "support/mirror.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;
using test::with;

namespace {

constexpr const char* kSecret = "kurator-e2e-secret-Zq8Wx3";  // the S3 secret_key that must never show

bool can_run() {
  if (!test::e2e_ready_to_run()) return false;
  if (auto why = test::PrometheusOperator::skip_reason(); !why.empty()) {
    test::skip(why);
    return false;
  }
  for (const char* f : {"prometheus-operator-v0.93.0/crds", "kube-thanos-v0.29.0/manifests"})
    if (!stdfs::exists(test::fixtures_dir() / f)) {
      test::skip(std::string("upstream fixture missing: ") + f);
      return false;
    }
  return true;
}

// An S3 bucket config whose secret_key is kSecret (nothing dials it: kwok runs no sidecar).
stdfs::path s3_config(const stdfs::path& dir) {
  auto p = dir / "objstore.yaml";
  REQUIRE(fs::write_private_file(p, std::string("type: S3\nconfig:\n  bucket: metrics\n  endpoint: 127.0.0.1:9\n"
                                                "  access_key: e2e-access\n  secret_key: ") +
                                        kSecret + "\n  insecure: true\n")
              .ok());
  return p;
}

std::vector<std::string> labelled(kube::Client& c, const std::string& selector) {
  std::vector<std::string> out;
  kube::ListOptions lo;
  lo.label_selector = selector;
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"apps/v1", "Deployment"},   {"apps/v1", "StatefulSet"}, {"v1", "Service"},
      {"v1", "Secret"},            {"v1", "ConfigMap"},        {"v1", "ServiceAccount"},
      {"v1", "Namespace"},         {"apiextensions.k8s.io/v1", "CustomResourceDefinition"}};
  for (const auto& [av, kind] : kinds) {
    auto l = c.list(av, kind, lo);
    if (!l) continue;
    const json doc = *l;
    for (const auto& i : doc["items"]) out.push_back(kind + "/" + i["metadata"].value("name", ""));
  }
  return out;
}

// Every Event message in the cluster containing `needle`.
std::vector<std::string> events_with(kube::Client& c, const std::string& needle) {
  std::vector<std::string> out;
  auto l = c.list("v1", "Event");
  if (!l) return out;
  const json doc = *l;
  for (const auto& e : doc["items"])
    if (e.dump().find(needle) != std::string::npos) out.push_back(e["metadata"].value("name", ""));
  return out;
}

// Scans /proc/*/cmdline for `needle` until stopped; counts hits.
struct CmdlineScanner {
  std::atomic<bool> stop{false};
  std::atomic<int> hits{0}, scans{0};
  std::thread t;
  explicit CmdlineScanner(std::string needle) {
    t = std::thread([this, needle] {
      while (!stop) {
        hits += int(test::cmdlines_with(needle).size());
        ++scans;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~CmdlineScanner() {
    stop = true;
    t.join();
  }
};

using Uninstaller = test::KuratorOnExit;

}  // namespace

TEST_CASE("e2e thanos direct: sidecars via the real operator, a late LoadBalancer address waited for, Query's "
          "endpoints, re-run no-op, status, no secret anywhere, uninstall leaves nothing",
          "[e2e][thanos]") {
  if (!can_run()) return;
  auto& fleet = test::Fleet::get();
  test::FixtureMirror mirror({"prometheus-operator", "kube-thanos"});
  REQUIRE(mirror.ok());
  test::TempDir d;
  auto kc = test::merged_kubeconfig(d.path(), {fleet.host(), fleet.member()});
  const std::string members = fleet.host().name + "," + fleet.member().name;
  auto objstore = s3_config(d.path());
  const std::vector<std::string> global = {"--kubeconfig", kc.string(), "--wait-timeout", "3m"};
  const std::vector<std::string> target = {"--clusters",        members,
                                           "--host-kubeconfig", fleet.host().kubeconfig.string(),
                                           "--mirror",          mirror.url(),
                                           "--catalog",         mirror.catalog().string()};
  auto host = test::client_for(fleet.host().kubeconfig);
  auto member = test::client_for(fleet.member().kubeconfig);
  REQUIRE(labelled(host, "kurator.dev/component=thanos").empty());

  // Bad object-store files: one error line naming the field, nothing applied.
  auto bad_file = d.path() / "bad.yaml";
  REQUIRE(fs::write_private_file(bad_file, "type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  no_such_field: 1\n").ok());
  auto bad = fleet.kurator(with(with(global, {"install", "thanos", "--object-store-config", bad_file.string()}), target));
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("no_such_field") != std::string::npos);
  CHECK(labelled(host, "kurator.dev/component=thanos").empty());
  auto bad_ret = fleet.kurator(with(with(global, {"install", "thanos", "--object-store-config", objstore.string(),
                                                  "--retention-raw", "1d"}),
                                    target));
  CHECK(bad_ret.exit_code != 0);
  CHECK(bad_ret.err.find("--retention-raw") != std::string::npos);

  const std::vector<std::string> install_args =
      with(with(global, {"install", "thanos", "--object-store-config", objstore.string(), "--retention-raw", "30d"}),
           target);
  // --dry-run: the plan for members and host; the object-store config redacted.
  auto dry = fleet.kurator(with({"--dry-run"}, install_args));
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find(kSecret) == std::string::npos);
  CHECK(dry.err.find(kSecret) == std::string::npos);
  CHECK(dry.out.find("thanos.yaml: <redacted>") != std::string::npos);
  CHECK(dry.out.find("name: thanos-query") != std::string::npos);
  CHECK(labelled(host, "kurator.dev/component=thanos").empty());

  test::PrometheusOperator op_host(fleet.host()), op_member(fleet.member());
  test::LoadBalancerStandIn lb_host(fleet.host(), "127.0.10.1", std::chrono::milliseconds(0));
  test::LoadBalancerStandIn lb_member(fleet.member(), "127.0.10.2", std::chrono::seconds(4));  // comes late
  Uninstaller cleanup{fleet, with(with(global, {"uninstall", "thanos"}), target)};
  test::TempDir scan_dir;
  json install_out;
  {
    CmdlineScanner scanner(kSecret);
    auto t0 = std::chrono::steady_clock::now();
    auto install = fleet.kurator(with({"-v", "-v"}, install_args), true);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(install.err << "\noperator (member):\n" << op_member.log());
    REQUIRE(install.exit_code == 0);
    std::cerr << "install thanos on 2 members: " << took << "s (" << scanner.scans << " /proc scans)\n";
    CHECK(took >= 4);  // it waited for the late address
    CHECK(install.out.find(kSecret) == std::string::npos);
    CHECK(install.err.find(kSecret) == std::string::npos);
    CHECK(install.err.find("Query reads e2e-member's sidecar at 127.0.10.2:10901") != std::string::npos);
    CHECK(install.err.find("thanos v0.42.2 installed and ready") != std::string::npos);
    CHECK(scanner.scans > 0);
    CHECK(scanner.hits == 0);
  }
  CHECK(lb_member.assigned() >= 1);

  for (auto* c : {&host, &member}) {
    INFO(c->config().server);
    auto p = c->get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "thanos");
    REQUIRE(p.ok());
    CHECK(kube::evaluate(*p).ready());
    auto sts = c->get("apps/v1", "StatefulSet", "monitoring", "prometheus-thanos");
    REQUIRE(sts.ok());
    std::set<std::string> containers;
    for (const auto& ct : (*sts)["spec"]["template"]["spec"]["containers"]) containers.insert(ct["name"]);
    CHECK(containers.count("thanos-sidecar") == 1);
    CHECK(sts->dump().find(kSecret) == std::string::npos);  // by reference only (secretKeyRef)
    CHECK(events_with(*c, kSecret).empty());
  }
  auto mp = member.get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "thanos");
  REQUIRE(mp.ok());
  CHECK((*mp)["spec"]["externalLabels"]["cluster"] == "e2e-member");
  // Query's endpoint file lists both sidecars; the host's workloads are ready.
  auto cm = host.get("v1", "ConfigMap", "thanos", "thanos-query-endpoints");
  REQUIRE(cm.ok());
  const std::string eps = (*cm)["data"]["endpoints.yaml"];
  CHECK(eps.find("127.0.10.1:10901") != std::string::npos);
  CHECK(eps.find("127.0.10.2:10901") != std::string::npos);
  for (const char* dep : {"thanos-query", "thanos-query-frontend", "thanos-receive-router"}) {
    auto o = host.get("apps/v1", "Deployment", "thanos", dep);
    INFO(dep);
    REQUIRE(o.ok());
    CHECK(kube::evaluate(*o).ready());
  }
  auto compact = host.get("apps/v1", "StatefulSet", "thanos", "thanos-compact");
  REQUIRE(compact.ok());
  CHECK((*compact)["spec"]["replicas"] == 1);

  // A re-run is a no-op that says so.
  auto again = fleet.kurator(install_args);
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("already installed") != std::string::npos);

  // status: healthy on both members.
  auto status = fleet.kurator(with(global, {"-o", "json", "status", "--clusters", members}));
  INFO(status.out << status.err);
  const json st = json::parse(status.out);
  std::set<std::string> healthy;
  for (const auto& row : st["components"])
    if (row["component"] == "thanos" && row["healthy"] == true) healthy.insert(row["cluster"].get<std::string>());
  CHECK(healthy == std::set<std::string>{"e2e-host", "e2e-member"});

  // Uninstall: both sides gone, the bucket left alone (and said so).
  cleanup.armed = false;
  auto un = fleet.kurator(with(with(global, {"uninstall", "thanos"}), target), true);
  INFO(un.err);
  REQUIRE(un.exit_code == 0);
  CHECK(un.err.find("the bucket was left alone") != std::string::npos);
  for (auto* c : {&host, &member}) {
    INFO(c->config().server);
    CHECK(labelled(*c, "kurator.dev/component in (thanos,prometheus-operator)").empty());
  }
}

TEST_CASE("e2e thanos karmada: sidecars through Karmada (NodePort), Query on the host lists both, uninstall",
          "[e2e][thanos][karmada]") {
  test::Fleet* fleet = nullptr;
  test::LocalKarmada* karmada = nullptr;
  test::KarmadaMembers* m = nullptr;
  if (!can_run()) return;
  if (!test::karmada_ready(fleet, karmada, m)) return;
  test::FixtureMirror mirror({"prometheus-operator", "kube-thanos"});
  REQUIRE(mirror.ok());
  test::TempDir d;
  auto objstore = d.path() / "objstore.yaml";
  REQUIRE(fs::write_private_file(objstore, "type: FILESYSTEM\nconfig:\n  directory: " + (d.path() / "bucket").string() + "\n").ok());
  const std::vector<std::string> global = {"--wait-timeout", "3m"};
  const std::vector<std::string> target = {"--fleet",    "karmada",    "--clusters", "fk1,fk2",
                                           "--host-kubeconfig", fleet->host().kubeconfig.string(),
                                           "--mirror", mirror.url(), "--catalog",  mirror.catalog().string()};
  test::PrometheusOperator op_a(m->a), op_b(m->b);
  auto host = test::client_for(fleet->host().kubeconfig);
  auto a = test::client_for(m->a.kubeconfig), b = test::client_for(m->b.kubeconfig);
  Uninstaller cleanup{*fleet, with(with(global, {"uninstall", "thanos"}), target)};
  auto install = fleet->kurator(with(with(global, {"install", "thanos", "--object-store-config", objstore.string(),
                                                   "--sidecar-service-type", "NodePort"}),
                                     target),
                                true);
  INFO(install.err << "\noperator (fk1):\n" << op_a.log());
  REQUIRE(install.exit_code == 0);
  auto cm = host.get("v1", "ConfigMap", "thanos", "thanos-query-endpoints");
  REQUIRE(cm.ok());
  const std::string eps = (*cm)["data"]["endpoints.yaml"];
  for (auto* c : {&a, &b}) {
    auto svc = c->get("v1", "Service", "monitoring", "thanos-sidecar");
    REQUIRE(svc.ok());
    int np = (*svc)["spec"]["ports"][0]["nodePort"];
    CHECK(eps.find(":" + std::to_string(np)) != std::string::npos);
    auto p = c->get("monitoring.coreos.com/v1", "Prometheus", "monitoring", "thanos");
    REQUIRE(p.ok());
    CHECK(kube::evaluate(*p).ready());
  }
  auto again = fleet->kurator(with(with(global, {"install", "thanos", "--object-store-config", objstore.string(),
                                                 "--sidecar-service-type", "NodePort"}),
                                   target));
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("already installed") != std::string::npos);
  cleanup.armed = false;
  auto un = fleet->kurator(with(with(global, {"uninstall", "thanos"}), target), true);
  INFO(un.err);
  REQUIRE(un.exit_code == 0);
  for (auto* c : {&host, &a, &b}) CHECK(labelled(*c, "kurator.dev/component in (thanos,prometheus-operator)").empty());
}
