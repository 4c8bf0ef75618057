// TEST HELPER standing in for a cloud's load-balancer controller, which cannot exist here: it gives every
// Service of type LoadBalancer in one cluster an ingress address, `delay` after it first sees the Service,
// by writing the Service's status as such a controller does. Nothing in kurator knows it exists.
#pragma once
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "support/fleet.hpp"

namespace kurator::test {

class LoadBalancerStandIn {
 public:
  LoadBalancerStandIn(const FleetCluster& cluster, std::string ip, std::chrono::milliseconds delay);
  ~LoadBalancerStandIn();
  LoadBalancerStandIn(const LoadBalancerStandIn&) = delete;
  LoadBalancerStandIn& operator=(const LoadBalancerStandIn&) = delete;
  // How many Services it gave an address so far.
  int assigned() const { return m_assigned.load(); }

 private:
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_assigned{0};
  std::thread m_thread;
};

}  // namespace kurator::test
