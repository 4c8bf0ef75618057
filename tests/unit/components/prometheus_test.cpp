// The Prometheus component's objects: the operator release from the upstream fixture (moved to
// `monitoring`, labelled, otherwise unchanged), kurator's Prometheus with per-member overrides, the
// federation scrape config and the option checks.
#include <kurator/components/prometheus.hpp>
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include <map>

#include "support/test_env.hpp"

using namespace kurator;
namespace prometheus = components::prometheus;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

stdfs::path fixture() {
  auto f = test::fixtures_dir();
  return f.empty() ? f : f / "prometheus-operator-v0.93.0";
}

const json* find_obj(const std::vector<json>& objs, const std::string& kind, const std::string& name) {
  for (const auto& o : objs)
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  return nullptr;
}

}  // namespace

TEST_CASE("prometheus: the operator release moved to monitoring, labelled, the ServiceMonitor left out",
          "[unit][components][prometheus]") {
  auto dir = fixture();
  if (dir.empty() || !stdfs::exists(dir / "crds")) {
    test::skip("upstream fixture missing: prometheus-operator-v0.93.0");
    WARN("SKIPPED: prometheus-operator fixture missing");
    return;
  }
  auto objs = prometheus::operator_objects(dir, "v0.93.0");
  REQUIRE(objs.ok());
  std::map<std::string, int> kinds;
  for (const auto& o : *objs) {
    ++kinds[o["kind"].get<std::string>()];
    INFO(o["kind"] << "/" << o["metadata"]["name"]);
    CHECK(o["metadata"]["labels"]["kurator.dev/component"] == "prometheus-operator");
    CHECK(o["metadata"]["labels"]["kurator.dev/version"] == "v0.93.0");
    CHECK(o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kurator");
    if (o["metadata"].contains("namespace")) CHECK(o["metadata"]["namespace"] == "monitoring");
  }
  CHECK(kinds["CustomResourceDefinition"] == 10);
  CHECK(kinds["Namespace"] == 1);
  CHECK(kinds["Deployment"] == 1);
  CHECK(kinds["ServiceMonitor"] == 0);
  CHECK(kinds["ServiceAccount"] == 2);      // the operator's and the Prometheus'
  CHECK(kinds["ClusterRoleBinding"] == 2);  // idem
  CHECK((*objs)[0]["kind"] == "Namespace");
  auto* crb = find_obj(*objs, "ClusterRoleBinding", "prometheus-operator");
  REQUIRE(crb);
  CHECK((*crb)["subjects"][0]["namespace"] == "monitoring");
  // Upstream's Deployment otherwise as it is: its image and arguments.
  auto* dep = find_obj(*objs, "Deployment", "prometheus-operator");
  REQUIRE(dep);
  auto& c = (*dep)["spec"]["template"]["spec"]["containers"][0];
  CHECK(c["image"] == "quay.io/prometheus-operator/prometheus-operator:v0.93.0");
  CHECK(c["args"][0] == "--kubelet-service=kube-system/kubelet");

  // A missing folder in the artifact: one error naming it.
  test::TempDir empty;
  auto bad = prometheus::operator_objects(empty.path(), "v0.93.0");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find((empty.path() / "crds").string() + " holds no CRDs") != std::string::npos);
}

TEST_CASE("prometheus: the Prometheus per member (cluster label), federation only on the federating member",
          "[unit][components][prometheus]") {
  prometheus::Options o;
  o.version = "v0.93.0";
  o.federate_to = "m1";
  auto w = prometheus::prometheus_workload(o, {"m1", "m2", "m3"}, {{"m2", "10.0.0.2:30090"}, {"m3", "lb.example:9090"}});
  CHECK(w.component == "prometheus");
  REQUIRE(w.objects.size() == 2);
  auto* p = find_obj(w.objects, "Prometheus", "kurator");
  REQUIRE(p);
  CHECK((*p)["metadata"]["namespace"] == "monitoring");
  CHECK((*p)["spec"]["serviceAccountName"] == "prometheus");
  CHECK_FALSE((*p)["spec"].contains("storage"));  // no PVC: it would never bind on kwok
  for (const std::string m : {"m1", "m2", "m3"}) {
    json copy = *p;
    for (const auto& ov : w.per_member[m])
      if (ov.kind == "Prometheus") REQUIRE(fleet::apply_overrides(copy, ov.ops).ok());
    CHECK(copy["spec"]["externalLabels"]["cluster"] == m);
    CHECK(copy["spec"].contains("additionalScrapeConfigs") == (m == "m1"));
  }
  // The federating member's scrape config: one job over the other members' addresses.
  json secret = *find_obj(w.objects, "Secret", "additional-scrape-configs");
  CHECK(base64::decode(secret["data"]["prometheus-additional.yaml"].get<std::string>()) == "[]\n");
  for (const auto& ov : w.per_member["m1"])
    if (ov.kind == "Secret") REQUIRE(fleet::apply_overrides(secret, ov.ops).ok());
  auto text = base64::decode(secret["data"]["prometheus-additional.yaml"].get<std::string>());
  REQUIRE(text);
  auto jobs = yaml::parse_one(*text, "scrape");
  REQUIRE(jobs.ok());
  REQUIRE(jobs->size() == 1);
  CHECK((*jobs)[0]["job_name"] == "kurator-federate");
  CHECK((*jobs)[0]["metrics_path"] == "/federate");
  CHECK((*jobs)[0]["honor_labels"] == true);
  CHECK((*jobs)[0]["params"]["match[]"][0] == "{job=~\".+\"}");
  CHECK((*jobs)[0]["static_configs"][0]["targets"][0] == "10.0.0.2:30090");
  CHECK((*jobs)[0]["static_configs"][1]["labels"]["federated_from"] == "m3");
  CHECK(w.per_member["m2"].size() == 1);  // only its cluster label
}

TEST_CASE("prometheus: options checked before anything is applied", "[unit][components][prometheus]") {
  prometheus::Options o;
  CHECK(prometheus::check(o, {"a"}).ok());
  o.federate_to = "c";
  auto st = prometheus::check(o, {"a", "b"});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message == "--federate-to c: not one of the chosen member clusters (a, b)");
  CHECK(st.error().exit == ExitCode::usage);
  o.federate_to = "a";
  st = prometheus::check(o, {"a"});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message == "--federate-to a: no other member cluster to federate from");
  CHECK(prometheus::check(o, {"a", "b"}).ok());
  o.service_type = "ClusterIP";
  CHECK_FALSE(prometheus::check(o, {"a", "b"}).ok());
  // The federation Service follows --service-type.
  o.service_type = "NodePort";
  auto ex = prometheus::expose_workload(o);
  REQUIRE(ex.objects.size() == 1);
  CHECK(ex.objects[0]["spec"]["type"] == "NodePort");
  CHECK(ex.objects[0]["spec"]["selector"]["prometheus"] == "kurator");
}
