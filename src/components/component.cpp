// The component registry: one line per installer.
#include <kurator/components/component.hpp>
#include <kurator/components/pixie.hpp>
#include <kurator/components/prometheus.hpp>
#include <kurator/components/thanos_install.hpp>
#include <kurator/components/volcano.hpp>
#include <kurator/core/readiness.hpp>

namespace kurator::components {
using json = nlohmann::json;

const std::vector<Component>& registry() {
  static const std::vector<Component> all = {
      volcano::component(),
      prometheus::component(),
      thanos::component(),
      pixie::component(),
  };
  return all;
}

const Component* find(const std::string& name) {
  for (const auto& c : registry())
    if (c.name == name) return &c;
  return nullptr;
}

std::string check_ready(kube::Client& c, const std::string& api_version, const std::string& kind,
                        const std::string& ns, const std::string& name) {
  std::string what = kind + "/" + (ns.empty() ? "" : ns + "/") + name;
  auto obj = c.get(api_version, kind, ns, name);
  if (!obj) return what + (obj.error().http_status == 404 ? " is missing" : ": " + obj.error().message);
  auto st = kube::evaluate(*obj);
  return st.ready() ? std::string() : what + ": " + st.reason;
}

// The host part of a URL: "https://10.0.0.5:6443/x" -> "10.0.0.5", "https://[::1]:6443" -> "::1".
std::string url_host(const std::string& url) {
  auto b = url.find("://");
  b = b == std::string::npos ? 0 : b + 3;
  if (b < url.size() && url[b] == '[') {
    auto e = url.find(']', b);
    return e == std::string::npos ? std::string() : url.substr(b + 1, e - b - 1);
  }
  auto e = url.find_first_of(":/", b);
  return url.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

Result<std::string> service_address(kube::Client& member, const std::string& ns, const std::string& name,
                                    int port) {
  auto svc = member.get("v1", "Service", ns, name);
  if (!svc) return svc.error().context("reading Service " + ns + "/" + name);
  const std::string type = svc->value("/spec/type"_json_pointer, std::string("ClusterIP"));
  auto join = [](const std::string& h, long p) {
    return (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + std::to_string(p);
  };
  if (type == "LoadBalancer") {
    for (const auto& i : svc->value("/status/loadBalancer/ingress"_json_pointer, json::array())) {
      if (!i.value("ip", "").empty()) return join(i.value("ip", ""), port);
      if (!i.value("hostname", "").empty()) return join(i.value("hostname", ""), port);
    }
    return std::string();
  }
  if (type == "NodePort") {
    long node_port = 0;
    for (const auto& p : svc->value("/spec/ports"_json_pointer, json::array()))
      if (p.value("port", 0) == port) node_port = p.value("nodePort", 0L);
    if (node_port == 0)
      return Error("Service " + ns + "/" + name + " has no node port for port " + std::to_string(port));
    auto nodes = member.list("v1", "Node");
    if (!nodes) return nodes.error().context("listing the nodes of " + member.config().server);
    for (const char* want : {"InternalIP", "ExternalIP"})
      for (const auto& n : (*nodes)["items"])
        for (const auto& a : n.value("/status/addresses"_json_pointer, json::array()))
          if (a.value("type", "") == want && !a.value("address", "").empty())
            return join(a.value("address", ""), node_port);
    // No node reports an address (kwok's nodes): the machine the member apiserver answers on.
    const std::string host = url_host(member.config().server);
    if (host.empty()) return Error("no node of " + member.config().server + " reports an address");
    return join(host, node_port);
  }
  return Error("Service " + ns + "/" + name + " is of type " + type + ", not LoadBalancer or NodePort",
               ExitCode::failure, "delete it and install again");
}

Result<std::vector<MemberAddress>> member_service_addresses(const std::vector<fleet::Member>& members,
                                                            const std::string& ns, const std::string& name,
                                                            int port, bool require, const std::string& skip) {
  std::vector<MemberAddress> out;
  for (const auto& m : members) {
    if (m.name == skip) continue;
    kube::Client c(m.config);
    auto a = service_address(c, ns, name, port);
    if (!a && require) return a.error().context(m.name);
    std::string addr = a ? *a : std::string();
    if (addr.empty() && require)
      return Error(m.name + ": Service " + ns + "/" + name + " has no address yet");
    out.push_back({m.name, addr.empty() ? "<" + m.name + "'s " + name + " address, once it has one>" : addr});
  }
  return out;
}

void label_objects(std::vector<nlohmann::json>& objects, const std::string& component,
                   const std::string& version) {
  for (auto& o : objects) {
    auto& labels = o["metadata"]["labels"];
    if (!labels.is_object()) labels = nlohmann::json::object();
    labels[kManagedByLabel] = "kurator";
    labels[kComponentLabel] = component;
    labels[kVersionLabel] = version;
  }
}

std::string label_of(const nlohmann::json& obj, const std::string& key) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return {};
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return {};
  auto v = l->find(key);
  return v != l->end() && v->is_string() ? v->get<std::string>() : std::string();
}

std::string version_of(const std::vector<nlohmann::json>& objects) {
  for (const auto& o : objects)
    if (auto v = label_of(o, kVersionLabel); !v.empty()) return v;
  return {};
}

}  // namespace kurator::components
