// Pixie (eBPF observability): the pinned Pixie operator chart (artifact `pixie-operator`), prepared the way
// upstream's release script (ci/operator_helm_build_release.sh) prepares it, rendered by the real `helm`
// (artifact `helm`, `helm template --include-crds`, through the process runner), and sent through the fleet
// layer: the same objects for every member, the Vizier's spec.clusterName per member as an override.
//
// The deploy key lives only in a Secret kurator makes (`customDeployKeySecret`, key `deploy-key`): never on
// a command line, in the values file or in a log line; --dry-run shows the Secret's data redacted.
// helm's pre-delete hooks (the vizier-deleter and csv-deleter Jobs) are not applied: uninstall does what
// they do itself (delete the Vizier first, then the operator's ClusterServiceVersions, then the rest).
#pragma once
#include <kurator/components/component.hpp>
#include <kurator/core/artifacts.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/core/process.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::components::pixie {
using json = nlohmann::json;

inline constexpr const char* kName = "pixie";
inline constexpr const char* kArtifact = "pixie-operator";  // catalog name (kind files)
inline constexpr const char* kHelmArtifact = "helm";
inline constexpr const char* kNamespace = "pl";      // the release namespace (px deploy's)
inline constexpr const char* kVizierName = "pixie";  // values.yaml `name`
inline constexpr const char* kVizierCrd = "viziers.px.dev";
inline constexpr const char* kDeployKeySecret = "pixie-deploy-key";  // customDeployKeySecret (kurator's)
inline constexpr const char* kDeployKeyField = "deploy-key";
inline constexpr const char* kDefaultCloudAddr = "withpixie.ai:443";  // values.yaml `cloudAddr`
inline constexpr const char* kPlaceholder = "HELM_DEPLOY_OLM_PLACEHOLDER";
inline constexpr const char* kComponentLabel = "kurator.dev/component";
inline constexpr const char* kVersionLabel = "kurator.dev/version";
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";

// ---- chart preparation (ci/operator_helm_build_release.sh, on a copy) ----

// The text GNU sed's `c` command inserts for `text` (backslash-newline and `\n` become newlines, `\\` a
// backslash, other `\x` become x): the release script inserts olm_template_checks.tmpl through `sed -i
// "...c${helm_tmpl_checks}"`, so the file is written with sed escapes.
std::string sed_change_text(std::string_view text);

// Copies <artifact>/operator-chart to `out` (which must not exist) and there: writes Chart.yaml (apiVersion
// v2, name pixie-operator-chart, type application, version `chart_version` without a leading v), copies
// <artifact>/crds/px.dev_viziers.yaml to crds/vizier_crd.yaml, and replaces every line of templates/*
// containing HELM_DEPLOY_OLM_PLACEHOLDER with olm_template_checks.tmpl's text. Errors name the file.
Status prepare_chart(const std::filesystem::path& artifact_dir, const std::filesystem::path& out,
                     const std::string& chart_version);

// ---- deploy key ----

// Pixie deploy keys are "px-dep-" followed by a UUID: pixie-io/pixie src/cloud/vzmgr/deploymentkey/
// deployment_key.go, `deployKeyPrefix = "px-dep-"`, `key := deployKeyPrefix + keyID.String()` (a uuid.NewV4).
// ok, or one line naming `source` (never the key): empty, too short, malformed.
Status check_deploy_key(std::string_view key, const std::string& source);
// The key from `file` (when non-empty; surrounding whitespace trimmed) else from `env_value`
// (PX_DEPLOY_KEY), checked. Neither: one error line with a hint.
Result<std::string> read_deploy_key(const std::string& file, const std::string& env_value);

// ---- OLM in a member ----

struct Olm {
  bool present = false;  // an OLM kurator did not install is there: deployOLM false, its namespaces
  std::string olm_namespace = "olm";
  std::string operator_namespace = "px-operator";
};
// From the OperatorGroups of a member (list JSON; null when the CRD operatorgroups.operators.coreos.com
// is missing): OperatorGroups not labelled kurator.dev/component=pixie mean an OLM is present; its
// namespaces: the one holding `olm-operators` (else the first), and the one holding `global-operators`
// (else the first other one).
Olm olm_from(const json& operator_groups);
Result<Olm> detect_olm(kube::Client& member);

// ---- values and rendering ----

struct Settings {
  std::string cloud_addr = kDefaultCloudAddr;
  std::string cluster_name;  // the first member's (the others get an override)
  Olm olm;
};
// The values file: deployOLM always explicit ("true"/"false"), customDeployKeySecret, clusterName, the
// namespaces. No deploy key.
json values(const Settings& s);

// helm template pixie <chart> --namespace pl --include-crds -f <values file (0600, removed afterwards)>
// through `runner`, with HELM_*_HOME in a temporary folder. Returns the parsed documents.
Result<std::vector<json>> helm_template(process::Runner& runner, const std::filesystem::path& helm,
                                        const std::filesystem::path& chart_dir, const json& values);

// The rendered documents as kurator applies them: helm hooks dropped, the release namespace filled in on
// namespaced objects without one, the OLM CRDs dropped when an OLM is present, plus the Namespace pl and
// the deploy-key Secret (data base64), all labelled as kurator's with `version`.
std::vector<json> objects_from(std::vector<json> rendered, const std::string& deploy_key, const Olm& olm,
                               const std::string& version);

// The workload: objects for every member, and per member an override of the Vizier's spec.clusterName.
fleet::Workload workload(std::vector<json> objects, const std::vector<std::string>& members);

// Everything: resolves the artifacts (helm, pixie-operator) through the store, prepares the chart in a
// temporary folder, detects OLM in every member (members that differ: an error naming them), renders,
// builds the workload. `deploy_key` empty: a placeholder (uninstall only needs the identities).
struct Prepared {
  fleet::Workload workload;
  std::string version;
  Olm olm;
};
Result<Prepared> prepare(artifacts::Store& store, process::Runner& runner, fleet::Fleet& fleet,
                         const std::string& deploy_key, const std::string& cloud_addr);

// ---- preflight (px deploy --check: src/pixie_cli/pkg/utils/checks.go) ----

inline constexpr const char* kMinKernel = "4.14.0";
inline constexpr const char* kMinKubernetes = "1.16.0";
// "6.18.44-fc" >= "4.14.0": leading numeric components compared; false when `v` has none.
bool version_at_least(std::string_view v, std::string_view min);
struct Problem {
  std::string member, check, detail;
};
// The kernel and cluster-type checks on a Node list (JSON) of `member`.
std::vector<Problem> node_problems(const std::string& member, const json& nodes);
// All checks in every member (in parallel): kernel >= 4.14.0 on every node, Kubernetes >= 1.16, not a
// kind / docker-desktop cluster, permission to create namespaces (SelfSubjectAccessReview).
std::vector<Problem> preflight(fleet::Fleet& fleet);

// ---- install / uninstall ----

// Applies through the fleet, waits for every object (fleet wait_ready: OLM's Deployments, the
// CatalogSource, …), then for the Vizier in every member: status.vizierPhase Healthy with
// reconciliationPhase Ready (progress on stderr; on timeout its phase, reason and message per member).
Result<fleet::ApplyReport> install(fleet::Fleet& fleet, const fleet::Workload& w,
                                   const kube::WaitOptions& wait);
Status wait_vizier_healthy(fleet::Fleet& fleet, const kube::WaitOptions& wait);

struct UninstallReport {
  fleet::RemoveReport removed;
  // Namespaces left Terminating (tolerated): "member: px-operator (finalizers: kubernetes)".
  std::vector<std::string> terminating;
};
// Deletes the Vizier in every member first (direct mode; what helm's vizier-deleter hook does) and the
// operator's ClusterServiceVersions (csv-deleter), then everything else through the fleet. A namespace
// stuck Terminating is reported, not an error; anything else left is.
Result<UninstallReport> uninstall(fleet::Fleet& fleet, const fleet::Workload& w, const Olm& olm,
                                  std::chrono::milliseconds timeout);

// The status entry: installed = the Vizier pl/pixie (or the Namespace pl labelled as kurator's) exists;
// healthy = Vizier Healthy; version from the kurator.dev/version label.
Component component();

}  // namespace kurator::components::pixie
