#include <kurator/providers/pki.hpp>
#include <kurator/util/fs.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "support/test_env.hpp"

namespace pki = kurator::providers::pki;

namespace {
bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}
std::string read(const std::filesystem::path& p) {
  auto r = kurator::fs::read_file(p);
  REQUIRE(r.ok());
  return *r;
}
}  // namespace

TEST_CASE("a CA signs leaf certificates that verify against it", "[providers][pki]") {
  auto ca = pki::make_ca("test-ca", 30);
  REQUIRE(ca.ok());
  auto ca_info = pki::inspect(ca->cert_pem);
  REQUIRE(ca_info.ok());
  CHECK(ca_info->is_ca);
  CHECK(ca_info->common_name == "test-ca");

  pki::CertRequest req;
  req.common_name = "kube-apiserver";
  req.dns_names = {"localhost", "kubernetes.default.svc"};
  req.ip_addresses = {"127.0.0.1", "10.96.0.1", "::1"};
  req.server = true;
  auto leaf = pki::issue(*ca, req);
  REQUIRE(leaf.ok());
  CHECK(pki::verify(ca->cert_pem, leaf->cert_pem).ok());
  CHECK(pki::key_matches(leaf->cert_pem, leaf->key_pem).ok());
  CHECK_FALSE(pki::key_matches(leaf->cert_pem, ca->key_pem).ok());
  auto info = pki::inspect(leaf->cert_pem);
  REQUIRE(info.ok());
  CHECK_FALSE(info->is_ca);
  CHECK(info->server_auth);
  CHECK_FALSE(info->client_auth);
  CHECK(contains(info->dns_names, "localhost"));
  CHECK(contains(info->dns_names, "kubernetes.default.svc"));
  CHECK(contains(info->ip_addresses, "127.0.0.1"));
  CHECK(contains(info->ip_addresses, "10.96.0.1"));
  CHECK(contains(info->ip_addresses, "::1"));

  SECTION("another CA does not verify it") {
    auto other = pki::make_ca("other-ca", 30);
    REQUIRE(other.ok());
    auto st = pki::verify(other->cert_pem, leaf->cert_pem);
    CHECK_FALSE(st.ok());
  }
  SECTION("RSA keys work too") {
    req.key_type = pki::KeyType::rsa2048;
    auto rsa = pki::issue(*ca, req);
    REQUIRE(rsa.ok());
    CHECK(pki::verify(ca->cert_pem, rsa->cert_pem).ok());
  }
  SECTION("a bad IP address is an error") {
    req.ip_addresses = {"not-an-ip"};
    auto bad = pki::issue(*ca, req);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("not-an-ip") != std::string::npos);
  }
}

TEST_CASE("client certificates carry CN and O", "[providers][pki]") {
  auto ca = pki::make_ca("test-ca", 30);
  REQUIRE(ca.ok());
  pki::CertRequest req;
  req.common_name = "kurator-admin";
  req.organizations = {"system:masters"};
  req.client = true;
  auto leaf = pki::issue(*ca, req);
  REQUIRE(leaf.ok());
  auto info = pki::inspect(leaf->cert_pem);
  REQUIRE(info.ok());
  CHECK(info->common_name == "kurator-admin");
  CHECK(info->organizations == std::vector<std::string>{"system:masters"});
  CHECK(info->client_auth);
  CHECK_FALSE(info->server_auth);
}

TEST_CASE("write_cluster_pki writes every file with private keys 0600", "[providers][pki]") {
  kurator::test::TempDir tmp;
  auto dir = tmp.path() / "pki";
  auto st = pki::write_cluster_pki(dir, {});
  REQUIRE(st.ok());
  const std::string ca = read(dir / "ca.crt");
  for (const char* base : {"apiserver", "admin", "controller-manager", "scheduler", "kwok", "etcd-server",
                           "apiserver-etcd-client"}) {
    INFO(base);
    auto crt = dir / (std::string(base) + ".crt");
    auto key = dir / (std::string(base) + ".key");
    CHECK(mode_of(key) == 0600);
    CHECK(mode_of(crt) == 0644);
    CHECK(pki::verify(ca, read(crt)).ok());
    CHECK(pki::key_matches(read(crt), read(key)).ok());
  }
  CHECK(mode_of(dir / "ca.key") == 0600);
  CHECK(mode_of(dir / "sa.key") == 0600);
  CHECK(mode_of(dir / "front-proxy-ca.key") == 0600);
  CHECK(mode_of(dir / "front-proxy-client.key") == 0600);
  CHECK(mode_of(dir) == 0700);
  CHECK(read(dir / "sa.pub").find("BEGIN PUBLIC KEY") != std::string::npos);
  CHECK(read(dir / "sa.key").find("BEGIN PRIVATE KEY") != std::string::npos);
  CHECK(pki::verify(read(dir / "front-proxy-ca.crt"), read(dir / "front-proxy-client.crt")).ok());
  CHECK_FALSE(pki::verify(ca, read(dir / "front-proxy-client.crt")).ok());

  auto api = pki::inspect(read(dir / "apiserver.crt"));
  REQUIRE(api.ok());
  for (const char* dns : {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                          "kubernetes.default.svc.cluster.local"})
    CHECK(contains(api->dns_names, dns));
  CHECK(contains(api->ip_addresses, "127.0.0.1"));
  CHECK(contains(api->ip_addresses, "10.96.0.1"));
  CHECK(api->server_auth);

  auto admin = pki::inspect(read(dir / "admin.crt"));
  REQUIRE(admin.ok());
  CHECK(admin->organizations == std::vector<std::string>{"system:masters"});
  CHECK(admin->client_auth);
  auto kcm = pki::inspect(read(dir / "controller-manager.crt"));
  REQUIRE(kcm.ok());
  CHECK(kcm->common_name == "system:kube-controller-manager");
  CHECK(kcm->organizations.empty());
  auto sched = pki::inspect(read(dir / "scheduler.crt"));
  REQUIRE(sched.ok());
  CHECK(sched->common_name == "system:kube-scheduler");
}
