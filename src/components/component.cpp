// The component registry: one line per installer.
#include <kurator/components/component.hpp>
#include <kurator/components/prometheus.hpp>
#include <kurator/components/thanos_install.hpp>
#include <kurator/components/pixie.hpp>
#include <kurator/components/volcano.hpp>
#include <kurator/core/readiness.hpp>

namespace kurator::components {

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

void label_objects(std::vector<nlohmann::json>& objects, const std::string& component, const std::string& version) {
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
