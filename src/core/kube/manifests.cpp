#include <kurator/core/kube.hpp>
#include <kurator/core/manifests.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace kurator::kube {
namespace stdfs = std::filesystem;

Result<std::vector<nlohmann::json>> read_manifests(const std::vector<std::string>& paths, std::istream& in) {
  if (paths.empty()) return Error("no manifests given", ExitCode::usage, "pass -f FILE, -f DIR or -f -");
  // Read every input first, then parse all their documents at once (on every core: yaml-cpp is the
  // slow part of applying large CRD bundles).
  std::vector<std::pair<std::string, std::string>> inputs;  // source, text
  auto read = [&](const stdfs::path& file) -> Status {
    auto text = fs::read_file(file);
    if (!text) return Error(text.error().message, ExitCode::failure, "check the path given to -f");
    inputs.emplace_back(file.string(), std::move(*text));
    return {};
  };
  for (const auto& p : paths) {
    if (p == "-") {
      std::ostringstream ss;
      ss << in.rdbuf();
      inputs.emplace_back("<stdin>", ss.str());
      continue;
    }
    std::error_code ec;
    if (stdfs::is_directory(p, ec)) {
      std::vector<stdfs::path> files;
      for (const auto& e : stdfs::directory_iterator(p, ec)) {
        auto ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(e.path());
      }
      if (ec) return Error(p + ": " + ec.message());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) KURATOR_TRY(read(f));
      continue;
    }
    KURATOR_TRY(read(p));
  }
  std::vector<yaml::Stream> streams;
  for (const auto& [source, text] : inputs) streams.push_back({source, text});
  auto parsed = yaml::parse_streams(streams);
  if (!parsed) return parsed.error();
  std::vector<nlohmann::json> out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    KURATOR_TRY(validate_objects((*parsed)[i], inputs[i].first));
    for (auto& d : (*parsed)[i]) out.push_back(std::move(d));
  }
  if (out.empty()) return Error("no objects found in " + paths.front(), ExitCode::failure, "the input has no YAML documents");
  return out;
}

}  // namespace kurator::kube
