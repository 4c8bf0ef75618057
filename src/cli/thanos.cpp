// install/uninstall thanos: sidecars in the members (through the fleet), Query/Store/Compactor/Receive/
// Query Frontend on the host.
#include <kurator/cli/app.hpp>
#include <kurator/cli/artifact_flags.hpp>
#include <kurator/cli/fleet_flags.hpp>
#include <kurator/components/prometheus.hpp>
#include <kurator/components/thanos_install.hpp>
#include <kurator/util/fs.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

namespace kurator::cli {
namespace thanos = components::thanos;
namespace prometheus = components::prometheus;
namespace {

struct ThanosFlags {
  FleetFlags fleet;
  artifacts::StoreFlags store;
  std::string objstore_file;
  std::string host_kubeconfig, host_context;
  std::string sidecar_service_type = "LoadBalancer";
  std::vector<std::string> sidecar_endpoints;
  thanos::CompactorOptions compactor;
  bool no_downsampling = false;
  int receive_replicas = 1;
};

struct Prepared {
  std::unique_ptr<fleet::Fleet> members, host;
  fleet::Workload op;
  thanos::InstallOptions options;
};

// The object-store file: read and checked as Thanos checks it (its contents never reach a message).
Status read_objstore(const ThanosFlags& f, thanos::InstallOptions& o, bool required) {
  if (f.objstore_file.empty()) {
    if (!required) {
      o.objstore_text = "type: FILESYSTEM\nconfig:\n  directory: /unused\n";  // uninstall needs no bucket
      o.objstore_source = "(none)";
      return {};
    }
    return Error("--object-store-config FILE is required", ExitCode::usage,
                 "a Thanos object-store file, e.g. type: S3 with config.bucket and config.endpoint");
  }
  auto text = fs::read_file(f.objstore_file);
  if (!text)
    return Error("--object-store-config " + f.objstore_file + ": cannot read it", ExitCode::usage,
                 "check the path and its permissions");
  auto checked = thanos::check_objstore(*text, f.objstore_file);
  if (!checked) return checked.error();
  o.objstore_text = *text;
  o.objstore_source = f.objstore_file;
  o.objstore_type = checked->type;
  return {};
}

Result<Prepared> prepare(const Context& ctx, const ThanosFlags& f, bool install) {
  Prepared p;
  auto& o = p.options;
  KURATOR_TRY(read_objstore(f, o, install));
  o.sidecar_service_type = f.sidecar_service_type;
  auto eps = thanos::parse_sidecar_endpoints(f.sidecar_endpoints);
  if (!eps) return eps.error();
  o.sidecar_endpoints = std::move(*eps);
  o.host.compactor = f.compactor;
  o.host.compactor.downsampling = !f.no_downsampling;
  o.host.receive_replicas = f.receive_replicas;
  KURATOR_TRY(thanos::check_compactor(o.host.compactor));  // before any cluster is contacted

  auto members = open_fleet(ctx, f.fleet);
  if (!members) return members.error();
  p.members = std::move(*members);
  // The host: a fleet of one cluster (--host-kubeconfig/--host-context, else the global kubeconfig's).
  fleet::Selection hs;
  hs.mode = fleet::Mode::direct;
  hs.kubeconfig = ctx.kubeconfig_options();
  if (!f.host_kubeconfig.empty()) hs.kubeconfig.explicit_path = f.host_kubeconfig;
  hs.kubeconfig.context = f.host_context;
  if (!f.host_context.empty()) hs.clusters = {f.host_context};
  auto host = fleet::open(hs);
  if (!host) return host.error().context("the Thanos host cluster");
  p.host = std::move(*host);
  spdlog::info("thanos host: {} ({})", p.host->members().front().name, p.host->members().front().config.server);

  auto store = artifacts::open_store(ctx.home(), f.store);
  if (!store) return store.error();
  auto op = prometheus::load_operator(*store);
  if (!op) return op.error();
  p.op = prometheus::operator_workload(std::move(*op));
  auto dir = thanos::artifact_dir(*store);
  if (!dir) return dir.error();
  o.host.kube_thanos_dir = *dir;
  std::vector<std::string> names;
  for (const auto& m : p.members->members()) names.push_back(m.name);
  if (install) KURATOR_TRY(thanos::check(o, names));
  return p;
}

Status run_install(Context& ctx, const ThanosFlags& f) {
  auto p = prepare(ctx, f, true);
  if (!p) return p.error();
  if (ctx.g.dry_run) {
    auto plan = thanos::plan(*p->members, *p->host, p->op, p->options);
    if (!plan) return plan.error();
    std::cout << fleet::render_plan(*plan) << std::flush;
    return {};
  }
  spdlog::info("installing thanos {} (sidecars in {}, {} mode; Query, Store, Compactor, Receive on {}; bucket "
               "type {})",
               thanos::kVersion, members_of(*p->members), fleet::to_string(p->members->mode()),
               p->host->members().front().name, p->options.objstore_type);
  kube::WaitOptions wo;
  wo.timeout = ctx.wait_timeout();
  wo.tty = ::isatty(STDERR_FILENO) == 1;
  auto report = thanos::install(*p->members, *p->host, p->op, p->options, wo);
  if (!report) return report.error();
  for (const auto& s : report->sidecars) spdlog::info("Query reads {}'s sidecar at {}", s.cluster, s.address);
  if (report->unchanged())
    spdlog::info("thanos {} is already installed in {} and {}: nothing changed", thanos::kVersion,
                 members_of(*p->members), p->host->members().front().name);
  else
    spdlog::info("thanos {} installed and ready: sidecars in {}, Query on {}", thanos::kVersion,
                 members_of(*p->members), p->host->members().front().name);
  nlohmann::json items = nlohmann::json::array(), sidecars = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, r] : report->applied) add_apply_rows(r, items, rows, {{"workload", name}});
  for (const auto& s : report->sidecars) sidecars.push_back({{"member", s.cluster}, {"address", s.address}});
  ctx.print({{"component", "thanos"},
             {"version", thanos::kVersion},
             {"mode", fleet::to_string(p->members->mode())},
             {"host", p->host->members().front().name},
             {"unchanged", report->unchanged()},
             {"sidecars", sidecars},
             {"steps", items}},
            {"TARGET", "SERVER", "OBJECTS", "RESULT"}, rows);
  return {};
}

Status run_uninstall(Context& ctx, const ThanosFlags& f) {
  auto p = prepare(ctx, f, false);
  if (!p) return p.error();
  if (ctx.g.dry_run) {
    auto hw = thanos::host_workload(p->options, {});
    if (!hw) return hw.error();
    auto hplan = p->host->plan(*hw);
    if (!hplan) return hplan.error();
    print_delete_plan(*hplan);
    std::vector<std::string> names;
    for (const auto& m : p->members->members()) names.push_back(m.name);
    for (const auto& w : {thanos::members_workload(p->options, names), thanos::sidecar_workload(p->options), p->op}) {
      auto plan = p->members->plan(w);
      if (!plan) return plan.error();
      print_delete_plan(*plan);
    }
    return {};
  }
  spdlog::info("removing thanos from {} and {}", members_of(*p->members), p->host->members().front().name);
  auto report = thanos::uninstall(*p->members, *p->host, p->op, p->options, ctx.wait_timeout());
  if (!report) return report.error();
  for (const auto& [member, user] : report->operator_kept)
    spdlog::info("{}: the Prometheus Operator stays: `install {}` still uses it", member, user);
  if (report->nothing_found())
    spdlog::info("thanos is not installed in {} nor {}: nothing to remove", members_of(*p->members),
                 p->host->members().front().name);
  else
    spdlog::info("thanos removed from {} and {}", members_of(*p->members), p->host->members().front().name);
  spdlog::info("the bucket was left alone: its blocks are still there (delete them with your object store's "
               "tools if you no longer need them)");
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, r] : report->removed) add_remove_rows(r, items, rows);
  ctx.print({{"component", "thanos"}, {"mode", fleet::to_string(p->members->mode())}, {"steps", items}},
            {"TARGET", "DELETED", "NOT-THERE"}, rows);
  return {};
}

void add_flags(CLI::App* cmd, ThanosFlags& f, bool install) {
  add_fleet_flags(cmd, f.fleet);
  add_artifact_flags(cmd, f.store, false);
  cmd->add_option("--host-kubeconfig", f.host_kubeconfig,
                  "Kubeconfig of the cluster that runs Query, Store, Compactor, Receive (default: --kubeconfig)");
  cmd->add_option("--host-context", f.host_context, "Context of the host cluster (default: the current context)");
  if (!install) return;
  cmd->add_option("--object-store-config", f.objstore_file,
                  "Thanos object-store file (type: S3|GCS|AZURE|FILESYSTEM|…, config: …); checked before anything "
                  "is applied, never logged")
      ->required();
  cmd->add_option("--sidecar-service-type", f.sidecar_service_type,
                  "How members expose their sidecar's gRPC: LoadBalancer (its address is waited for) or NodePort")
      ->check(CLI::IsMember({"LoadBalancer", "NodePort"}))
      ->default_str("LoadBalancer");
  cmd->add_option("--sidecar-endpoints", f.sidecar_endpoints,
                  "MEMBER=HOST:PORT for every member: sidecar addresses you expose yourself (no Service made)")
      ->delimiter(',');
  cmd->add_option("--retention-raw", f.compactor.retention_raw, "Compactor: keep raw samples (0d: forever)")
      ->default_str("0d");
  cmd->add_option("--retention-5m", f.compactor.retention_5m, "Compactor: keep 5m downsampled data (0d: forever)")
      ->default_str("0d");
  cmd->add_option("--retention-1h", f.compactor.retention_1h, "Compactor: keep 1h downsampled data (0d: forever)")
      ->default_str("0d");
  cmd->add_flag("--no-downsampling", f.no_downsampling, "Compactor: do not downsample");
  cmd->add_option("--receive-replicas", f.receive_replicas, "Receive ingestor replicas (hashring members)")
      ->default_str("1");
}

}  // namespace

void add_thanos_commands(CLI::App& app, Context& ctx) {
  auto iflags = std::make_shared<ThanosFlags>();
  auto* install = verb(app, "install", "Install a component into the fleet")
                      ->add_subcommand("thanos",
                                       "Install Thanos: a Prometheus with a Thanos sidecar in every member, Query, "
                                       "Store Gateway, Compactor, Receive and Query Frontend on the host");
  add_flags(install, *iflags, true);
  install->callback([&ctx, iflags] { ctx.outcome = run_install(ctx, *iflags); });
  auto uflags = std::make_shared<ThanosFlags>();
  auto* uninstall = verb(app, "uninstall", "Remove a component from the fleet")
                        ->add_subcommand("thanos",
                                         "Remove Thanos from the host and the members (the bucket is left alone; the "
                                         "Prometheus Operator stays while `install prometheus` uses it)");
  add_flags(uninstall, *uflags, false);
  uninstall->callback([&ctx, uflags] { ctx.outcome = run_uninstall(ctx, *uflags); });
}

}  // namespace kurator::cli
