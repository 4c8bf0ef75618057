// --provider vms on create/delete cluster, and scale/upgrade cluster: flags only; the work is in
// providers/vms_cluster.
#include <kurator/cli/artifact_flags.hpp>
#include <kurator/cli/cluster_aws.hpp>
#include <kurator/cli/cluster_vms.hpp>
#include <kurator/providers/aws_cluster.hpp>
#include <kurator/providers/vms_cluster.hpp>

#include <unistd.h>

#include <iostream>

namespace kurator::cli {
namespace vms = providers::vms;
namespace {

struct LifecycleFlags {
  std::string name;
  VmsFlags vms;
  std::vector<std::string> remove_hosts;
  std::string kubernetes_version;
  std::string provider;  // empty: what made the cluster
  int workers = 0, control_plane = 0;
  CLI::Option* workers_opt = nullptr;
  CLI::Option* control_plane_opt = nullptr;
};

bool is_aws(Context& ctx, const LifecycleFlags& f) {
  return f.provider == "aws" ||
         (f.provider.empty() && providers::aws::is_aws_cluster(std::filesystem::absolute(ctx.home()), f.name));
}

// The provider's options from the globals; the store is opened unless this is a dry run (which only
// reads the cache to show where the tree is).
struct Session {
  std::optional<artifacts::Store> store;
  vms::Options opts;
};

Result<Session> open_session(Context& ctx, const VmsFlags& f) {
  Session s;
  s.opts.home = std::filesystem::absolute(ctx.home());
  auto store = artifacts::open_store(s.opts.home, f.store);
  if (!store && !ctx.g.dry_run) return store.error();
  if (store) s.store.emplace(std::move(*store));
  s.opts.runner = &process::default_runner();
  s.opts.dry_run = ctx.g.dry_run;
  s.opts.check = f.check;
  s.opts.yes = f.yes;
  s.opts.verbosity = ctx.g.verbosity;
  s.opts.wait_timeout = ctx.wait_timeout();
  s.opts.api_endpoint = f.api_endpoint;
  s.opts.tty = ::isatty(STDERR_FILENO) == 1;
  return s;
}

Status run_scale(Context& ctx, const LifecycleFlags& f) {
  const bool counts = f.workers_opt->count() > 0 || f.control_plane_opt->count() > 0;
  if (is_aws(ctx, f)) {
    if (!f.vms.file.empty() || !f.remove_hosts.empty())
      return Error("scale cluster " + f.name + ": -f and --remove-host are for vms clusters", ExitCode::usage,
                   "kurator scale cluster " + f.name + " --workers N [--control-plane N]");
    std::optional<int> w, cp;
    if (f.workers_opt->count() > 0) w = f.workers;
    if (f.control_plane_opt->count() > 0) cp = f.control_plane;
    return run_aws_scale(ctx, f.name, w, cp, f.vms.store);
  }
  if (counts)
    return Error("scale cluster " + f.name + ": --workers and --control-plane are for aws clusters", ExitCode::usage,
                 "vms: kurator scale cluster " + f.name + " -f hosts.yaml | --remove-host H");
  if (f.vms.file.empty() == f.remove_hosts.empty())
    return Error("scale cluster " + f.name + ": give either -f hosts.yaml (hosts to add) or --remove-host H",
                 ExitCode::usage, "kurator scale cluster " + f.name + " -f hosts.yaml");
  auto s = open_session(ctx, f.vms);
  if (!s) return s.error();
  s->opts.store = s->store ? &*s->store : nullptr;
  if (!f.remove_hosts.empty()) return vms::remove_hosts(f.name, f.remove_hosts, s->opts);
  return vms::scale_up(f.name, f.vms.file, s->opts);
}

Status run_upgrade(Context& ctx, const LifecycleFlags& f) {
  if (is_aws(ctx, f)) return run_aws_upgrade(ctx, f.name, f.kubernetes_version, f.vms.store);
  auto s = open_session(ctx, f.vms);
  if (!s) return s.error();
  s->opts.store = s->store ? &*s->store : nullptr;
  return vms::upgrade(f.name, f.kubernetes_version, s->opts);
}

}  // namespace

void add_vms_create_flags(CLI::App* cc, VmsFlags& f) {
  cc->add_option("-f,--file", f.file,
                 "vms: the cluster's hosts and settings (kind VmsCluster); aws: the cluster's settings (kind "
                 "AwsCluster; flags override it); see --print-config");
  cc->add_flag("--print-config", f.print_config, "vms|aws: print a commented sample config for -f and exit");
  cc->add_flag("--check", f.check,
               "vms: KubeSpray's check mode, a preview that changes nothing on the hosts");
  cc->add_option(
      "--api-endpoint", f.api_endpoint,
      "vms: the API server address written into the kubeconfig (default: the config's apiEndpoint, "
      "else the first control-plane host:6443)");
  add_artifact_flags(cc, f.store, true);
}

void add_vms_delete_flags(CLI::App* dc, VmsFlags& f) {
  dc->add_flag("-y,--yes", f.yes, "vms: reset the hosts without asking");
  dc->add_flag("--check", f.check, "vms: KubeSpray's check mode of reset.yml (changes nothing)");
}

Status run_vms_create(Context& ctx, const std::string& name, const VmsFlags& f) {
  if (f.print_config) {
    std::cout << vms::sample_config() << std::flush;
    return {};
  }
  if (f.file.empty())
    return Error("create cluster --provider vms needs -f hosts.yaml", ExitCode::usage,
                 "write a sample with: kurator create cluster " + name +
                     " --provider vms --print-config > hosts.yaml");
  auto s = open_session(ctx, f);
  if (!s) return s.error();
  s->opts.store = s->store ? &*s->store : nullptr;
  return vms::create(name, f.file, s->opts);
}

Status run_vms_delete(Context& ctx, const std::string& name, const VmsFlags& f) {
  auto s = open_session(ctx, f);
  if (!s) return s.error();
  s->opts.store = s->store ? &*s->store : nullptr;
  return vms::remove(name, s->opts);
}

void add_vms_rows(Context& ctx, nlohmann::json& items, std::vector<std::vector<std::string>>& rows) {
  for (const auto& c : vms::list_clusters(std::filesystem::absolute(ctx.home()))) {
    std::string status = c.last_operation.empty() ? "-" : c.last_operation + " " + c.result;
    if (c.result == "failed" && !c.message.empty()) status += ": " + c.message;
    items.push_back({{"name", c.name},
                     {"provider", "vms"},
                     {"status", status},
                     {"lastOperation", c.last_operation},
                     {"result", c.result},
                     {"message", c.message},
                     {"endpoint", c.api_server},
                     {"nodes", c.hosts},
                     {"kubernetesVersion", c.kubernetes_version},
                     {"kubeconfig", c.kubeconfig.string()}});
    rows.push_back({c.name, "vms", status, c.api_server.empty() ? "-" : c.api_server, std::to_string(c.hosts),
                    c.kubernetes_version.empty() ? "-" : c.kubernetes_version});
  }
}

void add_vms_lifecycle_commands(CLI::App& app, Context& ctx) {
  auto* scale = verb(app, "scale", "Change the size of clusters");
  auto sf = std::make_shared<LifecycleFlags>();
  auto* sc = scale->add_subcommand(
      "cluster",
      "vms: add hosts (-f with the new hosts; KubeSpray's scale.yml limited to them) or remove one "
      "(--remove-host; remove-node.yml); aws: set the number of workers and/or control plane machines");
  sc->add_option("name", sf->name, "Cluster name")->required();
  sc->add_option("--provider", sf->provider, "Where the cluster runs (default: what made it)")
      ->check(CLI::IsMember({"vms", "aws"}));
  sf->workers_opt = sc->add_option("--workers", sf->workers, "aws: the number of worker machines")
                        ->check(CLI::Range(0, 1000));
  sf->control_plane_opt =
      sc->add_option("--control-plane", sf->control_plane, "aws: the number of control plane machines (odd)")
          ->check(CLI::Range(1, 99));
  sc->add_option("-f,--file", sf->vms.file, "The cluster's config with the hosts to add");
  sc->add_option("--remove-host", sf->remove_hosts, "A host to drain, reset and remove (repeatable)");
  sc->add_option("--api-endpoint", sf->vms.api_endpoint,
                 "The API server address for the kubeconfig (default: the one the create used)");
  sc->add_flag("--check", sf->vms.check, "KubeSpray's check mode (changes nothing)");
  add_artifact_flags(sc, sf->vms.store, true);
  sc->callback([&ctx, sf] { ctx.outcome = run_scale(ctx, *sf); });

  auto* upgrade = verb(app, "upgrade", "Upgrade clusters");
  auto uf = std::make_shared<LifecycleFlags>();
  auto* uc = upgrade->add_subcommand(
      "cluster",
      "Upgrade a cluster's Kubernetes one minor version at a time (vms: KubeSpray's upgrade-cluster.yml; aws: "
      "new machine templates and the control plane's version, then the workers')");
  uc->add_option("name", uf->name, "Cluster name")->required();
  uc->add_option("--provider", uf->provider, "Where the cluster runs (default: what made it)")
      ->check(CLI::IsMember({"vms", "aws"}));
  uc->add_option("--kubernetes-version", uf->kubernetes_version, "The version to upgrade to (vX.Y.Z)")
      ->required();
  uc->add_flag("--check", uf->vms.check, "KubeSpray's check mode (changes nothing)");
  add_artifact_flags(uc, uf->vms.store, true);
  uc->callback([&ctx, uf] { ctx.outcome = run_upgrade(ctx, *uf); });
}

}  // namespace kurator::cli
