// Files under manifests/, compiled into the binary (cmake/embed.cmake).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::embedded {
struct File {
  std::string_view path;  // relative to manifests/, e.g. "catalog.yaml"
  std::string_view data;
};
const std::vector<File>& files();
// The file at `path` (relative to manifests/), if embedded.
std::optional<std::string_view> find(std::string_view path);
// Every embedded file whose path starts with `prefix`, in path order.
std::vector<File> under(std::string_view prefix);
}  // namespace kurator::embedded
