// Karmada mode's policies, rendered from a workload: what selects the objects, where they go, and the
// per-member values. Pure functions (unit-tested exactly).
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/yaml.hpp>

#include <fmt/format.h>

#include <map>
#include <set>

#include "internal.hpp"

namespace kurator::fleet {
namespace {

constexpr const char* kPolicyApi = "policy.karmada.io/v1alpha1";

json labels_for(const std::string& component) {
  return {{"app.kubernetes.io/managed-by", "kurator"}, {"kurator.dev/component", component}};
}

json selector_of(const std::string& api_version, const std::string& kind, const std::string& name) {
  return {{"apiVersion", api_version}, {"kind", kind}, {"name", name}};
}

json placement_for(const std::vector<std::string>& members) {
  return {{"clusterAffinity", {{"clusterNames", members}}}};
}

// FNV-1a: stable across runs and builds, for name suffixes.
std::string short_hash(const std::string& text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  return fmt::format("{:08x}", h);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string to_string(Mode m) {
  return m == Mode::karmada ? "karmada" : "direct";
}

bool ApplyReport::unchanged() const {
  for (const auto& s : steps)
    if (!s.changed.empty()) return false;
  return true;
}

bool RemoveReport::nothing_found() const {
  for (const auto& s : steps)
    if (s.deleted > 0) return false;
  return true;
}

std::string override_policy_name(const std::string& component, const std::string& kind,
                                 const std::string& name) {
  std::string full = "kurator-" + component + "-" + lower(kind) + "-" + name;
  std::string out;
  for (char c : lower(full)) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '-';
  if (out.size() <= 63) return out;
  std::string head = out.substr(0, 54);
  while (!head.empty() && head.back() == '-') head.pop_back();
  return head + "-" + short_hash(full);
}

std::vector<json> karmada_policies(const Workload& w, const std::vector<std::string>& members) {
  const std::string policy_name = "kurator-" + w.component;
  std::vector<json> out;
  // Resource selectors by namespace ("" = cluster-scoped), in the order objects first appear.
  std::vector<std::string> order;
  std::map<std::string, json> selectors;
  for (const auto& o : w.objects) {
    std::string kind = o.value("kind", "");
    if (kind == "Namespace" && o.value("apiVersion", "") == "v1") continue;  // Karmada propagates them itself
    std::string ns = detail::is_namespaced(o) ? o["metadata"]["namespace"].get<std::string>() : std::string();
    if (!selectors.count(ns)) {
      order.push_back(ns);
      selectors[ns] = json::array();
    }
    selectors[ns].push_back(selector_of(o.value("apiVersion", ""), kind, o["metadata"].value("name", "")));
  }
  // Cluster-scoped first (CRDs before what uses them), then the namespaces.
  std::stable_partition(order.begin(), order.end(), [](const std::string& ns) { return ns.empty(); });
  for (const auto& ns : order) {
    json policy = {{"apiVersion", kPolicyApi},
                   {"kind", ns.empty() ? "ClusterPropagationPolicy" : "PropagationPolicy"},
                   {"metadata", {{"name", policy_name}, {"labels", labels_for(w.component)}}},
                   {"spec",
                    {{"resourceSelectors", selectors[ns]},
                     {"placement", placement_for(members)},
                     // kurator owns these objects: one already in a member (say, from a direct-mode install)
                     // is taken over instead of blocking the propagation.
                     {"conflictResolution", "Overwrite"}}}};
    if (!ns.empty()) policy["metadata"]["namespace"] = ns;
    out.push_back(std::move(policy));
  }

  // Overrides: per object, one rule per member that has values for it (members in the order given).
  struct Target {
    std::string api_version, kind, ns, name;
    json rules = json::array();
  };
  std::vector<Target> targets;
  auto target_for = [&](const Override& ov) -> Target& {
    for (auto& t : targets)
      if (t.api_version == ov.api_version && t.kind == ov.kind && t.ns == ov.namespace_ && t.name == ov.name)
        return t;
    targets.push_back({ov.api_version, ov.kind, ov.namespace_, ov.name});
    return targets.back();
  };
  for (const auto& m : members) {
    auto it = w.per_member.find(m);
    if (it == w.per_member.end()) continue;
    for (const auto& ov : it->second) {
      json plaintext = json::array();
      for (const auto& op : ov.ops) {
        json p = {{"path", op.path}, {"operator", op.op}};
        if (op.op != "remove") p["value"] = op.value;
        plaintext.push_back(std::move(p));
      }
      target_for(ov).rules.push_back({{"targetCluster", {{"clusterNames", json::array({m})}}},
                                      {"overriders", {{"plaintext", plaintext}}}});
    }
  }
  for (auto& t : targets) {
    json policy = {
        {"apiVersion", kPolicyApi},
        {"kind", t.ns.empty() ? "ClusterOverridePolicy" : "OverridePolicy"},
        {"metadata",
         {{"name", override_policy_name(w.component, t.kind, t.name)}, {"labels", labels_for(w.component)}}},
        {"spec",
         {{"resourceSelectors", json::array({selector_of(t.api_version, t.kind, t.name)})},
          {"overrideRules", std::move(t.rules)}}}};
    if (!t.ns.empty()) policy["metadata"]["namespace"] = t.ns;
    out.push_back(std::move(policy));
  }
  return out;
}

std::string render_plan(const std::vector<PlannedStep>& plan) {
  std::string out;
  for (const auto& step : plan) {
    out += fmt::format("# {} ({}): {} object{}\n", step.target, step.server, step.objects.size(),
                       step.objects.size() == 1 ? "" : "s");
    for (const auto& o : step.objects) out += "---\n" + yaml::dump(kube::redact_secret(o));
  }
  return out;
}

}  // namespace kurator::fleet
