// Long-running background processes for the local control plane: started detached (double fork,
// own session) so they outlive kurator, stdout+stderr appended to a log file, pid file written
// atomically once the program has been exec'd.
#include <kurator/core/process.hpp>
#include <kurator/util/fs.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace kurator::process {
namespace stdfs = std::filesystem;

namespace {

// What the children report to the parent through the status pipe.
struct Report {
  int kind;  // 1: pid of the daemon, 2: errno of a failed step in the daemon, 3: errno in the middle child
  int value;
  int step;  // for errors: which step failed
};

enum Step { kStepSetsid = 1, kStepFork, kStepLog, kStepStdin, kStepCwd, kStepExec };

const char* step_name(int step) {
  switch (step) {
    case kStepSetsid:
      return "setsid";
    case kStepFork:
      return "fork";
    case kStepLog:
      return "opening the log file";
    case kStepStdin:
      return "opening /dev/null";
    case kStepCwd:
      return "changing directory";
    case kStepExec:
      return "exec";
    default:
      return "starting";
  }
}

void write_report(int fd, const Report& r) {
  const char* p = reinterpret_cast<const char*>(&r);
  size_t left = sizeof r;
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void fail_child(int fd, int kind, int step) {
  Report r{kind, errno, step};
  write_report(fd, r);
  ::_exit(127);
}

// Finds argv[0] in PATH (before forking, so the child needs no allocation).
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = fs::env("PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) dir = ".";
    auto candidate = stdfs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

bool read_full(int fd, Report& r) {
  char* p = reinterpret_cast<char*>(&r);
  size_t got = 0;
  while (got < sizeof r) {
    ssize_t n = ::read(fd, p + got, sizeof r - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<int> start_daemon(const DaemonSpec& spec) {
  if (spec.argv.empty()) return Error("start_daemon: empty argv");
  if (spec.log_file.empty() || spec.pid_file.empty())
    return Error("start_daemon: log_file and pid_file are required");
  const std::string& name = spec.argv[0];
  std::string program = resolve_program(name);
  if (program.empty() || ::access(program.c_str(), X_OK) != 0)
    return Error(name + ": program not found or not executable");

  std::error_code ec;
  if (spec.log_file.has_parent_path()) stdfs::create_directories(spec.log_file.parent_path(), ec);
  if (spec.pid_file.has_parent_path()) stdfs::create_directories(spec.pid_file.parent_path(), ec);

  // Everything the children need is prepared here: after fork only async-signal-safe calls.
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    std::string key(kv.substr(0, eq));
    if (spec.env.count(key)) continue;
    env_strings.emplace_back(kv);
  }
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::string log_path = spec.log_file.string();
  std::string cwd = spec.cwd.string();

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return Error(std::string("pipe: ") + std::strerror(errno));

  pid_t middle = ::fork();
  if (middle < 0) {
    int e = errno;
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return Error(std::string("fork: ") + std::strerror(e));
  }
  if (middle == 0) {
    // Middle child: new session, fork the daemon, report its pid, leave.
    ::close(pipefd[0]);
    if (::setsid() < 0) fail_child(pipefd[1], 3, kStepSetsid);
    pid_t daemon_pid = ::fork();
    if (daemon_pid < 0) fail_child(pipefd[1], 3, kStepFork);
    if (daemon_pid > 0) {
      Report r{1, static_cast<int>(daemon_pid), 0};
      write_report(pipefd[1], r);
      ::_exit(0);
    }
    // The daemon: not a session leader, so it can never get a controlling terminal.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      ::signal(sig, SIG_DFL);
    }
    ::umask(027);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull < 0) fail_child(pipefd[1], 2, kStepStdin);
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log < 0) fail_child(pipefd[1], 2, kStepLog);
    if (::dup2(devnull, STDIN_FILENO) < 0 || ::dup2(log, STDOUT_FILENO) < 0 || ::dup2(log, STDERR_FILENO) < 0)
      fail_child(pipefd[1], 2, kStepLog);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) fail_child(pipefd[1], 2, kStepCwd);
    // Close every other inherited descriptor except the status pipe (close-on-exec).
    if (pipefd[1] > 3) ::close_range(3, static_cast<unsigned>(pipefd[1]) - 1, 0);
    ::close_range(static_cast<unsigned>(pipefd[1]) + 1, ~0U, 0);
    ::execve(program.c_str(), argv.data(), envp.data());
    fail_child(pipefd[1], 2, kStepExec);
  }

  // Parent.
  ::close(pipefd[1]);
  int daemon_pid = -1;
  std::optional<Error> failure;
  Report r{};
  while (read_full(pipefd[0], r)) {
    if (r.kind == 1) {
      daemon_pid = r.value;
    } else {
      failure = Error(name + ": " + step_name(r.step) + " failed: " + std::strerror(r.value));
    }
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  if (failure) return *failure;
  if (daemon_pid <= 0) return Error(name + ": the daemon did not start");

  if (auto st = fs::write_file_atomic(spec.pid_file, std::to_string(daemon_pid) + "\n", 0644); !st) {
    stop_pid(daemon_pid, std::chrono::seconds(2));
    return st.error();
  }
  return daemon_pid;
}

bool is_alive(int pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie (or a process being torn down) counts as gone.
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return ::kill(pid, 0) == 0 || errno == EPERM;
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat.size()) return true;
  char state = stat[close_paren + 2];
  if (state != 'Z' && state != 'X' && state != 'x') return true;
  // A zombie with no other threads is gone. A multi-threaded process (every Go daemon) shows its main
  // thread as a zombie while the other threads are still exiting and its files (listening sockets
  // included) are still open: not gone yet.
  std::error_code ec;
  size_t threads = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++threads;
  return threads > 1;
}

namespace {
// Reaps `pid` if it happens to be our own child (tests start daemons from the same process only
// through start_daemon, whose daemons are grandchildren, but stop_pid is also handy for children).
void reap_if_child(int pid) {
  int status = 0;
  ::waitpid(pid, &status, WNOHANG);
}

bool wait_gone(int pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto delay = std::chrono::milliseconds(5);
  while (true) {
    reap_if_child(pid);
    if (!is_alive(pid)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
}
}  // namespace

void stop_pid(int pid, std::chrono::milliseconds grace) {
  if (pid <= 0 || !is_alive(pid)) {
    if (pid > 0) reap_if_child(pid);
    return;
  }
  ::kill(pid, SIGTERM);
  if (wait_gone(pid, grace)) return;
  ::kill(pid, SIGKILL);
  // SIGKILL cannot be ignored; this only waits for the kernel to tear the process down.
  wait_gone(pid, std::chrono::seconds(30));
}

std::optional<int> read_pid_file(const stdfs::path& pid_file) {
  std::ifstream in(pid_file);
  if (!in) return std::nullopt;
  std::string text;
  std::getline(in, text);
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) text.pop_back();
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string::npos) return std::nullopt;
  text = text.substr(start);
  int pid = 0;
  auto [p, err] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (err != std::errc() || p != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace kurator::process
