#include "support/fleet.hpp"

#include <kurator/core/process.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/util/fs.hpp>

#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/wait.h>
#include <unistd.h>

#define CATCH_CONFIG_EXTERNAL_INTERFACES  // TestEventListenerBase, for the teardown listener
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "support/test_env.hpp"

namespace kurator::test {
namespace stdfs = std::filesystem;
namespace versions = providers::versions;

namespace {

stdfs::path bin_cache() {
  if (auto c = fs::env("KURATOR_BIN_CACHE"); !c.empty()) return c;
  return fs::user_home() / ".cache" / "kurator" / "bin";
}

stdfs::path cached(const std::string& component, std::string_view version, const std::string& binary) {
  return bin_cache() / (component + "-" + std::string(version)) / binary;
}

}  // namespace

stdfs::path cached_binary(const std::string& component, std::string_view version, const std::string& binary) {
  return cached(component, version, binary);
}

namespace {

Fleet* g_fleet = nullptr;
int g_reaper_pid = -1;
std::mutex g_mu;

}  // namespace

std::string e2e_skip_reason() {
  std::vector<stdfs::path> needed = {
      cached("etcd", versions::etcd, "etcd"),
      cached("kubernetes", versions::kubernetes, "kube-apiserver"),
      cached("kubernetes", versions::kubernetes, "kube-controller-manager"),
      cached("kubernetes", versions::kubernetes, "kube-scheduler"),
      cached("kubernetes", versions::kubernetes, "kubectl"),
      cached("kwok", versions::kwok, "kwok"),
  };
  std::string missing;
  for (const auto& p : needed)
    if (::access(p.c_str(), X_OK) != 0) missing += (missing.empty() ? "" : ", ") + p.string();
  if (!missing.empty())
    return "control-plane binaries missing (" + missing + "); build them with scripts/build-test-binaries.sh";
  if (::access(kurator_bin().c_str(), X_OK) != 0) return "kurator binary missing: " + kurator_bin().string();
  return {};
}

bool network_isolated() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool isolated = true;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if ((a->ifa_flags & IFF_UP) && !(a->ifa_flags & IFF_LOOPBACK)) isolated = false;
  }
  ::freeifaddrs(list);
  return isolated;
}

void require_isolated_network() {
  if (network_isolated()) return;
  if (fs::env("KURATOR_E2E_ALLOW_HOST_NETWORK") == "1") {
    WARN("running e2e tests in the host network namespace (KURATOR_E2E_ALLOW_HOST_NETWORK=1)");
    return;
  }
  FAIL(
      "refusing to run e2e tests outside a private network namespace: an interface other than lo is up. "
      "Run them through scripts/netns-run.sh (e.g. scripts/netns-run.sh build/tests/test_e2e), or set "
      "KURATOR_E2E_ALLOW_HOST_NETWORK=1 if you really mean it");
}

stdfs::path kubectl_bin() {
  auto p = cached("kubernetes", versions::kubernetes, "kubectl");
  return ::access(p.c_str(), X_OK) == 0 ? p : stdfs::path();
}

CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::pair<std::string, std::string>>& env, bool echo,
                          std::chrono::seconds timeout) {
  process::SystemRunner runner;
  process::Spec spec;
  spec.argv = argv;
  for (const auto& [k, v] : env) spec.env[k] = v;
  // Everything here is on loopback: never through a proxy.
  spec.unset_env = {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"};
  spec.timeout = timeout;
  if (echo) {
    spec.on_line = [](std::string_view line, bool is_stderr) {
      if (is_stderr) std::cerr << "    " << line << "\n";
    };
  }
  auto t0 = std::chrono::steady_clock::now();
  auto r = runner.run(spec);
  CommandResult out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r) {
    out.err = r.error().message;
    return out;
  }
  out.exit_code = r->timed_out ? 124 : r->term_signal ? 128 + r->term_signal : r->exit_code;
  out.out = r->out;
  out.err = r->err;
  return out;
}

Fleet& Fleet::get() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_fleet) {
    g_fleet = new Fleet();
    if (auto shared = fs::env("KURATOR_E2E_FLEET_HOME"); !shared.empty()) {
      // Shared by the test processes of one ctest run: the first creates the clusters, the others find
      // them (create is a no-op for a running cluster with the same spec); the ctest cleanup fixture
      // deletes them.
      g_fleet->m_home = shared;
      g_fleet->m_shared = true;
      std::error_code ec;
      stdfs::create_directories(g_fleet->m_home, ec);
      REQUIRE(!ec);
    } else {
      auto home = fs::make_temp_dir("kurator-e2e-fleet");
      REQUIRE(home.ok());
      g_fleet->m_home = *home;
      g_fleet->start_reaper();
      std::atexit([] { Fleet::teardown(); });
    }
    g_fleet->create_all();
  }
  if (!g_fleet->m_failure.empty()) FAIL(g_fleet->m_failure);
  return *g_fleet;
}

void Fleet::start_reaper() {
  // A shell in its own session that blocks on a pipe only this process holds; when the test binary
  // exits for any reason the pipe closes and the shell deletes whatever clusters are left.
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  const std::string script =
      "cat >/dev/null 2>&1; b=$1; h=$2; "
      "for f in \"$h\"/test-processes/*.pid; do [ -f \"$f\" ] && kill \"$(cat \"$f\")\" 2>/dev/null; done; "
      "[ -d \"$h\"/karmada ] && KURATOR_HOME=\"$h\" \"$b\" uninstall karmada --provider local >/dev/null 2>&1; "
      "for d in \"$h\"/clusters/*/; do [ -d \"$d\" ] || continue; "
      "KURATOR_HOME=\"$h\" \"$b\" delete cluster \"$(basename \"$d\")\" --provider local >/dev/null 2>&1; "
      "done; "
      "rm -rf \"$h\"";
  std::vector<std::string> args = {"/bin/sh",      "-c", script, "kurator-e2e-reaper", kurator_bin().string(),
                                   m_home.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setsid();
    ::dup2(fds[0], STDIN_FILENO);
    ::execv("/bin/sh", argv.data());
    ::_exit(127);
  }
  ::close(fds[0]);
  m_reaper_fd = fds[1];
  g_reaper_pid = pid;
}

void Fleet::create_all() {
  const std::vector<std::pair<std::string, int>> wanted = {{"e2e-host", 3}, {"e2e-member", 1}};
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& [name, nodes] : wanted) {
    const bool existed = stdfs::exists(m_home / "clusters" / name / "state.json");
    if (!existed)
      std::cerr << "fleet: creating cluster " << name << " (" << nodes << " nodes) in " << m_home.string()
                << "\n";
    auto r = kurator({"create", "cluster", name, "--provider", "local", "--nodes", std::to_string(nodes)},
                     !existed);
    if (r.exit_code != 0) {
      m_failure =
          "fleet: creating cluster " + name + " failed (exit " + std::to_string(r.exit_code) + "): " + r.err;
      return;
    }
    if (!existed) std::cerr << "fleet: cluster " << name << " ready in " << r.seconds << "s\n";
    FleetCluster c;
    c.name = name;
    c.nodes = nodes;
    c.dir = m_home / "clusters" / name;
    c.kubeconfig = c.dir / "kubeconfig";
    m_clusters.push_back(c);
  }
  std::cerr << "fleet: " << m_clusters.size() << " clusters ready (" << m_home.string() << ") in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << "s\n";
}

FleetCluster Fleet::create_extra(const std::string& name, int nodes) {
  m_extra.push_back(name);
  auto r =
      kurator({"create", "cluster", name, "--provider", "local", "--nodes", std::to_string(nodes)}, true);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  FleetCluster c;
  c.name = name;
  c.nodes = nodes;
  c.dir = m_home / "clusters" / name;
  c.kubeconfig = c.dir / "kubeconfig";
  return c;
}

CommandResult Fleet::kurator(const std::vector<std::string>& args, bool echo) const {
  std::vector<std::string> argv = {kurator_bin().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {{"KURATOR_HOME", m_home.string()}}, echo, std::chrono::seconds(900));
}

CommandResult Fleet::kubectl(const FleetCluster& cluster, const std::vector<std::string>& args,
                             const stdfs::path& kubeconfig) const {
  std::vector<std::string> argv = {kubectl_bin().string(), "--kubeconfig",
                                   (kubeconfig.empty() ? cluster.kubeconfig : kubeconfig).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {{"HOME", m_home.string()}}, false, std::chrono::seconds(120));
}

void Fleet::teardown(bool shared_too) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_fleet) return;
  if (g_fleet->m_shared && !shared_too) return;  // the cleanup fixture's job
  Fleet* f = g_fleet;
  g_fleet = nullptr;
  std::error_code ec;
  // Test helpers' processes beside the clusters (tests/support/fleet_operators.hpp) first.
  for (const auto& entry : stdfs::directory_iterator(f->m_home / "test-processes", ec))
    if (auto pid = process::read_pid_file(entry.path()); pid && *pid > 0) process::stop_pid(*pid, std::chrono::seconds(5));
  // The local Karmada (tests/support/fleet_karmada.hpp) first: it may sit beside the host cluster.
  if (stdfs::exists(f->m_home / "karmada")) {
    auto r = f->kurator({"uninstall", "karmada", "--provider", "local"});
    std::cerr << "fleet: uninstalled the local Karmada (exit " << r.exit_code << ", " << r.seconds << "s)\n";
  }
  for (const auto& entry : stdfs::directory_iterator(f->m_home / "clusters", ec)) {
    auto name = entry.path().filename().string();
    auto r = f->kurator({"delete", "cluster", name, "--provider", "local"});
    std::cerr << "fleet: deleted cluster " << name << " (exit " << r.exit_code << ", " << r.seconds << "s)\n";
  }
  if (f->m_reaper_fd >= 0) ::close(f->m_reaper_fd);
  if (g_reaper_pid > 0) {
    int status = 0;
    ::waitpid(g_reaper_pid, &status, 0);
    g_reaper_pid = -1;
  }
  stdfs::remove_all(f->m_home, ec);
  delete f;
}

namespace {
// Deletes the fleet when the test run ends (normally or after failed tests).
struct FleetListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testRunEnded(const Catch::TestRunStats& stats) override {
    Fleet::teardown();
    TestEventListenerBase::testRunEnded(stats);
  }
};
}  // namespace
CATCH_REGISTER_LISTENER(FleetListener)

// The ctest fixtures of a shared fleet (hidden: run only when named, see tests/CMakeLists.txt).
TEST_CASE("fleet setup: create the shared e2e fleet", "[.fleet-setup]") {
  if (auto why = e2e_skip_reason(); !why.empty()) {
    skip(why);
    return;
  }
  require_isolated_network();
  REQUIRE(Fleet::get().clusters().size() == 2);
}

TEST_CASE("fleet teardown: delete every cluster of the shared e2e fleet", "[.fleet-teardown]") {
  auto home = fs::env("KURATOR_E2E_FLEET_HOME");
  if (!home.empty() && stdfs::exists(stdfs::path(home) / "karmada")) {
    auto r = run_command({kurator_bin().string(), "uninstall", "karmada", "--provider", "local"},
                         {{"KURATOR_HOME", home}});
    std::cerr << "fleet: uninstalled the local Karmada (exit " << r.exit_code << ", " << r.seconds << "s)\n";
    CHECK(r.exit_code == 0);
  }
  if (home.empty() || !stdfs::exists(stdfs::path(home) / "clusters")) return;
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : stdfs::directory_iterator(stdfs::path(home) / "clusters", ec))
    names.push_back(entry.path().filename().string());
  for (const auto& name : names) {
    auto r = run_command({kurator_bin().string(), "delete", "cluster", name, "--provider", "local"},
                         {{"KURATOR_HOME", home}});
    std::cerr << "fleet: deleted cluster " << name << " (exit " << r.exit_code << ", " << r.seconds << "s)\n";
    CHECK(r.exit_code == 0);
  }
  stdfs::remove_all(home, ec);
  CHECK(!stdfs::exists(home));
}

}  // namespace kurator::test
