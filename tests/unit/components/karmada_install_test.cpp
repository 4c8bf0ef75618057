// The in-cluster install's host object list (manifests/karmada/host/ + the PKI): every workload, the
// pinned images and --image-registry, the apiserver's SANs and flags, the Service type, Secrets
// redacted for --dry-run, bad input refused.
#include <kurator/components/karmada_install.hpp>
#include <kurator/providers/pki.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/yaml.hpp>

#include <algorithm>
#include <catch2/catch.hpp>

namespace ki = kurator::components::karmada_install;
namespace pki = kurator::providers::pki;
namespace versions = kurator::providers::versions;
using json = nlohmann::json;
using kurator::ExitCode;

namespace {

const ki::Pki& shared_pki() {
  static const ki::Pki p = [] {
    ki::Options o;
    o.apiserver_ips = {"172.18.0.5"};
    auto r = ki::make_pki(o);
    REQUIRE(r.ok());
    return *r;
  }();
  return p;
}

std::vector<json> objects_for(const ki::Options& o) {
  auto objs = ki::host_objects(o, shared_pki());
  INFO((objs.ok() ? std::string() : objs.error().message));
  REQUIRE(objs.ok());
  return *objs;
}

const json* named(const std::vector<json>& objs, const std::string& kind, const std::string& name) {
  for (const auto& o : objs)
    if (o.value("kind", "") == kind && o["metadata"].value("name", "") == name) return &o;
  return nullptr;
}

std::vector<std::string> command_of(const json& workload) {
  return workload["spec"]["template"]["spec"]["containers"][0]["command"].get<std::vector<std::string>>();
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const std::vector<std::pair<std::string, std::string>> kWorkloads = {
    {"StatefulSet", "etcd"},
    {"Deployment", "karmada-apiserver"},
    {"Deployment", "karmada-aggregated-apiserver"},
    {"Deployment", "kube-controller-manager"},
    {"Deployment", "karmada-scheduler"},
    {"Deployment", "karmada-controller-manager"},
    {"Deployment", "karmada-webhook"}};

}  // namespace

TEST_CASE("karmada install: every workload with its pinned image, every object in the namespace",
          "[components][karmada]") {
  ki::Options o;
  auto objs = objects_for(o);
  for (const auto& [kind, name] : kWorkloads) {
    INFO(kind + "/" + name);
    const json* w = named(objs, kind, name);
    REQUIRE(w != nullptr);
    const std::string img = w->at("spec")["template"]["spec"]["containers"][0]["image"];
    if (name == "etcd")
      CHECK(img == "registry.k8s.io/etcd:" + std::string(versions::etcd).substr(1) + "-0");
    else if (name == "karmada-apiserver")
      CHECK(img == "registry.k8s.io/kube-apiserver:" + std::string(versions::kubernetes));
    else if (name == "kube-controller-manager")
      CHECK(img == "registry.k8s.io/kube-controller-manager:" + std::string(versions::kubernetes));
    else
      CHECK(img == "docker.io/karmada/" + name + ":" + std::string(versions::karmada));
  }
  for (const std::string svc :
       {"etcd", "karmada-apiserver", "karmada-aggregated-apiserver", "karmada-webhook"})
    CHECK(named(objs, "Service", svc) != nullptr);
  for (const std::string s : {"karmada-cert", "etcd-cert", "karmada-webhook-cert", "karmada-scheduler-config",
                              "karmada-controller-manager-config", "kube-controller-manager-config",
                              "karmada-aggregated-apiserver-config", "karmada-webhook-config"})
    CHECK(named(objs, "Secret", s) != nullptr);
  const json* ns = named(objs, "Namespace", "karmada-system");
  REQUIRE(ns != nullptr);
  CHECK(ns->at("metadata")["labels"][ki::kManagedByLabel] == "kurator");
  for (const auto& obj : objs)
    if (obj.value("kind", "") != "Namespace")
      CHECK(obj["metadata"].value("namespace", "") == "karmada-system");
  // The apiserver's flags of karmadactl init, with the etcd address of the namespace.
  auto api = command_of(*named(objs, "Deployment", "karmada-apiserver"));
  CHECK(has(api, "--secure-port=5443"));
  CHECK(has(api, "--etcd-servers=https://etcd-0.etcd.karmada-system.svc.cluster.local:2379"));
  CHECK(has(api, "--disable-admission-plugins=StorageObjectInUseProtection,ServiceAccount"));
  CHECK(has(api, "--enable-bootstrap-token-auth=true"));
  CHECK(has(api, "--tls-min-version=VersionTLS13"));
  CHECK(has(api, "--requestheader-allowed-names=front-proxy-client"));
  auto kcm = command_of(*named(objs, "Deployment", "kube-controller-manager"));
  CHECK(has(kcm,
            "--controllers=namespace,garbagecollector,serviceaccount-token,ttl-after-finished,"
            "bootstrapsigner,tokencleaner,csrcleaner,csrsigning,clusterrole-aggregation"));
  // The default Service type is NodePort 32443, as karmadactl init's.
  const json* svc = named(objs, "Service", "karmada-apiserver");
  CHECK(svc->at("spec")["type"] == "NodePort");
  CHECK(svc->at("spec")["ports"][0]["nodePort"] == ki::kDefaultNodePort);
}

TEST_CASE("karmada install: --image-registry, -n and the Service type are structured edits",
          "[components][karmada]") {
  ki::Options o;
  o.namespace_ = "fleet-cp";
  o.image_registry = "mirror.example.com:5000/k";
  o.service_type = "ClusterIP";
  auto objs = objects_for(o);
  for (const auto& [kind, name] : kWorkloads) {
    const json* w = named(objs, kind, name);
    REQUIRE(w != nullptr);
    const std::string img = w->at("spec")["template"]["spec"]["containers"][0]["image"];
    CHECK(img.rfind("mirror.example.com:5000/k/", 0) == 0);
  }
  CHECK(named(objs, "Namespace", "fleet-cp") != nullptr);
  CHECK(has(command_of(*named(objs, "Deployment", "karmada-aggregated-apiserver")),
            "--etcd-servers=https://etcd-0.etcd.fleet-cp.svc.cluster.local:2379"));
  CHECK(has(command_of(*named(objs, "StatefulSet", "etcd")),
            "--initial-cluster=etcd-0=http://etcd-0.etcd.fleet-cp.svc.cluster.local:2380"));
  CHECK(has(command_of(*named(objs, "Deployment", "karmada-scheduler")),
            "--leader-elect-resource-namespace=fleet-cp"));
  const json* svc = named(objs, "Service", "karmada-apiserver");
  CHECK(svc->at("spec")["type"] == "ClusterIP");
  CHECK_FALSE(svc->at("spec")["ports"][0].contains("nodePort"));
  // The components' kubeconfig names the apiserver's Service in that namespace.
  auto cfg = kurator::base64::decode(
      named(objs, "Secret", "karmada-scheduler-config")->at("data")["karmada.config"].get<std::string>());
  REQUIRE(cfg);
  CHECK(cfg->find("https://karmada-apiserver.fleet-cp.svc.cluster.local:5443") != std::string::npos);
}

TEST_CASE("karmada install: the PKI, its SANs and chains, round trip through the karmada-cert Secret",
          "[components][karmada]") {
  const auto& p = shared_pki();
  auto api = pki::inspect(p.at("apiserver.crt"));
  REQUIRE(api.ok());
  for (const std::string dns :
       {"karmada-apiserver.karmada-system.svc", "karmada-apiserver.karmada-system.svc.cluster.local",
        "localhost", "kubernetes.default.svc"})
    CHECK(std::count(api->dns_names.begin(), api->dns_names.end(), dns) == 1);
  CHECK(has(api->ip_addresses, "127.0.0.1"));
  CHECK(has(api->ip_addresses, "172.18.0.5"));
  CHECK(api->server_auth);
  auto admin = pki::inspect(p.at("karmada.crt"));
  REQUIRE(admin.ok());
  CHECK(admin->common_name == "system:admin");
  CHECK(admin->organizations == std::vector<std::string>{"system:masters"});
  CHECK(pki::verify(p.at("ca.crt"), p.at("karmada-webhook.crt")).ok());
  CHECK(pki::verify(p.at("ca.crt"), p.at("karmada-aggregated-apiserver.crt")).ok());
  CHECK(pki::verify(p.at("etcd-ca.crt"), p.at("etcd-client.crt")).ok());
  CHECK(pki::verify(p.at("front-proxy-ca.crt"), p.at("front-proxy-client.crt")).ok());
  auto hook = pki::inspect(p.at("karmada-webhook.crt"));
  REQUIRE(hook.ok());
  CHECK(has(hook->dns_names, "karmada-webhook.karmada-system.svc"));

  auto objs = objects_for(ki::Options{});
  auto back = ki::pki_from_secret(*named(objs, "Secret", ki::kCertSecret));
  REQUIRE(back.ok());
  CHECK(*back == p);
  json broken = *named(objs, "Secret", ki::kCertSecret);
  broken["data"].erase("sa.key");
  auto bad = ki::pki_from_secret(broken);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("sa.key") != std::string::npos);
}

TEST_CASE("karmada install: the dry-run form holds no secret", "[components][karmada]") {
  auto objs = objects_for(ki::Options{});
  std::string dump;
  for (const auto& o : objs) dump += kurator::yaml::dump(ki::redact(o));
  CHECK(dump.find("PRIVATE KEY") == std::string::npos);
  CHECK(dump.find("<redacted>") != std::string::npos);
  for (const auto& [k, v] : shared_pki()) {
    INFO(k);
    CHECK(dump.find(kurator::base64::encode(v).substr(0, 40)) == std::string::npos);
  }
  // Other kinds are left as they are.
  const json* dep = named(objs, "Deployment", "karmada-webhook");
  CHECK(ki::redact(*dep) == *dep);
}

TEST_CASE("karmada install: bad input is one usage error naming it", "[components][karmada]") {
  ki::Options o;
  o.service_type = "Ingress";
  auto e = ki::validate(o);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().exit == ExitCode::usage);
  CHECK(e.error().message.find("Ingress") != std::string::npos);
  CHECK_FALSE(e.error().hint.empty());

  o = {};
  o.namespace_ = "Karmada_System";
  e = ki::validate(o);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().exit == ExitCode::usage);
  CHECK(e.error().message.find("Karmada_System") != std::string::npos);

  for (const std::string r : {"https://mirror.example.com", "mirror.example.com/", "a b"}) {
    o = {};
    o.image_registry = r;
    e = ki::validate(o);
    INFO(r);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().exit == ExitCode::usage);
  }
  o = {};
  o.namespace_ = "-bad";
  CHECK_FALSE(ki::host_objects(o, shared_pki()).ok());
  CHECK(ki::image("karmada-webhook", "r.example/x") ==
        "r.example/x/karmada-webhook:" + std::string(versions::karmada));
}
