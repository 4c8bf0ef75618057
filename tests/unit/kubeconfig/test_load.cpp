// kubeconfig sources, kubectl's merge rules, and resolution of every auth kind into RestConfig.
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include <fstream>

#include "support/test_env.hpp"

namespace kc = kurator::kubeconfig;
namespace stdfs = std::filesystem;
using kurator::test::TempDir;

namespace {

const std::string kCaPem = "-----BEGIN CERTIFICATE-----\nY2EtY2VydA==\n-----END CERTIFICATE-----\n";
const std::string kCertPem = "-----BEGIN CERTIFICATE-----\nY2xpZW50LWNlcnQ=\n-----END CERTIFICATE-----\n";
const std::string kKeyPem =
    "-----BEGIN EC PRIVATE KEY-----\nY2xpZW50LWtleQ==\n-----END EC PRIVATE KEY-----\n";

stdfs::path write(const stdfs::path& p, const std::string& text) {
  stdfs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  REQUIRE(out.good());
  return p;
}

// A kubeconfig with one cluster/user/context, all named `name`.
std::string single(const std::string& name, const std::string& server, const std::string& current = "") {
  std::string out = "apiVersion: v1\nkind: Config\nclusters:\n- name: " + name +
                    "\n  cluster:\n    server: " + server + "\nusers:\n- name: " + name +
                    "\n  user:\n    token: token-" + name + "\ncontexts:\n- name: " + name +
                    "\n  context:\n    cluster: " + name + "\n    user: " + name + "\n";
  if (!current.empty()) out += "current-context: " + current + "\n";
  return out;
}

// Options that never look at the real environment or home.
kc::LoadOptions opts_for(const TempDir& tmp, const std::string& kubeconfig_env = "") {
  kc::LoadOptions o;
  o.kubeconfig_env = kubeconfig_env;
  o.home = tmp.path() / "home";
  return o;
}

std::string error_of(const kurator::Result<kc::RestConfig>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}

}  // namespace

TEST_CASE("base64 round trip and strict decoding", "[kubeconfig][base64]") {
  using namespace kurator;
  CHECK(base64::encode("") == "");
  CHECK(base64::encode("f") == "Zg==");
  CHECK(base64::encode("fo") == "Zm8=");
  CHECK(base64::encode("foo") == "Zm9v");
  CHECK(base64::encode(std::string("\xff\x00\x10", 3)) == "/wAQ");
  CHECK(base64::decode("Zm9vYmFy").value() == "foobar");
  CHECK(base64::decode("Zm9v\nYmE=\r\n").value() == "fooba");
  CHECK(base64::decode("/wAQ").value() == std::string("\xff\x00\x10", 3));
  CHECK_FALSE(base64::decode("Zm9").has_value());       // no padding
  CHECK_FALSE(base64::decode("Zm 9v").has_value());     // space
  CHECK_FALSE(base64::decode("Zm=v").has_value());      // padding in the middle
  CHECK_FALSE(base64::decode("Zg==Zm9v").has_value());  // padding before the end
  CHECK_FALSE(base64::decode("Z===").has_value());
  CHECK_FALSE(base64::decode("Zm9v!").has_value());
}

TEST_CASE("sources: ~/.kube/config when neither --kubeconfig nor KUBECONFIG", "[kubeconfig]") {
  TempDir tmp;
  auto o = opts_for(tmp);
  SECTION("missing home config is a clear error") {
    auto r = kc::load(o);
    CHECK(error_of(r) == "no kubeconfig found: " + (tmp.path() / "home/.kube/config").string() +
                             " does not exist and KUBECONFIG is not set");
    CHECK(r.error().hint.find("--kubeconfig") != std::string::npos);
    CHECK(r.error().exit == kurator::ExitCode::failure);
  }
  SECTION("home config is used") {
    write(tmp.path() / "home/.kube/config", single("home", "https://home:6443", "home"));
    auto r = kc::load(o);
    REQUIRE(r.ok());
    CHECK(r->context_name == "home");
    CHECK(r->server == "https://home:6443");
    CHECK(r->source == tmp.path() / "home/.kube/config");
  }
}

TEST_CASE("sources: KUBECONFIG list, missing and empty entries skipped", "[kubeconfig]") {
  TempDir tmp;
  auto a = write(tmp.path() / "a/config", single("a", "https://a:6443", "a"));
  write(tmp.path() / "home/.kube/config", single("home", "https://home:6443", "home"));
  SECTION("missing files and empty entries are skipped, home is not consulted") {
    auto o = opts_for(tmp, "::" + (tmp.path() / "nope").string() + ":" + a.string() + ":");
    auto r = kc::load(o);
    REQUIRE(r.ok());
    CHECK(r->context_name == "a");
    auto merged = kc::load_merged(o);
    REQUIRE(merged.ok());
    CHECK((*merged)["contexts"].size() == 1);
  }
  SECTION("all KUBECONFIG files missing is an error, without falling back to home") {
    auto o = opts_for(tmp, (tmp.path() / "nope1").string() + ":" + (tmp.path() / "nope2").string());
    auto r = kc::load(o);
    CHECK(error_of(r).rfind("no kubeconfig found: none of the files in KUBECONFIG exist", 0) == 0);
    CHECK(r.error().message.find("nope2") != std::string::npos);
  }
  SECTION("explicit path overrides KUBECONFIG") {
    auto b = write(tmp.path() / "b/config", single("b", "https://b:6443", "b"));
    auto o = opts_for(tmp, a.string());
    o.explicit_path = b.string();
    auto r = kc::load(o);
    REQUIRE(r.ok());
    CHECK(r->context_name == "b");
    CHECK(r->server == "https://b:6443");
    // Only the explicit file is loaded: contexts from KUBECONFIG are not visible.
    o.context = "a";
    auto r2 = kc::load(o);
    CHECK(error_of(r2) == "kubeconfig " + b.string() + ": context \"a\" is not defined");
    CHECK(r2.error().hint == "pass --context NAME; available: b");
  }
  SECTION("a missing explicit path is an error") {
    auto o = opts_for(tmp, a.string());
    o.explicit_path = (tmp.path() / "missing.yaml").string();
    auto r = kc::load(o);
    CHECK(error_of(r) ==
          "kubeconfig " + (tmp.path() / "missing.yaml").string() + ": No such file or directory");
    CHECK(r.error().hint == "check the --kubeconfig path");
  }
}

TEST_CASE("merging: first file to define a name wins, first non-empty current-context wins", "[kubeconfig]") {
  TempDir tmp;
  // first: no current-context, defines cluster "shared" (server one) and context "one".
  auto first = write(tmp.path() / "first/config", R"(apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster:
    server: https://one:6443
    certificate-authority: certs/ca.crt
users:
- name: shared
  user:
    client-certificate: certs/client.crt
    client-key: certs/client.key
contexts:
- name: one
  context:
    cluster: shared
    user: shared
    namespace: ns-one
current-context: ""
)");
  write(tmp.path() / "first/certs/ca.crt", kCaPem);
  write(tmp.path() / "first/certs/client.crt", kCertPem);
  write(tmp.path() / "first/certs/client.key", kKeyPem);
  // second: redefines "shared" (ignored), adds "two", and sets current-context.
  auto second = write(tmp.path() / "second/config", R"(apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster:
    server: https://ignored:6443
- name: two
  cluster:
    server: https://two:6443
    certificate-authority: ca.crt
users:
- name: two
  user:
    tokenFile: ./secret/token
contexts:
- name: one
  context:
    cluster: two
    user: two
- name: two
  context:
    cluster: two
    user: two
current-context: two
)");
  write(tmp.path() / "second/ca.crt", kCaPem);
  write(tmp.path() / "second/secret/token", "file-token\n");
  // third: another current-context, which loses to the second file's.
  auto third = write(tmp.path() / "third/config", single("three", "https://three:6443", "three"));

  auto o = opts_for(tmp, first.string() + ":" + second.string() + ":" + third.string());

  SECTION("current-context comes from the first file that sets one") {
    auto r = kc::load(o);
    REQUIRE(r.ok());
    CHECK(r->context_name == "two");
    CHECK(r->server == "https://two:6443");
    CHECK(r->source == second);
    // relative paths resolve against the file that holds them
    CHECK(r->tls.ca_file == (tmp.path() / "second/ca.crt").string());
    CHECK(r->token == "file-token");
    CHECK(r->token_file == (tmp.path() / "second/secret/token").string());
  }
  SECTION("the first definition of a context and its cluster/user win") {
    o.context = "one";
    auto r = kc::load(o);
    REQUIRE(r.ok());
    CHECK(r->cluster_name == "shared");
    CHECK(r->server == "https://one:6443");
    CHECK(r->namespace_ == "ns-one");
    CHECK(r->source == first);
    CHECK(r->tls.ca_file == (tmp.path() / "first/certs/ca.crt").string());
    CHECK(r->tls.client_cert_file == (tmp.path() / "first/certs/client.crt").string());
    CHECK(r->tls.client_key_file == (tmp.path() / "first/certs/client.key").string());
    CHECK(r->token.empty());
  }
  SECTION("contexts from later files are reachable with --context") {
    o.context = "three";
    auto r = kc::load(o);
    REQUIRE(r.ok());
    CHECK(r->server == "https://three:6443");
    CHECK(r->token == "token-three");
    CHECK(r->source == third);
  }
  SECTION("load_merged shows the merged view with absolute paths") {
    auto m = kc::load_merged(o);
    REQUIRE(m.ok());
    CHECK((*m)["current-context"] == "two");
    REQUIRE((*m)["clusters"].size() == 3);
    CHECK((*m)["clusters"][0]["name"] == "shared");
    CHECK((*m)["clusters"][0]["cluster"]["server"] == "https://one:6443");
    CHECK((*m)["clusters"][0]["cluster"]["certificate-authority"] ==
          (tmp.path() / "first/certs/ca.crt").string());
    CHECK((*m)["clusters"][1]["name"] == "two");
    CHECK((*m)["clusters"][2]["name"] == "three");
    CHECK((*m)["contexts"].size() == 3);
    CHECK((*m)["users"][1]["user"]["tokenFile"] == (tmp.path() / "second/secret/token").string());
  }
  SECTION("an unknown --context lists the available ones") {
    o.context = "nope";
    auto r = kc::load(o);
    CHECK(error_of(r) == "kubeconfig " + first.string() + ", " + second.string() + ", " + third.string() +
                             ": context \"nope\" is not defined");
    CHECK(r.error().hint == "pass --context NAME; available: one, two, three");
  }
  SECTION("the same file twice in KUBECONFIG is read once") {
    auto o2 = opts_for(tmp, third.string() + ":" + third.string());
    auto m = kc::load_merged(o2);
    REQUIRE(m.ok());
    CHECK((*m)["clusters"].size() == 1);
  }
}

TEST_CASE("merging: a broken later file fails the load with its own name", "[kubeconfig]") {
  TempDir tmp;
  auto good = write(tmp.path() / "good", single("a", "https://a:6443", "a"));
  auto bad = write(tmp.path() / "bad", "clusters: [\n");
  auto r = kc::load(opts_for(tmp, good.string() + ":" + bad.string()));
  CHECK(error_of(r).rfind("kubeconfig " + bad.string() + ": line ", 0) == 0);
  CHECK(r.error().message.find("invalid YAML") != std::string::npos);
}

TEST_CASE("clusters: every TLS field lands in RestConfig", "[kubeconfig]") {
  TempDir tmp;
  auto b64 = kurator::base64::encode;
  SECTION("certificate-authority-data, tls-server-name, proxy-url, namespace") {
    auto p = write(tmp.path() / "config", R"(apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://10.0.0.1:6443/prefix
    certificate-authority-data: )" + b64(kCaPem) +
                                              R"(
    tls-server-name: kubernetes.default
    proxy-url: socks5://proxy:1080
users:
- name: u
  user:
    client-certificate-data: )" + b64(kCertPem) +
                                              R"(
    client-key-data: )" + b64(kKeyPem) + R"(
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: team-a}
current-context: ctx
)");
    auto o = opts_for(tmp);
    o.explicit_path = p.string();
    auto r = kc::load(o);
    REQUIRE(r.ok());
    CHECK(r->server == "https://10.0.0.1:6443/prefix");
    CHECK(r->tls.ca_pem == kCaPem);
    CHECK(r->tls.ca_file.empty());
    CHECK(r->tls.server_name == "kubernetes.default");
    CHECK_FALSE(r->tls.insecure_skip_verify);
    CHECK(r->proxy_url == "socks5://proxy:1080");
    CHECK(r->namespace_ == "team-a");
    CHECK(r->tls.client_cert_pem == kCertPem);
    CHECK(r->tls.client_key_pem == kKeyPem);
    CHECK(r->tls.client_cert_file.empty());
    CHECK_FALSE(r->exec.has_value());
    CHECK(r->token.empty());
  }
  SECTION("insecure-skip-tls-verify only when the file says true; server without scheme gets https") {
    auto p = write(tmp.path() / "config", R"(clusters:
- name: yes
  cluster: {server: "127.0.0.1:6443", insecure-skip-tls-verify: true}
- name: no
  cluster: {server: "https://x", insecure-skip-tls-verify: false}
contexts:
- {name: yes, context: {cluster: yes}}
- {name: no, context: {cluster: no}}
)");
    auto o = opts_for(tmp);
    o.explicit_path = p.string();
    o.context = "yes";
    auto r = kc::load(o);
    REQUIRE(r.ok());
    CHECK(r->tls.insecure_skip_verify);
    CHECK(r->server == "https://127.0.0.1:6443");
    CHECK(r->user_name.empty());  // no user: anonymous
    CHECK(r->token.empty());
    o.context = "no";
    auto r2 = kc::load(o);
    REQUIRE(r2.ok());
    CHECK_FALSE(r2->tls.insecure_skip_verify);
  }
}

TEST_CASE("users: every auth kind lands in RestConfig", "[kubeconfig]") {
  TempDir tmp;
  write(tmp.path() / "tok", "  from-file \n");
  auto p = write(tmp.path() / "config", R"(clusters:
- name: c
  cluster: {server: "https://c"}
users:
- name: static
  user: {token: static-token}
- name: both
  user: {token: wins, tokenFile: tok}
- name: file
  user: {tokenFile: tok}
- name: basic
  user: {username: admin, password: "s3cret"}
- name: exec1
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin
      args: [get-token, --cluster, c]
      env:
      - name: FOO
        value: bar
      - name: EMPTY
      installHint: |
        Install it with
        apt-get install plugin
      provideClusterInfo: true
      interactiveMode: Never
- name: exec2
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
contexts:
- {name: static, context: {cluster: c, user: static}}
- {name: both, context: {cluster: c, user: both}}
- {name: file, context: {cluster: c, user: file}}
- {name: basic, context: {cluster: c, user: basic}}
- {name: exec1, context: {cluster: c, user: exec1}}
- {name: exec2, context: {cluster: c, user: exec2}}
)");
  auto o = opts_for(tmp);
  o.explicit_path = p.string();
  auto load = [&](const std::string& ctx) {
    o.context = ctx;
    auto r = kc::load(o);
    REQUIRE(r.ok());
    CHECK(r->user_name == ctx);
    return *r;
  };
  CHECK(load("static").token == "static-token");
  auto both = load("both");
  CHECK(both.token == "wins");
  CHECK(both.token_file.empty());
  auto file = load("file");
  CHECK(file.token == "from-file");
  CHECK(file.token_file == (tmp.path() / "tok").string());
  auto basic = load("basic");
  CHECK(basic.username == "admin");
  CHECK(basic.password == "s3cret");
  auto e1 = load("exec1");
  REQUIRE(e1.exec.has_value());
  CHECK(e1.exec->api_version == "client.authentication.k8s.io/v1");
  CHECK(e1.exec->command == (tmp.path() / "bin/plugin").string());  // a path: resolved against the file
  CHECK(e1.exec->args == std::vector<std::string>{"get-token", "--cluster", "c"});
  REQUIRE(e1.exec->env.size() == 2);
  CHECK(e1.exec->env[0] == std::pair<std::string, std::string>{"FOO", "bar"});
  CHECK(e1.exec->env[1] == std::pair<std::string, std::string>{"EMPTY", ""});
  CHECK(e1.exec->install_hint == "Install it with\napt-get install plugin\n");
  CHECK(e1.exec->provide_cluster_info);
  CHECK(e1.exec->interactive_mode == "Never");
  auto e2 = load("exec2");
  REQUIRE(e2.exec.has_value());
  CHECK(e2.exec->api_version == "client.authentication.k8s.io/v1beta1");
  CHECK(e2.exec->command == "aws");  // a name: looked up in PATH, not resolved
  CHECK(e2.exec->args.empty());
  CHECK_FALSE(e2.exec->provide_cluster_info);
  CHECK(e2.exec->interactive_mode == "IfAvailable");  // the default
  CHECK(e2.exec->cluster_config.is_null());
}

TEST_CASE("current-context and --context errors", "[kubeconfig]") {
  TempDir tmp;
  auto o = opts_for(tmp);
  SECTION("no current-context") {
    auto p = write(tmp.path() / "config", single("a", "https://a"));
    o.explicit_path = p.string();
    auto r = kc::load(o);
    CHECK(error_of(r) == "kubeconfig " + p.string() + ": no current-context is set");
    CHECK(r.error().hint == "pass --context NAME; available: a");
    o.context = "a";
    CHECK(kc::load(o).ok());
  }
  SECTION("current-context names a context that does not exist") {
    auto p = write(tmp.path() / "config", single("a", "https://a", "gone"));
    o.explicit_path = p.string();
    auto r = kc::load(o);
    CHECK(error_of(r) == "kubeconfig " + p.string() + ": current-context \"gone\" is not defined");
    CHECK(r.error().hint == "pass --context NAME; available: a");
  }
  SECTION("an empty file is an empty config") {
    auto p = write(tmp.path() / "config", "");
    o.explicit_path = p.string();
    auto r = kc::load(o);
    CHECK(error_of(r) == "kubeconfig " + p.string() + ": no current-context is set");
    CHECK(r.error().hint.find("defines no contexts") != std::string::npos);
  }
}

TEST_CASE("render produces a kubeconfig that loads back", "[kubeconfig]") {
  kc::SimpleKubeconfig k;
  k.name = "kurator-dev";
  k.server = "https://127.0.0.1:6443";
  k.ca_pem = kCaPem;
  k.client_cert_pem = kCertPem;
  k.client_key_pem = kKeyPem;
  k.token = "abc.def";
  std::string text = kc::render(k);

  auto doc = kurator::yaml::parse_one(text, "rendered");
  REQUIRE(doc.ok());
  CHECK((*doc)["apiVersion"] == "v1");
  CHECK((*doc)["kind"] == "Config");
  CHECK((*doc)["current-context"] == "kurator-dev");
  CHECK((*doc)["clusters"][0]["cluster"]["certificate-authority-data"] == kurator::base64::encode(kCaPem));
  CHECK((*doc)["users"][0]["user"]["client-key-data"] == kurator::base64::encode(kKeyPem));
  CHECK(text.find("BEGIN") == std::string::npos);  // PEM only as base64

  TempDir tmp;
  auto p = write(tmp.path() / "config", text);
  auto o = opts_for(tmp);
  o.explicit_path = p.string();
  auto r = kc::load(o);
  REQUIRE(r.ok());
  CHECK(r->context_name == "kurator-dev");
  CHECK(r->cluster_name == "kurator-dev");
  CHECK(r->user_name == "kurator-dev");
  CHECK(r->server == "https://127.0.0.1:6443");
  CHECK(r->tls.ca_pem == kCaPem);
  CHECK(r->tls.client_cert_pem == kCertPem);
  CHECK(r->tls.client_key_pem == kKeyPem);
  CHECK(r->token == "abc.def");

  SECTION("minimal: no CA, no user credentials") {
    kc::SimpleKubeconfig m;
    m.name = "m";
    m.server = "https://m";
    auto mdoc = kurator::yaml::parse_one(kc::render(m), "rendered");
    REQUIRE(mdoc.ok());
    CHECK_FALSE((*mdoc)["clusters"][0]["cluster"].contains("certificate-authority-data"));
    CHECK((*mdoc)["contexts"][0]["context"]["user"] == "m");
  }
}
