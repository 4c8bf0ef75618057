// The fleet flags, shared by every installer and `status`.
#include <kurator/cli/fleet_flags.hpp>
#include <kurator/fleet/karmada.hpp>
#include <kurator/util/yaml.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

namespace kurator::cli {

void add_fleet_flags(CLI::App* cmd, FleetFlags& f) {
  cmd->add_option("--fleet", f.fleet,
                  "How member clusters are reached: direct (each a kubeconfig context) or karmada "
                  "(through the Karmada apiserver's propagation policies)")
      ->check(CLI::IsMember({"direct", "karmada"}))
      ->default_str("direct");
  cmd->add_option("--karmada-kubeconfig", f.karmada_kubeconfig,
                  "The Karmada apiserver's kubeconfig (with --fleet karmada; default "
                  "$KURATOR_HOME/karmada/karmada-apiserver.config)");
  cmd->add_option("--clusters", f.clusters,
                  "Member clusters, comma-separated: kubeconfig contexts (direct; default the current "
                  "context) or joined Karmada members (karmada; default all)")
      ->delimiter(',');
  cmd->add_option("--connect-timeout", f.connect_timeout, "How long a member may take to answer (e.g. 10s)")
      ->check([](const std::string& s) {
        auto d = parse_duration(s);
        return d ? std::string() : d.error().message + " (" + d.error().hint + ")";
      });
}

fleet::Selection selection(const Context& ctx, const FleetFlags& f) {
  fleet::Selection sel;
  sel.mode = f.fleet == "karmada" ? fleet::Mode::karmada : fleet::Mode::direct;
  sel.kubeconfig = ctx.kubeconfig_options();
  sel.clusters = f.clusters;
  std::erase_if(sel.clusters, [](const std::string& s) { return s.empty(); });
  sel.karmada_kubeconfig = f.karmada_kubeconfig.empty() ? fleet::karmada::default_kubeconfig(ctx.home())
                                                        : std::filesystem::path(f.karmada_kubeconfig);
  if (auto d = parse_duration(f.connect_timeout)) sel.connect_timeout = *d;
  return sel;
}

Result<std::unique_ptr<fleet::Fleet>> open_fleet(const Context& ctx, const FleetFlags& f,
                                                 bool require_reachable) {
  auto sel = selection(ctx, f);
  sel.require_reachable = require_reachable;
  auto fl = fleet::open(sel);
  if (!fl) return fl;
  std::vector<std::string> names;
  for (const auto& m : (*fl)->members()) names.push_back(m.name);
  if ((*fl)->mode() == fleet::Mode::karmada)
    spdlog::info("fleet: Karmada at {}, member{} {}", (*fl)->control_plane(), names.size() == 1 ? "" : "s",
                 fmt::join(names, ", "));
  else
    spdlog::info("fleet: direct, member{} {}", names.size() == 1 ? "" : "s", fmt::join(names, ", "));
  return fl;
}

std::string members_of(const fleet::Fleet& f) {
  std::string out;
  for (const auto& m : f.members()) out += (out.empty() ? "" : ", ") + m.name;
  return out;
}

void print_delete_plan(const std::vector<fleet::PlannedStep>& plan) {
  for (const auto& step : plan) {
    std::vector<nlohmann::json> ids;
    for (auto it = step.objects.rbegin(); it != step.objects.rend(); ++it) {
      nlohmann::json id = {{"apiVersion", (*it)["apiVersion"]},
                           {"kind", (*it)["kind"]},
                           {"metadata", {{"name", (*it)["metadata"]["name"]}}}};
      if ((*it)["metadata"].contains("namespace")) id["metadata"]["namespace"] = (*it)["metadata"]["namespace"];
      ids.push_back(std::move(id));
    }
    std::cout << fmt::format("# {} ({}): would delete {} objects\n", step.target, step.server, ids.size());
    for (const auto& id : ids) std::cout << "---\n" << yaml::dump(id);
  }
  std::cout << std::flush;
}

void add_apply_rows(const fleet::ApplyReport& report, nlohmann::json& items,
                    std::vector<std::vector<std::string>>& rows, const nlohmann::json& extra) {
  for (const auto& s : report.steps) {
    nlohmann::json item = extra;
    item.update({{"target", s.target}, {"server", s.server}, {"objects", s.objects}, {"changed", s.changed}});
    items.push_back(std::move(item));
    rows.push_back({s.target, s.server, std::to_string(s.objects),
                    s.changed.empty() ? "unchanged" : std::to_string(s.changed.size()) + " changed"});
  }
}

void add_remove_rows(const fleet::RemoveReport& report, nlohmann::json& items,
                     std::vector<std::vector<std::string>>& rows) {
  for (const auto& s : report.steps) {
    items.push_back({{"target", s.target}, {"deleted", s.deleted}, {"absent", s.absent}});
    rows.push_back({s.target, std::to_string(s.deleted), std::to_string(s.absent)});
  }
}

}  // namespace kurator::cli
