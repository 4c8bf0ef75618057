#include <kurator/util/embedded.hpp>

#include <algorithm>

namespace kurator::embedded {
std::optional<std::string_view> find(std::string_view path) {
  for (const auto& f : files())
    if (f.path == path) return f.data;
  return std::nullopt;
}

std::vector<File> under(std::string_view prefix) {
  std::vector<File> out;
  for (const auto& f : files())
    if (f.path.substr(0, prefix.size()) == prefix) out.push_back(f);
  std::sort(out.begin(), out.end(), [](const File& a, const File& b) { return a.path < b.path; });
  return out;
}
}  // namespace kurator::embedded
