// `install thanos`: Thanos across the fleet. Members (through the fleet layer): the Prometheus Operator
// (shared with `install prometheus`), the object-store Secret, a Prometheus `thanos` with a Thanos
// sidecar (spec.thanos, external label cluster=<member>) and the Service exposing the sidecar's gRPC.
// Host (a direct fleet of one cluster): namespace `thanos` with Query, Store Gateway, Compactor, Receive
// and Query Frontend (thanos.hpp), Query's endpoint file listing every member's sidecar address, which is
// waited for (LoadBalancer ingress, node port) or given (--sidecar-endpoints).
#pragma once
#include <kurator/components/component.hpp>
#include <kurator/components/thanos.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/fleet/fleet.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace kurator::components::thanos {

inline constexpr const char* kMembersComponent = "thanos";          // the members' Secret + Prometheus
inline constexpr const char* kSidecarComponent = "thanos-sidecar";  // the members' sidecar Service
inline constexpr const char* kHostComponent = "thanos-host";        // the host's objects
inline constexpr const char* kMemberNamespace = "monitoring";
inline constexpr const char* kMemberPrometheus = "thanos";  // the Prometheus object in each member
inline constexpr const char* kSidecarService = "thanos-sidecar";
// On the endpoints ConfigMap: the member -> sidecar address map it was written from (JSON), so a re-run
// naming only some members keeps the others'.
inline constexpr const char* kSidecarsAnnotation = "kurator.dev/sidecars";

struct InstallOptions {
  std::string objstore_text;    // the checked object-store config (a secret)
  std::string objstore_source;  // its file name (messages)
  std::string objstore_type;    // S3, FILESYSTEM, ... (messages)
  std::string sidecar_service_type = "LoadBalancer";  // LoadBalancer | NodePort
  std::map<std::string, std::string> sidecar_endpoints;  // --sidecar-endpoints member=host:port
  HostOptions host;             // kube_thanos_dir, compactor, receive replicas, …
  std::string operator_version;
};

// Parses --sidecar-endpoints entries "member=host:port" (errors name the entry).
Result<std::map<std::string, std::string>> parse_sidecar_endpoints(const std::vector<std::string>& entries);
// Checks everything before anything is applied: the service type, the compactor rules, given endpoints
// name chosen members (and name all of them), the object-store config.
Status check(const InstallOptions& o, const std::vector<std::string>& members);

fleet::Workload sidecar_workload(const InstallOptions& o);
fleet::Workload members_workload(const InstallOptions& o, const std::vector<std::string>& members);
// The host's objects with `sidecars` in Query's endpoint file.
Result<fleet::Workload> host_workload(const InstallOptions& o, const std::vector<Endpoint>& sidecars);

struct InstallReport {
  std::vector<std::pair<std::string, fleet::ApplyReport>> applied;
  std::vector<Endpoint> sidecars;  // what Query's endpoint file lists
  bool unchanged() const;
};
// Everything install would apply, in order (sidecar addresses as known now).
Result<std::vector<fleet::PlannedStep>> plan(fleet::Fleet& members, fleet::Fleet& host, const fleet::Workload& op,
                                             const InstallOptions& o);
Result<InstallReport> install(fleet::Fleet& members, fleet::Fleet& host, const fleet::Workload& op,
                              const InstallOptions& o, const kube::WaitOptions& wait);

struct UninstallReport {
  std::vector<std::pair<std::string, fleet::RemoveReport>> removed;
  std::vector<std::pair<std::string, std::string>> operator_kept;  // member -> component still using it
  bool nothing_found() const;
};
// Host objects, the members' Prometheus/Secret/Service, then the operator unless `install prometheus`
// still uses it. The bucket is never touched.
Result<UninstallReport> uninstall(fleet::Fleet& members, fleet::Fleet& host, const fleet::Workload& op,
                                  const InstallOptions& o, std::chrono::milliseconds timeout);

// The status entry (per member): the Prometheus `thanos` Reconciled and Available (sidecar included), the
// sidecar Service with an address; on the host, Query available.
Component component();

}  // namespace kurator::components::thanos
