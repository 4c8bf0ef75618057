#include <kurator/core/kube.hpp>
#include <kurator/core/manifests.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace kurator::kube {
namespace stdfs = std::filesystem;

namespace {
Status read_one(const std::string& source, const std::string& text, std::vector<nlohmann::json>& out) {
  auto docs = yaml::parse_all(text, source);
  if (!docs) return docs.error();
  KURATOR_TRY(validate_objects(*docs, source));
  for (auto& d : *docs) out.push_back(std::move(d));
  return {};
}
}  // namespace

Result<std::vector<nlohmann::json>> read_manifests(const std::vector<std::string>& paths, std::istream& in) {
  std::vector<nlohmann::json> out;
  if (paths.empty()) return Error("no manifests given", ExitCode::usage, "pass -f FILE, -f DIR or -f -");
  for (const auto& p : paths) {
    if (p == "-") {
      std::ostringstream ss;
      ss << in.rdbuf();
      KURATOR_TRY(read_one("<stdin>", ss.str(), out));
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
      for (const auto& f : files) {
        auto text = fs::read_file(f);
        if (!text) return Error(text.error().message, ExitCode::failure, "check the path given to -f");
        KURATOR_TRY(read_one(f.string(), *text, out));
      }
      continue;
    }
    auto text = fs::read_file(p);
    if (!text) return Error(text.error().message, ExitCode::failure, "check the path given to -f");
    KURATOR_TRY(read_one(p, *text, out));
  }
  if (out.empty()) return Error("no objects found in " + paths.front(), ExitCode::failure, "the input has no YAML documents");
  return out;
}

}  // namespace kurator::kube
