// The real kurator binary: tool list/fetch/path/verify, two processes fetching at once, a proxy from the
// environment, catalog errors, and a bundle round trip into a home with no network.
#include <kurator/core/artifacts.hpp>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/mirror.hpp"
#include "support/test_env.hpp"

namespace art = kurator::artifacts;
namespace stdfs = std::filesystem;
using kurator::test::CliResult;
using kurator::test::LoopbackServer;
using kurator::test::run_kurator;
using kurator::test::TempDir;

namespace {
using Env = std::vector<std::pair<std::string, std::string>>;

std::string slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Files served at <root>/tools/ and an overlay catalog naming them by loopback URL.
struct Site {
  TempDir root, etc;
  std::string bin = "#!/bin/sh\necho hello\n" + std::string(200000, '#') + "\n";
  std::string sha = art::sha256_hex(bin);
  std::unique_ptr<LoopbackServer> server;
  stdfs::path catalog;
  explicit Site(const std::string& route = "") {
    stdfs::create_directories(root.path() / "tools");
    std::ofstream(root.path() / "tools" / "hello", std::ios::binary) << bin;
    server = std::make_unique<LoopbackServer>(LoopbackServer::Options{root.path(), {}, {}, {}});
    REQUIRE(server->ok());
    catalog = etc.path() / "overlay.yaml";
    std::ofstream(catalog) << "defaults: {hello: \"1.0\"}\n"
                              "artifacts:\n"
                              "  - {name: hello, version: \"1.0\", kind: binary, sha256: "
                           << sha << ", url: \"" << server->url() << route << "/tools/hello\"}\n";
  }
  Env env(const stdfs::path& home) const {
    return {{"KURATOR_HOME", home.string()}, {"KURATOR_CATALOG", catalog.string()}, {"NO_COLOR", "1"}};
  }
};
}  // namespace

TEST_CASE("cli: tool fetch, tool path, tool list, tool verify", "[unit][artifacts][cli]") {
  Site s;
  TempDir home;
  auto env = s.env(home.path());
  auto list0 = run_kurator({"-o", "json", "tool", "list"}, env);
  REQUIRE(list0.exit_code == 0);
  auto items = nlohmann::json::parse(list0.out);
  bool saw_kubectl = false, saw_hello = false;
  for (const auto& i : items) {
    if (i["name"] == "kubectl") {
      saw_kubectl = true;
      CHECK(i["version"] == "v1.35.4");
      CHECK(i["cached"] == false);
    }
    if (i["name"] == "hello") saw_hello = true;
  }
  CHECK(saw_kubectl);
  CHECK(saw_hello);

  auto fetch = run_kurator({"tool", "fetch", "hello"}, env);
  INFO(fetch.err);
  REQUIRE(fetch.exit_code == 0);
  auto path = run_kurator({"tool", "path", "hello"}, env);
  REQUIRE(path.exit_code == 0);
  stdfs::path p = trim(path.out);
  CHECK(p == home.path() / "cache/hello/1.0/any-any/hello");
  CHECK(slurp(p) == s.bin);
  CHECK(s.server->count("GET /tools/hello") == 1);  // tool path used the cache

  auto table = run_kurator({"tool", "list"}, env);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("NAME") != std::string::npos);
  CHECK(table.out.find(p.string()) != std::string::npos);

  CHECK(run_kurator({"tool", "verify"}, env).exit_code == 0);
  std::ofstream(p, std::ios::app) << "tampered";
  auto verify = run_kurator({"tool", "verify"}, env);
  CHECK(verify.exit_code == 1);
  CHECK(verify.out.find("sha256 mismatch") != std::string::npos);

  auto usage = run_kurator({"tool", "fetch"}, env);
  CHECK(usage.exit_code == 2);
  auto unknown = run_kurator({"tool", "fetch", "no-such-tool"}, env);
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.err.find("unknown artifact 'no-such-tool'") != std::string::npos);
}

TEST_CASE("cli: a catalog without a digest refuses, --allow-unverified warns", "[unit][artifacts][cli]") {
  Site s;
  TempDir home;
  auto env = s.env(home.path());
  std::ofstream(s.catalog)
      << "artifacts:\n  - {name: hello, version: \"1.0\", kind: binary, sha256: unknown, url: \""
      << s.server->url() << "/tools/hello\"}\n";
  auto refused = run_kurator({"tool", "fetch", "hello"}, env);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("--sha256") != std::string::npos);
  CHECK(s.server->count("GET") == 0);
  auto wrong = run_kurator({"tool", "fetch", "hello", "--sha256", std::string(64, 'b')}, env);
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("expected " + std::string(64, 'b') + ", got " + s.sha) != std::string::npos);
  auto allowed = run_kurator({"tool", "fetch", "hello", "--allow-unverified"}, env);
  CHECK(allowed.exit_code == 0);
  CHECK(allowed.err.find("unverified") != std::string::npos);
}

TEST_CASE("cli: two processes fetching the same artifact do one download", "[unit][artifacts][cli][lock]") {
  Site s("/delay/1500");
  TempDir home;
  auto env = s.env(home.path());
  CliResult r1{}, r2{};
  std::thread t1([&] { r1 = run_kurator({"tool", "fetch", "hello"}, env); });
  std::thread t2([&] { r2 = run_kurator({"tool", "fetch", "hello"}, env); });
  t1.join();
  t2.join();
  INFO(r1.err << "\n---\n" << r2.err);
  CHECK(r1.exit_code == 0);
  CHECK(r2.exit_code == 0);
  CHECK(s.server->count("GET /delay/1500/tools/hello") == 1);
  CHECK(slurp(home.path() / "cache/hello/1.0/any-any/hello") == s.bin);
}

TEST_CASE("cli: downloads go through the proxy from the environment", "[unit][artifacts][cli][proxy]") {
  Site s;
  LoopbackServer proxy({{}, {}, {}, stdfs::path(KURATOR_SOURCE_DIR) / "tests/data/artifacts/proxy.py"});
  REQUIRE(proxy.ok());
  TempDir home;
  auto env = s.env(home.path());
  env.insert(env.end(),
             {{"http_proxy", proxy.url()}, {"HTTP_PROXY", proxy.url()}, {"no_proxy", ""}, {"NO_PROXY", ""}});
  auto r = run_kurator({"tool", "fetch", "hello"}, env);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(proxy.count("PROXY GET " + s.server->url() + "/tools/hello") == 1);
}

TEST_CASE("cli: a bad user catalog is one clear error line", "[unit][artifacts][cli]") {
  TempDir home;
  std::ofstream(home.path() / "catalog.yaml")
      << "artifacts:\n  - {name: kubectl, version: v1.35.4, os: linux, arch: amd64, kind: exe}\n";
  auto r = run_kurator({"tool", "list"}, {{"KURATOR_HOME", home.path().string()}, {"NO_COLOR", "1"}});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("error: " + (home.path() / "catalog.yaml").string() +
                   ": artifacts[0].kind: must be one of binary, archive, chart, yaml, files, got 'exe'\n") !=
        std::string::npos);
}

TEST_CASE("cli: mirror flag and a bundle round trip with no network", "[unit][artifacts][cli][bundle]") {
  Site s;
  TempDir a, b, out;
  // Made on home a through --mirror (the catalog URL is upstream-looking; the mirror serves it).
  std::ofstream(s.catalog) << "defaults: {hello: \"1.0\"}\n"
                              "artifacts:\n"
                              "  - {name: hello, version: \"1.0\", kind: binary, sha256: "
                           << s.sha << ", url: \"https://tools.upstream.invalid/hello\"}\n";
  stdfs::create_directories(s.root.path() / "tools.upstream.invalid");
  stdfs::copy_file(s.root.path() / "tools/hello", s.root.path() / "tools.upstream.invalid/hello");

  kurator::test::FixtureMirror fixtures({"kube-thanos"});
  std::vector<std::string> components = {"hello"};
  std::vector<std::string> catalogs = {"--catalog", s.catalog.string()};
  if (fixtures.ok()) {
    components.push_back("thanos");
    catalogs.insert(catalogs.end(), {"--catalog", fixtures.catalog().string()});
  }
  std::string comps;
  for (const auto& c : components) comps += (comps.empty() ? "" : ",") + c;

  auto mirror_a = s.server->url();
  std::vector<std::string> create = {
      "bundle",       "create", "-o",       (out.path() / "kurator-bundle.tar.gz").string(),
      "--components", comps,    "--mirror", mirror_a};
  create.insert(create.end(), catalogs.begin(), catalogs.end());
  Env env_a = {{"KURATOR_HOME", a.path().string()}, {"NO_COLOR", "1"}};
  if (fixtures.ok()) {
    // Two mirrors at once: the fixture files come from the fixture mirror, by a config.yaml rule.
    std::ofstream(a.path() / "config.yaml")
        << "mirrors:\n  - {from: \"https://raw.githubusercontent.com/\", to: \"" << fixtures.url()
        << "/raw.githubusercontent.com/\"}\n";
  }
  auto made = run_kurator(create, env_a);
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  CHECK(s.server->count("GET /tools.upstream.invalid/hello") == 1);

  // Home b: no mirror reachable at all.
  Env env_b = {
      {"KURATOR_HOME", b.path().string()}, {"KURATOR_MIRROR", "http://127.0.0.1:9"}, {"NO_COLOR", "1"}};
  std::vector<std::string> import = {"bundle", "import", (out.path() / "kurator-bundle.tar.gz").string()};
  import.insert(import.end(), catalogs.begin(), catalogs.end());
  auto imported = run_kurator(import, env_b);
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);

  std::vector<std::string> path = {"tool", "path", "hello"};
  path.insert(path.end(), catalogs.begin(), catalogs.end());
  auto p = run_kurator(path, env_b);
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  CHECK(slurp(trim(p.out)) == s.bin);
  std::vector<std::string> fetch = {"tool", "fetch", "hello"};
  fetch.insert(fetch.end(), catalogs.begin(), catalogs.end());
  auto f = run_kurator(fetch, env_b);
  CHECK(f.exit_code == 0);
  CHECK(f.out.find("cached") != std::string::npos);
  if (fixtures.ok()) {
    std::vector<std::string> tp = {"tool", "path", "kube-thanos"};
    tp.insert(tp.end(), catalogs.begin(), catalogs.end());
    auto t = run_kurator(tp, env_b);
    REQUIRE(t.exit_code == 0);
    stdfs::path dir = trim(t.out);
    CHECK(
        slurp(dir / "manifests/thanos-query-deployment.yaml") ==
        slurp(kurator::test::fixtures_dir() / "kube-thanos-v0.29.0/manifests/thanos-query-deployment.yaml"));
  } else {
    kurator::test::skip("fixtures missing: the bundle round trip covered only the self-made artifact");
  }
  CHECK(s.server->count("GET /tools.upstream.invalid/hello") == 1);

  // Without the overlay that knows the digest, the import is refused.
  auto refused = run_kurator({"bundle", "import", (out.path() / "kurator-bundle.tar.gz").string()},
                             {{"KURATOR_HOME", b.path().string() + "-other"}, {"NO_COLOR", "1"}});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("--allow-unverified") != std::string::npos);
  std::error_code ec;
  stdfs::remove_all(b.path().string() + "-other", ec);
}

TEST_CASE("cli: tool fetch and tool verify of a files artifact with a link member",
          "[unit][artifacts][cli][links]") {
  Site s;
  TempDir home;
  std::string crd = "kind: CustomResourceDefinition\n";
  stdfs::create_directories(s.root.path() / "chart/crd/bases");
  std::ofstream(s.root.path() / "chart/crd/bases/a.yaml") << crd;
  std::ofstream(s.catalog) << "defaults: {mychart: \"1.0\"}\n"
                              "artifacts:\n"
                              "  - name: mychart\n    version: \"1.0\"\n    kind: files\n    files:\n"
                              "      - {path: crd/bases/a.yaml, url: \""
                           << s.server->url() << "/chart/crd/bases/a.yaml\", sha256: " << art::sha256_hex(crd)
                           << "}\n"
                              "      - {path: crd/v1, link: bases}\n";
  auto env = s.env(home.path());
  auto fetch = run_kurator({"tool", "fetch", "mychart"}, env);
  INFO(fetch.err);
  REQUIRE(fetch.exit_code == 0);
  auto path = run_kurator({"tool", "path", "mychart"}, env);
  REQUIRE(path.exit_code == 0);
  stdfs::path dir = trim(path.out);
  CHECK(stdfs::read_symlink(dir / "crd/v1") == "bases");
  CHECK(slurp(dir / "crd/v1/a.yaml") == crd);
  auto verify = run_kurator({"tool", "verify"}, env);
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);

  // Flattened into a file holding the link text: verify fails and names the member.
  stdfs::remove(dir / "crd/v1");
  std::ofstream(dir / "crd/v1") << "bases";
  auto broken = run_kurator({"tool", "verify"}, env);
  CHECK(broken.exit_code == 1);
  CHECK(broken.out.find("crd/v1: expected a link to bases, found no link") != std::string::npos);

  // A hostile link in a user catalog: one error line naming the file and the entry.
  std::ofstream(s.catalog) << "artifacts:\n"
                              "  - name: evil\n    version: \"1.0\"\n    kind: files\n    files:\n"
                              "      - {path: crd/v1, link: ../../../../etc}\n";
  auto evil = run_kurator({"tool", "fetch", "evil"}, env);
  CHECK(evil.exit_code == 1);
  CHECK(evil.err.find("error: " + s.catalog.string() +
                           ": artifacts[0].files[0].link: points outside the artifact folder: "
                           "'../../../../etc'\n") != std::string::npos);
  CHECK(s.server->count("GET ") == 1);
}
