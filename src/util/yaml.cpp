#include <kurator/util/yaml.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

namespace kurator::yaml {
namespace {

json scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return s;  // quoted or explicit string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex int_re(R"([-+]?[0-9]+)");
  static const std::regex oct_re(R"(0o[0-7]+)");
  static const std::regex hex_re(R"(0x[0-9a-fA-F]+)");
  static const std::regex float_re(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  try {
    if (std::regex_match(s, int_re)) {
      if (s[0] == '-') return std::stoll(s);
      return std::stoull(s[0] == '+' ? s.substr(1) : s);
    }
    if (std::regex_match(s, oct_re)) return std::stoll(s.substr(2), nullptr, 8);
    if (std::regex_match(s, hex_re)) return std::stoll(s.substr(2), nullptr, 16);
    if (std::regex_match(s, float_re)) return std::stod(s);
  } catch (const std::out_of_range&) {
    return s;  // too large for a number: keep the text
  }
  if (s == ".inf" || s == ".Inf" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf") return -std::numeric_limits<double>::infinity();
  return s;
}

json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar_to_json(n);
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : n) arr.push_back(to_json(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : n) {
        std::string key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
        obj[key] = to_json(kv.second);
      }
      return obj;
    }
    default:
      return nullptr;
  }
}

bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  json parsed = scalar_to_json(YAML::Node(s));
  if (!parsed.is_string()) return true;  // would read back as a number/bool/null
  return false;
}

void emit(YAML::Emitter& out, const json& v, const DumpStyle* style) {
  auto string = [&](const std::string& str) {
    if (style) {
      if (style->plain(str))
        out << str;
      else
        out << YAML::DoubleQuoted << str;
    } else if (str.find('\n') != std::string::npos)
      out << YAML::Literal << str;
    else if (needs_quotes(str))
      out << YAML::DoubleQuoted << str;
    else
      out << str;
  };
  switch (v.type()) {
    case json::value_t::object:
      if (style && v.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out << YAML::Key;
        if (style)
          string(it.key());
        else
          out << it.key();
        out << YAML::Value;
        emit(out, it.value(), style);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      if (style && v.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : v) emit(out, item, style);
      out << YAML::EndSeq;
      break;
    case json::value_t::string:
      string(v.get_ref<const std::string&>());
      break;
    case json::value_t::boolean:
      out << (v.get<bool>() ? "true" : "false");
      break;
    case json::value_t::null:
      out << YAML::Null;
      break;
    default:
      out << v.dump();
  }
}

Error parse_error(std::string_view source, const YAML::Exception& e) {
  std::ostringstream m;
  m << source;
  if (!e.mark.is_null()) m << ": line " << e.mark.line + 1 << ", column " << e.mark.column + 1;
  m << ": invalid YAML: " << e.msg;
  return Error(m.str(), ExitCode::failure, "check the indentation and quoting near that line");
}

}  // namespace

namespace {
// One document of a stream and the 0-based line it starts on.
struct Chunk {
  std::string_view text;
  int first_line;
};

// Splits a stream at document markers ("---" or "..." at column 0, alone or followed by a space),
// which YAML never allows inside a document. Parsing one document at a time keeps only one parse
// tree in memory (CRD bundles are megabytes).
std::vector<Chunk> split_documents(std::string_view text) {
  std::vector<Chunk> out;
  size_t start = 0, pos = 0;
  int line = 0, start_line = 0;
  auto is_marker = [&](size_t at, char c) {
    if (text.compare(at, 3, std::string(3, c)) != 0) return false;
    return at + 3 >= text.size() || text[at + 3] == '\n' || text[at + 3] == ' ' || text[at + 3] == '\t' ||
           text[at + 3] == '\r';
  };
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    bool dash = is_marker(pos, '-');
    bool dots = is_marker(pos, '.');
    if (dash || dots) {
      if (pos > start) out.push_back({text.substr(start, pos - start), start_line});
      // "--- value" keeps the rest of the line as document content.
      start = dash ? pos + 3 : eol + 1;
      start_line = line;
      if (start > text.size()) start = text.size();
    }
    if (eol == text.size()) break;
    pos = eol + 1;
    ++line;
  }
  if (start < text.size()) out.push_back({text.substr(start), start_line});
  return out;
}
}  // namespace

namespace {
// One document: its JSON (null when the document is empty) or the parse error.
Result<json> parse_chunk(const Chunk& chunk, std::string_view source) {
  try {
    YAML::Node node = YAML::Load(std::string(chunk.text));
    if (node.IsNull()) return json(nullptr);
    return to_json(node);
  } catch (const YAML::Exception& e) {
    YAML::Exception shifted = e;
    if (!shifted.mark.is_null()) shifted.mark.line += chunk.first_line;
    return parse_error(source, shifted);
  }
}
}  // namespace

Result<std::vector<json>> parse_all(std::string_view text, std::string_view source) {
  std::vector<json> docs;
  for (const auto& chunk : split_documents(text)) {
    auto doc = parse_chunk(chunk, source);
    if (!doc) return doc.error();
    if (!doc->is_null()) docs.push_back(std::move(*doc));
  }
  return docs;
}

Result<std::vector<std::vector<json>>> parse_streams(const std::vector<Stream>& streams, unsigned threads) {
  struct Job {
    size_t stream;
    Chunk chunk;
  };
  std::vector<Job> jobs;
  size_t bytes = 0;
  for (size_t i = 0; i < streams.size(); ++i) {
    for (const auto& c : split_documents(streams[i].text)) jobs.push_back({i, c});
    bytes += streams[i].text.size();
  }
  std::vector<std::optional<Result<json>>> parsed(jobs.size());
  std::atomic<size_t> next{0};
  std::atomic<size_t> first_failed{jobs.size()};
  auto worker = [&] {
    for (size_t k; (k = next.fetch_add(1)) < jobs.size();) {
      if (k > first_failed.load()) return;  // an earlier document already failed
      parsed[k] = parse_chunk(jobs[k].chunk, streams[jobs[k].stream].source);
      if (!*parsed[k]) {
        size_t cur = first_failed.load();
        while (k < cur && !first_failed.compare_exchange_weak(cur, k)) {
        }
      }
    }
  };
  // yaml-cpp needs ~0.25 s per MB; below a few hundred KB threads are not worth starting.
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  size_t n = bytes < 256 * 1024 ? 1 : std::min<size_t>({threads, jobs.size(), 16});
  std::vector<std::thread> pool;
  for (size_t t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (first_failed.load() < jobs.size()) return parsed[first_failed.load()]->error();
  std::vector<std::vector<json>> out(streams.size());
  for (size_t k = 0; k < jobs.size(); ++k)
    if (!(*parsed[k])->is_null()) out[jobs[k].stream].push_back(std::move(**parsed[k]));
  return out;
}

Result<json> parse_one(std::string_view text, std::string_view source) {
  try {
    return to_json(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    return parse_error(source, e);
  }
}

namespace {
std::string dump_with(const json& value, const DumpStyle* style) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  emit(out, value, style);
  std::string s = out.c_str();
  if (s.empty() || s.back() != '\n') s += '\n';
  return s;
}
}  // namespace

std::string dump(const json& value) {
  return dump_with(value, nullptr);
}

std::string dump(const json& value, const DumpStyle& style) {
  return dump_with(value, &style);
}

std::string dump_all(const std::vector<json>& docs) {
  std::string out;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (i > 0) out += "---\n";
    out += dump(docs[i]);
  }
  return out;
}

}  // namespace kurator::yaml
