// Real upstream controllers run as processes beside the fleet's local clusters, out of cluster, as their
// own projects run them for development (the in-cluster Deployments kurator installs are run by kwok,
// which makes their pods Ready but runs nothing).
#pragma once
#include <filesystem>
#include <string>

#include "support/fleet.hpp"

namespace kurator::test {

// The real Prometheus Operator v0.93.0 (scripts/build-test-binaries.sh) against one cluster: KUBECONFIG
// set to the cluster's kubeconfig (the operator has no --kubeconfig flag), --web.listen-address on
// loopback, no kubelet Service management. It turns kurator's Prometheus objects into StatefulSets and
// writes their status conditions itself. Stopped when the object dies.
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
  // The operator's log so far (for failure messages).
  std::string log() const;

 private:
  std::filesystem::path m_dir;
  int m_pid = -1;
};

}  // namespace kurator::test
