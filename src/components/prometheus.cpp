// Prometheus through the Prometheus Operator: the pinned release from the artifact layer, kurator's own
// objects from manifests/prometheus/, per-member values as fleet overrides.
#include <kurator/components/prometheus.hpp>
#include <kurator/core/readiness.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/embedded.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <algorithm>

namespace kurator::components::prometheus {
namespace stdfs = std::filesystem;
namespace {

constexpr const char* kOwnManifest = "prometheus/prometheus.yaml";

Result<std::vector<json>> own_objects() {
  auto text = embedded::find(kOwnManifest);
  if (!text)
    return Error(std::string("manifests/") + kOwnManifest + " is not embedded in this kurator build");
  return yaml::parse_all(*text, std::string("manifests/") + kOwnManifest);
}

bool is_prometheus_rbac(const json& o) {
  const std::string kind = o.value("kind", "");
  const std::string name = o["metadata"].value("name", "");
  return (kind == "ServiceAccount" && name == "prometheus") ||
         ((kind == "ClusterRole" || kind == "ClusterRoleBinding") && name == "kurator-prometheus");
}

Result<std::vector<json>> read_dir_objects(const stdfs::path& dir, const std::string& what) {
  std::error_code ec;
  std::vector<stdfs::path> files;
  for (const auto& e : stdfs::directory_iterator(dir, ec))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  if (ec || files.empty())
    return Error("prometheus-operator: " + dir.string() + " holds no " + what, ExitCode::failure,
                 "run `kurator tool verify`, then `kurator tool prune --all` and install again");
  std::sort(files.begin(), files.end());
  std::vector<json> out;
  for (const auto& f : files) {
    auto text = fs::read_file(f);
    if (!text) return text.error();
    auto docs = yaml::parse_all(*text, f.string());
    if (!docs) return docs.error();
    KURATOR_TRY(kube::validate_objects(*docs, f.string()));
    for (auto& d : *docs) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

Result<std::vector<json>> operator_objects(const stdfs::path& artifact_dir, const std::string& version) {
  std::vector<json> out;
  out.push_back({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNamespace}}}});
  auto crds = read_dir_objects(artifact_dir / "crds", "CRDs (crds/*.yaml)");
  if (!crds) return crds.error();
  for (auto& c : *crds) out.push_back(std::move(c));
  auto rbac = read_dir_objects(artifact_dir / "rbac", "operator manifests (rbac/*.yaml)");
  if (!rbac) return rbac.error();
  for (auto& o : *rbac) {
    if (o.value("kind", "") == "ServiceMonitor") continue;
    // Upstream's example lives in `default`: move it (namespaced objects and the binding's subject).
    if (o["metadata"].contains("namespace")) o["metadata"]["namespace"] = kNamespace;
    if (o.value("kind", "") == "ClusterRoleBinding")
      for (auto& s : o["subjects"])
        if (s.contains("namespace")) s["namespace"] = kNamespace;
    out.push_back(std::move(o));
  }
  auto own = own_objects();
  if (!own) return own.error();
  for (auto& o : *own)
    if (is_prometheus_rbac(o)) out.push_back(std::move(o));
  label_objects(out, kOperatorComponent, version);
  return out;
}

Result<std::vector<json>> load_operator(artifacts::Store& store, const std::string& version) {
  auto a = store.resolve(kArtifact, version);
  if (!a) return a.error();
  auto fetched = store.ensure(*a);
  if (!fetched) return fetched.error();
  return operator_objects(fetched->path, a->version);
}

fleet::Workload operator_workload(std::vector<json> objects) {
  fleet::Workload w;
  w.component = kOperatorComponent;
  w.objects = std::move(objects);
  return w;
}

fleet::Workload expose_workload(const Options& o) {
  fleet::Workload w;
  w.component = kExposeComponent;
  auto own = own_objects();
  if (own)
    for (auto& obj : *own)
      if (obj.value("kind", "") == "Service" && obj["metadata"].value("name", "") == kService) {
        obj["spec"]["type"] = o.service_type;
        w.objects.push_back(std::move(obj));
      }
  label_objects(w.objects, kName, o.version);
  return w;
}

std::string federate_scrape_config(const std::vector<MemberAddress>& targets) {
  json static_configs = json::array();
  for (const auto& t : targets)
    static_configs.push_back({{"targets", {t.address}}, {"labels", {{"federated_from", t.member}}}});
  json job = {{"job_name", "kurator-federate"},
              {"honor_labels", true},
              {"metrics_path", "/federate"},
              {"params", {{"match[]", {"{job=~\".+\"}"}}}},
              {"static_configs", static_configs}};
  return yaml::dump(json::array({job}));
}

fleet::Workload prometheus_workload(const Options& o, const std::vector<std::string>& members,
                                    const std::vector<MemberAddress>& targets) {
  fleet::Workload w;
  w.component = kName;
  auto own = own_objects();
  if (own)
    for (auto& obj : *own) {
      const std::string kind = obj.value("kind", "");
      if (kind == "Prometheus" || (kind == "Secret" && obj["metadata"].value("name", "") == kScrapeSecret))
        w.objects.push_back(std::move(obj));
    }
  label_objects(w.objects, kName, o.version);
  for (const auto& m : members) {
    fleet::Override prom{"monitoring.coreos.com/v1", "Prometheus", kNamespace, kPrometheusName, {}};
    prom.ops.push_back({"add", "/spec/externalLabels/cluster", m});
    if (!o.federate_to.empty() && m == o.federate_to) {
      prom.ops.push_back(
          {"add", "/spec/additionalScrapeConfigs", {{"name", kScrapeSecret}, {"key", kScrapeKey}}});
      fleet::Override secret{"v1", "Secret", kNamespace, kScrapeSecret, {}};
      secret.ops.push_back(
          {"replace", std::string("/data/") + kScrapeKey, base64::encode(federate_scrape_config(targets))});
      w.per_member[m].push_back(std::move(secret));
    }
    w.per_member[m].push_back(std::move(prom));
  }
  return w;
}

namespace {
std::vector<std::string> member_names(const fleet::Fleet& fleet) {
  std::vector<std::string> names;
  for (const auto& m : fleet.members()) names.push_back(m.name);
  return names;
}
}  // namespace

bool InstallReport::unchanged() const {
  for (const auto& [name, r] : applied)
    if (!r.unchanged()) return false;
  return true;
}

bool UninstallReport::nothing_found() const {
  for (const auto& [name, r] : removed)
    if (!r.nothing_found()) return false;
  return true;
}

Status check(const Options& o, const std::vector<std::string>& names) {
  if (o.service_type != "LoadBalancer" && o.service_type != "NodePort")
    return Error("--service-type " + o.service_type + ": must be LoadBalancer or NodePort", ExitCode::usage);
  if (o.federate_to.empty()) return {};
  if (std::find(names.begin(), names.end(), o.federate_to) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return Error("--federate-to " + o.federate_to + ": not one of the chosen member clusters (" + list + ")",
                 ExitCode::usage, "name one of them, or add it with --clusters");
  }
  if (names.size() < 2)
    return Error("--federate-to " + o.federate_to + ": no other member cluster to federate from",
                 ExitCode::usage, "choose at least two members with --clusters");
  return {};
}

namespace {

// The federation targets: every member but the federating one, at its Service's address.
Result<std::vector<MemberAddress>> federation_targets(const fleet::Fleet& fleet, const Options& o,
                                                      bool require) {
  return member_service_addresses(fleet.members(), kNamespace, kService, kWebPort, require, o.federate_to);
}

}  // namespace

Result<std::vector<fleet::PlannedStep>> plan(fleet::Fleet& fleet, const fleet::Workload& op,
                                             const Options& o) {
  KURATOR_TRY(check(o, member_names(fleet)));
  std::vector<fleet::PlannedStep> all;
  auto add = [&](const fleet::Workload& w) -> Status {
    auto p = fleet.plan(w);
    if (!p) return p.error();
    for (auto& s : *p) all.push_back(std::move(s));
    return {};
  };
  KURATOR_TRY(add(op));
  std::vector<MemberAddress> targets;
  if (!o.federate_to.empty()) {
    KURATOR_TRY(add(expose_workload(o)));
    auto t = federation_targets(fleet, o, false);
    if (!t) return t.error();
    targets = std::move(*t);
  }
  KURATOR_TRY(add(prometheus_workload(o, member_names(fleet), targets)));
  return all;
}

Result<InstallReport> install(fleet::Fleet& fleet, const fleet::Workload& op, const Options& o,
                              const kube::WaitOptions& wait) {
  KURATOR_TRY(check(o, member_names(fleet)));
  InstallReport r;
  auto step = [&](const fleet::Workload& w) -> Status {
    auto rep = fleet.apply(w);
    if (!rep) return rep.error();
    r.applied.emplace_back(w.component, std::move(*rep));
    return fleet.wait_ready(w, wait);
  };
  KURATOR_TRY(step(op));
  if (!o.federate_to.empty()) {
    KURATOR_TRY(step(expose_workload(o)));
    auto t = federation_targets(fleet, o, true);
    if (!t) return t.error();
    r.targets = std::move(*t);
  }
  KURATOR_TRY(step(prometheus_workload(o, member_names(fleet), r.targets)));
  return r;
}

std::vector<std::string> prometheus_users(kube::Client& member, const std::string& except) {
  std::vector<std::string> users;
  kube::ListOptions lo;
  lo.label_selector = std::string(kManagedByLabel) + "=kurator";
  auto list = member.list("monitoring.coreos.com/v1", "Prometheus", lo);
  if (!list) return users;
  for (const auto& p : (*list)["items"]) {
    auto c = label_of(p, kComponentLabel);
    if (!c.empty() && c != except && std::find(users.begin(), users.end(), c) == users.end())
      users.push_back(c);
  }
  return users;
}

Result<UninstallReport> uninstall(fleet::Fleet& fleet, const fleet::Workload& op, const Options& o,
                                  std::chrono::milliseconds timeout,
                                  const std::vector<std::string>& also_in_use_by) {
  UninstallReport r;
  for (const auto& w : {prometheus_workload(o, member_names(fleet), {}), expose_workload(o)}) {
    auto rep = fleet.remove(w, timeout);
    if (!rep) return rep.error();
    r.removed.emplace_back(w.component, std::move(*rep));
  }
  for (const auto& m : fleet.members()) {
    kube::Client c(m.config);
    for (const auto& u : prometheus_users(c, kName))
      if (std::find(also_in_use_by.begin(), also_in_use_by.end(), u) != also_in_use_by.end())
        r.operator_kept.emplace_back(m.name, u);
  }
  if (r.operator_kept.empty()) {
    auto rep = fleet.remove(op, timeout);
    if (!rep) return rep.error();
    r.removed.emplace_back(op.component, std::move(*rep));
  }
  return r;
}

Component component() {
  Component c;
  c.name = kName;
  c.scope = Scope::member;
  c.description = "Prometheus Operator available, Prometheus monitoring/kurator Reconciled and Available";
  c.health = [](const Probe& p) {
    Health h;
    kube::Client& k = *p.cluster;
    auto prom = k.get("monitoring.coreos.com/v1", "Prometheus", kNamespace, kPrometheusName);
    if (!prom) {
      h.reason = prom.error().http_status == 404 ? "not installed"
                                                 : "cannot read Prometheus: " + prom.error().message;
      return h;
    }
    h.installed = true;
    h.version = label_of(*prom, kVersionLabel);
    std::vector<std::string> problems;
    if (auto why = check_ready(k, "apps/v1", "Deployment", kNamespace, kOperatorDeployment); !why.empty())
      problems.push_back(why);
    if (auto st = kube::evaluate(*prom); !st.ready())
      problems.push_back(std::string("Prometheus/") + kNamespace + "/" + kPrometheusName + ": " + st.reason);
    for (size_t i = 0; i < problems.size(); ++i) h.reason += (i ? "; " : "") + problems[i];
    h.healthy = problems.empty();
    return h;
  };
  return c;
}

}  // namespace kurator::components::prometheus
