// Thanos library layer: the object-store config check (as thanos-io/objstore reads it), the compactor's
// retention rules (cmd/thanos/compact.go), the Query endpoint file, and the host objects rendered from the
// kube-thanos v0.29.0 fixture.
#include <kurator/components/thanos.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "support/test_env.hpp"

using namespace kurator;
namespace thanos = components::thanos;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

const std::string kSecret = "SuperSecretValue-9f8e7d";

// The one-line error of a refused config (and that nothing from the file leaked into it).
std::string refused(const std::string& text) {
  auto r = thanos::check_objstore(text, "objstore.yaml");
  REQUIRE_FALSE(r.ok());
  const auto& e = r.error();
  CHECK(e.message.find('\n') == std::string::npos);
  CHECK(e.message.rfind("objstore.yaml", 0) == 0);
  CHECK_FALSE(e.hint.empty());
  CHECK(e.message.find(kSecret) == std::string::npos);
  CHECK(e.hint.find(kSecret) == std::string::npos);
  return e.message;
}

stdfs::path kube_thanos_dir() {
  auto f = test::fixtures_dir();
  return f.empty() ? f : f / "kube-thanos-v0.29.0";
}

const json* find(const std::vector<json>& objs, const std::string& kind, const std::string& name) {
  for (const auto& o : objs)
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  return nullptr;
}

const std::string kFilesystem = "type: FILESYSTEM\nconfig:\n  directory: /var/thanos/bucket\n";

}  // namespace

TEST_CASE("thanos objstore: a valid file of every type passes, the type upper-cased",
          "[unit][components][thanos]") {
  const std::map<std::string, std::string> valid = {
      {"S3", "type: s3\nconfig:\n  bucket: b\n  endpoint: s3.example:9000\n  access_key: a\n  secret_key: " +
                 kSecret +
                 "\n  insecure: true\n  http_config:\n    tls_config:\n      insecure_skip_verify: true\n"
                 "  sse_config:\n    type: SSE-KMS\n    kms_key_id: k\nprefix: tenant-a\n"},
      {"GCS", "type: GCS\nconfig:\n  bucket: b\n  service_account: x\n"},
      {"AZURE", "type: azure\nconfig:\n  storage_account: acc\n  storage_account_key: k\n  container: c\n"},
      {"SWIFT",
       "type: SWIFT\nconfig:\n  auth_url: http://k/v3\n  username: u\n  password: p\n"
       "  container_name: c\n"},
      {"COS", "type: COS\nconfig:\n  bucket: b\n  region: r\n  app_id: 1\n  secret_id: i\n  secret_key: k\n"},
      {"ALIYUNOSS",
       "type: ALIYUNOSS\nconfig:\n  endpoint: e\n  bucket: b\n  access_key_id: i\n"
       "  access_key_secret: s\n"},
      {"FILESYSTEM", kFilesystem},
      {"BOS", "type: BOS\nconfig:\n  bucket: b\n  endpoint: e\n  access_key: a\n  secret_key: s\n"},
      {"OCI",
       "type: OCI\nconfig:\n  provider: raw\n  bucket: b\n  tenancy_ocid: t\n  user_ocid: u\n"
       "  region: r\n  fingerprint: f\n  privatekey: k\n"},
      {"OBS", "type: OBS\nconfig:\n  bucket: b\n  endpoint: e\n  access_key: a\n  secret_key: s\n"},
  };
  REQUIRE(valid.size() == thanos::objstore_types().size());
  for (const auto& [type, text] : valid) {
    INFO(type);
    auto r = thanos::check_objstore(text, "objstore.yaml");
    REQUIRE(r.ok());
    CHECK(r->type == type);
    CHECK(r->text == text);
  }
  // S3 without credentials (the environment's / IAM) is fine.
  CHECK(thanos::check_objstore("type: S3\nconfig: {bucket: b, endpoint: e}\n", "f").ok());
}

TEST_CASE("thanos objstore: each type's missing required field is named", "[unit][components][thanos]") {
  CHECK(refused("type: S3\nconfig:\n  endpoint: e\n  secret_key: " + kSecret + "\n") ==
        "objstore.yaml: config.bucket: required for type S3");
  CHECK(refused("type: S3\nconfig:\n  bucket: b\n") ==
        "objstore.yaml: config.endpoint: required for type S3");
  CHECK(refused("type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  secret_key: " + kSecret + "\n") ==
        "objstore.yaml: config.access_key: required when config.secret_key is set (type S3)");
  CHECK(refused("type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  access_key: a\n") ==
        "objstore.yaml: config.secret_key: required when config.access_key is set (type S3)");
  CHECK(refused("type: GCS\nconfig:\n  service_account: " + kSecret + "\n") ==
        "objstore.yaml: config.bucket: required for type GCS");
  CHECK(refused("type: AZURE\nconfig:\n  container: c\n  storage_account_key: " + kSecret + "\n") ==
        "objstore.yaml: config.storage_account: required for type AZURE");
  CHECK(refused("type: AZURE\nconfig:\n  storage_account: a\n") ==
        "objstore.yaml: config.container: required for type AZURE");
  CHECK(refused("type: FILESYSTEM\nconfig: {}\n") ==
        "objstore.yaml: config.directory: required for type FILESYSTEM");
  CHECK(refused("type: FILESYSTEM\n") == "objstore.yaml: config.directory: required for type FILESYSTEM");
  CHECK(refused("type: SWIFT\nconfig:\n  auth_url: u\n  password: " + kSecret + "\n") ==
        "objstore.yaml: config.container_name: required for type SWIFT");
  CHECK(refused("type: COS\nconfig:\n  bucket: b\n  region: r\n  secret_id: i\n  secret_key: " + kSecret +
                "\n") == "objstore.yaml: config.app_id: required for type COS");
  CHECK(refused("type: ALIYUNOSS\nconfig:\n  endpoint: e\n  bucket: b\n  access_key_secret: " + kSecret +
                "\n") == "objstore.yaml: config.access_key_id: required for type ALIYUNOSS");
  CHECK(refused("type: BOS\nconfig:\n  bucket: b\n  endpoint: e\n  access_key: a\n") ==
        "objstore.yaml: config.secret_key: required for type BOS");
  CHECK(refused("type: OCI\nconfig:\n  bucket: b\n") ==
        "objstore.yaml: config.provider: required for type OCI");
  CHECK(refused("type: OCI\nconfig:\n  provider: raw\n  tenancy_ocid: t\n  user_ocid: u\n  region: r\n"
                "  fingerprint: f\n") == "objstore.yaml: config.privatekey: required for type OCI");
  CHECK(refused("type: OCI\nconfig:\n  provider: " + kSecret + "\n") ==
        "objstore.yaml: config.provider: not a supported value (type OCI)");
  CHECK(refused("type: OBS\nconfig:\n  bucket: b\n  access_key: a\n  secret_key: " + kSecret + "\n") ==
        "objstore.yaml: config.endpoint: required for type OBS");
}

TEST_CASE("thanos objstore: unknown keys, bad or missing types and non-mappings are refused",
          "[unit][components][thanos]") {
  CHECK(refused(kFilesystem + "bucket: " + kSecret + "\n") ==
        "objstore.yaml: bucket: unknown field (allowed: type, config, prefix)");
  CHECK(refused("type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  no_such_field: " + kSecret + "\n") ==
        "objstore.yaml: config.no_such_field: unknown field for type S3");
  CHECK(refused("type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  http_config:\n    tls_config:\n"
                "      cafile: " +
                kSecret + "\n") ==
        "objstore.yaml: config.http_config.tls_config.cafile: unknown field for type S3");
  for (const char* type : {"GCS", "AZURE", "SWIFT", "OBS", "FILESYSTEM", "COS", "BOS", "OCI", "ALIYUNOSS"}) {
    INFO(type);
    CHECK(refused(std::string("type: ") + type + "\nconfig:\n  secret_kee: " + kSecret + "\n") ==
          std::string("objstore.yaml: config.secret_kee: unknown field for type ") + type);
  }
  CHECK(refused("type: GCS\nconfig:\n  bucket: b\n  no_auth: true\n") ==
        "objstore.yaml: config.no_auth: unknown field for type GCS");
  // A key that is not a field name (could be a mis-indented secret) is not echoed.
  CHECK(refused("type: GCS\nconfig:\n  \"" + kSecret + "/+=\": x\n  bucket: b\n") ==
        "objstore.yaml: config.<a key that is not a field name>: unknown field for type GCS");
  CHECK(refused("type: " + kSecret + "\nconfig: {}\n") ==
        "objstore.yaml: type: not a supported object-store type");
  CHECK(refused("type: memory\n") == "objstore.yaml: type: MEMORY (in-process, for tests) is not supported");
  auto e = thanos::check_objstore("type: MEMORY\n", "objstore.yaml");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().hint == "use one of GCS, S3, AZURE, SWIFT, COS, ALIYUNOSS, FILESYSTEM, BOS, OCI, OBS");
  CHECK(refused("config:\n  bucket: b\n") == "objstore.yaml: type: required");
  CHECK(refused("type: [S3]\n") == "objstore.yaml: type: must be a name");
  CHECK(refused("type: S3\nconfig: " + kSecret + "\n") ==
        "objstore.yaml: config: must be a mapping of the S3 settings");
  CHECK(refused("type: S3\nconfig:\n  bucket: [b]\n  endpoint: e\n") ==
        "objstore.yaml: config.bucket: must be a single value, not a list");
  CHECK(refused("") == "objstore.yaml: empty: expected a mapping with `type` and `config`");
  CHECK(refused("# only a comment\n") == "objstore.yaml: empty: expected a mapping with `type` and `config`");
  CHECK(refused("- type: S3\n- " + kSecret + "\n") ==
        "objstore.yaml: not a mapping: expected `type`, `config` and optionally `prefix`");
  CHECK(refused(kSecret + "\n") ==
        "objstore.yaml: not a mapping: expected `type`, `config` and optionally `prefix`");
  auto not_yaml = refused("type: S3\nconfig:\n  secret_key: " + kSecret + ": " + kSecret + "\n");
  CHECK(not_yaml.rfind("objstore.yaml: line ", 0) == 0);
  CHECK(not_yaml.find(": not valid YAML") != std::string::npos);
}

TEST_CASE("thanos compactor: retention durations and the downsampling minimums",
          "[unit][components][thanos]") {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  CHECK(*thanos::parse_duration("0d") == milliseconds(0));
  CHECK(*thanos::parse_duration("0") == milliseconds(0));
  CHECK(*thanos::parse_duration("1w") == hours(24 * 7));
  CHECK(*thanos::parse_duration("1y") == hours(24 * 365));
  CHECK(*thanos::parse_duration("1d12h") == hours(36));
  CHECK(*thanos::parse_duration("1h30m15s10ms") == milliseconds(5415010));
  CHECK(*thanos::parse_duration("90ms") == milliseconds(90));
  for (const char* bad : {"", "d", "30", "30x", "1.5h", "-1d", "1h1d", "1d1d", "30 d", "1mm"}) {
    INFO(bad);
    CHECK_FALSE(thanos::parse_duration(bad).ok());
  }

  thanos::CompactorOptions o;
  CHECK(thanos::check_compactor(o).ok());  // 0d everywhere: keep forever
  o.retention_raw = "40h";
  o.retention_5m = "10d";
  o.retention_1h = "1y";
  CHECK(thanos::check_compactor(o).ok());  // the boundaries themselves
  o.retention_raw = "39h59m";
  auto r = thanos::check_compactor(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "--retention-raw: 39h59m is shorter than 40h, the block size after which 5m "
        "downsampling happens");
  CHECK(r.error().exit == ExitCode::usage);
  o.retention_raw = "30d";
  o.retention_5m = "9d23h";
  r = thanos::check_compactor(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "--retention-5m: 9d23h is shorter than 10d, the block size after which 1h "
        "downsampling happens");
  o.downsampling = false;  // without downsampling, any retention
  o.retention_raw = "1h";
  o.retention_5m = "1h";
  CHECK(thanos::check_compactor(o).ok());
  o.retention_1h = "forever";
  r = thanos::check_compactor(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "--retention-1h: \"forever\": not a duration");
  CHECK_FALSE(r.error().hint.empty());
  o.retention_1h = "0d";
  o.retention_raw = "2 days";
  r = thanos::check_compactor(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.rfind("--retention-raw: ", 0) == 0);
}

TEST_CASE("thanos endpoints: the sd-config file lists the sidecars once, then Store and Receive",
          "[unit][components][thanos]") {
  std::vector<thanos::Endpoint> sidecars = {{"member1", "10.0.0.1:10901"},
                                            {"member2", "10.0.0.2:10901", true},
                                            {"member1-again", "10.0.0.1:10901"}};
  auto doc = yaml::parse_one(thanos::endpoints_file(sidecars), "endpoints.yaml");
  REQUIRE(doc.ok());
  const json expected = {
      {"endpoints",
       {{{"address", "10.0.0.1:10901"}},
        {{"address", "10.0.0.2:10901"}, {"strict", true}},
        {{"address", "dnssrv+_grpc._tcp.thanos-store.thanos.svc.cluster.local:10901"}},
        {{"address", "dnssrv+_grpc._tcp.thanos-receive-ingestor-default.thanos.svc.cluster.local:10901"}}}}};
  CHECK(*doc == expected);
  auto only = yaml::parse_one(thanos::endpoints_file({}, false), "endpoints.yaml");
  REQUIRE(only.ok());
  CHECK((*only)["endpoints"] == json::array());

  auto cm = thanos::endpoints_configmap(sidecars);
  CHECK(cm["kind"] == "ConfigMap");
  CHECK(cm["metadata"]["name"] == "thanos-query-endpoints");
  CHECK(cm["metadata"]["namespace"] == "thanos");
  CHECK(cm["metadata"]["labels"]["kurator.dev/component"] == "thanos");
  CHECK(cm["data"]["endpoints.yaml"] == thanos::endpoints_file(sidecars));
}

TEST_CASE("thanos host objects: kube-thanos edited for v0.42.2", "[unit][components][thanos]") {
  auto dir = kube_thanos_dir();
  if (dir.empty() || !stdfs::exists(dir / "manifests")) {
    test::skip("kube-thanos v0.29.0 fixture not found under " + test::fixtures_dir().string());
    WARN("SKIPPED: kube-thanos fixture missing");
    return;
  }
  thanos::HostOptions o;
  o.kube_thanos_dir = dir;
  o.objstore_text =
      "type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  access_key: a\n  secret_key: " + kSecret + "\n";
  o.objstore_source = "bucket.yaml";
  o.receive_replicas = 3;
  o.replica_labels = {"prometheus_replica", "rule_replica"};
  o.compactor.retention_raw = "30d";
  o.sidecars = {{"member1", "172.18.0.10:30901"}};
  auto r = thanos::host_objects(o);
  REQUIRE(r.ok());
  const auto& objs = *r;

  std::set<std::string> got;
  for (const auto& obj : objs) {
    got.insert(obj["kind"].get<std::string>() + "/" + obj["metadata"]["name"].get<std::string>());
    if (obj["kind"] != "Namespace") CHECK(obj["metadata"]["namespace"] == "thanos");
    const auto& l = obj["metadata"]["labels"];
    CHECK(l["app.kubernetes.io/managed-by"] == "kurator");
    CHECK(l["kurator.dev/component"] == "thanos");
    CHECK(l["kurator.dev/version"] == "v0.42.2");
    CHECK(obj.dump().find("v0.29.0") == std::string::npos);
    CHECK_FALSE(obj.contains("/spec/volumeClaimTemplates"_json_pointer));
    if (obj["kind"] != "Secret") CHECK(obj.dump().find(kSecret) == std::string::npos);
  }
  const std::set<std::string> expected = {"Namespace/thanos",
                                          "Secret/thanos-objstore-config",
                                          "ConfigMap/thanos-query-endpoints",
                                          "ConfigMap/hashring-config",
                                          "ServiceAccount/thanos-query",
                                          "ServiceAccount/thanos-store",
                                          "ServiceAccount/thanos-compact",
                                          "ServiceAccount/thanos-receive-router",
                                          "ServiceAccount/thanos-receive-ingestor",
                                          "ServiceAccount/thanos-query-frontend",
                                          "Service/thanos-query",
                                          "Service/thanos-store",
                                          "Service/thanos-compact",
                                          "Service/thanos-receive-router",
                                          "Service/thanos-receive-ingestor-default",
                                          "Service/thanos-query-frontend",
                                          "Deployment/thanos-query",
                                          "StatefulSet/thanos-store",
                                          "StatefulSet/thanos-compact",
                                          "Deployment/thanos-receive-router",
                                          "StatefulSet/thanos-receive-ingestor-default",
                                          "Deployment/thanos-query-frontend"};
  CHECK(got == expected);
  CHECK(objs.front()["kind"] == "Namespace");

  const json* secret = find(objs, "Secret", "thanos-objstore-config");
  REQUIRE(secret);
  CHECK((*secret)["stringData"]["thanos.yaml"] == o.objstore_text);

  const std::map<std::string, std::pair<std::string, std::string>> workloads = {
      {"thanos-query", {"Deployment", "thanos-query"}},
      {"thanos-store", {"StatefulSet", "thanos-store"}},
      {"thanos-compact", {"StatefulSet", "thanos-compact"}},
      {"thanos-receive-router", {"Deployment", "thanos-receive"}},
      {"thanos-receive-ingestor-default", {"StatefulSet", "thanos-receive"}},
      {"thanos-query-frontend", {"Deployment", "thanos-query-frontend"}}};
  std::map<std::string, std::vector<std::string>> args;
  for (const auto& [name, kc] : workloads) {
    INFO(name);
    const json* w = find(objs, kc.first, name);
    REQUIRE(w);
    for (const auto& c : (*w)["spec"]["template"]["spec"]["containers"])
      CHECK(c["image"] == "quay.io/thanos/thanos:v0.42.2");
    args[name] = thanos::container_args(*w, kc.second);
    CHECK(thanos::container_args(*w, "no-such-container").empty());
    REQUIRE_FALSE(args[name].empty());
    for (const auto& a : args[name]) {
      CHECK(a.rfind("--store=", 0) != 0);
      CHECK(a.rfind("--objstore.config=", 0) != 0);  // a secret in an argument
      CHECK(a.rfind("--tracing.config", 0) != 0);
      CHECK(a.find("MEMCACHED") == std::string::npos);
    }
    const json& sel = (*w)["spec"]["selector"]["matchLabels"];
    const json& tl = (*w)["spec"]["template"]["metadata"]["labels"];
    for (auto it = sel.begin(); it != sel.end(); ++it) CHECK(tl.value(it.key(), "") == it.value());
    auto ns = (*w)["spec"]["template"]["spec"].value("nodeSelector", json::object());
    CHECK_FALSE(ns.contains("beta.kubernetes.io/os"));
  }
  // Every Service selects the pods of one of the workloads.
  for (const auto& svc : objs) {
    if (svc["kind"] != "Service") continue;
    INFO(svc["metadata"]["name"]);
    const json& sel = svc["spec"]["selector"];
    REQUIRE(sel.is_object());
    bool matched = false;
    for (const auto& w : objs) {
      if (w["kind"] != "Deployment" && w["kind"] != "StatefulSet") continue;
      const json& tl = w["spec"]["template"]["metadata"]["labels"];
      bool all = true;
      for (auto it = sel.begin(); it != sel.end(); ++it) all = all && tl.value(it.key(), "") == it.value();
      matched = matched || all;
    }
    CHECK(matched);
  }
  auto has = [&](const std::string& w, const std::string& a) {
    return std::find(args[w].begin(), args[w].end(), a) != args[w].end();
  };
  CHECK(has("thanos-query", "--endpoint.sd-config-file=/etc/thanos/endpoints/endpoints.yaml"));
  CHECK(has("thanos-query", "--query.replica-label=prometheus_replica"));
  CHECK(has("thanos-query", "--query.replica-label=rule_replica"));
  const json* query = find(objs, "Deployment", "thanos-query");
  bool mounted = false;
  for (const auto& m : (*query)["spec"]["template"]["spec"]["containers"][0]["volumeMounts"])
    mounted |= m["mountPath"] == "/etc/thanos/endpoints" && m["name"] == "endpoints";
  CHECK(mounted);
  bool volume = false;
  for (const auto& v : (*query)["spec"]["template"]["spec"]["volumes"])
    volume |= v["name"] == "endpoints" && v["configMap"]["name"] == "thanos-query-endpoints";
  CHECK(volume);
  const json* ep = find(objs, "ConfigMap", "thanos-query-endpoints");
  REQUIRE(ep);
  CHECK((*ep)["data"]["endpoints.yaml"] == thanos::endpoints_file(o.sidecars));

  for (const char* w : {"thanos-store", "thanos-compact", "thanos-receive-ingestor-default"})
    CHECK(has(w, "--objstore.config-file=/etc/thanos/objstore/thanos.yaml"));
  CHECK(args["thanos-compact"].at(0) == "compact");
  CHECK(args["thanos-compact"].at(1) == "--wait");
  CHECK(has("thanos-compact", "--retention.resolution-raw=30d"));
  CHECK(has("thanos-compact", "--retention.resolution-5m=0d"));
  CHECK(has("thanos-compact", "--retention.resolution-1h=0d"));
  CHECK_FALSE(has("thanos-compact", "--downsampling.disable"));
  CHECK(has("thanos-compact", "--deduplication.replica-label=prometheus_replica"));
  CHECK(has("thanos-compact", "--deduplication.replica-label=rule_replica"));
  const json* compact = find(objs, "StatefulSet", "thanos-compact");
  CHECK((*compact)["spec"]["replicas"] == 1);
  bool data_empty_dir = false;
  for (const auto& v : (*compact)["spec"]["template"]["spec"]["volumes"])
    data_empty_dir |= v["name"] == "data" && v.contains("emptyDir");
  CHECK(data_empty_dir);

  const json* ingestor = find(objs, "StatefulSet", "thanos-receive-ingestor-default");
  CHECK((*ingestor)["spec"]["replicas"] == 3);
  CHECK_FALSE(has("thanos-receive-ingestor-default",
                  "--receive.hashrings-file=/var/lib/thanos-receive/hashrings.json"));
  CHECK(has("thanos-receive-router", "--receive.hashrings-file=/var/lib/thanos-receive/hashrings.json"));
  const json* ring = find(objs, "ConfigMap", "hashring-config");
  auto ring_doc = json::parse((*ring)["data"]["hashrings.json"].get<std::string>());
  CHECK(ring_doc[0]["endpoints"].size() == 3);
  CHECK(ring_doc[0]["endpoints"][2] ==
        "thanos-receive-ingestor-default-2.thanos-receive-ingestor-default.thanos.svc.cluster.local:10901");

  // Downsampling off, persistent storage on.
  o.compactor = {};
  o.compactor.downsampling = false;
  o.compactor.retention_raw = "2d";
  o.persistent_storage = true;
  auto r2 = thanos::host_objects(o);
  REQUIRE(r2.ok());
  const json* c2 = find(*r2, "StatefulSet", "thanos-compact");
  auto a2 = thanos::container_args(*c2, "thanos-compact");
  CHECK(std::count(a2.begin(), a2.end(), "--downsampling.disable") == 1);
  CHECK(c2->contains("/spec/volumeClaimTemplates"_json_pointer));

  // The options are checked first.
  o.objstore_text = "type: S3\nconfig:\n  bucket: b\n  secret_key: " + kSecret + "\n";
  auto bad = thanos::host_objects(o);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "bucket.yaml: config.endpoint: required for type S3");
  o.objstore_text = kFilesystem;
  o.compactor.downsampling = true;
  o.compactor.retention_raw = "1d";
  CHECK_FALSE(thanos::host_objects(o).ok());
  o.compactor.retention_raw = "0d";
  o.receive_replicas = 0;
  CHECK_FALSE(thanos::host_objects(o).ok());
  o.receive_replicas = 1;
  o.kube_thanos_dir = dir / "no-such-dir";
  auto missing = thanos::host_objects(o);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("is missing from the artifact") != std::string::npos);
}
