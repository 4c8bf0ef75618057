// Cluster API beside a local management cluster (see fleet_capi.hpp).
#include "support/fleet_capi.hpp"

#include <kurator/core/http.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/core/process.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/providers/pki.hpp>
#include <kurator/providers/versions.hpp>
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
  start_kubelets();
  m_thread = std::thread([this] { loop(); });
}

AwsStandIn::~AwsStandIn() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
  for (auto& [node, m] : m_etcd) stop_etcd(node);
  if (m_kwok_pid > 0) process::stop_pid(m_kwok_pid, std::chrono::seconds(5));
  std::error_code ec;
  stdfs::remove(m_kwok_pid_file, ec);
  stdfs::remove_all(m_dir, ec);
}

namespace {
constexpr int kFirstNodeIp = 10;  // Nodes are ip-127-0-1-10, -11, …
constexpr int kNodeSlots = 24;
std::string node_name(int ip) {
  return "ip-127-0-1-" + std::to_string(ip);
}
}  // namespace

// The machines' kubelets: a kwok of the stand-in's own for the Nodes it registers (annotation
// kwok.x-k8s.io/node=aws-standin), serving the kubelet API on a loopback port the Nodes advertise. Its
// port-forwards play the control-plane static pods' host ports: etcd-<node>:2379 reaches that Node's etcd
// member, kube-apiserver-<node>:6443 the workload apiserver (whose serving certificate is CN=kube-apiserver,
// as kubeadm's). Every slot's ports are chosen up front since kwok reads its configuration once.
void AwsStandIn::start_kubelets() {
  m_dir = stdfs::temp_directory_path() /
          ("kurator-aws-standin-" + m_opts.workload.name + "-" + std::to_string(::getpid()));
  stdfs::create_directories(m_dir / "home");
  m_registry = m_opts.workload.dir.parent_path().parent_path() / "test-processes";
  stdfs::create_directories(m_registry);
  auto ports = providers::local::pick_free_ports(3 * kNodeSlots + 1);
  REQUIRE(ports.ok());
  const int kwok_port = (*ports)[3 * kNodeSlots];
  auto wl = client_of(m_opts.workload);
  const std::string server = wl->config().server;
  m_apiserver_port = std::stoi(server.substr(server.rfind(':') + 1));
  auto forward = [](const std::string& pod, int port, int target) {
    return "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: PortForward\nmetadata:\n  name: " + pod +
           "\n  namespace: kube-system\nspec:\n  forwards:\n  - ports: [" + std::to_string(port) +
           "]\n    target:\n      address: 127.0.0.1\n      port: " + std::to_string(target) + "\n";
  };
  std::string config;
  for (int i = 0; i < kNodeSlots; ++i) {
    const std::string node = node_name(kFirstNodeIp + i);
    EtcdMember m;
    m.client = (*ports)[3 * i];
    m.client_http = (*ports)[3 * i + 1];
    m.peer = (*ports)[3 * i + 2];
    m.pid_file = m_registry / ("etcd-" + node + "-" + std::to_string(::getpid()) + ".pid");
    m_etcd[node] = m;
    config += (config.empty() ? "" : "---\n") + forward("etcd-" + node, 2379, m.client) + "---\n" +
              forward("kube-apiserver-" + node, 6443, m_apiserver_port);
  }
  REQUIRE(fs::write_file_atomic(m_dir / "kwok.yaml", config).ok());
  process::DaemonSpec spec;
  spec.argv = {cached_binary("kwok", providers::versions::kwok, "kwok").string(),
               "--kubeconfig=" + m_opts.workload.kubeconfig.string(),
               "--config=" + (m_dir / "kwok.yaml").string(),
               "--manage-all-nodes=false",
               "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=aws-standin",
               "--node-lease-duration-seconds=40",
               "--node-ip=127.0.0.1",
               "--node-port=" + std::to_string(kwok_port),
               "--server-address=127.0.0.1:" + std::to_string(kwok_port)};
  spec.env["HOME"] = (m_dir / "home").string();  // never ~/.kwok of the machine
  spec.log_file = m_dir / "kwok.log";
  m_kwok_pid_file = m_registry / ("kwok-aws-standin-" + std::to_string(::getpid()) + ".pid");
  spec.pid_file = m_kwok_pid_file;
  auto pid = process::start_daemon(spec);
  REQUIRE(pid.ok());
  m_kwok_pid = *pid;
  say("kubelets: kwok (pid " + std::to_string(m_kwok_pid) +
      ") serving the kubelet API on 127.0.0.1:" + std::to_string(kwok_port));
}

bool AwsStandIn::ensure_etcd(kube::Client& mgmt, const std::string& cluster, const std::string& node) {
  auto it = m_etcd.find(node);
  if (it == m_etcd.end()) {
    say("kubeadm: no etcd slot for " + node);
    return false;
  }
  auto& me = it->second;
  if (me.pid > 0 && process::is_alive(me.pid)) return true;
  // kubeadm's etcd certificates, from the etcd CA KCP generated (`<cluster>-etcd`, its bootstrap data).
  const auto pki_dir = m_dir / ("etcd-pki-" + cluster);
  if (!stdfs::exists(pki_dir / "server.key")) {
    auto secret = mgmt.get("v1", "Secret", m_opts.namespace_, cluster + "-etcd");
    if (!secret) return false;
    auto crt = base64::decode((*secret)["data"].value("tls.crt", "")),
         key = base64::decode((*secret)["data"].value("tls.key", ""));
    if (!crt || !key) return false;
    pki::CertRequest req;
    req.common_name = node;
    req.dns_names = {"localhost"};
    req.ip_addresses = {"127.0.0.1"};
    req.server = req.client = true;
    auto leaf = pki::issue(pki::CertKey{*crt, *key}, req);
    if (!leaf) {
      say("kubeadm: cannot issue the etcd certificate: " + leaf.error().message);
      return false;
    }
    stdfs::create_directories(pki_dir);
    if (!fs::write_file_atomic(pki_dir / "ca.crt", *crt) ||
        !fs::write_file_atomic(pki_dir / "server.crt", leaf->cert_pem) ||
        !fs::write_private_file(pki_dir / "server.key", leaf->key_pem))
      return false;
  }
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(me.peer);
  std::string initial = node + "=" + peer_url, state = "new";
  std::string through;  // a running member (kubeadm join adds the new one through the cluster)
  for (const auto& [n, m] : m_etcd)
    if (n != node && m.pid > 0 && process::is_alive(m.pid))
      through = "http://127.0.0.1:" + std::to_string(m.client_http);
  if (!through.empty()) {
    http::Client hc;
    auto call = [&](const std::string& path, const json& body) -> std::optional<json> {
      http::Request r;
      r.method = "POST";
      r.url = through + path;
      r.body = body.dump();
      r.headers = {{"Content-Type", "application/json"}};
      r.timeout = std::chrono::seconds(10);
      auto resp = hc.perform(r);
      if (!resp || resp->status != 200) {
        say("kubeadm: etcd " + path + ": " + (resp ? resp->body : resp.error().message));
        return std::nullopt;
      }
      return json::parse(resp->body, nullptr, false);
    };
    auto list = call("/v3/cluster/member/list", json::object());
    if (!list) return false;
    bool added = false;
    for (const auto& m : list->value("members", json::array()))
      for (const auto& u : m.value("peerURLs", json::array())) added |= u == peer_url;
    if (!added) {
      if (!call("/v3/cluster/member/add", {{"peerURLs", json::array({peer_url})}})) return false;
      say("kubeadm: etcd member " + node + " added");
      list = call("/v3/cluster/member/list", json::object());
      if (!list) return false;
    }
    initial.clear();
    for (const auto& m : list->value("members", json::array())) {
      auto urls = m.value("peerURLs", json::array());
      if (urls.empty()) continue;
      std::string name = m.value("name", "");
      if (urls[0] == peer_url) name = node;
      if (name.empty()) continue;
      initial += (initial.empty() ? "" : ",") + name + "=" + urls[0].get<std::string>();
    }
    state = "existing";
  }
  const auto data = m_dir / ("etcd-" + node);
  std::error_code ec;
  stdfs::remove_all(data, ec);
  stdfs::create_directories(data);
  stdfs::permissions(data, stdfs::perms::owner_all, stdfs::perm_options::replace, ec);
  process::DaemonSpec spec;
  spec.argv = {cached_binary("etcd", providers::versions::etcd, "etcd").string(),
               "--name=" + node,
               "--data-dir=" + data.string(),
               "--listen-client-urls=https://127.0.0.1:" + std::to_string(me.client) +
                   ",http://127.0.0.1:" + std::to_string(me.client_http),
               "--advertise-client-urls=https://127.0.0.1:" + std::to_string(me.client),
               "--listen-peer-urls=" + peer_url,
               "--initial-advertise-peer-urls=" + peer_url,
               "--initial-cluster=" + initial,
               "--initial-cluster-state=" + state,
               "--client-cert-auth",
               "--trusted-ca-file=" + (pki_dir / "ca.crt").string(),
               "--cert-file=" + (pki_dir / "server.crt").string(),
               "--key-file=" + (pki_dir / "server.key").string(),
               "--log-level=warn"};
  spec.log_file = m_dir / ("etcd-" + node + ".log");
  spec.pid_file = me.pid_file;
  auto pid = process::start_daemon(spec);
  if (!pid) {
    say("kubeadm: etcd " + node + " did not start: " + pid.error().message);
    return false;
  }
  me.pid = *pid;
  {
    std::lock_guard<std::mutex> lk(m_mu);
    m_etcd_running.insert(node);
  }
  say("kubeadm: etcd member " + node + " started (" + state + " cluster " + initial + ")");
  return true;
}

void AwsStandIn::stop_etcd(const std::string& node) {
  auto it = m_etcd.find(node);
  if (it == m_etcd.end() || it->second.pid <= 0) return;
  process::stop_pid(it->second.pid, std::chrono::seconds(5));
  it->second.pid = -1;
  {
    std::lock_guard<std::mutex> lk(m_mu);
    m_etcd_running.erase(node);
  }
  std::error_code ec;
  stdfs::remove(it->second.pid_file, ec);
  say("kubeadm: etcd member " + node + " stopped (its machine is gone)");
}

std::set<std::string> AwsStandIn::etcd_members() const {
  std::lock_guard<std::mutex> lk(m_mu);
  return m_etcd_running;
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
  const int endpoint_port = m_apiserver_port;
  int next_ip = kFirstNodeIp;
  std::map<std::string, std::string> node_of;  // AWSMachine name -> Node name
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
      // A terminated instance takes its etcd member with it (KCP removed the member before).
      std::set<std::string> live;
      for (const auto& m : (*l)["items"]) live.insert(m["metadata"].value("name", ""));
      for (auto it = node_of.begin(); it != node_of.end();) {
        if (live.count(it->first)) {
          ++it;
          continue;
        }
        stop_etcd(it->second);
        it = node_of.erase(it);
      }
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
        // As CAPA: nothing before the Machine owns the AWSMachine and its bootstrap data (cloud-init) exists.
        std::string owner;
        for (const auto& ref : m.value("/metadata/ownerReferences"_json_pointer, json::array()))
          if (ref.value("kind", "") == "Machine") owner = ref.value("name", "");
        if (owner.empty()) continue;
        auto machine = mgmt->get("cluster.x-k8s.io/v1beta2", "Machine", ns, owner);
        if (!machine || machine->value("/spec/bootstrap/dataSecretName"_json_pointer, std::string()).empty())
          continue;
        const std::string version = machine->value("/spec/version"_json_pointer, std::string());
        if (!node_of.count(name)) node_of[name] = node_name(next_ip++);
        const std::string node = node_of[name];
        const std::string provider_id =
            "aws:///us-east-1a/i-" + std::to_string(1000000 + std::hash<std::string>{}(name) % 9000000);
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
        // kubeadm init/join --control-plane: the node's etcd member first (the apiserver needs it).
        if (control_plane && !ensure_etcd(*mgmt, labels.value("cluster.x-k8s.io/cluster-name", ""), node))
          continue;
        json res = {{"cpu", "4"}, {"memory", "16Gi"}, {"pods", "110"}};
        json node_obj = {
            {"apiVersion", "v1"},
            {"kind", "Node"},
            {"metadata",
             {{"name", node},
              {"annotations", {{"kwok.x-k8s.io/node", "aws-standin"}, {"node.alpha.kubernetes.io/ttl", "0"}}},
              {"labels",
               {{"type", "kwok"},
                {"kubernetes.io/hostname", node},
                {"kubernetes.io/os", "linux"},
                {"kubernetes.io/arch", "amd64"}}}}},
            {"spec", {{"providerID", provider_id}}},
            {"status",
             {{"allocatable", res},
              {"capacity", res},
              // The kubelet's address (the stand-in's kwok; its port from kwok's --node-port).
              {"addresses", json::array({{{"type", "InternalIP"}, {"address", "127.0.0.1"}}})},
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
            json pod = {
                {"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata",
                 {{"name", comp + "-" + node},
                  {"namespace", "kube-system"},
                  {"annotations",
                   {{"kubernetes.io/config.mirror", "standin"}, {"kubernetes.io/config.source", "file"}}},
                  {"labels", {{"component", comp}, {"tier", "control-plane"}}}}},
                {"spec",
                 {{"nodeName", node},
                  {"tolerations", json::array({{{"operator", "Exists"}}})},
                  {"containers",
                   json::array({{{"name", comp}, {"image", "registry.k8s.io/" + comp + ":" + version}}})}}}};
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
