// The fleet layer and `install/uninstall volcano`, `status` against real local clusters (real
// kube-apiservers, controller-managers, kwok nodes), in both modes.
//
// Volcano's webhook configurations (failurePolicy Fail) point at a Service no real pod serves under kwok:
// while Volcano is installed, creating Volcano objects in that cluster is refused. Every case that installs
// it uninstalls it before it ends (also when a check fails: see Uninstaller).
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/core/readiness.hpp>
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "support/fleet.hpp"
#include "support/fleet_karmada.hpp"
#include "support/fleet_members.hpp"
#include "support/mirror.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {
using test::client_for;
using test::e2e_ready_to_run;
using test::karmada_ready;
using test::KarmadaMembers;
using test::merged_kubeconfig;
using test::with;

bool ready_to_run() {
  return e2e_ready_to_run();
}

stdfs::path release_file() {
  return test::fixtures_dir() / "volcano-v1.15.1" / "volcano-development.yaml";
}

// Volcano's objects as upstream ships them (what must exist after install and be gone after uninstall).
std::vector<json> upstream_objects() {
  auto text = fs::read_file(release_file());
  REQUIRE(text.ok());
  auto docs = yaml::parse_all(*text, "volcano-development.yaml");
  REQUIRE(docs.ok());
  return *docs;
}

std::vector<std::string> present(kube::Client& c, const std::vector<json>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) {
    auto r = c.get(o["apiVersion"], o["kind"], o["metadata"].value("namespace", ""), o["metadata"]["name"]);
    if (r) out.push_back(kube::describe(o));
  }
  return out;
}

// Runs `uninstall volcano` with the given arguments when the case ends, unless disarmed.
using Uninstaller = test::KuratorOnExit;

}  // namespace

TEST_CASE("e2e fleet direct: volcano on two members, waits, re-run no-op, status, uninstall leaves nothing",
          "[e2e][fleet][volcano]") {
  if (!ready_to_run()) return;
  if (!stdfs::exists(release_file())) {
    test::skip("upstream fixture missing: " + release_file().string());
    return;
  }
  auto& fleet = test::Fleet::get();
  test::FixtureMirror mirror({"volcano"});
  REQUIRE(mirror.ok());
  test::TempDir d;
  auto kc = merged_kubeconfig(d.path(), {fleet.host(), fleet.member()});
  const std::vector<std::string> global = {"--kubeconfig", kc.string(), "--wait-timeout", "5m"};
  const std::vector<std::string> target = {"--clusters", fleet.host().name + "," + fleet.member().name,
                                           "--mirror",   mirror.url(),
                                           "--catalog",  mirror.catalog().string()};
  auto host = client_for(fleet.host().kubeconfig);
  auto member = client_for(fleet.member().kubeconfig);
  auto objs = upstream_objects();
  REQUIRE(objs.size() == 43);
  REQUIRE(present(host, objs).empty());
  REQUIRE(present(member, objs).empty());

  // --dry-run: what would go to which apiserver; nothing is changed.
  auto dry = fleet.kurator(with(with(global, {"--dry-run", "install", "volcano"}), target));
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("# e2e-host (" + host.config().server + "): 43 objects\n") == 0);
  CHECK(dry.out.find("# e2e-member (" + member.config().server + "): 43 objects\n") != std::string::npos);
  CHECK(present(host, objs).empty());
  CHECK(present(member, objs).empty());

  Uninstaller cleanup{fleet, with(with(global, {"uninstall", "volcano"}), target)};
  auto t0 = std::chrono::steady_clock::now();
  auto install = fleet.kurator(with(with(global, {"install", "volcano"}), target), true);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(install.err);
  REQUIRE(install.exit_code == 0);
  std::cerr << "install volcano on 2 members: " << took << "s\n";
  // The waits are per member, prefixed with its name, and end with everything ready.
  CHECK(install.err.find("e2e-host: ") != std::string::npos);
  CHECK(install.err.find("e2e-member: ") != std::string::npos);
  CHECK(install.err.find("e2e-host: all 43 objects ready") != std::string::npos);
  CHECK(install.err.find("e2e-member: all 43 objects ready") != std::string::npos);

  // Right after kurator returned, both apiservers agree: every object there, CRDs Established, the
  // Deployments available, the admission-init Job complete.
  for (auto* c : {&host, &member}) {
    INFO(c->config().server);
    CHECK(present(*c, objs).size() == 43);
    for (const auto& o : objs) {
      std::string kind = o["kind"];
      if (kind != "CustomResourceDefinition" && kind != "Deployment" && kind != "Job") continue;
      auto cur = c->get(o["apiVersion"], kind, o["metadata"].value("namespace", ""), o["metadata"]["name"]);
      REQUIRE(cur.ok());
      INFO(kube::describe(o));
      CHECK(kube::evaluate(*cur).ready());
      CHECK((*cur)["metadata"]["labels"]["kurator.dev/version"] == "v1.15.1");
    }
  }
  // Strict field validation, independently of kurator: the real kubectl's server-side dry run with
  // --validate=strict accepts the release as it is on both members.
  for (const auto* c : {&fleet.host(), &fleet.member()}) {
    auto v = fleet.kubectl(*c, {"apply", "--server-side", "--dry-run=server", "--validate=strict",
                                "--field-manager=kurator", "-f", release_file().string()});
    INFO(v.err);
    CHECK(v.exit_code == 0);
  }

  // A re-run is a no-op that says so.
  auto again = fleet.kurator(with(with(global, {"-o", "json", "install", "volcano"}), target));
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("already installed in e2e-host, e2e-member: nothing changed") != std::string::npos);
  auto again_json = json::parse(again.out);
  CHECK(again_json["unchanged"] == true);
  CHECK(again_json["steps"].size() == 2);

  // status: healthy on both, with the version.
  auto status = fleet.kurator(
      with(global, {"-o", "json", "status", "--clusters", fleet.host().name + "," + fleet.member().name}));
  INFO(status.out << status.err);
  CHECK(status.exit_code == 0);
  auto st = json::parse(status.out);
  std::set<std::string> healthy;
  for (const auto& row : st["components"])
    if (row["component"] == "volcano" && row["healthy"] == true && row["version"] == "v1.15.1")
      healthy.insert(row["cluster"].get<std::string>());
  CHECK(healthy == std::set<std::string>{"e2e-host", "e2e-member"});

  // A Deployment made unavailable shows up in status with the reason.
  auto patched =
      member.request("PATCH", "/apis/apps/v1/namespaces/volcano-system/deployments/volcano-scheduler",
                     R"({"spec":{"template":{"spec":{"nodeSelector":{"nowhere":"true"}}}}})",
                     "application/merge-patch+json");
  REQUIRE(patched.ok());
  bool saw_unhealthy = false;
  for (int i = 0; i < 40 && !saw_unhealthy; ++i) {
    auto s = fleet.kurator(with(global, {"-o", "json", "status", "--clusters", fleet.member().name}));
    const json s_doc = json::parse(s.out);  // kept alive for the loop
    for (const auto& row : s_doc["components"])
      if (row["component"] == "volcano" && row["health"] == "unhealthy") {
        saw_unhealthy = true;
        CHECK(s.exit_code == 1);
        CHECK(row["reason"].get<std::string>().find("Deployment/volcano-system/volcano-scheduler") !=
              std::string::npos);
      }
    if (!saw_unhealthy) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  CHECK(saw_unhealthy);
  // Re-running the install repairs it (kurator owns the field it applied; the nodeSelector was someone else's
  // and stays: take it out).
  REQUIRE(member
              .request("PATCH", "/apis/apps/v1/namespaces/volcano-system/deployments/volcano-scheduler",
                       R"({"spec":{"template":{"spec":{"nodeSelector":null}}}})",
                       "application/merge-patch+json")
              .ok());

  // Uninstall: webhooks first, everything gone from both, named when not.
  cleanup.armed = false;
  auto un = fleet.kurator(with(with(global, {"uninstall", "volcano"}), target), true);
  INFO(un.err);
  REQUIRE(un.exit_code == 0);
  for (auto* c : {&host, &member}) {
    INFO(c->config().server);
    CHECK(present(*c, objs).empty());
    kube::ListOptions lo;
    lo.label_selector = "kurator.dev/component=volcano";
    for (const char* kind : {"CustomResourceDefinition"}) {
      auto l = c->list("apiextensions.k8s.io/v1", kind, lo);
      REQUIRE(l.ok());
      CHECK((*l)["items"].empty());
    }
    for (const char* kind : {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}) {
      auto l = c->list("admissionregistration.k8s.io/v1", kind, lo);
      REQUIRE(l.ok());
      CHECK((*l)["items"].empty());
    }
  }
  auto un_again = fleet.kurator(with(with(global, {"uninstall", "volcano"}), target));
  CHECK(un_again.exit_code == 0);
  CHECK(un_again.err.find("not installed in e2e-host, e2e-member: nothing to remove") != std::string::npos);
  auto after = fleet.kurator(
      with(global, {"-o", "json", "status", "--clusters", fleet.host().name + "," + fleet.member().name}));
  CHECK(after.exit_code == 0);
  const json after_doc = json::parse(after.out);  // kept alive for the loop
  for (const auto& row : after_doc["components"])
    if (row["component"] == "volcano") CHECK(row["health"] == "not installed");
}

TEST_CASE("e2e fleet direct: --clusters naming an unknown context, or an unreachable member, changes nothing",
          "[e2e][fleet][volcano]") {
  if (!ready_to_run()) return;
  auto& fleet = test::Fleet::get();
  test::FixtureMirror mirror({"volcano"});
  REQUIRE(mirror.ok());
  test::TempDir d;
  // "gone": a context whose apiserver does not exist (nothing listens on port 1).
  auto kc = merged_kubeconfig(d.path(), {fleet.host(), fleet.member()}, {{"gone", "https://127.0.0.1:1"}});
  auto host = client_for(fleet.host().kubeconfig);

  auto unknown =
      fleet.kurator({"--kubeconfig", kc.string(), "install", "volcano", "--clusters", "e2e-host,nope",
                     "--mirror", mirror.url(), "--catalog", mirror.catalog().string()});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("error: --clusters: kubeconfig " + kc.string() +
                         " has no context \"nope\"; its contexts: e2e-host, e2e-member, gone\n") == 0);
  CHECK(unknown.err.find("hint: ") != std::string::npos);

  auto t0 = std::chrono::steady_clock::now();
  auto gone = fleet.kurator({"--kubeconfig", kc.string(), "install", "volcano", "--clusters", "e2e-host,gone",
                             "--connect-timeout", "5s", "--mirror", mirror.url(), "--catalog",
                             mirror.catalog().string()});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(gone.exit_code == 1);
  CHECK(gone.err.find("error: member cluster gone is not reachable: no answer from https://127.0.0.1:1") ==
        0);
  CHECK(took < 10);
  auto ns = host.get("v1", "Namespace", "", "volcano-system");
  CHECK_FALSE(ns.ok());  // nothing was applied anywhere
}

// ---------------------------------------------------------------------------------------------------
// Karmada mode: a real local Karmada (tests/support/fleet_karmada.hpp) and two members of our own,
// joined with `kurator join karmada`.

namespace {

fleet::Selection karmada_selection(const test::LocalKarmada& k) {
  fleet::Selection sel;
  sel.mode = fleet::Mode::karmada;
  sel.karmada_kubeconfig = k.kubeconfig();
  sel.clusters = {"fk1", "fk2"};
  return sel;
}

}  // namespace

TEST_CASE("e2e fleet karmada: a Deployment and its policies reach both members, the wait returns only then",
          "[e2e][fleet][karmada]") {
  test::Fleet* fleet = nullptr;
  test::LocalKarmada* karmada = nullptr;
  KarmadaMembers* m = nullptr;
  if (!karmada_ready(fleet, karmada, m)) return;
  auto f = fleet::open(karmada_selection(*karmada));
  INFO((f.ok() ? std::string() : f.error().message));
  REQUIRE(f.ok());
  REQUIRE((*f)->members().size() == 2);

  fleet::Workload w;
  w.component = "e2e-web";
  w.objects = {json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"e2e-fleet-web"}})"),
               json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
                 "metadata":{"name":"web","namespace":"e2e-fleet-web","labels":{"app":"web"}},
                 "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
                   "template":{"metadata":{"labels":{"app":"web"}},
                     "spec":{"containers":[{"name":"web","image":"registry.invalid/web:1"}]}}}})")};
  // fk2 gets 3 replicas and a label: an OverridePolicy with plaintext overriders.
  w.per_member["fk2"] = {{"apps/v1",
                          "Deployment",
                          "e2e-fleet-web",
                          "web",
                          {{"replace", "/spec/replicas", 3}, {"add", "/metadata/labels/member", "fk2"}}}};
  auto applied = (*f)->apply(w);
  INFO((applied.ok() ? std::string() : applied.error().message));
  REQUIRE(applied.ok());
  kube::WaitOptions wo;
  wo.timeout = std::chrono::minutes(3);
  auto t0 = std::chrono::steady_clock::now();
  auto waited = (*f)->wait_ready(w, wo);
  INFO((waited.ok() ? std::string() : waited.error().message));
  REQUIRE(waited.ok());
  std::cerr << "karmada propagation + member readiness: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << "s\n";

  // Right after the wait returned, both members have the Deployment ready, with fk2's values.
  auto a = client_for(m->a.kubeconfig), b = client_for(m->b.kubeconfig);
  auto da = a.get("apps/v1", "Deployment", "e2e-fleet-web", "web");
  auto db = b.get("apps/v1", "Deployment", "e2e-fleet-web", "web");
  REQUIRE(da.ok());
  REQUIRE(db.ok());
  CHECK((*da)["status"].value("readyReplicas", 0) == 2);
  CHECK((*db)["status"].value("readyReplicas", 0) == 3);
  CHECK((*db)["metadata"]["labels"]["member"] == "fk2");
  CHECK_FALSE((*da)["metadata"]["labels"].contains("member"));
  // The policies are Karmada's to hold: named kurator-<component>.
  auto kc = client_for(karmada->kubeconfig());
  CHECK(kc.get("policy.karmada.io/v1alpha1", "PropagationPolicy", "e2e-fleet-web", "kurator-e2e-web").ok());
  CHECK(kc.get("policy.karmada.io/v1alpha1", "OverridePolicy", "e2e-fleet-web", "kurator-e2e-web-deployment-web").ok());
  // A member never had the objects written by kurator: Karmada's execution controller is the manager.
  auto managers = fleet->kubectl(m->a, {"get", "deployment", "web", "-n", "e2e-fleet-web", "--show-managed-fields",
                                        "-o", "jsonpath={.metadata.managedFields[*].manager}"});
  CHECK(managers.out.find("kurator") == std::string::npos);

  auto again = (*f)->apply(w);
  REQUIRE(again.ok());
  std::string changed;
  for (const auto& step : again->steps)
    for (const auto& c : step.changed) changed += step.target + ": " + c + "\n";
  INFO("changed on re-run:\n" << changed);
  CHECK(again->unchanged());

  auto removed = (*f)->remove(w, std::chrono::minutes(2));
  INFO((removed.ok() ? std::string() : removed.error().message));
  REQUIRE(removed.ok());
  CHECK_FALSE(a.get("apps/v1", "Deployment", "e2e-fleet-web", "web").ok());
  CHECK_FALSE(b.get("apps/v1", "Deployment", "e2e-fleet-web", "web").ok());
  CHECK_FALSE(a.get("v1", "Namespace", "", "e2e-fleet-web").ok());
  CHECK_FALSE(kc.get("policy.karmada.io/v1alpha1", "OverridePolicy", "e2e-fleet-web", "kurator-e2e-web-deployment-web").ok());
}

TEST_CASE("e2e fleet karmada: volcano through Karmada to two members, re-run no-op, status, uninstall leaves nothing",
          "[e2e][fleet][karmada][volcano]") {
  test::Fleet* fleet = nullptr;
  test::LocalKarmada* karmada = nullptr;
  KarmadaMembers* m = nullptr;
  if (!karmada_ready(fleet, karmada, m)) return;
  if (!stdfs::exists(release_file())) {
    test::skip("upstream fixture missing: " + release_file().string());
    return;
  }
  test::FixtureMirror mirror({"volcano"});
  REQUIRE(mirror.ok());
  const std::vector<std::string> global = {"--wait-timeout", "5m"};
  const std::vector<std::string> target = {"--fleet",  "karmada",    "--clusters", "fk1,fk2",
                                           "--mirror", mirror.url(), "--catalog",  mirror.catalog().string()};
  auto a = client_for(m->a.kubeconfig), b = client_for(m->b.kubeconfig);
  auto kc = client_for(karmada->kubeconfig());
  auto objs = upstream_objects();

  auto dry = fleet->kurator(with(with(global, {"--dry-run", "install", "volcano"}), target));
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("# karmada (" + kc.config().server + "): 45 objects\n") == 0);  // 43 + 2 policies
  CHECK(dry.out.find("kind: ClusterPropagationPolicy") != std::string::npos);
  CHECK(present(kc, objs).empty());

  Uninstaller cleanup{*fleet, with(with(global, {"uninstall", "volcano"}), target)};
  auto install = fleet->kurator(with(with(global, {"install", "volcano"}), target), true);
  INFO(install.err);
  REQUIRE(install.exit_code == 0);
  CHECK(install.err.find("fk1: all 43 objects ready") != std::string::npos);
  CHECK(install.err.find("fk2: all 43 objects ready") != std::string::npos);
  for (auto* c : {&a, &b}) {
    INFO(c->config().server);
    CHECK(present(*c, objs).size() == 43);
    auto d = c->get("apps/v1", "Deployment", "volcano-system", "volcano-scheduler");
    REQUIRE(d.ok());
    CHECK(kube::evaluate(*d).ready());
  }
  CHECK(kc.get("policy.karmada.io/v1alpha1", "ClusterPropagationPolicy", "", "kurator-volcano").ok());
  CHECK(kc.get("policy.karmada.io/v1alpha1", "PropagationPolicy", "volcano-system", "kurator-volcano").ok());

  auto again = fleet->kurator(with(with(global, {"install", "volcano"}), target));
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("already installed in fk1, fk2: nothing changed") != std::string::npos);

  auto status = fleet->kurator({"-o", "json", "status", "--fleet", "karmada", "--clusters", "fk1,fk2"});
  INFO(status.out << status.err);
  std::set<std::string> healthy;
  const json status_doc = json::parse(status.out);  // kept alive for the loop
  for (const auto& row : status_doc["components"])
    if (row["component"] == "volcano" && row["healthy"] == true) healthy.insert(row["cluster"].get<std::string>());
  CHECK(healthy == std::set<std::string>{"fk1", "fk2"});

  cleanup.armed = false;
  auto un = fleet->kurator(with(with(global, {"uninstall", "volcano"}), target), true);
  INFO(un.err);
  REQUIRE(un.exit_code == 0);
  for (auto* c : {&a, &b, &kc}) {
    INFO(c->config().server);
    CHECK(present(*c, objs).empty());
  }
  kube::ListOptions lo;
  lo.label_selector = "kurator.dev/component=volcano";
  for (const char* kind : {"ClusterPropagationPolicy", "PropagationPolicy"}) {
    auto l = kc.list("policy.karmada.io/v1alpha1", kind, lo);
    REQUIRE(l.ok());
    CHECK((*l)["items"].empty());
  }
}
