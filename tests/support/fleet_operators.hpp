// Real upstream controllers run as processes beside the fleet's local clusters, out of cluster, as their
// own projects run them for development (the in-cluster Deployments kurator installs are run by kwok,
// which makes their pods Ready but runs nothing).
#pragma once
#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "support/fleet.hpp"

namespace kurator::test {

// The real Prometheus Operator v0.93.0 (scripts/build-test-binaries.sh) against one cluster: KUBECONFIG
// set to the cluster's kubeconfig (the operator has no --kubeconfig flag), --web.listen-address on
// loopback, no kubelet Service management. It turns kurator's Prometheus objects into StatefulSets and
// writes their status conditions itself. Stopped when the object dies.
//
// The operator reads once, at startup, which monitoring.coreos.com CRDs exist (it exits when none do, and a
// missing one disables its controller for good), so the helper starts it once kurator's install has made
// all 10 served by the apiserver's discovery — when its pod would start — and, like a kubelet, again
// whenever it exits. Its pid file lives in the fleet's home (test-processes/): the fleet's teardown and
// reaper stop it when this process cannot.
class PrometheusOperator {
 public:
  static constexpr const char* kVersion = "v0.93.0";
  static std::filesystem::path binary();
  // Why it cannot run here ("" when it can): the binary is missing.
  static std::string skip_reason();

  explicit PrometheusOperator(const FleetCluster& cluster);
  ~PrometheusOperator();
  PrometheusOperator(const PrometheusOperator&) = delete;
  PrometheusOperator& operator=(const PrometheusOperator&) = delete;

  bool running() const;
  // How many times it was started.
  int starts() const { return m_starts.load(); }
  // The operator's log so far (every start appends; for failure messages).
  std::string log() const;

 private:
  std::filesystem::path m_dir, m_pid_file;
  std::atomic<int> m_pid{-1};
  std::atomic<int> m_starts{0};
  std::atomic<bool> m_stop{false};
  std::thread m_supervisor;
};

}  // namespace kurator::test
