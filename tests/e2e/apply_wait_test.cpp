// `kurator apply` and the waiter against a real kube-apiserver (with controller-manager, scheduler and
// kwok nodes), and every kubeconfig auth kind against it.
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/fleet.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

bool ready_to_run() {
  if (auto why = test::e2e_skip_reason(); !why.empty()) {
    test::skip(why);
    return false;
  }
  test::require_isolated_network();
  return true;
}

stdfs::path write(const stdfs::path& dir, const std::string& name, const std::string& text) {
  auto p = dir / name;
  REQUIRE(fs::write_file_atomic(p, text).ok());
  return p;
}

kube::Client client_for(const stdfs::path& kubeconfig) {
  kubeconfig::LoadOptions lo;
  lo.explicit_path = kubeconfig.string();
  auto cfg = kubeconfig::load(lo);
  REQUIRE(cfg.ok());
  return kube::Client(*cfg);
}

const char* kDeployment = R"(apiVersion: v1
kind: Namespace
metadata: {name: e2e-apply}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: e2e-apply}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.invalid/web:1}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: e2e-apply}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: registry.invalid/once:1}]
)";

}  // namespace

TEST_CASE("e2e apply: a Deployment and a Job, returning 0 only once they are Ready/Complete", "[e2e][apply]") {
  if (!ready_to_run()) return;
  auto& fleet = test::Fleet::get();
  test::TempDir d;
  auto f = write(d.path(), "app.yaml", kDeployment);
  auto r = fleet.kurator({"--kubeconfig", fleet.host().kubeconfig.string(), "apply", "-f", f.string(), "--wait",
                          "--wait-timeout", "3m"},
                         true);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Deployment/e2e-apply/web applied") != std::string::npos);
  CHECK(r.out.find("Namespace/e2e-apply applied") != std::string::npos);

  // Right after kurator returned, the apiserver agrees they are ready.
  auto c = client_for(fleet.host().kubeconfig);
  auto dep = c.get("apps/v1", "Deployment", "e2e-apply", "web");
  REQUIRE(dep.ok());
  CHECK((*dep)["status"].value("readyReplicas", 0) == 3);
  CHECK((*dep)["status"].value("observedGeneration", 0) == (*dep)["metadata"].value("generation", -1));
  auto job = c.get("batch/v1", "Job", "e2e-apply", "once");
  REQUIRE(job.ok());
  bool complete = false;
  for (const auto& cond : (*job)["status"].value("conditions", json::array()))
    if (cond.value("type", "") == "Complete" && cond.value("status", "") == "True") complete = true;
  CHECK(complete);

  // Applying the same input again is a no-op that succeeds (server-side apply is idempotent).
  auto again = fleet.kurator({"--kubeconfig", fleet.host().kubeconfig.string(), "apply", "-f", f.string(), "--wait"});
  CHECK(again.exit_code == 0);
  auto dep2 = c.get("apps/v1", "Deployment", "e2e-apply", "web");
  REQUIRE(dep2.ok());
  CHECK((*dep2)["metadata"]["generation"] == (*dep)["metadata"]["generation"]);
  // kubectl sees kurator as the field manager.
  auto managers = fleet.kubectl(fleet.host(), {"get", "deployment", "web", "-n", "e2e-apply", "--show-managed-fields",
                                               "-o", "jsonpath={.metadata.managedFields[*].manager}"});
  CHECK(managers.out.find("kurator") != std::string::npos);
}

TEST_CASE("e2e apply: a Deployment that cannot become Ready exits 3 with the reason", "[e2e][apply]") {
  if (!ready_to_run()) return;
  auto& fleet = test::Fleet::get();
  test::TempDir d;
  auto f = write(d.path(), "stuck.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      nodeSelector: {no-such-node: "true"}
      containers: [{name: c, image: registry.invalid/c:1}]
)");
  auto t0 = std::chrono::steady_clock::now();
  auto r = fleet.kurator({"--kubeconfig", fleet.host().kubeconfig.string(), "--no-color", "apply", "-f", f.string(),
                          "--wait", "--wait-timeout", "8s"});
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK(secs < 40);
  CHECK(r.err.find("error: timed out after 8s waiting for Deployment/default/stuck") != std::string::npos);
  CHECK(r.err.find("0/2") != std::string::npos);  // the unready reason: replicas ready
  // And why: the owner chain Deployment -> ReplicaSet -> Pods gives the pods' PodScheduled condition and
  // the scheduler's FailedScheduling event.
  CHECK(r.err.find("pods of ReplicaSet/stuck-") != std::string::npos);
  CHECK(r.err.find("PodScheduled=False Unschedulable") != std::string::npos);
  CHECK(r.err.find("FailedScheduling") != std::string::npos);
  CHECK(r.err.find("didn't match Pod's node affinity/selector") != std::string::npos);
  CHECK(r.err.find("1 more pod: same reason") != std::string::npos);  // two pods, one reason: shown once
  // The one-line error says it too.
  CHECK(r.err.find("(2 pods PodScheduled=False Unschedulable)") != std::string::npos);
  auto c = client_for(fleet.host().kubeconfig);
  CHECK(c.remove("apps/v1", "Deployment", "default", "stuck").ok());
}

TEST_CASE("e2e apply: upstream CRDs (Cluster API + CAPA) are Established before their custom resources",
          "[e2e][apply][fixtures]") {
  if (!ready_to_run()) return;
  auto fx = test::fixtures_dir();
  if (fx.empty()) {
    test::skip("upstream fixtures not found (set KURATOR_FIXTURES)");
    return;
  }
  auto& fleet = test::Fleet::get();
  test::TempDir d;
  // A Cluster custom resource in the same input as its CRD: the CRD must be Established first.
  auto cr = write(d.path(), "zz-cluster.yaml", R"(apiVersion: cluster.x-k8s.io/v1beta2
kind: Cluster
metadata: {name: demo, namespace: default}
spec: {paused: true}
)");
  auto r = fleet.kurator({"--kubeconfig", fleet.host().kubeconfig.string(), "apply", "-f",
                          (fx / "cluster-api-v1.14.0/crds/core").string(), "-f",
                          (fx / "cluster-api-provider-aws-v2.11.1/crds").string(), "-f", cr.string(), "--wait",
                          "--wait-timeout", "5m"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto c = client_for(fleet.host().kubeconfig);
  auto crd = c.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "awsclusters.infrastructure.cluster.x-k8s.io");
  REQUIRE(crd.ok());
  // --wait returned only once the CRDs, too, were ready: Established.
  bool established = false;
  for (const auto& cond : (*crd)["status"].value("conditions", json::array()))
    if (cond.value("type", "") == "Established") established = cond.value("status", "") == "True";
  CHECK(established);
  auto cluster = c.get("cluster.x-k8s.io/v1beta2", "Cluster", "default", "demo");
  REQUIRE(cluster.ok());
  CHECK((*cluster)["metadata"]["managedFields"][0]["manager"] == "kurator");
}

TEST_CASE("e2e auth: client certificate, token, tokenFile and exec plugin all work, RBAC denies", "[e2e][auth]") {
  if (!ready_to_run()) return;
  auto& fleet = test::Fleet::get();
  const auto& host = fleet.host();
  test::TempDir d;

  // The admin token, from the token kubeconfig kurator wrote for the cluster.
  auto tok_cfg = yaml::parse_one(*fs::read_file(host.dir / "kubeconfigs" / "admin-token.kubeconfig"), "kc");
  REQUIRE(tok_cfg.ok());
  std::string token = (*tok_cfg)["users"][0]["user"]["token"];
  REQUIRE_FALSE(token.empty());
  auto base = yaml::parse_one(*fs::read_file(host.kubeconfig), "kc");
  REQUIRE(base.ok());
  std::string server = (*base)["clusters"][0]["cluster"]["server"];
  std::string ca_data = (*base)["clusters"][0]["cluster"]["certificate-authority-data"];

  auto kubeconfig_with_user = [&](const std::string& name, const json& user) {
    json kc = {{"apiVersion", "v1"},
               {"kind", "Config"},
               {"current-context", "c"},
               {"clusters", {{{"name", "c"}, {"cluster", {{"server", server}, {"certificate-authority-data", ca_data}}}}}},
               {"users", {{{"name", "u"}, {"user", user}}}},
               {"contexts", {{{"name", "c"}, {"context", {{"cluster", "c"}, {"user", "u"}}}}}}};
    auto p = d.path() / name;
    REQUIRE(fs::write_private_file(p, yaml::dump(kc)).ok());
    return p;
  };
  auto can_list_nodes = [&](const stdfs::path& kc) {
    auto c = client_for(kc);
    auto l = c.list("v1", "Node");
    if (!l) FAIL(l.error().message);
    return (*l)["items"].size();
  };

  SECTION("client certificate (the admin kubeconfig)") { CHECK(can_list_nodes(host.kubeconfig) == 3); }
  SECTION("static token") { CHECK(can_list_nodes(kubeconfig_with_user("token", {{"token", token}})) == 3); }
  SECTION("tokenFile, relative to the kubeconfig's folder") {
    write(d.path(), "token.txt", token + "\n");
    CHECK(can_list_nodes(kubeconfig_with_user("tokenfile", {{"tokenFile", "token.txt"}})) == 3);
  }
  SECTION("exec credential plugin, v1 and v1beta1") {
    for (std::string av : {"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"}) {
      auto plugin = d.path() / "plugin.sh";
      REQUIRE(fs::write_file_atomic(plugin,
                                    "#!/bin/sh\necho '{\"apiVersion\":\"" + av +
                                        "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"'\"$TOKEN\"'\"}}'\n",
                                    0755)
                  .ok());
      json user = {{"exec",
                    {{"apiVersion", av},
                     {"command", plugin.string()},
                     {"env", {{{"name", "TOKEN"}, {"value", token}}}},
                     {"interactiveMode", "Never"}}}};
      CHECK(can_list_nodes(kubeconfig_with_user("exec", user)) == 3);
    }
  }
  SECTION("a wrong token is rejected with 401 and a hint") {
    auto c = client_for(kubeconfig_with_user("bad", {{"token", "not-a-token"}}));
    auto l = c.list("v1", "Node");
    REQUIRE_FALSE(l.ok());
    CHECK(l.error().http_status == 401);
    CHECK(l.error().message.find("not-a-token") == std::string::npos);
  }
  SECTION("the unprivileged user is denied by RBAC (403)") {
    auto c = client_for(host.dir / "kubeconfigs" / "unprivileged.kubeconfig");
    auto l = c.list("v1", "Secret", kube::ListOptions{.namespace_ = "kube-system"});
    REQUIRE_FALSE(l.ok());
    CHECK(l.error().http_status == 403);
    CHECK(l.error().message.find("forbidden") != std::string::npos);
    auto r = fleet.kurator({"--kubeconfig", (host.dir / "kubeconfigs" / "unprivileged.kubeconfig").string(),
                            "--no-color", "apply", "-f", write(d.path(), "cm.yaml",
                                                              "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
                                                            .string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("ConfigMap/default/x") != std::string::npos);
    CHECK(r.err.find("HTTP 403") != std::string::npos);
  }
}

TEST_CASE("e2e watch: list pagination and a watch that sees a change", "[e2e][watch]") {
  if (!ready_to_run()) return;
  auto& fleet = test::Fleet::get();
  auto c = client_for(fleet.host().kubeconfig);
  std::vector<json> cms;
  for (int i = 0; i < 25; ++i)
    cms.push_back({{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                   {"metadata", {{"name", "page-" + std::to_string(i)}, {"namespace", "default"}, {"labels", {{"e2e", "page"}}}}}});
  auto applied = kube::apply_all(c, cms, kube::ApplyAllOptions{});
  REQUIRE(applied.ok());
  CHECK((*applied)[3]["metadata"].contains("managedFields"));  // the server's whole answer
  // Without keep_results only each object's identity is built from the answer.
  auto ids = kube::apply_all(c, cms, kube::ApplyAllOptions{.keep_results = false});
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 25);
  CHECK((*ids)[3]["metadata"]["name"] == "page-3");
  CHECK((*ids)[3]["metadata"]["namespace"] == "default");
  CHECK((*ids)[3]["metadata"].contains("uid"));
  CHECK((*ids)[3]["metadata"].contains("resourceVersion"));
  CHECK_FALSE((*ids)[3]["metadata"].contains("managedFields"));
  CHECK_FALSE((*ids)[3]["metadata"].contains("labels"));
  auto l = c.list("v1", "ConfigMap", kube::ListOptions{.namespace_ = "default", .label_selector = "e2e=page", .limit = 4});
  REQUIRE(l.ok());
  CHECK((*l)["items"].size() == 25);

  // A watch started now sees a modification made from another thread.
  std::atomic<bool> seen{false};
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    json patch = cms[0];
    patch["data"] = {{"k", "v"}};
    REQUIRE(c.apply(patch).ok());
  });
  kube::WatchOptions wo;
  wo.namespace_ = "default";
  wo.field_selector = "metadata.name=page-0";
  wo.timeout = std::chrono::seconds(20);
  auto st = c.watch("v1", "ConfigMap", wo, [&](const kube::WatchEvent& ev) {
    if (ev.type == "MODIFIED" && ev.object.contains("data")) {
      seen = true;
      return false;
    }
    return true;
  });
  writer.join();
  CHECK(st.ok());
  CHECK(seen);
}
