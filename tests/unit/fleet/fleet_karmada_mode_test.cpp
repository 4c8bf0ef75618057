// Karmada mode against in-memory apiservers: a stand-in Karmada apiserver holding Cluster objects and
// their Secrets (as `kurator join karmada` leaves them), members reached through them. What propagation
// really does is proven against a real local Karmada in tests/e2e/fleet_volcano_test.cpp.
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include "support/py_server.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

stdfs::path script() {
  return stdfs::path(KURATOR_SOURCE_DIR) / "tests/data/fleet/memory_apiserver.py";
}

json cluster(const std::string& name, const std::string& endpoint) {
  return {
      {"apiVersion", "cluster.karmada.io/v1alpha1"},
      {"kind", "Cluster"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"apiEndpoint", endpoint},
        {"syncMode", "Push"},
        {"id", "id-" + name},
        {"secretRef", {{"namespace", "karmada-cluster"}, {"name", name}}}}},
      {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}, {"reason", "ClusterReady"}}}}}}};
}
json secret(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", "karmada-cluster"}}},
          {"data", {{"token", base64::encode("token-" + name)}, {"caBundle", ""}}}};
}

stdfs::path write_seed(const stdfs::path& dir, const std::string& m1, const std::string& m2) {
  auto p = dir / "seed.json";
  json objs = {cluster("m1", m1), secret("m1"), cluster("m2", m2), secret("m2")};
  REQUIRE(fs::write_file_atomic(p, objs.dump()).ok());
  return p;
}

stdfs::path write_karmada_kubeconfig(const stdfs::path& dir, const std::string& server) {
  auto p = dir / "karmada-apiserver.config";
  json doc = {{"apiVersion", "v1"},
              {"kind", "Config"},
              {"clusters", {{{"name", "karmada"}, {"cluster", {{"server", server}}}}}},
              {"contexts", {{{"name", "karmada"}, {"context", {{"cluster", "karmada"}}}}}},
              {"current-context", "karmada"}};
  REQUIRE(fs::write_private_file(p, doc.dump()).ok());
  return p;
}

struct KarmadaFixture {
  test::TempDir dir;
  test::PyServer m1{script()}, m2{script()};
  stdfs::path seed = write_seed(dir.path(), m1.url(), m2.url());
  test::PyServer karmada{script(), {"--seed", seed.string()}};
  stdfs::path kubeconfig = write_karmada_kubeconfig(dir.path(), karmada.url());

  fleet::Selection selection(std::vector<std::string> clusters = {}) const {
    fleet::Selection sel;
    sel.mode = fleet::Mode::karmada;
    sel.karmada_kubeconfig = kubeconfig;
    sel.clusters = std::move(clusters);
    sel.connect_timeout = std::chrono::seconds(5);
    return sel;
  }
};

kube::Client client(const std::string& url) {
  kubeconfig::RestConfig rc;
  rc.server = url;
  return kube::Client(rc);
}
json stored(const std::string& url) {
  auto c = client(url);
  auto r = c.request("GET", "/_objects");
  REQUIRE(r.ok());
  return json::parse(r->body);
}
size_t writes(const std::string& url) {
  auto c = client(url);
  auto r = c.request("GET", "/_log");
  REQUIRE(r.ok());
  size_t n = 0;
  for (const auto& line : json::parse(r->body))
    if (line.get<std::string>().rfind("GET ", 0) != 0) ++n;
  return n;
}

fleet::Workload workload() {
  fleet::Workload w;
  w.component = "demo";
  w.objects = {
      json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"}})"),
      json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
                      "metadata":{"name":"things.demo.io"},"spec":{"group":"demo.io","scope":"Namespaced",
                      "names":{"kind":"Thing","plural":"things"}}})"),
      json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"demo"},
                      "spec":{"replicas":1}})"),
  };
  w.per_member["m2"] = {{"apps/v1", "Deployment", "demo", "web", {{"replace", "/spec/replicas", 2}}}};
  return w;
}

}  // namespace

TEST_CASE("fleet karmada: members are the joined Clusters, reached through their endpoint and secret",
          "[unit][fleet][karmada]") {
  KarmadaFixture k;
  auto f = fleet::open(k.selection());
  REQUIRE(f.ok());
  CHECK((*f)->mode() == fleet::Mode::karmada);
  CHECK((*f)->control_plane() == k.karmada.url());
  REQUIRE((*f)->members().size() == 2);
  CHECK((*f)->members()[0].name == "m1");
  CHECK((*f)->members()[0].config.server == k.m1.url());
  CHECK((*f)->members()[1].config.token == "token-m2");

  auto one = fleet::open(k.selection({"m2"}));
  REQUIRE(one.ok());
  REQUIRE((*one)->members().size() == 1);
  CHECK((*one)->members()[0].name == "m2");
}

TEST_CASE("fleet karmada: unknown member, and Karmada not installed, are one clear error each",
          "[unit][fleet][karmada]") {
  KarmadaFixture k;
  auto r = fleet::open(k.selection({"m1", "m9"}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "--clusters: \"m9\" is not a member cluster of Karmada at " + k.karmada.url() + "; joined: m1, m2");
  CHECK(r.error().hint.find("kurator join karmada m9") != std::string::npos);

  auto sel = k.selection();
  sel.karmada_kubeconfig = k.dir.path() / "nowhere" / "karmada-apiserver.config";
  auto missing = fleet::open(sel);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("Karmada is not installed") != std::string::npos);
  CHECK(missing.error().message.find(sel.karmada_kubeconfig.string()) != std::string::npos);
  CHECK(missing.error().hint.find("kurator install karmada") != std::string::npos);
}

TEST_CASE("fleet karmada: the plan and the apply go to the Karmada apiserver only, with the policies",
          "[unit][fleet][karmada][plan]") {
  KarmadaFixture k;
  auto f = fleet::open(k.selection());
  REQUIRE(f.ok());
  auto plan = (*f)->plan(workload());
  REQUIRE(plan.ok());
  REQUIRE(plan->size() == 1);
  CHECK((*plan)[0].target == "karmada");
  CHECK((*plan)[0].server == k.karmada.url());
  std::vector<std::string> kinds;
  for (const auto& o : (*plan)[0].objects) kinds.push_back(o["kind"]);
  CHECK(kinds == std::vector<std::string>{"Namespace", "CustomResourceDefinition", "Deployment",
                                          "ClusterPropagationPolicy", "PropagationPolicy", "OverridePolicy"});
  CHECK(writes(k.karmada.url()) == 0);

  auto applied = (*f)->apply(workload());
  INFO((applied.ok() ? std::string() : applied.error().message));
  REQUIRE(applied.ok());
  REQUIRE(applied->steps.size() == 1);
  CHECK(applied->steps[0].target == "karmada");
  CHECK(applied->steps[0].changed.size() == 6);
  CHECK(stored(k.karmada.url()).size() == 4 + 6);  // the seed and what was applied
  CHECK(writes(k.m1.url()) == 0);                  // Karmada propagates; kurator does not write to members
  CHECK(writes(k.m2.url()) == 0);
  auto again = (*f)->apply(workload());
  REQUIRE(again.ok());
  CHECK(again->unchanged());

  // Removal deletes templates and policies on Karmada (members are only read, to see them gone).
  auto removed = (*f)->remove(workload(), std::chrono::seconds(10));
  REQUIRE(removed.ok());
  CHECK(removed->steps[0].deleted == 6);
  CHECK(stored(k.karmada.url()).size() == 4);
  CHECK(writes(k.m1.url()) == 0);
}
