// The aws provider's machine-free parts: the user's settings (flags, or `-f cluster.yaml` of kind
// AwsCluster, flags overriding the file) and their checks, AWS credentials read the way the AWS SDK's
// default chain reads them and encoded as `clusterawsadm bootstrap credentials encode-as-profile` does,
// and the cluster objects rendered from CAPA v2.11.1's own `templates/cluster-template.yaml` (what
// `clusterctl generate cluster` does: its `${VAR}`s, then structured edits for kurator's settings).
#pragma once
#include <kurator/util/result.hpp>

#include <cstddef>
#include <array>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::providers::aws {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

inline constexpr std::string_view kApiVersion = "kurator.dev/v1alpha1";
inline constexpr std::string_view kKind = "AwsCluster";
// The pinned Cluster API and CAPA releases (manifests/catalog.yaml pins the same).
inline constexpr std::string_view kClusterApiVersion = "v1.14.0";
inline constexpr std::string_view kCapaVersion = "v2.11.1";
inline constexpr std::string_view kCertManagerVersion = "v1.21.1";

struct AwsClusterConfig {
  stdfs::path source;  // the -f file ("" when only flags were given); names it in errors
  std::string name;
  std::string namespace_ = "default";
  std::string region;
  std::string ssh_key_name;
  std::string kubernetes_version;  // "vX.Y.Z"; default: kDefaultKubernetesVersion (aws.cpp)
  int control_plane_count = 1;
  std::string control_plane_machine_type = "t3.large";
  int worker_count = 1;
  std::string worker_machine_type = "t3.large";
  std::string pod_cidr = "192.168.0.0/16";
  std::string service_cidr = "10.96.0.0/12";
  std::string cni = "calico";  // calico | none
  std::string ami_id;          // optional; without it CAPA looks up its own published AMI
};

// Flags given on the command line; each set one overrides the file's value. Errors name them as
// --namespace, --region, --ssh-key-name, --kubernetes-version, --control-plane-count,
// --control-plane-machine-type, --worker-count, --worker-machine-type, --pod-cidr, --service-cidr, --cni
// and --ami-id; the file's fields are metadata.name and spec.{namespace, region, sshKeyName,
// kubernetesVersion, controlPlane.{count, machineType}, workers.{count, machineType},
// network.{podCIDR, serviceCIDR, cni}, amiID}.
struct ConfigFlags {
  std::optional<std::string> namespace_, region, ssh_key_name, kubernetes_version, control_plane_machine_type,
      worker_machine_type, pod_cidr, service_cidr, cni, ami_id;
  std::optional<int> control_plane_count, worker_count;
};

// The default Kubernetes version of a new cluster, and the range the pinned CAPI/KCP accept.
std::string default_kubernetes_version();
// "1.35.4" or "v1.35.4" -> {major, minor, patch}; nullopt for anything else.
std::optional<std::array<int, 3>> parse_kubernetes_version(const std::string& s);
// Workload-cluster minors Cluster API v1.14 supports: v1.31 to v1.36 (cluster-api v1.14.0,
// docs/book/src/reference/versions.md; the kubeadm bootstrap and control-plane providers follow the core's).
inline constexpr int kMinKubernetesMinor = 31;
inline constexpr int kMaxKubernetesMinor = 36;
// The longest cluster name: the template's MachineDeployment "<name>-md-0" must be a label value of at
// most 63 characters (cluster-api v1.14.0 core/webhooks/admission/machinedeployment.go; the Cluster's own
// name too, core/webhooks/admission/cluster.go). CAPA hashes longer load-balancer names itself.
inline constexpr std::size_t kMaxClusterNameLength = 58;
// A cluster name given on the command line: a lower-case DNS label of at most kMaxClusterNameLength
// characters ("cluster name: ..." errors, exit code usage).
Status check_cluster_name(const std::string& name);

// Reads `file` (may be empty: flags only), applies the flags, fills defaults and checks everything.
// Every error is one line naming the file and field, or the flag ("--control-plane-count: 2 is even; …"),
// with a hint; bad flags exit with usage, a bad file with failure. Nothing is read but the file.
Result<AwsClusterConfig> load_config(const std::string& name, const stdfs::path& file, const ConfigFlags& flags);
// The settings as a config file load_config reads back to the same values (kurator records it per cluster).
std::string config_yaml(const AwsClusterConfig& cfg);
// The commented sample `--print-config` writes (loads back to the defaults with region/ssh key set).
std::string sample_config(const std::string& name);

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional
  std::string region;
  std::string source;  // where they came from, for messages ("environment", "profile default in ~/.aws/credentials")
};
// The environment as a lookup (tests pass their own).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// The AWS SDK's order: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY(/AWS_SESSION_TOKEN) in the environment, else the
// profile AWS_PROFILE (default "default") of AWS_SHARED_CREDENTIALS_FILE (default `home`/.aws/credentials),
// region from `region` (the cluster's), else AWS_REGION, DEFAULT_AWS_REGION, else us-east-1 (clusterawsadm).
// Errors never contain a secret value.
Result<Credentials> load_credentials(const EnvLookup& env, const stdfs::path& home, const std::string& region);
// base64 (standard) of the profile text `clusterawsadm bootstrap credentials encode-as-profile` prints.
std::string encode_as_profile(const Credentials& c);

// The cluster objects for `cfg` from CAPA's cluster-template.yaml text (`source` names it in errors):
// clusterctl's variables substituted, every namespaced object in cfg.namespace_, then kurator's edits
// (pod and service CIDRs, AMI id, labels kurator.dev/cluster=<name>). API versions stay the template's.
Result<std::vector<json>> render_cluster(const AwsClusterConfig& cfg, std::string_view template_text,
                                         std::string_view source);

}  // namespace kurator::providers::aws
