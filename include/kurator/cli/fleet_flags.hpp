// The fleet flags every installer (and `status`) takes: which member clusters, reached how.
//   --fleet karmada           Karmada mode: the Karmada of --karmada-kubeconfig; --clusters names joined
//                             members (default: all of them)
//   (no --fleet)              direct mode: --clusters names contexts of the --kubeconfig (default: the
//                             --context, else the current context)
#pragma once
#include <kurator/cli/app.hpp>
#include <kurator/fleet/fleet.hpp>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace kurator::cli {

struct FleetFlags {
  std::string fleet = "direct";    // direct | karmada
  std::string karmada_kubeconfig;  // default $KURATOR_HOME/karmada/karmada-apiserver.config
  std::vector<std::string> clusters;
  std::string connect_timeout = "10s";
};

void add_fleet_flags(CLI::App* cmd, FleetFlags& f);

// The selection the flags and the global flags (--kubeconfig, --context, --home-dir) name.
fleet::Selection selection(const Context& ctx, const FleetFlags& f);

// Opens the fleet, logging where its members are ("fleet: karmada at URL, members m1, m2").
Result<std::unique_ptr<fleet::Fleet>> open_fleet(const Context& ctx, const FleetFlags& f,
                                                 bool require_reachable = true);

// "m1, m2": the fleet's member names, for messages.
std::string members_of(const fleet::Fleet& f);

// For an uninstall's --dry-run: per target, the objects that would be deleted, in the order they would be
// (the reverse of the apply order), as identities only.
void print_delete_plan(const std::vector<fleet::PlannedStep>& plan);

// An install's result rows (TARGET SERVER OBJECTS RESULT) and JSON items for ctx.print, from one or more
// apply reports (a workload each).
void add_apply_rows(const fleet::ApplyReport& report, nlohmann::json& items,
                    std::vector<std::vector<std::string>>& rows, const nlohmann::json& extra = nlohmann::json::object());
// An uninstall's rows (TARGET DELETED NOT-THERE) and items.
void add_remove_rows(const fleet::RemoveReport& report, nlohmann::json& items,
                     std::vector<std::vector<std::string>>& rows);

}  // namespace kurator::cli
