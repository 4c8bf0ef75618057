// The one way kurator starts programs (helm, kubectl, ansible-playbook, exec credential plugins,
// control-plane components): argv, never a shell string.
#pragma once
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kurator::process {

struct Spec {
  std::vector<std::string> argv;              // argv[0] is looked up in PATH when it has no '/'
  std::map<std::string, std::string> env;     // added to (or overriding) the inherited environment
  std::vector<std::string> unset_env;         // removed from the inherited environment
  bool inherit_env = true;
  std::filesystem::path cwd;                  // empty: the current directory
  std::chrono::milliseconds timeout{0};       // 0: none. On expiry the process group gets SIGTERM, then SIGKILL
  std::optional<std::string> stdin_data;      // nullopt: stdin is /dev/null
  std::string log_prefix;                     // non-empty: each output line is logged (debug) as "[prefix] line"
  bool capture_output = true;                 // keep stdout/stderr in the Outcome (false: out stays empty
                                              // and err keeps only its last 64 KiB, for describe())
  size_t capture_limit = 16 * 1024 * 1024;    // bytes kept per stream; the rest is dropped (tail kept for stderr)
  std::function<void(std::string_view line, bool is_stderr)> on_line;  // optional live line callback
  // On timeout or interruption: time between SIGTERM and SIGKILL to the process group.
  std::chrono::milliseconds kill_grace{3000};
};

struct Outcome {
  int exit_code = -1;     // valid when exited normally
  int term_signal = 0;    // non-zero when killed by a signal
  bool timed_out = false;
  bool interrupted = false;  // kurator got SIGINT/SIGTERM and ended the child
  std::string out;
  std::string err;
  std::chrono::milliseconds timeout{0};  // the Spec's timeout, for describe() when timed_out
  bool success() const { return exit_code == 0 && term_signal == 0 && !timed_out && !interrupted; }
  // "helm exited with code 1: <last lines of stderr>" and the like.
  std::string describe(const std::string& program) const;
};

class Runner {
 public:
  virtual ~Runner() = default;
  // Runs to completion. Fails (Error) only when the program could not be started; a non-zero
  // exit is an Outcome the caller judges.
  virtual Result<Outcome> run(const Spec& spec) = 0;
};

// Runs real processes: each child in its own process group; on SIGINT/SIGTERM to kurator (see
// util/cancel.hpp) the group is ended (SIGTERM, then SIGKILL after a grace period) and the Outcome
// says interrupted.
class SystemRunner : public Runner {
 public:
  Result<Outcome> run(const Spec& spec) override;
};

// Records every Spec and answers with scripted Outcomes: for tests of code that drives helm/kubectl.
// Without a responder every call exits 0 with empty output. The scripted out/err lines are passed to
// the Spec's on_line callback, as SystemRunner would. run() may be called from several threads (the
// responder then must be thread-safe too); read calls() once they are done.
class RecordingRunner : public Runner {
 public:
  using Responder = std::function<Outcome(const Spec&)>;
  explicit RecordingRunner(Responder responder = {}) : m_responder(std::move(responder)) {}
  Result<Outcome> run(const Spec& spec) override;
  const std::vector<Spec>& calls() const { return m_calls; }

 private:
  Responder m_responder;
  std::vector<Spec> m_calls;
};

// Long-running background processes (the local control plane): started detached in their own
// session, stdout+stderr appended to `log_file`, pid written to `pid_file`.
struct DaemonSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::filesystem::path cwd;
  std::filesystem::path log_file;
  std::filesystem::path pid_file;
};
Result<int> start_daemon(const DaemonSpec& spec);
// True when `pid` is alive (and not a zombie).
bool is_alive(int pid);
// SIGTERM, wait up to `grace`, then SIGKILL. Returns once the process is gone.
void stop_pid(int pid, std::chrono::milliseconds grace);
// Reads a pid file; nullopt when missing or malformed.
std::optional<int> read_pid_file(const std::filesystem::path& pid_file);

// The default runner for the program (a SystemRunner), replaceable by tests.
Runner& default_runner();
void set_default_runner(Runner* runner);  // nullptr restores the SystemRunner

}  // namespace kurator::process
