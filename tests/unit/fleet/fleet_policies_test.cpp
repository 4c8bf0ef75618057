// Karmada mode's policies rendered from a workload, compared exactly; the dry-run plan's text.
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

using namespace kurator;
using json = nlohmann::json;

namespace {

fleet::Workload sample() {
  fleet::Workload w;
  w.component = "demo";
  w.objects = {
      json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo-system"}})"),
      json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
                      "metadata":{"name":"things.demo.io"}})"),
      json::parse(
          R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa","namespace":"demo-system"}})"),
      json::parse(
          R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"demo:role"}})"),
      json::parse(
          R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"demo-system"}})"),
      json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"other"}})"),
  };
  w.per_member["m1"] = {{"apps/v1", "Deployment", "demo-system", "web", {{"replace", "/spec/replicas", 2}}},
                        {"rbac.authorization.k8s.io/v1",
                         "ClusterRole",
                         "",
                         "demo:role",
                         {{"remove", "/metadata/labels/x", nullptr}}}};
  w.per_member["m2"] = {{"apps/v1",
                         "Deployment",
                         "demo-system",
                         "web",
                         {{"add", "/metadata/labels/cluster", "m2"}, {"replace", "/spec/replicas", 3}}}};
  w.per_member["not-chosen"] = {
      {"apps/v1", "Deployment", "demo-system", "web", {{"replace", "/spec/replicas", 9}}}};
  return w;
}

const json kLabels = {{"app.kubernetes.io/managed-by", "kurator"}, {"kurator.dev/component", "demo"}};

}  // namespace

TEST_CASE(
    "karmada_policies: one ClusterPropagationPolicy, a PropagationPolicy per namespace, overrides per object",
    "[unit][fleet][policies]") {
  auto policies = fleet::karmada_policies(sample(), {"m1", "m2"});
  json placement = {{"clusterAffinity", {{"clusterNames", {"m1", "m2"}}}}};
  std::vector<json> expected = {
      {{"apiVersion", "policy.karmada.io/v1alpha1"},
       {"kind", "ClusterPropagationPolicy"},
       {"metadata", {{"name", "kurator-demo"}, {"labels", kLabels}}},
       {"spec",
        {{"resourceSelectors",
          {{{"apiVersion", "apiextensions.k8s.io/v1"},
            {"kind", "CustomResourceDefinition"},
            {"name", "things.demo.io"}},
           {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRole"}, {"name", "demo:role"}}}},
         {"placement", placement},
         {"conflictResolution", "Overwrite"}}}},
      {{"apiVersion", "policy.karmada.io/v1alpha1"},
       {"kind", "PropagationPolicy"},
       {"metadata", {{"name", "kurator-demo"}, {"labels", kLabels}, {"namespace", "demo-system"}}},
       {"spec",
        {{"resourceSelectors",
          {{{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"name", "sa"}},
           {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}}},
         {"placement", placement},
         {"conflictResolution", "Overwrite"}}}},
      {{"apiVersion", "policy.karmada.io/v1alpha1"},
       {"kind", "PropagationPolicy"},
       {"metadata", {{"name", "kurator-demo"}, {"labels", kLabels}, {"namespace", "other"}}},
       {"spec",
        {{"resourceSelectors", {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "cfg"}}}},
         {"placement", placement},
         {"conflictResolution", "Overwrite"}}}},
      {{"apiVersion", "policy.karmada.io/v1alpha1"},
       {"kind", "OverridePolicy"},
       {"metadata",
        {{"name", "kurator-demo-deployment-web"}, {"labels", kLabels}, {"namespace", "demo-system"}}},
       {"spec",
        {{"resourceSelectors", {{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}}},
         {"overrideRules",
          {{{"targetCluster", {{"clusterNames", {"m1"}}}},
            {"overriders",
             {{"plaintext", {{{"path", "/spec/replicas"}, {"operator", "replace"}, {"value", 2}}}}}}},
           {{"targetCluster", {{"clusterNames", {"m2"}}}},
            {"overriders",
             {{"plaintext",
               {{{"path", "/metadata/labels/cluster"}, {"operator", "add"}, {"value", "m2"}},
                {{"path", "/spec/replicas"}, {"operator", "replace"}, {"value", 3}}}}}}}}}}}},
      {{"apiVersion", "policy.karmada.io/v1alpha1"},
       {"kind", "ClusterOverridePolicy"},
       {"metadata", {{"name", "kurator-demo-clusterrole-demo-role"}, {"labels", kLabels}}},
       {"spec",
        {{"resourceSelectors",
          {{{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRole"}, {"name", "demo:role"}}}},
         {"overrideRules",
          {{{"targetCluster", {{"clusterNames", {"m1"}}}},
            {"overriders", {{"plaintext", {{{"path", "/metadata/labels/x"}, {"operator", "remove"}}}}}}}}}}}},
  };
  REQUIRE(policies.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO(yaml::dump(policies[i]));
    CHECK(policies[i] == expected[i]);
  }
}

TEST_CASE("karmada_policies: without overrides only propagation policies, members as given",
          "[unit][fleet][policies]") {
  auto w = sample();
  w.per_member.clear();
  auto policies = fleet::karmada_policies(w, {"m2"});
  REQUIRE(policies.size() == 3);
  for (const auto& p : policies) {
    CHECK(p["spec"]["placement"]["clusterAffinity"]["clusterNames"] == json({"m2"}));
    for (const auto& s : p["spec"]["resourceSelectors"]) CHECK(s["kind"] != "Namespace");
  }
}

TEST_CASE("override_policy_name: DNS-1123, at most 63 characters, stable", "[unit][fleet][policies]") {
  CHECK(fleet::override_policy_name("volcano", "ConfigMap", "volcano-scheduler-configmap") ==
        "kurator-volcano-configmap-volcano-scheduler-configmap");
  CHECK(fleet::override_policy_name("x", "ClusterRole", "system:Foo.bar") ==
        "kurator-x-clusterrole-system-foo-bar");
  std::string long_name(80, 'a');
  auto n = fleet::override_policy_name("volcano", "Deployment", long_name);
  CHECK(n.size() <= 63);
  CHECK(n == fleet::override_policy_name("volcano", "Deployment", long_name));
  CHECK(n != fleet::override_policy_name("volcano", "Deployment", long_name + "b"));
  CHECK(n.rfind("kurator-volcano-deployment-aaa", 0) == 0);
}

TEST_CASE("render_plan: a comment line per target naming its apiserver, then its objects",
          "[unit][fleet][plan]") {
  std::vector<fleet::PlannedStep> plan = {
      {"m1",
       "https://127.0.0.1:1",
       {json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}})")}},
      {"m2", "https://127.0.0.1:2", {}}};
  CHECK(fleet::render_plan(plan) ==
        "# m1 (https://127.0.0.1:1): 1 object\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n"
        "# m2 (https://127.0.0.1:2): 0 objects\n");
}

TEST_CASE("render_plan: Secret data and stringData values are redacted, their keys kept",
          "[unit][fleet][plan]") {
  auto secret = json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"n"},
    "data":{"thanos.yaml":"c2VjcmV0LWtleQ=="},"stringData":{"deploy-key":"px-dep-top-secret"}})");
  std::vector<fleet::PlannedStep> plan = {{"m1", "https://127.0.0.1:1", {secret}}};
  auto text = fleet::render_plan(plan);
  CHECK(text.find("c2VjcmV0LWtleQ==") == std::string::npos);
  CHECK(text.find("px-dep-top-secret") == std::string::npos);
  CHECK(text.find("thanos.yaml: <redacted>") != std::string::npos);
  CHECK(text.find("deploy-key: <redacted>") != std::string::npos);
  // Not a Secret: unchanged.
  auto cm = json::parse(R"({"kind":"ConfigMap","data":{"a":"b"}})");
  CHECK(kube::redact_secret(cm) == cm);
}
