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

}  // namespace kurator::cli
