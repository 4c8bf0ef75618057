// YAML <-> JSON. Kubernetes objects travel as nlohmann::json inside kurator; YAML is only the
// input and output format. Scalars follow the YAML 1.2 core schema (what sigs.k8s.io/yaml does):
// plain true/false/null/numbers become typed values, quoted scalars stay strings.
#pragma once
#include <kurator/util/result.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::yaml {
using json = nlohmann::json;

// Parses every document of a multi-document stream. Empty documents (and `---` alone) are skipped.
// `source` names the input in errors: "deploy.yaml: line 3, column 5: ...".
Result<std::vector<json>> parse_all(std::string_view text, std::string_view source);
// One named input stream of parse_streams.
struct Stream {
  std::string source;  // names the input in errors
  std::string_view text;
};
// Parses several multi-document streams, the documents on up to `threads` threads (0: one per core),
// and returns each stream's documents in order. On errors, the first one in input order is returned,
// so the outcome does not depend on timing.
Result<std::vector<std::vector<json>>> parse_streams(const std::vector<Stream>& streams,
                                                     unsigned threads = 0);
// Parses exactly one document (an empty input yields null).
Result<json> parse_one(std::string_view text, std::string_view source);
// Emits one document as block-style YAML.
std::string dump(const json& value);
// How a reader other than yaml-cpp must see strings: a string (key or value) is written plain only when
// `plain` says so, else double-quoted; empty maps and sequences as {} and [].
struct DumpStyle {
  std::function<bool(const std::string&)> plain;
};
std::string dump(const json& value, const DumpStyle& style);
// Emits documents separated by "---".
std::string dump_all(const std::vector<json>& docs);

}  // namespace kurator::yaml
