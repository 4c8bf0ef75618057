// join/unjoin karmada building blocks: name validation, the objects join makes (karmadactl v1.18.2
// shapes), redaction of secrets for --dry-run, the Karmada-not-installed error, bounded probes.
#include <kurator/fleet/karmada.hpp>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>

#include "support/test_env.hpp"

using namespace kurator;
namespace km = kurator::fleet::karmada;
using json = nlohmann::json;

TEST_CASE("karmada join: names are DNS-1123 labels of at most 48 characters", "[fleet][join]") {
  for (const std::string& ok : std::vector<std::string>{"m1", "member-1", "a", "0abc", std::string(48, 'a')}) {
    INFO(ok);
    CHECK(km::validate_name(ok).ok());
  }
  for (const std::string& bad : std::vector<std::string>{"", "M1", "-m1", "m1-", "m_1", "m.1", "m 1", std::string(49, 'a')}) {
    INFO(bad);
    auto st = km::validate_name(bad);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().exit == ExitCode::usage);
    CHECK(st.error().message.find("\"" + bad + "\"") != std::string::npos);
    CHECK(st.error().message.find("DNS-1123 label of at most 48 characters") != std::string::npos);
    CHECK(st.error().message.find('\n') == std::string::npos);
    CHECK_FALSE(st.error().hint.empty());
  }
  CHECK(km::validate_name(std::string(49, 'a')).error().message.find("49 characters") != std::string::npos);
}

TEST_CASE("karmada join: member-side objects are karmadactl's, in dependency order", "[fleet][join]") {
  auto objs = km::member_objects("m1", "karmada-cluster");
  REQUIRE(objs.size() == 7);
  std::vector<std::string> kinds;
  for (const auto& o : objs) kinds.push_back(o["kind"]);
  CHECK(kinds == std::vector<std::string>{"Namespace", "ServiceAccount", "ServiceAccount", "ClusterRole",
                                          "ClusterRoleBinding", "Secret", "Secret"});
  CHECK(objs[0]["metadata"]["name"] == "karmada-cluster");
  CHECK(objs[0]["metadata"]["labels"]["karmada.io/system"] == "true");
  CHECK(objs[1]["metadata"]["name"] == "karmada-impersonator");
  CHECK(objs[2]["metadata"]["name"] == "karmada-m1");
  for (int i : {1, 2, 5, 6}) CHECK(objs[i]["metadata"]["namespace"] == "karmada-cluster");
  const json& cr = objs[3];
  CHECK(cr["metadata"]["name"] == "karmada-controller-manager:karmada-m1");
  CHECK(cr["rules"] == json::parse(R"([{"apiGroups":["*"],"resources":["*"],"verbs":["*"]},
                                       {"nonResourceURLs":["*"],"verbs":["get"]}])"));
  const json& crb = objs[4];
  CHECK(crb["metadata"]["name"] == cr["metadata"]["name"]);
  CHECK(crb["roleRef"] ==
        json({{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", cr["metadata"]["name"]}}));
  CHECK(crb["subjects"] ==
        json::array({{{"kind", "ServiceAccount"}, {"name", "karmada-m1"}, {"namespace", "karmada-cluster"}}}));
  for (int i : {5, 6}) {
    const json& s = objs[i];
    CHECK(s["type"] == "kubernetes.io/service-account-token");
    CHECK(s["metadata"]["annotations"]["kubernetes.io/service-account.name"] == s["metadata"]["name"]);
    CHECK_FALSE(s.contains("data"));
  }
  CHECK(objs[5]["metadata"]["name"] == "karmada-impersonator");
  CHECK(objs[6]["metadata"]["name"] == "karmada-m1");
  // Another namespace is used on both sides.
  auto other = km::member_objects("m1", "creds");
  CHECK(other[0]["metadata"]["name"] == "creds");
  CHECK(other[4]["subjects"][0]["namespace"] == "creds");
}

TEST_CASE("karmada join: the Cluster object is Push mode with id, endpoint, secret refs and options", "[fleet][join]") {
  km::JoinOptions o;
  o.name = "m1";
  o.member.server = "https://127.0.0.1:6443";
  json c = km::cluster_object(o, "uid-1");
  CHECK(c["apiVersion"] == "cluster.karmada.io/v1alpha1");
  CHECK(c["kind"] == "Cluster");
  CHECK(c["metadata"]["name"] == "m1");
  CHECK(c["spec"] == json::parse(R"({"id":"uid-1","syncMode":"Push","apiEndpoint":"https://127.0.0.1:6443",
      "secretRef":{"namespace":"karmada-cluster","name":"m1"},
      "impersonatorSecretRef":{"namespace":"karmada-cluster","name":"m1-impersonator"}})"));
  o.member.tls.insecure_skip_verify = true;
  o.member.proxy_url = "http://proxy:3128";
  o.provider = "aws";
  o.region = "eu-west-1";
  o.zones = {"eu-west-1a", "eu-west-1b"};
  c = km::cluster_object(o, "uid-1");
  CHECK(c["spec"]["insecureSkipTLSVerification"] == true);
  CHECK(c["spec"]["proxyURL"] == "http://proxy:3128");
  CHECK(c["spec"]["provider"] == "aws");
  CHECK(c["spec"]["region"] == "eu-west-1");
  CHECK(c["spec"]["zones"] == json({"eu-west-1a", "eu-west-1b"}));
  CHECK(km::names::execution_namespace("m1") == "karmada-es-m1");
}

TEST_CASE("karmada join: secrets are redacted for dry-run output, the CA is not", "[fleet][join]") {
  json s = km::karmada_secret("m1", "karmada-cluster", {{"caBundle", "Q0E="}, {"token", "c2VjcmV0LXRva2Vu"}});
  CHECK(s["data"]["token"] == "c2VjcmV0LXRva2Vu");
  json r = km::redacted(s);
  CHECK(r["data"]["token"] == "<redacted>");
  CHECK(r["data"]["caBundle"] == "Q0E=");
  CHECK(r.dump().find("c2VjcmV0LXRva2Vu") == std::string::npos);
  json sd = {{"apiVersion", "v1"},
             {"kind", "Secret"},
             {"metadata", {{"name", "x"}}},
             {"stringData", {{"token", "plain-secret"}, {"ca.crt", "PEM"}, {"empty", ""}}}};
  json rsd = km::redacted(sd);
  CHECK(rsd["stringData"]["token"] == "<redacted>");
  CHECK(rsd["stringData"]["ca.crt"] == "PEM");
  CHECK(rsd["stringData"]["empty"] == "");
  // Other kinds pass through unchanged.
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"data", {{"token", "not-a-secret"}}}};
  CHECK(km::redacted(cm) == cm);
}

TEST_CASE("karmada join: a missing Karmada kubeconfig says Karmada is not installed, naming the path", "[fleet][join]") {
  test::TempDir d;
  auto home = d.path() / "home";
  auto path = km::default_kubeconfig(home);
  CHECK(path == home / "karmada" / "karmada-apiserver.config");
  auto r = km::load_karmada_config(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().exit == ExitCode::failure);
  CHECK(r.error().message.find("Karmada is not installed") != std::string::npos);
  CHECK(r.error().message.find(path.string()) != std::string::npos);
  CHECK(r.error().hint.find("kurator install karmada --provider local") != std::string::npos);
}

TEST_CASE("karmada join: an unreachable apiserver fails in bounded time, naming it", "[fleet][join]") {
  // A port nobody listens on: bind one, note it, close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  kubeconfig::RestConfig cfg;
  cfg.server = "https://127.0.0.1:" + std::to_string(port);
  cfg.token = "s3cr3t-token-value";
  auto t0 = std::chrono::steady_clock::now();
  auto st = km::check_reachable(cfg, std::chrono::seconds(4), "member cluster", "check --cluster-kubeconfig");
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(st.ok());
  CHECK(took < std::chrono::seconds(4));
  CHECK(st.error().message.find("member cluster at " + cfg.server + " is unreachable") != std::string::npos);
  CHECK(st.error().message.find("s3cr3t") == std::string::npos);
  CHECK(st.error().hint == "check --cluster-kubeconfig");
}
