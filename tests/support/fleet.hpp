// A fleet of real local clusters for the e2e tests: created once per test run (on first use) with
// `kurator create cluster --provider local`, in a private KURATOR_HOME, and deleted at the end of the
// run — also when tests fail, and (through a reaper process that outlives the test binary) when the
// binary crashes or is killed.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurator::test {

// Why e2e tests cannot run here, empty when they can: missing control-plane binaries (the test then
// SKIPs loudly). See also require_isolated_network().
std::string e2e_skip_reason();
// True when this process's network namespace has no interface up but loopback.
bool network_isolated();
// Fails the current test (REQUIRE) when the network is not isolated, unless
// KURATOR_E2E_ALLOW_HOST_NETWORK=1: the control plane dials Service/Pod addresses that must not leave
// the machine. Run the tests through scripts/netns-run.sh.
void require_isolated_network();
// A binary scripts/build-test-binaries.sh built: $KURATOR_BIN_CACHE (default ~/.cache/kurator/bin)
// /<component>-<version>/<binary> (whether it exists or not).
std::filesystem::path cached_binary(const std::string& component, std::string_view version,
                                    const std::string& binary);
// The real kubectl of the pinned Kubernetes version (empty path when missing).
std::filesystem::path kubectl_bin();

struct FleetCluster {
  std::string name;
  int nodes = 0;
  std::filesystem::path kubeconfig;
  std::filesystem::path dir;  // $KURATOR_HOME/clusters/NAME
};

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
  double seconds = 0;
};

class Fleet {
 public:
  // The run's fleet: "e2e-host" (3 nodes) and "e2e-member" (1 node). Created on the first call; a
  // failed creation fails every test that asks for it (REQUIRE), once.
  static Fleet& get();
  // Deletes every cluster of the fleet (idempotent); called at the end of the run. A fleet shared by
  // the processes of a ctest run (KURATOR_E2E_FLEET_HOME) is left to the cleanup fixture unless
  // `shared_too`.
  static void teardown(bool shared_too = false);

  const FleetCluster& host() const { return m_clusters.at(0); }
  const FleetCluster& member() const { return m_clusters.at(1); }
  const std::vector<FleetCluster>& clusters() const { return m_clusters; }
  const std::filesystem::path& home() const { return m_home; }

  // Runs the kurator binary with this fleet's KURATOR_HOME; stderr is echoed live when `echo`.
  CommandResult kurator(const std::vector<std::string>& args, bool echo = false) const;
  // Runs the real kubectl against `cluster` (or with its own --kubeconfig when `kubeconfig` is given).
  CommandResult kubectl(const FleetCluster& cluster, const std::vector<std::string>& args,
                        const std::filesystem::path& kubeconfig = {}) const;
  // Creates one more cluster in the fleet's home (deleted at teardown unless deleted before).
  FleetCluster create_extra(const std::string& name, int nodes);

 private:
  Fleet() = default;
  void create_all();
  void start_reaper();

  std::filesystem::path m_home;
  std::vector<FleetCluster> m_clusters;
  std::vector<std::string> m_extra;
  bool m_shared = false;  // KURATOR_E2E_FLEET_HOME: created by one process, reused by the others
  std::string m_failure;
  int m_reaper_fd = -1;
};

// Runs a program (argv) with env additions, capturing output; proxies are unset (loopback only).
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::pair<std::string, std::string>>& env = {}, bool echo = false,
                          std::chrono::seconds timeout = std::chrono::seconds(600));

}  // namespace kurator::test
