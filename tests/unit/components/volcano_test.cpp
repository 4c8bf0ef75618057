// Volcano's object list from the pinned release YAML (the upstream fixture), through the artifact layer
// (loopback mirror), and its status entry's declarations.
#include <kurator/components/component.hpp>
#include <kurator/components/volcano.hpp>
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "support/mirror.hpp"
#include "support/test_env.hpp"

using namespace kurator;
namespace volcano = components::volcano;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

stdfs::path release_file() {
  auto f = test::fixtures_dir();
  return f.empty() ? f : f / "volcano-v1.15.1" / "volcano-development.yaml";
}

std::map<std::string, int> count_kinds(const std::vector<json>& objs) {
  std::map<std::string, int> n;
  for (const auto& o : objs) ++n[o["kind"].get<std::string>()];
  return n;
}

}  // namespace

TEST_CASE("volcano: the release YAML's objects, labelled as kurator's and otherwise unchanged",
          "[unit][components][volcano]") {
  auto file = release_file();
  if (file.empty() || !stdfs::exists(file)) {
    test::skip("upstream fixture volcano-v1.15.1/volcano-development.yaml not found");
    return;
  }
  auto text = fs::read_file(file);
  REQUIRE(text.ok());
  auto objs = volcano::objects_from(*text, "v1.15.1", file.string());
  REQUIRE(objs.ok());
  CHECK(objs->size() == 43);
  CHECK(count_kinds(*objs) == std::map<std::string, int>{{"ClusterRole", 3},
                                                         {"ClusterRoleBinding", 3},
                                                         {"ConfigMap", 4},
                                                         {"CustomResourceDefinition", 11},
                                                         {"Deployment", 3},
                                                         {"Job", 1},
                                                         {"MutatingWebhookConfiguration", 2},
                                                         {"Namespace", 2},
                                                         {"Role", 1},
                                                         {"RoleBinding", 1},
                                                         {"Service", 3},
                                                         {"ServiceAccount", 4},
                                                         {"ValidatingWebhookConfiguration", 5}});
  std::vector<std::string> deployments, namespaces;
  for (const auto& o : *objs) {
    INFO(kube::describe(o));
    CHECK(o["metadata"]["labels"]["kurator.dev/component"] == "volcano");
    CHECK(o["metadata"]["labels"]["kurator.dev/version"] == "v1.15.1");
    CHECK(o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kurator");
    if (o["kind"] == "Deployment") deployments.push_back(o["metadata"]["name"]);
    if (o["kind"] == "Namespace") namespaces.push_back(o["metadata"]["name"]);
    // Namespaced objects name their namespace (the fleet's policies select by it).
    std::string k = o["kind"];
    bool cluster_scoped = k == "Namespace" || k == "CustomResourceDefinition" || k == "ClusterRole" ||
                          k == "ClusterRoleBinding" || k.find("WebhookConfiguration") != std::string::npos;
    CHECK(o["metadata"].contains("namespace") != cluster_scoped);
  }
  std::sort(deployments.begin(), deployments.end());
  CHECK(deployments == volcano::kDeployments);  // what `status` checks is what is installed
  CHECK(namespaces == std::vector<std::string>{"volcano-system", "volcano-monitoring"});

  // Only the labels were added: with them taken out, each object is the upstream one.
  auto upstream = yaml::parse_all(*text, "upstream");
  REQUIRE(upstream.ok());
  REQUIRE(upstream->size() == objs->size());
  for (size_t i = 0; i < objs->size(); ++i) {
    json o = (*objs)[i];
    for (const char* l : {"kurator.dev/component", "kurator.dev/version", "app.kubernetes.io/managed-by"})
      o["metadata"]["labels"].erase(l);
    json u = (*upstream)[i];
    if (!u["metadata"].contains("labels")) u["metadata"]["labels"] = json::object();
    CHECK(o == u);
  }
  CHECK(volcano::version_of(*objs) == "v1.15.1");
}

TEST_CASE("volcano: Karmada mode's policies select every object but the Namespaces",
          "[unit][components][volcano]") {
  auto file = release_file();
  if (file.empty() || !stdfs::exists(file)) {
    test::skip("upstream fixture volcano-v1.15.1/volcano-development.yaml not found");
    return;
  }
  auto objs = volcano::objects_from(*fs::read_file(file), "v1.15.1", file.string());
  REQUIRE(objs.ok());
  auto w = volcano::workload(*objs);
  CHECK(w.component == "volcano");
  auto policies = fleet::karmada_policies(w, {"m1", "m2"});
  REQUIRE(policies.size() == 2);
  CHECK(policies[0]["kind"] == "ClusterPropagationPolicy");
  CHECK(policies[0]["metadata"]["name"] == "kurator-volcano");
  CHECK(policies[0]["spec"]["resourceSelectors"].size() == 11 + 3 + 3 + 2 + 5);
  CHECK(policies[1]["kind"] == "PropagationPolicy");
  CHECK(policies[1]["metadata"]["namespace"] == "volcano-system");
  CHECK(policies[1]["spec"]["resourceSelectors"].size() == 17);
}

TEST_CASE("volcano: the release comes through the artifact layer (loopback mirror, sha256-verified)",
          "[unit][components][volcano][mirror]") {
  test::FixtureMirror mirror({"volcano"});
  if (!mirror.ok()) return;
  test::TempDir home;
  auto c = artifacts::Catalog::builtin();
  REQUIRE(c.merge_file(mirror.catalog()).ok());
  artifacts::Options o;
  o.home = home.path();
  o.mirror = mirror.url();
  o.download.progress = false;
  artifacts::Store store(std::move(c), o);
  CHECK_FALSE(volcano::load_cached(store).has_value());
  auto objs = volcano::load(store);
  REQUIRE(objs.ok());
  CHECK(objs->size() == 43);
  CHECK(
      mirror.server()->count("GET /raw.githubusercontent.com/volcano-sh/volcano/refs/tags/v1.15.1/installer/"
                             "volcano-development.yaml") == 1);
  auto again = volcano::load_cached(store);
  REQUIRE(again.has_value());
  REQUIRE(again->ok());
  CHECK((*again)->size() == 43);
}

TEST_CASE("components: the registry names volcano, a member component", "[unit][components]") {
  const auto* v = components::find("volcano");
  REQUIRE(v);
  CHECK(v->scope == components::Scope::member);
  CHECK(v->health);
  CHECK(components::find("nope") == nullptr);
}
