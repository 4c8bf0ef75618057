// Prometheus in every member cluster, through the Prometheus Operator (pinned release: the
// `prometheus-operator` artifact's CRDs, RBAC and Deployment, unchanged but for their namespace) and
// kurator's own objects (manifests/prometheus/prometheus.yaml): a `Prometheus` with the external label
// cluster=<member>; with federation, one member scrapes the others' /federate.
//
// Three workloads go through the fleet layer, each with its own policies:
//   prometheus-operator  Namespace monitoring, the operator's CRDs/RBAC/Deployment/Service and the RBAC a
//                        Prometheus runs with. Shared with `install thanos` (whose Prometheus it also
//                        reconciles); removed by the last of the two uninstalls.
//   prometheus-expose    the Service kurator-prometheus (federation only), applied first so its address
//                        can be waited for.
//   prometheus           the Prometheus `kurator` and the additional-scrape-configs Secret.
#pragma once
#include <kurator/components/component.hpp>
#include <kurator/core/artifacts.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/result.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kurator::components::prometheus {
using json = nlohmann::json;

inline constexpr const char* kName = "prometheus";
inline constexpr const char* kOperatorComponent = "prometheus-operator";
inline constexpr const char* kExposeComponent = "prometheus-expose";
inline constexpr const char* kArtifact = "prometheus-operator";  // catalog name (kind files: crds/, rbac/)
inline constexpr const char* kNamespace = "monitoring";
inline constexpr const char* kPrometheusName = "kurator";  // the Prometheus object
inline constexpr const char* kService = "kurator-prometheus";
inline constexpr const char* kScrapeSecret = "additional-scrape-configs";
inline constexpr const char* kScrapeKey = "prometheus-additional.yaml";
inline constexpr const char* kOperatorDeployment = "prometheus-operator";
inline constexpr int kWebPort = 9090;

// The operator's objects from the artifact folder (crds/*.yaml, rbac/*.yaml but the ServiceMonitor, which
// needs the operator's own CRDs and a Prometheus to matter), moved to namespace `monitoring`, plus the
// Namespace and the Prometheus RBAC of manifests/prometheus/prometheus.yaml. Labelled as kurator's
// (component prometheus-operator, version = the artifact's).
Result<std::vector<json>> operator_objects(const std::filesystem::path& artifact_dir,
                                           const std::string& version);
// The pinned release through the artifact store (cached after the first fetch).
Result<std::vector<json>> load_operator(artifacts::Store& store, const std::string& version = {});
fleet::Workload operator_workload(std::vector<json> objects);

struct Options {
  std::string version;      // the operator version (labels)
  std::string federate_to;  // member whose Prometheus scrapes the others' /federate ("": none)
  std::string service_type = "LoadBalancer";  // the federation Service: LoadBalancer | NodePort
};

// The Service each member exposes its Prometheus with (federation only).
fleet::Workload expose_workload(const Options& o);

// The federation job for `targets` (the other members' Prometheus addresses) as Prometheus scrape-config
// YAML (a list of one job, honor_labels, /federate, match[] every job).
std::string federate_scrape_config(const std::vector<MemberAddress>& targets);

// The Prometheus `kurator` and the scrape-config Secret, with per-member overrides: cluster=<member>
// for every member; for o.federate_to the scrape config of `targets` and spec.additionalScrapeConfigs.
fleet::Workload prometheus_workload(const Options& o, const std::vector<std::string>& members,
                                    const std::vector<MemberAddress>& targets);

// The status entry: the operator available, the Prometheus `kurator` Reconciled and Available.
Component component();

}  // namespace kurator::components::prometheus

namespace kurator::components::prometheus {

// What install did: one report per workload applied (operator, expose, prometheus), the federation
// targets it wrote.
struct InstallReport {
  std::vector<std::pair<std::string, fleet::ApplyReport>> applied;  // workload component -> report
  std::vector<MemberAddress> targets;
  bool unchanged() const;
};

// Checks the options against the fleet (--federate-to names a member, another member exists to scrape,
// the service type) before anything is applied.
Status check(const Options& o, const std::vector<std::string>& members);
// Everything install would apply, in order (the federation Secret shows the targets known now).
Result<std::vector<fleet::PlannedStep>> plan(fleet::Fleet& fleet, const fleet::Workload& op,
                                             const Options& o);
// Operator first (waited for), then, when federating, the Services (waited for: a LoadBalancer's
// ingress), their addresses, then the Prometheus objects, waited for until Reconciled and Available.
Result<InstallReport> install(fleet::Fleet& fleet, const fleet::Workload& op, const Options& o,
                              const kube::WaitOptions& wait);

struct UninstallReport {
  std::vector<std::pair<std::string, fleet::RemoveReport>> removed;
  // Members where the operator was kept because another kurator component's Prometheus still uses it
  // (`install thanos`), with that component's name.
  std::vector<std::pair<std::string, std::string>> operator_kept;
  bool nothing_found() const;
};
// Removes the Prometheus objects and the Services, then the operator unless a Prometheus of another
// kurator component remains in some member (`also_in_use_by`: component labels to look for).
Result<UninstallReport> uninstall(fleet::Fleet& fleet, const fleet::Workload& op, const Options& o,
                                  std::chrono::milliseconds timeout,
                                  const std::vector<std::string>& also_in_use_by = {"thanos"});

// The operator's workload is shared: which kurator components' Prometheus objects are in `member` (by
// the kurator.dev/component label), other than `except`.
std::vector<std::string> prometheus_users(kube::Client& member, const std::string& except);

}  // namespace kurator::components::prometheus
