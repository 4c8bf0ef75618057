// Cluster API on a management cluster, the machine-free parts: the real release components processed as
// clusterctl processes them (variables, labels, the one Namespace), the inventory objects, and the tree of a
// workload cluster's objects with the failing conditions.
#include <kurator/providers/capi.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>
#include <map>

#include "support/test_env.hpp"

using namespace kurator;
namespace capi = kurator::providers::capi;
using json = nlohmann::json;

namespace {

std::optional<std::string> read_fixture(const std::string& rel) {
  auto dir = test::fixtures_dir();
  if (dir.empty()) return std::nullopt;
  auto text = fs::read_file(dir / rel);
  if (!text) return std::nullopt;
  return *text;
}

envsubst::Lookup lookup_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

json cond(const std::string& type, const std::string& status, const std::string& reason = "",
          const std::string& message = "") {
  return {{"type", type}, {"status", status}, {"reason", reason}, {"message", message}};
}

json obj(const std::string& kind, const std::string& name, json status, json extra = json::object()) {
  json o = {{"kind", kind}, {"metadata", {{"name", name}, {"generation", 1}}}, {"status", std::move(status)}};
  o.update(extra);
  return o;
}

}  // namespace

TEST_CASE("capi providers: the pinned releases of clusterctl init --infrastructure aws", "[providers][capi]") {
  const auto& p = capi::aws_providers();
  REQUIRE(p.size() == 4);
  CHECK(p[0].inventory_name == "cluster-api");
  CHECK(p[0].namespace_ == "capi-system");
  CHECK(p[1].inventory_name == "bootstrap-kubeadm");
  CHECK(p[2].inventory_name == "control-plane-kubeadm");
  CHECK(p[3].inventory_name == "infrastructure-aws");
  CHECK(p[3].version == "v2.11.1");
  CHECK(capi::to_string(p[3].type) == "InfrastructureProvider");
  auto inv = capi::inventory_object(p[3]);
  CHECK(inv["apiVersion"] == "clusterctl.cluster.x-k8s.io/v1alpha3");
  CHECK(inv["kind"] == "Provider");
  CHECK(inv["metadata"]["name"] == "infrastructure-aws");
  CHECK(inv["metadata"]["namespace"] == "capa-system");
  CHECK(inv["providerName"] == "aws");
  CHECK(inv["type"] == "InfrastructureProvider");
  CHECK(inv["version"] == "v2.11.1");
  CHECK(inv["metadata"]["labels"]["clusterctl.cluster.x-k8s.io/core"] == "inventory");
  auto crd = capi::inventory_crd();
  REQUIRE(crd.ok());
  CHECK((*crd)["metadata"]["name"] == "providers.clusterctl.cluster.x-k8s.io");
  CHECK((*crd)["spec"]["versions"][0]["name"] == "v1alpha3");
}

TEST_CASE("capi providers: CAPA's release components with the credentials variable", "[providers][capi]") {
  auto text = read_fixture("cluster-api-provider-aws-v2.11.1/release/infrastructure-components.yaml");
  if (!text) {
    test::skip("fixtures cluster-api-provider-aws-v2.11.1/release missing");
    WARN("SKIPPED: fixtures missing");
    return;
  }
  const auto& capa = capi::aws_providers()[3];
  SECTION("a missing credentials variable is one error naming it, and nothing else") {
    auto r = capi::provider_objects(capa, *text, "infrastructure-components.yaml", lookup_of({}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message ==
          "infrastructure-components.yaml: value for variables [AWS_B64ENCODED_CREDENTIALS] is not set");
  }
  SECTION("with it: labels on every object, the Secret carries it, the IAM role annotation is absent") {
    auto r = capi::provider_objects(capa, *text, "infrastructure-components.yaml",
                                    lookup_of({{"AWS_B64ENCODED_CREDENTIALS", "c2VjcmV0"}}));
    REQUIRE(r.ok());
    int crds = 0, deployments = 0, namespaces = 0;
    for (const auto& o : *r) {
      CHECK(o["metadata"]["labels"]["clusterctl.cluster.x-k8s.io"] == "");
      CHECK(o["metadata"]["labels"]["cluster.x-k8s.io/provider"] == "infrastructure-aws");
      auto kind = o.value("kind", "");
      crds += kind == "CustomResourceDefinition";
      deployments += kind == "Deployment";
      namespaces += kind == "Namespace";
      if (kind == "Secret" && o["metadata"]["name"] == "capa-manager-bootstrap-credentials")
        CHECK(o["data"]["credentials"] == "c2VjcmV0");
      if (kind == "ServiceAccount" && o["metadata"]["name"] == "capa-controller-manager") {
        auto ann = o["metadata"].value("annotations", json());
        CHECK((ann.is_null() || ann.empty()));
      }
    }
    CHECK(crds == 23);
    CHECK(deployments == 1);
    CHECK(namespaces == 1);
  }
}

TEST_CASE("capi providers: core, bootstrap and control plane components take their defaults", "[providers][capi]") {
  const std::pair<int, std::string> files[] = {{0, "cluster-api-v1.14.0/release/core-components.yaml"},
                                               {1, "cluster-api-v1.14.0/release/bootstrap-components.yaml"},
                                               {2, "cluster-api-v1.14.0/release/control-plane-components.yaml"}};
  for (const auto& [i, rel] : files) {
    auto text = read_fixture(rel);
    if (!text) {
      test::skip("fixture " + rel + " missing");
      WARN("SKIPPED: fixtures missing");
      return;
    }
    const auto& p = capi::aws_providers()[i];
    auto r = capi::provider_objects(p, *text, rel, lookup_of({}));
    REQUIRE(r.ok());
    std::string dump = yaml::dump_all(*r);
    CHECK(dump.find("${") == std::string::npos);
    int deployments = 0;
    for (const auto& o : *r) {
      deployments += o.value("kind", "") == "Deployment";
      if (o.value("kind", "") == "Deployment") {
        CHECK(o["metadata"]["namespace"] == p.namespace_);
        // core: --feature-gates=MachinePool=true,ClusterTopology=false,... from the defaults
        auto args = o["spec"]["template"]["spec"]["containers"][0].value("args", json::array()).dump();
        if (i == 0) CHECK(args.find("ClusterTopology=false") != std::string::npos);
        if (i == 1) CHECK(args.find("--bootstrap-token-ttl=15m") != std::string::npos);
      }
    }
    CHECK(deployments == 1);
  }
}

TEST_CASE("capi providers: a components file without its Namespace is refused", "[providers][capi][bad-input]") {
  auto r = capi::provider_objects(capi::aws_providers()[0],
                                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: capi-system}\n",
                                  "core-components.yaml", lookup_of({}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "core-components.yaml: the components have no Namespace capi-system");
  auto bad = capi::provider_objects(capi::aws_providers()[0], "kind: [", "core-components.yaml", lookup_of({}));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.rfind("core-components.yaml", 0) == 0);
}

TEST_CASE("capi providers: cert-manager's manifest gets clusterctl's label", "[providers][capi]") {
  auto text = read_fixture("cert-manager-v1.21.1/release/cert-manager.yaml");
  if (!text) {
    test::skip("fixture cert-manager-v1.21.1/release missing");
    WARN("SKIPPED: fixtures missing");
    return;
  }
  auto r = capi::cert_manager_objects(*text, "cert-manager.yaml");
  REQUIRE(r.ok());
  int deployments = 0;
  for (const auto& o : *r) {
    CHECK(o["metadata"]["labels"]["clusterctl.cluster.x-k8s.io/core"] == "cert-manager");
    deployments += o.value("kind", "") == "Deployment";
  }
  CHECK(deployments == 3);
}

TEST_CASE("capi tree: clusterctl describe's rows with the failing condition", "[providers][capi]") {
  capi::ClusterObjects objs;
  objs.cluster = obj("Cluster", "demo",
                     {{"phase", "Provisioned"},
                      {"conditions", json::array({cond("Available", "False", "NotAvailable",
                                                       "* WorkersAvailable: 0 of 1 ready")})}},
                     {{"spec", {{"controlPlaneRef", {{"kind", "KubeadmControlPlane"}, {"name", "demo-control-plane"}}}}}});
  objs.infrastructure = obj("AWSCluster", "demo", {{"ready", true}});
  objs.control_plane = obj("KubeadmControlPlane", "demo-control-plane",
                           {{"readyReplicas", 1}, {"conditions", json::array({cond("Available", "True")})}},
                           {{"spec", {{"replicas", 1}}}});
  objs.machine_deployments.push_back(obj("MachineDeployment", "demo-md-0",
                                         {{"readyReplicas", 0},
                                          {"conditions", json::array({cond("Available", "False", "NotAvailable",
                                                                           "0 available replicas")})}},
                                         {{"spec", {{"replicas", 1}}}}));
  json cp_machine = obj("Machine", "demo-control-plane-abcde",
                        {{"phase", "Running"}, {"conditions", json::array({cond("Ready", "True")})}});
  cp_machine["metadata"]["labels"] = {{"cluster.x-k8s.io/control-plane", ""}};
  json worker = obj("Machine", "demo-md-0-xyz-12345",
                    {{"phase", "Provisioning"},
                     {"conditions", json::array({cond("Ready", "False", "NotReady",
                                                      "* InfrastructureReady: AWSMachine is not ready\nyet")})}});
  worker["metadata"]["labels"] = {{"cluster.x-k8s.io/deployment-name", "demo-md-0"}};
  objs.machines = {cp_machine, worker};

  auto rows = capi::tree(objs);
  REQUIRE(rows.size() == 7);
  CHECK(rows[0].name == "Cluster/demo");
  CHECK(rows[0].status == "Available=False (Provisioned)");
  CHECK(rows[1].name == "├─ClusterInfrastructure - AWSCluster/demo");
  CHECK(rows[1].status == "Ready=True");
  CHECK(rows[2].name == "├─ControlPlane - KubeadmControlPlane/demo-control-plane");
  CHECK(rows[2].replicas == "1/1");
  CHECK(rows[3].name == "│ └─Machine/demo-control-plane-abcde");
  CHECK(rows[4].name == "└─Workers");
  CHECK(rows[5].name == "  └─MachineDeployment/demo-md-0");
  CHECK(rows[5].replicas == "0/1");
  CHECK(rows[6].name == "    └─Machine/demo-md-0-xyz-12345");
  CHECK(rows[6].message == "* InfrastructureReady: AWSMachine is not ready yet");
  auto text = capi::render_tree(rows);
  CHECK(text.rfind("NAME", 0) == 0);
  CHECK(text.find("    └─Machine/demo-md-0-xyz-12345") != std::string::npos);
  CHECK(capi::not_ready_summary(objs) ==
        "Cluster/demo: Available=False (Provisioned) NotAvailable: * WorkersAvailable: 0 of 1 ready; "
        "MachineDeployment/demo-md-0: Available=False NotAvailable: 0 available replicas; "
        "Machine/demo-md-0-xyz-12345: Ready=False (Provisioning) NotReady: * InfrastructureReady: AWSMachine is "
        "not ready yet");
  CHECK_FALSE(capi::cluster_available(objs.cluster));
}

TEST_CASE("capi tree: Available counts only for the current generation", "[providers][capi]") {
  json c = obj("Cluster", "demo", {{"conditions", json::array({cond("Available", "True")})}});
  c["status"]["conditions"][0]["observedGeneration"] = 1;
  CHECK(capi::cluster_available(c));
  c["metadata"]["generation"] = 2;
  CHECK_FALSE(capi::cluster_available(c));
  CHECK_FALSE(capi::cluster_available(json()));
  capi::ClusterObjects none;
  CHECK(capi::tree(none).empty());
  CHECK(capi::not_ready_summary(none) == "the Cluster does not exist");
}
