// SystemRunner against the tiny helper programs in tests/helpers/.
#include <kurator/core/process.hpp>
#include <kurator/util/cancel.hpp>
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/test_env.hpp"

using namespace std::chrono_literals;
using kurator::process::Outcome;
using kurator::process::Spec;
using kurator::process::SystemRunner;
using Clock = std::chrono::steady_clock;
namespace process = kurator::process;

namespace {

std::string helper(const std::string& name) { return (kurator::test::helpers_dir() / name).string(); }

Spec spec_of(const std::string& name, std::vector<std::string> args = {}) {
  Spec spec;
  spec.argv.push_back(helper(name));
  for (auto& a : args) spec.argv.push_back(std::move(a));
  spec.timeout = 20s;  // a safety net: no test should come near it
  return spec;
}

Outcome run_ok(const Spec& spec) {
  SystemRunner runner;
  auto r = runner.run(spec);
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return *r;
}

long elapsed_ms(Clock::time_point since) {
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since);
  return static_cast<long>(elapsed.count());
}

// Gone: no such process, or a zombie nobody reaped yet (it no longer runs).
bool pid_gone(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size()) return true;
  char state = text[paren + 2];
  return state == 'Z' || state == 'X';
}

bool wait_gone(int pid, std::chrono::milliseconds within) {
  auto until = Clock::now() + within;
  while (Clock::now() < until) {
    if (pid_gone(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pid_gone(pid);
}

// "grandchild 1234\n" -> 1234
int grandchild_pid(const std::string& out) {
  auto pos = out.find("grandchild ");
  REQUIRE(pos != std::string::npos);
  int pid = std::atoi(out.c_str() + pos + 11);
  REQUIRE(pid > 1);
  return pid;
}

// Resets the process-wide cancel flag even when a test fails.
struct CancelReset {
  ~CancelReset() { kurator::cancel::set(false); }
};

// A one-shot latch set from on_line (runner thread) and awaited by a helper thread.
struct Latch {
  std::mutex mutex;
  std::condition_variable cv;
  bool set = false;
  void open() {
    std::lock_guard<std::mutex> lock(mutex);
    set = true;
    cv.notify_all();
  }
  bool wait(std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, within, [&] { return set; });
  }
};

std::string pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

}  // namespace

TEST_CASE("exit codes are reported", "[process]") {
  for (int code : {0, 1, 42}) {
    auto o = run_ok(spec_of("kt_exit", {std::to_string(code)}));
    CHECK(o.exit_code == code);
    CHECK(o.term_signal == 0);
    CHECK_FALSE(o.timed_out);
    CHECK_FALSE(o.interrupted);
    CHECK(o.success() == (code == 0));
  }
}

TEST_CASE("a non-zero exit carries stderr into describe()", "[process]") {
  auto o = run_ok(spec_of("kt_exit", {"2", "Error: release not found", "second line"}));
  CHECK(o.exit_code == 2);
  CHECK(o.err == "Error: release not found\nsecond line\n");
  CHECK(o.describe("helm") == "helm exited with code 2: Error: release not found\nsecond line");
}

TEST_CASE("death by a signal is reported", "[process]") {
  auto o = run_ok(spec_of("kt_exit", {"signal:9"}));
  CHECK(o.term_signal == SIGKILL);
  CHECK(o.exit_code == -1);
  CHECK_FALSE(o.success());
  CHECK(o.describe("helm") == "helm was killed by signal 9");

  auto t = run_ok(spec_of("kt_exit", {"signal:15"}));
  CHECK(t.term_signal == SIGTERM);
  CHECK_FALSE(t.success());
}

TEST_CASE("20 MiB on stdout and stderr at once: no deadlock, capture limit kept", "[process]") {
  auto spec = spec_of("kt_bigout", {"20"});
  spec.capture_limit = 1024 * 1024;
  size_t out_lines = 0, err_lines = 0;
  std::string last_err_line;
  spec.on_line = [&](std::string_view line, bool is_stderr) {
    if (is_stderr) {
      ++err_lines;
      last_err_line = line;
    } else {
      ++out_lines;
    }
  };
  auto start = Clock::now();
  auto o = run_ok(spec);
  CHECK(elapsed_ms(start) < 10000);
  CHECK(o.exit_code == 0);
  const size_t total_lines = 20u * 1024 * 1024 / 64;  // 64-byte lines
  CHECK(out_lines == total_lines);  // everything was read, not only what was kept
  CHECK(err_lines == total_lines);
  CHECK(last_err_line.rfind("err 00327679 ", 0) == 0);

  // stdout keeps its head, stderr its tail, each exactly the limit.
  REQUIRE(o.out.size() == spec.capture_limit);
  REQUIRE(o.err.size() == spec.capture_limit);
  CHECK(o.out.rfind("out 00000000 ", 0) == 0);
  CHECK(o.out.substr(o.out.size() - 64, 13) == "out 00016383 ");  // the 16384th line ends the first MiB
  CHECK(o.err.substr(o.err.size() - 64, 13) == "err 00327679 ");
  CHECK(o.err.rfind("err 00311296 ", 0) == 0);  // the last MiB starts at line 327680 - 16384
}

TEST_CASE("output under the capture limit is kept whole", "[process]") {
  auto o = run_ok(spec_of("kt_bigout", {"3"}));
  CHECK(o.exit_code == 0);
  REQUIRE(o.out.size() == 3u * 1024 * 1024);
  REQUIRE(o.err.size() == 3u * 1024 * 1024);
  // Spot-check order: line n sits at byte 64 * n.
  for (size_t n : {0u, 1u, 4095u, 30000u, 49151u}) {
    char expect[16];
    std::snprintf(expect, sizeof expect, "out %08zu", n);
    CHECK(o.out.substr(64 * n, 12) == expect);
    expect[0] = 'e';
    expect[1] = 'r';
    expect[2] = 'r';
    CHECK(o.err.substr(64 * n, 12) == expect);
  }
}

TEST_CASE("capture_output=false keeps stdout out of the Outcome but a stderr tail", "[process]") {
  auto spec = spec_of("kt_bigout", {"1"});
  spec.capture_output = false;
  size_t lines = 0;
  spec.on_line = [&](std::string_view, bool) { ++lines; };
  auto o = run_ok(spec);
  CHECK(o.exit_code == 0);
  CHECK(o.out.empty());
  CHECK(o.err.size() == 64u * 1024);
  CHECK(o.err.substr(o.err.size() - 64, 13) == "err 00016383 ");
  CHECK(lines == 2u * 16384);
}

TEST_CASE("stdin data is delivered while output is read (8 MiB each way)", "[process]") {
  auto spec = spec_of("kt_read_stdin");
  spec.stdin_data = pattern(8u * 1024 * 1024);
  auto o = run_ok(spec);
  CHECK(o.exit_code == 0);
  CHECK(o.out.size() == spec.stdin_data->size());
  CHECK(o.out == *spec.stdin_data);
  CHECK(o.err == "EOF after 8388608 bytes\n");
}

TEST_CASE("stdin is /dev/null without data, and empty data means immediate EOF", "[process]") {
  auto none = run_ok(spec_of("kt_read_stdin"));
  CHECK(none.exit_code == 0);
  CHECK(none.out.empty());
  CHECK(none.err == "EOF after 0 bytes\n");

  auto spec = spec_of("kt_read_stdin");
  spec.stdin_data = "";
  auto empty = run_ok(spec);
  CHECK(empty.exit_code == 0);
  CHECK(empty.err == "EOF after 0 bytes\n");

  spec.stdin_data = "hello\nworld";
  auto some = run_ok(spec);
  CHECK(some.out == "hello\nworld");
  CHECK(some.err == "EOF after 11 bytes\n");
}

TEST_CASE("a child that closes its stdin early is not a problem (no SIGPIPE, no hang)", "[process]") {
  auto spec = spec_of("kt_read_stdin", {"--close"});
  spec.stdin_data = pattern(4u * 1024 * 1024);  // far more than a pipe holds
  auto start = Clock::now();
  auto o = run_ok(spec);
  CHECK(elapsed_ms(start) < 5000);
  CHECK(o.exit_code == 0);
  CHECK(o.out == "closed\n");
}

TEST_CASE("environment: added, overridden, unset, not inherited", "[process]") {
  ::setenv("KT_TEST_INHERITED", "inherited-value", 1);
  ::setenv("KT_TEST_OVERRIDE", "old", 1);
  ::setenv("KT_TEST_UNSET", "should-vanish", 1);

  auto spec = spec_of("kt_env", {"KT_TEST_ADDED", "KT_TEST_OVERRIDE", "KT_TEST_UNSET", "KT_TEST_INHERITED"});
  spec.env["KT_TEST_ADDED"] = "added value with spaces";
  spec.env["KT_TEST_OVERRIDE"] = "new";
  spec.unset_env.push_back("KT_TEST_UNSET");
  auto o = run_ok(spec);
  CHECK(o.out ==
        "KT_TEST_ADDED=added value with spaces\n"
        "KT_TEST_OVERRIDE=new\n"
        "KT_TEST_UNSET unset\n"
        "KT_TEST_INHERITED=inherited-value\n");

  auto clean = spec_of("kt_env", {"KT_TEST_ADDED", "KT_TEST_INHERITED", "PATH"});
  clean.inherit_env = false;
  clean.env["KT_TEST_ADDED"] = "only-this";
  auto c = run_ok(clean);
  CHECK(c.out == "KT_TEST_ADDED=only-this\nKT_TEST_INHERITED unset\nPATH unset\n");

  ::unsetenv("KT_TEST_INHERITED");
  ::unsetenv("KT_TEST_OVERRIDE");
  ::unsetenv("KT_TEST_UNSET");
}

TEST_CASE("working directory", "[process]") {
  kurator::test::TempDir dir;
  auto spec = spec_of("kt_env", {"--cwd"});
  spec.cwd = dir.path();
  auto o = run_ok(spec);
  CHECK(o.out == "cwd=" + std::filesystem::canonical(dir.path()).string() + "\n");

  spec.cwd = dir.path() / "does-not-exist";
  SystemRunner runner;
  auto r = runner.run(spec);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("cannot change to directory") &&
                                    Catch::Contains("does-not-exist") &&
                                    Catch::Contains(std::strerror(ENOENT)));
}

TEST_CASE("argv[0] without a slash is looked up in PATH (the child's PATH when set)", "[process]") {
  Spec spec;
  spec.argv = {"kt_exit", "7"};
  spec.env["PATH"] = "/nonexistent-dir:" + kurator::test::helpers_dir().string();
  auto o = run_ok(spec);
  CHECK(o.exit_code == 7);

  // A shell-looking argument is passed as one argv element, never interpreted.
  Spec literal;
  literal.argv = {"kt_env", "A B; echo injected"};
  literal.env["PATH"] = kurator::test::helpers_dir().string();
  auto l = run_ok(literal);
  CHECK(l.out == "A B; echo injected unset\n");
}

TEST_CASE("a program that cannot be started is an Error naming it", "[process]") {
  SystemRunner runner;
  SECTION("not in PATH") {
    Spec spec;
    spec.argv = {"kt-no-such-program-4711", "--version"};
    auto r = runner.run(spec);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "cannot start kt-no-such-program-4711: not found in PATH");
    CHECK(r.error().exit == kurator::ExitCode::failure);
  }
  SECTION("path does not exist") {
    Spec spec;
    spec.argv = {"/nonexistent-dir/kt-nothing"};
    auto r = runner.run(spec);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message,
               Catch::Contains("/nonexistent-dir/kt-nothing") && Catch::Contains(std::strerror(ENOENT)));
    CHECK(r.error().exit == kurator::ExitCode::failure);
  }
  SECTION("not executable") {
    kurator::test::TempDir dir;
    auto file = dir.path() / "kt-not-executable";
    std::ofstream(file) << "#!/bin/sh\nexit 0\n";
    ::chmod(file.c_str(), 0644);
    Spec spec;
    spec.argv = {file.string()};
    auto r = runner.run(spec);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains(file.string()) && Catch::Contains(std::strerror(EACCES)));

    // The same file found through PATH.
    Spec via_path;
    via_path.argv = {"kt-not-executable"};
    via_path.env["PATH"] = dir.path().string();
    auto p = runner.run(via_path);
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.error().message, Catch::Contains("kt-not-executable") && Catch::Contains("not executable"));
  }
  SECTION("exec itself fails (reported from the child through the CLOEXEC pipe)") {
    kurator::test::TempDir dir;
    auto file = dir.path() / "kt-garbage";
    std::ofstream(file, std::ios::binary) << "\x7f\x01\x02\x03 not a program\n";
    ::chmod(file.c_str(), 0755);
    Spec spec;
    spec.argv = {file.string()};
    auto r = runner.run(spec);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("kt-garbage") && Catch::Contains(std::strerror(ENOEXEC)));
  }
  SECTION("empty argv") {
    Spec spec;
    auto r = runner.run(spec);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("empty command line"));
  }
}

TEST_CASE("on_line receives every line of both streams, in order", "[process]") {
  auto spec = spec_of("kt_print", {"o:one", "e:err one", "o:two\r", "o:", "e:err two", "O:no newline"});
  std::vector<std::string> out_lines, err_lines;
  spec.on_line = [&](std::string_view line, bool is_stderr) {
    (is_stderr ? err_lines : out_lines).emplace_back(line);
  };
  auto o = run_ok(spec);
  CHECK(o.exit_code == 0);
  CHECK(out_lines == std::vector<std::string>{"one", "two", "", "no newline"});
  CHECK(err_lines == std::vector<std::string>{"err one", "err two"});
  CHECK(o.out == "one\ntwo\r\n\nno newline");  // captured bytes are untouched
}

TEST_CASE("log_prefix logs lines at debug, env values and secret options never reach the log", "[process]") {
  std::ostringstream log_text;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text);
  auto logger = std::make_shared<spdlog::logger>("kt-test", sink);
  logger->set_level(spdlog::level::debug);
  logger->set_pattern("%v");
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);

  // kt_print stops (exit 2) at "--token": the option is only there for the command log.
  auto spec = spec_of("kt_print", {"o:hello from stdout", "e:hello from stderr", "--token", "tok-abc-123"});
  spec.log_prefix = "kt";
  spec.env["KT_SECRET_VALUE"] = "s3cr3t-do-not-log";
  SystemRunner runner;
  auto r = runner.run(spec);
  spdlog::set_default_logger(previous);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 2);

  std::string text = log_text.str();
  CHECK_THAT(text, Catch::Contains("[kt] hello from stdout"));
  CHECK_THAT(text, Catch::Contains("[kt] hello from stderr"));
  CHECK_THAT(text, Catch::Contains("KT_SECRET_VALUE"));  // the name may be logged...
  CHECK_THAT(text, !Catch::Contains("s3cr3t-do-not-log"));  // ...the value never
  CHECK_THAT(text, !Catch::Contains("tok-abc-123"));
}

TEST_CASE("timeout: SIGTERM, then SIGKILL after the grace for a process ignoring SIGTERM", "[process]") {
  auto spec = spec_of("kt_ignore_term", {"30"});
  spec.timeout = 600ms;
  spec.kill_grace = 300ms;
  auto start = Clock::now();
  auto o = run_ok(spec);
  long ms = elapsed_ms(start);
  CHECK(o.timed_out);
  CHECK_FALSE(o.interrupted);
  CHECK(o.out == "ready\n");          // it was running (and ignoring SIGTERM) when the timeout hit
  CHECK(o.term_signal == SIGKILL);    // SIGTERM was ignored
  CHECK(ms >= 900);                   // timeout + grace
  CHECK(ms < 4000);
  CHECK_FALSE(o.success());
  CHECK(o.describe("kubectl") == "kubectl timed out after 600ms: ready");
}

TEST_CASE("timeout ends the whole process group, grandchildren included", "[process]") {
  SECTION("both ignore SIGTERM: SIGKILL to the group") {
    auto spec = spec_of("kt_spawn_child", {"--ignore-term"});
    spec.timeout = 600ms;
    spec.kill_grace = 300ms;
    auto start = Clock::now();
    auto o = run_ok(spec);
    CHECK(elapsed_ms(start) < 4000);
    CHECK(o.timed_out);
    CHECK(o.term_signal == SIGKILL);
    int grandchild = grandchild_pid(o.out);
    CHECK(wait_gone(grandchild, 2s));
  }
  SECTION("both obey SIGTERM: no wait for the grace period") {
    auto spec = spec_of("kt_spawn_child");
    spec.timeout = 600ms;
    spec.kill_grace = 10s;
    auto start = Clock::now();
    auto o = run_ok(spec);
    CHECK(elapsed_ms(start) < 4000);  // far below timeout + grace
    CHECK(o.timed_out);
    CHECK(o.term_signal == SIGTERM);
    int grandchild = grandchild_pid(o.out);
    CHECK(wait_gone(grandchild, 2s));
  }
}

TEST_CASE("a grandchild holding the pipes after a normal exit does not make run() hang", "[process]") {
  auto start = Clock::now();
  auto o = run_ok(spec_of("kt_spawn_child", {"--leader-exits"}));
  CHECK(elapsed_ms(start) < 3000);  // the grandchild sleeps 30 s with stdout open
  CHECK(o.exit_code == 0);
  int grandchild = grandchild_pid(o.out);
  ::kill(grandchild, SIGKILL);  // normal exits leave the group alone; clean up here
}

TEST_CASE("interrupt: cancel::set(true) from another thread ends the child's group", "[process]") {
  CancelReset reset;
  Latch started;
  auto spec = spec_of("kt_spawn_child", {"--ignore-term"});
  spec.kill_grace = 300ms;
  spec.on_line = [&](std::string_view line, bool) {
    if (line.rfind("grandchild ", 0) == 0) started.open();
  };
  std::thread canceller([&] {
    if (started.wait(10s)) kurator::cancel::set(true);
  });
  auto start = Clock::now();
  SystemRunner runner;
  auto r = runner.run(spec);
  canceller.join();
  long ms = elapsed_ms(start);
  kurator::cancel::set(false);
  REQUIRE(r.ok());
  CHECK(r->interrupted);
  CHECK_FALSE(r->timed_out);
  CHECK(r->term_signal == SIGKILL);  // both ignore SIGTERM: the grace ran out
  CHECK(ms < 4000);
  CHECK(r->describe("ansible-playbook") == "ansible-playbook was interrupted");
  CHECK(wait_gone(grandchild_pid(r->out), 2s));
}

TEST_CASE("interrupt: a real SIGTERM to kurator (handler without SA_RESTART) ends the child", "[process]") {
  CancelReset reset;
  struct sigaction old_int {}, old_term {};
  ::sigaction(SIGINT, nullptr, &old_int);
  ::sigaction(SIGTERM, nullptr, &old_term);
  kurator::cancel::install_handlers();

  Latch started;
  pthread_t runner_thread = ::pthread_self();
  auto spec = spec_of("kt_spawn_child");
  spec.kill_grace = 2s;
  spec.on_line = [&](std::string_view line, bool) {
    if (line.rfind("grandchild ", 0) == 0) started.open();
  };
  std::thread signaller([&] {
    if (started.wait(10s)) ::pthread_kill(runner_thread, SIGTERM);
  });
  auto start = Clock::now();
  SystemRunner runner;
  auto r = runner.run(spec);
  signaller.join();
  long ms = elapsed_ms(start);
  bool flag_seen = kurator::cancel::requested();
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  kurator::cancel::set(false);

  REQUIRE(r.ok());
  CHECK(flag_seen);
  CHECK(r->interrupted);
  CHECK(r->term_signal == SIGTERM);  // they obey SIGTERM: no SIGKILL needed
  CHECK(ms < 2000);                  // well below the grace: the group emptied at once
  CHECK(wait_gone(grandchild_pid(r->out), 2s));
}

TEST_CASE("nothing is started once kurator is interrupted", "[process]") {
  CancelReset reset;
  kurator::cancel::set(true);
  bool saw_line = false;
  auto spec = spec_of("kt_print", {"o:should not run"});
  spec.on_line = [&](std::string_view, bool) { saw_line = true; };
  auto o = run_ok(spec);
  kurator::cancel::set(false);
  CHECK(o.interrupted);
  CHECK_FALSE(saw_line);
  CHECK(o.out.empty());
  CHECK_FALSE(o.success());
}

TEST_CASE("an exception from on_line does not leave the child behind", "[process]") {
  auto spec = spec_of("kt_spawn_child", {"--ignore-term"});
  std::string first;
  spec.on_line = [&](std::string_view line, bool) {
    first = line;
    throw std::runtime_error("callback failed");
  };
  auto start = Clock::now();
  SystemRunner runner;
  CHECK_THROWS_WITH(runner.run(spec), "callback failed");
  CHECK(elapsed_ms(start) < 3000);
  CHECK(wait_gone(grandchild_pid(first), 2s));
}

TEST_CASE("is_alive: a process whose main thread is a zombie while another thread runs is still alive",
          "[process]") {
  std::string path = helper("kt_zombie_leader");
  char* argv[] = {path.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv, environ) == 0);
  auto main_thread_state = [&] {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto p = stat.rfind(')');
    return p == std::string::npos || p + 2 >= stat.size() ? '?' : stat[p + 2];
  };
  for (int i = 0; i < 200 && main_thread_state() != 'Z'; ++i) std::this_thread::sleep_for(5ms);
  REQUIRE(main_thread_state() == 'Z');
  CHECK(process::is_alive(pid));  // the other thread still holds the process's files
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = !process::is_alive(pid);
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  CHECK(gone);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
}
