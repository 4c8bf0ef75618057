// Exec credential plugins end to end: a kubeconfig names a real /bin/sh script, run through SystemRunner.
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include "support/test_env.hpp"

namespace kc = kurator::kubeconfig;
namespace stdfs = std::filesystem;
using json = nlohmann::json;
using kurator::test::TempDir;

namespace {

// Counts its runs in ./count, saves KUBERNETES_EXEC_INFO in ./info.json, prints an ExecCredential whose
// apiVersion, extra status fields and exit code come from its environment.
constexpr const char* kPlugin = R"(#!/bin/sh
dir=$(dirname "$0")
n=$(cat "$dir/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$dir/count"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/info.json"
if [ -n "$FAIL" ]; then
  echo "stdout-secret-$n"
  echo "warming up" >&2
  echo "error: $FAIL" >&2
  exit 2
fi
if [ -n "$GARBAGE" ]; then
  echo "not json: stdout-secret-$n"
  exit 0
fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"tok-%s"%s}}\n' "$API" "$n" "$EXTRA"
)";

struct Fixture {
  TempDir tmp;
  stdfs::path config;

  // A kubeconfig in tmp/kube whose user runs ./plugin.sh (relative to the kubeconfig) with `env`.
  explicit Fixture(const std::string& api, const std::vector<std::pair<std::string, std::string>>& env,
                   const std::string& command = "./plugin.sh") {
    stdfs::path dir = tmp.path() / "kube";
    REQUIRE(kurator::fs::write_file_atomic(dir / "plugin.sh", kPlugin, 0755).ok());
    std::string env_yaml;
    for (const auto& [k, v] : env) env_yaml += "      - name: " + k + "\n        value: '" + v + "'\n";
    config = dir / "config";
    REQUIRE(kurator::fs::write_file_atomic(config, R"(apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    exec:
      apiVersion: )" + api + R"(
      command: )" + command + R"(
      installHint: get the plugin from https://example.invalid/plugin
      provideClusterInfo: true
      interactiveMode: Never
      env:
)" + env_yaml + R"(contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
)")
                .ok());
  }
  kc::RestConfig load() const {
    kc::LoadOptions o;
    o.explicit_path = config.string();
    o.kubeconfig_env = "";
    o.home = tmp.path();
    auto r = kc::load(o);
    REQUIRE(r.ok());
    return *r;
  }
  int runs() const {
    auto text = kurator::fs::read_file(tmp.path() / "kube/count");
    return text ? std::stoi(*text) : 0;
  }
  json exec_info() const {
    auto text = kurator::fs::read_file(tmp.path() / "kube/info.json");
    REQUIRE(text.ok());
    return json::parse(*text);
  }
};

constexpr const char* kV1 = "client.authentication.k8s.io/v1";
constexpr const char* kV1beta1 = "client.authentication.k8s.io/v1beta1";

}  // namespace

TEST_CASE("real exec plugin (v1): token cached for the process lifetime, request in KUBERNETES_EXEC_INFO",
          "[kubeconfig][exec]") {
  Fixture f(kV1, {{"API", kV1}});
  kurator::process::SystemRunner runner;
  kc::CredentialProvider p(f.load(), &runner);
  kurator::http::TlsConfig tls;
  CHECK(p.authorization(tls).value() == "Bearer tok-1");
  CHECK(p.authorization(tls).value() == "Bearer tok-1");
  CHECK(f.runs() == 1);
  CHECK(f.exec_info() ==
        json{{"apiVersion", kV1},
             {"kind", "ExecCredential"},
             {"spec",
              {{"interactive", false},
               {"cluster", {{"server", "https://127.0.0.1:6443"}, {"insecure-skip-tls-verify", true}}}}}});
  p.invalidate();
  CHECK(p.authorization(tls).value() == "Bearer tok-2");
  CHECK(f.runs() == 2);
}

TEST_CASE("real exec plugin (v1beta1): expirationTimestamp decides when it runs again",
          "[kubeconfig][exec]") {
  SECTION("expired: runs on every request") {
    Fixture f(kV1beta1, {{"API", kV1beta1}, {"EXTRA", R"(,"expirationTimestamp":"2020-01-01T00:00:00Z")"}});
    kc::CredentialProvider p(f.load());  // the default runner
    kurator::http::TlsConfig tls;
    CHECK(p.authorization(tls).value() == "Bearer tok-1");
    CHECK(p.authorization(tls).value() == "Bearer tok-2");
    CHECK(f.runs() == 2);
  }
  SECTION("in the future: cached") {
    Fixture f(kV1beta1, {{"API", kV1beta1}, {"EXTRA", R"(,"expirationTimestamp":"2199-01-01T00:00:00Z")"}});
    kc::CredentialProvider p(f.load());
    kurator::http::TlsConfig tls;
    CHECK(p.authorization(tls).value() == "Bearer tok-1");
    CHECK(p.authorization(tls).value() == "Bearer tok-1");
    CHECK(f.runs() == 1);
  }
}

TEST_CASE("real exec plugin: client certificate", "[kubeconfig][exec]") {
  Fixture f(kV1,
            {{"API", kV1},
             {"EXTRA",
              R"(,"clientCertificateData":"-----BEGIN CERTIFICATE-----\nQQ==\n-----END CERTIFICATE-----\n",)"
              R"("clientKeyData":"-----BEGIN PRIVATE KEY-----\nQg==\n-----END PRIVATE KEY-----\n")"}});
  kurator::process::SystemRunner runner;
  kc::CredentialProvider p(f.load(), &runner);
  kurator::http::TlsConfig tls;
  CHECK(p.authorization(tls).value() == "Bearer tok-1");
  CHECK(tls.client_cert_pem == "-----BEGIN CERTIFICATE-----\nQQ==\n-----END CERTIFICATE-----\n");
  CHECK(tls.client_key_pem == "-----BEGIN PRIVATE KEY-----\nQg==\n-----END PRIVATE KEY-----\n");
}

TEST_CASE("real exec plugin failures", "[kubeconfig][exec]") {
  kurator::process::SystemRunner runner;
  kurator::http::TlsConfig tls;
  SECTION("non-zero exit: stderr tail, never stdout") {
    Fixture f(kV1, {{"API", kV1}, {"FAIL", "credentials expired"}});
    auto cfg = f.load();
    kc::CredentialProvider p(cfg, &runner);
    auto r = p.authorization(tls);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message ==
          "exec credential plugin \"" + cfg.exec->command +
              "\" (user \"u\") exited with code 2: warming up | error: credentials expired");
    CHECK(r.error().message.find("stdout-secret") == std::string::npos);
  }
  SECTION("output that is not JSON") {
    Fixture f(kV1, {{"API", kV1}, {"GARBAGE", "1"}});
    kc::CredentialProvider p(f.load(), &runner);
    auto r = p.authorization(tls);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("printed output that is not valid JSON") != std::string::npos);
    CHECK(r.error().message.find("stdout-secret") == std::string::npos);
  }
  SECTION("wrong apiVersion") {
    Fixture f(kV1, {{"API", kV1beta1}});
    kc::CredentialProvider p(f.load(), &runner);
    auto r = p.authorization(tls);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("returned apiVersion \"client.authentication.k8s.io/v1beta1\", expected "
                                 "\"client.authentication.k8s.io/v1\"") != std::string::npos);
  }
  SECTION("plugin not installed: the installHint is the hint") {
    Fixture f(kV1, {{"API", kV1}}, "kurator-test-no-such-credential-plugin");
    kc::CredentialProvider p(f.load(), &runner);
    auto r = p.authorization(tls);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message ==
          "exec credential plugin \"kurator-test-no-such-credential-plugin\" (user \"u\") was not found in "
          "PATH");
    CHECK(r.error().hint == "get the plugin from https://example.invalid/plugin");
  }
}
