// Karmada membership, natively over REST with the semantics of karmadactl join/unjoin v1.18.2
// (../shared/notes/karmada-v1.18.2-facts.md), and member clients built from Cluster objects.
#pragma once
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <map>
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
  // Each of the member and Karmada must answer within this, or join fails at once naming it.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  bool dry_run = false;
};

// One step of a join or unjoin as --dry-run shows it.
struct PlannedAction {
  std::string target;  // "member" | "karmada"
  std::string server;  // that apiserver's URL
  std::string action;  // "apply" | "create" | "patch" | "delete" | "wait"
  json object;         // the object (secrets redacted); for delete/wait only its identity
};

struct JoinResult {
  bool already_joined = false;  // same name and id: nothing was done (but see `repaired`)
  std::string cluster_id;       // UID of the member's kube-system Namespace
  std::string api_endpoint;
  std::vector<std::string> repaired;  // already joined, but these pieces were missing and re-made
  std::string ready, reason;          // the Cluster's Ready condition at the end
  std::vector<PlannedAction> planned;  // with dry_run: what would be done where (secrets redacted)
};

// Joins the member to Karmada: member side (namespace, service accounts, RBAC, token secrets waited
// for), Karmada side (secrets, Cluster, owner references), then waits until the Cluster is Ready.
// Bad input and conflicts fail before anything is changed; when the member's token controller never
// fills the token secrets, what this call made on the member is removed again.
Result<JoinResult> join(kube::Client& karmada, const JoinOptions& opts);

struct UnjoinOptions {
  std::string name;
  std::optional<kubeconfig::RestConfig> member;  // when given, the member side is removed too
  std::string cluster_namespace = "karmada-cluster";
  std::chrono::milliseconds timeout{std::chrono::minutes(1)};  // Karmada's finalizer
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  bool force = false;             // strip the Cluster's finalizers when the timeout passes
  bool ignore_not_found = false;  // an unknown name is a no-op instead of an error (kubectl delete)
  bool dry_run = false;
};

struct UnjoinResult {
  bool not_found = false;      // no such Cluster (only with ignore_not_found)
  bool forced = false;         // the finalizers were stripped
  bool member_cleaned = false;  // the member side was removed (opts.member given)
  std::vector<PlannedAction> planned;  // with dry_run
};
// Deletes the Cluster (refusing Pull-mode clusters), waits for Karmada's finalizer (it removes the
// execution namespace karmada-es-<name>), removes the Cluster's secrets, and with opts.member the
// member side (ClusterRoleBinding, ClusterRole, ServiceAccount, namespace). An unknown name is an error
// naming the joined clusters, as for `kubectl delete`, unless ignore_not_found.
Result<UnjoinResult> unjoin(kube::Client& karmada, const UnjoinOptions& opts);

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

// One GET /version (and one retry) within about `connect_timeout`: an unreachable apiserver fails at once
// ("<who> at URL is unreachable …" with `hint`), not after the REST client's retries; rejected
// credentials fail too. Any other answer counts as reachable.
Status check_reachable(const kubeconfig::RestConfig& cfg, std::chrono::milliseconds connect_timeout,
                       const std::string& who, const std::string& hint = {});

// Building blocks of join and unjoin (pure; unit-tested).
namespace names {
inline constexpr const char* impersonator_sa = "karmada-impersonator";
// karmada-<name>: the member's ServiceAccount Karmada acts as.
std::string service_account(const std::string& name);
// karmada-controller-manager:karmada-<name>: the member's ClusterRole and ClusterRoleBinding.
std::string rbac(const std::string& name);
// <name>-impersonator: the Karmada-side Secret holding the impersonator's token.
std::string impersonator_secret(const std::string& name);
// karmada-es-<name>: Karmada's execution namespace for the member.
std::string execution_namespace(const std::string& name);
}  // namespace names

// Ok when `name` is a DNS-1123 label of at most 48 characters; otherwise a usage error naming it.
Status validate_name(const std::string& name);
// The member-side objects of a join, in dependency order: Namespace, ServiceAccounts (impersonator,
// karmada-<name>), ClusterRole, ClusterRoleBinding, one token Secret per ServiceAccount.
std::vector<json> member_objects(const std::string& name, const std::string& cluster_namespace);
// A Karmada-side Secret: `data` values are already base64 (as read from the member's token Secret).
json karmada_secret(const std::string& name, const std::string& cluster_namespace,
                    const std::map<std::string, std::string>& data);
// The Cluster object (Push mode) for a member with the given id.
json cluster_object(const JoinOptions& opts, const std::string& id);
// A copy with every Secret value (data, stringData) replaced by "<redacted>", except the public CA
// (caBundle, ca.crt).
json redacted(const json& obj);

}  // namespace kurator::fleet::karmada
