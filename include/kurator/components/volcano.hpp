// Volcano (batch scheduling): upstream's pinned release YAML (installer/volcano-development.yaml of the
// `volcano` artifact) as it is, labelled as kurator's, sent through the fleet layer to every chosen member.
#pragma once
#include <kurator/components/component.hpp>
#include <kurator/core/artifacts.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/fleet/fleet.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::components::volcano {
using json = nlohmann::json;

inline constexpr const char* kName = "volcano";
inline constexpr const char* kArtifact = "volcano";                      // catalog name (kind files)
inline constexpr const char* kReleaseFile = "volcano-development.yaml";  // member of the artifact
inline constexpr const char* kNamespace = "volcano-system";
// kurator's labels (component.hpp), under the names this header has always given them.
using components::kComponentLabel;
using components::kManagedByLabel;
using components::kVersionLabel;
// The workloads whose availability "healthy" means.
inline const std::vector<std::string> kDeployments = {"volcano-admission", "volcano-controllers",
                                                      "volcano-scheduler"};

// The release YAML's objects, each labelled kurator.dev/component=volcano, kurator.dev/version=<version>,
// app.kubernetes.io/managed-by=kurator (structured edits; nothing else changes). `source` names the text in
// errors.
Result<std::vector<json>> objects_from(std::string_view yaml_text, const std::string& version,
                                       const std::string& source);
// The pinned release through the artifact store (cached: no network), parsed as objects_from does.
// `version` empty: the catalog's default.
Result<std::vector<json>> load(artifacts::Store& store, const std::string& version = {});
// Without the network: only when the artifact is already cached (nullopt otherwise).
std::optional<Result<std::vector<json>>> load_cached(const artifacts::Store& store,
                                                     const std::string& version = {});

fleet::Workload workload(std::vector<json> objects);

// The version the objects carry (kurator.dev/version), "" when none.
std::string version_of(const std::vector<json>& objects);

// Applies the workload through the fleet and waits for every object to be ready in every member.
Result<fleet::ApplyReport> install(fleet::Fleet& fleet, const fleet::Workload& w,
                                   const kube::WaitOptions& wait);
// Removes everything install made (webhooks first), waiting until it is gone from every member.
Result<fleet::RemoveReport> uninstall(fleet::Fleet& fleet, const fleet::Workload& w,
                                      std::chrono::milliseconds timeout);

// The status entry: its CRDs Established, its Deployments available, version from the kurator.dev/version
// label (the scheduler's image tag when Volcano was installed by something else).
Component component();

}  // namespace kurator::components::volcano
