// install/uninstall prometheus: the Prometheus Operator and a Prometheus in every member, through the fleet.
#include <kurator/cli/app.hpp>
#include <kurator/cli/artifact_flags.hpp>
#include <kurator/cli/fleet_flags.hpp>
#include <kurator/components/prometheus.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

namespace kurator::cli {
namespace prometheus = components::prometheus;
namespace {

struct PrometheusFlags {
  FleetFlags fleet;
  artifacts::StoreFlags store;
  std::string version;
  prometheus::Options options;
};

Result<fleet::Workload> prepare(const Context& ctx, PrometheusFlags& f) {
  auto store = artifacts::open_store(ctx.home(), f.store);
  if (!store) return store.error();
  auto objs = prometheus::load_operator(*store, f.version);
  if (!objs) return objs.error();
  auto w = prometheus::operator_workload(std::move(*objs));
  f.options.version = components::version_of(w.objects);
  return w;
}

Status run_install(Context& ctx, PrometheusFlags& f) {
  auto fl = open_fleet(ctx, f.fleet);
  if (!fl) return fl.error();
  std::vector<std::string> names;
  for (const auto& m : (*fl)->members()) names.push_back(m.name);
  KURATOR_TRY(prometheus::check(f.options, names));
  auto op = prepare(ctx, f);
  if (!op) return op.error();
  const std::string& version = f.options.version;
  if (ctx.g.dry_run) {
    auto plan = prometheus::plan(**fl, *op, f.options);
    if (!plan) return plan.error();
    std::cout << fleet::render_plan(*plan) << std::flush;
    return {};
  }
  spdlog::info("installing the Prometheus Operator {} and a Prometheus into {} ({} mode){}", version,
               members_of(**fl), fleet::to_string((*fl)->mode()),
               f.options.federate_to.empty() ? "" : "; " + f.options.federate_to + " federates the others");
  kube::WaitOptions wo;
  wo.timeout = ctx.wait_timeout();
  wo.tty = ::isatty(STDERR_FILENO) == 1;
  auto report = prometheus::install(**fl, *op, f.options, wo);
  if (!report) return report.error();
  if (report->unchanged())
    spdlog::info("prometheus {} is already installed in {}: nothing changed", version, members_of(**fl));
  else
    spdlog::info("prometheus {} installed and ready in {}", version, members_of(**fl));
  for (const auto& t : report->targets)
    spdlog::info("{} scrapes {}'s /federate at {}", f.options.federate_to, t.member, t.address);
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, r] : report->applied) add_apply_rows(r, items, rows, {{"workload", name}});
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& t : report->targets) targets.push_back({{"member", t.member}, {"address", t.address}});
  ctx.print({{"component", "prometheus"},
             {"version", version},
             {"mode", fleet::to_string((*fl)->mode())},
             {"unchanged", report->unchanged()},
             {"federateTo", f.options.federate_to},
             {"federationTargets", targets},
             {"steps", items}},
            {"TARGET", "SERVER", "OBJECTS", "RESULT"}, rows);
  return {};
}

Status run_uninstall(Context& ctx, PrometheusFlags& f) {
  auto fl = open_fleet(ctx, f.fleet);
  if (!fl) return fl.error();
  auto op = prepare(ctx, f);
  if (!op) return op.error();
  if (ctx.g.dry_run) {
    std::vector<std::string> names;
    for (const auto& m : (*fl)->members()) names.push_back(m.name);
    for (const auto& w : {prometheus::prometheus_workload(f.options, names, {}), prometheus::expose_workload(f.options), *op}) {
      auto plan = (*fl)->plan(w);
      if (!plan) return plan.error();
      print_delete_plan(*plan);
    }
    return {};
  }
  spdlog::info("removing prometheus from {} ({} mode)", members_of(**fl), fleet::to_string((*fl)->mode()));
  auto report = prometheus::uninstall(**fl, *op, f.options, ctx.wait_timeout());
  if (!report) return report.error();
  for (const auto& [member, user] : report->operator_kept)
    spdlog::info("{}: the Prometheus Operator stays: `install {}` still uses it (`kurator uninstall {}` removes it)",
                 member, user, user);
  if (report->nothing_found())
    spdlog::info("prometheus is not installed in {}: nothing to remove", members_of(**fl));
  else
    spdlog::info("prometheus removed from {}", members_of(**fl));
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, r] : report->removed) add_remove_rows(r, items, rows);
  ctx.print({{"component", "prometheus"}, {"mode", fleet::to_string((*fl)->mode())}, {"steps", items}},
            {"TARGET", "DELETED", "NOT-THERE"}, rows);
  return {};
}

void add_flags(CLI::App* cmd, PrometheusFlags& f, bool install) {
  add_fleet_flags(cmd, f.fleet);
  add_artifact_flags(cmd, f.store, false);
  cmd->add_option("--version", f.version,
                  "Prometheus Operator version (default: the catalog's, see `kurator tool list`)");
  if (!install) return;
  cmd->add_option("--federate-to", f.options.federate_to,
                  "Member cluster whose Prometheus also scrapes the other members' /federate");
  cmd->add_option("--service-type", f.options.service_type,
                  "How members expose their Prometheus for federation: LoadBalancer (waits for its address) "
                  "or NodePort")
      ->check(CLI::IsMember({"LoadBalancer", "NodePort"}))
      ->default_str("LoadBalancer");
}

}  // namespace

void add_prometheus_commands(CLI::App& app, Context& ctx) {
  auto iflags = std::make_shared<PrometheusFlags>();
  auto* install = verb(app, "install", "Install a component into the fleet")
                      ->add_subcommand("prometheus",
                                       "Install the Prometheus Operator and a Prometheus (external label "
                                       "cluster=<member>) into the member clusters");
  add_flags(install, *iflags, true);
  install->callback([&ctx, iflags] { ctx.outcome = run_install(ctx, *iflags); });

  auto uflags = std::make_shared<PrometheusFlags>();
  auto* uninstall = verb(app, "uninstall", "Remove a component from the fleet")
                        ->add_subcommand("prometheus",
                                         "Remove the Prometheus and, unless `install thanos` still uses it, the "
                                         "Prometheus Operator (its CRDs, with every object of theirs) from the "
                                         "member clusters");
  add_flags(uninstall, *uflags, false);
  uninstall->callback([&ctx, uflags] { ctx.outcome = run_uninstall(ctx, *uflags); });
}

}  // namespace kurator::cli
