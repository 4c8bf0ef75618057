// The Karmada-side object list built from the upstream CRDs fixture (karmada-v1.18.2/crds) and
// manifests/karmada/: hooks, conversion patches, the aggregated API, namespace and RBAC.
#include <kurator/components/karmada.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>
#include <fstream>

#include "support/test_env.hpp"

namespace km = kurator::components::karmada;
namespace stdfs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kCa = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

stdfs::path crds_fixture() {
  auto f = kurator::test::fixtures_dir();
  if (f.empty()) return {};
  auto p = f / "karmada-v1.18.2" / "crds";
  return stdfs::is_directory(p) ? p : stdfs::path();
}

km::ObjectsOptions local_options(const stdfs::path& crds) {
  km::ObjectsOptions o;
  o.ca_pem = kCa;
  o.webhook_base_url = "https://127.0.0.1:18443";
  o.aggregated_apiserver_host = "127.0.0.1";
  o.aggregated_apiserver_port = 17443;
  o.crds_dir = crds;
  o.apiserver_url = "https://127.0.0.1:16443";
  return o;
}

std::vector<const json*> of_kind(const std::vector<json>& objs, const std::string& kind) {
  std::vector<const json*> out;
  for (const auto& o : objs)
    if (o.value("kind", "") == kind) out.push_back(&o);
  return out;
}

const json* named(const std::vector<json>& objs, const std::string& kind, const std::string& name) {
  for (const auto& o : objs)
    if (o.value("kind", "") == kind && o["metadata"].value("name", "") == name) return &o;
  return nullptr;
}

}  // namespace

TEST_CASE("karmada objects: 21 webhooks by url with the CA, local and in cluster", "[components][karmada]") {
  auto crds = crds_fixture();
  if (crds.empty()) {
    kurator::test::skip("upstream fixture karmada-v1.18.2/crds not found: Karmada object list not checked");
    return;
  }
  auto objs = km::objects(local_options(crds));
  REQUIRE(objs.ok());
  auto mutating = named(*objs, "MutatingWebhookConfiguration", "mutating-config");
  auto validating = named(*objs, "ValidatingWebhookConfiguration", "validating-config");
  REQUIRE(mutating);
  REQUIRE(validating);
  CHECK((*mutating)["webhooks"].size() == 8);
  CHECK((*validating)["webhooks"].size() == 13);
  const std::string ca_b64 = kurator::base64::encode(kCa);
  for (const json* cfg : {mutating, validating}) {
    for (const auto& h : (*cfg)["webhooks"]) {
      INFO(h.value("name", ""));
      const auto& cc = h["clientConfig"];
      CHECK_FALSE(cc.contains("service"));
      CHECK(cc.value("caBundle", "") == ca_b64);
      std::string url = cc.value("url", "");
      CHECK(url.rfind("https://127.0.0.1:18443/", 0) == 0);
      CHECK(url.find("karmada-webhook") == std::string::npos);
      CHECK(h.value("failurePolicy", "") == "Fail");
    }
  }
  CHECK((*mutating)["webhooks"][0].value("name", "") == "propagationpolicy.karmada.io");
  CHECK((*mutating)["webhooks"][0]["clientConfig"].value("url", "") ==
        "https://127.0.0.1:18443/mutate-propagationpolicy");
  // The deletion-protection hook keeps its object selector.
  bool found = false;
  for (const auto& h : (*validating)["webhooks"])
    if (h.value("name", "") == "resourcedeletionprotection.karmada.io") {
      found = true;
      CHECK(h["clientConfig"].value("url", "") ==
            "https://127.0.0.1:18443/validate-resourcedeletionprotection");
      CHECK(h["objectSelector"]["matchExpressions"][0].value("key", "") ==
            "resourcetemplate.karmada.io/deletion-protected");
    }
  CHECK(found);

  auto in_cluster = km::in_cluster_options();
  in_cluster.ca_pem = kCa;
  in_cluster.crds_dir = crds;
  auto ic = km::objects(in_cluster);
  REQUIRE(ic.ok());
  auto m2 = named(*ic, "MutatingWebhookConfiguration", "mutating-config");
  REQUIRE(m2);
  CHECK((*m2)["webhooks"][0]["clientConfig"].value("url", "") ==
        "https://karmada-webhook.karmada-system.svc:443/mutate-propagationpolicy");
}

TEST_CASE("karmada objects: CRDs from bases with the conversion patches filled in", "[components][karmada]") {
  auto crds = crds_fixture();
  if (crds.empty()) {
    kurator::test::skip("upstream fixture karmada-v1.18.2/crds not found: Karmada CRDs not checked");
    return;
  }
  auto objs = km::objects(local_options(crds));
  REQUIRE(objs.ok());
  auto crd_list = of_kind(*objs, "CustomResourceDefinition");
  // One CRD per file under bases/ (each holds one).
  size_t files = 0;
  for (const auto& e : stdfs::recursive_directory_iterator(crds / "bases"))
    if (e.is_regular_file() && e.path().extension() == ".yaml") ++files;
  CHECK(crd_list.size() == files);
  CHECK(files >= 19);
  const std::string ca_b64 = kurator::base64::encode(kCa);
  for (const std::string name :
       {"resourcebindings.work.karmada.io", "clusterresourcebindings.work.karmada.io"}) {
    INFO(name);
    auto crd = named(*objs, "CustomResourceDefinition", name);
    REQUIRE(crd);
    const auto& conv = (*crd)["spec"]["conversion"];
    CHECK(conv.value("strategy", "") == "Webhook");
    CHECK(conv["webhook"]["clientConfig"].value("url", "") == "https://127.0.0.1:18443/convert");
    CHECK(conv["webhook"]["clientConfig"].value("caBundle", "") == ca_b64);
    CHECK_FALSE(conv["webhook"]["clientConfig"].contains("service"));
    CHECK(conv["webhook"]["conversionReviewVersions"] == json::array({"v1"}));
    // The rest of the CRD is the base's: versions kept.
    CHECK((*crd)["spec"]["versions"].size() >= 2);
    CHECK((*crd)["spec"].value("group", "") == "work.karmada.io");
  }
  // A CRD without a patch has no conversion webhook.
  auto pp = named(*objs, "CustomResourceDefinition", "propagationpolicies.policy.karmada.io");
  REQUIRE(pp);
  const bool pp_webhook =
      (*pp)["spec"].contains("conversion") && (*pp)["spec"]["conversion"].value("strategy", "") == "Webhook";
  CHECK_FALSE(pp_webhook);
  // Nothing left templated anywhere.
  CHECK(json(*objs).dump().find("{{") == std::string::npos);
}

TEST_CASE("karmada objects: ExternalName Service and APIService for the Cluster API",
          "[components][karmada]") {
  auto crds = crds_fixture();
  if (crds.empty()) {
    kurator::test::skip(
        "upstream fixture karmada-v1.18.2/crds not found: aggregated API objects not checked");
    return;
  }
  auto objs = km::objects(local_options(crds));
  REQUIRE(objs.ok());
  auto svc = named(*objs, "Service", "karmada-aggregated-apiserver");
  REQUIRE(svc);
  CHECK((*svc)["metadata"].value("namespace", "") == "karmada-system");
  CHECK((*svc)["spec"].value("type", "") == "ExternalName");
  CHECK((*svc)["spec"].value("externalName", "") == "127.0.0.1");
  auto api = named(*objs, "APIService", "v1alpha1.cluster.karmada.io");
  REQUIRE(api);
  const auto& spec = (*api)["spec"];
  CHECK(spec.value("group", "") == "cluster.karmada.io");
  CHECK(spec.value("version", "") == "v1alpha1");
  CHECK(spec.value("groupPriorityMinimum", 0) == 2000);
  CHECK(spec.value("versionPriority", 0) == 10);
  CHECK(spec["service"].value("name", "") == "karmada-aggregated-apiserver");
  CHECK(spec["service"].value("namespace", "") == "karmada-system");
  CHECK(spec["service"].value("port", 0) == 17443);
  CHECK(spec.value("caBundle", "") == kurator::base64::encode(kCa));
  CHECK_FALSE(spec.contains("insecureSkipTLSVerify"));

  auto ic_opts = km::in_cluster_options("kfleet");
  ic_opts.ca_pem = kCa;
  ic_opts.crds_dir = crds;
  auto ic = km::objects(ic_opts);
  REQUIRE(ic.ok());
  auto svc2 = named(*ic, "Service", "karmada-aggregated-apiserver");
  REQUIRE(svc2);
  CHECK((*svc2)["metadata"].value("namespace", "") == "kfleet");
  CHECK((*svc2)["spec"].value("externalName", "") == "karmada-aggregated-apiserver.kfleet.svc");
  auto api2 = named(*ic, "APIService", "v1alpha1.cluster.karmada.io");
  REQUIRE(api2);
  CHECK((*api2)["spec"]["service"].value("port", 0) == 443);
  CHECK((*api2)["spec"]["service"].value("namespace", "") == "kfleet");

  auto targets = km::wait_targets(*objs);
  size_t crd_count = of_kind(*objs, "CustomResourceDefinition").size();
  CHECK(targets.size() == crd_count + 1);
}

TEST_CASE("karmada objects: namespace, RBAC and cluster-info", "[components][karmada]") {
  auto crds = crds_fixture();
  if (crds.empty()) {
    kurator::test::skip("upstream fixture karmada-v1.18.2/crds not found: Karmada RBAC not checked");
    return;
  }
  auto objs = km::objects(local_options(crds));
  REQUIRE(objs.ok());
  auto ns = named(*objs, "Namespace", "karmada-system");
  REQUIRE(ns);
  CHECK((*ns)["metadata"]["labels"].value("karmada.io/system", "") == "true");
  CHECK(objs->front().value("kind", "") == "Namespace");
  for (const std::string name :
       {"karmada-view", "karmada-edit", "cluster-proxy-admin", "system:karmada:agent-rbac-generator",
        "system:karmada:certificatesigningrequest:autoapprover",
        "system:karmada:certificatesigningrequest:selfautoapprover"}) {
    INFO(name);
    auto cr = named(*objs, "ClusterRole", name);
    REQUIRE(cr);
    CHECK((*cr)["metadata"]["labels"].value("karmada.io/system", "") == "true");
  }
  auto crb = named(*objs, "ClusterRoleBinding", "cluster-proxy-admin");
  REQUIRE(crb);
  CHECK((*crb)["subjects"][0].value("name", "") == "system:admin");
  CHECK(named(*objs, "ClusterRoleBinding", "system:karmada:agent-bootstrap"));
  CHECK(named(*objs, "RoleBinding", "system:karmada:bootstrap-signer-clusterinfo"));
  auto ci = named(*objs, "ConfigMap", "cluster-info");
  REQUIRE(ci);
  CHECK((*ci)["metadata"].value("namespace", "") == "kube-public");
  std::string kc = (*ci)["data"].value("kubeconfig", "");
  CHECK(kc.find("server: https://127.0.0.1:16443") != std::string::npos);
  CHECK(kc.find("certificate-authority-data: " + kurator::base64::encode(kCa)) != std::string::npos);
  CHECK(kc.find("token") == std::string::npos);

  // Another namespace renames the namespace object too.
  auto o = local_options(crds);
  o.namespace_ = "kfleet";
  auto other = km::objects(o);
  REQUIRE(other.ok());
  CHECK(named(*other, "Namespace", "kfleet"));
  CHECK_FALSE(named(*other, "Namespace", "karmada-system"));
}

TEST_CASE("karmada objects: bad input names the thing", "[components][karmada]") {
  kurator::test::TempDir tmp;
  auto o = local_options(tmp.path() / "nowhere");
  auto r = km::objects(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("nowhere") != std::string::npos);

  // A patch for a CRD that bases/ does not hold.
  stdfs::create_directories(tmp.path() / "crds" / "bases");
  stdfs::create_directories(tmp.path() / "crds" / "patches");
  std::ofstream(tmp.path() / "crds" / "bases" / "a.yaml")
      << "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: as.x.io\n"
         "spec:\n  group: x.io\n";
  std::ofstream(tmp.path() / "crds" / "patches" / "webhook_in_bs.yaml")
      << "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: bs.x.io\n"
         "spec:\n  conversion:\n    strategy: Webhook\n";
  o.crds_dir = tmp.path() / "crds";
  r = km::objects(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("webhook_in_bs.yaml") != std::string::npos);
  CHECK(r.error().message.find("bs.x.io") != std::string::npos);

  // A service reference (older upstream patches) becomes a url.
  std::ofstream(tmp.path() / "crds" / "patches" / "webhook_in_bs.yaml")
      << "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: as.x.io\n"
         "spec:\n  conversion:\n    strategy: Webhook\n    webhook:\n      clientConfig:\n        service:\n"
         "          namespace: system\n          name: webhook-service\n          path: /convert\n"
         "      conversionReviewVersions: [v1]\n";
  r = km::objects(o);
  REQUIRE(r.ok());
  auto crd = named(*r, "CustomResourceDefinition", "as.x.io");
  REQUIRE(crd);
  const auto& cc = (*crd)["spec"]["conversion"]["webhook"]["clientConfig"];
  CHECK(cc.value("url", "") == "https://127.0.0.1:18443/convert");
  CHECK_FALSE(cc.contains("service"));
  CHECK((*crd)["spec"].value("group", "") == "x.io");

  o.webhook_base_url = "http://127.0.0.1:1";
  r = km::objects(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().exit == kurator::ExitCode::usage);
}
