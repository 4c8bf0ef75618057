// What both fleet modes do on one apiserver: apply with change detection, remove in reverse dependency
// order and wait until gone, probe reachability; and the per-member plumbing (threads, prefixed progress).
#include <kurator/core/readiness.hpp>
#include <kurator/util/cancel.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>

#include "internal.hpp"

namespace kurator::fleet::detail {
namespace {

std::mutex& out_mutex() {
  static std::mutex mu;
  return mu;
}

bool is_gone(const Error& e) {
  return e.http_status == 404 || e.message.find("no kind \"") != std::string::npos;
}

std::string str_at(const json& j, const char* pointer) {
  auto p = json::json_pointer(pointer);
  return j.contains(p) && j.at(p).is_string() ? j.at(p).get<std::string>() : std::string();
}

// Runs fn(i) for i in [0, n) on up to `workers` threads.
void pooled(size_t n, size_t workers, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(n, workers); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

}  // namespace

PrefixedStream::PrefixedStream(std::string prefix, std::ostream* out)
    : std::ostream(nullptr), m_buf(std::move(prefix), out ? out : &std::cerr) {
  rdbuf(&m_buf);
}
PrefixedStream::~PrefixedStream() = default;

PrefixedStream::Buf::~Buf() {
  if (!m_line.empty()) emit();
}
int PrefixedStream::Buf::overflow(int c) {
  if (c == traits_type::eof()) return 0;
  m_line += static_cast<char>(c);
  if (c == '\n') emit();
  return c;
}
std::streamsize PrefixedStream::Buf::xsputn(const char* s, std::streamsize n) {
  for (std::streamsize i = 0; i < n; ++i) overflow(static_cast<unsigned char>(s[i]));
  return n;
}
int PrefixedStream::Buf::sync() {
  return 0;
}  // whole lines only
void PrefixedStream::Buf::emit() {
  if (m_line.back() != '\n') m_line += '\n';
  std::lock_guard lk(out_mutex());
  *m_out << m_prefix << ": " << m_line;
  m_out->flush();
  m_line.clear();
}

void progress_line(const std::string& line) {
  std::lock_guard lk(out_mutex());
  std::cerr << line << '\n';
  std::cerr.flush();
}

void parallel_for(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(fn, i);
  fn(0);
  for (auto& t : threads) t.join();
}

std::string key_of(const json& obj) {
  return kube::describe(obj);
}

Status fill_namespaces(kube::Client& client, std::vector<json>& objs) {
  // Scopes the list's own CRDs declare: "group/Kind" -> namespaced.
  std::map<std::string, bool> crd_scope;
  for (const auto& o : objs) {
    if (o.value("kind", "") != "CustomResourceDefinition") continue;
    crd_scope[str_at(o, "/spec/group") + "/" + str_at(o, "/spec/names/kind")] =
        str_at(o, "/spec/scope") != "Cluster";
  }
  for (auto& o : objs) {
    if (is_namespaced(o)) continue;
    std::string av = o.value("apiVersion", ""), kind = o.value("kind", "");
    auto gvk = kube::GroupVersionKind::from_api_version(av, kind);
    bool namespaced;
    if (auto it = crd_scope.find(gvk.group + "/" + kind); it != crd_scope.end()) {
      namespaced = it->second;
    } else {
      auto info = client.resource_for(gvk);
      if (!info) return Error(info.error()).context(key_of(o) + " (" + av + ") at " + client.config().server);
      namespaced = info->namespaced;
    }
    if (namespaced) o["metadata"]["namespace"] = "default";
  }
  return {};
}

namespace {
// What kurator's own apply last did to an object: its managedFields entry (manager kurator, operation
// Apply: time and field set). A no-op apply leaves it as it was; a write by anyone else (Karmada's status
// aggregation, its detector's labels on resource templates) does not touch it, whereas the
// resourceVersion moves with every such write. ("" when kurator owns no field of it.)
std::string own_apply_entry(const json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return {};
  auto mf = m->find("managedFields");
  if (mf == m->end() || !mf->is_array()) return {};
  for (const auto& e : *mf)
    if (e.value("manager", "") == kube::ApplyOptions{}.field_manager && e.value("operation", "") == "Apply")
      return e.value("time", "") + " " + e.value("fieldsV1", json::object()).dump();
  return {};
}
}  // namespace

Result<AppliedStep> apply_and_report(kube::Client& client, const std::string& target, std::vector<json> objs,
                                     std::chrono::milliseconds crd_timeout) {
  AppliedStep step;
  step.target = target;
  step.server = client.config().server;
  step.objects = objs.size();
  // What is there now: kurator's apply entry before the apply ("" when absent or never applied).
  std::vector<std::string> keys(objs.size()), before(objs.size());
  std::vector<char> existed(objs.size(), 0);
  for (size_t i = 0; i < objs.size(); ++i) keys[i] = key_of(objs[i]);
  pooled(objs.size(), 8, [&](size_t i) {
    const json& o = objs[i];
    auto cur = client.get(o.value("apiVersion", ""), o.value("kind", ""), str_at(o, "/metadata/namespace"),
                          str_at(o, "/metadata/name"));
    if (cur) {
      existed[i] = 1;
      before[i] = own_apply_entry(*cur);
    }
  });
  kube::ApplyAllOptions ao;
  ao.keep_results = true;  // whole objects: their managedFields say whether kurator's apply changed them
  ao.crd_timeout = crd_timeout;
  ao.crds_established_at_end = false;  // the waiter covers them
  auto applied = kube::apply_all(client, std::move(objs), ao);
  if (!applied) return applied.error();
  for (size_t i = 0; i < applied->size(); ++i) {
    // An apply that changed something rewrites kurator's entry (time, or the field set). Within the
    // second of kurator's previous write to the same object a change of values alone could go unseen:
    // then the report says unchanged, never the other way round.
    // An object kurator applies with no field of its own (a bare Namespace) has no entry before or after.
    if (!existed[i] || before[i] != own_apply_entry((*applied)[i])) step.changed.push_back(keys[i]);
  }
  return step;
}

RemoveOutcome delete_objects(kube::Client& client, const std::vector<json>& objs,
                             std::vector<bool>* present) {
  RemoveOutcome out;
  std::vector<int> state(objs.size(), 0);  // 1 deleted, 2 absent, 3 error
  std::vector<std::string> errors(objs.size());
  pooled(objs.size(), 8, [&](size_t i) {
    const json& o = objs[i];
    auto st = client.remove(o.value("apiVersion", ""), o.value("kind", ""), str_at(o, "/metadata/namespace"),
                            str_at(o, "/metadata/name"), "Background", false);
    if (st)
      state[i] = 1;
    else if (is_gone(st.error()))
      state[i] = 2;
    else {
      state[i] = 3;
      errors[i] = st.error().message;
    }
  });
  if (present) present->assign(objs.size(), false);
  for (size_t i = 0; i < objs.size(); ++i) {
    if (state[i] == 1) ++out.deleted;
    if (state[i] == 2) ++out.absent;
    if (state[i] == 3) out.errors.push_back(errors[i]);
    if (present) (*present)[i] = state[i] != 2;
  }
  return out;
}

namespace {
// "Deployment/ns/x (Terminating, finalizers [...])" for an object last seen as `cur`.
std::string gone_state(const json& key_obj, const json& cur) {
  std::string why = cur.is_null() ? "could not be read" : "still present";
  if (!cur.is_null() && !str_at(cur, "/metadata/deletionTimestamp").empty()) {
    why = "Terminating";
    if (cur.contains("/status/conditions"_json_pointer)) {
      for (const auto& c : cur["status"]["conditions"]) {
        if (c.value("status", "") == "True" && !c.value("message", std::string()).empty())
          why += ": " + c.value("message", std::string());
      }
    }
    if (auto f = cur.find("metadata")->find("finalizers"); f != cur["metadata"].end() && !f->empty())
      why += " (finalizers " + f->dump() + ")";
  }
  return key_of(key_obj) + " (" + why + ")";
}
}  // namespace

std::vector<std::string> wait_gone(kube::Client& client, const std::vector<json>& objs,
                                   Clock::time_point deadline, const std::string& where) {
  std::vector<size_t> pending(objs.size());
  for (size_t i = 0; i < objs.size(); ++i) pending[i] = i;
  std::vector<json> last(objs.size());
  const auto t0 = Clock::now();
  auto next_say = t0 + std::chrono::seconds(5);
  while (!pending.empty()) {
    std::vector<bool> gone(objs.size(), false);
    pooled(pending.size(), 8, [&](size_t k) {
      size_t i = pending[k];
      const json& o = objs[i];
      auto cur = client.get(o.value("apiVersion", ""), o.value("kind", ""), str_at(o, "/metadata/namespace"),
                            str_at(o, "/metadata/name"));
      if (!cur && is_gone(cur.error()))
        gone[i] = true;
      else if (cur)
        last[i] = std::move(*cur);
    });
    std::erase_if(pending, [&](size_t i) { return gone[i]; });
    if (pending.empty() || Clock::now() >= deadline || cancel::requested()) break;
    if (!where.empty() && Clock::now() >= next_say) {
      std::vector<std::string> some;
      for (size_t k = 0; k < pending.size() && k < 3; ++k)
        some.push_back(gone_state(objs[pending[k]], last[pending[k]]));
      if (pending.size() > 3) some.push_back(fmt::format("and {} more", pending.size() - 3));
      progress_line(fmt::format("{}: waiting for {} object{} to be gone: {} ({:.0f}s)", where, pending.size(),
                                pending.size() == 1 ? "" : "s", fmt::join(some, ", "),
                                std::chrono::duration<double>(Clock::now() - t0).count()));
      next_say = Clock::now() + std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::vector<std::string> left;
  for (size_t i : pending) left.push_back(gone_state(objs[i], last[i]));
  return left;
}

RemoveOutcome remove_in_order(kube::Client& client, const std::vector<json>& objs, Clock::time_point deadline,
                              const std::string& where) {
  RemoveOutcome total;
  auto levels = kube::dependency_level_indices(objs);
  for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
    std::vector<json> level;
    for (size_t i : *it) level.push_back(objs[i]);
    std::vector<bool> present;
    auto r = delete_objects(client, level, &present);
    total.deleted += r.deleted;
    total.absent += r.absent;
    total.errors.insert(total.errors.end(), r.errors.begin(), r.errors.end());
    std::vector<json> deleted;
    for (size_t i = 0; i < level.size(); ++i)
      if (present[i]) deleted.push_back(std::move(level[i]));
    auto left = wait_gone(client, deleted, deadline, where);
    total.left.insert(total.left.end(), left.begin(), left.end());
  }
  return total;
}

std::string probe(const kubeconfig::RestConfig& cfg, std::chrono::milliseconds timeout) {
  using std::chrono::milliseconds;
  // The HTTP layer retries a failed attempt up to 5 times with backoff (about 3 s in all): each attempt
  // gets what is left of the budget divided among them, so the whole probe ends in about `timeout`.
  auto per_attempt = std::max(milliseconds(300), (timeout - milliseconds(3000)) / 5);
  kube::Client client(cfg);
  auto t0 = Clock::now();
  auto resp = client.request("GET", "/version", {}, {}, {}, per_attempt);
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  if (!resp)
    return fmt::format("no answer from {} after {:.1f}s: {}", cfg.server, took.count() / 1000.0,
                       resp.error().message);
  if (resp->status == 401 || resp->status == 403)
    return fmt::format("{} refused the credentials (HTTP {})", cfg.server, resp->status);
  if (resp->status != 200)
    return fmt::format("{} answered HTTP {} to GET /version", cfg.server, resp->status);
  return {};
}

Status combine(const std::vector<std::string>& names, const std::vector<Status>& results) {
  std::string msg, hint;
  ExitCode code = ExitCode::ok;
  auto rank = [](ExitCode c) {
    return c == ExitCode::interrupted ? 3 : c == ExitCode::timeout ? 2 : c == ExitCode::failure ? 1 : 0;
  };
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i]) continue;
    const Error& e = results[i].error();
    msg += (msg.empty() ? "" : "; ") + names[i] + ": " + e.message;
    if (hint.empty()) hint = e.hint;
    if (rank(e.exit) > rank(code) || code == ExitCode::ok)
      code = rank(e.exit) > 0 ? e.exit : ExitCode::failure;
  }
  if (msg.empty()) return {};
  return Error(msg, code, hint);
}

}  // namespace kurator::fleet::detail
