// Why a workload's pods are not ready, from their status as the kubelet and the scheduler write it:
// PodScheduled=False (Unschedulable, SchedulingGated), container waiting reasons (ImagePullBackOff,
// CrashLoopBackOff with the last exit code, CreateContainerConfigError naming the missing Secret or
// ConfigMap in its message), failed containers, and otherwise the first False condition.
#include <kurator/core/detail/waiter_format.hpp>
#include <kurator/core/pod_diagnosis.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <string_view>
#include <tuple>

namespace kurator::kube {
namespace {

constexpr size_t kMaxMessage = 400;  // characters of a status message kept in a summary

const json* find(const json& obj, std::initializer_list<std::string_view> path) {
  const json* cur = &obj;
  for (auto key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end() || it->is_null()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string get_str(const json& obj, std::initializer_list<std::string_view> path) {
  const json* v = find(obj, path);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

long long get_int(const json& obj, std::initializer_list<std::string_view> path, long long def = 0) {
  const json* v = find(obj, path);
  return v && v->is_number_integer() ? v->get<long long>() : def;
}

// A status message on one line, trailing blanks dropped, at most kMaxMessage characters.
std::string clean(std::string s) {
  for (auto& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return detail::truncate_display(s, kMaxMessage);
}

std::string reason_message(const std::string& reason, const std::string& message) {
  if (reason.empty()) return message;
  return message.empty() ? reason : reason + ": " + message;
}

struct ContainerProblem {
  std::string key, text;
  bool blocking = false;
};

// Waiting reasons that pass by themselves.
bool transient_waiting(const std::string& reason) {
  return reason == "ContainerCreating" || reason == "PodInitializing";
}

// The most telling container problem: the first blocking one (init containers first), else the first
// transient one.
std::optional<ContainerProblem> container_problem(const json& pod) {
  std::optional<ContainerProblem> transient;
  for (auto [key, label] : {std::pair{"initContainerStatuses", "init container "},
                            std::pair{"containerStatuses", "container "}}) {
    const json* statuses = find(pod, {"status", key});
    if (!statuses || !statuses->is_array()) continue;
    for (const auto& cs : *statuses) {
      std::string who = label + get_str(cs, {"name"});
      if (const json* waiting = find(cs, {"state", "waiting"})) {
        std::string reason = get_str(*waiting, {"reason"});
        std::string message = clean(get_str(*waiting, {"message"}));
        if (reason.empty()) reason = "waiting";
        ContainerProblem p{who + ": " + reason, {}, !transient_waiting(reason)};
        if (reason == "CrashLoopBackOff") {
          // The back-off message ("back-off 40s restarting failed container=…") only repeats the reason;
          // the last exit is what tells why.
          std::string detail;
          if (const json* last = find(cs, {"lastState", "terminated"})) {
            detail = fmt::format("last exit code {}", get_int(*last, {"exitCode"}));
            std::string why = get_str(*last, {"reason"});
            if (!why.empty()) detail += ": " + why;
            std::string msg = clean(get_str(*last, {"message"}));
            if (!msg.empty()) detail += " (" + msg + ")";
          }
          long long restarts = get_int(cs, {"restartCount"});
          if (restarts > 0) {
            detail += fmt::format("{}{} restart{}", detail.empty() ? "" : ", ", restarts, restarts == 1 ? "" : "s");
          }
          p.text = p.key + (detail.empty() ? "" : " (" + detail + ")");
        } else {
          p.text = who + ": " + reason_message(reason, message);
        }
        if (p.blocking) return p;
        if (!transient) transient = std::move(p);
        continue;
      }
      if (const json* term = find(cs, {"state", "terminated"})) {
        long long code = get_int(*term, {"exitCode"});
        if (code == 0) continue;
        std::string reason = get_str(*term, {"reason"});
        if (reason.empty()) reason = "Error";
        std::string text = fmt::format("{}: {} (exit code {})", who, reason, code);
        std::string msg = clean(get_str(*term, {"message"}));
        if (!msg.empty()) text += ": " + msg;
        return ContainerProblem{who + ": " + reason, text, true};
      }
    }
  }
  return transient;
}

const json* condition(const json& pod, std::string_view type) {
  const json* conds = find(pod, {"status", "conditions"});
  if (!conds || !conds->is_array()) return nullptr;
  for (const auto& c : *conds) {
    if (c.is_object() && get_str(c, {"type"}) == type) return &c;
  }
  return nullptr;
}

// "Ready=False ContainersNotReady" and the message.
std::pair<std::string, std::string> describe_condition(const json& c) {
  std::string status = get_str(c, {"status"});
  std::string key = get_str(c, {"type"}) + "=" + (status.empty() ? "Unknown" : status);
  std::string reason = get_str(c, {"reason"});
  if (!reason.empty()) key += " " + reason;
  return {key, clean(get_str(c, {"message"}))};
}

std::string plural(size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

std::optional<PodDiagnosis> diagnose_pod(const json& pod) {
  if (!pod.is_object()) return std::nullopt;
  PodDiagnosis d;
  d.name = get_str(pod, {"metadata", "name"});
  d.phase = get_str(pod, {"status", "phase"});
  if (d.phase.empty()) d.phase = "Unknown";
  if (d.phase == "Succeeded") return std::nullopt;
  const json* ready = condition(pod, "Ready");
  if (d.phase != "Failed" && ready && get_str(*ready, {"status"}) == "True") return std::nullopt;

  std::string phase = d.phase;
  if (!get_str(pod, {"metadata", "deletionTimestamp"}).empty()) phase += " (terminating)";
  auto set = [&](std::string key, const std::string& text, bool blocking) {
    d.key = std::move(key);
    d.summary = phase + ", " + text;
    d.blocking = blocking;
  };

  if (d.phase == "Failed") {
    // Evicted, DeadlineExceeded, … at the pod level; else the container that failed.
    std::string reason = get_str(pod, {"status", "reason"});
    std::string message = clean(get_str(pod, {"status", "message"}));
    auto problem = container_problem(pod);
    if (!reason.empty() || problem) {
      std::string key = reason.empty() ? problem->key : reason;
      std::string text = reason_message(reason, message);
      if (problem) text += (text.empty() ? "" : "; ") + problem->text;
      set(key, text, true);
    } else {
      d.key = "Failed";
      d.summary = message.empty() ? phase : phase + ", " + message;
      d.blocking = true;
    }
    return d;
  }
  if (const json* s = condition(pod, "PodScheduled"); s && get_str(*s, {"status"}) == "False") {
    auto [key, message] = describe_condition(*s);
    set(key, message.empty() ? key : key + ": " + message, true);
    return d;
  }
  if (auto problem = container_problem(pod)) {
    set(problem->key, problem->text, problem->blocking);
    return d;
  }
  // No container says why: the first condition that is not True (sandbox, init containers, readiness).
  for (const char* type : {"PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"}) {
    if (const json* c = condition(pod, type); c && get_str(*c, {"status"}) != "True") {
      auto [key, message] = describe_condition(*c);
      set(key, message.empty() ? key : key + ": " + message, false);
      return d;
    }
  }
  d.key = d.phase;
  d.summary = phase;
  return d;
}

PodGroups group_pods(const std::vector<json>& pods, size_t max_groups) {
  PodGroups out;
  out.total = pods.size();
  std::vector<PodGroup> all;
  std::vector<std::string> created;  // the representative's creationTimestamp, by group
  for (const auto& pod : pods) {
    auto d = diagnose_pod(pod);
    if (!d) {
      ++out.ready;
      continue;
    }
    std::string ts = get_str(pod, {"metadata", "creationTimestamp"});
    auto it = std::find_if(all.begin(), all.end(), [&](const PodGroup& g) { return g.first.key == d->key; });
    if (it == all.end()) {
      all.push_back(PodGroup{std::move(*d), pod, 0});
      created.push_back(ts);
      continue;
    }
    ++it->more;
    size_t i = static_cast<size_t>(it - all.begin());
    // The oldest pod represents the group: it has had the most time to collect events.
    if (std::pair(ts, d->name) < std::pair(created[i], it->first.name)) {
      it->first = std::move(*d);
      it->pod = pod;
      created[i] = ts;
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const PodGroup& a, const PodGroup& b) {
    if (a.first.blocking != b.first.blocking) return a.first.blocking;
    if (a.more != b.more) return a.more > b.more;
    return a.first.key < b.first.key;
  });
  for (size_t i = 0; i < all.size(); ++i) {
    if (i < max_groups) out.groups.push_back(std::move(all[i]));
    else out.other_unready += all[i].more + 1;
  }
  return out;
}

std::vector<std::string> format_pod_groups(const PodGroups& groups,
                                           const std::map<std::string, std::vector<json>>& events_by_pod,
                                           std::chrono::system_clock::time_point now, size_t max_events) {
  std::vector<std::string> lines;
  for (const auto& g : groups.groups) {
    lines.push_back("pod " + g.first.name + ": " + g.first.summary);
    if (auto it = events_by_pod.find(g.first.name); it != events_by_pod.end()) {
      const auto& events = it->second;
      size_t first = events.size() > max_events ? events.size() - max_events : 0;
      for (size_t i = first; i < events.size(); ++i) lines.push_back("  " + detail::format_event(events[i], now));
    }
    if (g.more > 0) lines.push_back(plural(g.more, "more pod") + ": same reason");
  }
  if (groups.other_unready > 0) {
    lines.push_back(fmt::format("{} not ready for other reasons", plural(groups.other_unready, "more pod")));
  }
  return lines;
}

std::string blocking_hint(const PodGroups& groups, bool short_form) {
  if (groups.groups.empty() || !groups.groups.front().first.blocking) return {};
  const auto& g = groups.groups.front();
  if (short_form) return plural(g.more + 1, "pod") + " " + g.first.key;
  std::string hint = "pod " + g.first.name + ": " + g.first.summary;
  if (g.more > 0) hint += fmt::format(" (and {} with the same reason)", plural(g.more, "more pod"));
  return hint;
}

std::string replicaset_failure(const json& replicaset) {
  const json* c = condition(replicaset, "ReplicaFailure");
  if (!c || get_str(*c, {"status"}) != "True") return {};
  std::string reason = get_str(*c, {"reason"}), message = clean(get_str(*c, {"message"}));
  return "ReplicaSet " + get_str(replicaset, {"metadata", "name"}) + ": ReplicaFailure" +
         (reason.empty() ? "" : " " + reason) + (message.empty() ? "" : ": " + message);
}

std::string workload_hint(const OwnedPods& owned, const PodGroups& groups, bool short_form) {
  if (std::string failure = replicaset_failure(owned.replicaset); !failure.empty()) return failure;
  return blocking_hint(groups, short_form);
}

std::string label_selector(const json& selector) {
  std::vector<std::string> parts;
  if (const json* labels = find(selector, {"matchLabels"}); labels && labels->is_object()) {
    for (const auto& [k, v] : labels->items()) {
      if (v.is_string()) parts.push_back(k + "=" + v.get<std::string>());
    }
  }
  if (const json* exprs = find(selector, {"matchExpressions"}); exprs && exprs->is_array()) {
    for (const auto& e : *exprs) {
      std::string key = get_str(e, {"key"}), op = get_str(e, {"operator"});
      std::string values;
      if (const json* vs = find(e, {"values"}); vs && vs->is_array()) {
        for (const auto& v : *vs) {
          if (v.is_string()) values += (values.empty() ? "" : ",") + v.get<std::string>();
        }
      }
      if (op == "In") parts.push_back(key + " in (" + values + ")");
      else if (op == "NotIn") parts.push_back(key + " notin (" + values + ")");
      else if (op == "Exists") parts.push_back(key);
      else if (op == "DoesNotExist") parts.push_back("!" + key);
    }
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

bool owned_by(const json& obj, const json& owner) {
  std::string uid = get_str(owner, {"metadata", "uid"});
  const json* refs = find(obj, {"metadata", "ownerReferences"});
  if (uid.empty() || !refs || !refs->is_array()) return false;
  return std::any_of(refs->begin(), refs->end(), [&](const json& r) { return get_str(r, {"uid"}) == uid; });
}

const json* newest_owned_replicaset(const json& deployment, const json& items) {
  if (!items.is_array()) return nullptr;
  auto revision = [](const json& rs) {
    std::string r = get_str(rs, {"metadata", "annotations", "deployment.kubernetes.io/revision"});
    try {
      return r.empty() ? 0LL : std::stoll(r);
    } catch (const std::exception&) {
      return 0LL;
    }
  };
  auto rank = [&](const json& rs) {
    return std::tuple(revision(rs), get_str(rs, {"metadata", "creationTimestamp"}),
                      get_str(rs, {"metadata", "name"}));
  };
  const json* best = nullptr;
  for (const auto& rs : items) {
    if (!owned_by(rs, deployment)) continue;
    if (!best || rank(rs) > rank(*best)) best = &rs;
  }
  return best;
}

bool has_pods(const json& obj) {
  if (!obj.is_object()) return false;
  std::string api_version = get_str(obj, {"apiVersion"}), kind = get_str(obj, {"kind"});
  std::string group = api_version.substr(0, api_version.find('/') == std::string::npos ? 0 : api_version.find('/'));
  if (group == "apps") {
    return kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" || kind == "DaemonSet";
  }
  return group == "batch" && kind == "Job";
}

Result<OwnedPods> pods_of(Client& client, const json& obj) {
  OwnedPods out;
  if (!has_pods(obj)) return out;
  ListOptions lo;
  lo.namespace_ = get_str(obj, {"metadata", "namespace"});
  if (lo.namespace_.empty()) lo.namespace_ = "default";
  const json* owner = &obj;
  if (get_str(obj, {"kind"}) == "Deployment") {
    const json* sel = find(obj, {"spec", "selector"});
    lo.label_selector = sel ? label_selector(*sel) : std::string();
    auto sets = client.list("apps/v1", "ReplicaSet", lo);
    if (!sets) return sets.error();
    const json* newest = newest_owned_replicaset(obj, (*sets)["items"]);
    if (!newest) return out;
    out.replicaset = *newest;
    out.replicaset["apiVersion"] = "apps/v1";
    out.replicaset["kind"] = "ReplicaSet";
    owner = &out.replicaset;
  }
  const json* sel = find(*owner, {"spec", "selector"});
  lo.label_selector = sel ? label_selector(*sel) : std::string();
  auto pods = client.list("v1", "Pod", lo);
  if (!pods) return pods.error();
  for (auto& pod : (*pods)["items"]) {
    if (!owned_by(pod, *owner)) continue;
    pod["apiVersion"] = "v1";
    pod["kind"] = "Pod";
    out.pods.push_back(std::move(pod));
  }
  return out;
}

}  // namespace kurator::kube
