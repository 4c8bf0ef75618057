// Cluster API beside a local management cluster, for the aws e2e tests:
//  - ClusterApiControllers: the REAL core, kubeadm bootstrap and kubeadm control-plane controllers v1.14.0
//    (scripts/build-test-binaries.sh), run out of cluster as processes, their webhook servers on loopback
//    with a test CA;
//  - WebhookRouter: what the in-cluster Services and cert-manager's cainjector do for them — every webhook
//    configuration and CRD conversion webhook that names one of the routed Services is pointed at its
//    loopback port with the test CA;
//  - AwsStandIn: a TEST HELPER standing in for what cannot exist here: AWS and CAPA (AWSCluster endpoint and
//    readiness, AWSMachine providerID and readiness), kubeadm and the kubelet on each machine (the machine
//    "joins" a real local workload cluster: a Node with that providerID run by the stand-in's own kwok, which
//    serves the kubelet API; the control-plane static pods; kube-system's kubeadm-config; and on every
//    control-plane machine a REAL etcd member named after its Node, with a serving certificate from the etcd
//    CA KCP generated, added to the members as `kubeadm join` does, so KCP's etcd checks, leadership moves
//    and member removals reach real etcd through the apiserver's port-forward), and cert-manager (its
//    Certificates marked Ready; its webhook and CAPA's answered by an allow-all admission stub,
//    tests/data/capi/admission_stub.py).
#pragma once
#include <kurator/core/kube.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/fleet.hpp"
#include "support/mirror.hpp"

namespace kurator::test {

// A CA and a serving certificate for 127.0.0.1/localhost, written as tls.crt/tls.key (0600 key) in `dir`.
struct LoopbackPki {
  std::filesystem::path dir;
  std::string ca_pem;
  static LoopbackPki make(const std::filesystem::path& dir);
};

// A kube::Client for a cluster of the fleet.
std::unique_ptr<kube::Client> client_of(const FleetCluster& c);

class ClusterApiControllers {
 public:
  static constexpr const char* kVersion = "v1.14.0";
  static std::filesystem::path binary(const std::string& name);  // capi-core, capi-kubeadm-bootstrap, …
  // Why they cannot run here ("" when they can): a binary is missing.
  static std::string skip_reason();

  // Starts the three controllers against `mgmt` once the Cluster API CRDs are served (each reads them at
  // startup), and again whenever one exits, like a kubelet; their pid files live in the fleet's
  // test-processes/ folder so teardown and the reaper stop them.
  ClusterApiControllers(const FleetCluster& mgmt, const LoopbackPki& pki);
  ~ClusterApiControllers();
  ClusterApiControllers(const ClusterApiControllers&) = delete;
  ClusterApiControllers& operator=(const ClusterApiControllers&) = delete;

  // Service name -> loopback webhook port (capi-webhook-service, …), for the WebhookRouter.
  std::map<std::string, int> routes() const;
  int starts() const { return m_starts.load(); }
  // The last lines of every controller's log (for failure messages).
  std::string log() const;

 private:
  struct Proc {
    std::string name, service;
    int port = 0;
    std::filesystem::path log, pid_file;
    std::vector<std::string> argv;
    std::atomic<int> pid{-1};
  };
  std::filesystem::path m_dir;
  std::vector<std::unique_ptr<Proc>> m_procs;
  std::atomic<int> m_starts{0};
  std::atomic<bool> m_stop{false};
  std::thread m_supervisor;
};

class WebhookRouter {
 public:
  // `routes`: Service name -> loopback port; `ca_pem`: the CA that signed the servers' certificates.
  WebhookRouter(const FleetCluster& cluster, std::map<std::string, int> routes, std::string ca_pem);
  ~WebhookRouter();
  WebhookRouter(const WebhookRouter&) = delete;
  WebhookRouter& operator=(const WebhookRouter&) = delete;
  // How many objects it rewrote so far.
  int rewritten() const { return m_rewritten.load(); }

 private:
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_rewritten{0};
  std::thread m_thread;
};

class AwsStandIn {
 public:
  struct Options {
    FleetCluster management;
    FleetCluster workload;  // a real local cluster (0 nodes) the machines join
    std::string namespace_ = "default";
    // AWSMachines for which this returns true never become ready (the instance "never boots").
    std::function<bool(const nlohmann::json& aws_machine)> hold;
  };
  AwsStandIn(Options opts, const LoopbackPki& pki);
  ~AwsStandIn();
  AwsStandIn(const AwsStandIn&) = delete;
  AwsStandIn& operator=(const AwsStandIn&) = delete;

  bool ok() const { return m_stub && m_stub->ok(); }
  // The admission stub's port (route cert-manager-webhook and capa-webhook-service to it).
  int stub_port() const { return m_stub ? m_stub->port() : 0; }
  int machines_joined() const { return m_joined.load(); }
  // The etcd members running now (their names are Node names).
  std::set<std::string> etcd_members() const;
  std::set<std::string> held() const;
  // What it did, one line per action (for failure messages).
  std::string log() const;

 private:
  struct EtcdMember {
    int client = 0, client_http = 0, peer = 0;  // ports: TLS clients, loopback plain clients, peers
    int pid = -1;
    std::filesystem::path pid_file;
  };
  void loop();
  void say(const std::string& line);
  void start_kubelets();
  // Starts (or finds running) the etcd member of control-plane Node `node` of cluster `cluster`: the first
  // one founds the cluster, later ones are added first (kubeadm join). False while that cannot be done yet.
  bool ensure_etcd(kube::Client& mgmt, const std::string& cluster, const std::string& node);
  void stop_etcd(const std::string& node);

  Options m_opts;
  std::filesystem::path m_dir, m_registry;
  int m_apiserver_port = 0;  // the workload apiserver's: the machines' endpoint
  int m_kwok_pid = -1;
  std::filesystem::path m_kwok_pid_file;
  std::map<std::string, EtcdMember> m_etcd;  // Node name -> its member (slots made up front)
  std::set<std::string> m_etcd_running;      // under m_mu
  std::unique_ptr<LoopbackServer> m_stub;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_joined{0};
  mutable std::mutex m_mu;
  std::set<std::string> m_held;
  std::string m_log;
  std::thread m_thread;
};

}  // namespace kurator::test
