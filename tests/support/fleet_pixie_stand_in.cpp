// TEST HELPER: see fleet_pixie_stand_in.hpp.
#include "support/fleet_pixie_stand_in.hpp"

#include <kurator/core/kubeconfig.hpp>

namespace kurator::test {

PixieStandIn::PixieStandIn(std::vector<std::filesystem::path> kubeconfigs, std::string initial_phase,
                           std::chrono::milliseconds healthy_after)
    : m_initial(std::move(initial_phase)), m_after(healthy_after) {
  for (const auto& p : kubeconfigs) {
    kubeconfig::LoadOptions lo;
    lo.explicit_path = p.string();
    auto cfg = kubeconfig::load(lo);
    if (cfg) m_clients.push_back(std::make_unique<kube::Client>(*cfg));
  }
  m_thread = std::thread([this] { loop(); });
}

PixieStandIn::~PixieStandIn() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

std::optional<std::chrono::steady_clock::time_point> PixieStandIn::all_healthy_at() const {
  std::lock_guard<std::mutex> l(m_mu);
  return m_all_healthy;
}

void PixieStandIn::loop() {
  using Clock = std::chrono::steady_clock;
  std::vector<std::optional<Clock::time_point>> seen(m_clients.size());
  std::vector<bool> healthy(m_clients.size(), false);
  while (!m_stop) {
    for (size_t i = 0; i < m_clients.size(); ++i) {
      auto v = m_clients[i]->get("px.dev/v1alpha1", "Vizier", "pl", "pixie");
      if (!v) {
        seen[i].reset();
        healthy[i] = false;
        continue;
      }
      auto now = Clock::now();
      if (!seen[i]) seen[i] = now;
      bool want_healthy = now - *seen[i] >= m_after;
      nlohmann::json status =
          want_healthy ? nlohmann::json{{"vizierPhase", "Healthy"},
                                        {"reconciliationPhase", "Ready"},
                                        {"message", "set by the e2e Pixie stand-in"}}
                       : nlohmann::json{{"vizierPhase", m_initial},
                                        {"reconciliationPhase", "Updating"},
                                        {"vizierReason", "StandInStarting"},
                                        {"message", "the e2e Pixie stand-in has not marked it Healthy yet"}};
      auto cur = (*v).value("/status/vizierPhase"_json_pointer, std::string());
      if (cur != status["vizierPhase"].get<std::string>()) {
        if (m_clients[i]->patch_status(*v, {{"status", status}})) ++m_writes;
      }
      healthy[i] = want_healthy;
    }
    bool all = !m_clients.empty();
    for (bool h : healthy) all = all && h;
    {
      std::lock_guard<std::mutex> l(m_mu);
      if (all && !m_all_healthy) m_all_healthy = Clock::now();
      if (!all) m_all_healthy.reset();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace kurator::test
