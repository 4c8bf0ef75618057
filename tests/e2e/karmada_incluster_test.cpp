// The in-cluster install (`kurator install karmada --provider kubernetes`) against the fleet's real host
// kube-apiserver. The fleet's nodes are kwok nodes: pods become Ready but no container runs, so the
// Karmada apiserver can never answer. The case checks the host part for real (every object accepted
// by the apiserver, every workload Ready, the PKI kept and reused) and that the install then stops at
// the timeout naming the Karmada apiserver's address. The Karmada-side part (CRDs, webhooks, APIService,
// RBAC over the Karmada apiserver) is covered by the local Karmada's cases (karmada_local_test.cpp),
// which run the same code: components::karmada::objects and apply_and_wait.
#include <kurator/providers/versions.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/fleet.hpp"
#include "support/mirror.hpp"
#include "support/test_env.hpp"

using kurator::test::CommandResult;
using kurator::test::Fleet;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

constexpr const char* kNs = "kurator-e2e-karmada";

json parse(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

struct InClusterRun {
  const Fleet& fleet;
  stdfs::path home;
  std::vector<std::pair<std::string, std::string>> env;

  CommandResult kurator(std::vector<std::string> args) const {
    std::vector<std::string> argv = {kurator::test::kurator_bin().string(), "--kubeconfig",
                                     fleet.host().kubeconfig.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return kurator::test::run_command(argv, env, true, std::chrono::seconds(600));
  }
  CommandResult kubectl(const std::vector<std::string>& args) const {
    return fleet.kubectl(fleet.host(), args);
  }
};

}  // namespace

TEST_CASE(
    "in-cluster Karmada: host objects accepted, workloads Ready on kwok, the unanswering apiserver named, "
    "uninstall leaves nothing",
    "[e2e][karmada]") {
  if (auto why = kurator::test::e2e_skip_reason(); !why.empty()) {
    kurator::test::skip(why);
    return;
  }
  kurator::test::require_isolated_network();
  auto fx = kurator::test::fixtures_dir();
  const std::string crds = "karmada-" + std::string(kurator::providers::versions::karmada) + "/crds";
  if (fx.empty() || !stdfs::is_directory(fx / crds)) {
    kurator::test::skip("upstream fixture " + crds + " not found");
    return;
  }
  auto& fleet = Fleet::get();
  // A home of its own: the fleet's home may hold the local Karmada, which the in-cluster install refuses.
  auto home = kurator::fs::make_temp_dir("kurator-e2e-incluster-");
  REQUIRE(home.ok());
  kurator::test::FixtureMirror mirror({}, false, {{"karmada-crds", crds}});
  REQUIRE(mirror.ok());
  InClusterRun run{fleet, *home, {{"KURATOR_HOME", home->string()}}};
  for (auto& e : mirror.env()) run.env.push_back(e);
  const stdfs::path kubeconfig = *home / "karmada" / "karmada-apiserver.config";

  // Bad input: one usage error, nothing made.
  auto bad =
      run.kurator({"install", "karmada", "--provider", "kubernetes", "--apiserver-service-type", "Ingress"});
  CHECK(bad.exit_code == 2);
  bad = run.kurator({"install", "karmada", "--provider", "kubernetes", "-n", "Not_A_Namespace"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("Not_A_Namespace") != std::string::npos);
  auto missing = kurator::test::run_command(
      {kurator::test::kurator_bin().string(), "--kubeconfig", (*home / "no-such-kubeconfig").string(),
       "install", "karmada", "--provider", "kubernetes"},
      run.env);
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("no-such-kubeconfig") != std::string::npos);

  // --dry-run: the objects for the host apiserver, secrets redacted, nothing changed.
  auto dry = run.kurator({"install", "karmada", "--provider", "kubernetes", "-n", kNs, "--dry-run"});
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("hostApiserver") != std::string::npos);
  CHECK(dry.out.find("<redacted>") != std::string::npos);
  CHECK(dry.out.find("PRIVATE KEY") == std::string::npos);
  CHECK(dry.out.find("kind: StatefulSet") != std::string::npos);
  CHECK(run.kubectl({"get", "namespace", kNs}).exit_code != 0);

  // The install: every host object applied and every workload Ready, then the Karmada apiserver
  // (a kwok pod: nothing listens) does not answer within the timeout.
  auto inst =
      run.kurator({"install", "karmada", "--provider", "kubernetes", "-n", kNs, "--wait-timeout", "45s"});
  CHECK(inst.exit_code == 3);
  CHECK(inst.err.find("the Karmada apiserver at https://") != std::string::npos);
  CHECK(inst.err.find(":32443 did not answer") != std::string::npos);
  CHECK_FALSE(stdfs::exists(kubeconfig));

  auto ns = run.kubectl({"get", "namespace", kNs, "-o", "json"});
  REQUIRE(ns.exit_code == 0);
  CHECK(parse(ns.out)["metadata"]["labels"].value("app.kubernetes.io/managed-by", "") == "kurator");
  for (const std::string s : {"karmada-cert", "etcd-cert", "karmada-webhook-cert", "karmada-scheduler-config",
                              "karmada-controller-manager-config", "kube-controller-manager-config",
                              "karmada-aggregated-apiserver-config", "karmada-webhook-config"}) {
    INFO("Secret " << s);
    CHECK(run.kubectl({"-n", kNs, "get", "secret", s}).exit_code == 0);
  }
  for (const std::string s :
       {"etcd", "karmada-apiserver", "karmada-aggregated-apiserver", "karmada-webhook"}) {
    INFO("Service " << s);
    CHECK(run.kubectl({"-n", kNs, "get", "service", s}).exit_code == 0);
  }
  auto svc = run.kubectl({"-n", kNs, "get", "service", "karmada-apiserver", "-o", "json"});
  REQUIRE(svc.exit_code == 0);
  CHECK(parse(svc.out)["spec"]["type"] == "NodePort");
  CHECK(parse(svc.out)["spec"]["ports"][0]["nodePort"] == 32443);
  const std::vector<std::pair<std::string, std::string>> workloads = {
      {"statefulset", "etcd"},
      {"deployment", "karmada-apiserver"},
      {"deployment", "karmada-aggregated-apiserver"},
      {"deployment", "kube-controller-manager"},
      {"deployment", "karmada-scheduler"},
      {"deployment", "karmada-controller-manager"},
      {"deployment", "karmada-webhook"}};
  for (const auto& [kind, name] : workloads) {
    INFO(kind << "/" << name);
    auto w = run.kubectl({"-n", kNs, "get", kind, name, "-o", "json"});
    REQUIRE(w.exit_code == 0);
    auto j = parse(w.out);
    CHECK(j["status"].value("readyReplicas", 0) == j["spec"].value("replicas", 1));
  }
  auto cert = run.kubectl({"-n", kNs, "get", "secret", "karmada-cert", "-o", "json"});
  REQUIRE(cert.exit_code == 0);
  const json cert_before = parse(cert.out);

  // A re-run keeps the PKI (the karmada-cert Secret is not rewritten) and stops at the same place.
  auto again =
      run.kurator({"install", "karmada", "--provider", "kubernetes", "-n", kNs, "--wait-timeout", "8s"});
  CHECK(again.exit_code == 3);
  CHECK(again.err.find("did not answer") != std::string::npos);
  auto cert2 = run.kubectl({"-n", kNs, "get", "secret", "karmada-cert", "-o", "json"});
  REQUIRE(cert2.exit_code == 0);
  CHECK(parse(cert2.out)["metadata"]["resourceVersion"] == cert_before["metadata"]["resourceVersion"]);
  CHECK(parse(cert2.out)["data"] == cert_before["data"]);

  // Uninstall: the namespace and everything in it gone, nothing left in the home.
  auto un =
      run.kurator({"uninstall", "karmada", "--provider", "kubernetes", "-n", kNs, "--wait-timeout", "3m"});
  INFO(un.err);
  REQUIRE(un.exit_code == 0);
  CHECK(run.kubectl({"get", "namespace", kNs}).exit_code != 0);
  CHECK_FALSE(stdfs::exists(*home / "karmada"));
  auto un2 = run.kurator({"uninstall", "karmada", "--provider", "kubernetes", "-n", kNs});
  CHECK(un2.exit_code == 0);
  CHECK(un2.out.find("not installed") != std::string::npos);
  std::error_code ec;
  stdfs::remove_all(*home, ec);
}
