// Pixie: the chart prepared as upstream's release script does (on the fixture), deploy-key checks, values
// and overrides, OLM detection and the preflight's evaluation of Node lists.
#include <kurator/components/component.hpp>
#include <kurator/components/pixie.hpp>
#include <kurator/core/process.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <map>

#include "support/test_env.hpp"

using namespace kurator;
namespace pixie = components::pixie;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

const std::string kKey = "px-dep-0b7e2a52-6f0e-4c2b-9a77-3f6a1f0e9d21";

stdfs::path artifact_dir() {
  auto f = test::fixtures_dir();
  return f.empty() ? f : f / "pixie-operator-v0.1.7";
}

bool have_fixture() {
  if (artifact_dir().empty() || !stdfs::exists(artifact_dir() / "operator-chart")) {
    test::skip("upstream fixture pixie-operator-v0.1.7 not found");
    return false;
  }
  return true;
}

stdfs::path helm_bin() {
  if (auto d = fs::env("KURATOR_TEST_HELM"); !d.empty()) return d;
  return fs::user_home() / ".cache" / "kurator" / "bin" / "helm-v3.19.0" / "helm";
}

std::string read(const stdfs::path& p) {
  auto t = fs::read_file(p);
  REQUIRE(t.ok());
  return *t;
}

const json* find(const std::vector<json>& objs, const std::string& kind, const std::string& name) {
  for (const auto& o : objs)
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  return nullptr;
}

}  // namespace

TEST_CASE("pixie chart: prepared like ci/operator_helm_build_release.sh on a copy",
          "[unit][components][pixie]") {
  if (!have_fixture()) return;
  test::TempDir d;
  auto out = d.path() / "chart";
  REQUIRE(pixie::prepare_chart(artifact_dir(), out, "v0.1.7").ok());
  CHECK(read(out / "Chart.yaml") ==
        "apiVersion: v2\nname: pixie-operator-chart\ntype: application\nversion: 0.1.7\n");
  CHECK(read(out / "crds" / "vizier_crd.yaml") == read(artifact_dir() / "crds" / "px.dev_viziers.yaml"));
  CHECK(stdfs::exists(out / "crds" / "olm_crd.yaml"));
  CHECK_FALSE(stdfs::exists(out / "olm_template_checks.tmpl"));
  int with_checks = 0;
  for (const auto& e : stdfs::directory_iterator(out / "templates")) {
    auto text = read(e.path());
    INFO(e.path());
    CHECK(text.find(pixie::kPlaceholder) == std::string::npos);
    CHECK(text.find("}} \\\n") == std::string::npos);  // sed's line continuations are gone
    if (text.find("CRDs missing!") != std::string::npos) ++with_checks;
  }
  CHECK(with_checks == 2);  // 00_olm.yaml and csv-deleter.yaml held the placeholder
  auto olm = read(out / "templates" / "00_olm.yaml");
  CHECK(olm.rfind("{{- $olmCRDFound := false }} \n{{- $nsLookup", 0) == 0);
  CHECK(olm.find("{{ if (or (eq (.Values.deployOLM | toString) \"true\")") != std::string::npos);
  // The artifact itself is untouched.
  CHECK(read(artifact_dir() / "operator-chart" / "templates" / "00_olm.yaml").find(pixie::kPlaceholder) !=
        std::string::npos);
  // A second preparation into the same folder is refused.
  auto again = pixie::prepare_chart(artifact_dir(), out, "v0.1.7");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message == out.string() + ": already exists (the chart copy needs a new folder)");
}

TEST_CASE("pixie chart: sed change-text escapes", "[unit][components][pixie]") {
  CHECK(pixie::sed_change_text("a \\\nb") == "a \nb");
  CHECK(pixie::sed_change_text("x}}\\n{{ y") == "x}}\n{{ y");
  CHECK(pixie::sed_change_text("back\\\\slash") == "back\\slash");
  CHECK(pixie::sed_change_text("plain") == "plain");
}

TEST_CASE("pixie deploy key: missing, empty, short and malformed keys give one line naming the file",
          "[unit][components][pixie]") {
  test::TempDir d;
  auto file = [&](const std::string& name, const std::string& text) {
    auto p = d.path() / name;
    REQUIRE(fs::write_private_file(p, text).ok());
    return p.string();
  };
  auto missing = (d.path() / "nope").string();
  auto r = pixie::read_deploy_key(missing, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "--deploy-key-file " + missing + ": no such file");

  auto empty = file("empty", "\n");
  r = pixie::read_deploy_key(empty, kKey);  // the file wins over PX_DEPLOY_KEY
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "--deploy-key-file " + empty + ": the deploy key is empty");

  auto shortk = file("short", "px-dep-1234");
  r = pixie::read_deploy_key(shortk, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "--deploy-key-file " + shortk +
                                 ": the deploy key is too short (a Pixie deploy key is px-dep-<uuid>)");
  CHECK(r.error().message.find("px-dep-1234") == std::string::npos);

  const std::string bad_key = "px-xyz-0b7e2a52-6f0e-4c2b-9a77-3f6a1f0e9d21";
  auto bad = file("bad", bad_key);
  r = pixie::read_deploy_key(bad, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "--deploy-key-file " + bad + ": not a Pixie deploy key (expected px-dep-<uuid>)");
  CHECK(r.error().message.find(bad_key) == std::string::npos);
  auto notuuid = file("notuuid", "px-dep-0b7e2a52x6f0e-4c2b-9a77-3f6a1f0e9d21");
  CHECK_FALSE(pixie::read_deploy_key(notuuid, "").ok());

  auto good = file("good", kKey + "\n");
  r = pixie::read_deploy_key(good, "");
  REQUIRE(r.ok());
  CHECK(*r == kKey);

  r = pixie::read_deploy_key("", kKey);
  REQUIRE(r.ok());
  CHECK(*r == kKey);
  r = pixie::read_deploy_key("", "px-dep-short");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "PX_DEPLOY_KEY: the deploy key is too short (a Pixie deploy key is px-dep-<uuid>)");

  r = pixie::read_deploy_key("", "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "no Pixie deploy key: give --deploy-key-file FILE or set PX_DEPLOY_KEY");
  CHECK_FALSE(r.error().hint.empty());
  CHECK(r.error().exit == ExitCode::usage);
}

TEST_CASE("pixie values: deployOLM always explicit, the key only in a Secret, clusterName per member",
          "[unit][components][pixie]") {
  pixie::Settings s;
  s.cluster_name = "m1";
  auto v = pixie::values(s);
  CHECK(v["deployOLM"] == "true");
  CHECK(v["olmNamespace"] == "olm");
  CHECK(v["olmOperatorNamespace"] == "px-operator");
  CHECK(v["customDeployKeySecret"] == pixie::kDeployKeySecret);
  CHECK(v["clusterName"] == "m1");
  CHECK(v["cloudAddr"] == "withpixie.ai:443");
  CHECK_FALSE(v.contains("deployKey"));
  s.olm = {true, "operator-lifecycle", "operators"};
  v = pixie::values(s);
  CHECK(v["deployOLM"] == "false");
  CHECK(v["olmNamespace"] == "operator-lifecycle");
  CHECK(v["olmOperatorNamespace"] == "operators");

  // Rendered documents as kurator applies them.
  std::vector<json> rendered = {
      {{"apiVersion", "v1"},
       {"kind", "ServiceAccount"},
       {"metadata", {{"name", "pl-deleter-service-account"}}}},
      {{"apiVersion", "batch/v1"},
       {"kind", "Job"},
       {"metadata",
        {{"name", "vizier-deleter"},
         {"namespace", "pl"},
         {"annotations", {{"helm.sh/hook", "pre-delete"}}}}}},
      {{"apiVersion", "apiextensions.k8s.io/v1"},
       {"kind", "CustomResourceDefinition"},
       {"metadata", {{"name", "operatorgroups.operators.coreos.com"}}}},
      {{"apiVersion", "apiextensions.k8s.io/v1"},
       {"kind", "CustomResourceDefinition"},
       {"metadata", {{"name", "viziers.px.dev"}}}},
      {{"apiVersion", "px.dev/v1alpha1"},
       {"kind", "Vizier"},
       {"metadata", {{"name", "pixie"}, {"namespace", "pl"}}},
       {"spec", {{"clusterName", "m1"}, {"customDeployKeySecret", "pixie-deploy-key"}}}}};
  auto objs = pixie::objects_from(rendered, kKey, pixie::Olm{}, "v0.1.7");
  CHECK(objs.size() == 6);  // the hook Job dropped; Namespace pl and the Secret added
  CHECK(find(objs, "Job", "vizier-deleter") == nullptr);
  REQUIRE(find(objs, "ServiceAccount", "pl-deleter-service-account") != nullptr);
  CHECK((*find(objs, "ServiceAccount", "pl-deleter-service-account"))["metadata"]["namespace"] == "pl");
  CHECK(find(objs, "CustomResourceDefinition", "viziers.px.dev")->at("metadata").count("namespace") == 0);
  CHECK(objs.front()["kind"] == "Namespace");
  auto* secret = find(objs, "Secret", pixie::kDeployKeySecret);
  REQUIRE(secret != nullptr);
  CHECK((*secret)["metadata"]["namespace"] == "pl");
  CHECK(base64::decode((*secret)["data"]["deploy-key"].get<std::string>()) == kKey);
  for (const auto& o : objs) {
    CHECK(o["metadata"]["labels"]["kurator.dev/component"] == "pixie");
    CHECK(o["metadata"]["labels"]["kurator.dev/version"] == "v0.1.7");
    if (o["kind"] != "Secret") CHECK(o.dump().find(kKey) == std::string::npos);
  }
  // With an OLM already there, its CRDs are left to it.
  auto with_olm = pixie::objects_from(rendered, kKey, pixie::Olm{true, "olm", "operators"}, "v0.1.7");
  CHECK(find(with_olm, "CustomResourceDefinition", "operatorgroups.operators.coreos.com") == nullptr);
  CHECK(find(with_olm, "CustomResourceDefinition", "viziers.px.dev") != nullptr);

  auto w = pixie::workload(objs, {"m1", "m2"});
  CHECK(w.component == "pixie");
  REQUIRE(w.per_member.size() == 2);
  for (const std::string m : {"m1", "m2"}) {
    REQUIRE(w.per_member[m].size() == 1);
    const auto& ov = w.per_member[m][0];
    CHECK(ov.kind == "Vizier");
    CHECK(ov.namespace_ == "pl");
    CHECK(ov.name == "pixie");
    json vizier = *find(objs, "Vizier", "pixie");
    REQUIRE(fleet::apply_overrides(vizier, ov.ops).ok());
    CHECK(vizier["spec"]["clusterName"] == m);
  }
}

TEST_CASE("pixie helm template: the real helm renders the prepared chart with deployOLM true and false",
          "[unit][components][pixie]") {
  if (!have_fixture()) return;
  if (!stdfs::exists(helm_bin())) {
    test::skip("helm not built: " + helm_bin().string() + " (scripts/build-test-binaries.sh)");
    return;
  }
  test::TempDir d;
  auto chart = d.path() / "chart";
  REQUIRE(pixie::prepare_chart(artifact_dir(), chart, "v0.1.7").ok());
  process::SystemRunner runner;
  pixie::Settings s;
  s.cluster_name = "m1";
  auto r = pixie::helm_template(runner, helm_bin(), chart, pixie::values(s));
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  CHECK(r->size() == 30);
  CHECK(find(*r, "Deployment", "olm-operator") != nullptr);
  CHECK(find(*r, "Deployment", "catalog-operator") != nullptr);
  CHECK(find(*r, "Job", "csv-deleter") != nullptr);
  auto* vz = find(*r, "Vizier", "pixie");
  REQUIRE(vz != nullptr);
  CHECK((*vz)["spec"]["clusterName"] == "m1");
  CHECK((*vz)["spec"]["customDeployKeySecret"] == "pixie-deploy-key");
  CHECK_FALSE((*vz)["spec"].contains("deployKey"));
  CHECK(find(*r, "CustomResourceDefinition", "viziers.px.dev") != nullptr);
  auto objs = pixie::objects_from(*r, kKey, pixie::Olm{}, "v0.1.7");
  CHECK(objs.size() == 30);  // - 2 hooks + Namespace pl + Secret

  s.olm = {true, "olm", "operators"};
  r = pixie::helm_template(runner, helm_bin(), chart, pixie::values(s));
  REQUIRE(r.ok());
  CHECK(find(*r, "Deployment", "olm-operator") == nullptr);
  CHECK(find(*r, "Job", "csv-deleter") == nullptr);
  REQUIRE(find(*r, "CatalogSource", "pixie-operator-index") != nullptr);
  CHECK((*find(*r, "CatalogSource", "pixie-operator-index"))["metadata"]["namespace"] == "operators");
}

TEST_CASE("pixie helm template: argv and values file hold no key, the values file is 0600 and removed",
          "[unit][components][pixie]") {
  std::string values_path;
  unsigned mode = 0;
  process::RecordingRunner runner([&](const process::Spec& spec) {
    for (size_t i = 0; i + 1 < spec.argv.size(); ++i)
      if (spec.argv[i] == "--values") values_path = spec.argv[i + 1];
    struct stat st {};
    if (::stat(values_path.c_str(), &st) == 0) mode = st.st_mode & 0777;
    process::Outcome o;
    o.exit_code = 0;
    o.out = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n";
    return o;
  });
  pixie::Settings s;
  s.cluster_name = "m1";
  auto r = pixie::helm_template(runner, "/opt/helm", "/tmp/chart", pixie::values(s));
  REQUIRE(r.ok());
  CHECK(r->size() == 1);
  REQUIRE(runner.calls().size() == 1);
  const auto& argv = runner.calls()[0].argv;
  CHECK(argv[0] == "/opt/helm");
  CHECK(argv[1] == "template");
  CHECK(std::find(argv.begin(), argv.end(), "--include-crds") != argv.end());
  for (const auto& a : argv) CHECK(a.find("deployKey") == std::string::npos);
  CHECK(mode == 0600);
  CHECK_FALSE(values_path.empty());
  CHECK_FALSE(stdfs::exists(values_path));
}

TEST_CASE("pixie OLM detection: OperatorGroups not kurator's mean an OLM is there",
          "[unit][components][pixie]") {
  CHECK_FALSE(pixie::olm_from(json()).present);
  json ours = {{"items",
                {{{"metadata",
                   {{"name", "global-operators"},
                    {"namespace", "px-operator"},
                    {"labels", {{"kurator.dev/component", "pixie"}}}}}}}}};
  CHECK_FALSE(pixie::olm_from(ours).present);
  json theirs = {{"items",
                  {{{"metadata", {{"name", "olm-operators"}, {"namespace", "openshift-olm"}}}},
                   {{"metadata", {{"name", "global-operators"}, {"namespace", "operators"}}}}}}};
  auto o = pixie::olm_from(theirs);
  CHECK(o.present);
  CHECK(o.olm_namespace == "openshift-olm");
  CHECK(o.operator_namespace == "operators");
}

TEST_CASE("pixie preflight: kernel versions of a Node list and version comparison",
          "[unit][components][pixie]") {
  CHECK(pixie::version_at_least("6.18.44-fc-v1045", "4.14.0"));
  CHECK(pixie::version_at_least("4.14.0", "4.14.0"));
  CHECK(pixie::version_at_least("5.4", "4.14.0"));
  CHECK_FALSE(pixie::version_at_least("4.9.0", "4.14.0"));
  CHECK_FALSE(pixie::version_at_least("4.13.99", "4.14.0"));
  CHECK_FALSE(pixie::version_at_least("kwok-v0.7.0", "4.14.0"));
  CHECK_FALSE(pixie::version_at_least("", "4.14.0"));
  CHECK(pixie::version_at_least("v1.35.4", "1.16.0"));
  CHECK_FALSE(pixie::version_at_least("v1.15.12-gke.2", "1.16.0"));

  json nodes = {{"items",
                 {{{"metadata", {{"name", "n0"}}},
                   {"status", {{"nodeInfo", {{"kernelVersion", "5.15.0-91-generic"}}}}}},
                  {{"metadata", {{"name", "n1"}}}, {"status", {{"nodeInfo", {{"kernelVersion", "4.9.0"}}}}}},
                  {{"metadata", {{"name", "kind-control-plane"}}},
                   {"spec", {{"providerID", "kind://docker/kind/kind-control-plane"}}},
                   {"status", {{"nodeInfo", {{"kernelVersion", "6.1.0"}}}}}}}}};
  auto p = pixie::node_problems("c1", nodes);
  REQUIRE(p.size() == 2);
  CHECK(p[0].member == "c1");
  CHECK(p[0].check == "kernel");
  CHECK(p[0].detail == "node n1: kernel version 4.9.0 is older than 4.14.0");
  CHECK(p[1].check == "cluster type");
  CHECK(p[1].detail.find("kind") != std::string::npos);
  json ok = {{"items",
              {{{"metadata", {{"name", "n0"}}}, {"status", {{"nodeInfo", {{"kernelVersion", "5.10.0"}}}}}}}}};
  CHECK(pixie::node_problems("c1", ok).empty());
}

TEST_CASE("pixie status entry: declared in the registry", "[unit][components][pixie]") {
  auto* c = components::find("pixie");
  REQUIRE(c != nullptr);
  CHECK(c->scope == components::Scope::member);
  CHECK(static_cast<bool>(c->health));
}
