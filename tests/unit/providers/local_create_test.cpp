// create's failure paths with fake control-plane binaries (shell scripts): a component that exits,
// one that never becomes healthy (timeout), and an interrupt. Each must stop what was started and
// leave the cluster marked Failed with its logs.
#include <kurator/core/process.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/fs.hpp>

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "support/test_env.hpp"

namespace local = kurator::providers::local;
namespace process = kurator::process;
using namespace std::chrono_literals;

namespace {

void write_script(const std::filesystem::path& p, const std::string& body) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
  ::chmod(p.c_str(), 0755);
}

// A bin dir where etcd runs `etcd_body` and the rest would fail loudly if ever started.
std::filesystem::path fake_bin(const std::filesystem::path& dir, const std::string& etcd_body) {
  write_script(dir / "etcd", etcd_body);
  for (const char* b : {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"})
    write_script(dir / b, "echo should not start >&2; exit 3");
  return dir;
}

std::string read(const std::filesystem::path& p) {
  auto r = kurator::fs::read_file(p);
  return r ? *r : std::string();
}

}  // namespace

TEST_CASE("create: a component that exits fails at once, with its log kept", "[providers][create]") {
  kurator::test::TempDir tmp;
  local::Provider provider(tmp.path() / "home");
  local::CreateOptions o;
  o.spec.name = "broken";
  o.bin_dir = fake_bin(tmp.path() / "bin", "echo 'fake etcd: fatal: cannot open the data dir' >&2; exit 1");
  o.timeout = 60s;
  auto t0 = std::chrono::steady_clock::now();
  auto r = provider.create(o);
  REQUIRE_FALSE(r.ok());
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);
  CHECK(r.error().exit == kurator::ExitCode::failure);
  CHECK(r.error().message.find("etcd exited") != std::string::npos);
  auto p = provider.paths("broken");
  CHECK(read(p.log("etcd")).find("cannot open the data dir") != std::string::npos);
  auto st = provider.status("broken");
  REQUIRE(st.ok());
  CHECK(st->phase == "Failed");
  CHECK(local::find_cluster_processes(p.root).empty());
  // The credentials were written before the start: keys private.
  struct stat s {};
  REQUIRE(::stat((p.pki() / "ca.key").c_str(), &s) == 0);
  CHECK((s.st_mode & 0777) == 0600);
  REQUIRE(::stat(p.kubeconfig().c_str(), &s) == 0);
  CHECK((s.st_mode & 0777) == 0600);
  REQUIRE(::stat((p.pki() / "tokens.csv").c_str(), &s) == 0);
  CHECK((s.st_mode & 0777) == 0600);

  REQUIRE(provider.remove("broken").ok());
  CHECK_FALSE(std::filesystem::exists(p.root));
}

TEST_CASE("create: a component that never gets healthy times out and is stopped", "[providers][create]") {
  kurator::test::TempDir tmp;
  local::Provider provider(tmp.path() / "home");
  local::CreateOptions o;
  o.spec.name = "slow";
  o.bin_dir = fake_bin(tmp.path() / "bin", "echo waiting forever; while :; do sleep 0.2; done");
  o.timeout = 1500ms;
  auto r = provider.create(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().exit == kurator::ExitCode::timeout);
  CHECK(r.error().message.find("timed out waiting for etcd") != std::string::npos);
  auto p = provider.paths("slow");
  auto pid = process::read_pid_file(p.pid("etcd"));
  REQUIRE(pid);
  CHECK_FALSE(process::is_alive(*pid));
  CHECK(local::find_cluster_processes(p.root).empty());
  auto st = provider.status("slow");
  REQUIRE(st.ok());
  CHECK(st->phase == "Failed");

  SECTION("create again starts over (and fails the same way)") {
    auto again = provider.create(o);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().exit == kurator::ExitCode::timeout);
    auto pid2 = process::read_pid_file(p.pid("etcd"));
    REQUIRE(pid2);
    CHECK(*pid2 != *pid);
  }
}

TEST_CASE("create: an interrupt stops what was started", "[providers][create]") {
  kurator::test::TempDir tmp;
  local::Provider provider(tmp.path() / "home");
  local::CreateOptions o;
  o.spec.name = "interrupted";
  o.bin_dir = fake_bin(tmp.path() / "bin", "while :; do sleep 0.2; done");
  o.timeout = 60s;
  kurator::cancel::set(false);
  std::thread interrupter([] {
    std::this_thread::sleep_for(1500ms);
    kurator::cancel::set(true);
  });
  auto r = provider.create(o);
  interrupter.join();
  kurator::cancel::set(false);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().exit == kurator::ExitCode::interrupted);
  auto p = provider.paths("interrupted");
  CHECK(local::find_cluster_processes(p.root).empty());
  auto pid = process::read_pid_file(p.pid("etcd"));
  REQUIRE(pid);
  CHECK_FALSE(process::is_alive(*pid));
}
