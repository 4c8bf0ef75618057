// Per-member values: JSON-patch operations with the semantics of Karmada's plaintext overrider
// (RFC 6902 add / replace / remove on a JSON pointer).
#include <kurator/fleet/fleet.hpp>

#include "internal.hpp"

namespace kurator::fleet {
namespace {

// Splits a JSON pointer into its unescaped tokens; nullopt when it is not one.
std::optional<std::vector<std::string>> tokens_of(const std::string& path) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    if (path[i] == '~') {
      if (i + 1 >= path.size() || (path[i + 1] != '0' && path[i + 1] != '1')) return std::nullopt;
      cur += path[i + 1] == '0' ? '~' : '/';
      ++i;
      continue;
    }
    cur += path[i];
  }
  return out;
}

std::optional<size_t> index_of(const std::string& token) {
  if (token.empty() || token.size() > 9) return std::nullopt;
  if (token.size() > 1 && token[0] == '0') return std::nullopt;
  for (char c : token)
    if (c < '0' || c > '9') return std::nullopt;
  return static_cast<size_t>(std::stoul(token));
}

}  // namespace

Status apply_overrides(json& obj, const std::vector<PatchOp>& ops) {
  for (const auto& op : ops) {
    std::string where = "override of " + kube::describe(obj) + ": " + op.op + " " + op.path;
    if (op.op != "add" && op.op != "replace" && op.op != "remove")
      return Error(where + ": unknown operator \"" + op.op + "\"", ExitCode::failure,
                   "the operator is add, replace or remove (Karmada's plaintext overrider)");
    auto tokens = tokens_of(op.path);
    if (!tokens)
      return Error(where + ": not a JSON pointer", ExitCode::failure,
                   "a path starts with '/' and names keys and array indexes, e.g. /spec/replicas");
    json* parent = &obj;
    std::string walked;
    for (size_t i = 0; i + 1 < tokens->size(); ++i) {
      const std::string& t = (*tokens)[i];
      walked += "/" + t;
      if (parent->is_object()) {
        auto it = parent->find(t);
        if (it == parent->end())
          return Error(where + ": " + walked + " does not exist", ExitCode::failure,
                       "add the parent first, or use a path that exists in the object");
        parent = &*it;
      } else if (parent->is_array()) {
        auto idx = index_of(t);
        if (!idx || *idx >= parent->size())
          return Error(where + ": " + walked + " is not an index of the array (size " +
                           std::to_string(parent->size()) + ")",
                       ExitCode::failure);
        parent = &(*parent)[*idx];
      } else {
        return Error(where + ": " + walked + " is inside a value that is neither an object nor an array",
                     ExitCode::failure);
      }
    }
    const std::string& last = tokens->back();
    std::string parent_path = op.path.substr(0, op.path.rfind('/'));
    if (parent->is_object()) {
      bool exists = parent->contains(last);
      if (op.op == "add") {
        (*parent)[last] = op.value;
      } else if (!exists) {
        return Error(where + ": the path does not exist", ExitCode::failure,
                     op.op == "replace" ? "use add to set a field that is not there" : "");
      } else if (op.op == "replace") {
        (*parent)[last] = op.value;
      } else {
        parent->erase(last);
      }
    } else if (parent->is_array()) {
      if (op.op == "add" && last == "-") {
        parent->push_back(op.value);
        continue;
      }
      auto idx = index_of(last);
      size_t limit = op.op == "add" ? parent->size() + 1 : parent->size();
      if (!idx || *idx >= limit)
        return Error(where + ": " + last + " is not an index of the array at " +
                         (parent_path.empty() ? std::string("/") : parent_path) + " (size " +
                         std::to_string(parent->size()) + ")",
                     ExitCode::failure, op.op == "add" ? "use - to append to an array" : "");
      if (op.op == "add") {
        parent->insert(parent->begin() + static_cast<long>(*idx), op.value);
      } else if (op.op == "replace") {
        (*parent)[*idx] = op.value;
      } else {
        parent->erase(*idx);
      }
    } else {
      return Error(where + ": " + (parent_path.empty() ? std::string("/") : parent_path) +
                       " is neither an object nor an array",
                   ExitCode::failure);
    }
  }
  return {};
}

namespace detail {

Result<std::vector<json>> objects_for(const Workload& w, const std::string& member) {
  std::vector<json> objs = w.objects;
  auto it = w.per_member.find(member);
  if (it == w.per_member.end()) return objs;
  for (const auto& ov : it->second) {
    bool found = false;
    for (auto& o : objs) {
      const json& md = o["metadata"];
      if (o.value("apiVersion", "") == ov.api_version && o.value("kind", "") == ov.kind &&
          md.value("name", "") == ov.name && md.value("namespace", "") == ov.namespace_) {
        KURATOR_TRY(apply_overrides(o, ov.ops));
        found = true;
      }
    }
    if (!found) {
      std::string id = ov.kind + "/" + (ov.namespace_.empty() ? "" : ov.namespace_ + "/") + ov.name;
      return Error("override for member " + member + ": " + id + " (" + ov.api_version +
                       ") is not one of the workload's objects",
                   ExitCode::failure);
    }
  }
  return objs;
}

}  // namespace detail
}  // namespace kurator::fleet
