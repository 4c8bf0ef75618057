// install/uninstall volcano: the pinned release through the artifact layer, through the fleet layer.
#include <kurator/cli/app.hpp>
#include <kurator/cli/artifact_flags.hpp>
#include <kurator/cli/fleet_flags.hpp>
#include <kurator/components/volcano.hpp>
#include <kurator/util/log.hpp>
#include <kurator/util/yaml.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

namespace kurator::cli {
namespace volcano = components::volcano;
namespace {

struct VolcanoFlags {
  FleetFlags fleet;
  artifacts::StoreFlags store;
  std::string version;
};

Result<fleet::Workload> prepare(const Context& ctx, const VolcanoFlags& f) {
  auto store = artifacts::open_store(ctx.home(), f.store);
  if (!store) return store.error();
  auto objs = volcano::load(*store, f.version);
  if (!objs) return objs.error();
  return volcano::workload(std::move(*objs));
}

Status run_install(Context& ctx, const VolcanoFlags& f) {
  auto fl = open_fleet(ctx, f.fleet);
  if (!fl) return fl.error();
  auto w = prepare(ctx, f);
  if (!w) return w.error();
  std::string version = volcano::version_of(w->objects);
  if (ctx.g.dry_run) {
    auto plan = (*fl)->plan(*w);
    if (!plan) return plan.error();
    std::cout << fleet::render_plan(*plan) << std::flush;
    return {};
  }
  spdlog::info("installing volcano {} ({} objects) into {} ({} mode)", version, w->objects.size(),
               members_of(**fl), fleet::to_string((*fl)->mode()));
  kube::WaitOptions wo;
  wo.timeout = ctx.wait_timeout();
  wo.tty = ::isatty(STDERR_FILENO) == 1;
  auto report = volcano::install(**fl, *w, wo);
  if (!report) return report.error();
  if (report->unchanged())
    spdlog::info("volcano {} is already installed in {}: nothing changed", version, members_of(**fl));
  else
    spdlog::info("volcano {} installed and ready in {}", version, members_of(**fl));
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  add_apply_rows(*report, items, rows, {{"component", "volcano"}, {"version", version}});
  ctx.print({{"component", "volcano"},
             {"version", version},
             {"mode", fleet::to_string((*fl)->mode())},
             {"unchanged", report->unchanged()},
             {"steps", items}},
            {"TARGET", "SERVER", "OBJECTS", "RESULT"}, rows);
  return {};
}

Status run_uninstall(Context& ctx, const VolcanoFlags& f) {
  auto fl = open_fleet(ctx, f.fleet);
  if (!fl) return fl.error();
  auto w = prepare(ctx, f);
  if (!w) return w.error();
  if (ctx.g.dry_run) {
    auto plan = (*fl)->plan(*w);
    if (!plan) return plan.error();
    print_delete_plan(*plan);
    return {};
  }
  spdlog::info("removing volcano from {} ({} mode)", members_of(**fl), fleet::to_string((*fl)->mode()));
  auto report = volcano::uninstall(**fl, *w, ctx.wait_timeout());
  if (!report) return report.error();
  if (report->nothing_found())
    spdlog::info("volcano is not installed in {}: nothing to remove", members_of(**fl));
  else
    spdlog::info("volcano removed from {}", members_of(**fl));
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  add_remove_rows(*report, items, rows);
  ctx.print({{"component", "volcano"}, {"mode", fleet::to_string((*fl)->mode())}, {"steps", items}},
            {"TARGET", "DELETED", "NOT-THERE"}, rows);
  return {};
}

void add_flags(CLI::App* cmd, VolcanoFlags& f) {
  add_fleet_flags(cmd, f.fleet);
  add_artifact_flags(cmd, f.store, false);
  cmd->add_option("--version", f.version,
                  "Volcano version (default: the catalog's, see `kurator tool list`)");
}

}  // namespace

void add_volcano_commands(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<VolcanoFlags>();
  auto* install =
      verb(app, "install", "Install a component into the fleet")
          ->add_subcommand("volcano", "Install Volcano (batch scheduling) into the member clusters");
  add_flags(install, *flags);
  install->callback([&ctx, flags] { ctx.outcome = run_install(ctx, *flags); });

  auto* uninstall =
      verb(app, "uninstall", "Remove a component from the fleet")
          ->add_subcommand("volcano", "Remove Volcano from the member clusters (webhooks first)");
  add_flags(uninstall, *flags);
  uninstall->callback([&ctx, flags] { ctx.outcome = run_uninstall(ctx, *flags); });
}

}  // namespace kurator::cli
