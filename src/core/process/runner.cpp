// SystemRunner: fork + execve of an argv (PATH lookup done here), each child in its own process
// group, stdout/stderr captured through poll() while stdin is written, timeouts and kurator's own
// SIGINT/SIGTERM end the whole group (SIGTERM, then SIGKILL after Spec::kill_grace).
#include <kurator/core/process.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/log.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <spdlog/spdlog.h>
#include <string_view>

extern char** environ;

namespace kurator::process {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kWriteChunk = 64 * 1024;
constexpr size_t kUncapturedErrTail = 64 * 1024;  // err kept when capture_output is false
constexpr size_t kMaxLine = 1024 * 1024;          // a longer line is handed on in pieces
constexpr milliseconds kTick{100};                // how often the cancel flag is looked at
constexpr milliseconds kTickNoPidfd{10};          // exit polling when pidfd_open is unavailable
constexpr milliseconds kDrainAfterExit{250};      // output still open by leftovers after a normal exit
constexpr milliseconds kDrainAfterKill{2000};     // after SIGKILL to the group
constexpr milliseconds kGroupPoll{20};            // waiting for the group to empty after SIGTERM
constexpr size_t kDescribeLines = 20;
constexpr size_t kDescribeMaxChars = 4000;

std::string errno_text(int err) {
  char buf[256];
  return ::strerror_r(err, buf, sizeof buf);  // GNU variant: returns the message
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : m_fd(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  int release() {
    int fd = m_fd;
    m_fd = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }

 private:
  int m_fd = -1;
};

Status make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error("cannot create a pipe: " + errno_text(errno));
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return {};
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    return static_cast<int>(fd);
  }
#else
  (void)pid;
#endif
  return -1;
}

// True while a process that still runs (not a zombie) is left in the process group. Orphaned
// members become zombies of init, which may reap them late: those do not count.
bool group_alive(pid_t pgid) {
  if (::kill(-pgid, 0) != 0 && errno != EPERM) return false;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return true;
  bool alive = false;
  while (dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    char path[sizeof entry->d_name + 16];
    std::snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    // "pid (comm) S ppid pgrp ..."; comm may hold spaces and parentheses: parse after the last ')'.
    const char* rest = std::strrchr(buf, ')');
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (rest == nullptr || std::sscanf(rest + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') {
      alive = true;
      break;
    }
  }
  ::closedir(proc);
  return alive;
}

// ---- environment and PATH --------------------------------------------------------------------

std::vector<std::string> build_env(const Spec& spec) {
  std::vector<std::string> out;
  if (spec.inherit_env && environ != nullptr) {
    std::set<std::string_view> drop(spec.unset_env.begin(), spec.unset_env.end());
    for (const auto& [name, value] : spec.env) drop.insert(name);
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view entry(*e);
      auto eq = entry.find('=');
      if (eq == std::string_view::npos) continue;
      if (drop.count(entry.substr(0, eq))) continue;
      out.emplace_back(entry);
    }
  }
  for (const auto& [name, value] : spec.env) out.push_back(name + "=" + value);
  return out;
}

// The PATH the program is looked up in: the child's own PATH, else kurator's, else a default.
std::string lookup_path(const std::vector<std::string>& child_env) {
  for (const auto& entry : child_env) {
    if (entry.rfind("PATH=", 0) == 0) return entry.substr(5);
  }
  if (const char* p = ::getenv("PATH"); p != nullptr) return p;
  return "/usr/local/bin:/usr/bin:/bin";
}

Result<std::string> resolve_program(const std::string& program, const std::string& path) {
  if (program.find('/') != std::string::npos) return program;  // exec reports problems through the pipe
  bool found_not_executable = false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      found_not_executable = true;
    }
    start = end + 1;
  }
  if (found_not_executable) {
    return Error(
        "cannot start " + program + ": found in PATH but not executable (" + errno_text(EACCES) + ")",
        ExitCode::failure, "check the file's permissions");
  }
  return Error("cannot start " + program + ": not found in PATH", ExitCode::failure,
               "install " + program + " or add its directory to PATH");
}

// ---- the child side (only async-signal-safe calls after fork) ---------------------------------

enum class ChildStage : int { setup = 1, chdir = 2, exec = 3 };
struct ChildReport {
  int stage;
  int err;
};

[[noreturn]] void report_and_exit(int report_fd, ChildStage stage, int err) {
  ChildReport report{static_cast<int>(stage), err};
  ssize_t n;
  do {
    n = ::write(report_fd, &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  ::_exit(127);
}

[[noreturn]] void exec_child(const char* path, char* const* argv, char* const* envp, const char* cwd,
                             int in_fd, int out_fd, int err_fd, int report_fd) {
  ::setpgid(0, 0);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGPIPE, &dfl, nullptr);  // kurator ignores SIGPIPE; its children should not
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Lift every fd above 2 first, so that dup2 onto 0/1/2 cannot clobber one still needed.
  int lifted[4] = {in_fd, out_fd, err_fd, report_fd};
  for (int& fd : lifted) {
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (moved < 0) report_and_exit(report_fd, ChildStage::setup, errno);
    fd = moved;
  }
  report_fd = lifted[3];
  for (int target = 0; target < 3; ++target) {
    if (::dup2(lifted[target], target) < 0) report_and_exit(report_fd, ChildStage::setup, errno);
  }
  if (cwd != nullptr && ::chdir(cwd) != 0) report_and_exit(report_fd, ChildStage::chdir, errno);
#ifdef SYS_close_range
  // Nothing but 0/1/2 (and the report pipe, which is close-on-exec) reaches the program.
  if (report_fd > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(report_fd - 1), 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(report_fd + 1), ~0u, 0u);
#endif
  ::execve(path, argv, envp);
  report_and_exit(report_fd, ChildStage::exec, errno);
}

// ---- the parent side --------------------------------------------------------------------------

// Blocks SIGPIPE in this thread while stdin is written (a child may close its stdin early: that
// must be EPIPE, not the death of kurator) and discards the SIGPIPE that this left pending.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &set, &m_old);
  }
  ~SigpipeGuard() {
    if (m_epipe && !sigismember(&m_old, SIGPIPE)) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGPIPE);
      struct timespec zero {};
      while (::sigtimedwait(&set, nullptr, &zero) == SIGPIPE) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
  }
  void saw_epipe() { m_epipe = true; }

 private:
  sigset_t m_old;
  bool m_epipe = false;
};

// Makes sure a started child never outlives an early return or an exception (from on_line).
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : m_pid(pid) {}
  ~ChildGuard() {
    if (m_reaped) return;
    ::kill(-m_pid, SIGKILL);
    ::kill(m_pid, SIGKILL);
    wait_blocking();
  }
  int wait_blocking() {
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_reaped = true;
    return status;
  }
  bool try_wait(int& status) {
    pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid || (r < 0 && errno == ECHILD)) {
      m_reaped = true;
      return true;
    }
    return false;
  }

 private:
  pid_t m_pid;
  bool m_reaped = false;
};

// One captured output stream.
struct Stream {
  Fd fd;
  bool is_err = false;
  size_t limit = 0;        // bytes kept
  bool keep_tail = false;  // stderr keeps its last `limit` bytes, stdout its first
  bool dropped = false;
  std::string data;
  std::string partial;  // the incomplete last line, when lines are wanted
};

class LineSink {
 public:
  explicit LineSink(const Spec& spec)
      : m_spec(spec), m_log(!spec.log_prefix.empty() && spdlog::should_log(spdlog::level::debug)) {}
  bool wanted() const { return m_log || static_cast<bool>(m_spec.on_line); }

  void feed(Stream& s, std::string_view chunk) {
    size_t pos = 0;
    while (pos < chunk.size()) {
      size_t nl = chunk.find('\n', pos);
      if (nl == std::string_view::npos) {
        s.partial.append(chunk.substr(pos));
        if (s.partial.size() >= kMaxLine) {
          emit(s.partial, s.is_err);
          s.partial.clear();
        }
        return;
      }
      if (s.partial.empty()) {
        emit(chunk.substr(pos, nl - pos), s.is_err);
      } else {
        s.partial.append(chunk.substr(pos, nl - pos));
        emit(s.partial, s.is_err);
        s.partial.clear();
      }
      pos = nl + 1;
    }
  }
  void flush(Stream& s) {
    if (!s.partial.empty()) emit(s.partial, s.is_err);
    s.partial.clear();
  }

 private:
  void emit(std::string_view line, bool is_err) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (m_log) spdlog::debug("[{}] {}", m_spec.log_prefix, log::redact(line));
    if (m_spec.on_line) m_spec.on_line(line, is_err);
  }

  const Spec& m_spec;
  bool m_log;
};

void capture(Stream& s, const char* buf, size_t n) {
  if (s.limit == 0) {
    s.dropped = s.dropped || n > 0;
    return;
  }
  if (!s.keep_tail) {
    size_t room = s.limit > s.data.size() ? s.limit - s.data.size() : 0;
    size_t take = std::min(room, n);
    s.data.append(buf, take);
    if (take < n) s.dropped = true;
    return;
  }
  s.data.append(buf, n);
  if (s.data.size() > 2 * s.limit) {
    s.data.erase(0, s.data.size() - s.limit);
    s.dropped = true;
  }
}

void finish_capture(Stream& s) {
  if (s.keep_tail && s.data.size() > s.limit) {
    s.data.erase(0, s.data.size() - s.limit);
    s.dropped = true;
  }
}

// argv for the debug log: values of secret-looking options are hidden, env values never shown.
std::string loggable_command(const Spec& spec) {
  std::string line;
  bool hide_next = false;
  for (const auto& arg : spec.argv) {
    if (!line.empty()) line += ' ';
    if (hide_next) {
      line += "<redacted>";
      hide_next = false;
      continue;
    }
    line += arg;
    std::string lower = arg;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.rfind("-", 0) == 0 && lower.find('=') == std::string::npos &&
        (lower.find("token") != std::string::npos || lower.find("password") != std::string::npos ||
         lower.find("secret") != std::string::npos)) {
      hide_next = true;
    }
  }
  return log::redact(line);
}

void log_start(const Spec& spec, const std::string& path) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  std::string extra;
  if (!spec.env.empty()) {
    extra += "; env set:";
    for (const auto& [name, value] : spec.env) extra += " " + name;  // names only, never values
  }
  if (!spec.unset_env.empty()) {
    extra += "; env unset:";
    for (const auto& name : spec.unset_env) extra += " " + name;
  }
  if (!spec.inherit_env) extra += "; environment not inherited";
  if (!spec.cwd.empty()) extra += "; cwd " + spec.cwd.string();
  if (spec.timeout.count() > 0) extra += "; timeout " + std::to_string(spec.timeout.count()) + "ms";
  spdlog::debug("running {} ({}{})", loggable_command(spec), path, extra);
}

std::string format_duration(milliseconds d) {
  long long ms = d.count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms % 1000 != 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  long long s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  std::string out = std::to_string(s / 60) + "m";
  if (s % 60 != 0) out += std::to_string(s % 60) + "s";
  return out;
}

// The last `max_lines` non-blank-trailing lines of `text`, at most kDescribeMaxChars.
std::string tail_lines(std::string_view text, size_t max_lines) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return {};
  size_t start = text.size();
  size_t lines = 0;
  while (start > 0) {
    size_t nl = text.rfind('\n', start - 1);
    if (nl == std::string_view::npos) {
      start = 0;
      break;
    }
    if (++lines == max_lines) {
      start = nl + 1;
      break;
    }
    start = nl;
  }
  std::string_view tail = text.substr(start);
  while (!tail.empty() && (tail.front() == '\n' || tail.front() == '\r')) tail.remove_prefix(1);
  std::string out;
  if (tail.size() > kDescribeMaxChars) {
    out = "..." + std::string(tail.substr(tail.size() - kDescribeMaxChars));
  } else {
    out = std::string(tail);
  }
  return log::redact(out);
}

}  // namespace

// ---- Outcome ----------------------------------------------------------------------------------

std::string Outcome::describe(const std::string& program) const {
  std::string text;
  bool failed = true;
  if (interrupted) {
    return program + " was interrupted";
  } else if (timed_out) {
    text = program + " timed out";
    if (timeout.count() > 0) text += " after " + format_duration(timeout);
  } else if (term_signal != 0) {
    text = program + " was killed by signal " + std::to_string(term_signal);
  } else if (exit_code >= 0) {
    text = program + " exited with code " + std::to_string(exit_code);
    failed = exit_code != 0;
  } else {
    text = program + " did not finish normally";
  }
  if (failed) {
    // Most tools explain failures on stderr; some (ansible-playbook) on stdout.
    std::string details = tail_lines(err, kDescribeLines);
    if (details.empty()) details = tail_lines(out, kDescribeLines);
    if (!details.empty()) text += ": " + details;
  }
  return text;
}

// ---- SystemRunner -----------------------------------------------------------------------------

Result<Outcome> SystemRunner::run(const Spec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return Error("cannot start a program: empty command line");
  const std::string& program = spec.argv[0];
  Outcome outcome;
  outcome.timeout = spec.timeout;
  if (cancel::requested()) {  // kurator is already shutting down: start nothing
    outcome.interrupted = true;
    return outcome;
  }

  std::vector<std::string> env_strings = build_env(spec);
  auto path = resolve_program(program, lookup_path(env_strings));
  if (!path) return path.error();
  log_start(spec, *path);

  Fd in_read, in_write, out_read, out_write, err_read, err_write, report_read, report_write;
  if (spec.stdin_data) {
    KURATOR_TRY(make_pipe(in_read, in_write));
  } else {
    in_read.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!in_read.valid()) return Error("cannot open /dev/null: " + errno_text(errno));
  }
  KURATOR_TRY(make_pipe(out_read, out_write));
  KURATOR_TRY(make_pipe(err_read, err_write));
  KURATOR_TRY(make_pipe(report_read, report_write));

  std::vector<char*> argv_ptrs;
  for (const auto& a : spec.argv) argv_ptrs.push_back(const_cast<char*>(a.c_str()));
  argv_ptrs.push_back(nullptr);
  std::vector<char*> env_ptrs;
  for (const auto& e : env_strings) env_ptrs.push_back(const_cast<char*>(e.c_str()));
  env_ptrs.push_back(nullptr);
  std::string cwd = spec.cwd.string();

  SigpipeGuard sigpipe;
  pid_t pid = ::fork();
  if (pid < 0) return Error("cannot start " + program + ": fork failed: " + errno_text(errno));
  if (pid == 0) {
    exec_child(path->c_str(), argv_ptrs.data(), env_ptrs.data(), cwd.empty() ? nullptr : cwd.c_str(),
               in_read.get(), out_write.get(), err_write.get(), report_write.get());
  }
  ::setpgid(pid, pid);  // also done by the child; whichever runs first wins the race
  ChildGuard child(pid);
  in_read.reset();
  out_write.reset();
  err_write.reset();
  report_write.reset();

  // The report pipe closes on a successful exec (O_CLOEXEC) or carries the errno of the failure.
  ChildReport report{};
  size_t got = 0;
  while (got < sizeof report) {
    ssize_t n = ::read(report_read.get(), reinterpret_cast<char*>(&report) + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  report_read.reset();
  if (got == sizeof report) {
    child.wait_blocking();
    std::string why = errno_text(report.err);
    switch (static_cast<ChildStage>(report.stage)) {
      case ChildStage::chdir:
        return Error("cannot start " + program + ": cannot change to directory " + cwd + ": " + why);
      case ChildStage::exec:
        return Error("cannot start " + program + (*path != program ? " (" + *path + ")" : "") + ": " + why);
      default:
        return Error("cannot start " + program + ": " + why);
    }
  }

  Stream out_stream, err_stream;
  out_stream.fd = std::move(out_read);
  err_stream.fd = std::move(err_read);
  err_stream.is_err = true;
  err_stream.keep_tail = true;
  out_stream.limit = spec.capture_output ? spec.capture_limit : 0;
  err_stream.limit =
      spec.capture_output ? spec.capture_limit : std::min(spec.capture_limit, kUncapturedErrTail);
  set_nonblocking(out_stream.fd.get());
  set_nonblocking(err_stream.fd.get());

  const std::string empty_input;
  const std::string& input = spec.stdin_data ? *spec.stdin_data : empty_input;
  size_t input_off = 0;
  if (in_write.valid()) {
    if (input.empty()) {
      in_write.reset();  // EOF right away
    } else {
      set_nonblocking(in_write.get());
    }
  }

  LineSink lines(spec);
  Fd pidfd(open_pidfd(pid));
  const milliseconds tick = pidfd.valid() ? kTick : kTickNoPidfd;

  enum class Ending { none, term_sent, kill_sent };
  Ending ending = Ending::none;
  const auto started = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (spec.timeout.count() > 0) deadline = started + spec.timeout;
  Clock::time_point kill_at{};
  std::optional<Clock::time_point> drain_until;
  bool exited = false;
  int status = 0;
  std::vector<char> buf(kReadChunk);

  auto send_term = [&](Clock::time_point now) {
    ::kill(-pid, SIGTERM);
    ending = Ending::term_sent;
    kill_at = now + spec.kill_grace;
    in_write.reset();
  };
  auto send_kill = [&](Clock::time_point now) {
    spdlog::debug("{} (pid {}): process group still alive after {}ms, sending SIGKILL", program, pid,
                  spec.kill_grace.count());
    ::kill(-pid, SIGKILL);
    ending = Ending::kill_sent;
    drain_until = now + kDrainAfterKill;
  };
  auto read_stream = [&](Stream& s) {
    ssize_t n = ::read(s.fd.get(), buf.data(), buf.size());
    if (n > 0) {
      capture(s, buf.data(), static_cast<size_t>(n));
      if (lines.wanted()) lines.feed(s, std::string_view(buf.data(), static_cast<size_t>(n)));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      s.fd.reset();
      if (lines.wanted()) lines.flush(s);
    }
  };

  for (;;) {
    auto now = Clock::now();
    if (!exited && ending == Ending::none) {
      if (cancel::requested()) {
        spdlog::debug("{} (pid {}): interrupted, ending its process group", program, pid);
        outcome.interrupted = true;
        send_term(now);
      } else if (deadline && now >= *deadline) {
        spdlog::debug("{} (pid {}): timed out after {}, ending its process group", program, pid,
                      format_duration(spec.timeout));
        outcome.timed_out = true;
        send_term(now);
      }
    }
    const bool streams_open = out_stream.fd.valid() || err_stream.fd.valid();
    if (ending == Ending::term_sent) {
      if (exited && !group_alive(pid)) {
        ending = Ending::kill_sent;  // nothing left to kill; just drain
        drain_until = now + kDrainAfterExit;
      } else if (now >= kill_at) {
        send_kill(now);
      }
    }
    if (exited) {
      if (!streams_open && ending != Ending::term_sent) break;
      if (drain_until && now >= *drain_until) {
        spdlog::debug("{} (pid {}): output still held open by other processes, not waiting for it", program,
                      pid);
        break;
      }
    }

    // How long poll may sleep.
    auto wait_until = now + tick;
    if (deadline && ending == Ending::none) wait_until = std::min(wait_until, *deadline);
    if (ending == Ending::term_sent) wait_until = std::min(wait_until, kill_at);
    if (ending == Ending::term_sent && exited) wait_until = std::min(wait_until, now + kGroupPoll);
    if (drain_until) wait_until = std::min(wait_until, *drain_until);
    auto wait_ms = std::chrono::duration_cast<milliseconds>(wait_until - now).count();
    if (wait_until > now && wait_ms == 0) wait_ms = 1;

    pollfd fds[4];
    int nfds = 0;
    int out_i = -1, err_i = -1, in_i = -1, pid_i = -1;
    if (out_stream.fd.valid()) {
      out_i = nfds;
      fds[nfds++] = {out_stream.fd.get(), POLLIN, 0};
    }
    if (err_stream.fd.valid()) {
      err_i = nfds;
      fds[nfds++] = {err_stream.fd.get(), POLLIN, 0};
    }
    if (in_write.valid()) {
      in_i = nfds;
      fds[nfds++] = {in_write.get(), POLLOUT, 0};
    }
    if (!exited && pidfd.valid()) {
      pid_i = nfds;
      fds[nfds++] = {pidfd.get(), POLLIN, 0};
    }
    int ready = ::poll(fds, static_cast<nfds_t>(nfds), static_cast<int>(std::max<long long>(wait_ms, 0)));
    if (ready < 0) {
      if (errno == EINTR) continue;  // a signal: maybe kurator's SIGINT/SIGTERM, looked at above
      spdlog::debug("poll failed: {}", errno_text(errno));
      ::poll(nullptr, 0, 10);
      continue;
    }

    if (out_i >= 0 && fds[out_i].revents != 0) read_stream(out_stream);
    if (err_i >= 0 && fds[err_i].revents != 0) read_stream(err_stream);
    if (in_i >= 0 && fds[in_i].revents != 0) {
      if (fds[in_i].revents & POLLOUT) {
        size_t len = std::min(kWriteChunk, input.size() - input_off);
        ssize_t n = ::write(in_write.get(), input.data() + input_off, len);
        if (n > 0) {
          input_off += static_cast<size_t>(n);
          if (input_off == input.size()) in_write.reset();
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          if (errno == EPIPE) sigpipe.saw_epipe();
          in_write.reset();  // the child closed its stdin: it does not want the rest
        }
      } else {
        in_write.reset();  // POLLERR/POLLHUP: the reader is gone
      }
    }
    if (!exited && (pid_i < 0 || fds[pid_i].revents != 0)) {
      if (child.try_wait(status)) {
        exited = true;
        pidfd.reset();
        in_write.reset();
        if (ending == Ending::none) drain_until = Clock::now() + kDrainAfterExit;
      }
    }
  }

  for (Stream* s : {&out_stream, &err_stream}) {
    if (lines.wanted()) lines.flush(*s);
    s->fd.reset();
    finish_capture(*s);
  }
  if (out_stream.dropped && spec.capture_output) {
    spdlog::debug("{}: stdout longer than {} bytes, the rest was dropped", program, spec.capture_limit);
  }
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.term_signal = WTERMSIG(status);
  }
  if (spec.capture_output) outcome.out = std::move(out_stream.data);
  outcome.err = std::move(err_stream.data);
  if (spdlog::should_log(spdlog::level::debug)) {
    auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
    if (outcome.success()) {
      spdlog::debug("{} (pid {}) exited with code 0 after {}ms", program, pid, ms);
    } else {
      Outcome brief = outcome;
      brief.out.clear();
      brief.err.clear();
      spdlog::debug("{} (pid {}) after {}ms: {}", program, pid, ms, brief.describe(program));
    }
  }
  return outcome;
}

// ---- RecordingRunner --------------------------------------------------------------------------

namespace {
std::mutex g_recording_mutex;  // guards every RecordingRunner's m_calls (keeps the class copyable)
}  // namespace

Result<Outcome> RecordingRunner::run(const Spec& spec) {
  {
    std::lock_guard<std::mutex> lock(g_recording_mutex);
    m_calls.push_back(spec);
  }
  Outcome outcome;
  if (m_responder) {
    outcome = m_responder(spec);
  } else {
    outcome.exit_code = 0;
  }
  if (spec.on_line) {  // like SystemRunner, scripted output reaches the line callback
    LineSink lines(spec);
    Stream out, err;
    err.is_err = true;
    lines.feed(out, outcome.out);
    lines.flush(out);
    lines.feed(err, outcome.err);
    lines.flush(err);
  }
  return outcome;
}

// ---- default runner ---------------------------------------------------------------------------

namespace {
std::atomic<Runner*> g_default_override{nullptr};
}  // namespace

Runner& default_runner() {
  if (Runner* r = g_default_override.load()) return *r;
  static SystemRunner system_runner;
  return system_runner;
}

void set_default_runner(Runner* runner) { g_default_override.store(runner); }

}  // namespace kurator::process
