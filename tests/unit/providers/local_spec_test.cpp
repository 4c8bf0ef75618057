// Spec validation and comparison (the idempotent create), ports, binaries lookup.
#include <kurator/providers/local.hpp>
#include <kurator/providers/versions.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "support/test_env.hpp"

namespace local = kurator::providers::local;
namespace versions = kurator::providers::versions;

TEST_CASE("normalize fills defaults and validates", "[providers][spec]") {
  local::ClusterSpec s;
  s.name = "demo";
  auto n = local::normalize(s);
  REQUIRE(n.ok());
  CHECK(n->provider == "local");
  CHECK(n->kubernetes_version == std::string(versions::kubernetes));

  s.kubernetes_version = "1.34.2";
  n = local::normalize(s);
  REQUIRE(n.ok());
  CHECK(n->kubernetes_version == "v1.34.2");

  for (const char* bad :
       {"", "Demo", "-x", "x-", "a_b", "a.b", "0123456789012345678901234567890123456789x"}) {
    INFO(bad);
    s = {};
    s.name = bad;
    auto r = local::normalize(s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().exit == kurator::ExitCode::usage);
  }
  s = {};
  s.name = "demo";
  s.nodes = -1;
  CHECK_FALSE(local::normalize(s).ok());
  s.nodes = 101;
  CHECK_FALSE(local::normalize(s).ok());
  s.nodes = 3;
  s.provider = "kind";
  CHECK_FALSE(local::normalize(s).ok());
  s.provider = "local";
  s.kubernetes_version = "latest";
  CHECK_FALSE(local::normalize(s).ok());
}

TEST_CASE("spec comparison decides whether create is a no-op", "[providers][spec]") {
  local::ClusterSpec a;
  a.name = "demo";
  a.nodes = 3;
  a = *local::normalize(a);
  auto b = a;
  CHECK(local::spec_differences(a, b).empty());
  b.nodes = 2;
  auto d = local::spec_differences(a, b);
  REQUIRE(d.size() == 1);
  CHECK(d[0] == "nodes: 3 (existing) vs 2 (requested)");
  b = a;
  b.kubernetes_version = "v1.34.0";
  d = local::spec_differences(a, b);
  REQUIRE(d.size() == 1);
  CHECK(d[0].find("kubernetes version") == 0);

  SECTION("the spec survives a JSON round trip") {
    auto back = local::ClusterSpec::from_json(a.to_json());
    REQUIRE(back.ok());
    CHECK(local::spec_differences(a, *back).empty());
    CHECK(back->name == "demo");
  }
  SECTION("ports survive a JSON round trip") {
    local::Ports p{1, 2, 3, 4, 5, 6};
    auto q = local::Ports::from_json(p.to_json());
    CHECK(q.etcd_client == 1);
    CHECK(q.etcd_peer == 2);
    CHECK(q.apiserver == 3);
    CHECK(q.controller_manager == 4);
    CHECK(q.scheduler == 5);
    CHECK(q.kwok == 6);
  }
}

TEST_CASE("free loopback ports are distinct and bindable", "[providers][ports]") {
  auto ports = local::pick_free_ports(6);
  REQUIRE(ports.ok());
  REQUIRE(ports->size() == 6);
  std::set<int> unique(ports->begin(), ports->end());
  CHECK(unique.size() == 6);
  // Below the kernel's ephemeral range, where no outgoing connection can take them first.
  int eph_lo = 32768, eph_hi = 60999;
  {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    range >> eph_lo >> eph_hi;
  }
  for (int port : *ports) {
    INFO(port);
    CHECK(port >= 10000);
    if (eph_lo > 12000) CHECK(port < eph_lo);
    CHECK_FALSE(local::port_listening(port));
    CHECK_FALSE(local::port_open(port));
  }
  // Listening on one makes it open and visible in /proc/net/tcp.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>((*ports)[0]));
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  CHECK(local::port_listening((*ports)[0]));
  CHECK(local::port_open((*ports)[0]));
  ::close(fd);
  CHECK_FALSE(local::port_listening((*ports)[0]));
}

TEST_CASE("binaries are found flat or in the cache layout, missing ones are named", "[providers][binaries]") {
  kurator::test::TempDir tmp;
  auto make_exe = [](const std::filesystem::path& p) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << "#!/bin/sh\n";
    ::chmod(p.c_str(), 0755);
  };
  auto flat = tmp.path() / "flat";
  for (const char* b : {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"})
    make_exe(flat / b);
  auto r = local::resolve_binaries(flat, "v1.35.4");
  REQUIRE(r.ok());
  CHECK(r->kube_apiserver == flat / "kube-apiserver");
  CHECK(r->kubectl.empty());  // optional

  auto cache = tmp.path() / "cache";
  const std::string k = "kubernetes-v1.35.4";
  for (const char* b : {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"})
    make_exe(cache / k / b);
  make_exe(cache / ("etcd-" + std::string(versions::etcd)) / "etcd");
  r = local::resolve_binaries(cache, "v1.35.4");
  REQUIRE_FALSE(r.ok());  // kwok missing
  CHECK(r.error().message.find("kwok") != std::string::npos);
  CHECK(r.error().message.find("kube-apiserver") == std::string::npos);
  CHECK(r.error().hint.find("build-test-binaries.sh") != std::string::npos);
  make_exe(cache / ("kwok-" + std::string(versions::kwok)) / "kwok");
  r = local::resolve_binaries(cache, "v1.35.4");
  REQUIRE(r.ok());
  CHECK(r->etcd == cache / ("etcd-" + std::string(versions::etcd)) / "etcd");
  CHECK(r->kubectl == cache / k / "kubectl");
  // Another Kubernetes version is looked for in its own directory.
  r = local::resolve_binaries(cache, "v1.34.0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("kubernetes-v1.34.0") != std::string::npos);
}
