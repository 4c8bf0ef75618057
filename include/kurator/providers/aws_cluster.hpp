// The aws provider's operations on a management cluster: create (providers ensured as `clusterctl init`
// does, the cluster objects applied, the tree followed until the Cluster is Available, the kubeconfig
// fetched, the CNI applied and the nodes waited for), describe, scale, upgrade and delete.
//
// State of cluster NAME lives in $KURATOR_HOME/clusters/NAME/:
//   aws.json      the record: namespace, the management cluster's kubeconfig path and context (never its
//                 contents), the machine templates' current suffix, the last operation and its result
//   cluster.yaml  the cluster's settings (kind AwsCluster) as last applied; scale and upgrade start from it
//   kubeconfig    the workload cluster's admin kubeconfig (0600)
#pragma once
#include <kurator/core/artifacts.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/providers/aws.hpp>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace kurator::providers::aws {

inline constexpr std::string_view kStateFile = "aws.json";

struct Options {
  stdfs::path home;                        // $KURATOR_HOME
  artifacts::Store* store = nullptr;       // may be null on a dry run
  kubeconfig::LoadOptions management;      // --kubeconfig / --context; empty: the recorded ones, else kubectl's
  EnvLookup env;                           // the environment (credentials, AWS_* variables)
  bool dry_run = false;
  std::chrono::milliseconds wait_timeout{600000};
  bool tty = false;
  std::ostream* progress = nullptr;  // default std::cerr
  std::ostream* out = nullptr;       // results and dry-run plans; default std::cout
};

// True when $KURATOR_HOME/clusters/NAME holds an aws record.
bool is_aws_cluster(const stdfs::path& home, const std::string& name);

Status create(const AwsClusterConfig& cfg, const Options& o);
// Scales the control plane and/or the workers (re-renders the objects with the new counts and applies them).
Status scale(const std::string& name, std::optional<int> workers, std::optional<int> control_plane,
             const Options& o);
// One minor version at a time, never down: new AWSMachineTemplates and the KCP's version first, then the
// workers' template and version.
Status upgrade(const std::string& name, const std::string& version, const Options& o);
// Deletes the Cluster and follows the teardown until every object of it is gone; then forgets it.
Status remove(const std::string& name, const Options& o);
// Prints the tree.
Status describe(const std::string& name, const Options& o);
// The workload cluster's kubeconfig as written by create.
Result<std::string> kubeconfig(const stdfs::path& home, const std::string& name);

struct ClusterInfo {
  std::string name, namespace_, phase, version, control_plane, workers;  // "ready/desired"
  std::string management;  // the management cluster's server
  std::string problem;     // why it could not be read
  stdfs::path kubeconfig;
};
// Every recorded aws cluster, read from its management cluster (unreachable ones say so in `problem`).
std::vector<ClusterInfo> list_clusters(const Options& o);

}  // namespace kurator::providers::aws
