// install pixie vizier / uninstall pixie: flags only; the work is in components/pixie.
#include <kurator/cli/app.hpp>
#include <kurator/cli/artifact_flags.hpp>
#include <kurator/cli/fleet_flags.hpp>
#include <kurator/components/pixie.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>
#include <kurator/util/yaml.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <set>

namespace kurator::cli {
namespace pixie = components::pixie;
namespace {

struct PixieFlags {
  FleetFlags fleet;
  artifacts::StoreFlags store;
  std::string deploy_key_file;
  std::string cloud_addr = pixie::kDefaultCloudAddr;
};

Status run_install(Context& ctx, const PixieFlags& f) {
  auto key = pixie::read_deploy_key(f.deploy_key_file, fs::env("PX_DEPLOY_KEY"));
  if (!key) return key.error();
  auto fl = open_fleet(ctx, f.fleet);
  if (!fl) return fl.error();
  auto problems = pixie::preflight(**fl);
  if (!problems.empty()) {
    spdlog::error("pixie preflight (px deploy --check) failed; nothing was applied:");
    spdlog::error("{:<20} {:<20} {}", "MEMBER", "CHECK", "PROBLEM");
    for (const auto& p : problems) spdlog::error("{:<20} {:<20} {}", p.member, p.check, p.detail);
    std::set<std::string> where;
    for (const auto& p : problems) where.insert(p.member);
    return Error(fmt::format("pixie preflight failed: {} problem{} in {}", problems.size(),
                             problems.size() == 1 ? "" : "s", fmt::join(where, ", ")),
                 ExitCode::failure,
                 "see the table above (kernel >= 4.14, Kubernetes >= 1.16, may create namespaces)");
  }
  auto store = artifacts::open_store(ctx.home(), f.store);
  if (!store) return store.error();
  auto prep = pixie::prepare(*store, process::default_runner(), **fl, *key, f.cloud_addr);
  if (!prep) return prep.error();
  if (ctx.g.dry_run) {
    auto plan = (*fl)->plan(prep->workload);
    if (!plan) return plan.error();
    // render_plan prints Secret values as <redacted>.
    std::cout << fleet::render_plan(*plan) << std::flush;
    return {};
  }
  spdlog::info("installing pixie operator {} ({} objects, deployOLM={}) into {} ({} mode)", prep->version,
               prep->workload.objects.size(), prep->olm.present ? "false" : "true", members_of(**fl),
               fleet::to_string((*fl)->mode()));
  kube::WaitOptions wo;
  wo.timeout = ctx.wait_timeout();
  wo.tty = ::isatty(STDERR_FILENO) == 1;
  auto report = pixie::install(**fl, prep->workload, wo);
  if (!report) return report.error();
  if (report->unchanged())
    spdlog::info("pixie {} is already installed in {}: nothing changed", prep->version, members_of(**fl));
  else
    spdlog::info("pixie {} installed, Vizier Healthy in {}", prep->version, members_of(**fl));
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : report->steps) {
    items.push_back(
        {{"target", s.target}, {"server", s.server}, {"objects", s.objects}, {"changed", s.changed}});
    rows.push_back({s.target, s.server, std::to_string(s.objects),
                    s.changed.empty() ? "unchanged" : std::to_string(s.changed.size()) + " changed"});
  }
  ctx.print({{"component", "pixie"},
             {"version", prep->version},
             {"mode", fleet::to_string((*fl)->mode())},
             {"deployOLM", !prep->olm.present},
             {"unchanged", report->unchanged()},
             {"steps", items}},
            {"TARGET", "SERVER", "OBJECTS", "RESULT"}, rows);
  return {};
}

Status run_uninstall(Context& ctx, const PixieFlags& f) {
  auto fl = open_fleet(ctx, f.fleet);
  if (!fl) return fl.error();
  auto store = artifacts::open_store(ctx.home(), f.store);
  if (!store) return store.error();
  auto prep = pixie::prepare(*store, process::default_runner(), **fl, {}, f.cloud_addr);
  if (!prep) return prep.error();
  if (ctx.g.dry_run) {
    auto plan = (*fl)->plan(prep->workload);
    if (!plan) return plan.error();
    for (auto& step : *plan) {
      std::cout << fmt::format("# {} ({}): would delete {} objects\n", step.target, step.server,
                               step.objects.size());
      for (auto it = step.objects.rbegin(); it != step.objects.rend(); ++it) {
        nlohmann::json id = {{"apiVersion", (*it)["apiVersion"]},
                             {"kind", (*it)["kind"]},
                             {"metadata", {{"name", (*it)["metadata"]["name"]}}}};
        if ((*it)["metadata"].contains("namespace"))
          id["metadata"]["namespace"] = (*it)["metadata"]["namespace"];
        std::cout << "---\n" << yaml::dump(id);
      }
    }
    std::cout << std::flush;
    return {};
  }
  spdlog::info("removing pixie from {} ({} mode)", members_of(**fl), fleet::to_string((*fl)->mode()));
  auto report = pixie::uninstall(**fl, prep->workload, prep->olm, ctx.wait_timeout());
  if (!report) return report.error();
  for (const auto& t : report->terminating) spdlog::warn("{} (left to its finalizers)", t);
  if (report->removed.nothing_found() && report->terminating.empty())
    spdlog::info("pixie is not installed in {}: nothing to remove", members_of(**fl));
  else
    spdlog::info("pixie removed from {}", members_of(**fl));
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : report->removed.steps) {
    items.push_back({{"target", s.target}, {"deleted", s.deleted}, {"absent", s.absent}});
    rows.push_back({s.target, std::to_string(s.deleted), std::to_string(s.absent)});
  }
  ctx.print({{"component", "pixie"},
             {"mode", fleet::to_string((*fl)->mode())},
             {"steps", items},
             {"terminating", report->terminating}},
            {"TARGET", "DELETED", "NOT-THERE"}, rows);
  return {};
}

}  // namespace

void add_pixie_commands(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<PixieFlags>();
  auto* group = verb(app, "install", "Install a component into the fleet")
                    ->add_subcommand("pixie", "Install Pixie (eBPF observability) into the member clusters");
  group->require_subcommand(1);
  auto* install = group->add_subcommand(
      "vizier",
      "Install the Pixie operator (pinned chart v0.1.7, rendered by helm) and a Vizier into every member.\n"
      "The deploy key comes from --deploy-key-file or PX_DEPLOY_KEY and is stored only in the Secret\n"
      "pl/pixie-deploy-key. A preflight like `px deploy --check` runs first (kernel >= 4.14.0 on every "
      "node,\n"
      "Kubernetes >= 1.16, not kind/docker-desktop, may create namespaces); any failure: nothing is "
      "applied.\n"
      "deployOLM is decided per member: an OLM already there (OperatorGroups not kurator's) is used as it "
      "is.\n"
      "Waits until the Vizier's status.vizierPhase is Healthy in every member (--wait-timeout).");
  add_fleet_flags(install, flags->fleet);
  add_artifact_flags(install, flags->store, false);
  install->add_option("--deploy-key-file", flags->deploy_key_file,
                      "File holding the Pixie deploy key (px-dep-<uuid>); else PX_DEPLOY_KEY");
  install->add_option("--cloud-addr", flags->cloud_addr, "Pixie cloud address")->capture_default_str();
  install->callback([&ctx, flags] { ctx.outcome = run_install(ctx, *flags); });

  auto* uninstall =
      verb(app, "uninstall", "Remove a component from the fleet")
          ->add_subcommand("pixie",
                           "Remove Pixie from the member clusters: the Vizier first, then the operator's\n"
                           "ClusterServiceVersions, then every object kurator installed. A namespace left\n"
                           "Terminating by its finalizers (OLM's px-operator, pixie#1917) is named with its\n"
                           "finalizers and tolerated (exit 0); anything else left behind exits non-zero.");
  add_fleet_flags(uninstall, flags->fleet);
  add_artifact_flags(uninstall, flags->store, false);
  uninstall->callback([&ctx, flags] { ctx.outcome = run_uninstall(ctx, *flags); });
}

}  // namespace kurator::cli
