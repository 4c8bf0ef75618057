// Real upstream controllers beside the local clusters (see fleet_operators.hpp).
#include "support/fleet_operators.hpp"

#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/core/process.hpp>
#include <kurator/core/readiness.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/test_env.hpp"

namespace kurator::test {
namespace stdfs = std::filesystem;

stdfs::path PrometheusOperator::binary() {
  return cached_binary("prometheus-operator", kVersion, "prometheus-operator");
}

std::string PrometheusOperator::skip_reason() {
  if (!stdfs::exists(binary()))
    return "the real Prometheus Operator is missing (" + binary().string() + "): run scripts/build-test-binaries.sh";
  return {};
}

PrometheusOperator::PrometheusOperator(const FleetCluster& cluster) {
  m_dir = stdfs::temp_directory_path() / ("kurator-prom-operator-" + cluster.name + "-" + std::to_string(::getpid()));
  stdfs::create_directories(m_dir);
  process::DaemonSpec spec;
  spec.argv = {binary().string(), "--web.listen-address=127.0.0.1:0", "--kubelet-service=", "--log-level=info"};
  spec.env = {{"KUBECONFIG", cluster.kubeconfig.string()}};
  spec.log_file = m_dir / "operator.log";
  // In the fleet's home, so the fleet's teardown and reaper stop it even when this process dies first.
  auto registry = cluster.dir.parent_path().parent_path() / "test-processes";
  stdfs::create_directories(registry);
  spec.pid_file = registry / ("prometheus-operator-" + cluster.name + "-" + std::to_string(::getpid()) + ".pid");
  m_pid_file = spec.pid_file;
  kubeconfig::LoadOptions lo;
  lo.explicit_path = cluster.kubeconfig.string();
  auto cfg = kubeconfig::load(lo);
  REQUIRE(cfg.ok());
  m_supervisor = std::thread([this, spec, cfg = *cfg] {
    // The operator decides once, at startup, which of its CRDs exist (a missing one disables that
    // controller for good): as its pod would be, it starts once its CRDs are Established.
    kube::Client client(cfg);
    while (!m_stop.load()) {
      // Served in discovery, which is what the operator asks (Established comes a moment earlier).
      int served = 0;
      for (const char* gv : {"/apis/monitoring.coreos.com/v1", "/apis/monitoring.coreos.com/v1alpha1"}) {
        auto r = client.request("GET", gv, "", "");
        if (!r) continue;
        auto doc = nlohmann::json::parse(r->body, nullptr, false);
        if (doc.is_object())
          for (const auto& res : doc.value("resources", nlohmann::json::array()))
            if (res.value("name", "").find('/') == std::string::npos) ++served;
      }
      if (served >= 10) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (m_stop.load()) return;
    if (auto first = process::start_daemon(spec)) {
      m_pid = *first;
      m_starts = 1;
    }
    while (!m_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (m_stop.load() || process::is_alive(m_pid.load())) continue;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the restart back-off
      if (m_stop.load()) break;
      auto pid = process::start_daemon(spec);
      if (pid) {
        m_pid = *pid;
        ++m_starts;
      }
    }
  });
}

PrometheusOperator::~PrometheusOperator() {
  m_stop = true;
  if (m_supervisor.joinable()) m_supervisor.join();
  if (m_pid > 0) process::stop_pid(m_pid, std::chrono::seconds(5));
  std::error_code ec;
  stdfs::remove(m_pid_file, ec);
  stdfs::remove_all(m_dir, ec);
}

bool PrometheusOperator::running() const {
  return m_pid > 0 && process::is_alive(m_pid);
}

std::string PrometheusOperator::log() const {
  auto text = fs::read_file(m_dir / "operator.log");
  if (!text) return {};
  // The first lines (a refused flag is named there) and the last ones.
  if (text->size() <= 6000) return *text;
  return text->substr(0, 2000) + "\n[...]\n" + text->substr(text->size() - 4000);
}

}  // namespace kurator::test
