// Helpers shared by the e2e cases that install components into the fleet's members (direct and Karmada
// mode): the e2e preconditions, a kubeconfig whose contexts are the members, clients, the two Karmada
// members fk1/fk2 (joined idempotently), argv building.
#pragma once
#include <kurator/core/kube.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "support/fleet.hpp"
#include "support/fleet_karmada.hpp"

namespace kurator::test {

// False (after a loud SKIP) when e2e tests cannot run here; fails when the network is not isolated.
bool e2e_ready_to_run();

// One kubeconfig whose contexts are the given clusters', each named after its cluster, plus extra contexts
// name -> server without credentials. Written 0600 into `dir`.
std::filesystem::path merged_kubeconfig(const std::filesystem::path& dir, const std::vector<FleetCluster>& clusters,
                                        const std::vector<std::pair<std::string, std::string>>& extra = {});

// A client for the kubeconfig's current context (REQUIRE on failure).
kube::Client client_for(const std::filesystem::path& kubeconfig);

// The fleet's two clusters joined to the local Karmada as "fk1" / "fk2" (created once per process).
struct KarmadaMembers {
  FleetCluster a, b;
};
// False (after a loud SKIP) when Karmada cannot run here; else the fleet, its local Karmada and both
// members joined (a re-join is a no-op).
bool karmada_ready(Fleet*& fleet, LocalKarmada*& karmada, KarmadaMembers*& members);

// Runs `kurator args` in the fleet's home when the test case ends (the uninstall after a failed check),
// unless disarmed; says so when it fails.
struct KuratorOnExit {
  const Fleet& fleet;
  std::vector<std::string> args;
  bool armed = true;
  ~KuratorOnExit();
};

// The /proc/<pid> paths of every process whose command line holds `needle` (processes may vanish while
// it reads: they are skipped).
std::vector<std::string> cmdlines_with(const std::string& needle);

// `a` followed by `b`.
std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b);

}  // namespace kurator::test
