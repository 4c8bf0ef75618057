// kurator status: every component × every member of the fleet: installed?, healthy?, version, and the
// reason when not. Each component says what healthy means (components/component.hpp).
#include <kurator/cli/app.hpp>
#include <kurator/cli/fleet_flags.hpp>
#include <kurator/components/component.hpp>

#include <fmt/format.h>

#include <thread>

namespace kurator::cli {
namespace {

struct StatusFlags {
  FleetFlags fleet;
  std::vector<std::string> components;
};

struct Row {
  std::string component, cluster, health, version, reason;
  bool installed = false, healthy = false;
};

Status run_status(Context& ctx, const StatusFlags& f) {
  std::vector<const components::Component*> chosen;
  for (const auto& name : f.components) {
    const auto* c = components::find(name);
    if (!c) {
      std::string known;
      for (const auto& k : components::registry()) known += (known.empty() ? "" : ", ") + k.name;
      return Error("status: unknown component \"" + name + "\"", ExitCode::usage, "components: " + known);
    }
    chosen.push_back(c);
  }
  if (chosen.empty())
    for (const auto& c : components::registry()) chosen.push_back(&c);

  auto fl = open_fleet(ctx, f.fleet, /*require_reachable=*/false);
  if (!fl) return fl.error();
  const auto& members = (*fl)->members();
  auto sel = selection(ctx, f.fleet);

  std::vector<Row> rows;
  for (const auto* c : chosen) {
    if (c->scope == components::Scope::control_plane) {
      rows.push_back({c->name, "(control plane)"});
    } else {
      for (const auto& m : members) rows.push_back({c->name, m.name});
    }
  }
  // One thread per member, checking every component there.
  std::vector<std::thread> threads;
  auto check = [&](size_t first_row, const components::Component* c, const fleet::Member* m) {
    Row& r = rows[first_row];
    components::Probe p;
    p.home = ctx.home();
    p.karmada_kubeconfig = sel.karmada_kubeconfig;
    std::unique_ptr<kube::Client> client;
    if (m) {
      if (!m->problem.empty()) {
        r.health = "unreachable";
        r.reason = m->problem;
        return;
      }
      client = std::make_unique<kube::Client>(m->config);
      p.cluster = client.get();
      p.cluster_name = m->name;
    }
    auto h = c->health(p);
    r.installed = h.installed;
    r.healthy = h.healthy;
    r.version = h.version;
    r.reason = h.reason;
    r.health = !h.installed ? "not installed" : h.healthy ? "healthy" : "unhealthy";
    if (r.health == "not installed" && r.reason == "not installed") r.reason.clear();
  };
  size_t row = 0;
  for (const auto* c : chosen) {
    if (c->scope == components::Scope::control_plane) {
      threads.emplace_back(check, row++, c, nullptr);
    } else {
      for (const auto& m : members) threads.emplace_back(check, row++, c, &m);
    }
  }
  for (auto& t : threads) t.join();

  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> bad;
  for (const auto& r : rows) {
    items.push_back({{"component", r.component},
                     {"cluster", r.cluster},
                     {"installed", r.installed},
                     {"healthy", r.healthy},
                     {"health", r.health},
                     {"version", r.version},
                     {"reason", r.reason}});
    table.push_back({r.component, r.cluster, r.health, r.version.empty() ? "-" : r.version, r.reason});
    if (r.health == "unhealthy" || r.health == "unreachable") bad.push_back(r.component + " on " + r.cluster);
  }
  ctx.print({{"mode", fleet::to_string((*fl)->mode())}, {"components", items}},
            {"COMPONENT", "CLUSTER", "HEALTH", "VERSION", "REASON"}, table);
  if (!bad.empty())
    return Error(fmt::format("status: not healthy: {}", fmt::join(bad, ", ")), ExitCode::failure,
                 "the REASON column says why; re-running the component's install repairs drift");
  return {};
}

}  // namespace

void add_status_command(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<StatusFlags>();
  auto* cmd = app.add_subcommand("status", "Components x clusters: installed, healthy, version, and why not");
  add_fleet_flags(cmd, flags->fleet);
  cmd->add_option("--component", flags->components, "Only these components (repeatable, comma-separated)")
      ->delimiter(',');
  cmd->callback([&ctx, flags] { ctx.outcome = run_status(ctx, *flags); });
}

}  // namespace kurator::cli
