// The real kurator binary: flags, exit codes, error lines, dry-run output, completions.
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/test_env.hpp"

using namespace kurator;
namespace stdfs = std::filesystem;

namespace {
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
stdfs::path src(const std::string& rel) { return stdfs::path(KURATOR_SOURCE_DIR) / rel; }
// An environment with no kubeconfig and a private home.
std::vector<std::pair<std::string, std::string>> clean_env(const test::TempDir& d) {
  return {{"HOME", d.path().string()}, {"KUBECONFIG", ""}, {"KURATOR_HOME", (d.path() / "kurator").string()},
          {"NO_COLOR", "1"}};
}
}  // namespace

TEST_CASE("cli: version prints version and commit, -o json is machine-readable", "[cli]") {
  auto r = test::run_kurator({"version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("kurator v", 0) == 0);
  CHECK(r.out.find("(commit ") != std::string::npos);
  auto j = test::run_kurator({"version", "-o", "json"});
  REQUIRE(j.exit_code == 0);
  auto v = nlohmann::json::parse(j.out);
  CHECK(v["version"].get<std::string>().rfind("v", 0) == 0);
  CHECK_FALSE(v["gitCommit"].get<std::string>().empty());
  auto y = test::run_kurator({"version", "-o", "yaml"});
  REQUIRE(y.exit_code == 0);
  CHECK(yaml::parse_one(y.out, "out")->at("version") == v["version"]);
}

TEST_CASE("cli: usage errors exit 2 with one error line and a hint", "[cli]") {
  struct Case {
    std::vector<std::string> args;
    std::string line;
  };
  std::vector<Case> cases = {
      {{"frobnicate"}, "error: unknown command \"frobnicate\""},
      {{"apply"}, "error: --filename is required"},
      {{"version", "-o", "xml"}, "error: --output: xml not in {table,json,yaml}"},
      {{"apply", "-f", "x.yaml", "--wait-timeout", "soon"},
       "error: --wait-timeout: invalid duration \"soon\" (use a number with a unit, e.g. 90s, 10m, 1h30m)"},
      {{"completion", "tcsh"}, "error: shell: tcsh not in {bash,zsh,fish}"},
  };
  for (const auto& c : cases) {
    INFO(c.args.front());
    auto r = test::run_kurator(c.args, {{"NO_COLOR", "1"}});
    CHECK(r.exit_code == 2);
    CHECK(first_line(r.err) == c.line);
    CHECK(r.err.find("hint: run 'kurator --help'") != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("cli: no arguments and --help", "[cli]") {
  auto none = test::run_kurator({});
  CHECK(none.exit_code == 2);
  auto help = test::run_kurator({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("apply") != std::string::npos);
}

TEST_CASE("cli: bad manifests give the exact error line and exit code", "[cli][bad-input]") {
  auto dir = src("tests/data/manifests/bad");
  int n = 0;
  for (const auto& e : stdfs::directory_iterator(dir)) {
    auto text = *fs::read_file(e.path());
    auto expect_pos = text.find("# expect: ");
    auto exit_pos = text.find("# exit: ");
    REQUIRE(expect_pos != std::string::npos);
    REQUIRE(exit_pos != std::string::npos);
    std::string expect = first_line(text.substr(expect_pos + 10));
    int exit_code = std::stoi(first_line(text.substr(exit_pos + 8)));
    auto at = expect.find("@FILE@");
    if (at != std::string::npos) expect.replace(at, 6, e.path().string());
    INFO(e.path().filename().string());
    auto r = test::run_kurator({"apply", "--dry-run", "-f", e.path().string()}, {{"NO_COLOR", "1"}});
    CHECK(r.exit_code == exit_code);
    CHECK(first_line(r.err) == expect);
    CHECK(r.out.empty());
    ++n;
  }
  CHECK(n >= 7);
}

TEST_CASE("cli: apply --dry-run renders the objects in dependency order and touches nothing", "[cli]") {
  test::TempDir d;
  auto f = d.path() / "in.yaml";
  REQUIRE(fs::write_file_atomic(f,
                                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n"
                                "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n")
              .ok());
  auto r = test::run_kurator({"apply", "--dry-run", "-f", f.string()}, clean_env(d));
  REQUIRE(r.exit_code == 0);
  auto docs = yaml::parse_all(r.out, "stdout");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  CHECK((*docs)[0]["kind"] == "Namespace");
  CHECK((*docs)[1]["kind"] == "Deployment");
}

TEST_CASE("cli: apply without a kubeconfig fails with one line and exit 1", "[cli]") {
  test::TempDir d;
  auto f = d.path() / "cm.yaml";
  REQUIRE(fs::write_file_atomic(f, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").ok());
  auto r = test::run_kurator({"apply", "-f", f.string()}, clean_env(d));
  CHECK(r.exit_code == 1);
  CHECK(first_line(r.err).rfind("error: ", 0) == 0);
  CHECK(r.err.find("kubeconfig") != std::string::npos);
}

TEST_CASE("cli: apply against an unreachable server fails naming the server", "[cli]") {
  test::TempDir d;
  auto kc = d.path() / "kubeconfig";
  REQUIRE(fs::write_private_file(kc,
                                 "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                                 "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n"
                                 "users: [{name: u, user: {token: abc}}]\n"
                                 "contexts: [{name: c, context: {cluster: c, user: u}}]\n")
              .ok());
  auto f = d.path() / "cm.yaml";
  REQUIRE(fs::write_file_atomic(f, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").ok());
  auto env = clean_env(d);
  auto r = test::run_kurator({"--kubeconfig", kc.string(), "apply", "-f", f.string()}, env);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("127.0.0.1:1") != std::string::npos);
  CHECK(r.err.find("abc") == std::string::npos);  // the token never reaches the output
}

TEST_CASE("cli: completions/ files are what `kurator completion` generates", "[cli][completion]") {
  for (std::string shell : {"bash", "zsh", "fish"}) {
    INFO(shell);
    auto r = test::run_kurator({"completion", shell});
    REQUIRE(r.exit_code == 0);
    auto file = src("completions/kurator." + shell);
    auto checked_in = fs::read_file(file);
    REQUIRE(checked_in.ok());
    CHECK(*checked_in == r.out);  // regenerate: scripts/gen-completions.sh
    CHECK(r.out.find("apply") != std::string::npos);
    CHECK(r.out.find("kubeconfig") != std::string::npos);
  }
}

TEST_CASE("cli: create cluster --provider vms: sample config, usage errors, dry run, get clusters", "[cli][vms]") {
  test::TempDir d;
  auto env = clean_env(d);
  auto sample = test::run_kurator({"create", "cluster", "--provider", "vms", "--print-config"}, env);
  REQUIRE(sample.exit_code == 0);
  CHECK(sample.out.find("kind: VmsCluster\n") != std::string::npos);
  auto no_file = test::run_kurator({"create", "cluster", "c1", "--provider", "vms"}, env);
  CHECK(no_file.exit_code == 2);
  CHECK(first_line(no_file.err) == "error: create cluster --provider vms needs -f hosts.yaml");
  auto local_f = test::run_kurator({"create", "cluster", "c1", "-f", "x.yaml"}, env);
  CHECK(local_f.exit_code == 2);
  CHECK(first_line(local_f.err) == "error: -f and --print-config are flags of --provider vms|aws, --check of --provider vms");
  // The sample with a real key path: the dry run prints the plan and writes nothing.
  auto key = d.path() / "id_ed25519";
  REQUIRE(fs::write_private_file(key, "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n").ok());
  std::string text = sample.out;
  for (size_t at; (at = text.find("~/.ssh/id_ed25519")) != std::string::npos;) text.replace(at, 17, key.string());
  REQUIRE(fs::write_file_atomic(d.path() / "hosts.yaml", text).ok());
  auto dry = test::run_kurator(
      {"create", "cluster", "c1", "--provider", "vms", "-f", (d.path() / "hosts.yaml").string(), "--dry-run"}, env);
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find(" -b cluster.yml --tags always\n") != std::string::npos);
  CHECK(dry.out.find("-l root 192.0.2.13 'echo kurator-ssh-ok;") != std::string::npos);
  CHECK_FALSE(stdfs::exists(d.path() / "kurator" / "clusters" / "c1"));
  auto gone = test::run_kurator({"delete", "cluster", "c1", "--provider", "vms"}, env);
  CHECK(gone.exit_code == 1);
  CHECK(first_line(gone.err).rfind("error: vms cluster \"c1\" not found", 0) == 0);
  auto up = test::run_kurator({"upgrade", "cluster", "c1"}, env);
  CHECK(up.exit_code == 2);  // --kubernetes-version is required
}
