// Real upstream controllers beside the local clusters (see fleet_operators.hpp).
#include "support/fleet_operators.hpp"

#include <kurator/core/process.hpp>
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
  spec.argv = {binary().string(), "--web.listen-address=127.0.0.1:0", "--kubelet-service=",
               "--log.level=info"};
  spec.env = {{"KUBECONFIG", cluster.kubeconfig.string()}};
  spec.log_file = m_dir / "operator.log";
  spec.pid_file = m_dir / "operator.pid";
  auto pid = process::start_daemon(spec);
  REQUIRE(pid.ok());
  m_pid = *pid;
  // It must still be running a moment later (a bad flag or kubeconfig ends it at once).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  INFO(log());
  REQUIRE(running());
}

PrometheusOperator::~PrometheusOperator() {
  if (m_pid > 0) process::stop_pid(m_pid, std::chrono::seconds(5));
  std::error_code ec;
  stdfs::remove_all(m_dir, ec);
}

bool PrometheusOperator::running() const {
  return m_pid > 0 && process::is_alive(m_pid);
}

std::string PrometheusOperator::log() const {
  auto text = fs::read_file(m_dir / "operator.log");
  if (!text) return {};
  return text->size() > 4000 ? text->substr(text->size() - 4000) : *text;
}

}  // namespace kurator::test
