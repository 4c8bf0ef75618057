// The component registry: one line per installer.
#include <kurator/components/component.hpp>
#include <kurator/components/pixie.hpp>
#include <kurator/components/volcano.hpp>
#include <kurator/core/readiness.hpp>

namespace kurator::components {

const std::vector<Component>& registry() {
  static const std::vector<Component> all = {
      volcano::component(),
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

}  // namespace kurator::components
