// Reading Kubernetes manifests: files, directories (*.yaml, *.yml, *.json, sorted) and "-" (stdin).
#pragma once
#include <kurator/util/result.hpp>

#include <istream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kurator::kube {

struct Manifest {
  std::string source;  // file path or "<stdin>"
  std::vector<nlohmann::json> objects;
};

// Reads and validates every document. Errors name the file, the line (YAML errors) or the document
// index and field (missing apiVersion/kind/metadata.name).
Result<std::vector<nlohmann::json>> read_manifests(const std::vector<std::string>& paths, std::istream& stdin_stream);

}  // namespace kurator::kube
