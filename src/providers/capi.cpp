// Cluster API providers on a management cluster (what `clusterctl init` does) and the tree of a workload
// cluster's objects (what `clusterctl describe cluster` prints). See capi.hpp.
#include <kurator/core/readiness.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/providers/capi.hpp>
#include <kurator/util/embedded.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

namespace kurator::providers::capi {
namespace {
using Clock = std::chrono::steady_clock;

constexpr std::string_view kInventoryApiVersion = "clusterctl.cluster.x-k8s.io/v1alpha3";
constexpr std::string_view kCoreApiVersion = "cluster.x-k8s.io/v1beta2";
constexpr std::string_view kLabelClusterctl = "clusterctl.cluster.x-k8s.io";
constexpr std::string_view kLabelProvider = "cluster.x-k8s.io/provider";
constexpr std::string_view kLabelClusterName = "cluster.x-k8s.io/cluster-name";

std::ostream& out_of(std::ostream* o) { return o ? *o : std::cerr; }

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void add_label(json& obj, std::string_view key, const std::string& value) {
  auto& md = obj["metadata"];
  if (!md.is_object()) md = json::object();
  if (!md.contains("labels") || !md["labels"].is_object()) md["labels"] = json::object();
  md["labels"][std::string(key)] = value;
}

std::string name_of(const json& o) { return o.value("/metadata/name"_json_pointer, std::string()); }

std::vector<kube::WaitTarget> deployments_of(const std::vector<json>& objs) {
  std::vector<kube::WaitTarget> t;
  for (const auto& o : objs)
    if (o.value("kind", "") == "Deployment") t.push_back(kube::WaitTarget::from(o));
  return t;
}

Result<std::string> artifact_text(artifacts::Store& store, std::string_view name, const std::string& version) {
  auto a = store.resolve(std::string(name), version);
  if (!a) return a.error();
  auto f = store.ensure(*a);
  if (!f) return f.error();
  return fs::read_file(f->path);
}

// cert-manager proved to work as clusterctl proves it: a self-signed Issuer and a Certificate it must issue
// (manifests/capi/cert-manager-test.yaml), then removed.
Status check_cert_manager(kube::Client& mgmt, const EnsureOptions& o) {
  auto text = embedded::find("capi/cert-manager-test.yaml");
  if (!text) return Error("capi/cert-manager-test.yaml is not embedded");
  auto objs = yaml::parse_all(*text, "capi/cert-manager-test.yaml");
  if (!objs) return objs.error();
  auto& out = out_of(o.progress);
  out << "cert-manager: checking that it issues a certificate (Issuer and Certificate in "
         "kurator-cert-manager-test)\n";
  std::vector<kube::WaitTarget> targets;
  for (const auto& obj : *objs)
    if (obj.value("kind", "") == "Certificate") targets.push_back(kube::WaitTarget::from(obj));
  // The webhook may answer a little after its Deployment is Available (its serving certificate is
  // injected by the cainjector): retry the apply until the deadline, naming the last error.
  const auto deadline = Clock::now() + o.timeout;
  Status applied;
  for (;;) {
    applied = apply_objects(mgmt, *objs, o.timeout);
    if (applied || Clock::now() + std::chrono::seconds(1) > deadline) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!applied) return Error("cert-manager does not answer: " + applied.error().message, ExitCode::timeout,
                             "see kubectl -n cert-manager get pods,events");
  kube::WaitOptions wo;
  wo.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  wo.tty = o.tty;
  wo.progress = o.progress;
  auto st = kube::wait_ready(mgmt, targets, wo);
  (void)mgmt.remove("v1", "Namespace", "", "kurator-cert-manager-test");
  if (!st) return st.error().context("cert-manager did not issue the test certificate");
  return {};
}

}  // namespace

std::string to_string(ProviderType t) {
  switch (t) {
    case ProviderType::core: return "CoreProvider";
    case ProviderType::bootstrap: return "BootstrapProvider";
    case ProviderType::control_plane: return "ControlPlaneProvider";
    case ProviderType::infrastructure: return "InfrastructureProvider";
  }
  return "";
}

void print_plan(std::ostream& out, const std::string& title, const std::vector<json>& objs) {
  out << "# " << title << ": " << objs.size() << (objs.size() == 1 ? " object\n" : " objects\n");
  for (const auto& o : objs) out << "---\n" << yaml::dump(kube::redact_secret(o));
}

Status apply_objects(kube::Client& mgmt, std::vector<json> objs, std::chrono::milliseconds timeout) {
  kube::ApplyAllOptions ao;
  ao.keep_results = false;
  ao.crd_timeout = timeout;
  auto r = kube::apply_all(mgmt, std::move(objs), ao);
  if (!r) return r.error();
  return {};
}

const std::vector<ProviderSpec>& aws_providers() {
  static const std::vector<ProviderSpec> all = {
      {"cluster-api", "cluster-api", ProviderType::core, "cluster-api-core-components", "v1.14.0", "capi-system"},
      {"bootstrap-kubeadm", "kubeadm", ProviderType::bootstrap, "cluster-api-bootstrap-kubeadm-components",
       "v1.14.0", "capi-kubeadm-bootstrap-system"},
      {"control-plane-kubeadm", "kubeadm", ProviderType::control_plane,
       "cluster-api-control-plane-kubeadm-components", "v1.14.0", "capi-kubeadm-control-plane-system"},
      {"infrastructure-aws", "aws", ProviderType::infrastructure, "cluster-api-provider-aws-components", "v2.11.1",
       "capa-system"},
  };
  return all;
}

Result<std::vector<json>> provider_objects(const ProviderSpec& p, std::string_view text, std::string_view source,
                                           const envsubst::Lookup& vars) {
  auto expanded = envsubst::substitute(text, source, vars);
  if (!expanded) return expanded.error();
  auto objs = yaml::parse_all(*expanded, source);
  if (!objs) return objs.error();
  KURATOR_TRY(kube::validate_objects(*objs, std::string(source)));
  bool has_namespace = false;
  for (auto& o : *objs) {
    add_label(o, kLabelClusterctl, "");
    add_label(o, kLabelProvider, p.inventory_name);
    if (o.value("kind", "") == "Namespace" && name_of(o) == p.namespace_) has_namespace = true;
  }
  if (!has_namespace)
    return Error(std::string(source) + ": the components have no Namespace " + p.namespace_, ExitCode::failure,
                 "is this the " + p.inventory_name + " " + p.version + " release file?");
  return std::move(*objs);
}

Result<std::vector<json>> cert_manager_objects(std::string_view text, std::string_view source) {
  auto objs = yaml::parse_all(text, source);
  if (!objs) return objs.error();
  KURATOR_TRY(kube::validate_objects(*objs, std::string(source)));
  for (auto& o : *objs) add_label(o, "clusterctl.cluster.x-k8s.io/core", "cert-manager");
  return std::move(*objs);
}

Result<json> inventory_crd() {
  auto text = embedded::find("capi/inventory-crd.yaml");
  if (!text) return Error("capi/inventory-crd.yaml is not embedded");
  return yaml::parse_one(*text, "capi/inventory-crd.yaml");
}

json inventory_object(const ProviderSpec& p) {
  return {{"apiVersion", kInventoryApiVersion},
          {"kind", "Provider"},
          {"metadata",
           {{"name", p.inventory_name},
            {"namespace", p.namespace_},
            {"labels",
             {{"clusterctl.cluster.x-k8s.io", ""},
              {"clusterctl.cluster.x-k8s.io/core", "inventory"},
              {std::string(kLabelProvider), p.inventory_name}}}}},
          {"providerName", p.provider_name},
          {"type", to_string(p.type)},
          {"version", p.version}};
}

Result<std::vector<Installed>> installed_providers(kube::Client& mgmt) {
  auto l = mgmt.list(std::string(kInventoryApiVersion), "Provider");
  std::vector<Installed> out;
  if (!l) {
    // No inventory CRD yet: nothing installed by clusterctl or kurator.
    if (l.error().http_status == 404 || l.error().message.find("not served") != std::string::npos ||
        l.error().message.find("no kind") != std::string::npos || l.error().message.find("not found") != std::string::npos)
      return out;
    return l.error().context("reading the Cluster API provider inventory");
  }
  for (const auto& i : l->value("items", json::array()))
    out.push_back({name_of(i), i.value("/metadata/namespace"_json_pointer, std::string()), i.value("version", "")});
  return out;
}

Result<EnsureResult> ensure_providers(kube::Client& mgmt, const std::vector<ProviderSpec>& providers,
                                     const EnsureOptions& o) {
  const auto t0 = Clock::now();
  auto& out = out_of(o.progress);
  EnsureResult res;
  auto installed = installed_providers(mgmt);
  if (!installed) return installed.error();
  std::vector<const ProviderSpec*> todo;
  for (const auto& p : providers) {
    const Installed* found = nullptr;
    for (const auto& i : *installed)
      if (i.inventory_name == p.inventory_name) found = &i;
    if (!found) {
      todo.push_back(&p);
    } else if (found->version == p.version) {
      res.present.push_back(p.inventory_name);
    } else {
      res.other_version.push_back(fmt::format("{} {} (kurator pins {})", p.inventory_name, found->version, p.version));
    }
  }
  for (const auto& v : res.other_version)
    out << "provider " << v << " is installed: left alone (upgrading providers is not part of create)\n";
  if (todo.empty()) {
    out << "Cluster API providers: " << fmt::format("{}", fmt::join(res.present, ", "))
        << " already installed at the pinned versions: nothing to do\n";
    return res;
  }
  auto cm = mgmt.get("apps/v1", "Deployment", std::string(kCertManagerNamespace), "cert-manager");
  const bool have_cert_manager = cm.ok();
  if (!cm && cm.error().http_status != 404) return cm.error().context("looking for cert-manager");

  // Everything this run applies, read and processed before anything is applied (a missing variable or a
  // broken file changes nothing).
  auto crd = inventory_crd();
  if (!crd) return crd.error();
  std::vector<json> cert_manager;
  if (!have_cert_manager) {
    if (o.store) {
      auto a = o.store->resolve(std::string(kCertManagerArtifact));
      if (!a) return a.error();
      auto text = artifact_text(*o.store, kCertManagerArtifact, a->version);
      if (!text) return text.error();
      auto objs = cert_manager_objects(*text, "cert-manager " + a->version + " (cert-manager.yaml)");
      if (!objs) return objs.error();
      cert_manager = std::move(*objs);
    }
  }
  std::vector<std::vector<json>> components(todo.size());
  for (size_t i = 0; i < todo.size(); ++i) {
    const auto& p = *todo[i];
    if (!o.store) continue;
    auto text = artifact_text(*o.store, p.artifact, p.version);
    if (!text) return text.error();
    auto objs = provider_objects(p, *text, p.artifact + " " + p.version, o.vars);
    if (!objs) return objs.error();
    components[i] = std::move(*objs);
  }

  if (o.dry_run) {
    auto& plan = o.plan ? *o.plan : std::cout;
    print_plan(plan, "clusterctl inventory CRD", {*crd});
    if (!have_cert_manager) print_plan(plan, "cert-manager (then a test Issuer and Certificate)", cert_manager);
    for (size_t i = 0; i < todo.size(); ++i) {
      auto objs = components[i];
      objs.push_back(inventory_object(*todo[i]));
      print_plan(plan, fmt::format("provider {} {} ({})", todo[i]->inventory_name, todo[i]->version,
                                   todo[i]->artifact),
                 objs);
    }
    for (const auto* p : todo) res.installed.push_back(p->inventory_name);
    res.cert_manager_installed = !have_cert_manager;
    return res;
  }

  KURATOR_TRY(apply_objects(mgmt, {*crd}, o.timeout));
  // The providers at once (clusterctl installs them one after another), and while cert-manager comes up:
  // only their cert-manager objects (Issuers, Certificates) need it answering; the rest (CRDs, RBAC, webhook
  // configurations, Deployments whose pods wait for their certificate Secrets) goes in meanwhile.
  std::vector<kube::WaitTarget> targets;
  std::vector<json> certificates;
  std::vector<std::future<Status>> runs;
  for (size_t i = 0; i < todo.size(); ++i) {
    for (auto& t : deployments_of(components[i])) targets.push_back(std::move(t));
    const size_t count = components[i].size();
    std::vector<json> plain;
    for (auto& obj : components[i]) {
      if (obj.value("apiVersion", "").rfind("cert-manager.io/", 0) == 0)
        certificates.push_back(std::move(obj));
      else
        plain.push_back(std::move(obj));
    }
    out << fmt::format("provider {} {}: applying {} objects\n", todo[i]->inventory_name, todo[i]->version,
                       count);
    runs.push_back(std::async(std::launch::async, [&mgmt, &o, objs = std::move(plain)]() mutable {
      return apply_objects(mgmt, std::move(objs), o.timeout);
    }));
  }
  kube::WaitOptions wo;
  wo.tty = o.tty;
  wo.progress = o.progress;
  auto cert_manager_ready = [&]() -> Status {
    if (!have_cert_manager) {
      out << fmt::format("cert-manager: applying {} objects\n", cert_manager.size());
      auto cm_targets = deployments_of(cert_manager);
      if (auto st = apply_objects(mgmt, std::move(cert_manager), o.timeout); !st)
        return st.error().context("applying cert-manager");
      wo.timeout = o.timeout;
      KURATOR_TRY(kube::wait_ready(mgmt, cm_targets, wo));
      res.cert_manager_installed = true;
    }
    return check_cert_manager(mgmt, o);
  };
  Status cm_status = cert_manager_ready();
  Status first;
  for (size_t i = 0; i < runs.size(); ++i) {
    auto st = runs[i].get();
    if (!st && first) first = st.error().context("applying provider " + todo[i]->inventory_name);
  }
  if (!cm_status) return cm_status.error();
  if (!first) return first.error();
  if (!certificates.empty()) {
    out << fmt::format("providers: applying their {} cert-manager objects\n", certificates.size());
    KURATOR_TRY(apply_objects(mgmt, std::move(certificates), o.timeout));
  }
  std::vector<json> inventory;
  for (const auto* p : todo) inventory.push_back(inventory_object(*p));
  KURATOR_TRY(apply_objects(mgmt, std::move(inventory), o.timeout));
  wo.timeout = o.timeout;
  KURATOR_TRY(kube::wait_ready(mgmt, targets, wo));
  for (const auto* p : todo) res.installed.push_back(p->inventory_name);
  out << fmt::format("Cluster API providers ready after {:.1f}s: {}\n", seconds_since(t0),
                     fmt::join(res.installed, ", "));
  return res;
}

// ---- the workload cluster's objects --------------------------------------------------------------------

namespace {

// The apiVersion to read a referenced object at: a v1beta1-style ref names it; a v1beta2 ref names only the
// group, whose storage version the pinned releases serve as v1beta2.
std::string ref_api_version(const json& ref) {
  if (ref.contains("apiVersion")) {
    auto av = ref.value("apiVersion", "");
    auto slash = av.find('/');
    return slash == std::string::npos ? av : av.substr(0, slash) + "/v1beta2";
  }
  return ref.value("apiGroup", "") + "/v1beta2";
}

std::string cond_text(const json& c) {
  if (c.is_null()) return "";
  return c.value("type", "") + "=" + c.value("status", "Unknown");
}

std::string replicas_text(const json& obj) {
  if (!obj.is_object() || !obj.contains("spec") || !obj["spec"].contains("replicas")) return "";
  auto desired = obj["spec"].value("replicas", 0L);
  auto ready = obj.value("/status/readyReplicas"_json_pointer, 0L);
  return fmt::format("{}/{}", ready, desired);
}

// The row of an object: its main condition (Available, else Ready), else status.ready, else its phase.
TreeRow row_of(const std::string& prefix, const json& obj, std::string_view main) {
  TreeRow r;
  r.object = obj.value("kind", "") + "/" + name_of(obj);
  r.name = prefix + r.object;
  r.replicas = replicas_text(obj);
  json c = condition(obj, main);
  if (c.is_null()) c = condition(obj, "Ready");
  if (!c.is_null()) {
    r.status = cond_text(c);
    if (c.value("status", "") != "True") {
      r.reason = c.value("reason", "");
      r.message = c.value("message", "");
    }
  } else if (obj.contains("status") && obj["status"].contains("ready")) {
    r.status = obj["status"]["ready"] == true ? "Ready=True" : "Ready=False";
  } else {
    r.status = obj.value("/status/phase"_json_pointer, std::string("Pending"));
  }
  auto phase = obj.value("/status/phase"_json_pointer, std::string());
  if (!phase.empty() && r.status.find('=') != std::string::npos) r.status += " (" + phase + ")";
  // Newlines in condition messages would break the table.
  for (auto& ch : r.message)
    if (ch == '\n') ch = ' ';
  return r;
}

bool owned_by(const json& obj, const std::string& kind, const std::string& name) {
  for (const auto& ref : obj.value("/metadata/ownerReferences"_json_pointer, json::array()))
    if (ref.value("kind", "") == kind && ref.value("name", "") == name) return true;
  return false;
}

std::string label_of(const json& obj, const std::string& key) {
  return obj.value("/metadata/labels"_json_pointer, json::object()).value(key, "");
}

bool row_ready(const TreeRow& r) {
  return r.status.rfind("Available=True", 0) == 0 || r.status.rfind("Ready=True", 0) == 0 ||
         r.status == "Running";
}

}  // namespace

json condition(const json& obj, std::string_view type) {
  for (const auto& c : obj.value("/status/conditions"_json_pointer, json::array()))
    if (c.value("type", "") == type) return c;
  return nullptr;
}

bool cluster_available(const json& cluster) {
  if (!cluster.is_object()) return false;
  auto c = condition(cluster, "Available");
  if (c.is_null() || c.value("status", "") != "True") return false;
  auto gen = cluster.value("/metadata/generation"_json_pointer, 0L);
  auto observed = c.value("observedGeneration", cluster.value("/status/observedGeneration"_json_pointer, gen));
  return observed >= gen;
}

Result<ClusterObjects> read_cluster(kube::Client& mgmt, const std::string& ns, const std::string& name) {
  ClusterObjects objs;
  auto c = mgmt.get(std::string(kCoreApiVersion), "Cluster", ns, name);
  if (!c) {
    if (c.error().http_status != 404) return c.error();
  } else {
    objs.cluster = std::move(*c);
  }
  auto get_ref = [&](const char* field, json& into) -> Status {
    if (!objs.cluster.is_object()) return {};
    auto ref = objs.cluster.value("/spec"_json_pointer, json::object()).value(field, json());
    if (!ref.is_object() || ref.value("name", "").empty()) return {};
    auto r = mgmt.get(ref_api_version(ref), ref.value("kind", ""), ns, ref.value("name", ""));
    if (r) into = std::move(*r);
    else if (r.error().http_status != 404) return r.error();
    return {};
  };
  KURATOR_TRY(get_ref("infrastructureRef", objs.infrastructure));
  KURATOR_TRY(get_ref("controlPlaneRef", objs.control_plane));
  kube::ListOptions lo;
  lo.namespace_ = ns;
  lo.label_selector = std::string(kLabelClusterName) + "=" + name;
  auto items = [&](const std::string& av, const std::string& kind, std::vector<json>& into) -> Status {
    auto l = mgmt.list(av, kind, lo);
    if (!l) {
      if (l.error().http_status == 404) return {};
      return l.error();
    }
    for (auto& i : (*l)["items"]) into.push_back(std::move(i));
    return {};
  };
  KURATOR_TRY(items(std::string(kCoreApiVersion), "MachineDeployment", objs.machine_deployments));
  KURATOR_TRY(items(std::string(kCoreApiVersion), "Machine", objs.machines));
  KURATOR_TRY(items("infrastructure.cluster.x-k8s.io/v1beta2", "AWSMachine", objs.infra_machines));
  return objs;
}

std::vector<TreeRow> tree(const ClusterObjects& objs) {
  std::vector<TreeRow> rows;
  if (!objs.cluster.is_object()) return rows;
  rows.push_back(row_of("", objs.cluster, "Available"));
  const std::string cp_name = objs.control_plane.is_object() ? name_of(objs.control_plane) : "";
  if (objs.infrastructure.is_object()) rows.push_back(row_of("├─ClusterInfrastructure - ", objs.infrastructure, "Ready"));
  std::vector<const json*> cp_machines, other;
  for (const auto& m : objs.machines) {
    if (m.value("/metadata/labels"_json_pointer, json::object()).contains("cluster.x-k8s.io/control-plane") ||
        (!cp_name.empty() && owned_by(m, "KubeadmControlPlane", cp_name)))
      cp_machines.push_back(&m);
    else
      other.push_back(&m);
  }
  const bool have_workers = !objs.machine_deployments.empty() || !other.empty();
  if (objs.control_plane.is_object()) {
    rows.push_back(row_of(have_workers ? "├─ControlPlane - " : "└─ControlPlane - ", objs.control_plane,
                          "Available"));
    const std::string bar = have_workers ? "│ " : "  ";
    for (size_t i = 0; i < cp_machines.size(); ++i)
      rows.push_back(row_of(bar + (i + 1 == cp_machines.size() ? "└─" : "├─"), *cp_machines[i], "Ready"));
  }
  if (have_workers) {
    rows.push_back({"└─Workers", "", "", "", "", ""});
    for (size_t d = 0; d < objs.machine_deployments.size(); ++d) {
      const auto& md = objs.machine_deployments[d];
      const bool last_md = d + 1 == objs.machine_deployments.size();
      rows.push_back(row_of(std::string("  ") + (last_md ? "└─" : "├─"), md, "Available"));
      std::vector<const json*> mine;
      for (const auto* m : other)
        if (label_of(*m, "cluster.x-k8s.io/deployment-name") == name_of(md)) mine.push_back(m);
      const std::string bar = std::string("  ") + (last_md ? "  " : "│ ");
      for (size_t i = 0; i < mine.size(); ++i)
        rows.push_back(row_of(bar + (i + 1 == mine.size() ? "└─" : "├─"), *mine[i], "Ready"));
    }
  }
  return rows;
}

std::string render_tree(const std::vector<TreeRow>& rows) {
  std::vector<std::string> headers = {"NAME", "REPLICAS", "STATUS", "REASON", "MESSAGE"};
  std::vector<size_t> w(headers.size());
  auto width = [](const std::string& s) {  // UTF-8 code points (the tree's box-drawing characters)
    size_t n = 0;
    for (unsigned char ch : s)
      if ((ch & 0xC0) != 0x80) ++n;
    return n;
  };
  auto cells = [](const TreeRow& r) {
    return std::vector<std::string>{r.name, r.replicas, r.status, r.reason, r.message};
  };
  for (size_t i = 0; i < headers.size(); ++i) w[i] = headers[i].size();
  for (const auto& r : rows) {
    auto c = cells(r);
    for (size_t i = 0; i + 1 < c.size(); ++i) w[i] = std::max(w[i], width(c[i]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& c) {
    std::string l;
    for (size_t i = 0; i < c.size(); ++i) {
      l += c[i];
      if (i + 1 < c.size()) l += std::string(w[i] - width(c[i]) + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(headers);
  for (const auto& r : rows) line(cells(r));
  return out;
}

std::string not_ready_summary(const ClusterObjects& objs) {
  if (!objs.cluster.is_object()) return "the Cluster does not exist";
  std::vector<std::string> parts;
  for (const auto& r : tree(objs)) {
    if (r.object.empty() || row_ready(r)) continue;
    std::string part = r.object + ": " + r.status;
    if (!r.reason.empty()) part += " " + r.reason;
    if (!r.message.empty()) part += ": " + r.message;
    parts.push_back(part);
  }
  if (parts.empty()) return "everything reports ready but the Cluster's Available condition is not yet True";
  return fmt::format("{}", fmt::join(parts, "; "));
}

Status watch_cluster(kube::Client& mgmt, const std::string& ns, const std::string& name,
                     const std::function<bool(const ClusterObjects&)>& done, const WatchClusterOptions& o) {
  auto& out = out_of(o.progress);
  const auto t0 = Clock::now();
  const auto deadline = t0 + o.timeout;
  std::mutex mu;
  std::condition_variable cv;
  bool changed = true;
  std::atomic<bool> stop{false};
  // One watch per kind; any event only says "look again": the state is re-read whole, so the tree never
  // mixes objects from different moments with a half-applied change.
  struct Kind {
    std::string api_version, kind;
    bool by_label;
  };
  const std::vector<Kind> kinds = {
      {std::string(kCoreApiVersion), "Cluster", false},
      {"infrastructure.cluster.x-k8s.io/v1beta2", "AWSCluster", false},
      {"controlplane.cluster.x-k8s.io/v1beta2", "KubeadmControlPlane", false},
      {std::string(kCoreApiVersion), "MachineDeployment", true},
      {std::string(kCoreApiVersion), "Machine", true},
      {"infrastructure.cluster.x-k8s.io/v1beta2", "AWSMachine", true},
  };
  std::vector<std::thread> threads;
  for (const auto& k : kinds) {
    threads.emplace_back([&, k] {
      kube::WatchOptions wopt;
      wopt.namespace_ = ns;
      if (k.by_label) wopt.label_selector = std::string(kLabelClusterName) + "=" + name;
      wopt.stop = &stop;
      while (!stop.load()) {
        auto st = mgmt.watch(k.api_version, k.kind, wopt, [&](const kube::WatchEvent&) {
          std::lock_guard<std::mutex> lk(mu);
          changed = true;
          cv.notify_all();
          return !stop.load();
        });
        if (stop.load()) break;
        // A dropped or refused watch: the periodic re-read below still covers this kind.
        std::unique_lock<std::mutex> lk(mu);
        cv.wait_for(lk, std::chrono::seconds(2), [&] { return stop.load(); });
        (void)st;
      }
    });
  }
  auto finish = [&](Status st) {
    stop = true;
    cv.notify_all();
    for (auto& t : threads) t.join();
    return st;
  };
  std::string last;
  ClusterObjects objs;
  out << fmt::format("waiting for Cluster {}/{} to be {} (timeout {}s)\n", ns, name, o.what,
                     std::chrono::duration_cast<std::chrono::seconds>(o.timeout).count());
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu);
      // A re-read at least every 5 s also covers a watch that could not be opened (a CRD not served yet).
      cv.wait_until(lk, std::min(deadline, Clock::now() + std::chrono::seconds(5)), [&] { return changed; });
      changed = false;
    }
    auto r = read_cluster(mgmt, ns, name);
    if (!r) return finish(r.error().context("reading Cluster " + ns + "/" + name));
    objs = std::move(*r);
    auto text = render_tree(tree(objs));
    if (!objs.cluster.is_object()) text = "Cluster " + ns + "/" + name + ": not found\n";
    if (text != last) {
      out << fmt::format("[{:.1f}s]\n", seconds_since(t0)) << text;
      out.flush();
      last = text;
    }
    if (done(objs)) return finish({});
    if (Clock::now() >= deadline)
      return finish(Error(fmt::format("Cluster {}/{} is not {} after {}s: {}", ns, name, o.what,
                                      std::chrono::duration_cast<std::chrono::seconds>(o.timeout).count(),
                                      not_ready_summary(objs)),
                          ExitCode::timeout,
                          "kurator describe cluster " + name + " shows the tree; the providers' logs: kubectl -n "
                          "capi-system logs deploy/capi-controller-manager"));
  }
}

}  // namespace kurator::providers::capi
