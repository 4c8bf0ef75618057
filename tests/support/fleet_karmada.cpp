#include "support/fleet_karmada.hpp"

#include <kurator/providers/versions.hpp>
#include <kurator/util/fs.hpp>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "support/mirror.hpp"
#include "support/test_env.hpp"

namespace kurator::test {
namespace stdfs = std::filesystem;
namespace versions = providers::versions;

namespace {
std::mutex g_mu;
LocalKarmada* g_karmada = nullptr;
std::string g_failure;

stdfs::path bin_cache() {
  if (auto c = fs::env("KURATOR_BIN_CACHE"); !c.empty()) return c;
  return fs::user_home() / ".cache" / "kurator" / "bin";
}
}  // namespace

std::string LocalKarmada::skip_reason() {
  if (auto why = e2e_skip_reason(); !why.empty()) return why;
  std::string missing;
  for (const char* b : {"karmada-aggregated-apiserver", "karmada-webhook", "karmada-controller-manager",
                        "karmada-scheduler"}) {
    auto p = bin_cache() / ("karmada-" + std::string(versions::karmada)) / b;
    if (::access(p.c_str(), X_OK) != 0) missing += (missing.empty() ? "" : ", ") + p.string();
  }
  if (!missing.empty())
    return "Karmada binaries missing (" + missing + "); build them with scripts/build-test-binaries.sh";
  auto fx = fixtures_dir();
  if (fx.empty() || !stdfs::is_directory(fx / ("karmada-" + std::string(versions::karmada)) / "crds"))
    return "upstream fixture karmada-" + std::string(versions::karmada) +
           "/crds not found (set KURATOR_FIXTURES or provide ../shared/fixtures/upstream)";
  return {};
}

LocalKarmada& LocalKarmada::get(Fleet& fleet) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_failure.empty()) FAIL(g_failure);
  // Still installed (a test may have uninstalled it): reuse; else install (again).
  if (g_karmada && stdfs::exists(g_karmada->m_dir / "state.json")) return *g_karmada;
  delete g_karmada;
  g_karmada = nullptr;
  auto k = std::unique_ptr<LocalKarmada>(new LocalKarmada());
  k->m_fleet = &fleet;
  k->m_home = fleet.home();
  k->m_dir = k->m_home / "karmada";
  k->m_kubeconfig = k->m_dir / "karmada-apiserver.config";

  const bool running_before = stdfs::exists(k->m_dir / "state.json");
  // The CRDs through the real artifact path: catalog -> mirror -> download -> sha256 -> cache.
  FixtureMirror mirror({}, false, {{"karmada-crds", "karmada-" + std::string(versions::karmada) + "/crds"}});
  if (!mirror.ok()) {
    g_failure = "LocalKarmada: the fixture mirror for karmada-crds could not be set up (see SKIPPED above)";
    FAIL(g_failure);
  }
  std::vector<std::pair<std::string, std::string>> env = {{"KURATOR_HOME", k->m_home.string()}};
  for (auto& e : mirror.env()) env.push_back(e);
  if (!running_before) std::cerr << "fleet: installing the local Karmada in " << k->m_home.string() << "\n";
  auto r = run_command({kurator_bin().string(), "--kubeconfig", fleet.host().kubeconfig.string(), "install",
                        "karmada", "--provider", "local"},
                       env, !running_before, std::chrono::seconds(900));
  if (r.exit_code != 0) {
    g_failure = "LocalKarmada: install failed (exit " + std::to_string(r.exit_code) + "): " + r.err;
    FAIL(g_failure);
  }
  if (r.out.find("nothing to do") == std::string::npos) k->m_install_seconds = r.seconds;
  if (!running_before) std::cerr << "fleet: local Karmada ready in " << r.seconds << "s\n";
  auto state = fs::read_file(k->m_dir / "state.json");
  if (state) {
    auto j = nlohmann::json::parse(*state, nullptr, false);
    if (j.is_object()) k->m_endpoint = j.value("endpoint", "");
  }
  g_karmada = k.release();
  return *g_karmada;
}

CommandResult LocalKarmada::uninstall(const stdfs::path& home) {
  return run_command({kurator_bin().string(), "uninstall", "karmada", "--provider", "local"},
                     {{"KURATOR_HOME", home.string()}});
}

CommandResult LocalKarmada::kubectl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {kubectl_bin().string(), "--kubeconfig", m_kubeconfig.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {{"HOME", m_home.string()}}, false, std::chrono::seconds(120));
}

}  // namespace kurator::test
