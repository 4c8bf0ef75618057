#include <kurator/core/kube.hpp>
#include <kurator/core/manifests.hpp>

#include <catch2/catch.hpp>
#include <sstream>

using namespace kurator;
using json = nlohmann::json;

namespace {
json obj(const std::string& av, const std::string& kind, const std::string& name) {
  return {{"apiVersion", av}, {"kind", kind}, {"metadata", {{"name", name}}}};
}
std::vector<std::string> kinds(const std::vector<json>& level) {
  std::vector<std::string> out;
  for (const auto& o : level) out.push_back(o["kind"]);
  return out;
}
}  // namespace

TEST_CASE("apply order (Helm's): namespaces, config, CRDs, RBAC, bindings, services, workloads, custom resources, "
          "webhooks",
          "[apply]") {
  std::vector<json> in = {
      obj("example.com/v1", "Widget", "w"),
      obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "vw"),
      obj("apps/v1", "Deployment", "d"),
      obj("v1", "Service", "s"),
      obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "crb"),
      obj("v1", "ConfigMap", "cm"),
      obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
      obj("v1", "Namespace", "ns"),
      obj("batch/v1", "Job", "j"),
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", "cr"),
      obj("v1", "ServiceAccount", "sa"),
  };
  auto levels = kube::dependency_levels(in);
  REQUIRE(levels.size() == 9);
  CHECK(kinds(levels[0]) == std::vector<std::string>{"Namespace"});
  CHECK(kinds(levels[1]) == std::vector<std::string>{"ConfigMap", "ServiceAccount"});  // input order kept
  CHECK(kinds(levels[2]) == std::vector<std::string>{"CustomResourceDefinition"});
  CHECK(kinds(levels[3]) == std::vector<std::string>{"ClusterRole"});
  CHECK(kinds(levels[4]) == std::vector<std::string>{"ClusterRoleBinding"});
  CHECK(kinds(levels[5]) == std::vector<std::string>{"Service"});
  CHECK(kinds(levels[6]) == std::vector<std::string>{"Deployment", "Job"});
  CHECK(kinds(levels[7]) == std::vector<std::string>{"Widget"});
  CHECK(kinds(levels[8]) == std::vector<std::string>{"ValidatingWebhookConfiguration"});
}

TEST_CASE("describe names kind, namespace and name", "[apply]") {
  json o = obj("apps/v1", "Deployment", "web");
  CHECK(kube::describe(o) == "Deployment/web");
  o["metadata"]["namespace"] = "prod";
  CHECK(kube::describe(o) == "Deployment/prod/web");
}

TEST_CASE("GroupVersionKind splits apiVersion", "[apply]") {
  auto g = kube::GroupVersionKind::from_api_version("apps/v1", "Deployment");
  CHECK(g.group == "apps");
  CHECK(g.version == "v1");
  CHECK(g.api_version() == "apps/v1");
  auto core = kube::GroupVersionKind::from_api_version("v1", "Pod");
  CHECK(core.group.empty());
  CHECK(core.api_version() == "v1");
}

TEST_CASE("validate_objects names the document and the missing field", "[apply]") {
  CHECK(kube::validate_objects({obj("v1", "ConfigMap", "a")}, "f.yaml").ok());
  auto no_kind = kube::validate_objects({obj("v1", "ConfigMap", "a"), json{{"apiVersion", "v1"}}}, "f.yaml");
  REQUIRE_FALSE(no_kind.ok());
  CHECK(no_kind.error().message == "f.yaml: document 2: kind is missing");
  auto no_name = kube::validate_objects({json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}}}, "f.yaml");
  REQUIRE_FALSE(no_name.ok());
  CHECK(no_name.error().message == "f.yaml: document 1 (ConfigMap): metadata.name is missing");
  auto scalar = kube::validate_objects({json("just text")}, "f.yaml");
  REQUIRE_FALSE(scalar.ok());
  CHECK(scalar.error().message == "f.yaml: document 1: not a Kubernetes object (expected a mapping)");
}

TEST_CASE("read_manifests reads stdin and reports empty input", "[apply]") {
  std::istringstream in("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n");
  auto objs = kube::read_manifests({"-"}, in);
  REQUIRE(objs.ok());
  REQUIRE(objs->size() == 2);
  CHECK((*objs)[1]["kind"] == "Secret");
  std::istringstream empty("# nothing\n");
  auto none = kube::read_manifests({"-"}, empty);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message == "no objects found in -");
}
