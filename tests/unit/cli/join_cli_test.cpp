// `kurator join karmada` / `unjoin karmada` bad input, through the real binary: one error line naming
// the thing, a hint, the documented exit code, and nothing contacted when the input is wrong.
#include <kurator/util/fs.hpp>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "support/test_env.hpp"

using namespace kurator;
namespace stdfs = std::filesystem;

namespace {

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

std::string kubeconfig_text(const std::string& server, const std::string& context) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + context + "\nclusters:\n- name: c\n  cluster:\n    server: " +
         server + "\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: s3cr3t-join-token\n"
         "contexts:\n- name: " + context + "\n  context:\n    cluster: c\n    user: u\n";
}

struct Env {
  test::TempDir dir;
  stdfs::path home = dir.path() / "kurator";
  stdfs::path member = dir.path() / "member.config";
  std::string server = "https://127.0.0.1:" + std::to_string(closed_port());
  Env() {
    REQUIRE(fs::write_private_file(member, kubeconfig_text(server, "m")).ok());
  }
  std::vector<std::pair<std::string, std::string>> env() const {
    return {{"HOME", dir.path().string()}, {"KUBECONFIG", ""}, {"KURATOR_HOME", home.string()}, {"NO_COLOR", "1"}};
  }
  void install_fake_karmada() const {
    stdfs::create_directories(home / "karmada");
    REQUIRE(fs::write_private_file(home / "karmada" / "karmada-apiserver.config",
                                   kubeconfig_text("https://127.0.0.1:" + std::to_string(closed_port()), "karmada"))
                .ok());
  }
};

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
size_t error_lines(const std::string& err) {
  size_t n = 0;
  for (size_t p = err.find("error: "); p != std::string::npos; p = err.find("error: ", p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("cli join: a bad name is a usage error naming it, before anything is read", "[cli][join]") {
  Env e;
  for (const std::string& bad : std::vector<std::string>{"Member_1", std::string(49, 'm')}) {
    auto r = test::run_kurator({"join", "karmada", bad, "--cluster-kubeconfig", "/nonexistent"}, e.env());
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(error_lines(r.err) == 1);
    CHECK(first_line(r.err).find("invalid cluster name \"" + bad + "\"") != std::string::npos);
    CHECK(r.err.find("hint: ") != std::string::npos);
  }
  auto u = test::run_kurator({"unjoin", "karmada", "Bad"}, e.env());
  CHECK(u.exit_code == 2);
  CHECK(first_line(u.err).find("invalid cluster name \"Bad\"") != std::string::npos);
}

TEST_CASE("cli join: a missing member kubeconfig and an unknown context are named", "[cli][join]") {
  Env e;
  auto r = test::run_kurator({"join", "karmada", "m1", "--cluster-kubeconfig", "/nonexistent/member.config"}, e.env());
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(error_lines(r.err) == 1);
  CHECK(first_line(r.err).find("/nonexistent/member.config") != std::string::npos);
  CHECK(r.err.find("hint: check the --cluster-kubeconfig path") != std::string::npos);

  auto c = test::run_kurator(
      {"join", "karmada", "m1", "--cluster-kubeconfig", e.member.string(), "--cluster-context", "nope"}, e.env());
  INFO(c.err);
  CHECK(c.exit_code == 1);
  CHECK(error_lines(c.err) == 1);
  CHECK(first_line(c.err).find("context \"nope\"") != std::string::npos);
  CHECK(c.err.find("hint: ") != std::string::npos);
  CHECK(c.err.find("s3cr3t") == std::string::npos);

  auto u = test::run_kurator({"unjoin", "karmada", "m1", "--cluster-context", "m"}, e.env());
  CHECK(u.exit_code == 2);
  CHECK(first_line(u.err).find("--cluster-context needs --cluster-kubeconfig") != std::string::npos);
}

TEST_CASE("cli join: Karmada not installed names its kubeconfig path and the install command", "[cli][join]") {
  Env e;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"join", "karmada", "m1", "--cluster-kubeconfig", e.member.string()},
        std::vector<std::string>{"unjoin", "karmada", "m1"}}) {
    auto r = test::run_kurator(args, e.env());
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(error_lines(r.err) == 1);
    CHECK(first_line(r.err).find("Karmada is not installed") != std::string::npos);
    CHECK(first_line(r.err).find((e.home / "karmada" / "karmada-apiserver.config").string()) != std::string::npos);
    CHECK(r.err.find("kurator install karmada --provider local") != std::string::npos);
  }
}

TEST_CASE("cli join: an unreachable member fails at once, naming its address", "[cli][join]") {
  Env e;
  e.install_fake_karmada();
  auto t0 = std::chrono::steady_clock::now();
  auto r = test::run_kurator({"join", "karmada", "m1", "--cluster-kubeconfig", e.member.string()}, e.env());
  auto took = std::chrono::steady_clock::now() - t0;
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(error_lines(r.err) == 1);
  CHECK(first_line(r.err).find("member cluster at " + e.server + " is unreachable") != std::string::npos);
  CHECK(r.err.find("hint: ") != std::string::npos);
  CHECK(took < std::chrono::seconds(10));
  // The dry run checks the same before it plans anything.
  auto d = test::run_kurator({"--dry-run", "join", "karmada", "m1", "--cluster-kubeconfig", e.member.string()}, e.env());
  CHECK(d.exit_code == 1);
  CHECK(d.out.empty());
  CHECK(d.err.find("s3cr3t") == std::string::npos);
}

TEST_CASE("cli join: --help documents unjoin --force and the not-found convention", "[cli][join]") {
  auto r = test::run_kurator({"unjoin", "karmada", "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--force") != std::string::npos);
  CHECK(r.out.find("strip the Cluster's finalizers") != std::string::npos);
  CHECK(r.out.find("--ignore-not-found") != std::string::npos);
  auto j = test::run_kurator({"join", "karmada", "--help"});
  CHECK(j.exit_code == 0);
  for (const char* flag : {"--cluster-kubeconfig", "--cluster-context", "--karmada-kubeconfig", "--cluster-namespace",
                           "--cluster-provider", "--cluster-region", "--cluster-zones"})
    CHECK(j.out.find(flag) != std::string::npos);
}
