// The local Karmada of the e2e fleet, for every test that needs a real Karmada (install, join, fleet):
// `kurator install karmada --provider local` beside the fleet's host cluster, in the fleet's
// KURATOR_HOME, with the CRDs (karmada-crds) served from the fixture mirror. Installed on first use
// (idempotently: a process sharing the home through KURATOR_E2E_FLEET_HOME finds it running) and
// uninstalled with the fleet (tests/support/fleet.cpp's teardown paths).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "support/fleet.hpp"

namespace kurator::test {

class LocalKarmada {
 public:
  // Why the local Karmada cannot be installed here (Karmada binaries or the CRDs fixture missing), empty
  // when it can. Tests check it first and SKIP loudly: `if (auto why = LocalKarmada::skip_reason();
  // !why.empty()) { skip(why); return; }`.
  static std::string skip_reason();
  // The fleet's local Karmada, installed when not running yet. A failed install fails the test (REQUIRE),
  // and every later get() in this process, once.
  static LocalKarmada& get(Fleet& fleet);
  // `kurator uninstall karmada --provider local` in `home` (teardown; safe when not installed).
  static CommandResult uninstall(const std::filesystem::path& home);

  const std::filesystem::path& home() const { return m_home; }
  // $KURATOR_HOME/karmada
  const std::filesystem::path& dir() const { return m_dir; }
  // The admin kubeconfig of the Karmada apiserver: $KURATOR_HOME/karmada/karmada-apiserver.config.
  const std::filesystem::path& kubeconfig() const { return m_kubeconfig; }
  // https://127.0.0.1:<port>
  const std::string& endpoint() const { return m_endpoint; }
  // Wall time of the install this process ran (0 when it found Karmada running).
  double install_seconds() const { return m_install_seconds; }
  // The real kubectl against the Karmada apiserver.
  CommandResult kubectl(const std::vector<std::string>& args) const;

 private:
  LocalKarmada() = default;
  std::filesystem::path m_home, m_dir, m_kubeconfig;
  std::string m_endpoint;
  double m_install_seconds = 0;
  const Fleet* m_fleet = nullptr;
};

}  // namespace kurator::test
