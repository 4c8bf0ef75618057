// Karmada membership natively over REST (karmadactl join/unjoin v1.18.2 semantics), member clients
// from Cluster objects, and the list of joined members.
#include <kurator/core/http.hpp>
#include <kurator/fleet/karmada.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/fs.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <regex>
#include <thread>

namespace kurator::fleet::karmada {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kClusterApi = "cluster.karmada.io/v1alpha1";
constexpr const char* kFinalizer = "karmada.io/cluster-controller";
constexpr const char* kRedacted = "<redacted>";

std::string str_at(const json& j, const char* pointer) {
  auto p = json::json_pointer(pointer);
  if (!j.contains(p) || !j.at(p).is_string()) return {};
  return j.at(p).get<std::string>();
}

std::string seconds_text(milliseconds d) { return fmt::format("{:.1f}s", static_cast<double>(d.count()) / 1000.0); }

// The Ready condition of a Cluster (status, reason, message); status "Unknown" when absent.
struct Condition {
  std::string status = "Unknown", reason, message;
  bool present = false;
};
Condition ready_condition(const json& cluster) {
  Condition c;
  auto p = json::json_pointer("/status/conditions");
  if (!cluster.contains(p) || !cluster.at(p).is_array()) return c;
  for (const auto& cond : cluster.at(p)) {
    if (cond.value("type", "") != "Ready") continue;
    c.present = true;
    c.status = cond.value("status", "Unknown");
    c.reason = cond.value("reason", "");
    c.message = cond.value("message", "");
  }
  return c;
}
std::string condition_text(const Condition& c) {
  if (!c.present) return "no Ready condition yet";
  std::string why = c.message.empty() ? c.reason : (c.reason.empty() ? c.message : c.reason + ": " + c.message);
  return "Ready=" + c.status + (why.empty() ? "" : " (" + why + ")");
}
// Every condition of a Cluster, for timeout messages.
std::string conditions_text(const json& cluster) {
  auto p = json::json_pointer("/status/conditions");
  if (!cluster.contains(p) || !cluster.at(p).is_array() || cluster.at(p).empty()) return "no conditions yet";
  std::string out;
  for (const auto& cond : cluster.at(p)) {
    std::string one = cond.value("type", "?") + "=" + cond.value("status", "?");
    std::string reason = cond.value("reason", ""), message = cond.value("message", "");
    if (!reason.empty() || !message.empty())
      one += " (" + reason + (reason.empty() || message.empty() ? "" : ": ") + message + ")";
    out += (out.empty() ? "" : "; ") + one;
  }
  return out;
}

// Adds "Karmada at URL" to errors of calls to the Karmada apiserver.
Error karmada_error(const kube::Client& karmada, Error e) {
  if (e.hint.empty() && e.message.find("no kind \"Cluster\"") != std::string::npos)
    e.hint = "the Karmada aggregated apiserver (which serves cluster.karmada.io) is not answering; check "
             "`kurator get clusters`, or reinstall with `kurator install karmada`";
  return e.context("Karmada at " + karmada.config().server);
}
Error member_error(const kube::Client& member, Error e) {
  return e.context("member cluster at " + member.config().server);
}

// Elapsed-time progress lines on stderr ("[  1.2s] what: state"), one at a time.
class Progress {
 public:
  Progress() : m_start(Clock::now()) {}
  void say(const std::string& what, const std::string& state) {
    std::lock_guard<std::mutex> g(m_mu);
    spdlog::info("[{:>5.1f}s] {}: {}", seconds(), what, state);
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - m_start).count(); }
  milliseconds elapsed() const { return std::chrono::duration_cast<milliseconds>(Clock::now() - m_start); }

 private:
  Clock::time_point m_start;
  std::mutex m_mu;
};

// Runs the functions concurrently (the first on the calling thread); returns the first error in
// input order.
Status parallel(const std::vector<std::function<Status()>>& fns) {
  std::vector<std::future<Status>> futures;
  for (size_t i = 1; i < fns.size(); ++i) futures.push_back(std::async(std::launch::async, fns[i]));
  std::vector<Status> results;
  results.push_back(fns.empty() ? Status{} : fns[0]());
  for (auto& f : futures) results.push_back(f.get());
  for (auto& r : results)
    if (!r) return r;
  return {};
}

}  // namespace

Status check_reachable(const kubeconfig::RestConfig& cfg, milliseconds connect_timeout, const std::string& who,
             const std::string& hint) {
  std::string server = cfg.server;
  while (!server.empty() && server.back() == '/') server.pop_back();
  if (server.empty()) return Error(who + ": the kubeconfig has no server address", ExitCode::failure, hint);
  http::Request req;
  req.url = server + "/version";
  req.tls = cfg.tls;
  req.proxy = cfg.proxy_url;
  req.connect_timeout = std::max(milliseconds(500), connect_timeout / 2);
  req.timeout = req.connect_timeout + std::chrono::seconds(5);
  req.headers.emplace_back("Accept", "application/json");
  req.headers.emplace_back("User-Agent", "kurator");
  kubeconfig::CredentialProvider creds(cfg);
  auto auth = creds.authorization(req.tls);
  if (!auth) return auth.error();
  if (!auth->empty()) req.headers.emplace_back("Authorization", *auth);
  http::RetryPolicy once;
  once.max_attempts = 2;
  once.initial_backoff = milliseconds(300);
  auto t0 = Clock::now();
  auto resp = http::default_client().perform_with_retry(req, once);
  if (!resp) {
    if (resp.error().exit == ExitCode::interrupted) return resp.error();
    return Error(fmt::format("{} at {} is unreachable (no answer after {}): {}", who, server,
                             seconds_text(std::chrono::duration_cast<milliseconds>(Clock::now() - t0)),
                             resp.error().message),
                 ExitCode::failure, hint);
  }
  if (resp->status == 401 || resp->status == 403)
    return Error(fmt::format("{} at {} refused the kubeconfig's credentials (HTTP {})", who, server, resp->status),
                 ExitCode::failure, "check the user's token or client certificate in that kubeconfig");
  return {};
}

namespace {

// Merge-patches an object (metadata only here: owner references, finalizers).
Status merge_patch(kube::Client& c, const std::string& api_version, const std::string& kind, const std::string& ns,
                   const std::string& name, const json& patch) {
  auto path = c.path_for(kube::GroupVersionKind::from_api_version(api_version, kind), ns, name);
  if (!path) return path.error();
  auto resp = c.request("PATCH", *path, patch.dump(), "application/merge-patch+json");
  if (!resp) return resp.error();
  if (resp->status != 200) {
    std::string what = kind + "/" + (ns.empty() ? "" : ns + "/") + name;
    Error e("patch " + what + ": HTTP " + std::to_string(resp->status));
    auto body = json::parse(resp->body, nullptr, false);
    if (body.is_object() && body.contains("message")) e.message = "patch " + what + ": " + body.value("message", "");
    e.http_status = static_cast<int>(resp->status);
    return e;
  }
  return {};
}

// GET that tells "absent" (null) from errors.
Result<json> get_optional(kube::Client& c, const std::string& api_version, const std::string& kind,
                          const std::string& ns, const std::string& name) {
  auto r = c.get(api_version, kind, ns, name);
  if (r) return std::move(*r);
  if (r.error().http_status == 404) return json();
  return std::move(r).error();
}

// What a wait saw last.
struct WaitOutcome {
  Status status;                      // ok when every object reached its goal
  std::map<std::string, json> last;   // name -> last object seen (null: absent)
  std::map<std::string, std::string> states;
};

// (done, state) of one object; `obj` is null when it does not exist.
using StateFn = std::function<std::pair<bool, std::string>(const json* obj)>;

// Watches objects of one kind in one namespace until each is done, printing what it waits for, the
// state and the elapsed time: on every change, and every 5 s while nothing changes (with `detail`,
// called with the seconds waited so far, appended).
WaitOutcome watch_until(kube::Client& c, const std::string& api_version, const std::string& kind,
                        const std::string& ns, const std::vector<std::string>& names, const std::string& what,
                        const StateFn& state_of, milliseconds timeout, Progress& progress,
                        const std::function<std::string(double)>& detail = {}) {
  WaitOutcome out;
  std::mutex mu;
  std::map<std::string, bool> done;
  auto label = [&](const std::string& name) { return what + " " + (ns.empty() ? "" : ns + "/") + name; };
  auto all_done = [&] {
    return std::all_of(done.begin(), done.end(), [](const auto& kv) { return kv.second; });
  };
  auto update = [&](const std::string& name, const json* obj) {
    auto [ok, state] = state_of(obj);
    bool changed = out.states[name] != state;
    done[name] = ok;
    out.states[name] = state;
    out.last[name] = obj ? *obj : json();
    if (changed) progress.say(label(name), state);
  };
  // List first, so objects that are already absent count (a watch says nothing about them).
  kube::ListOptions lo;
  lo.namespace_ = ns;
  if (names.size() == 1) lo.field_selector = "metadata.name=" + names[0];
  auto listed = c.list(api_version, kind, lo);
  if (!listed) {
    out.status = std::move(listed).error();
    return out;
  }
  {
    std::map<std::string, json> present;
    for (auto& item : (*listed)["items"]) present[str_at(item, "/metadata/name")] = item;
    for (const auto& n : names) {
      auto it = present.find(n);
      update(n, it == present.end() ? nullptr : &it->second);
    }
  }
  if (all_done()) return out;

  auto start = Clock::now();
  std::atomic<bool> finished{false};
  std::condition_variable cv;
  std::thread ticker([&] {
    std::unique_lock<std::mutex> lk(mu);
    while (!cv.wait_for(lk, std::chrono::seconds(5), [&] { return finished.load(); })) {
      std::vector<std::pair<std::string, std::string>> waiting;
      for (const auto& [name, ok] : done)
        if (!ok) waiting.emplace_back(name, out.states[name]);
      lk.unlock();  // `detail` may ask the apiserver; events go on meanwhile
      double waited = std::chrono::duration<double>(Clock::now() - start).count();
      std::string extra = detail ? detail(waited) : std::string();
      for (const auto& [name, state] : waiting) progress.say(label(name), "still " + state + extra);
      lk.lock();
    }
  });
  kube::WatchOptions wo;
  wo.namespace_ = ns;
  wo.field_selector = lo.field_selector;
  wo.resource_version = (*listed)["metadata"].value("resourceVersion", "");
  wo.timeout = timeout;
  Status st = c.watch(api_version, kind, wo, [&](const kube::WatchEvent& ev) {
    std::lock_guard<std::mutex> g(mu);
    std::string name = str_at(ev.object, "/metadata/name");
    if (!done.count(name)) return true;
    update(name, ev.type == "DELETED" ? nullptr : &ev.object);
    return !all_done();
  });
  {
    std::lock_guard<std::mutex> g(mu);
    finished = true;
  }
  cv.notify_all();
  ticker.join();
  if (all_done()) return out;
  if (st) st = Error("watch ended early", ExitCode::failure);
  out.status = st;
  return out;
}

// Lists Clusters; while the Cluster API is not served yet (karmada-aggregated-apiserver starting, the
// race right after an install), retries with progress until `deadline`.
Result<json> list_clusters(kube::Client& karmada, Clock::time_point deadline, Progress* progress) {
  bool said = false;
  while (true) {
    auto l = karmada.list(kClusterApi, "Cluster");
    if (l) return l;
    const Error& e = l.error();
    bool not_served = e.message.find("no kind \"Cluster\"") != std::string::npos || e.http_status == 503;
    if (!not_served || Clock::now() >= deadline || !progress) return karmada_error(karmada, std::move(l).error());
    if (!said) progress->say("Karmada Cluster API (karmada-aggregated-apiserver)", "not served yet; waiting");
    said = true;
    if (cancel::requested()) return Error("interrupted", ExitCode::interrupted);
    std::this_thread::sleep_for(milliseconds(500));
    karmada.refresh_discovery();
  }
}

milliseconds remaining(Clock::time_point deadline) {
  return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

json identity(const json& obj) {
  json id = {{"apiVersion", obj["apiVersion"]}, {"kind", obj["kind"]}, {"metadata", {{"name", obj["metadata"]["name"]}}}};
  if (obj["metadata"].contains("namespace")) id["metadata"]["namespace"] = obj["metadata"]["namespace"];
  return id;
}

std::string ref_of(const json& obj) {
  std::string ns = str_at(obj, "/metadata/namespace");
  return obj.value("kind", "") + "/" + (ns.empty() ? "" : ns + "/") + str_at(obj, "/metadata/name");
}

// The caBundle for the Karmada-side Secret when the member's token Secret has no ca.crt: the CA of the
// member's kubeconfig, base64.
std::string kubeconfig_ca_base64(const kubeconfig::RestConfig& cfg) {
  if (!cfg.tls.ca_pem.empty()) return base64::encode(cfg.tls.ca_pem);
  if (!cfg.tls.ca_file.empty())
    if (auto pem = fs::read_file(cfg.tls.ca_file); pem) return base64::encode(*pem);
  return {};
}

json owner_patch(const json& cluster) {
  return {{"metadata",
           {{"ownerReferences", json::array({{{"apiVersion", kClusterApi},
                                              {"kind", "Cluster"},
                                              {"name", str_at(cluster, "/metadata/name")},
                                              {"uid", str_at(cluster, "/metadata/uid")},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}})}}}};
}

bool owned_by(const json& obj, const std::string& uid) {
  auto p = json::json_pointer("/metadata/ownerReferences");
  if (!obj.contains(p) || !obj.at(p).is_array()) return false;
  for (const auto& r : obj.at(p))
    if (r.value("uid", "") == uid) return true;
  return false;
}

// The member's id: the UID of its kube-system Namespace.
Result<std::string> member_id(kube::Client& member) {
  auto ns = member.get("v1", "Namespace", "", "kube-system");
  if (!ns) return member_error(member, std::move(ns).error());
  std::string uid = str_at(*ns, "/metadata/uid");
  if (uid.empty()) return member_error(member, Error("kube-system Namespace has no uid"));
  return uid;
}

// ---- join ----

class Joiner {
 public:
  Joiner(kube::Client& karmada, const JoinOptions& opts)
      : m_karmada(karmada), m_member(opts.member), m_opts(opts), m_deadline(Clock::now() + opts.timeout),
        m_sa(names::service_account(opts.name)) {}

  Result<JoinResult> run();

 private:
  Status check_inputs();
  Result<JoinResult> fresh_join(JoinResult res);
  Result<JoinResult> repair(JoinResult res, const json& cluster);
  // Applies the member-side objects (or only `only`, when given) level by level, then waits for the
  // token Secrets; returns them by name.
  Result<std::map<std::string, json>> make_member_side(const std::vector<std::string>& only = {});
  Status wait_ready(const std::string& name, JoinResult& res);
  void rollback_member(bool ns_existed, bool cr_existed, bool crb_existed);
  std::map<std::string, std::string> secret_data(const json& token_secret, bool with_ca);
  void plan(JoinResult& res, const std::string& target, const std::string& action, const json& obj) {
    res.planned.push_back({target, target == "member" ? m_member.config().server : m_karmada.config().server,
                           action, redacted(obj)});
  }

  kube::Client& m_karmada;
  kube::Client m_member;
  const JoinOptions& m_opts;
  Clock::time_point m_deadline;
  std::string m_sa;
  std::string m_id;
  Progress m_progress;
};

Status validate_namespace_name(const std::string& ns) {
  static const std::regex label("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  if (ns.size() <= 63 && std::regex_match(ns, label)) return {};
  return Error("invalid --cluster-namespace \"" + ns + "\": must be a DNS-1123 label of at most 63 characters",
               ExitCode::usage, "use lower-case letters, digits and '-', e.g. karmada-cluster");
}

Status Joiner::check_inputs() {
  KURATOR_TRY(validate_name(m_opts.name));
  KURATOR_TRY(validate_namespace_name(m_opts.cluster_namespace));
  KURATOR_TRY(parallel({
      [&] {
        return check_reachable(m_opts.member, m_opts.connect_timeout, "member cluster",
                     "check --cluster-kubeconfig/--cluster-context and that the cluster is running");
      },
      [&] {
        return check_reachable(m_karmada.config(), m_opts.connect_timeout, "Karmada",
                     "is Karmada running? `kurator get clusters` shows its health; install it with "
                     "`kurator install karmada --provider local`");
      },
  }));
  return {};
}

Result<JoinResult> Joiner::run() {
  KURATOR_TRY(check_inputs());
  JoinResult res;
  Result<std::string> id = std::string();
  Result<json> clusters = json();
  KURATOR_TRY(parallel({
      [&]() -> Status {
        id = member_id(m_member);
        return {};
      },
      [&]() -> Status {
        clusters = list_clusters(m_karmada, m_deadline, &m_progress);
        return {};
      },
  }));
  if (!id) return std::move(id).error();
  if (!clusters) return std::move(clusters).error();
  m_id = *id;
  res.cluster_id = m_id;
  res.api_endpoint = m_opts.member.server;
  const json* same_name = nullptr;
  std::string same_id_name;
  for (const auto& c : (*clusters)["items"]) {
    std::string n = str_at(c, "/metadata/name");
    if (n == m_opts.name) same_name = &c;
    else if (str_at(c, "/spec/id") == m_id && same_id_name.empty()) same_id_name = n;
  }
  if (!same_id_name.empty())
    return Error("this member (id " + m_id + ", " + m_opts.member.server + ") is already joined to Karmada as \"" +
                     same_id_name + "\"",
                 ExitCode::failure,
                 "a cluster can be joined once: use the name \"" + same_id_name + "\", or first `kurator unjoin karmada " +
                     same_id_name + "`");
  if (same_name) {
    std::string other = str_at(*same_name, "/spec/id");
    if (other != m_id)
      return Error("a cluster named \"" + m_opts.name + "\" is already joined to Karmada with another id (" +
                       (other.empty() ? "none" : other) + " at " + str_at(*same_name, "/spec/apiEndpoint") +
                       "; this member's id is " + m_id + ")",
                   ExitCode::failure,
                   "choose another name, or first `kurator unjoin karmada " + m_opts.name + "`");
    if (same_name->contains("metadata") && (*same_name)["metadata"].contains("deletionTimestamp"))
      return Error("cluster \"" + m_opts.name + "\" is being removed from Karmada (an unjoin is in progress)",
                   ExitCode::failure, "wait until `kurator unjoin karmada " + m_opts.name + "` has finished, then join again");
    if (str_at(*same_name, "/spec/syncMode") == "Pull")
      return Error("cluster \"" + m_opts.name + "\" is already registered in Pull mode (through karmada-agent)",
                   ExitCode::failure, "Pull-mode clusters are managed by karmada-agent, not by join");
    return repair(std::move(res), *same_name);
  }
  return fresh_join(std::move(res));
}

std::map<std::string, std::string> Joiner::secret_data(const json& token_secret, bool with_ca) {
  std::map<std::string, std::string> data;
  data["token"] = str_at(token_secret, "/data/token");
  if (with_ca) {
    std::string ca = str_at(token_secret, "/data/ca.crt");
    data["caBundle"] = ca.empty() ? kubeconfig_ca_base64(m_opts.member) : ca;
  }
  return data;
}

Result<std::map<std::string, json>> Joiner::make_member_side(const std::vector<std::string>& only) {
  auto objs = member_objects(m_opts.name, m_opts.cluster_namespace);
  auto wanted = [&](const json& o) {
    return only.empty() || std::find(only.begin(), only.end(), ref_of(o)) != only.end();
  };
  // Levels: the Namespace; ServiceAccounts and RBAC; the token Secrets (after their ServiceAccounts, or
  // the token controller deletes them).
  std::vector<std::vector<const json*>> levels(3);
  for (const auto& o : objs) {
    if (!wanted(o)) continue;
    std::string kind = o.value("kind", "");
    levels[kind == "Namespace" ? 0 : kind == "Secret" ? 2 : 1].push_back(&o);
  }
  kube::ApplyOptions ao;
  ao.identity_only = true;
  for (const auto& level : levels) {
    std::vector<std::function<Status()>> fns;
    for (const json* o : level)
      fns.push_back([&, o]() -> Status {
        auto r = m_member.apply(*o, ao);
        if (!r) return member_error(m_member, std::move(r).error());
        return {};
      });
    KURATOR_TRY(parallel(fns));
  }
  if (!levels[0].empty() || !levels[1].empty() || !levels[2].empty())
    m_progress.say("member " + m_opts.name, "namespace " + m_opts.cluster_namespace +
                                                ", service accounts, RBAC and token secrets applied");
  std::vector<std::string> secrets = {names::impersonator_sa, m_sa};
  auto out = watch_until(
      m_member, "v1", "Secret", m_opts.cluster_namespace, secrets, "member token Secret",
      [](const json* s) -> std::pair<bool, std::string> {
        if (!s) return {false, "not created yet"};
        if (!str_at(*s, "/data/token").empty()) return {true, "token issued"};
        return {false, "waiting for the member's token controller to issue a token"};
      },
      remaining(m_deadline), m_progress, [](double waited) -> std::string {
        if (waited < 10) return {};
        return " (nothing after " + fmt::format("{:.0f}", waited) +
               "s: is the member's kube-controller-manager running, with --service-account-private-key-file?)";
      });
  if (!out.status) {
    Error e = out.status.error();
    if (e.exit == ExitCode::timeout)
      return Error(fmt::format("timed out after {} waiting for the member's token controller to fill the token "
                               "Secrets {}/{} and {}/{} (state: {})",
                               seconds_text(m_opts.timeout), m_opts.cluster_namespace, names::impersonator_sa,
                               m_opts.cluster_namespace, m_sa, out.states[m_sa]),
                   ExitCode::timeout,
                   "the member's token controller is probably not running: kube-controller-manager must run with "
                   "--service-account-private-key-file (and the serviceaccount-token controller enabled)");
    return member_error(m_member, std::move(e));
  }
  return out.last;
}

void Joiner::rollback_member(bool ns_existed, bool cr_existed, bool crb_existed) {
  std::string rbac = names::rbac(m_opts.name);
  std::vector<std::function<Status()>> fns;
  if (!crb_existed)
    fns.push_back([&] { return m_member.remove("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", rbac); });
  if (!cr_existed)
    fns.push_back([&] { return m_member.remove("rbac.authorization.k8s.io/v1", "ClusterRole", "", rbac); });
  if (!ns_existed)
    fns.push_back([&] { return m_member.remove("v1", "Namespace", "", m_opts.cluster_namespace); });
  else
    for (const std::string& n : {std::string(names::impersonator_sa), m_sa}) {
      fns.push_back([&, n] { return m_member.remove("v1", "Secret", m_opts.cluster_namespace, n); });
      fns.push_back([&, n] { return m_member.remove("v1", "ServiceAccount", m_opts.cluster_namespace, n); });
    }
  if (auto st = parallel(fns); !st) spdlog::warn("could not undo the member side: {}", st.error().message);
  else m_progress.say("member " + m_opts.name, "what this join made there was removed again");
}

Result<JoinResult> Joiner::fresh_join(JoinResult res) {
  const std::string& ns = m_opts.cluster_namespace;
  const std::string rbac = names::rbac(m_opts.name);
  json karmada_ns = {{"apiVersion", "v1"},
                     {"kind", "Namespace"},
                     {"metadata", {{"name", ns}, {"labels", {{"karmada.io/system", "true"}}}}}};
  json cluster = cluster_object(m_opts, m_id);
  json secret = karmada_secret(m_opts.name, ns, {{"caBundle", ""}, {"token", ""}});
  json imp_secret = karmada_secret(names::impersonator_secret(m_opts.name), ns, {{"token", ""}});
  if (m_opts.dry_run) {
    for (const auto& o : member_objects(m_opts.name, ns)) plan(res, "member", "apply", o);
    for (const auto& n : {std::string(names::impersonator_sa), m_sa})
      plan(res, "member", "wait",
           {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", n}, {"namespace", ns}}},
            {"until", "data.token is issued by the member's token controller"}});
    plan(res, "karmada", "apply", karmada_ns);
    json s = secret, is = imp_secret;
    s["data"] = {{"caBundle", "<ca.crt of the member's token Secret>"}, {"token", kRedacted}};
    is["data"] = {{"token", kRedacted}};
    plan(res, "karmada", "apply", is);
    plan(res, "karmada", "apply", s);
    plan(res, "karmada", "create", cluster);
    json owner = owner_patch(cluster);
    owner["metadata"]["ownerReferences"][0]["uid"] = "<uid of the created Cluster>";
    for (const auto* o : {&imp_secret, &secret}) {
      json p = identity(*o);
      p["metadata"]["ownerReferences"] = owner["metadata"]["ownerReferences"];
      plan(res, "karmada", "patch", p);
    }
    plan(res, "karmada", "wait", {{"apiVersion", kClusterApi}, {"kind", "Cluster"},
                                  {"metadata", {{"name", m_opts.name}}}, {"until", "condition Ready is True"}});
    return res;
  }

  // What exists on the member already, so a failed join removes only what it made.
  bool ns_existed = false, ns_terminating = false, cr_existed = false, crb_existed = false;
  KURATOR_TRY(parallel({
      [&]() -> Status {
        auto r = get_optional(m_member, "v1", "Namespace", "", ns);
        if (!r) return member_error(m_member, std::move(r).error());
        ns_existed = !r->is_null();
        ns_terminating = ns_existed && (*r)["metadata"].contains("deletionTimestamp");
        return {};
      },
      [&]() -> Status {
        auto r = get_optional(m_member, "rbac.authorization.k8s.io/v1", "ClusterRole", "", rbac);
        if (!r) return member_error(m_member, std::move(r).error());
        cr_existed = !r->is_null();
        return {};
      },
      [&]() -> Status {
        auto r = get_optional(m_member, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", rbac);
        if (!r) return member_error(m_member, std::move(r).error());
        crb_existed = !r->is_null();
        return {};
      },
  }));

  // A namespace left terminating by an earlier unjoin: nothing can be made in it until it is gone.
  if (ns_terminating) {
    auto gone = watch_until(
        m_member, "v1", "Namespace", "", {ns}, "member Namespace",
        [](const json* n) -> std::pair<bool, std::string> {
          if (!n) return {true, "gone"};
          return {false, "terminating (left by an earlier unjoin)"};
        },
        remaining(m_deadline), m_progress);
    if (!gone.status) {
      Error e = gone.status.error();
      if (e.exit == ExitCode::timeout)
        return Error("member namespace " + ns + " is still terminating after " + seconds_text(m_opts.timeout),
                     ExitCode::timeout, "the member's namespace controller (kube-controller-manager) must be running");
      return member_error(m_member, std::move(e));
    }
    ns_existed = false;
  }

  // The member side, and meanwhile the Karmada namespace.
  Result<std::map<std::string, json>> tokens = std::map<std::string, json>();
  Status karmada_ns_st;
  (void)parallel({
      [&]() -> Status {
        tokens = make_member_side();
        return {};
      },
      [&]() -> Status {
        kube::ApplyOptions ao;
        ao.identity_only = true;
        auto r = m_karmada.apply(karmada_ns, ao);
        if (!r) karmada_ns_st = karmada_error(m_karmada, std::move(r).error());
        return {};
      },
  });
  if (!tokens || !karmada_ns_st) {
    rollback_member(ns_existed, cr_existed, crb_existed);
    return tokens ? karmada_ns_st.error() : std::move(tokens).error();
  }

  // The Karmada side: secrets, the Cluster, then the secrets owned by the Cluster.
  secret["data"] = secret_data(tokens->at(m_sa), true);
  imp_secret["data"] = secret_data(tokens->at(names::impersonator_sa), false);
  kube::ApplyOptions ao;
  ao.identity_only = true;
  auto undo_karmada_secrets = [&] {
    (void)m_karmada.remove("v1", "Secret", ns, m_opts.name);
    (void)m_karmada.remove("v1", "Secret", ns, names::impersonator_secret(m_opts.name));
  };
  Status st = parallel({
      [&]() -> Status {
        auto r = m_karmada.apply(imp_secret, ao);
        return r ? Status{} : karmada_error(m_karmada, std::move(r).error());
      },
      [&]() -> Status {
        auto r = m_karmada.apply(secret, ao);
        return r ? Status{} : karmada_error(m_karmada, std::move(r).error());
      },
  });
  if (!st) {
    undo_karmada_secrets();
    rollback_member(ns_existed, cr_existed, crb_existed);
    return st.error();
  }
  auto created = m_karmada.create(cluster);
  if (!created) {
    Error e = karmada_error(m_karmada, std::move(created).error());
    if (e.http_status != 409) {  // 409: someone else made it meanwhile; leave theirs alone
      undo_karmada_secrets();
      rollback_member(ns_existed, cr_existed, crb_existed);
    }
    return e;
  }
  m_progress.say("Karmada", "Cluster " + m_opts.name + " created (id " + m_id + ", " + m_opts.member.server + ")");
  json owner = owner_patch(*created);
  st = parallel({
      [&] { return merge_patch(m_karmada, "v1", "Secret", ns, names::impersonator_secret(m_opts.name), owner); },
      [&] { return merge_patch(m_karmada, "v1", "Secret", ns, m_opts.name, owner); },
  });
  if (!st) return karmada_error(m_karmada, st.error());
  KURATOR_TRY(wait_ready(m_opts.name, res));
  return res;
}

Status Joiner::wait_ready(const std::string& name, JoinResult& res) {
  auto out = watch_until(
      m_karmada, kClusterApi, "Cluster", "", {name}, "Cluster",
      [](const json* c) -> std::pair<bool, std::string> {
        if (!c) return {false, "not found"};
        auto cond = ready_condition(*c);
        if (cond.status == "True") return {true, "Ready"};
        if (!cond.present) return {false, "no Ready condition yet (karmada-controller-manager has not looked at it)"};
        return {false, condition_text(cond)};
      },
      remaining(m_deadline), m_progress);
  const json& last = out.last[name];
  auto cond = last.is_null() ? Condition{} : ready_condition(last);
  res.ready = cond.status;
  res.reason = cond.status == "True" ? cond.reason : condition_text(cond);
  if (out.status) return {};
  Error e = out.status.error();
  if (e.exit != ExitCode::timeout) return karmada_error(m_karmada, std::move(e));
  return Error(fmt::format("cluster \"{}\" is joined but not Ready after {}: {}", name, seconds_text(m_opts.timeout),
                           last.is_null() ? std::string("the Cluster is gone") : conditions_text(last)),
               ExitCode::timeout,
               "karmada-controller-manager must reach the member at " + m_opts.member.server +
                   " (spec.apiEndpoint) from where it runs; `kurator get clusters` shows its state, `kurator "
                   "unjoin karmada " +
                   name + "` removes it");
}

Result<JoinResult> Joiner::repair(JoinResult res, const json& cluster) {
  res.already_joined = true;
  const std::string& ns = m_opts.cluster_namespace;
  auto cond = ready_condition(cluster);
  res.ready = cond.status;
  res.reason = cond.status == "True" ? cond.reason : condition_text(cond);
  res.api_endpoint = str_at(cluster, "/spec/apiEndpoint");
  if (res.api_endpoint != m_opts.member.server)
    spdlog::warn("cluster \"{}\" is joined with apiEndpoint {}, not {}; to change it, unjoin and join again",
                 m_opts.name, res.api_endpoint, m_opts.member.server);

  // Which pieces are missing on the member.
  auto objs = member_objects(m_opts.name, ns);
  std::vector<Result<json>> found(objs.size(), json());
  std::vector<std::function<Status()>> fns;
  for (size_t i = 0; i < objs.size(); ++i)
    fns.push_back([&, i]() -> Status {
      const json& o = objs[i];
      found[i] = get_optional(m_member, o["apiVersion"], o["kind"], str_at(o, "/metadata/namespace"),
                              str_at(o, "/metadata/name"));
      return {};
    });
  // And on Karmada: the two secrets the Cluster references.
  std::string sref_ns = str_at(cluster, "/spec/secretRef/namespace"), sref = str_at(cluster, "/spec/secretRef/name");
  std::string iref_ns = str_at(cluster, "/spec/impersonatorSecretRef/namespace"),
              iref = str_at(cluster, "/spec/impersonatorSecretRef/name");
  if (sref.empty()) sref_ns = ns, sref = m_opts.name;
  if (iref.empty()) iref_ns = ns, iref = names::impersonator_secret(m_opts.name);
  Result<json> ksecret = json(), kimp = json();
  fns.push_back([&]() -> Status {
    ksecret = get_optional(m_karmada, "v1", "Secret", sref_ns, sref);
    return {};
  });
  fns.push_back([&]() -> Status {
    kimp = get_optional(m_karmada, "v1", "Secret", iref_ns, iref);
    return {};
  });
  (void)parallel(fns);
  std::vector<std::string> missing;
  std::map<std::string, json> tokens;
  for (size_t i = 0; i < objs.size(); ++i) {
    if (!found[i]) return member_error(m_member, std::move(found[i]).error());
    const json& o = objs[i];
    bool token_secret = o["kind"] == "Secret";
    if (found[i]->is_null() || (token_secret && str_at(*found[i], "/data/token").empty()))
      missing.push_back(ref_of(o));
    else if (token_secret)
      tokens[str_at(o, "/metadata/name")] = *found[i];
  }
  if (!ksecret) return karmada_error(m_karmada, std::move(ksecret).error());
  if (!kimp) return karmada_error(m_karmada, std::move(kimp).error());

  if (m_opts.dry_run) {
    for (const auto& o : objs)
      if (std::find(missing.begin(), missing.end(), ref_of(o)) != missing.end()) plan(res, "member", "apply", o);
  } else if (!missing.empty()) {
    m_progress.say("member " + m_opts.name, "already joined, but missing: " + fmt::format("{}", fmt::join(missing, ", ")));
    auto made = make_member_side(missing);
    if (!made) return std::move(made).error();
    tokens = std::move(*made);
  }
  for (const auto& m : missing) res.repaired.push_back("member " + m);

  // Karmada secrets: present with the member's current token (and CA)?
  auto check = [&](const json& have, const std::string& sns, const std::string& sname, const std::string& sa,
                   bool with_ca) -> Status {
    std::map<std::string, std::string> want;
    if (tokens.count(sa)) want = secret_data(tokens.at(sa), with_ca);
    bool ok = !have.is_null();
    for (const auto& [k, v] : want)
      if (str_at(have, ("/data/" + k).c_str()) != v) ok = false;
    if (ok) return {};
    res.repaired.push_back("karmada Secret/" + sns + "/" + sname);
    json s = karmada_secret(sname, sns, want);
    s["metadata"]["ownerReferences"] = owner_patch(cluster)["metadata"]["ownerReferences"];
    if (m_opts.dry_run) {
      plan(res, "karmada", "apply", s);
      return {};
    }
    kube::ApplyOptions ao;
    ao.identity_only = true;
    auto r = m_karmada.apply(s, ao);
    return r ? Status{} : karmada_error(m_karmada, std::move(r).error());
  };
  KURATOR_TRY(check(*ksecret, sref_ns, sref, m_sa, true));
  KURATOR_TRY(check(*kimp, iref_ns, iref, names::impersonator_sa, false));
  if (!res.repaired.empty() && !m_opts.dry_run)
    m_progress.say("cluster " + m_opts.name, "repaired " + std::to_string(res.repaired.size()) + " missing piece(s)");
  return res;
}

// ---- unjoin ----

Result<UnjoinResult> do_unjoin(kube::Client& karmada, const UnjoinOptions& opts) {
  Progress progress;
  auto deadline = Clock::now() + opts.timeout;
  UnjoinResult res;
  KURATOR_TRY(validate_name(opts.name));
  KURATOR_TRY(validate_namespace_name(opts.cluster_namespace));
  std::optional<kube::Client> member;
  if (opts.member) member.emplace(*opts.member);
  std::vector<std::function<Status()>> probes = {[&] {
    return check_reachable(karmada.config(), opts.connect_timeout, "Karmada",
                 "is Karmada running? `kurator get clusters` shows its health");
  }};
  if (member)
    probes.push_back([&] {
      return check_reachable(*opts.member, opts.connect_timeout, "member cluster",
                   "check --cluster-kubeconfig/--cluster-context, or leave them out to unjoin on the Karmada side only");
    });
  KURATOR_TRY(parallel(probes));

  auto got = karmada.get(kClusterApi, "Cluster", "", opts.name);
  json cluster;
  if (!got) {
    if (got.error().http_status != 404) return karmada_error(karmada, std::move(got).error());
    if (!opts.ignore_not_found) {
      std::string known;
      if (auto l = list_members(karmada); l)
        for (const auto& m : *l) known += (known.empty() ? "" : ", ") + m.name;
      return Error("cluster \"" + opts.name + "\" is not joined to Karmada at " + karmada.config().server,
                   ExitCode::failure,
                   (known.empty() ? std::string("no clusters are joined") : "joined clusters: " + known) +
                       " (--ignore-not-found makes this a no-op)");
    }
    res.not_found = true;
  } else {
    cluster = std::move(*got);
    if (str_at(cluster, "/spec/syncMode") == "Pull")
      return Error("cluster \"" + opts.name + "\" is registered in Pull mode (through karmada-agent); unjoin handles "
                       "Push-mode clusters only",
                   ExitCode::failure,
                   "remove karmada-agent from the member (karmadactl unregister), which deregisters it");
  }
  if (member && !res.not_found) {
    auto id = member_id(*member);
    if (!id) return std::move(id).error();
    std::string joined_id = str_at(cluster, "/spec/id");
    if (!joined_id.empty() && *id != joined_id)
      return Error("the cluster of --cluster-kubeconfig (" + opts.member->server + ", id " + *id +
                       ") is not the member joined as \"" + opts.name + "\" (" +
                       str_at(cluster, "/spec/apiEndpoint") + ", id " + joined_id + ")",
                   ExitCode::failure, "point --cluster-kubeconfig/--cluster-context at that member, or leave them out");
  }
  const std::string sa = names::service_account(opts.name), rbac = names::rbac(opts.name);
  const std::string& ns = opts.cluster_namespace;
  auto plan = [&](const std::string& target, const std::string& action, json obj) {
    res.planned.push_back({target, target == "member" ? opts.member->server : karmada.config().server, action,
                           std::move(obj)});
  };
  auto ref = [](const std::string& av, const std::string& kind, const std::string& ns_, const std::string& name) {
    json o = {{"apiVersion", av}, {"kind", kind}, {"metadata", {{"name", name}}}};
    if (!ns_.empty()) o["metadata"]["namespace"] = ns_;
    return o;
  };
  std::vector<json> karmada_secrets;
  for (const char* p : {"/spec/secretRef", "/spec/impersonatorSecretRef"})
    if (!cluster.is_null() && !str_at(cluster, (std::string(p) + "/name").c_str()).empty())
      karmada_secrets.push_back(ref("v1", "Secret", str_at(cluster, (std::string(p) + "/namespace").c_str()),
                                    str_at(cluster, (std::string(p) + "/name").c_str())));
  std::vector<json> member_refs = {ref("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", rbac),
                                   ref("rbac.authorization.k8s.io/v1", "ClusterRole", "", rbac),
                                   ref("v1", "ServiceAccount", ns, sa), ref("v1", "Namespace", "", ns)};
  if (opts.dry_run) {
    if (!res.not_found) {
      plan("karmada", "delete", ref(kClusterApi, "Cluster", "", opts.name));
      json w = ref(kClusterApi, "Cluster", "", opts.name);
      w["until"] = std::string("gone (Karmada's finalizer ") + kFinalizer + " removes namespace " +
                   names::execution_namespace(opts.name) + " first)" +
                   (opts.force ? "; on timeout its finalizers are stripped (--force)" : "");
      plan("karmada", "wait", w);
      for (const auto& s : karmada_secrets) plan("karmada", "delete", s);
    }
    if (member) {
      for (const auto& m : member_refs) plan("member", "delete", m);
      json w = ref("v1", "Namespace", "", ns);
      w["until"] = "gone";
      plan("member", "wait", w);
    }
    return res;
  }

  if (!res.not_found) {
    const std::string uid = str_at(cluster, "/metadata/uid");
    if (!cluster["metadata"].contains("deletionTimestamp")) {
      if (auto st = karmada.remove(kClusterApi, "Cluster", "", opts.name); !st)
        return karmada_error(karmada, st.error());
      progress.say("Karmada", "Cluster " + opts.name + " deleted; waiting for Karmada's finalizer");
    }
    const std::string es = names::execution_namespace(opts.name);
    auto es_state = [&](double) -> std::string {
      auto n = get_optional(karmada, "v1", "Namespace", "", es);
      if (!n) return {};
      if (n->is_null()) return "; namespace " + es + " is gone";
      return "; namespace " + es + " is " + str_at(*n, "/status/phase");
    };
    auto state_of = [](const json* c) -> std::pair<bool, std::string> {
      if (!c) return {true, "gone"};
      std::string fin;
      if (c->contains("metadata") && (*c)["metadata"].contains("finalizers"))
        for (const auto& f : (*c)["metadata"]["finalizers"]) fin += (fin.empty() ? "" : ", ") + f.get<std::string>();
      return {false, "terminating" + (fin.empty() ? std::string() : " (finalizers: " + fin + ")")};
    };
    auto out = watch_until(karmada, kClusterApi, "Cluster", "", {opts.name}, "Cluster", state_of, remaining(deadline),
                           progress, es_state);
    if (!out.status) {
      Error e = out.status.error();
      if (e.exit != ExitCode::timeout) return karmada_error(karmada, std::move(e));
      std::string why = out.states[opts.name] + es_state(0);
      if (!opts.force)
        return Error(fmt::format("cluster \"{}\" is still there after {}: {}", opts.name, seconds_text(opts.timeout),
                                 why),
                     ExitCode::timeout,
                     "Karmada's controller-manager removes it once namespace " + es +
                         " is gone; `kurator unjoin karmada " + opts.name +
                         " --force` strips the finalizers when the wait times out (what Karmada propagated "
                         "to the member may then stay there)");
      progress.say("Cluster " + opts.name, "still " + why + " after " + seconds_text(opts.timeout) +
                                               "; --force: stripping its finalizers");
      if (auto st = merge_patch(karmada, kClusterApi, "Cluster", "", opts.name, {{"metadata", {{"finalizers", nullptr}}}});
          !st && st.error().http_status != 404)
        return karmada_error(karmada, st.error());
      res.forced = true;
      auto gone = watch_until(karmada, kClusterApi, "Cluster", "", {opts.name}, "Cluster", state_of,
                              std::chrono::seconds(15), progress);
      if (!gone.status)
        return Error("cluster \"" + opts.name + "\" is still there after its finalizers were stripped: " +
                         gone.states[opts.name],
                     ExitCode::timeout, "check the Karmada apiserver's logs");
    }
    // The Cluster's secrets (garbage-collected by Karmada's kube-controller-manager as well; removed here
    // so they are gone when unjoin returns).
    std::vector<std::function<Status()>> dels;
    for (const auto& s : karmada_secrets)
      dels.push_back([&, s]() -> Status {
        std::string sns = str_at(s, "/metadata/namespace"), sname = str_at(s, "/metadata/name");
        auto have = get_optional(karmada, "v1", "Secret", sns, sname);
        if (!have) return karmada_error(karmada, std::move(have).error());
        if (have->is_null() || !owned_by(*have, uid)) return {};
        auto st = karmada.remove("v1", "Secret", sns, sname);
        return st ? st : karmada_error(karmada, st.error());
      });
    KURATOR_TRY(parallel(dels));
    progress.say("Karmada", "Cluster " + opts.name + " and its secrets are gone");
  }

  if (member) {
    std::vector<std::function<Status()>> dels;
    for (const auto& m : member_refs)
      dels.push_back([&, m]() -> Status {
        auto st = member->remove(m["apiVersion"], m["kind"], str_at(m, "/metadata/namespace"), str_at(m, "/metadata/name"));
        return st ? st : member_error(*member, st.error());
      });
    KURATOR_TRY(parallel(dels));
    auto out = watch_until(
        *member, "v1", "Namespace", "", {ns}, "member Namespace",
        [](const json* n) -> std::pair<bool, std::string> {
          if (!n) return {true, "gone"};
          return {false, "terminating"};
        },
        remaining(deadline), progress);
    if (!out.status) {
      Error e = out.status.error();
      if (e.exit == ExitCode::timeout)
        return Error("member namespace " + ns + " is still terminating after " + seconds_text(opts.timeout),
                     ExitCode::timeout, "the member's namespace controller (kube-controller-manager) must be running");
      return member_error(*member, std::move(e));
    }
    res.member_cleaned = true;
  }
  return res;
}

}  // namespace

// ---- names and pure builders ----

namespace names {
std::string service_account(const std::string& name) { return "karmada-" + name; }
std::string rbac(const std::string& name) { return "karmada-controller-manager:" + service_account(name); }
std::string impersonator_secret(const std::string& name) { return name + "-impersonator"; }
std::string execution_namespace(const std::string& name) { return "karmada-es-" + name; }
}  // namespace names

Status validate_name(const std::string& name) {
  static const std::regex label("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  if (!name.empty() && name.size() <= 48 && std::regex_match(name, label)) return {};
  std::string why = name.empty()         ? "it is empty"
                    : name.size() > 48   ? "it has " + std::to_string(name.size()) + " characters"
                                         : "it has characters other than lower-case letters, digits and '-', or "
                                           "does not start and end with a letter or digit";
  return Error("invalid cluster name \"" + name + "\": must be a DNS-1123 label of at most 48 characters (" + why + ")",
               ExitCode::usage, "use lower-case letters, digits and '-', starting and ending with a letter or digit, "
                                "e.g. member-1");
}

std::vector<json> member_objects(const std::string& name, const std::string& ns) {
  const std::string sa = names::service_account(name), rbac = names::rbac(name);
  std::vector<json> out;
  out.push_back({{"apiVersion", "v1"},
                 {"kind", "Namespace"},
                 {"metadata", {{"name", ns}, {"labels", {{"karmada.io/system", "true"}}}}}});
  for (const std::string& s : {std::string(names::impersonator_sa), sa})
    out.push_back({{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", s}, {"namespace", ns}}}});
  out.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                 {"kind", "ClusterRole"},
                 {"metadata", {{"name", rbac}}},
                 {"rules", json::array({{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
                                        {{"nonResourceURLs", {"*"}}, {"verbs", {"get"}}}})}});
  out.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                 {"kind", "ClusterRoleBinding"},
                 {"metadata", {{"name", rbac}}},
                 {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", rbac}}},
                 {"subjects", json::array({{{"kind", "ServiceAccount"}, {"name", sa}, {"namespace", ns}}})}});
  for (const std::string& s : {std::string(names::impersonator_sa), sa})
    out.push_back({{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"type", "kubernetes.io/service-account-token"},
                   {"metadata",
                    {{"name", s}, {"namespace", ns}, {"annotations", {{"kubernetes.io/service-account.name", s}}}}}});
  return out;
}

json karmada_secret(const std::string& name, const std::string& ns, const std::map<std::string, std::string>& data) {
  json s = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", ns}}}};
  s["data"] = json::object();
  for (const auto& [k, v] : data) s["data"][k] = v;
  return s;
}

json cluster_object(const JoinOptions& opts, const std::string& id) {
  const std::string& ns = opts.cluster_namespace;
  json spec = {{"id", id},
               {"syncMode", "Push"},
               {"apiEndpoint", opts.member.server},
               {"secretRef", {{"namespace", ns}, {"name", opts.name}}},
               {"impersonatorSecretRef", {{"namespace", ns}, {"name", names::impersonator_secret(opts.name)}}}};
  if (opts.member.tls.insecure_skip_verify) spec["insecureSkipTLSVerification"] = true;
  if (!opts.member.proxy_url.empty()) spec["proxyURL"] = opts.member.proxy_url;
  if (!opts.provider.empty()) spec["provider"] = opts.provider;
  if (!opts.region.empty()) spec["region"] = opts.region;
  if (!opts.zones.empty()) spec["zones"] = opts.zones;
  return {{"apiVersion", kClusterApi}, {"kind", "Cluster"}, {"metadata", {{"name", opts.name}}}, {"spec", spec}};
}

json redacted(const json& obj) {
  json out = obj;
  if (!out.is_object() || out.value("kind", "") != "Secret") return out;
  for (const char* field : {"data", "stringData"}) {
    if (!out.contains(field) || !out[field].is_object()) continue;
    for (auto& [k, v] : out[field].items())
      if (k != "caBundle" && k != "ca.crt" && !(v.is_string() && v.get<std::string>().empty())) v = kRedacted;
  }
  return out;
}

// ---- public entry points ----

std::filesystem::path default_kubeconfig(const std::filesystem::path& home) {
  return home / "karmada" / "karmada-apiserver.config";
}

Result<kubeconfig::RestConfig> load_karmada_config(const std::filesystem::path& karmada_kubeconfig) {
  std::error_code ec;
  if (!std::filesystem::exists(karmada_kubeconfig, ec))
    return Error("Karmada is not installed: its kubeconfig " + karmada_kubeconfig.string() + " does not exist",
                 ExitCode::failure,
                 "install it with `kurator install karmada --provider local` (or `kurator install karmada` "
                 "into a cluster), or name its kubeconfig with --karmada-kubeconfig");
  kubeconfig::LoadOptions lo;
  lo.explicit_path = karmada_kubeconfig.string();
  auto cfg = kubeconfig::load(lo);
  if (!cfg) {
    Error e = std::move(cfg).error();
    e.context("reading the Karmada kubeconfig");
    return e;
  }
  return cfg;
}

Result<std::vector<MemberInfo>> list_members(kube::Client& karmada) {
  auto l = karmada.list(kClusterApi, "Cluster");
  if (!l) return karmada_error(karmada, std::move(l).error());
  std::vector<MemberInfo> out;
  for (const auto& item : (*l)["items"]) {
    MemberInfo m;
    m.name = str_at(item, "/metadata/name");
    m.id = str_at(item, "/spec/id");
    m.api_endpoint = str_at(item, "/spec/apiEndpoint");
    m.sync_mode = str_at(item, "/spec/syncMode");
    m.kubernetes_version = str_at(item, "/status/kubernetesVersion");
    auto c = ready_condition(item);
    m.ready = c.status;
    if (c.status == "True") m.reason = c.reason;
    else if (!c.present) m.reason = "no Ready condition yet";
    else m.reason = c.message.empty() ? c.reason : (c.reason.empty() ? c.message : c.reason + ": " + c.message);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const MemberInfo& a, const MemberInfo& b) { return a.name < b.name; });
  return out;
}

Result<kubeconfig::RestConfig> member_config(kube::Client& karmada, const std::string& name) {
  auto cluster = karmada.get(kClusterApi, "Cluster", "", name);
  if (!cluster) {
    if (cluster.error().http_status == 404) {
      std::string known;
      if (auto members = list_members(karmada); members)
        for (const auto& m : *members) known += (known.empty() ? "" : ", ") + m.name;
      return Error("member cluster \"" + name + "\" is not joined to Karmada at " + karmada.config().server,
                   ExitCode::failure,
                   known.empty() ? "no clusters are joined; join one with `kurator join karmada NAME "
                                   "--cluster-kubeconfig FILE`"
                                 : "joined clusters: " + known);
    }
    return karmada_error(karmada, std::move(cluster).error());
  }
  const json& c = *cluster;
  kubeconfig::RestConfig rc;
  rc.context_name = rc.cluster_name = rc.user_name = name;
  rc.server = str_at(c, "/spec/apiEndpoint");
  if (rc.server.empty())
    return Error("Cluster \"" + name + "\" in Karmada has no spec.apiEndpoint", ExitCode::failure,
                 "re-join it: `kurator unjoin karmada " + name + "`, then `kurator join karmada " + name + " ...`");
  rc.proxy_url = str_at(c, "/spec/proxyURL");
  auto insecure = json::json_pointer("/spec/insecureSkipTLSVerification");
  if (c.contains(insecure) && c.at(insecure).is_boolean()) rc.tls.insecure_skip_verify = c.at(insecure).get<bool>();
  std::string sns = str_at(c, "/spec/secretRef/namespace"), sname = str_at(c, "/spec/secretRef/name");
  if (sname.empty())
    return Error("Cluster \"" + name + "\" in Karmada has no spec.secretRef (a Pull-mode cluster?)",
                 ExitCode::failure, "kurator reaches Push-mode members only, through their secret");
  auto secret = karmada.get("v1", "Secret", sns, sname);
  if (!secret) {
    Error e = std::move(secret).error();
    e.context("the credentials of member \"" + name + "\"");
    return e;
  }
  auto field = [&](const char* key) -> Result<std::string> {
    auto p = json::json_pointer(std::string("/data/") + key);
    if (!secret->contains(p) || !secret->at(p).is_string()) return std::string();
    auto v = base64::decode(secret->at(p).get<std::string>());
    if (!v) return Error("Secret " + sns + "/" + sname + ": data." + key + " is not valid base64", ExitCode::failure);
    return *v;
  };
  auto token = field("token");
  if (!token) return token.error();
  auto ca = field("caBundle");
  if (!ca) return ca.error();
  if (token->empty())
    return Error("Secret " + sns + "/" + sname + " of member \"" + name + "\" has no token", ExitCode::failure,
                 "re-join it with `kurator join karmada " + name + " --cluster-kubeconfig FILE`");
  rc.token = std::move(*token);
  rc.tls.ca_pem = std::move(*ca);
  return rc;
}

Result<JoinResult> join(kube::Client& karmada, const JoinOptions& opts) {
  Joiner j(karmada, opts);
  return j.run();
}

Result<UnjoinResult> unjoin(kube::Client& karmada, const UnjoinOptions& opts) { return do_unjoin(karmada, opts); }

}  // namespace kurator::fleet::karmada
