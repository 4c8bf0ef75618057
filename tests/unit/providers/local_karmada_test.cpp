// The local Karmada role of the local provider without real binaries: spec, binaries, certificates,
// the plan (what would start, with which flags), and a failing create that must not reach the hook.
#include <kurator/core/process.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/providers/pki.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/util/fs.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>

#include "support/test_env.hpp"

namespace local = kurator::providers::local;
namespace pki = kurator::providers::pki;
namespace versions = kurator::providers::versions;
namespace stdfs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void write_script(const stdfs::path& p, const std::string& body) {
  stdfs::create_directories(p.parent_path());
  std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
  ::chmod(p.c_str(), 0755);
}

const std::vector<std::string> kKarmadaBins = {"etcd",
                                               "kube-apiserver",
                                               "kube-controller-manager",
                                               "karmada-aggregated-apiserver",
                                               "karmada-webhook",
                                               "karmada-controller-manager",
                                               "karmada-scheduler"};

// A flat bin dir: etcd runs `etcd_body`, the rest fail loudly if ever started.
stdfs::path fake_bin(const stdfs::path& dir, const std::string& etcd_body) {
  write_script(dir / "etcd", etcd_body);
  for (const auto& b : kKarmadaBins)
    if (b != "etcd") write_script(dir / b, "echo should not start >&2; exit 3");
  return dir;
}

bool has(const std::vector<std::string>& argv, const std::string& arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

std::string flag(const std::vector<std::string>& argv, const std::string& name) {
  for (const auto& a : argv)
    if (a.rfind(name + "=", 0) == 0) return a.substr(name.size() + 1);
  return {};
}

local::CreateOptions karmada_options(const stdfs::path& bin_dir) {
  local::CreateOptions o;
  o.spec.role = local::Role::karmada;
  o.bin_dir = bin_dir;
  return o;
}

}  // namespace

TEST_CASE("karmada role: spec defaults, fixed name, no nodes", "[providers][karmada]") {
  local::ClusterSpec s;
  s.role = local::Role::karmada;
  s.nodes = 3;
  auto n = local::normalize(s);
  REQUIRE(n.ok());
  CHECK(n->name == "karmada");
  CHECK(n->nodes == 0);
  CHECK(n->karmada_version == std::string(versions::karmada));
  CHECK(n->kubernetes_version == std::string(versions::kubernetes));
  auto j = n->to_json();
  CHECK(j["role"] == "karmada");
  auto back = local::ClusterSpec::from_json(j);
  REQUIRE(back.ok());
  CHECK(back->role == local::Role::karmada);
  CHECK(local::spec_differences(*n, *back).empty());

  s.name = "other";
  auto bad = local::normalize(s);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().exit == kurator::ExitCode::usage);

  local::ClusterSpec v = *n;
  v.karmada_version = "1.17.0";
  auto nv = local::normalize(v);
  REQUIRE(nv.ok());
  CHECK(nv->karmada_version == "v1.17.0");
  CHECK(local::spec_differences(*n, *nv).size() == 1);

  // A cluster spec without a role reads back as a cluster.
  local::ClusterSpec c;
  c.name = "c1";
  auto cj = c.to_json();
  CHECK_FALSE(cj.contains("role"));
  CHECK(local::ClusterSpec::from_json(cj)->role == local::Role::cluster);
  CHECK(local::component_names(local::Role::karmada) == kKarmadaBins);
}

TEST_CASE("karmada role: missing binaries are named with the build hint", "[providers][karmada]") {
  kurator::test::TempDir tmp;
  write_script(tmp.path() / "etcd", "exit 0");
  auto r = local::resolve_karmada_binaries(tmp.path(), "v1.35.4", "v1.18.2");
  REQUIRE_FALSE(r.ok());
  for (const char* b : {"kube-apiserver", "karmada-aggregated-apiserver", "karmada-webhook",
                        "karmada-controller-manager", "karmada-scheduler"})
    CHECK(r.error().message.find(b) != std::string::npos);
  CHECK(r.error().message.find("etcd") == std::string::npos);
  CHECK(r.error().hint.find("scripts/build-test-binaries.sh") != std::string::npos);

  // Neither kube-scheduler nor kwok is needed; <component>-<version>/ layout works too.
  fake_bin(tmp.path() / "flat", "exit 0");
  auto ok = local::resolve_karmada_binaries(tmp.path() / "flat", "v1.35.4", "v1.18.2");
  REQUIRE(ok.ok());
  CHECK(ok->karmada_webhook.filename() == "karmada-webhook");
  CHECK(ok->kube_scheduler.empty());
  write_script(tmp.path() / "tree" / "karmada-v1.18.2" / "karmada-scheduler", "exit 0");
  auto partial = local::resolve_karmada_binaries(tmp.path() / "tree", "v1.35.4", "v1.18.2");
  REQUIRE_FALSE(partial.ok());
  CHECK(partial.error().message.find("karmada-scheduler") == std::string::npos);

  // The provider refuses before writing anything.
  local::Provider provider(tmp.path() / "home");
  auto cr = provider.create(karmada_options(tmp.path()));
  REQUIRE_FALSE(cr.ok());
  CHECK(cr.error().hint.find("scripts/build-test-binaries.sh") != std::string::npos);
  CHECK_FALSE(provider.karmada_installed());
}

TEST_CASE("karmada role: serving certificates for the webhook and the aggregated apiserver",
          "[providers][karmada]") {
  kurator::test::TempDir tmp;
  pki::ClusterPkiOptions o;
  o.extra_leaves = pki::karmada_leaves();
  REQUIRE(pki::write_cluster_pki(tmp.path(), o).ok());
  auto read = [&](const std::string& f) { return *kurator::fs::read_file(tmp.path() / f); };
  const std::string ca = read("ca.crt");
  for (const std::string name : {"karmada-webhook", "karmada-aggregated-apiserver"}) {
    INFO(name);
    auto crt = read(name + ".crt");
    CHECK(pki::verify(ca, crt).ok());
    CHECK(pki::key_matches(crt, read(name + ".key")).ok());
    auto info = pki::inspect(crt);
    REQUIRE(info.ok());
    CHECK(info->server_auth);
    CHECK(std::find(info->ip_addresses.begin(), info->ip_addresses.end(), "127.0.0.1") !=
          info->ip_addresses.end());
    const std::string svc = name + ".karmada-system.svc";
    CHECK(std::find(info->dns_names.begin(), info->dns_names.end(), svc) != info->dns_names.end());
    struct stat s {};
    REQUIRE(::stat((tmp.path() / (name + ".key")).c_str(), &s) == 0);
    CHECK((s.st_mode & 0777) == 0600);
  }
  auto admin = pki::inspect(read("karmada-admin.crt"));
  REQUIRE(admin.ok());
  CHECK(admin->common_name == "system:admin");
  CHECK(admin->organizations == std::vector<std::string>{"system:masters"});
  CHECK(admin->client_auth);
}

TEST_CASE("karmada role: the plan names every process with Karmada's flags, changing nothing",
          "[providers][karmada]") {
  kurator::test::TempDir tmp;
  local::Provider provider(tmp.path() / "home");
  auto plan = provider.plan(karmada_options(fake_bin(tmp.path() / "bin", "exit 0")));
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->already_running);
  CHECK(plan->root == tmp.path() / "home" / "karmada");
  CHECK(plan->kubeconfig == tmp.path() / "home" / "karmada" / "karmada-apiserver.config");
  CHECK_FALSE(stdfs::exists(tmp.path() / "home" / "karmada"));
  std::vector<std::string> names;
  for (const auto& p : plan->processes) names.push_back(p.name);
  CHECK(names == kKarmadaBins);
  auto argv = [&](const std::string& n) {
    for (const auto& p : plan->processes)
      if (p.name == n) return p.argv;
    return std::vector<std::string>{};
  };
  auto api = argv("kube-apiserver");
  CHECK(has(api, "--disable-admission-plugins=StorageObjectInUseProtection,ServiceAccount"));
  CHECK(has(api, "--enable-bootstrap-token-auth=true"));
  CHECK(has(api, "--bind-address=127.0.0.1"));
  auto kcm = argv("kube-controller-manager");
  CHECK(flag(kcm, "--controllers") ==
        "namespace,garbagecollector,serviceaccount-token,ttl-after-finished,bootstrapsigner,tokencleaner,"
        "csrcleaner,csrsigning,clusterrole-aggregation");
  auto aa = argv("karmada-aggregated-apiserver");
  CHECK(flag(aa, "--tls-cert-file").find("karmada-aggregated-apiserver.crt") != std::string::npos);
  CHECK(flag(aa, "--etcd-servers").rfind("https://127.0.0.1:", 0) == 0);
  CHECK(flag(aa, "--authentication-kubeconfig") == flag(aa, "--kubeconfig"));
  auto wh = argv("karmada-webhook");
  CHECK(flag(wh, "--cert-dir") == (tmp.path() / "home" / "karmada" / "webhook-certs").string());
  CHECK(flag(wh, "--bind-address") == "127.0.0.1");
  CHECK(flag(wh, "--metrics-bind-address") == "0");
  for (const std::string c : {"karmada-controller-manager", "karmada-scheduler"}) {
    INFO(c);
    auto a = argv(c);
    CHECK(has(a, "--leader-elect=false"));
    CHECK(flag(a, "--metrics-bind-address") == "0");
    CHECK(flag(a, "--health-probe-bind-address").rfind("127.0.0.1:", 0) == 0);
  }
  // Every listener on its own port.
  std::vector<std::string> ports = {flag(api, "--secure-port"), flag(aa, "--secure-port"),
                                    flag(wh, "--secure-port"), flag(wh, "--health-probe-bind-address"),
                                    flag(argv("karmada-scheduler"), "--health-probe-bind-address")};
  std::sort(ports.begin(), ports.end());
  CHECK(std::adjacent_find(ports.begin(), ports.end()) == ports.end());
  // No secret on any command line: only paths.
  for (const auto& p : plan->processes)
    for (const auto& a : p.argv) CHECK(a.find("BEGIN") == std::string::npos);
}

TEST_CASE("karmada role: a failing component stops the create before the hook, uninstall leaves nothing",
          "[providers][karmada]") {
  kurator::test::TempDir tmp;
  local::Provider provider(tmp.path() / "home");
  auto o = karmada_options(fake_bin(tmp.path() / "bin", "echo 'fake etcd: fatal' >&2; exit 1"));
  o.timeout = 60s;
  bool hook_called = false;
  o.on_api_ready = [&](const local::ApiReady&) {
    hook_called = true;
    return kurator::Status();
  };
  auto r = provider.create(o);
  REQUIRE_FALSE(r.ok());
  CHECK_FALSE(hook_called);
  CHECK(r.error().message.find("etcd exited") != std::string::npos);
  CHECK(r.error().hint.find("kurator uninstall karmada --provider local") != std::string::npos);
  REQUIRE(provider.karmada_installed());
  auto p = provider.karmada_paths();
  struct stat s {};
  REQUIRE(::stat(p.kubeconfig().c_str(), &s) == 0);
  CHECK((s.st_mode & 0777) == 0600);
  REQUIRE(::stat((p.webhook_certs() / "tls.key").c_str(), &s) == 0);
  CHECK((s.st_mode & 0777) == 0600);
  auto st = provider.karmada_status();
  REQUIRE(st.ok());
  CHECK(st->phase == "Failed");
  CHECK(st->spec.name == "karmada");
  CHECK(st->components.size() == kKarmadaBins.size());
  // get clusters lists it after the clusters.
  auto list = provider.list();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK(list->back().spec.role == local::Role::karmada);
  CHECK(provider.kubeconfig("karmada").ok());

  REQUIRE(provider.remove_karmada().ok());
  CHECK_FALSE(stdfs::exists(p.root));
  CHECK(local::find_cluster_processes(p.root).empty());
  // Not installed: nothing to do.
  CHECK(provider.remove_karmada().ok());
  CHECK_FALSE(provider.karmada_status().ok());
}
