// The fleet layer against in-memory apiservers (tests/data/fleet/memory_apiserver.py): member
// resolution and its errors, bounded-time failure on an unreachable member, the dry-run plan (no writes),
// apply with change detection (a re-run changes nothing), overrides per member, removal in reverse order.
// The same against real clusters is in tests/e2e/fleet_volcano_test.cpp.
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include <chrono>

#include "support/py_server.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

stdfs::path script() {
  return stdfs::path(KURATOR_SOURCE_DIR) / "tests/data/fleet/memory_apiserver.py";
}

// A kubeconfig whose contexts (name -> server) reach the given servers without credentials.
stdfs::path write_kubeconfig(const stdfs::path& dir,
                             const std::vector<std::pair<std::string, std::string>>& ctxs,
                             const std::string& current) {
  json clusters = json::array(), contexts = json::array();
  for (const auto& [name, server] : ctxs) {
    clusters.push_back({{"name", name}, {"cluster", {{"server", server}}}});
    contexts.push_back({{"name", name}, {"context", {{"cluster", name}}}});
  }
  json doc = {{"apiVersion", "v1"},   {"kind", "Config"},       {"clusters", clusters},
              {"contexts", contexts}, {"users", json::array()}, {"current-context", current}};
  auto p = dir / "kubeconfig";
  REQUIRE(fs::write_private_file(p, doc.dump()).ok());
  return p;
}

// What the server saw: "METHOD /path" per request.
std::vector<std::string> requests(kube::Client& c) {
  auto r = c.request("GET", "/_log");
  REQUIRE(r.ok());
  return json::parse(r->body).get<std::vector<std::string>>();
}
size_t writes(kube::Client& c) {
  size_t n = 0;
  for (const auto& r : requests(c))
    if (r.rfind("GET ", 0) != 0) ++n;
  return n;
}
json stored(kube::Client& c) {
  auto r = c.request("GET", "/_objects");
  REQUIRE(r.ok());
  return json::parse(r->body);
}

kubeconfig::RestConfig plain(const std::string& url) {
  kubeconfig::RestConfig rc;
  rc.server = url;
  return rc;
}

fleet::Workload workload() {
  fleet::Workload w;
  w.component = "demo";
  w.objects = {
      json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"}})"),
      json::parse(R"({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration",
                      "metadata":{"name":"demo-hook"},"webhooks":[]})"),
      json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"demo"},
                      "spec":{"replicas":1}})"),
      json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg"},"data":{"a":"1"}})"),
      json::parse(
          R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"demo"}})"),
  };
  w.per_member["b"] = {{"apps/v1", "Deployment", "demo", "web", {{"replace", "/spec/replicas", 3}}}};
  return w;
}

struct TwoMembers {
  test::PyServer a{script()}, b{script()};
  test::TempDir dir;
  stdfs::path kubeconfig = write_kubeconfig(dir.path(), {{"a", a.url()}, {"b", b.url()}}, "a");
  kube::Client ca{plain(a.url())}, cb{plain(b.url())};

  fleet::Selection selection(std::vector<std::string> clusters) const {
    fleet::Selection sel;
    sel.kubeconfig.explicit_path = kubeconfig.string();
    sel.clusters = std::move(clusters);
    sel.connect_timeout = std::chrono::seconds(5);
    return sel;
  }
};

}  // namespace

TEST_CASE("fleet direct: members are the named contexts, the current one by default",
          "[unit][fleet][direct]") {
  TwoMembers t;
  auto both = fleet::open(t.selection({"a", "b", "a"}));
  REQUIRE(both.ok());
  REQUIRE((*both)->members().size() == 2);
  CHECK((*both)->members()[0].name == "a");
  CHECK((*both)->members()[1].name == "b");
  CHECK((*both)->members()[1].config.server == t.b.url());
  CHECK((*both)->mode() == fleet::Mode::direct);

  auto current = fleet::open(t.selection({}));
  REQUIRE(current.ok());
  REQUIRE((*current)->members().size() == 1);
  CHECK((*current)->members()[0].name == "a");

  auto sel = t.selection({});
  sel.kubeconfig.context = "b";  // --context
  auto ctx = fleet::open(sel);
  REQUIRE(ctx.ok());
  CHECK((*ctx)->members()[0].name == "b");
}

TEST_CASE("fleet direct: --clusters naming an unknown context is one error listing the known ones",
          "[unit][fleet][direct]") {
  TwoMembers t;
  auto r = fleet::open(t.selection({"a", "nope"}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().exit == ExitCode::failure);
  CHECK(r.error().message ==
        "--clusters: kubeconfig " + t.kubeconfig.string() + " has no context \"nope\"; its contexts: a, b");
  CHECK_FALSE(r.error().hint.empty());
  CHECK(writes(t.ca) == 0);
}

TEST_CASE("fleet direct: an unreachable member fails in bounded time, naming it", "[unit][fleet][direct]") {
  test::PyServer a(script());
  test::TempDir dir;
  // Port 1 on loopback: nothing listens there (connection refused, retried by the HTTP layer).
  auto kc = write_kubeconfig(dir.path(), {{"a", a.url()}, {"gone", "http://127.0.0.1:1"}}, "a");
  fleet::Selection sel;
  sel.kubeconfig.explicit_path = kc.string();
  sel.clusters = {"a", "gone"};
  sel.connect_timeout = std::chrono::seconds(4);
  auto t0 = std::chrono::steady_clock::now();
  auto r = fleet::open(sel);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.rfind("member cluster gone is not reachable: no answer from http://127.0.0.1:1",
                                0) == 0);
  CHECK(took < std::chrono::seconds(8));

  // `status` keeps it, with the reason.
  sel.require_reachable = false;
  auto kept = fleet::open(sel);
  REQUIRE(kept.ok());
  CHECK((*kept)->members()[0].problem.empty());
  CHECK_FALSE((*kept)->members()[1].problem.empty());
}

TEST_CASE(
    "fleet direct: the plan is each member's objects in apply order, overrides applied, nothing written",
    "[unit][fleet][direct][plan]") {
  TwoMembers t;
  auto f = fleet::open(t.selection({"a", "b"}));
  REQUIRE(f.ok());
  auto plan = (*f)->plan(workload());
  REQUIRE(plan.ok());
  REQUIRE(plan->size() == 2);
  const auto& pa = (*plan)[0];
  const auto& pb = (*plan)[1];
  CHECK(pa.target == "a");
  CHECK(pa.server == t.a.url());
  CHECK(pb.target == "b");
  REQUIRE(pa.objects.size() == 5);
  std::vector<std::string> kinds;
  for (const auto& o : pa.objects) kinds.push_back(o["kind"]);
  CHECK(kinds == std::vector<std::string>{"Namespace", "ConfigMap", "ClusterRole", "Deployment",
                                          "ValidatingWebhookConfiguration"});
  CHECK(pa.objects[1]["metadata"]["namespace"] == "default");  // namespaced kind without one
  CHECK_FALSE(pa.objects[2]["metadata"].contains("namespace"));
  CHECK(pa.objects[3]["spec"]["replicas"] == 1);
  CHECK(pb.objects[3]["spec"]["replicas"] == 3);  // b's override
  CHECK(writes(t.ca) == 0);
  CHECK(writes(t.cb) == 0);
  auto text = fleet::render_plan(*plan);
  CHECK(text.find("# a (" + t.a.url() + "): 5 objects\n") == 0);
  CHECK(text.find("# b (" + t.b.url() + "): 5 objects\n") != std::string::npos);
}

TEST_CASE("fleet direct: apply to every member, a re-run changes nothing, remove goes webhooks first",
          "[unit][fleet][direct]") {
  TwoMembers t;
  auto f = fleet::open(t.selection({"a", "b"}));
  REQUIRE(f.ok());
  auto w = workload();
  auto first = (*f)->apply(w);
  REQUIRE(first.ok());
  REQUIRE(first->steps.size() == 2);
  CHECK(first->steps[0].target == "a");
  CHECK(first->steps[0].objects == 5);
  CHECK(first->steps[0].changed.size() == 5);
  CHECK_FALSE(first->unchanged());
  CHECK(stored(t.ca).size() == 5);
  for (const auto& o : stored(t.cb))
    if (o["kind"] == "Deployment") CHECK(o["spec"]["replicas"] == 3);

  auto again = (*f)->apply(w);
  REQUIRE(again.ok());
  CHECK(again->unchanged());

  // A changed per-member value changes exactly that object in that member.
  w.per_member["b"][0].ops[0].value = 4;
  auto changed = (*f)->apply(w);
  REQUIRE(changed.ok());
  CHECK(changed->steps[0].changed.empty());
  CHECK(changed->steps[1].changed == std::vector<std::string>{"Deployment/demo/web"});

  size_t before = requests(t.ca).size();
  auto removed = (*f)->remove(w, std::chrono::seconds(10));
  REQUIRE(removed.ok());
  CHECK(removed->steps[0].deleted == 5);
  CHECK_FALSE(removed->nothing_found());
  CHECK(stored(t.ca).empty());
  CHECK(stored(t.cb).empty());
  std::vector<std::string> deletes;
  auto log = requests(t.ca);
  for (size_t i = before; i < log.size(); ++i)
    if (log[i].rfind("DELETE ", 0) == 0) deletes.push_back(log[i]);
  REQUIRE(deletes.size() == 5);
  CHECK(deletes.front() ==
        "DELETE /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/demo-hook");
  CHECK(deletes.back() == "DELETE /api/v1/namespaces/demo");

  auto nothing = (*f)->remove(w, std::chrono::seconds(10));
  REQUIRE(nothing.ok());
  CHECK(nothing->nothing_found());
  CHECK(nothing->steps[0].absent == 5);
}

TEST_CASE(
    "fleet direct: an override naming an object the workload does not have is an error before any write",
    "[unit][fleet][direct]") {
  TwoMembers t;
  auto f = fleet::open(t.selection({"a", "b"}));
  REQUIRE(f.ok());
  auto w = workload();
  w.per_member["b"] = {{"apps/v1", "Deployment", "demo", "nope", {{"replace", "/spec/replicas", 3}}}};
  auto r = (*f)->apply(w);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(
            "override for member b: Deployment/demo/nope (apps/v1) is not one of the workload's objects") !=
        std::string::npos);
  CHECK(writes(t.ca) == 0);
  CHECK(writes(t.cb) == 0);
  w.per_member["b"] = {{"apps/v1", "Deployment", "demo", "web", {{"replace", "/spec/nothing", 3}}}};
  auto bad_path = (*f)->apply(w);
  REQUIRE_FALSE(bad_path.ok());
  CHECK(bad_path.error().message.find(
            "b: override of Deployment/demo/web: replace /spec/nothing: the path does not exist") !=
        std::string::npos);
  CHECK(writes(t.ca) == 0);
}
