// start_daemon / is_alive / stop_pid / read_pid_file with tiny long-running programs.
#include <kurator/core/process.hpp>
#include <kurator/util/fs.hpp>

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "support/test_env.hpp"

namespace process = kurator::process;
using namespace std::chrono_literals;

namespace {
std::string read(const std::filesystem::path& p) {
  auto r = kurator::fs::read_file(p);
  return r ? *r : std::string();
}
// Waits until `pred` holds (or 5 s pass).
template <class F>
bool eventually(F pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}
int parent_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream ss(stat.substr(close + 2));
  std::string state;
  int ppid = -1;
  ss >> state >> ppid;
  return ppid;
}
}  // namespace

TEST_CASE("read_pid_file accepts a pid and rejects the rest", "[providers][daemon]") {
  kurator::test::TempDir tmp;
  auto p = tmp.path() / "x.pid";
  CHECK_FALSE(process::read_pid_file(p).has_value());  // missing
  auto write = [&](const std::string& s) { std::ofstream(p) << s; };
  write("1234\n");
  CHECK(process::read_pid_file(p) == 1234);
  write("  42  \n");
  CHECK(process::read_pid_file(p) == 42);
  for (const char* bad : {"", "\n", "abc", "12x", "-5", "0", "99999999999999"}) {
    INFO(bad);
    write(bad);
    CHECK_FALSE(process::read_pid_file(p).has_value());
  }
}

TEST_CASE("a daemon runs detached, logs to its file and stops", "[providers][daemon]") {
  kurator::test::TempDir tmp;
  process::DaemonSpec spec;
  spec.argv = {"sh", "-c",
               "echo out-line; echo err-line >&2; echo \"$KURATOR_TEST_VAR\"; pwd; exec sleep 30"};
  spec.env = {{"KURATOR_TEST_VAR", "from-env"}};
  spec.cwd = tmp.path();
  spec.log_file = tmp.path() / "logs" / "sleeper.log";
  spec.pid_file = tmp.path() / "pids" / "sleeper.pid";
  auto pid = process::start_daemon(spec);
  REQUIRE(pid.ok());
  CHECK(*pid > 0);
  CHECK(process::read_pid_file(spec.pid_file) == *pid);
  CHECK(process::is_alive(*pid));
  // Double-forked into its own session: not our child, not in our session or process group.
  CHECK(parent_of(*pid) != ::getpid());
  CHECK(::getsid(*pid) != ::getsid(0));
  CHECK(::getpgid(*pid) != ::getpgid(0));
  CHECK(eventually([&] { return read(spec.log_file).find("/") != std::string::npos; }));
  auto log = read(spec.log_file);
  CHECK(log.find("out-line") != std::string::npos);
  CHECK(log.find("err-line") != std::string::npos);
  CHECK(log.find("from-env") != std::string::npos);
  CHECK(log.find(tmp.path().string()) != std::string::npos);

  auto t0 = std::chrono::steady_clock::now();
  process::stop_pid(*pid, 5s);
  CHECK_FALSE(process::is_alive(*pid));
  CHECK(std::chrono::steady_clock::now() - t0 < 4s);  // SIGTERM was enough

  SECTION("a second start appends to the log") {
    spec.argv = {"sh", "-c", "echo second-run"};
    auto again = process::start_daemon(spec);
    REQUIRE(again.ok());
    CHECK(eventually([&] { return read(spec.log_file).find("second-run") != std::string::npos; }));
    CHECK(read(spec.log_file).find("out-line") != std::string::npos);
    CHECK(eventually([&] { return !process::is_alive(*again); }));  // exited (zombie or reaped: gone)
  }
}

TEST_CASE("stop_pid falls back to SIGKILL when SIGTERM is ignored", "[providers][daemon]") {
  kurator::test::TempDir tmp;
  process::DaemonSpec spec;
  spec.argv = {"sh", "-c", "trap '' TERM; exec sleep 30"};
  spec.log_file = tmp.path() / "stubborn.log";
  spec.pid_file = tmp.path() / "stubborn.pid";
  auto pid = process::start_daemon(spec);
  REQUIRE(pid.ok());
  // Give the shell time to install the trap before it execs sleep.
  std::this_thread::sleep_for(200ms);
  REQUIRE(process::is_alive(*pid));
  auto t0 = std::chrono::steady_clock::now();
  process::stop_pid(*pid, 300ms);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK_FALSE(process::is_alive(*pid));
  CHECK(took >= 300ms);
  CHECK(took < 5s);
}

TEST_CASE("start_daemon reports programs that cannot start", "[providers][daemon]") {
  kurator::test::TempDir tmp;
  process::DaemonSpec spec;
  spec.log_file = tmp.path() / "x.log";
  spec.pid_file = tmp.path() / "x.pid";
  spec.argv = {"/nonexistent/kurator-no-such-program"};
  auto r = process::start_daemon(spec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("kurator-no-such-program") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(spec.pid_file));

  SECTION("not executable") {
    auto script = tmp.path() / "not-exec";
    std::ofstream(script) << "#!/bin/sh\n";
    spec.argv = {script.string()};
    CHECK_FALSE(process::start_daemon(spec).ok());
  }
  SECTION("a cwd that does not exist") {
    spec.argv = {"sleep", "1"};
    spec.cwd = tmp.path() / "missing-dir";
    auto c = process::start_daemon(spec);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message.find("changing directory") != std::string::npos);
  }
  SECTION("empty argv") {
    spec.argv = {};
    CHECK_FALSE(process::start_daemon(spec).ok());
  }
}

TEST_CASE("is_alive is false for missing and invalid pids", "[providers][daemon]") {
  CHECK_FALSE(process::is_alive(0));
  CHECK_FALSE(process::is_alive(-1));
  CHECK(process::is_alive(::getpid()));
  process::stop_pid(0, 10ms);  // no-op
}
