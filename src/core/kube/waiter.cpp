// Waiting for many objects at once: one watch thread per (apiVersion, kind, namespace), states decided by
// readiness.cpp, progress drawn by the calling thread.
//
// A group whose objects are all ready ends its watch from the event callback; when the whole wait ends
// (all ready, a failure, timeout, SIGINT) the shared "done" flag is the watches' stop flag, so every
// watch returns within about a second even when no event arrives.
#include <kurator/core/detail/waiter_format.hpp>
#include <kurator/core/pod_diagnosis.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/util/cancel.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace kurator::kube {


WaitTarget WaitTarget::from(const json& obj) {
  WaitTarget t;
  auto str = [](const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!obj.is_object()) return t;
  t.api_version = str(obj, "apiVersion");
  t.kind = str(obj, "kind");
  if (auto md = obj.find("metadata"); md != obj.end() && md->is_object()) {
    t.namespace_ = str(*md, "namespace");
    t.name = str(*md, "name");
  }
  return t;
}

std::string WaitTarget::describe() const {
  return namespace_.empty() ? kind + "/" + name : kind + "/" + namespace_ + "/" + name;
}

namespace detail {

std::string format_duration(std::chrono::milliseconds d) {
  long long ms = std::max<long long>(0, d.count());
  if (ms < 1000) return fmt::format("{}ms", ms);
  long long s = ms / 1000;
  if (s < 60)
    return ms % 1000 == 0 || s >= 10 ? fmt::format("{}s", s) : fmt::format("{}.{}s", s, ms % 1000 / 100);
  long long h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h == 0) return sec == 0 ? fmt::format("{}m", m) : fmt::format("{}m{:02}s", m, sec);
  if (sec != 0) return fmt::format("{}h{:02}m{:02}s", h, m, sec);
  return m == 0 ? fmt::format("{}h", h) : fmt::format("{}h{:02}m", h, m);
}

std::string state_word(Readiness r) {
  switch (r) {
    case Readiness::ready:
      return "ready";
    case Readiness::failed:
      return "failed";
    case Readiness::in_progress:
      break;
  }
  return "waiting";
}

namespace {
size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 lead bytes only
  return n;
}
std::string one_line(std::string s) {
  for (auto& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}
}  // namespace

std::string truncate_display(const std::string& text, size_t width) {
  if (display_width(text) <= width) return text;
  if (width == 0) return {};
  // Keep width-1 characters and an ellipsis.
  size_t chars = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (chars == width - 1) break;
      ++chars;
    }
  }
  return text.substr(0, i) + "…";
}

std::string progress_line(const std::string& what, size_t what_width, const ReadyState& st,
                          std::chrono::milliseconds elapsed, size_t max_cols, bool color) {
  std::string w = truncate_display(what, std::max<size_t>(what_width, 8));
  w += std::string(what_width > display_width(w) ? what_width - display_width(w) : 0, ' ');
  std::string state = state_word(st.state);
  state += std::string(7 - state.size(), ' ');
  std::string tail = "  " + format_duration(elapsed);
  std::string reason = one_line(st.reason);
  if (max_cols > 0) {
    size_t fixed = display_width(w) + 2 + state.size() + 2 + display_width(tail);
    size_t avail = max_cols > fixed ? max_cols - fixed : 0;
    reason = avail < 4 ? std::string() : truncate_display(reason, avail);
  }
  if (color) {
    const char* code = st.state == Readiness::ready    ? "\x1b[32m"
                       : st.state == Readiness::failed ? "\x1b[31m"
                                                       : "\x1b[33m";
    state = code + state + "\x1b[0m";
  }
  return w + "  " + state + "  " + reason + tail;
}

namespace {
// RFC 3339 ("2024-05-01T10:00:00Z", fractions and offsets allowed) to system time.
std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  size_t pos = static_cast<size_t>(consumed);
  while (pos < s.size() && (s[pos] == '.' || std::isdigit(static_cast<unsigned char>(s[pos])))) ++pos;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) == 2) {
      t -= (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    }
  }
  return std::chrono::system_clock::from_time_t(t);
}

std::string str_at(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return {};
    auto it = cur->find(key);
    if (it == cur->end()) return {};
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

long long int_at(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return 0;
    auto it = cur->find(key);
    if (it == cur->end()) return 0;
    cur = &*it;
  }
  return cur->is_number_integer() ? cur->get<long long>() : 0;
}
}  // namespace

// "Warning  BackOff  Back-off restarting failed container (x5, 30s ago)" for core/v1 and events.k8s.io/v1.
std::string format_event(const json& ev, std::chrono::system_clock::time_point now) {
  std::string type = str_at(ev, {"type"});
  std::string reason = str_at(ev, {"reason"});
  std::string message = str_at(ev, {"message"});
  if (message.empty()) message = str_at(ev, {"note"});
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  long long count = int_at(ev, {"count"});
  if (count == 0) count = int_at(ev, {"series", "count"});
  if (count == 0) count = int_at(ev, {"deprecatedCount"});
  std::string when;
  for (auto path : {std::initializer_list<const char*>{"lastTimestamp"},
                    {"series", "lastObservedTime"},
                    {"eventTime"},
                    {"deprecatedLastTimestamp"},
                    {"metadata", "creationTimestamp"}}) {
    when = str_at(ev, path);
    if (!when.empty()) break;
  }
  std::string extra;
  if (count > 1) extra = fmt::format("x{}", count);
  if (auto t = parse_time(when)) {
    auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - *t);
    if (age.count() < 0) age = std::chrono::milliseconds(0);
    if (!extra.empty()) extra += ", ";
    extra += age < std::chrono::seconds(1)
                 ? std::string("just now")
                 : format_duration(std::chrono::duration_cast<std::chrono::seconds>(age)) + " ago";
  }
  std::string out = type.empty() ? "Normal" : type;
  if (!reason.empty()) out += "  " + reason;
  if (!message.empty()) out += "  " + one_line(message);
  if (!extra.empty()) out += " (" + extra + ")";
  return out;
}

std::string timeout_message(std::chrono::milliseconds timeout,
                            const std::vector<std::pair<std::string, ReadyState>>& unready) {
  std::string list;
  for (const auto& [what, st] : unready) {
    if (!list.empty()) list += "; ";
    list += what + ": " + one_line(st.reason);
  }
  return fmt::format("timed out after {} waiting for {}", format_duration(timeout), list);
}

}  // namespace detail

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
constexpr milliseconds kTick{200};     // how often the waiting thread checks for SIGINT/SIGTERM
constexpr milliseconds kRedraw{1000};  // TTY: refresh of the elapsed column
// Unready workloads' pods are looked at this long after the start, then this often, at most this many
// workloads a round, for the progress line to say what blocks them.
constexpr milliseconds kDiagnoseFirst{3000};
constexpr milliseconds kDiagnoseEvery{5000};
constexpr size_t kDiagnosePerRound = 8;
constexpr const char* kNotFound = "not found yet";

struct Entry {
  WaitTarget target;
  std::string what;
  ReadyState state{Readiness::in_progress, kNotFound};
  json object;             // last seen; null while not found
  Clock::duration took{};  // how long it took to become ready
  std::string hint;        // what blocks its pods ("pod web-…: Pending, PodScheduled=False …"), if anything
  bool dirty = false;      // state, reason or hint changed since it was last printed
};

// The reason shown for an entry: its state's, and while it is not ready what blocks its pods.
ReadyState shown_state(const Entry& e) {
  ReadyState st = e.state;
  if (!st.ready() && !e.hint.empty()) st.reason += "; " + e.hint;
  return st;
}

struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Entry> entries;
  std::atomic<bool> done{false};
  bool interrupted = false;
  Clock::time_point start;
};

struct Group {
  std::string api_version, kind, ns;
  std::vector<size_t> members;  // indexes into Shared::entries
};

// Sets an entry's state; marks it for printing when something visible changed. Caller holds sh.mu.
void set_state(Shared& sh, Entry& e, ReadyState st) {
  if (st.state == e.state.state && st.reason == e.state.reason) return;
  if (st.ready() && !e.state.ready()) e.took = Clock::now() - sh.start;
  e.state = std::move(st);
  e.dirty = true;
}

void watch_group(Client& client, Shared& sh, const Group& g, Clock::time_point deadline) {
  milliseconds backoff{500};
  WatchOptions wo;
  wo.namespace_ = g.ns;
  if (g.members.size() == 1) wo.field_selector = "metadata.name=" + sh.entries[g.members[0]].target.name;
  wo.stop = &sh.done;
  std::string label = g.kind + (g.ns.empty() ? "" : " in " + g.ns);

  auto all_ready = [&] {
    return std::all_of(g.members.begin(), g.members.end(),
                       [&](size_t i) { return sh.entries[i].state.ready(); });
  };
  auto on_event = [&](const WatchEvent& ev) {
    if (sh.done.load()) return false;
    if (ev.type != "ADDED" && ev.type != "MODIFIED" && ev.type != "DELETED") return true;
    std::string name = detail::str_at(ev.object, {"metadata", "name"});
    std::string ns = detail::str_at(ev.object, {"metadata", "namespace"});
    std::lock_guard lk(sh.mu);
    for (size_t i : g.members) {
      Entry& e = sh.entries[i];
      if (e.target.name != name || e.target.namespace_ != ns) continue;
      if (ev.type == "DELETED") {
        e.object = nullptr;
        set_state(sh, e, {Readiness::in_progress, e.state.ready() ? "deleted" : kNotFound});
      } else {
        e.object = ev.object;
        set_state(sh, e, evaluate(ev.object));
      }
      sh.cv.notify_all();
      break;
    }
    // Once all of this group's objects are ready its watch ends; the others go on.
    return !all_ready() && !sh.done.load();
  };

  while (!sh.done.load()) {
    auto now = Clock::now();
    if (now >= deadline) return;
    wo.timeout = std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - now));
    auto st = client.watch(g.api_version, g.kind, wo, on_event);
    if (st.ok()) {  // this group is ready, or the wait is over
      spdlog::debug("wait: watch of {} ended", label);
      return;
    }
    if (st.error().exit == ExitCode::timeout) return;
    if (st.error().exit == ExitCode::interrupted) {
      std::lock_guard lk(sh.mu);
      sh.interrupted = true;
      sh.cv.notify_all();
      return;
    }
    // The kind may not be served yet (its CRD was just created) or the watch was refused: show that on
    // the objects not seen yet, refresh discovery and retry with backoff until the deadline.
    spdlog::debug("wait: watching {} failed: {}", label, st.error().message);
    client.refresh_discovery();
    std::unique_lock lk(sh.mu);
    for (size_t i : g.members) {
      Entry& e = sh.entries[i];
      if (e.object.is_null())
        set_state(sh, e, {Readiness::in_progress, "cannot watch: " + st.error().message});
    }
    sh.cv.notify_all();
    sh.cv.wait_until(lk, std::min(deadline, Clock::now() + backoff), [&] { return sh.done.load(); });
    backoff = std::min(backoff * 2, milliseconds(5000));
  }
}

// While the wait goes on, looks at the pods of unready workloads now and then (outside the lock) and sets
// each entry's hint to what blocks them, for the progress line.
void diagnose_pods(Client& client, Shared& sh) {
  size_t rotate = 0;  // where the next round starts, so that every workload gets its turn
  std::unique_lock lk(sh.mu);
  auto next = sh.start + kDiagnoseFirst;
  while (!sh.done.load()) {
    if (sh.cv.wait_until(lk, next, [&] { return sh.done.load(); })) return;
    std::vector<std::pair<size_t, json>> todo;
    for (size_t n = 0; n < sh.entries.size() && todo.size() < kDiagnosePerRound; ++n) {
      size_t i = (rotate + n) % sh.entries.size();
      const Entry& e = sh.entries[i];
      if (!e.state.ready() && has_pods(e.object)) todo.emplace_back(i, e.object);
    }
    rotate = todo.empty() ? 0 : (todo.back().first + 1) % sh.entries.size();
    lk.unlock();
    for (auto& [i, obj] : todo) {
      if (sh.done.load()) break;
      auto owned = pods_of(client, obj);
      if (!owned) {
        spdlog::debug("wait: pods of {}: {}", describe(obj), owned.error().message);
        continue;
      }
      std::string hint = workload_hint(*owned, group_pods(owned->pods, 1), false);
      std::lock_guard g(sh.mu);
      Entry& e = sh.entries[i];
      if (!e.state.ready() && e.hint != hint) {
        e.hint = std::move(hint);
        e.dirty = true;
        sh.cv.notify_all();
      }
    }
    lk.lock();
    next = Clock::now() + kDiagnoseEvery;
  }
}

size_t terminal_columns(std::ostream& out, size_t* rows) {
  int fd = &out == &std::cerr || &out == &std::clog ? STDERR_FILENO : &out == &std::cout ? STDOUT_FILENO : -1;
  struct winsize ws {};
  if (fd >= 0 && ::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    if (rows) *rows = ws.ws_row;
    return ws.ws_col;
  }
  if (rows) *rows = 0;
  if (const char* c = std::getenv("COLUMNS")) {
    int n = std::atoi(c);
    if (n > 0) return static_cast<size_t>(n);
  }
  return 120;
}

std::string wall_clock() {
  return fmt::format("{:%H:%M:%S}", fmt::localtime(std::time(nullptr)));
}

class Progress {
 public:
  Progress(std::ostream& out, bool tty, const std::vector<Entry>& entries, Clock::time_point start)
      : m_out(out), m_tty(tty), m_start(start) {
    m_color = tty && std::getenv("NO_COLOR") == nullptr;
    for (const auto& e : entries) m_what_width = std::max(m_what_width, e.what.size());
    m_what_width = std::min<size_t>(m_what_width, 60);
  }

  void header(const std::vector<Entry>& entries, milliseconds timeout) {
    if (m_tty) {
      m_out << fmt::format("waiting for {} object{} (timeout {}):\n", entries.size(),
                           entries.size() == 1 ? "" : "s", detail::format_duration(timeout));
    } else {
      std::string list;
      for (size_t i = 0; i < entries.size() && i < 10; ++i) list += (i ? ", " : "") + entries[i].what;
      if (entries.size() > 10) list += fmt::format(" and {} more", entries.size() - 10);
      m_out << fmt::format("{} waiting for {} object{}: {} (timeout {})\n", wall_clock(), entries.size(),
                           entries.size() == 1 ? "" : "s", list, detail::format_duration(timeout));
    }
    m_out.flush();
  }

  // Prints what changed (plain mode) or redraws the block (TTY). Caller holds the entries' lock.
  void update(std::vector<Entry>& entries, bool force) {
    auto now = Clock::now();
    bool any_dirty = std::any_of(entries.begin(), entries.end(), [](const Entry& e) { return e.dirty; });
    if (!m_tty) {
      for (auto& e : entries) {
        if (!e.dirty) continue;
        m_out << wall_clock() << "  " << line(e, now, 0) << '\n';
      }
    } else if (any_dirty || force || now - m_last_draw >= kRedraw) {
      draw(entries, now);
    }
    for (auto& e : entries) e.dirty = false;
    m_out.flush();
  }

 private:
  std::string line(const Entry& e, Clock::time_point now, size_t cols) const {
    // Tenths of a second: a plain log shows when each object changed, to the 100 ms.
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(e.state.ready() ? e.took : now - m_start);
    elapsed -= elapsed % 100;
    return detail::progress_line(e.what, m_what_width, shown_state(e), elapsed, cols, m_color && cols > 0);
  }

  void draw(const std::vector<Entry>& entries, Clock::time_point now) {
    size_t rows = 0;
    size_t cols = terminal_columns(m_out, &rows);
    size_t max_lines = rows > 4 ? rows - 2 : 40;
    std::vector<const Entry*> shown;
    if (entries.size() <= max_lines) {
      for (const auto& e : entries) shown.push_back(&e);
    } else {  // unready first; the rest summarised
      for (const auto& e : entries) {
        if (!e.state.ready() && shown.size() + 1 < max_lines) shown.push_back(&e);
      }
    }
    std::string buf;
    if (m_lines > 0) buf += fmt::format("\x1b[{}A", m_lines);
    buf += "\r\x1b[J";
    for (const Entry* e : shown) buf += line(*e, now, cols - 1) + "\n";
    size_t lines = shown.size();
    if (shown.size() < entries.size()) {
      size_t ready_n =
          std::count_if(entries.begin(), entries.end(), [](const Entry& e) { return e.state.ready(); });
      buf += fmt::format("… and {} more ({} of {} ready)\n", entries.size() - shown.size(), ready_n,
                         entries.size());
      ++lines;
    }
    m_out << buf;
    m_lines = lines;
    m_last_draw = now;
  }

  std::ostream& m_out;
  bool m_tty;
  bool m_color = false;
  Clock::time_point m_start;
  Clock::time_point m_last_draw{};
  size_t m_what_width = 0;
  size_t m_lines = 0;
};

void print_conditions(std::ostream& out, const json& obj, const std::string& indent) {
  std::string conds = format_conditions(obj);
  if (conds.empty()) return;
  out << indent << "conditions:\n";
  size_t start = 0;
  while (start <= conds.size()) {
    size_t nl = conds.find('\n', start);
    out << indent << "  " << conds.substr(start, nl == std::string::npos ? std::string::npos : nl - start) << '\n';
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

// The pods a workload controls (through its newest ReplicaSet for a Deployment): the unready ones,
// a few, deduplicated by reason, with their recent events. Returns the short blocking hint
// ("2 pods PodScheduled=False Unschedulable"), empty when nothing blocks.
std::string print_pods(Client& client, std::ostream& out, const json& obj,
                       std::chrono::system_clock::time_point now) {
  auto owned = pods_of(client, obj);
  if (!owned) {
    out << "  pods: unavailable: " << owned.error().message << '\n';
    return {};
  }
  std::string owner;
  if (detail::str_at(obj, {"kind"}) == "Deployment") {
    if (owned->replicaset.is_null()) {
      out << "  pods: none (no ReplicaSet yet)\n";
      return {};
    }
    owner = "ReplicaSet/" + detail::str_at(owned->replicaset, {"metadata", "name"});
    // A ReplicaSet that cannot create its pods (quota, missing service account) says so in its
    // ReplicaFailure condition and FailedCreate events.
    bool header = false;
    auto rs_header = [&] {
      if (!header) out << "  " << owner << ":\n";
      header = true;
    };
    if (!format_conditions(owned->replicaset).empty()) {
      rs_header();
      print_conditions(out, owned->replicaset, "    ");
    }
    if (auto events = client.events_for(owned->replicaset)) {
      std::vector<std::string> warnings;
      for (const auto& ev : *events) {
        if (detail::str_at(ev, {"type"}) == "Warning") warnings.push_back(detail::format_event(ev, now));
      }
      if (!warnings.empty()) {
        rs_header();
        out << "    warning events:\n";
        for (size_t i = warnings.size() > 3 ? warnings.size() - 3 : 0; i < warnings.size(); ++i)
          out << "      " << warnings[i] << '\n';
      }
    }
  }
  auto groups = group_pods(owned->pods);
  std::string of = owner.empty() ? "" : " of " + owner;
  if (groups.total == 0) {
    out << "  pods" << of << ": none\n";
    return workload_hint(*owned, groups, true);
  }
  out << fmt::format("  pods{} ({}/{} ready):\n", of, groups.ready, groups.total);
  std::map<std::string, std::vector<json>> events;
  for (const auto& g : groups.groups) {
    if (auto ev = client.events_for(g.pod)) events[g.first.name] = std::move(*ev);
    else spdlog::debug("wait: events of pod {}: {}", g.first.name, ev.error().message);
  }
  for (const auto& line : format_pod_groups(groups, events, now)) out << "    " << line << '\n';
  return workload_hint(*owned, groups, true);
}

// Conditions and recent events of objects that are not ready, and of the pods they control, for the user
// to see why. Returns, by entry, the short reason their pods are blocked (when they are).
std::map<const Entry*, std::string> print_diagnostics(Client& client, std::ostream& out,
                                                      const std::vector<const Entry*>& entries) {
  auto now = std::chrono::system_clock::now();
  std::map<const Entry*, std::string> hints;
  for (const Entry* e : entries) {
    out << e->what << ": " << e->state.reason << '\n';
    if (e->object.is_null()) continue;
    print_conditions(out, e->object, "  ");
    if (detail::str_at(e->object, {"kind"}) == "Pod" && detail::str_at(e->object, {"apiVersion"}) == "v1") {
      if (auto d = diagnose_pod(e->object)) out << "  pod: " << d->summary << '\n';
    }
    auto events = client.events_for(e->object);
    if (!events) {
      out << "  events: unavailable: " << events.error().message << '\n';
    } else if (events->empty()) {
      out << "  events: none\n";
    } else {
      out << "  recent events:\n";
      size_t first = events->size() > 10 ? events->size() - 10 : 0;
      for (size_t i = first; i < events->size(); ++i)
        out << "    " << detail::format_event((*events)[i], now) << '\n';
    }
    if (has_pods(e->object)) {
      std::string hint = print_pods(client, out, e->object, now);
      if (!hint.empty()) hints[e] = std::move(hint);
    }
  }
  out.flush();
  return hints;
}

}  // namespace

Status wait_ready(Client& client, const std::vector<WaitTarget>& targets, const WaitOptions& opts) {
  std::ostream& out = opts.progress ? *opts.progress : std::cerr;
  Shared sh;
  sh.start = Clock::now();
  auto deadline = sh.start + opts.timeout;

  std::set<std::string> seen;
  for (const auto& t : targets) {
    std::string key = t.api_version + "|" + t.kind + "|" + t.namespace_ + "|" + t.name;
    if (!seen.insert(key).second) continue;
    Entry e;
    e.target = t;
    e.what = t.describe();
    sh.entries.push_back(std::move(e));
  }
  if (sh.entries.empty()) return {};

  std::vector<Group> groups;
  std::map<std::string, size_t> group_of;
  for (size_t i = 0; i < sh.entries.size(); ++i) {
    const auto& t = sh.entries[i].target;
    std::string key = t.api_version + "|" + t.kind + "|" + t.namespace_;
    auto [it, inserted] = group_of.emplace(key, groups.size());
    if (inserted) groups.push_back(Group{t.api_version, t.kind, t.namespace_, {}});
    groups[it->second].members.push_back(i);
  }

  Progress progress(out, opts.tty, sh.entries, sh.start);
  progress.header(sh.entries, opts.timeout);
  spdlog::debug("wait: {} objects in {} watch groups", sh.entries.size(), groups.size());

  std::vector<std::thread> threads;
  threads.reserve(groups.size() + 1);
  for (const auto& g : groups) {
    threads.emplace_back([&client, &sh, &g, deadline] {
      try {
        watch_group(client, sh, g, deadline);
      } catch (const std::exception& ex) {
        std::lock_guard lk(sh.mu);
        for (size_t i : g.members) {
          if (!sh.entries[i].state.ready())
            set_state(sh, sh.entries[i], {Readiness::in_progress, std::string("watch failed: ") + ex.what()});
        }
        sh.cv.notify_all();
      }
    });
  }
  bool any_workload = std::any_of(sh.entries.begin(), sh.entries.end(), [](const Entry& e) {
    json probe = {{"apiVersion", e.target.api_version}, {"kind", e.target.kind}};
    return has_pods(probe);
  });
  if (any_workload) {
    threads.emplace_back([&client, &sh] {
      try {
        diagnose_pods(client, sh);
      } catch (const std::exception& ex) {
        spdlog::debug("wait: looking at pods failed: {}", ex.what());
      }
    });
  }

  enum class Outcome { ready, failed, timeout, interrupted } outcome;
  {
    std::unique_lock lk(sh.mu);
    while (true) {
      progress.update(sh.entries, false);
      auto now = Clock::now();
      if (std::all_of(sh.entries.begin(), sh.entries.end(), [](const Entry& e) { return e.state.ready(); })) {
        outcome = Outcome::ready;
        break;
      }
      if (std::any_of(sh.entries.begin(), sh.entries.end(),
                      [](const Entry& e) { return e.state.state == Readiness::failed; })) {
        outcome = Outcome::failed;
        break;
      }
      if (sh.interrupted || cancel::requested()) {
        outcome = Outcome::interrupted;
        break;
      }
      if (now >= deadline) {
        outcome = Outcome::timeout;
        break;
      }
      sh.cv.wait_until(lk, std::min(deadline, now + kTick));
    }
    sh.done.store(true);
    sh.cv.notify_all();
  }
  for (auto& t : threads) t.join();
  progress.update(sh.entries, true);  // final picture (watch threads are gone: no lock needed)

  auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - sh.start);
  std::vector<const Entry*> unready, failed;
  for (const auto& e : sh.entries) {
    if (e.state.state == Readiness::failed) failed.push_back(&e);
    if (!e.state.ready()) unready.push_back(&e);
  }
  switch (outcome) {
    case Outcome::ready:
      out << fmt::format("all {} object{} ready after {}\n", sh.entries.size(),
                         sh.entries.size() == 1 ? "" : "s",
                         detail::format_duration(std::chrono::duration_cast<std::chrono::seconds>(elapsed)));
      out.flush();
      return {};
    case Outcome::failed: {
      auto hints = print_diagnostics(client, out, failed);
      std::string msg;
      for (const Entry* e : failed) {
        msg += (msg.empty() ? "" : "; ") + e->what + ": " + e->state.reason;
        if (auto it = hints.find(e); it != hints.end()) msg += " (" + it->second + ")";
      }
      return Error(msg, ExitCode::failure);
    }
    case Outcome::interrupted:
      return Error(fmt::format("interrupted while waiting for {} object{} to become ready", unready.size(),
                               unready.size() == 1 ? "" : "s"),
                   ExitCode::interrupted);
    case Outcome::timeout:
      break;
  }
  auto hints = print_diagnostics(client, out, unready);
  std::vector<std::pair<std::string, ReadyState>> list;
  for (const Entry* e : unready) {
    ReadyState st = e->state;
    if (auto it = hints.find(e); it != hints.end()) st.reason += " (" + it->second + ")";
    list.emplace_back(e->what, st);
  }
  return Error(detail::timeout_message(opts.timeout, list), ExitCode::timeout,
               "the conditions, events and pods printed above show what the objects are waiting for");
}

}  // namespace kurator::kube
