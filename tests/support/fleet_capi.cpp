// Cluster API beside a local management cluster (see fleet_capi.hpp).
#include "support/fleet_capi.hpp"

#include <kurator/core/kubeconfig.hpp>
#include <kurator/core/process.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/providers/pki.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>

#include "support/test_env.hpp"

namespace kurator::test {
namespace stdfs = std::filesystem;
using json = nlohmann::json;
namespace pki = providers::pki;

namespace {

std::string tail_of(const stdfs::path& p, size_t n) {
  auto text = fs::read_file(p);
  if (!text) return {};
  return text->size() <= n ? *text : "[...]" + text->substr(text->size() - n);
}

// A JSON merge patch of an object's main resource (what `kubectl patch --type merge` sends).
Status merge_patch(kube::Client& c, const json& obj, const json& patch) {
  auto gvk = kube::GroupVersionKind::from_api_version(obj.value("apiVersion", ""), obj.value("kind", ""));
  auto path = c.path_for(gvk, obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""));
  if (!path) return path.error();
  auto r = c.request("PATCH", *path, patch.dump(), "application/merge-patch+json");
  if (!r) return r.error();
  if (r->status >= 300) return Error("PATCH " + *path + ": HTTP " + std::to_string(r->status) + ": " + r->body);
  return {};
}

}  // namespace

LoopbackPki LoopbackPki::make(const stdfs::path& dir) {
  LoopbackPki p;
  p.dir = dir;
  stdfs::create_directories(dir);
  auto ca = pki::make_ca("kurator-e2e-webhook-ca");
  REQUIRE(ca.ok());
  pki::CertRequest req;
  req.common_name = "127.0.0.1";
  req.dns_names = {"localhost"};
  req.ip_addresses = {"127.0.0.1"};
  req.server = true;
  auto leaf = pki::issue(*ca, req);
  REQUIRE(leaf.ok());
  REQUIRE(fs::write_file_atomic(dir / "tls.crt", leaf->cert_pem).ok());
  REQUIRE(fs::write_private_file(dir / "tls.key", leaf->key_pem).ok());
  REQUIRE(fs::write_file_atomic(dir / "ca.crt", ca->cert_pem).ok());
  p.ca_pem = ca->cert_pem;
  return p;
}

std::unique_ptr<kube::Client> client_of(const FleetCluster& c) {
  kubeconfig::LoadOptions lo;
  lo.explicit_path = c.kubeconfig.string();
  auto cfg = kubeconfig::load(lo);
  REQUIRE(cfg.ok());
  return std::make_unique<kube::Client>(*cfg);
}

// ---- the real controllers ---------------------------------------------------------------------------------

stdfs::path ClusterApiControllers::binary(const std::string& name) {
  return cached_binary("cluster-api", kVersion, name);
}

std::string ClusterApiControllers::skip_reason() {
  for (const char* b : {"capi-core", "capi-kubeadm-bootstrap", "capi-kubeadm-control-plane"})
    if (!stdfs::exists(binary(b)))
      return std::string("the real Cluster API controllers are missing (") + binary(b).string() +
             "): run scripts/build-test-binaries.sh";
  return {};
}

ClusterApiControllers::ClusterApiControllers(const FleetCluster& mgmt, const LoopbackPki& pki) {
  m_dir = stdfs::temp_directory_path() / ("kurator-capi-" + mgmt.name + "-" + std::to_string(::getpid()));
  stdfs::create_directories(m_dir);
  auto registry = mgmt.dir.parent_path().parent_path() / "test-processes";
  stdfs::create_directories(registry);
  // Three ports for each controller (webhook, health, diagnostics), distinct from each other.
  auto ports = providers::local::pick_free_ports(9);
  REQUIRE(ports.ok());
  size_t next = 0;
  struct Def {
    const char* name;
    const char* service;
  };
  for (const Def& d : {Def{"capi-core", "capi-webhook-service"},
                       Def{"capi-kubeadm-bootstrap", "capi-kubeadm-bootstrap-webhook-service"},
                       Def{"capi-kubeadm-control-plane", "capi-kubeadm-control-plane-webhook-service"}}) {
    auto p = std::make_unique<Proc>();
    p->name = d.name;
    p->service = d.service;
    p->port = (*ports)[next++];
    p->log = m_dir / (p->name + ".log");
    p->pid_file = registry / (p->name + "-" + mgmt.name + "-" + std::to_string(::getpid()) + ".pid");
    const int health = (*ports)[next++], diag = (*ports)[next++];
    p->argv = {binary(p->name).string(),
               "--kubeconfig=" + mgmt.kubeconfig.string(),
               "--webhook-port=" + std::to_string(p->port),
               "--webhook-cert-dir=" + pki.dir.string(),
               "--health-addr=127.0.0.1:" + std::to_string(health),
               "--diagnostics-address=127.0.0.1:" + std::to_string(diag),
               "--insecure-diagnostics",
               "--leader-elect=false",
               "--sync-period=1m",
               "--v=2"};
    m_procs.push_back(std::move(p));
  }
  auto client = client_of(mgmt);
  m_supervisor = std::thread([this, client = std::shared_ptr<kube::Client>(std::move(client))] {
    // Each controller reads at startup which of its kinds are served: start them, as their pods would
    // start, once the providers' CRDs are served by discovery.
    auto served = [&](const char* gv, const char* resource) {
      auto r = client->request("GET", gv, "", "");
      if (!r || r->status != 200) return false;
      auto doc = json::parse(r->body, nullptr, false);
      if (!doc.is_object()) return false;
      for (const auto& res : doc.value("resources", json::array()))
        if (res.value("name", "") == resource) return true;
      return false;
    };
    while (!m_stop.load()) {
      if (served("/apis/cluster.x-k8s.io/v1beta2", "clusters") &&
          served("/apis/bootstrap.cluster.x-k8s.io/v1beta2", "kubeadmconfigs") &&
          served("/apis/controlplane.cluster.x-k8s.io/v1beta2", "kubeadmcontrolplanes") &&
          served("/apis/infrastructure.cluster.x-k8s.io/v1beta2", "awsmachines"))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    while (!m_stop.load()) {
      for (auto& p : m_procs) {
        if (m_stop.load()) break;
        if (p->pid.load() > 0 && process::is_alive(p->pid.load())) continue;
        process::DaemonSpec spec;
        spec.argv = p->argv;
        spec.log_file = p->log;
        spec.pid_file = p->pid_file;
        if (auto pid = process::start_daemon(spec)) {
          p->pid = *pid;
          ++m_starts;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // also the restart back-off
    }
  });
}

ClusterApiControllers::~ClusterApiControllers() {
  m_stop = true;
  if (m_supervisor.joinable()) m_supervisor.join();
  for (auto& p : m_procs) {
    if (p->pid > 0) process::stop_pid(p->pid, std::chrono::seconds(5));
    std::error_code ec;
    stdfs::remove(p->pid_file, ec);
  }
  std::error_code ec;
  stdfs::remove_all(m_dir, ec);
}

std::map<std::string, int> ClusterApiControllers::routes() const {
  std::map<std::string, int> r;
  for (const auto& p : m_procs) r[p->service] = p->port;
  return r;
}

std::string ClusterApiControllers::log() const {
  std::string out;
  for (const auto& p : m_procs) out += "--- " + p->name + " (log " + p->log.string() + ")\n" + tail_of(p->log, 3000);
  return out;
}

// ---- the in-cluster Services and the cainjector ------------------------------------------------------------

WebhookRouter::WebhookRouter(const FleetCluster& cluster, std::map<std::string, int> routes, std::string ca_pem) {
  auto client = client_of(cluster);
  m_thread = std::thread([this, routes = std::move(routes), ca = base64::encode(ca_pem),
                          client = std::shared_ptr<kube::Client>(std::move(client))] {
    // Rewrites one clientConfig that names a routed Service; true when it changed.
    auto route = [&](json& cc) {
      if (!cc.is_object() || !cc.contains("service")) return false;
      auto it = routes.find(cc["service"].value("name", ""));
      if (it == routes.end()) return false;
      std::string path = cc["service"].value("path", "");
      cc = {{"url", "https://127.0.0.1:" + std::to_string(it->second) + path}, {"caBundle", ca}};
      return true;
    };
    while (!m_stop.load()) {
      for (const char* kind : {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}) {
        auto l = client->list("admissionregistration.k8s.io/v1", kind);
        if (!l) continue;
        for (auto& obj : (*l)["items"]) {
          bool changed = false;
          for (auto& w : obj["webhooks"]) changed |= route(w["clientConfig"]);
          if (!changed) continue;
          obj["apiVersion"] = "admissionregistration.k8s.io/v1";
          obj["kind"] = kind;
          if (merge_patch(*client, obj, {{"webhooks", obj["webhooks"]}})) ++m_rewritten;
        }
      }
      auto crds = client->list("apiextensions.k8s.io/v1", "CustomResourceDefinition");
      if (crds)
        for (auto& crd : (*crds)["items"]) {
          auto conv = crd.value("/spec/conversion"_json_pointer, json::object());
          if (conv.value("strategy", "") != "Webhook") continue;
          auto cc = conv.value("/webhook/clientConfig"_json_pointer, json::object());
          if (!route(cc)) continue;
          crd["apiVersion"] = "apiextensions.k8s.io/v1";
          crd["kind"] = "CustomResourceDefinition";
          // A merge patch merges objects: the Service must be removed explicitly.
          json patch_cc = cc;
          patch_cc["service"] = nullptr;
          if (merge_patch(*client, crd, {{"spec", {{"conversion", {{"webhook", {{"clientConfig", patch_cc}}}}}}}}))
            ++m_rewritten;
        }
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
  });
}

WebhookRouter::~WebhookRouter() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

// ---- AWS, CAPA, kubeadm on the machines and cert-manager (TEST HELPER) ---------------------------------------

AwsStandIn::AwsStandIn(Options opts, const LoopbackPki& pki) : m_opts(std::move(opts)) {
  LoopbackServer::Options so;
  so.script = stdfs::path(KURATOR_SOURCE_DIR) / "tests" / "data" / "capi" / "admission_stub.py";
  so.cert = pki.dir / "tls.crt";
  so.key = pki.dir / "tls.key";
  m_stub = std::make_unique<LoopbackServer>(so);
  m_thread = std::thread([this] { loop(); });
}

AwsStandIn::~AwsStandIn() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

std::set<std::string> AwsStandIn::held() const {
  std::lock_guard<std::mutex> lk(m_mu);
  return m_held;
}

std::string AwsStandIn::log() const {
  std::lock_guard<std::mutex> lk(m_mu);
  return m_log;
}

void AwsStandIn::say(const std::string& line) {
  std::lock_guard<std::mutex> lk(m_mu);
  m_log += line + "\n";
}

void AwsStandIn::loop() {
  auto mgmt = client_of(m_opts.management);
  auto wl = client_of(m_opts.workload);
  const std::string ns = m_opts.namespace_;
  const std::string endpoint_host = "127.0.0.1";
  const int endpoint_port = std::stoi(wl->config().server.substr(wl->config().server.rfind(':') + 1));
  int next_ip = 10;
  std::map<std::string, std::string> node_of;  // AWSMachine name -> Node name
  auto version_of = [&](const std::string& machine_name) {
    auto m = mgmt->get("cluster.x-k8s.io/v1beta2", "Machine", ns, machine_name);
    return m ? m->value("/spec/version"_json_pointer, std::string("v1.35.4")) : std::string("v1.35.4");
  };
  while (!m_stop.load()) {
    // cert-manager: every Certificate is issued at once.
    if (auto certs = mgmt->list("cert-manager.io/v1", "Certificate")) {
      for (auto& c : (*certs)["items"]) {
        bool ready = false;
        for (const auto& cond : c.value("/status/conditions"_json_pointer, json::array()))
          if (cond.value("type", "") == "Ready" && cond.value("status", "") == "True") ready = true;
        if (ready) continue;
        c["apiVersion"] = "cert-manager.io/v1";
        c["kind"] = "Certificate";
        auto gen = c["metadata"].value("generation", 1L);
        if (mgmt->patch_status(c, {{"status",
                                    {{"conditions", json::array({{{"type", "Ready"},
                                                                  {"status", "True"},
                                                                  {"reason", "Ready"},
                                                                  {"message", "issued by the test's stand-in"},
                                                                  {"observedGeneration", gen}}})}}}}))
          say("cert-manager: Certificate " + c["metadata"].value("namespace", "") + "/" +
              c["metadata"].value("name", "") + " Ready");
      }
    }
    // CAPA: the cluster's infrastructure, reachable at the workload cluster's apiserver.
    if (auto l = mgmt->list("infrastructure.cluster.x-k8s.io/v1beta2", "AWSCluster", {.namespace_ = ns})) {
      for (auto& c : (*l)["items"]) {
        if (c["metadata"].contains("deletionTimestamp")) continue;
        c["apiVersion"] = "infrastructure.cluster.x-k8s.io/v1beta2";
        c["kind"] = "AWSCluster";
        if (c.value("/spec/controlPlaneEndpoint/host"_json_pointer, std::string()).empty()) {
          if (merge_patch(*mgmt, c, {{"spec", {{"controlPlaneEndpoint", {{"host", endpoint_host}, {"port", endpoint_port}}}}}}))
            say("capa: AWSCluster " + c["metadata"].value("name", "") + " endpoint " + endpoint_host + ":" +
                std::to_string(endpoint_port));
        }
        if (!c.value("/status/ready"_json_pointer, false)) {
          if (mgmt->patch_status(c, {{"status", {{"ready", true}}}}))
            say("capa: AWSCluster " + c["metadata"].value("name", "") + " ready");
        }
      }
    }
    // EC2 + kubeadm: each machine gets an instance, which joins the workload cluster.
    if (auto l = mgmt->list("infrastructure.cluster.x-k8s.io/v1beta2", "AWSMachine", {.namespace_ = ns})) {
      for (auto& m : (*l)["items"]) {
        const std::string name = m["metadata"].value("name", "");
        if (m["metadata"].contains("deletionTimestamp")) continue;
        m["apiVersion"] = "infrastructure.cluster.x-k8s.io/v1beta2";
        m["kind"] = "AWSMachine";
        if (m_opts.hold && m_opts.hold(m)) {
          std::lock_guard<std::mutex> lk(m_mu);
          if (m_held.insert(name).second) m_log += "ec2: holding AWSMachine " + name + " (never boots)\n";
          continue;
        }
        if (!node_of.count(name)) {
          auto existing = m.value("/spec/providerID"_json_pointer, std::string());
          node_of[name] = "ip-127-0-1-" + std::to_string(next_ip++);
          (void)existing;
        }
        const std::string node = node_of[name];
        const std::string provider_id = "aws:///us-east-1a/i-" + std::to_string(1000000 + std::hash<std::string>{}(name) % 9000000);
        std::string owner;
        for (const auto& ref : m.value("/metadata/ownerReferences"_json_pointer, json::array()))
          if (ref.value("kind", "") == "Machine") owner = ref.value("name", "");
        auto labels = m.value("/metadata/labels"_json_pointer, json::object());
        const bool control_plane = labels.contains("cluster.x-k8s.io/control-plane");
        if (m.value("/spec/providerID"_json_pointer, std::string()).empty()) {
          if (!merge_patch(*mgmt, m, {{"spec", {{"providerID", provider_id}, {"instanceID", provider_id.substr(provider_id.rfind('/') + 1)}}}}))
            continue;
          say("ec2: AWSMachine " + name + " -> " + provider_id);
        }
        if (!m.value("/status/ready"_json_pointer, false)) {
          json addresses = json::array({{{"type", "InternalIP"}, {"address", "127.0.1." + node.substr(node.rfind('-') + 1)}},
                                        {{"type", "InternalDNS"}, {"address", node}}});
          if (!mgmt->patch_status(m, {{"status", {{"ready", true}, {"instanceState", "running"}, {"addresses", addresses}}}}))
            continue;
          say("ec2: AWSMachine " + name + " running");
        }
        // kubeadm on the instance: the Node registers with the providerID; a control-plane machine runs the
        // static pods, and the first one leaves kubeadm-config behind (what `kubeadm init` uploads).
        if (wl->get("v1", "Node", "", node)) continue;
        const std::string version = owner.empty() ? "v1.35.4" : version_of(owner);
        json res = {{"cpu", "4"}, {"memory", "16Gi"}, {"pods", "110"}};
        json node_obj = {{"apiVersion", "v1"},
                         {"kind", "Node"},
                         {"metadata",
                          {{"name", node},
                           {"annotations", {{"kwok.x-k8s.io/node", "fake"}, {"node.alpha.kubernetes.io/ttl", "0"}}},
                           {"labels",
                            {{"type", "kwok"},
                             {"kubernetes.io/hostname", node},
                             {"kubernetes.io/os", "linux"},
                             {"kubernetes.io/arch", "amd64"}}}}},
                         {"spec", {{"providerID", provider_id}}},
                         {"status",
                          {{"allocatable", res},
                           {"capacity", res},
                           {"nodeInfo",
                            {{"architecture", "amd64"},
                             {"operatingSystem", "linux"},
                             {"kubeletVersion", version},
                             {"kubeProxyVersion", version}}}}}};
        if (control_plane) {
          node_obj["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] = "";
          node_obj["spec"]["taints"] =
              json::array({{{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}}});
        }
        auto created = wl->create(node_obj);
        if (!created && created.error().http_status != 409) continue;
        if (control_plane) {
          for (const std::string comp : {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"}) {
            json pod = {{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata",
                         {{"name", comp + "-" + node},
                          {"namespace", "kube-system"},
                          {"labels", {{"component", comp}, {"tier", "control-plane"}}}}},
                        {"spec",
                         {{"nodeName", node},
                          {"tolerations", json::array({{{"operator", "Exists"}}})},
                          {"containers", json::array({{{"name", comp},
                                                       {"image", "registry.k8s.io/" + comp + ":" + version}}})}}}};
            (void)wl->create(pod);
          }
          json cc = {{"apiVersion", "kubeadm.k8s.io/v1beta4"},
                     {"kind", "ClusterConfiguration"},
                     {"kubernetesVersion", version},
                     {"controlPlaneEndpoint", endpoint_host + ":" + std::to_string(endpoint_port)},
                     {"clusterName", m_opts.workload.name},
                     {"etcd", {{"local", {{"dataDir", "/var/lib/etcd"}}}}},
                     {"networking", {{"dnsDomain", "cluster.local"}, {"serviceSubnet", "10.96.0.0/12"}}}};
          json cm = {{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata", {{"name", "kubeadm-config"}, {"namespace", "kube-system"}}},
                     {"data", {{"ClusterConfiguration", yaml::dump(cc)}}}};
          (void)wl->create(cm);
        }
        ++m_joined;
        say("kubeadm: " + node + (control_plane ? " (control plane)" : "") + " joined the workload cluster " +
            m_opts.workload.name);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace kurator::test
