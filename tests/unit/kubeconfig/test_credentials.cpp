// CredentialProvider: static/file/basic credentials and exec plugins (through a fake runner).
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include <ctime>
#include <functional>

#include "support/test_env.hpp"

namespace kc = kurator::kubeconfig;
namespace process = kurator::process;
using kurator::Result;
using kurator::test::TempDir;
using json = nlohmann::json;

namespace {

constexpr const char* kV1 = "client.authentication.k8s.io/v1";
constexpr const char* kV1beta1 = "client.authentication.k8s.io/v1beta1";

// Answers every run with `respond`, recording the specs.
class FakeRunner : public process::Runner {
 public:
  using Respond = std::function<Result<process::Outcome>(const process::Spec&)>;
  explicit FakeRunner(Respond respond) : m_respond(std::move(respond)) {}
  Result<process::Outcome> run(const process::Spec& spec) override {
    m_calls.push_back(spec);
    return m_respond(spec);
  }
  const std::vector<process::Spec>& calls() const { return m_calls; }

 private:
  Respond m_respond;
  std::vector<process::Spec> m_calls;
};

process::Outcome exited(int code, std::string out, std::string err = {}) {
  process::Outcome o;
  o.exit_code = code;
  o.out = std::move(out);
  o.err = std::move(err);
  return o;
}

std::string credential(const std::string& api, const json& status) {
  return json{{"apiVersion", api}, {"kind", "ExecCredential"}, {"status", status}}.dump();
}

std::string rfc3339(std::chrono::system_clock::time_point tp) {
  std::time_t t = std::chrono::system_clock::to_time_t(tp);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

kc::RestConfig exec_config(const std::string& api, const std::string& command = "/bin/true") {
  kc::RestConfig cfg;
  cfg.server = "https://10.1.2.3:6443";
  cfg.cluster_name = "c";
  cfg.user_name = "admin";
  kc::ExecConfig x;
  x.api_version = api;
  x.command = command;
  x.args = {"token", "--id", "c"};
  x.env = {{"AWS_PROFILE", "dev"}};
  x.install_hint = "install it:\n  brew install plugin";
  x.interactive_mode = "IfAvailable";
  cfg.exec = x;
  return cfg;
}

}  // namespace

TEST_CASE("credentials: static token, token file, basic auth, none", "[kubeconfig][credentials]") {
  kurator::http::TlsConfig tls;
  SECTION("static token") {
    kc::RestConfig cfg;
    cfg.token = "abc";
    kc::CredentialProvider p(cfg);
    CHECK(p.authorization(tls).value() == "Bearer abc");
  }
  SECTION("token file is re-read on each call") {
    TempDir tmp;
    auto file = tmp.path() / "token";
    REQUIRE(kurator::fs::write_file_atomic(file, "first\n").ok());
    kc::RestConfig cfg;
    cfg.token = "first";
    cfg.token_file = file.string();
    kc::CredentialProvider p(cfg);
    CHECK(p.authorization(tls).value() == "Bearer first");
    REQUIRE(kurator::fs::write_file_atomic(file, "second").ok());
    CHECK(p.authorization(tls).value() == "Bearer second");
    std::filesystem::remove(file);
    auto r = p.authorization(tls);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "user \"\": tokenFile " + file.string() + ": No such file or directory");
  }
  SECTION("basic auth") {
    kc::RestConfig cfg;
    cfg.username = "admin";
    cfg.password = "pw";
    kc::CredentialProvider p(cfg);
    CHECK(p.authorization(tls).value() == "Basic " + kurator::base64::encode("admin:pw"));
  }
  SECTION("nothing configured: empty header") {
    kc::CredentialProvider p(kc::RestConfig{});
    CHECK(p.authorization(tls).value().empty());
  }
}

TEST_CASE("exec plugin: request, token and caching for the process lifetime", "[kubeconfig][credentials]") {
  for (const char* api : {kV1, kV1beta1}) {
    DYNAMIC_SECTION(api) {
      FakeRunner runner([&](const process::Spec&) {
        return exited(0, credential(api, {{"token", "tok-1"}}));
      });
      kc::CredentialProvider p(exec_config(api), &runner);
      kurator::http::TlsConfig tls;
      CHECK(p.authorization(tls).value() == "Bearer tok-1");
      CHECK(p.authorization(tls).value() == "Bearer tok-1");
      REQUIRE(runner.calls().size() == 1);  // no expiry: cached
      const auto& spec = runner.calls()[0];
      CHECK(spec.argv == std::vector<std::string>{"/bin/true", "token", "--id", "c"});
      CHECK(spec.env.at("AWS_PROFILE") == "dev");
      CHECK(spec.log_prefix.empty());  // stdout carries the credential: never logged
      auto info = json::parse(spec.env.at("KUBERNETES_EXEC_INFO"));
      CHECK(info ==
            json{{"apiVersion", api}, {"kind", "ExecCredential"}, {"spec", {{"interactive", false}}}});
      CHECK(tls.client_cert_pem.empty());

      p.invalidate();
      CHECK(p.authorization(tls).value() == "Bearer tok-1");
      CHECK(runner.calls().size() == 2);
    }
  }
}

TEST_CASE("exec plugin: provideClusterInfo sends spec.cluster", "[kubeconfig][credentials]") {
  FakeRunner runner([](const process::Spec&) { return exited(0, credential(kV1, {{"token", "t"}})); });
  auto cfg = exec_config(kV1);
  cfg.exec->provide_cluster_info = true;
  cfg.exec->cluster_config = {{"region", "eu-west-1"}};
  cfg.tls.ca_pem = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n";
  cfg.tls.server_name = "api.internal";
  cfg.proxy_url = "http://proxy:3128";
  kc::CredentialProvider p(cfg, &runner);
  kurator::http::TlsConfig tls;
  REQUIRE(p.authorization(tls).ok());
  REQUIRE(runner.calls().size() == 1);
  auto info = json::parse(runner.calls()[0].env.at("KUBERNETES_EXEC_INFO"));
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"] ==
        json{{"server", "https://10.1.2.3:6443"},
             {"certificate-authority-data", kurator::base64::encode(cfg.tls.ca_pem)},
             {"tls-server-name", "api.internal"},
             {"proxy-url", "http://proxy:3128"},
             {"config", {{"region", "eu-west-1"}}}});
}

TEST_CASE("exec plugin: client certificate goes into TlsConfig", "[kubeconfig][credentials]") {
  const std::string cert = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n";
  const std::string key = "-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n";
  FakeRunner runner([&](const process::Spec&) {
    return exited(0, credential(kV1beta1, {{"clientCertificateData", cert}, {"clientKeyData", key}}));
  });
  kc::CredentialProvider p(exec_config(kV1beta1), &runner);
  kurator::http::TlsConfig tls;
  tls.client_cert_file = "/old.crt";
  tls.client_key_file = "/old.key";
  auto r = p.authorization(tls);
  REQUIRE(r.ok());
  CHECK(r.value().empty());  // no token: the certificate authenticates
  CHECK(tls.client_cert_pem == cert);
  CHECK(tls.client_key_pem == key);
  CHECK(tls.client_cert_file.empty());
  CHECK(tls.client_key_file.empty());
  kurator::http::TlsConfig again;  // a cached credential still fills a fresh TlsConfig
  REQUIRE(p.authorization(again).ok());
  CHECK(again.client_cert_pem == cert);
  CHECK(runner.calls().size() == 1);
}

TEST_CASE("exec plugin: expirationTimestamp bounds the cache", "[kubeconfig][credentials]") {
  using namespace std::chrono;
  int n = 0;
  std::string expiry;
  FakeRunner runner([&](const process::Spec&) {
    ++n;
    return exited(0,
                  credential(kV1, {{"token", "tok-" + std::to_string(n)}, {"expirationTimestamp", expiry}}));
  });
  kc::CredentialProvider p(exec_config(kV1), &runner);
  kurator::http::TlsConfig tls;
  SECTION("future expiry: cached") {
    expiry = rfc3339(system_clock::now() + hours(1));
    CHECK(p.authorization(tls).value() == "Bearer tok-1");
    CHECK(p.authorization(tls).value() == "Bearer tok-1");
    CHECK(n == 1);
  }
  SECTION("past expiry: the plugin runs again each time") {
    expiry = "2001-02-03T04:05:06Z";
    CHECK(p.authorization(tls).value() == "Bearer tok-1");
    CHECK(p.authorization(tls).value() == "Bearer tok-2");
    CHECK(n == 2);
  }
  SECTION("fractional seconds and offsets parse") {
    expiry = "2999-12-31T23:59:59.123456+02:00";
    CHECK(p.authorization(tls).value() == "Bearer tok-1");
    CHECK(p.authorization(tls).value() == "Bearer tok-1");
    expiry = "2000-01-01T00:00:00.5-05:30";
    p.invalidate();
    CHECK(p.authorization(tls).value() == "Bearer tok-2");
    CHECK(p.authorization(tls).value() == "Bearer tok-3");
  }
  SECTION("a malformed timestamp is an error") {
    expiry = "tomorrow";
    auto r = p.authorization(tls);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message ==
          "exec credential plugin \"/bin/true\" (user \"admin\") returned status.expirationTimestamp "
          "\"tomorrow\", "
          "which is not RFC 3339");
    expiry = "2024-02-30T00:00:00Z";  // no such day
    CHECK_FALSE(p.authorization(tls).ok());
  }
}

TEST_CASE("exec plugin failures", "[kubeconfig][credentials]") {
  kurator::http::TlsConfig tls;
  const std::string plugin = "exec credential plugin \"/bin/true\" (user \"admin\")";
  auto fail_with = [&](FakeRunner::Respond respond, const std::string& api = kV1) {
    FakeRunner runner(std::move(respond));
    kc::CredentialProvider p(exec_config(api), &runner);
    auto r = p.authorization(tls);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find('\n') == std::string::npos);
    CHECK(r.error().exit == kurator::ExitCode::failure);
    return r.error();
  };

  SECTION("missing plugin: the error carries the installHint") {
    FakeRunner runner(
        [](const process::Spec&) { return kurator::Error("cannot start: No such file or directory"); });
    auto cfg = exec_config(kV1, "kurator-test-no-such-plugin");
    kc::CredentialProvider p(cfg, &runner);
    auto r = p.authorization(tls);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message ==
          "exec credential plugin \"kurator-test-no-such-plugin\" (user \"admin\") was not found in PATH");
    CHECK(r.error().hint == "install it: brew install plugin");
    // A shell-style "command not found" exit is recognised too.
    FakeRunner runner127([](const process::Spec&) { return exited(127, "", "sh: not found"); });
    cfg.exec->command = "/nonexistent/dir/plugin";
    cfg.exec->install_hint.clear();
    kc::CredentialProvider p2(cfg, &runner127);
    auto r2 = p2.authorization(tls);
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.error().message ==
          "exec credential plugin \"/nonexistent/dir/plugin\" (user \"admin\") was not found");
    CHECK(r2.error().hint == "install the plugin or fix users[].user.exec.command");
  }
  SECTION("a plugin that exists but cannot start") {
    auto e = fail_with([](const process::Spec&) { return kurator::Error("fork failed: Resource busy"); });
    CHECK(e.message == plugin + " could not be started: fork failed: Resource busy");
    CHECK(e.hint == "install it: brew install plugin");
  }
  SECTION("non-zero exit: the stderr tail, never stdout") {
    auto e = fail_with([](const process::Spec&) {
      return exited(3, "{\"status\":{\"token\":\"leaked\"}}",
                    "line1\nline2\n\nline3\nAccess denied: token=abc123\n");
    });
    CHECK(e.message == plugin + " exited with code 3: line2 | line3 | Access denied: token=<redacted>");
    CHECK(e.message.find("leaked") == std::string::npos);
  }
  SECTION("killed by a signal, timed out") {
    auto e = fail_with([](const process::Spec&) {
      process::Outcome o;
      o.term_signal = 9;
      return o;
    });
    CHECK(e.message == plugin + " was killed by signal 9");
    auto t = fail_with([](const process::Spec&) {
      process::Outcome o;
      o.timed_out = true;
      return o;
    });
    CHECK(t.message == plugin + " timed out");
  }
  SECTION("bad JSON does not echo the output") {
    auto e = fail_with([](const process::Spec&) { return exited(0, "secret-token-not-json"); });
    CHECK(e.message == plugin + " printed output that is not valid JSON (at byte 1 of 21)");
    auto e2 = fail_with([](const process::Spec&) { return exited(0, "[1,2]"); });
    CHECK(e2.message == plugin + " printed JSON that is not an ExecCredential object");
  }
  SECTION("wrong apiVersion or kind") {
    auto e = fail_with([](const process::Spec&) {
      return exited(0, credential(kV1beta1, {{"token", "t"}}));
    });
    CHECK(e.message == plugin +
                           " returned apiVersion \"client.authentication.k8s.io/v1beta1\", expected "
                           "\"client.authentication.k8s.io/v1\"");
    auto k = fail_with([](const process::Spec&) {
      return exited(0, json{{"apiVersion", kV1}, {"kind", "Secret"}, {"status", {{"token", "t"}}}}.dump());
    });
    CHECK(k.message == plugin + " returned kind \"Secret\", expected \"ExecCredential\"");
  }
  SECTION("status without a credential, or half a certificate") {
    auto e = fail_with([](const process::Spec&) { return exited(0, credential(kV1, json::object())); });
    CHECK(e.message == plugin + " returned neither status.token nor status.clientCertificateData");
    auto c = fail_with([](const process::Spec&) {
      return exited(0, credential(kV1, {{"clientCertificateData", "-----BEGIN CERTIFICATE-----"}}));
    });
    CHECK(c.message == plugin + " returned clientCertificateData without clientKeyData");
    auto s = fail_with([](const process::Spec&) {
      return exited(0, json{{"apiVersion", kV1}, {"kind", "ExecCredential"}}.dump());
    });
    CHECK(s.message == plugin + " returned an ExecCredential without status");
    auto t = fail_with([](const process::Spec&) { return exited(0, credential(kV1, {{"token", 42}})); });
    CHECK(t.message == plugin + " returned status.token that is not a string");
  }
  SECTION("interactiveMode Always cannot be honoured") {
    FakeRunner runner([](const process::Spec&) { return exited(0, credential(kV1, {{"token", "t"}})); });
    auto cfg = exec_config(kV1);
    cfg.exec->interactive_mode = "Always";
    kc::CredentialProvider p(cfg, &runner);
    auto r = p.authorization(tls);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("needs an interactive terminal") != std::string::npos);
    CHECK(runner.calls().empty());
  }
  SECTION("a failure is not cached") {
    int n = 0;
    FakeRunner runner([&](const process::Spec&) {
      return ++n == 1 ? exited(1, "", "try again") : exited(0, credential(kV1, {{"token", "ok"}}));
    });
    kc::CredentialProvider p(exec_config(kV1), &runner);
    CHECK_FALSE(p.authorization(tls).ok());
    CHECK(p.authorization(tls).value() == "Bearer ok");
  }
}
