// TEST HELPER: a load-balancer controller stand-in (see fleet_lb.hpp).
#include "support/fleet_lb.hpp"

#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>

#include <iostream>
#include <map>

namespace kurator::test {

LoadBalancerStandIn::LoadBalancerStandIn(const FleetCluster& cluster, std::string ip, std::chrono::milliseconds delay) {
  kubeconfig::LoadOptions lo;
  lo.explicit_path = cluster.kubeconfig.string();
  auto cfg = kubeconfig::load(lo);
  if (!cfg) {
    std::cerr << "LoadBalancerStandIn: " << cfg.error().message << "\n";
    return;
  }
  m_thread = std::thread([this, c = *cfg, ip, delay, name = cluster.name] {
    kube::Client client(c);
    std::map<std::string, std::chrono::steady_clock::time_point> first_seen;
    while (!m_stop.load()) {
      auto list = client.list("v1", "Service");
      if (list) {
        const nlohmann::json doc = *list;
        for (const auto& s : doc["items"]) {
          if (s.value("/spec/type"_json_pointer, std::string()) != "LoadBalancer") continue;
          if (!s.value("/status/loadBalancer/ingress"_json_pointer, nlohmann::json::array()).empty()) continue;
          const std::string key = s["metadata"].value("namespace", "") + "/" + s["metadata"].value("name", "") +
                                  "/" + s["metadata"].value("uid", "");
          auto now = std::chrono::steady_clock::now();
          auto [it, fresh] = first_seen.emplace(key, now);
          if (now - it->second < delay) continue;
          nlohmann::json svc = s;  // list items carry no apiVersion/kind
          svc["apiVersion"] = "v1";
          svc["kind"] = "Service";
          auto r = client.patch_status(svc, {{"status", {{"loadBalancer", {{"ingress", {{{"ip", ip}}}}}}}}});
          if (!r) std::cerr << "[lb stand-in " << name << "] " << r.error().message << "\n";
          if (r) {
            ++m_assigned;
            std::cerr << "[lb stand-in " << name << "] " << key.substr(0, key.rfind('/')) << " -> " << ip << "\n";
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
}

LoadBalancerStandIn::~LoadBalancerStandIn() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

}  // namespace kurator::test
