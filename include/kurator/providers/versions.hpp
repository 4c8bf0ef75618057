// Default versions of the real Kubernetes parts the local provider runs. They must equal the pins in
// scripts/versions.env (a unit test compares them), which scripts/build-test-binaries.sh builds into
// ~/.cache/kurator/bin/<component>-<version>/.
#pragma once
#include <string_view>

namespace kurator::providers::versions {
inline constexpr std::string_view kubernetes = "v1.35.4";
inline constexpr std::string_view etcd = "v3.5.21";
inline constexpr std::string_view kwok = "v0.7.0";
inline constexpr std::string_view helm = "v3.19.0";
}  // namespace kurator::providers::versions
