// TEST HELPER: stands in for what cannot run here — the Pixie operator (installed by OLM) and Pixie's
// cloud, which together bring a Vizier to `status.vizierPhase: Healthy`. A thread watches the Vizier
// pl/pixie in each given cluster and writes its status (status subresource) as the test asks: first
// `initial` (e.g. Updating) when it appears, then, `healthy_after` later, Healthy / Ready.
// Nothing else of Pixie is faked: kwok runs the Deployments' pods, the apiservers are real.
#pragma once
#include <kurator/core/kube.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kurator::test {

class PixieStandIn {
 public:
  PixieStandIn(std::vector<std::filesystem::path> kubeconfigs, std::string initial_phase,
               std::chrono::milliseconds healthy_after);
  ~PixieStandIn();
  PixieStandIn(const PixieStandIn&) = delete;
  PixieStandIn& operator=(const PixieStandIn&) = delete;
  // When the status Healthy was written in every cluster (steady clock); nullopt before.
  std::optional<std::chrono::steady_clock::time_point> all_healthy_at() const;
  // Status writes done (per cluster server URL).
  int writes() const { return m_writes.load(); }

 private:
  void loop();
  std::vector<std::unique_ptr<kube::Client>> m_clients;
  std::string m_initial;
  std::chrono::milliseconds m_after;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_writes{0};
  mutable std::mutex m_mu;
  std::optional<std::chrono::steady_clock::time_point> m_all_healthy;
  std::thread m_thread;
};

}  // namespace kurator::test
