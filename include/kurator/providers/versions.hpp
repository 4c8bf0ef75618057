// Default versions of the real Kubernetes (and Karmada) parts the local provider runs. They must equal the
// pins in scripts/versions.env (a unit test compares them), which scripts/build-test-binaries.sh builds into
// ~/.cache/kurator/bin/<component>-<version>/.
#pragma once
#include <string_view>

namespace kurator::providers::versions {
inline constexpr std::string_view kubernetes = "v1.35.4";
inline constexpr std::string_view etcd = "v3.5.21";
inline constexpr std::string_view kwok = "v0.7.0";
inline constexpr std::string_view helm = "v3.19.0";
// Karmada's control-plane binaries (aggregated-apiserver, controller-manager, scheduler, webhook) of the
// local Karmada, from ~/.cache/kurator/bin/karmada-<version>/, and the CRDs artifact (karmada-crds).
inline constexpr std::string_view karmada = "v1.18.2";
}  // namespace kurator::providers::versions
