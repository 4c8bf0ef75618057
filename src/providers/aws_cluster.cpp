// The aws provider's operations: Cluster API + CAPA on a management cluster (see aws_cluster.hpp).
#include <kurator/core/readiness.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/providers/aws_cluster.hpp>
#include <kurator/providers/capi.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <fmt/format.h>

#include <iostream>
#include <set>
#include <thread>

namespace kurator::providers::aws {
namespace {
using Clock = std::chrono::steady_clock;

constexpr std::string_view kInfraApiVersion = "infrastructure.cluster.x-k8s.io/v1beta2";
constexpr std::string_view kTemplateArtifact = "cluster-api-provider-aws";
constexpr std::string_view kCalicoArtifact = "calico";

std::ostream& progress_of(const Options& o) { return o.progress ? *o.progress : std::cerr; }
std::ostream& out_of(const Options& o) { return o.out ? *o.out : std::cout; }

stdfs::path cluster_dir(const stdfs::path& home, const std::string& name) { return home / "clusters" / name; }

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ---- the record --------------------------------------------------------------------------------------

struct Record {
  stdfs::path dir;
  json state = json::object();
  Status save() const {
    return fs::write_private_file(dir / std::string(kStateFile), state.dump(2) + "\n");
  }
};

Result<Record> load_record(const stdfs::path& home, const std::string& name) {
  Record r{cluster_dir(home, name)};
  auto text = fs::read_file(r.dir / std::string(kStateFile));
  if (!text)
    return Error("no aws cluster \"" + name + "\" in " + (home / "clusters").string(), ExitCode::failure,
                 "kurator get clusters lists the clusters kurator knows");
  try {
    r.state = json::parse(*text);
  } catch (const std::exception& e) {
    return Error((r.dir / std::string(kStateFile)).string() + ": not JSON: " + e.what());
  }
  return r;
}

// The management cluster: the flags when given, else what create recorded, else kubectl's defaults.
Result<kubeconfig::RestConfig> management_config(const Options& o, const json& state) {
  kubeconfig::LoadOptions lo = o.management;
  if (lo.explicit_path.empty() && lo.context.empty() && state.contains("management")) {
    lo.explicit_path = state["management"].value("kubeconfig", "");
    lo.context = state["management"].value("context", "");
  }
  auto rc = kubeconfig::load(lo);
  if (!rc) return rc.error().context("the management cluster");
  return rc;
}

Status check_reachable(kube::Client& mgmt) {
  auto v = mgmt.server_version();
  if (!v)
    return Error("the management cluster at " + mgmt.config().server + " does not answer: " + v.error().message,
                 ExitCode::failure, "--kubeconfig/--context name the management cluster (any Kubernetes cluster)");
  return {};
}

// ---- objects -----------------------------------------------------------------------------------------

Result<std::string> template_text(const Options& o) {
  if (!o.store) return Error("no artifact store");
  auto f = o.store->ensure(std::string(kTemplateArtifact));
  if (!f) return f.error();
  return fs::read_file(f->path / "templates" / "cluster-template.yaml");
}

// The machine templates are immutable: an upgrade makes new ones, named with a suffix, and points the
// control plane and the MachineDeployment at them.
void rename_machine_templates(std::vector<json>& objs, const std::string& suffix) {
  if (suffix.empty()) return;
  std::set<std::string> renamed;
  for (auto& o : objs)
    if (o.value("kind", "") == "AWSMachineTemplate") {
      auto n = o["metadata"].value("name", "");
      renamed.insert(n);
      o["metadata"]["name"] = n + "-" + suffix;
    }
  for (auto& o : objs) {
    json* ref = nullptr;
    if (o.value("kind", "") == "KubeadmControlPlane")
      ref = &o["spec"]["machineTemplate"]["infrastructureRef"];
    else if (o.value("kind", "") == "MachineDeployment")
      ref = &o["spec"]["template"]["spec"]["infrastructureRef"];
    if (ref && ref->is_object() && renamed.count(ref->value("name", "")))
      (*ref)["name"] = ref->value("name", "") + "-" + suffix;
  }
}

Result<std::vector<json>> cluster_objects(const AwsClusterConfig& cfg, const std::string& suffix, const Options& o) {
  auto text = template_text(o);
  if (!text) return text.error();
  auto objs = render_cluster(cfg, *text, "cluster-api-provider-aws " + std::string(kCapaVersion) +
                                             " templates/cluster-template.yaml");
  if (!objs) return objs.error();
  rename_machine_templates(*objs, suffix);
  return objs;
}

std::string suffix_for(const std::string& version) {
  std::string s = version;
  for (auto& c : s)
    if (c == '.') c = '-';
  return s;
}

// ---- the workload cluster ----------------------------------------------------------------------------

Status fetch_kubeconfig(kube::Client& mgmt, const AwsClusterConfig& cfg, const stdfs::path& dir, const Options& o) {
  const std::string secret = cfg.name + "-kubeconfig";
  kube::WaitOptions wo;
  wo.timeout = o.wait_timeout;
  wo.tty = o.tty;
  wo.progress = &progress_of(o);
  progress_of(o) << "waiting for the kubeconfig Secret " << cfg.namespace_ << "/" << secret
                 << " (written by the control plane provider)\n";
  KURATOR_TRY(kube::wait_ready(mgmt, {{"v1", "Secret", cfg.namespace_, secret}}, wo));
  auto s = mgmt.get("v1", "Secret", cfg.namespace_, secret);
  if (!s) return s.error().context("reading Secret " + cfg.namespace_ + "/" + secret);
  auto value = s->value("/data/value"_json_pointer, std::string());
  auto decoded = base64::decode(value);
  if (value.empty() || !decoded)
    return Error("Secret " + cfg.namespace_ + "/" + secret + " has no kubeconfig in data.value");
  return fs::write_private_file(dir / "kubeconfig", *decoded);
}

Result<kube::Client*> workload_client(const stdfs::path& dir, std::unique_ptr<kube::Client>& holder) {
  kubeconfig::LoadOptions lo;
  lo.explicit_path = (dir / "kubeconfig").string();
  auto rc = kubeconfig::load(lo);
  if (!rc) return rc.error();
  holder = std::make_unique<kube::Client>(*rc);
  return holder.get();
}

// The pinned Calico manifest, with the cluster's pod CIDR for its IP pool (the manifest leaves
// CALICO_IPV4POOL_CIDR commented out).
Result<std::vector<json>> calico_objects(const AwsClusterConfig& cfg, const Options& o) {
  if (!o.store) return Error("no artifact store");
  auto f = o.store->ensure(std::string(kCalicoArtifact));
  if (!f) return f.error();
  auto text = fs::read_file(f->path / "calico.yaml");
  if (!text) return text.error();
  auto objs = yaml::parse_all(*text, "calico.yaml");
  if (!objs) return objs.error();
  for (auto& obj : *objs) {
    if (obj.value("kind", "") != "DaemonSet" || obj["metadata"].value("name", "") != "calico-node") continue;
    for (auto& c : obj["spec"]["template"]["spec"]["containers"]) {
      if (c.value("name", "") != "calico-node") continue;
      auto& env = c["env"];
      bool set = false;
      for (auto& e : env)
        if (e.value("name", "") == "CALICO_IPV4POOL_CIDR") e["value"] = cfg.pod_cidr, set = true;
      if (!set) env.push_back({{"name", "CALICO_IPV4POOL_CIDR"}, {"value", cfg.pod_cidr}});
    }
  }
  return objs;
}

Status wait_nodes(kube::Client& workload, const capi::ClusterObjects& objs, const Options& o) {
  std::vector<kube::WaitTarget> targets;
  for (const auto& m : objs.machines) {
    auto node = m.value("/status/nodeRef/name"_json_pointer, std::string());
    if (!node.empty()) targets.push_back({"v1", "Node", "", node});
  }
  if (targets.empty()) return {};
  kube::WaitOptions wo;
  wo.timeout = o.wait_timeout;
  wo.tty = o.tty;
  wo.progress = &progress_of(o);
  progress_of(o) << fmt::format("waiting for {} node{} Ready in the workload cluster\n", targets.size(),
                                targets.size() == 1 ? "" : "s");
  return kube::wait_ready(workload, targets, wo);
}

// The credentials variable for CAPA's components, read only when CAPA must be installed.
Result<envsubst::Lookup> provider_variables(kube::Client& mgmt, const AwsClusterConfig& cfg, const Options& o) {
  auto installed = capi::installed_providers(mgmt);
  if (!installed) return installed.error();
  bool have_capa = false;
  for (const auto& i : *installed)
    if (i.inventory_name == "infrastructure-aws") have_capa = true;
  std::string encoded;
  if (!have_capa) {
    auto creds = load_credentials(o.env, fs::user_home(), cfg.region);
    if (!creds) return creds.error();
    encoded = encode_as_profile(*creds);
  }
  EnvLookup env = o.env;
  return envsubst::Lookup([env, encoded](const std::string& name) -> std::optional<std::string> {
    if (name == "AWS_B64ENCODED_CREDENTIALS") {
      if (encoded.empty()) return std::nullopt;
      return encoded;
    }
    // The components' feature gates and options (EXP_*, CAPA_*, …) as clusterctl reads them: from the
    // environment; everything else takes its default.
    return env ? env(name) : std::nullopt;
  });
}

bool control_plane_initialized(const capi::ClusterObjects& objs) {
  const auto& c = objs.cluster;
  if (!c.is_object()) return false;
  if (c.value("/status/initialization/controlPlaneInitialized"_json_pointer, false)) return true;
  auto cond = capi::condition(c, "ControlPlaneInitialized");
  return !cond.is_null() && cond.value("status", "") == "True";
}

Status wait_for(kube::Client& mgmt, const AwsClusterConfig& cfg, const Options& o, const std::string& what,
                const std::function<bool(const capi::ClusterObjects&)>& done) {
  capi::WatchClusterOptions wo;
  wo.timeout = o.wait_timeout;
  wo.tty = o.tty;
  wo.progress = &progress_of(o);
  wo.what = what;
  return capi::watch_cluster(mgmt, cfg.namespace_, cfg.name, done, wo);
}

// Available for the current generation, and `extra` (a scale's or upgrade's own end state) when given.
Status wait_available(kube::Client& mgmt, const AwsClusterConfig& cfg, const Options& o,
                      const std::function<bool(const capi::ClusterObjects&)>& extra = {}) {
  return wait_for(mgmt, cfg, o, "Available", [&](const capi::ClusterObjects& objs) {
    return capi::cluster_available(objs.cluster) && (!extra || extra(objs));
  });
}

// The cluster objects, applied once the providers' webhooks answer: a webhook whose Deployment just became
// Available may still refuse connections for a moment, so such failures are retried (saying so) until the
// wait timeout; any other error is final.
Status apply_cluster(kube::Client& mgmt, const std::vector<json>& objs, const Options& o) {
  const auto deadline = Clock::now() + o.wait_timeout;
  for (int attempt = 1;; ++attempt) {
    auto st = capi::apply_objects(mgmt, objs, o.wait_timeout);
    if (st) return st;
    const auto& m = st.error().message;
    const bool webhook = m.find("failed calling webhook") != std::string::npos ||
                         m.find("conversion webhook") != std::string::npos;
    if (!webhook) return st;
    if (Clock::now() + std::chrono::seconds(1) > deadline)
      return Error(fmt::format("the Cluster API providers' webhooks did not answer within {}s: {}",
                               std::chrono::duration_cast<std::chrono::seconds>(o.wait_timeout).count(), m),
                   ExitCode::timeout,
                   "their controllers run in capi-system, capi-kubeadm-bootstrap-system, "
                   "capi-kubeadm-control-plane-system and capa-system: kubectl -n capi-system logs "
                   "deploy/capi-controller-manager");
    if (attempt == 1) progress_of(o) << "the providers' webhooks do not answer yet (" << m << "); retrying\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

void print_next(std::ostream& out, const AwsClusterConfig& cfg, const stdfs::path& dir) {
  out << "Use it with:\n"
      << "  export KUBECONFIG=" << (dir / "kubeconfig").string() << "\n"
      << "  kubectl get nodes\n"
      << "Follow it with:  kurator describe cluster " << cfg.name << "\n"
      << "Delete it with:  kurator delete cluster " << cfg.name << "\n";
}

Status finish_op(Record& rec, const std::string& op, const Status& st) {
  rec.state["lastOperation"] = op;
  rec.state["result"] = st ? "succeeded" : "failed";
  rec.state["message"] = st ? "" : st.error().message;
  if (auto s = rec.save(); !s) return s;
  return st;
}

}  // namespace

bool is_aws_cluster(const stdfs::path& home, const std::string& name) {
  std::error_code ec;
  return !name.empty() && stdfs::exists(cluster_dir(home, name) / std::string(kStateFile), ec);
}

Status create(const AwsClusterConfig& cfg, const Options& o) {
  const auto t0 = Clock::now();
  const auto dir = cluster_dir(o.home, cfg.name);
  std::error_code ec;
  if (!is_aws_cluster(o.home, cfg.name) && stdfs::exists(dir, ec))
    return Error("a cluster \"" + cfg.name + "\" of another provider exists in " + dir.string(), ExitCode::failure,
                 "choose another name, or delete it first: kurator delete cluster " + cfg.name);
  json prev_state = json::object();
  if (auto rec = load_record(o.home, cfg.name)) prev_state = rec->state;
  if (!prev_state.empty() && prev_state.value("namespace", cfg.namespace_) != cfg.namespace_)
    return Error("cluster \"" + cfg.name + "\" exists in namespace " + prev_state.value("namespace", ""),
                 ExitCode::failure, "a name is one cluster; delete it first to make it elsewhere");
  auto rc = management_config(o, prev_state);
  if (!rc) return rc.error();
  kube::Client mgmt(*rc);
  KURATOR_TRY(check_reachable(mgmt));
  const std::string suffix = prev_state.value("templateSuffix", "");
  auto objs = cluster_objects(cfg, suffix, o);
  if (!objs) return objs.error();
  auto vars = provider_variables(mgmt, cfg, o);
  if (!vars) return vars.error();

  capi::EnsureOptions eo;
  eo.store = o.store;
  eo.vars = *vars;
  eo.dry_run = o.dry_run;
  eo.timeout = o.wait_timeout;
  eo.tty = o.tty;
  eo.progress = &progress_of(o);
  eo.plan = &out_of(o);
  if (o.dry_run) {
    auto ensured = capi::ensure_providers(mgmt, capi::aws_providers(), eo);
    if (!ensured) return ensured.error();
    capi::print_plan(out_of(o), fmt::format("cluster {}/{} on {}", cfg.namespace_, cfg.name, rc->server), *objs);
    out_of(o) << "# then: wait for Cluster " << cfg.namespace_ << "/" << cfg.name
              << " Available, write its kubeconfig to " << (dir / "kubeconfig").string()
              << (cfg.cni == "calico" ? ", apply Calico " : ", no CNI") << ", wait for its nodes Ready\n";
    return {};
  }

  // Already there with the same settings and ready: nothing to do.
  const std::string cfg_text = config_yaml(cfg);
  if (prev_state.value("result", "") == "succeeded" && prev_state.value("lastOperation", "") == "create") {
    auto cur = capi::read_cluster(mgmt, cfg.namespace_, cfg.name);
    auto recorded = fs::read_file(dir / "cluster.yaml");
    if (cur && capi::cluster_available(cur->cluster) && recorded && *recorded == cfg_text &&
        stdfs::exists(dir / "kubeconfig", ec)) {
      out_of(o) << "Cluster \"" << cfg.name << "\" already exists with the same settings and is Available; "
                << "nothing to do.\n";
      return {};
    }
  }

  Record rec{dir};
  rec.state = prev_state;
  stdfs::create_directories(dir, ec);
  rec.state["name"] = cfg.name;
  rec.state["provider"] = "aws";
  rec.state["namespace"] = cfg.namespace_;
  rec.state["management"] = {{"kubeconfig", rc->source.string()}, {"context", rc->context_name},
                             {"server", rc->server}};
  rec.state["templateSuffix"] = suffix;
  rec.state["kubernetesVersion"] = cfg.kubernetes_version;
  rec.state["lastOperation"] = "create";
  rec.state["result"] = "running";
  KURATOR_TRY(rec.save());
  KURATOR_TRY(fs::write_private_file(dir / "cluster.yaml", cfg_text));

  auto run = [&]() -> Status {
    auto ensured = capi::ensure_providers(mgmt, capi::aws_providers(), eo);
    if (!ensured) return ensured.error();
    progress_of(o) << fmt::format("cluster {}/{}: applying {} objects\n", cfg.namespace_, cfg.name, objs->size());
    KURATOR_TRY(apply_cluster(mgmt, *objs, o));
    // The control plane provider writes the kubeconfig as soon as the endpoint is known: it is saved at once
    // (what `clusterctl get kubeconfig` gives), though the API server answers only once the control plane is
    // initialized. Then the CNI, which is what lets the nodes become Ready (and so the machines, and so the
    // Cluster Available).
    KURATOR_TRY(fetch_kubeconfig(mgmt, cfg, dir, o));
    progress_of(o) << "kubeconfig written to " << (dir / "kubeconfig").string() << "\n";
    KURATOR_TRY(wait_for(mgmt, cfg, o, "ControlPlaneInitialized", control_plane_initialized));
    std::unique_ptr<kube::Client> holder;
    auto workload = workload_client(dir, holder);
    if (!workload) return workload.error();
    if (cfg.cni == "calico") {
      auto cni = calico_objects(cfg, o);
      if (!cni) return cni.error();
      progress_of(o) << fmt::format("workload cluster: applying Calico ({} objects)\n", cni->size());
      KURATOR_TRY(capi::apply_objects(**workload, std::move(*cni), o.wait_timeout));
    }
    KURATOR_TRY(wait_available(mgmt, cfg, o));
    auto now = capi::read_cluster(mgmt, cfg.namespace_, cfg.name);
    if (!now) return now.error();
    return wait_nodes(**workload, *now, o);
  };
  KURATOR_TRY(finish_op(rec, "create", run()));
  out_of(o) << fmt::format("Cluster \"{}\" is Available ({} control plane, {} worker{}, Kubernetes {}) after {:.1f}s.\n",
                           cfg.name, cfg.control_plane_count, cfg.worker_count, cfg.worker_count == 1 ? "" : "s",
                           cfg.kubernetes_version, seconds_since(t0));
  print_next(out_of(o), cfg, dir);
  return {};
}

namespace {

// Applies the re-rendered objects of an existing cluster whose settings changed (scale, upgrade); once the
// apiserver took them, the record says so (settings, machine-template suffix), so that a later create or
// scale starts from what is on the cluster even when the wait that follows times out.
Status apply_change(const std::string& op, const AwsClusterConfig& cfg, const std::string& suffix, Record& rec,
                    const std::vector<json>& objs, const std::function<bool(const capi::ClusterObjects&)>& settled,
                    const Options& o) {
  auto rc = management_config(o, rec.state);
  if (!rc) return rc.error();
  kube::Client mgmt(*rc);
  KURATOR_TRY(check_reachable(mgmt));
  if (o.dry_run) {
    capi::print_plan(out_of(o), fmt::format("{} of cluster {}/{} on {}", op, cfg.namespace_, cfg.name, rc->server),
                  objs);
    return {};
  }
  auto cur = capi::read_cluster(mgmt, cfg.namespace_, cfg.name);
  if (!cur) return cur.error();
  if (!cur->cluster.is_object())
    return Error("Cluster " + cfg.namespace_ + "/" + cfg.name + " is not on the management cluster " + rc->server,
                 ExitCode::failure, "kurator create cluster " + cfg.name + " --provider aws makes it again");
  rec.state["lastOperation"] = op;
  rec.state["result"] = "running";
  KURATOR_TRY(rec.save());
  auto run = [&]() -> Status {
    KURATOR_TRY(capi::apply_objects(mgmt, objs, o.wait_timeout));
    KURATOR_TRY(fs::write_private_file(rec.dir / "cluster.yaml", config_yaml(cfg)));
    rec.state["templateSuffix"] = suffix;
    rec.state["kubernetesVersion"] = cfg.kubernetes_version;
    KURATOR_TRY(rec.save());
    return wait_available(mgmt, cfg, o, settled);
  };
  return finish_op(rec, op, run());
}

long replicas(const json& obj, const char* field) {
  return obj.is_object() ? obj.value("/status"_json_pointer, json::object()).value(field, -1L) : -1L;
}

}  // namespace

Status scale(const std::string& name, std::optional<int> workers, std::optional<int> control_plane,
             const Options& o) {
  if (!workers && !control_plane)
    return Error("scale cluster " + name + ": give --workers N and/or --control-plane N", ExitCode::usage);
  auto rec = load_record(o.home, name);
  if (!rec) return rec.error();
  ConfigFlags flags;
  flags.worker_count = workers;
  flags.control_plane_count = control_plane;
  auto before = load_config(name, rec->dir / "cluster.yaml", {});
  if (!before) return before.error();
  auto cfg = load_config(name, rec->dir / "cluster.yaml", flags);
  if (!cfg) return cfg.error();
  if (before->worker_count == cfg->worker_count && before->control_plane_count == cfg->control_plane_count) {
    out_of(o) << fmt::format("Cluster \"{}\" already has {} control plane and {} worker machines; nothing to do.\n",
                             name, cfg->control_plane_count, cfg->worker_count);
    return {};
  }
  auto objs = cluster_objects(*cfg, rec->state.value("templateSuffix", ""), o);
  if (!objs) return objs.error();
  // Only what scaling changes: the control plane and the MachineDeployment.
  std::vector<json> changed;
  for (auto& obj : *objs)
    if (obj.value("kind", "") == "KubeadmControlPlane" || obj.value("kind", "") == "MachineDeployment")
      changed.push_back(std::move(obj));
  const int cp = cfg->control_plane_count, wk = cfg->worker_count;
  auto settled = [cp, wk](const capi::ClusterObjects& objs) {
    long md_ready = 0;
    for (const auto& md : objs.machine_deployments) md_ready += std::max(0L, replicas(md, "readyReplicas"));
    return replicas(objs.control_plane, "readyReplicas") == cp && md_ready == wk &&
           objs.machines.size() == static_cast<size_t>(cp + wk);
  };
  const auto t0 = Clock::now();
  KURATOR_TRY(apply_change("scale", *cfg, rec->state.value("templateSuffix", ""), *rec, changed, settled, o));
  if (o.dry_run) return {};
  out_of(o) << fmt::format("Cluster \"{}\" scaled to {} control plane and {} worker machines after {:.1f}s.\n", name,
                           cp, wk, seconds_since(t0));
  return {};
}

Status upgrade(const std::string& name, const std::string& version, const Options& o) {
  auto rec = load_record(o.home, name);
  if (!rec) return rec.error();
  auto before = load_config(name, rec->dir / "cluster.yaml", {});
  if (!before) return before.error();
  ConfigFlags flags;
  flags.kubernetes_version = version;
  auto cfg = load_config(name, rec->dir / "cluster.yaml", flags);
  if (!cfg) return cfg.error();
  // One minor at a time, never down (KCP's webhook refuses the rest anyway; say so before changing anything).
  // Both parse: load_config checked them.
  const auto from = *parse_kubernetes_version(before->kubernetes_version);
  const auto to = *parse_kubernetes_version(cfg->kubernetes_version);
  // An upgrade whose control plane step was applied but whose workers were not (its wait timed out) goes on
  // with the workers when run again.
  const bool resume_workers = rec->state.value("upgradePending", "") == "workers" && from == to;
  if (from == to && !resume_workers) {
    out_of(o) << "Cluster \"" << name << "\" already runs Kubernetes " << cfg->kubernetes_version
              << "; nothing to do.\n";
    return {};
  }
  if (to < from)
    return Error(fmt::format("upgrade cluster {}: {} is older than the cluster's {}; a downgrade is not possible",
                             name, cfg->kubernetes_version, before->kubernetes_version),
                 ExitCode::usage);
  if (to[0] != from[0] || to[1] > from[1] + 1)
    return Error(fmt::format("upgrade cluster {}: {} → {} skips a minor version; upgrade one minor at a time",
                             name, before->kubernetes_version, cfg->kubernetes_version),
                 ExitCode::usage, fmt::format("first: kurator upgrade cluster {} --kubernetes-version v{}.{}.x", name,
                                              from[0], from[1] + 1));
  const std::string suffix = suffix_for(cfg->kubernetes_version);
  auto objs = cluster_objects(*cfg, suffix, o);
  if (!objs) return objs.error();
  // The control plane's step: the KCP and the machine template it references; the workers': the rest.
  std::string cp_template;
  for (const auto& obj : *objs)
    if (obj.value("kind", "") == "KubeadmControlPlane")
      cp_template = obj.value("/spec/machineTemplate/infrastructureRef/name"_json_pointer, std::string());
  std::vector<json> control_plane, workers;
  for (auto& obj : *objs) {
    const auto kind = obj.value("kind", "");
    if (kind == "KubeadmControlPlane" ||
        (kind == "AWSMachineTemplate" && obj["metadata"].value("name", "") == cp_template))
      control_plane.push_back(std::move(obj));
    else if (kind == "MachineDeployment" || kind == "AWSMachineTemplate")
      workers.push_back(std::move(obj));
  }
  const auto t0 = Clock::now();
  const std::string v = cfg->kubernetes_version;
  auto cp_done = [v](const capi::ClusterObjects& objs) {
    const auto& kcp = objs.control_plane;
    return kcp.is_object() && kcp.value("/status/version"_json_pointer, std::string()) == v &&
           replicas(kcp, "upToDateReplicas") == kcp.value("/spec/replicas"_json_pointer, -2L) &&
           replicas(kcp, "readyReplicas") == kcp.value("/spec/replicas"_json_pointer, -2L);
  };
  if (!resume_workers) {
    progress_of(o) << "upgrade " << name << ": control plane to " << v << " (new AWSMachineTemplate)\n";
    if (!o.dry_run) {
      rec->state["upgradePending"] = "workers";
      KURATOR_TRY(rec->save());
    }
    KURATOR_TRY(apply_change("upgrade", *cfg, suffix, *rec, control_plane, cp_done, o));
  }
  progress_of(o) << "upgrade " << name << ": workers to " << v << "\n";
  auto workers_done = [v, cp_done](const capi::ClusterObjects& objs) {
    if (!cp_done(objs)) return false;
    for (const auto& md : objs.machine_deployments)
      if (replicas(md, "upToDateReplicas") != md.value("/spec/replicas"_json_pointer, -2L) ||
          replicas(md, "readyReplicas") != md.value("/spec/replicas"_json_pointer, -2L))
        return false;
    for (const auto& m : objs.machines)
      if (m.value("/spec/version"_json_pointer, std::string()) != v) return false;
    return true;
  };
  KURATOR_TRY(apply_change("upgrade", *cfg, suffix, *rec, workers, workers_done, o));
  if (o.dry_run) return {};
  rec->state.erase("upgradePending");
  KURATOR_TRY(rec->save());
  out_of(o) << fmt::format("Cluster \"{}\" runs Kubernetes {} after {:.1f}s.\n", name, v, seconds_since(t0));
  return {};
}

namespace {

// A recorded cluster, its management cluster (reachable) and its objects there now.
struct Opened {
  Record rec;
  std::string ns;
  kubeconfig::RestConfig rc;
  std::unique_ptr<kube::Client> mgmt;
  capi::ClusterObjects cur;
};

Result<Opened> open_cluster(const std::string& name, const Options& o) {
  auto rec = load_record(o.home, name);
  if (!rec) return rec.error();
  Opened c{std::move(*rec)};
  c.ns = c.rec.state.value("namespace", "default");
  auto rc = management_config(o, c.rec.state);
  if (!rc) return rc.error();
  c.rc = std::move(*rc);
  c.mgmt = std::make_unique<kube::Client>(c.rc);
  KURATOR_TRY(check_reachable(*c.mgmt));
  auto cur = capi::read_cluster(*c.mgmt, c.ns, name);
  if (!cur) return cur.error();
  c.cur = std::move(*cur);
  return c;
}

}  // namespace

Status remove(const std::string& name, const Options& o) {
  auto c = open_cluster(name, o);
  if (!c) return c.error();
  Record& rec = c->rec;
  const std::string& ns = c->ns;
  kube::Client& mgmt = *c->mgmt;
  if (o.dry_run) {
    out_of(o) << "# would delete Cluster " << ns << "/" << name << " on " << c->rc.server
              << " and wait until every object of it is gone, then remove " << rec.dir.string() << "\n";
    return {};
  }
  const auto t0 = Clock::now();
  if (c->cur.cluster.is_object()) {
    progress_of(o) << "deleting Cluster " << ns << "/" << name << "\n";
    KURATOR_TRY(mgmt.remove("cluster.x-k8s.io/v1beta2", "Cluster", ns, name, "Background", true));
    capi::WatchClusterOptions wo;
    wo.timeout = o.wait_timeout;
    wo.tty = o.tty;
    wo.progress = &progress_of(o);
    wo.what = "gone";
    auto st = capi::watch_cluster(
        mgmt, ns, name,
        [](const capi::ClusterObjects& objs) {
          return !objs.cluster.is_object() && !objs.control_plane.is_object() && !objs.infrastructure.is_object() &&
                 objs.machines.empty() && objs.machine_deployments.empty() && objs.infra_machines.empty();
        },
        wo);
    if (!st) {
      // Name what remains and which finalizers hold it.
      auto left = capi::read_cluster(mgmt, ns, name);
      std::vector<std::string> parts;
      if (left) {
        auto add = [&](const json& obj) {
          if (!obj.is_object()) return;
          parts.push_back(fmt::format("{}/{} (finalizers: {})", obj.value("kind", ""),
                                      obj["metadata"].value("name", ""),
                                      obj["metadata"].value("finalizers", json::array()).dump()));
        };
        add(left->cluster);
        add(left->control_plane);
        add(left->infrastructure);
        for (const auto& m : left->machine_deployments) add(m);
        for (const auto& m : left->machines) add(m);
        for (const auto& m : left->infra_machines) add(m);
      }
      auto e = st.error();
      if (!parts.empty()) e.message = fmt::format("delete cluster {}: still there after {}s: {}", name,
                                                  std::chrono::duration_cast<std::chrono::seconds>(o.wait_timeout).count(),
                                                  fmt::join(parts, ", "));
      rec.state["lastOperation"] = "delete";
      rec.state["result"] = "failed";
      rec.state["message"] = e.message;
      (void)rec.save();
      return e;
    }
  } else {
    progress_of(o) << "Cluster " << ns << "/" << name << " is not on " << c->rc.server << "; forgetting it\n";
  }
  std::error_code ec;
  stdfs::remove_all(rec.dir, ec);
  if (ec) return Error("removing " + rec.dir.string() + ": " + ec.message());
  out_of(o) << fmt::format("Cluster \"{}\" deleted after {:.1f}s.\n", name, seconds_since(t0));
  return {};
}

Status describe(const std::string& name, const Options& o) {
  auto c = open_cluster(name, o);
  if (!c) return c.error();
  if (!c->cur.cluster.is_object())
    return Error("Cluster " + c->ns + "/" + name + " is not on the management cluster " + c->rc.server);
  out_of(o) << capi::render_tree(capi::tree(c->cur));
  return {};
}

Result<std::string> kubeconfig(const stdfs::path& home, const std::string& name) {
  auto p = cluster_dir(home, name) / "kubeconfig";
  auto text = fs::read_file(p);
  if (!text)
    return Error("cluster \"" + name + "\" has no kubeconfig yet (" + p.string() + ")", ExitCode::failure,
                 "it is written once the Cluster is Available; kurator describe cluster " + name);
  return text;
}

std::vector<ClusterInfo> list_clusters(const Options& o) {
  std::vector<ClusterInfo> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(o.home / "clusters", ec)) {
    const auto name = e.path().filename().string();
    if (!is_aws_cluster(o.home, name)) continue;
    auto rec = load_record(o.home, name);
    if (!rec) continue;
    ClusterInfo info;
    info.name = name;
    info.namespace_ = rec->state.value("namespace", "default");
    info.version = rec->state.value("kubernetesVersion", "");
    info.management = rec->state.value("/management/server"_json_pointer, std::string());
    info.kubeconfig = rec->dir / "kubeconfig";
    Options lo = o;
    lo.management = {};
    auto rc = management_config(lo, rec->state);
    if (!rc) {
      info.problem = rc.error().message;
    } else {
      kube::Client mgmt(*rc);
      auto cur = capi::read_cluster(mgmt, info.namespace_, name);
      if (!cur) {
        info.problem = "management cluster: " + cur.error().message;
      } else if (!cur->cluster.is_object()) {
        info.phase = "NotFound";
      } else {
        info.phase = cur->cluster.value("/status/phase"_json_pointer, std::string("Pending"));
        auto rr = [](const json& obj, const char* a, const char* b) {
          return fmt::format("{}/{}", obj.value(a, 0L), obj.value(b, 0L));
        };
        auto cp = cur->cluster.value("/status/controlPlane"_json_pointer, json::object());
        auto wk = cur->cluster.value("/status/workers"_json_pointer, json::object());
        info.control_plane = rr(cp, "readyReplicas", "desiredReplicas");
        info.workers = rr(wk, "readyReplicas", "desiredReplicas");
        if (capi::cluster_available(cur->cluster)) info.phase += " (Available)";
      }
    }
    if (rec->state.value("result", "") == "failed")
      info.phase += (info.phase.empty() ? "" : ", ") + rec->state.value("lastOperation", "") + " failed";
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace kurator::providers::aws
