// The in-cluster install of Karmada (see include/kurator/components/karmada_install.hpp): data from
// manifests/karmada/host/ customised by structured edits, a PKI from providers/pki.hpp, the Karmada-side
// objects from components/karmada.hpp.
#include <kurator/components/component.hpp>
#include <kurator/components/karmada.hpp>
#include <kurator/components/karmada_install.hpp>
#include <kurator/core/http.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/fleet/fleet.hpp>
#include <kurator/providers/pki.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/embedded.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

namespace kurator::components::karmada_install {
namespace {
namespace stdfs = std::filesystem;
namespace pki = providers::pki;
namespace versions = providers::versions;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kClusterDomain = "cluster.local";

// The host manifests, in apply order (apply_all orders by kind anyway).
constexpr const char* kHostManifests[] = {"karmada/host/etcd.yaml",
                                          "karmada/host/apiserver.yaml",
                                          "karmada/host/aggregated-apiserver.yaml",
                                          "karmada/host/kube-controller-manager.yaml",
                                          "karmada/host/scheduler.yaml",
                                          "karmada/host/controller-manager.yaml",
                                          "karmada/host/webhook.yaml"};

// The kubeconfig Secrets karmadactl init makes (util.KarmadaConfigName: <component>-config), each
// holding karmada.config: the admin kubeconfig over the apiserver's Service.
constexpr const char* kConfigSecrets[] = {"karmada-aggregated-apiserver-config",
                                          "karmada-controller-manager-config",
                                          "kube-controller-manager-config",
                                          "karmada-scheduler-config",
                                          "karmada-descheduler-config",
                                          "karmada-metrics-adapter-config",
                                          "karmada-search-config",
                                          "karmada-webhook-config"};

// Every entry of the PKI (cert and key pairs, the service-account key pair).
constexpr const char* kPkiPairs[] = {
    "ca",        "etcd-ca",        "etcd-server",        "etcd-client",     "karmada",
    "apiserver", "front-proxy-ca", "front-proxy-client", "karmada-webhook", "karmada-aggregated-apiserver"};

Result<std::vector<json>> embedded_docs(const std::string& path) {
  auto text = embedded::find(path);
  if (!text) return Error("manifests/" + path + " is not embedded in this kurator build");
  return yaml::parse_all(*text, "manifests/" + path);
}

bool dns1123_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.front() != '-' && s.back() != '-';
}

std::string etcd_host(const std::string& ns) {
  return "etcd-0.etcd." + ns + ".svc." + kClusterDomain;
}

std::string in_cluster_server(const std::string& ns) {
  return "https://" + std::string(kApiserverService) + "." + ns + ".svc." + kClusterDomain + ":" +
         std::to_string(kApiserverPort);
}

// Sets `--name=value` in a container command: the flag must be there already (the manifest names
// every flag kurator edits; a missing one means the manifest changed).
Status set_flag(json& container, const std::string& name, const std::string& value,
                const std::string& where) {
  for (auto& a : container["command"]) {
    if (!a.is_string()) continue;
    const auto s = a.get<std::string>();
    if (s.rfind(name + "=", 0) == 0) {
      a = name + "=" + value;
      return {};
    }
  }
  return Error(where + ": container " + container.value("name", "?") + " has no " + name + " flag to set");
}

json secret(const std::string& name, const std::string& ns, const std::map<std::string, std::string>& data) {
  json s = {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"type", "Opaque"},
            {"data", json::object()}};
  for (const auto& [k, v] : data) s["data"][k] = base64::encode(v);
  return s;
}

Status need(const Pki& p, const std::string& key) {
  if (p.count(key) == 0 || p.at(key).empty())
    return Error("the Karmada PKI has no " + key, ExitCode::failure,
                 "the host's karmada-cert Secret is incomplete; uninstall Karmada and install it again");
  return {};
}

void put(Pki& p, const std::string& base, const pki::CertKey& ck) {
  p[base + ".crt"] = ck.cert_pem;
  p[base + ".key"] = ck.key_pem;
}

// kurator's own apply entry of an object (manager kurator, operation Apply): its time and field set.
json own_entry(const json& obj) {
  if (!obj.is_object() || !obj.contains("metadata")) return nullptr;
  for (const auto& m : obj["metadata"].value("managedFields", json::array()))
    if (m.value("manager", "") == "kurator" && m.value("operation", "") == "Apply")
      return json{{"time", m.value("time", "")}, {"fields", m.value("fieldsV1", json())}};
  return nullptr;
}

std::string seconds_text(milliseconds d) {
  return std::to_string((d.count() + 500) / 1000) + "s";
}

bool ip_literal(const std::string& h) {
  if (h.empty()) return false;
  if (h.find(':') != std::string::npos) return true;
  return h.find_first_not_of("0123456789.") == std::string::npos;
}

milliseconds left_until(Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// Waits until the Karmada apiserver at `url` answers /readyz with 200 (client certificate of the
// admin), printing progress on stderr every few seconds.
Status wait_apiserver(const std::string& url, const std::string& ns, const Pki& p, Clock::time_point deadline,
                      milliseconds total) {
  http::Request req;
  req.url = url + "/readyz";
  req.tls.ca_pem = p.at("ca.crt");
  req.tls.client_cert_pem = p.at("karmada.crt");
  req.tls.client_key_pem = p.at("karmada.key");
  req.connect_timeout = milliseconds(3000);
  req.timeout = milliseconds(5000);
  req.headers.emplace_back("User-Agent", "kurator");
  const auto start = Clock::now();
  auto last_note = start;
  std::string last = "no answer yet";
  std::cerr << "waiting for the Karmada apiserver at " << url << " ...\n";
  while (true) {
    if (cancel::requested()) return Error("interrupted", ExitCode::interrupted);
    auto r = http::default_client().perform(req);
    if (r && r->status == 200) {
      std::cerr << "the Karmada apiserver at " << url << " answered after "
                << seconds_text(std::chrono::duration_cast<milliseconds>(Clock::now() - start)) << "\n";
      return {};
    }
    last = r ? "HTTP " + std::to_string(r->status) : r.error().message;
    if (Clock::now() >= deadline) break;
    if (Clock::now() - last_note >= std::chrono::seconds(5)) {
      last_note = Clock::now();
      std::cerr << "  still waiting for " << url << " ("
                << seconds_text(std::chrono::duration_cast<milliseconds>(Clock::now() - start))
                << "): " << last << "\n";
    }
    std::this_thread::sleep_for(std::min(milliseconds(1000), left_until(deadline)));
  }
  return Error("the Karmada apiserver at " + url + " did not answer within " +
                   seconds_text(std::chrono::duration_cast<milliseconds>(Clock::now() - start)) +
                   " (--wait-timeout " + seconds_text(total) + " in all; last: " + last + ")",
               ExitCode::timeout,
               "check that this machine reaches that address (kubectl -n " + ns +
                   " get svc,pods) and the karmada-apiserver pod's logs, then re-run (the host part is kept "
                   "and reused)");
}

}  // namespace

Status validate(const Options& o) {
  if (!dns1123_label(o.namespace_))
    return Error("namespace \"" + o.namespace_ + "\" is not a valid namespace name", ExitCode::usage,
                 "use lower-case letters, digits and '-' (at most 63, starting and ending alphanumeric)");
  if (o.service_type != "NodePort" && o.service_type != "LoadBalancer" && o.service_type != "ClusterIP")
    return Error("unknown apiserver service type \"" + o.service_type + "\"", ExitCode::usage,
                 "--apiserver-service-type takes NodePort (the default), LoadBalancer or ClusterIP");
  const auto& r = o.image_registry;
  if (!r.empty() && (r.find("://") != std::string::npos || r.front() == '/' || r.back() == '/' ||
                     r.find_first_of(" \t@") != std::string::npos))
    return Error("image registry \"" + r + "\" is not a registry host[:port][/path]", ExitCode::usage,
                 "e.g. --image-registry registry.example.com/karmada (no scheme, no trailing '/')");
  return {};
}

std::string image(const std::string& component, const std::string& registry) {
  std::string def, tag;
  if (component == "kube-apiserver" || component == "kube-controller-manager") {
    def = "registry.k8s.io";
    tag = std::string(versions::kubernetes);
  } else if (component == "etcd") {
    // registry.k8s.io/etcd tags are the etcd version without 'v' and a build suffix: 3.5.21-0.
    def = "registry.k8s.io";
    std::string v(versions::etcd);
    tag = (v.rfind('v', 0) == 0 ? v.substr(1) : v) + "-0";
  } else {
    def = "docker.io/karmada";
    tag = std::string(versions::karmada);
  }
  return (registry.empty() ? def : registry) + "/" + component + ":" + tag;
}

Result<Pki> make_pki(const Options& o) {
  Pki p;
  auto ca = pki::make_ca("karmada");
  if (!ca) return ca.error();
  auto etcd_ca = pki::make_ca("etcd-ca");
  if (!etcd_ca) return etcd_ca.error();
  auto fp_ca = pki::make_ca("front-proxy-ca");
  if (!fp_ca) return fp_ca.error();
  put(p, "ca", *ca);
  put(p, "etcd-ca", *etcd_ca);
  put(p, "front-proxy-ca", *fp_ca);

  const std::string& ns = o.namespace_;
  auto leaf = [&](const pki::CertKey& signer, const std::string& base, const pki::CertRequest& r) -> Status {
    auto c = pki::issue(signer, r);
    if (!c) return c.error().context("certificate " + base);
    put(p, base, *c);
    return {};
  };
  pki::CertRequest etcd_server;
  etcd_server.common_name = "karmada-etcd-server";
  etcd_server.dns_names = {"localhost", etcd_host(ns), "etcd-0.etcd." + ns + ".svc"};
  etcd_server.ip_addresses = {"127.0.0.1"};
  etcd_server.server = etcd_server.client = true;
  KURATOR_TRY(leaf(*etcd_ca, "etcd-server", etcd_server));
  pki::CertRequest etcd_client;
  etcd_client.common_name = "karmada-etcd-client";
  etcd_client.client = true;
  KURATOR_TRY(leaf(*etcd_ca, "etcd-client", etcd_client));

  pki::CertRequest admin;
  admin.common_name = "system:admin";
  admin.organizations = {"system:masters"};
  admin.client = true;
  KURATOR_TRY(leaf(*ca, "karmada", admin));

  pki::CertRequest api;
  api.common_name = "karmada-apiserver";
  const std::string svc = std::string(kApiserverService) + "." + ns + ".svc";
  api.dns_names = {"localhost",
                   "kubernetes",
                   "kubernetes.default",
                   "kubernetes.default.svc",
                   kApiserverService,
                   std::string(kApiserverService) + "." + ns,
                   svc,
                   svc + "." + kClusterDomain};
  api.ip_addresses = {"127.0.0.1"};
  for (const auto& ip : o.apiserver_ips)
    if (std::find(api.ip_addresses.begin(), api.ip_addresses.end(), ip) == api.ip_addresses.end())
      api.ip_addresses.push_back(ip);
  api.server = true;
  KURATOR_TRY(leaf(*ca, "apiserver", api));

  pki::CertRequest fp_client;
  fp_client.common_name = "front-proxy-client";
  fp_client.client = true;
  KURATOR_TRY(leaf(*fp_ca, "front-proxy-client", fp_client));

  // The webhook's and the aggregated apiserver's serving certificates, as the local Karmada's.
  for (const auto& [base, req] : pki::karmada_leaves(ns))
    if (base != "karmada-admin") KURATOR_TRY(leaf(*ca, base, req));

  auto sa = pki::make_key(pki::KeyType::ec_p256);
  if (!sa) return sa.error();
  p["sa.key"] = sa->private_pem;
  p["sa.pub"] = sa->public_pem;
  return p;
}

Result<Pki> pki_from_secret(const json& s) {
  Pki p;
  const std::string name = s.value("/metadata/name"_json_pointer, std::string(kCertSecret));
  const json data = s.value("data", json::object());  // kept alive: items() refers to it
  for (const auto& [k, v] : data.items()) {
    auto d = v.is_string() ? base64::decode(v.get<std::string>()) : std::nullopt;
    if (!d) return Error("Secret " + name + ": data." + k + " is not base64");
    p[k] = std::move(*d);
  }
  for (const std::string base : kPkiPairs) {
    KURATOR_TRY(need(p, base + ".crt"));
    KURATOR_TRY(need(p, base + ".key"));
  }
  KURATOR_TRY(need(p, "sa.key"));
  KURATOR_TRY(need(p, "sa.pub"));
  return p;
}

std::string admin_kubeconfig(const Pki& p, const std::string& server) {
  kubeconfig::SimpleKubeconfig k;
  k.name = "karmada-apiserver";
  k.server = server;
  k.ca_pem = p.count("ca.crt") ? p.at("ca.crt") : std::string();
  k.client_cert_pem = p.count("karmada.crt") ? p.at("karmada.crt") : std::string();
  k.client_key_pem = p.count("karmada.key") ? p.at("karmada.key") : std::string();
  return kubeconfig::render(k);
}

Result<std::vector<json>> host_objects(const Options& o, const Pki& p) {
  KURATOR_TRY(validate(o));
  for (const std::string base : kPkiPairs) {
    KURATOR_TRY(need(p, base + ".crt"));
    KURATOR_TRY(need(p, base + ".key"));
  }
  const std::string& ns = o.namespace_;
  std::vector<json> out;

  auto nsdocs = embedded_docs("karmada/namespace.yaml");
  if (!nsdocs) return nsdocs.error();
  for (auto& d : *nsdocs) {
    d["metadata"]["name"] = ns;
    d["metadata"]["labels"][kManagedByLabel] = "kurator";
    out.push_back(std::move(d));
  }

  // The Secrets of createCertsSecrets (pkg/karmadactl/cmdinit/kubernetes/deploy.go).
  out.push_back(secret(kCertSecret, ns, p));
  out.push_back(secret("etcd-cert", ns,
                       {{"etcd-ca.crt", p.at("etcd-ca.crt")},
                        {"etcd-ca.key", p.at("etcd-ca.key")},
                        {"etcd-server.crt", p.at("etcd-server.crt")},
                        {"etcd-server.key", p.at("etcd-server.key")}}));
  out.push_back(secret("karmada-webhook-cert", ns,
                       {{"tls.crt", p.at("karmada-webhook.crt")}, {"tls.key", p.at("karmada-webhook.key")}}));
  const std::string config = admin_kubeconfig(p, in_cluster_server(ns));
  for (const std::string name : kConfigSecrets) out.push_back(secret(name, ns, {{"karmada.config", config}}));

  for (const std::string path : kHostManifests) {
    auto docs = embedded_docs(path);
    if (!docs) return docs.error();
    const std::string where = "manifests/" + path;
    for (auto& d : *docs) {
      d["metadata"]["namespace"] = ns;
      const std::string kind = d.value("kind", "");
      const std::string name = d["metadata"].value("name", "");
      if (kind == "Deployment" || kind == "StatefulSet") {
        auto& containers = d["spec"]["template"]["spec"]["containers"];
        for (auto& c : containers) {
          c["image"] = image(c.value("image", ""), o.image_registry);
          if (name == "etcd") {
            KURATOR_TRY(set_flag(
                c, "--advertise-client-urls",
                "https://$(KARMADA_ETCD_NAME).etcd." + ns + ".svc." + kClusterDomain + ":2379", where));
            KURATOR_TRY(set_flag(c, "--initial-cluster",
                                 "etcd-0=http://etcd-0.etcd." + ns + ".svc." + kClusterDomain + ":2380",
                                 where));
          } else if (name == "karmada-apiserver" || name == "karmada-aggregated-apiserver") {
            KURATOR_TRY(set_flag(c, "--etcd-servers", "https://" + etcd_host(ns) + ":2379", where));
          } else if (name == "kube-controller-manager" || name == "karmada-scheduler" ||
                     name == "karmada-controller-manager") {
            KURATOR_TRY(set_flag(c, "--leader-elect-resource-namespace", ns, where));
          }
        }
      } else if (kind == "Service" && name == kApiserverService) {
        d["spec"]["type"] = o.service_type;
        if (o.service_type != "NodePort")
          for (auto& port : d["spec"]["ports"]) port.erase("nodePort");
      }
      out.push_back(std::move(d));
    }
  }
  return out;
}

json redact(const json& obj) {
  return kube::redact_secret(obj);
}

Result<std::vector<std::string>> node_ips(kube::Client& host) {
  auto nodes = host.list("v1", "Node");
  if (!nodes) return nodes.error().context("listing the host's nodes");
  std::vector<std::string> ips;
  for (const auto& n : (*nodes)["items"])
    for (const auto& a : n.value("/status/addresses"_json_pointer, json::array()))
      if (a.value("type", "") == "InternalIP" && !a.value("address", "").empty())
        ips.push_back(a.value("address", ""));
  if (ips.empty())
    for (const auto& n : (*nodes)["items"])
      for (const auto& a : n.value("/status/addresses"_json_pointer, json::array()))
        if (a.value("type", "") == "ExternalIP" && !a.value("address", "").empty())
          ips.push_back(a.value("address", ""));
  return ips;
}

Result<std::string> apiserver_url(kube::Client& host, const std::string& ns) {
  auto svc = host.get("v1", "Service", ns, kApiserverService);
  if (!svc) return svc.error();
  const std::string type = svc->value("/spec/type"_json_pointer, std::string("ClusterIP"));
  auto with_port = [](const std::string& h, long port) {
    const bool v6 = h.find(':') != std::string::npos;
    return "https://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(port);
  };
  if (type == "NodePort") {
    long port = 0;
    for (const auto& p : svc->value("/spec/ports"_json_pointer, json::array()))
      if (p.value("port", 0) == kApiserverPort) port = p.value("nodePort", 0L);
    if (port == 0) return Error("Service " + ns + "/" + kApiserverService + " has no node port yet");
    auto ips = node_ips(host);
    if (!ips) return ips.error();
    if (!ips->empty()) return with_port(ips->front(), port);
    // No node says its address (kwok's fake nodes, some providers): the node port of the machine the
    // host apiserver answers on, which is a node in kubeadm-style clusters.
    const std::string h = url_host(host.config().server);
    if (h.empty())
      return Error(
          "the host cluster has no node with an InternalIP to reach the node port " + std::to_string(port),
          ExitCode::failure, "use --apiserver-service-type LoadBalancer or ClusterIP");
    std::cerr << "no node of the host reports an InternalIP or ExternalIP: trying the node port on the host "
                 "apiserver's address "
              << h << "\n";
    return with_port(h, port);
  }
  if (type == "LoadBalancer") {
    for (const auto& i : svc->value("/status/loadBalancer/ingress"_json_pointer, json::array())) {
      if (!i.value("ip", "").empty()) return with_port(i.value("ip", ""), kApiserverPort);
      if (!i.value("hostname", "").empty()) return with_port(i.value("hostname", ""), kApiserverPort);
    }
    return std::string();
  }
  const std::string ip = svc->value("/spec/clusterIP"_json_pointer, std::string());
  if (ip.empty() || ip == "None")
    return Error("Service " + ns + "/" + kApiserverService + " has no cluster IP");
  return with_port(ip, kApiserverPort);
}

Result<InstallResult> install(kube::Client& host, const InstallRequest& req) {
  const auto start = Clock::now();
  const auto deadline = start + req.timeout;
  Options opts = req.options;
  KURATOR_TRY(validate(opts));
  InstallResult res;

  // The PKI: the host's karmada-cert Secret when there is one (a re-run), else a new one whose
  // apiserver certificate names the nodes' InternalIPs (the NodePort address).
  Pki p;
  auto existing = host.get("v1", "Secret", opts.namespace_, kCertSecret);
  if (existing) {
    auto got = pki_from_secret(*existing);
    if (!got) return got.error();
    p = std::move(*got);
    res.pki_reused = true;
  } else if (existing.error().http_status == 404) {
    auto ips = node_ips(host);
    if (!ips) return ips.error();
    for (auto& ip : *ips) opts.apiserver_ips.push_back(ip);
    if (auto h = url_host(host.config().server); ip_literal(h)) opts.apiserver_ips.push_back(h);
    auto made = make_pki(opts);
    if (!made) return made.error();
    p = std::move(*made);
  } else {
    return existing.error().context("reading Secret " + opts.namespace_ + "/" + kCertSecret);
  }

  auto objs = host_objects(opts, p);
  if (!objs) return objs.error();
  res.host_objects = objs->size();
  // What kurator's own apply entry says before, to tell a re-run that changed nothing.
  std::vector<json> before;
  for (const auto& o : *objs) {
    auto got = host.get(o.value("apiVersion", ""), o.value("kind", ""), o["metadata"].value("namespace", ""),
                        o["metadata"].value("name", ""));
    before.push_back(got ? own_entry(*got) : json());
  }
  std::vector<kube::WaitTarget> targets;
  for (const auto& o : *objs) {
    const auto kind = o.value("kind", "");
    if (kind == "Deployment" || kind == "StatefulSet") targets.push_back(kube::WaitTarget::from(o));
  }
  std::cerr << "applying " << objs->size() << " Karmada objects to the host cluster " << host.config().server
            << " (namespace " << opts.namespace_ << ")\n";
  kube::ApplyAllOptions ao;
  auto applied = kube::apply_all(host, std::move(*objs), ao);
  if (!applied) return applied.error().context("applying the Karmada host objects");
  for (size_t i = 0; i < applied->size(); ++i) {
    json now = own_entry((*applied)[i]);
    if (i >= before.size() || before[i].is_null() || now != before[i]) ++res.host_changed;
  }

  kube::WaitOptions wo;
  wo.timeout = left_until(deadline);
  wo.tty = ::isatty(STDERR_FILENO) == 1;
  KURATOR_TRY(kube::wait_ready(host, targets, wo));

  // The exposed address (a LoadBalancer's ingress may come later).
  std::string url;
  while (true) {
    auto u = apiserver_url(host, opts.namespace_);
    if (!u) return u.error();
    url = *u;
    if (!url.empty()) break;
    if (Clock::now() >= deadline)
      return Error("Service " + opts.namespace_ + "/" + kApiserverService +
                       " (LoadBalancer) got no ingress address within " + seconds_text(req.timeout),
                   ExitCode::timeout, "the host cluster needs a load-balancer controller; or use NodePort");
    std::this_thread::sleep_for(std::min(milliseconds(1000), left_until(deadline)));
  }
  res.apiserver_url = url;
  KURATOR_TRY(wait_apiserver(url, opts.namespace_, p, deadline, req.timeout));

  // The Karmada-side objects: the same code as the local Karmada's.
  kubeconfig::RestConfig kc;
  kc.server = url;
  kc.context_name = kc.cluster_name = kc.user_name = "karmada-apiserver";
  kc.tls.ca_pem = p.at("ca.crt");
  kc.tls.client_cert_pem = p.at("karmada.crt");
  kc.tls.client_key_pem = p.at("karmada.key");
  kube::Client karmada(kc);
  auto ko = karmada::in_cluster_options(opts.namespace_);
  ko.ca_pem = p.at("ca.crt");
  ko.crds_dir = req.crds_dir;
  ko.apiserver_url = url;
  auto kobjs = karmada::objects(ko);
  if (!kobjs) return kobjs.error();
  auto left = left_until(deadline);
  if (left.count() <= 0) return Error("timed out before applying the Karmada objects", ExitCode::timeout);
  KURATOR_TRY(karmada::apply_and_wait(karmada, std::move(*kobjs), left));

  std::error_code ec;
  stdfs::create_directories(req.kubeconfig_out.parent_path(), ec);
  KURATOR_TRY(fs::write_private_file(req.kubeconfig_out, admin_kubeconfig(p, url)));
  res.kubeconfig = req.kubeconfig_out;
  return res;
}

Result<UninstallResult> uninstall(kube::Client& host, const std::string& ns, const stdfs::path& kubeconfig,
                                  milliseconds timeout) {
  if (!dns1123_label(ns))
    return Error("namespace \"" + ns + "\" is not a valid namespace name", ExitCode::usage,
                 "use lower-case letters, digits and '-'");
  UninstallResult res;
  const auto deadline = Clock::now() + timeout;
  auto got = host.get("v1", "Namespace", "", ns);
  if (!got && got.error().http_status != 404) return got.error().context("reading namespace " + ns);
  if (got) {
    res.was_installed = true;
    if (got->value("/metadata/labels"_json_pointer, json::object()).value(kManagedByLabel, "") != "kurator")
      return Error("namespace " + ns + " was not made by kurator (no label " + kManagedByLabel + "=kurator)",
                   ExitCode::failure,
                   "kurator deletes only the namespace its install made; check -n/--namespace");
    KURATOR_TRY(host.remove("v1", "Namespace", "", ns, "Background"));
    std::cerr << "deleting namespace " << ns << " of " << host.config().server << " ...\n";
    auto last_note = Clock::now();
    json last;
    while (true) {
      auto now = host.get("v1", "Namespace", "", ns);
      if (!now && now.error().http_status == 404) break;
      if (!now) return now.error().context("waiting for namespace " + ns + " to go");
      last = *now;
      if (Clock::now() >= deadline) {
        std::string why;
        for (const auto& c : last.value("/status/conditions"_json_pointer, json::array()))
          if (c.value("status", "") == "True" && !c.value("message", "").empty())
            why += (why.empty() ? "" : "; ") + c.value("message", "");
        return Error(
            "namespace " + ns + " is still there after " + seconds_text(timeout) +
                (why.empty() ? std::string() : ": " + why),
            ExitCode::timeout,
            "re-run uninstall to wait longer (--wait-timeout), or look at what is left: kubectl get all -n " +
                ns);
      }
      if (cancel::requested()) return Error("interrupted", ExitCode::interrupted);
      if (Clock::now() - last_note >= std::chrono::seconds(5)) {
        last_note = Clock::now();
        std::cerr << "  namespace " << ns << " is "
                  << last.value("/status/phase"_json_pointer, std::string("still there")) << "\n";
      }
      std::this_thread::sleep_for(std::min(milliseconds(500), left_until(deadline)));
    }
    res.removed.push_back("Namespace/" + ns);
  }
  std::error_code ec;
  if (stdfs::remove(kubeconfig, ec)) res.removed.push_back(kubeconfig.string());
  if (ec) return Error("removing " + kubeconfig.string() + ": " + ec.message());
  return res;
}

}  // namespace kurator::components::karmada_install
