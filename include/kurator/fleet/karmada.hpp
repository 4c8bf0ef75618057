// Karmada membership, natively over REST with the semantics of karmadactl join/unjoin v1.18.2
// (../shared/notes/karmada-v1.18.2-facts.md), and member clients built from Cluster objects.
#pragma once
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kurator::fleet::karmada {

// $KURATOR_HOME/karmada/karmada-apiserver.config
std::filesystem::path default_kubeconfig(const std::filesystem::path& home);
// Loads the Karmada apiserver's kubeconfig; a missing file is "Karmada is not installed" naming the path
// and the hint `kurator install karmada`.
Result<kubeconfig::RestConfig> load_karmada_config(const std::filesystem::path& karmada_kubeconfig);

struct JoinOptions {
  std::string name;                        // DNS-1123 label, at most 48 characters
  kubeconfig::RestConfig member;           // the member's apiserver as kurator reaches it
  std::string cluster_namespace = "karmada-cluster";
  std::string provider, region;            // Cluster spec.provider / spec.region (optional)
  std::vector<std::string> zones;
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};  // token secrets, Cluster Ready
  bool dry_run = false;
};

struct JoinResult {
  bool already_joined = false;  // same name and id: nothing was done
  std::string cluster_id;       // UID of the member's kube-system Namespace
  std::vector<json> planned;    // with dry_run: what would be created where (secrets redacted)
};

Result<JoinResult> join(kube::Client& karmada, const JoinOptions& opts);

struct UnjoinOptions {
  std::string name;
  std::optional<kubeconfig::RestConfig> member;  // when given, the member side is removed too
  std::string cluster_namespace = "karmada-cluster";
  std::chrono::milliseconds timeout{std::chrono::minutes(1)};  // Karmada's finalizer
  bool force = false;  // strip the Cluster's finalizers when the timeout passes
};
Status unjoin(kube::Client& karmada, const UnjoinOptions& opts);

// A joined member as `get clusters` shows it.
struct MemberInfo {
  std::string name, id, api_endpoint, kubernetes_version;
  std::string sync_mode;  // Push | Pull
  std::string ready;      // "True" | "False" | "Unknown"
  std::string reason;     // the Ready condition's reason; "reason: message" when not True
};
Result<std::vector<MemberInfo>> list_members(kube::Client& karmada);

// A client configuration for member `name` built from its Cluster object (spec.apiEndpoint,
// insecureSkipTLSVerification, proxyURL) and the Secret it references (token, caBundle).
Result<kubeconfig::RestConfig> member_config(kube::Client& karmada, const std::string& name);

}  // namespace kurator::fleet::karmada
