// Benchmark (hidden case, run by bench/aws-vs-clusterctl.sh, not by the test suite): on the same test bed — a
// fresh local management cluster with the real Cluster API controllers beside it and AwsStandIn playing AWS —
// the time from nothing to a usable kubeconfig of a new aws cluster:
//   kurator:  `kurator create cluster demo --provider aws` until it has written the kubeconfig;
//   the peer: `clusterctl init --wait-providers` (the real clusterctl v1.14.0, from local repositories holding
//             the same release files), `clusterctl generate cluster | kubectl apply -f -`, then `clusterctl get
//             kubeconfig` once a second until it answers (what its quick start tells users to do).
// Both beds get the same stand-in delays. Rounds alternate which goes first.
#include <kurator/core/process.hpp>
#include <kurator/providers/aws.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "support/fleet.hpp"
#include "support/fleet_capi.hpp"
#include "support/fleet_members.hpp"
#include "support/mirror.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::pair<std::string, std::string>> kAwsEnv = {
    {"AWS_ACCESS_KEY_ID", "AKIAKURATORBENCH0001"},
    {"AWS_SECRET_ACCESS_KEY", "kuratorBenchSecretKey/0123456789abcdefghij"},
    {"AWS_REGION", "eu-central-1"},
    {"AWS_SSH_KEY_NAME", "bench-key"},
    {"AWS_CONTROL_PLANE_MACHINE_TYPE", "t3.large"},
    {"AWS_NODE_MACHINE_TYPE", "t3.large"},
    {"CLUSTERCTL_DISABLE_VERSIONCHECK", "true"},
    {"GOPROXY", "off"}};

// The management cluster, the workload cluster the machines join, the controllers and the stand-ins.
struct Bed {
  test::FleetCluster mgmt, wl;
  test::TempDir dir;
  std::unique_ptr<test::LoopbackPki> pki;
  std::unique_ptr<test::ClusterApiControllers> controllers;
  std::unique_ptr<test::AwsStandIn> aws;
  std::unique_ptr<test::WebhookRouter> router;
  Bed(test::Fleet& fleet, const std::string& tag) {
    mgmt = fleet.create_extra("bench-mgmt-" + tag, 1);
    wl = fleet.create_extra("bench-wl-" + tag, 0);
    pki = std::make_unique<test::LoopbackPki>(test::LoopbackPki::make(dir.path() / "pki"));
    controllers = std::make_unique<test::ClusterApiControllers>(mgmt, *pki);
    test::AwsStandIn::Options so;
    so.management = mgmt;
    so.workload = wl;
    aws = std::make_unique<test::AwsStandIn>(so, *pki);
    auto routes = controllers->routes();
    routes["cert-manager-webhook"] = aws->stub_port();
    routes["capa-webhook-service"] = aws->stub_port();
    router = std::make_unique<test::WebhookRouter>(mgmt, routes, pki->ca_pem);
    auto mc = test::client_of(mgmt);
    auto crt = fs::read_file(wl.dir / "pki" / "ca.crt"), key = fs::read_file(wl.dir / "pki" / "ca.key");
    REQUIRE(crt.ok());
    REQUIRE(key.ok());
    REQUIRE(mc->create({{"apiVersion", "v1"},
                        {"kind", "Secret"},
                        {"metadata",
                         {{"name", "demo-ca"},
                          {"namespace", "default"},
                          // The controllers only cache Secrets with this label.
                          {"labels", {{"cluster.x-k8s.io/cluster-name", "demo"}}}}},
                        {"type", "kubernetes.io/tls"},
                        {"data", {{"tls.crt", base64::encode(*crt)}, {"tls.key", base64::encode(*key)}}}})
                .ok());
  }
  ~Bed() {
    router.reset();
    aws.reset();
    controllers.reset();
  }
};

// clusterctl's local repositories ({base}/{provider label}/{version}/…) and its config file.
stdfs::path clusterctl_config(const stdfs::path& dir) {
  auto fx = test::fixtures_dir();
  auto put = [&](const std::string& label, const std::string& version, const stdfs::path& src,
                 const std::string& name) {
    auto d = dir / "repo" / label / version;
    stdfs::create_directories(d);
    stdfs::copy_file(src, d / name, stdfs::copy_options::overwrite_existing);
    return d / name;
  };
  auto capi = fx / "cluster-api-v1.14.0" / "release", capa = fx / "cluster-api-provider-aws-v2.11.1";
  auto core = put("cluster-api", "v1.14.0", capi / "core-components.yaml", "core-components.yaml");
  put("cluster-api", "v1.14.0", capi / "metadata.yaml", "metadata.yaml");
  auto boot = put("bootstrap-kubeadm", "v1.14.0", capi / "bootstrap-components.yaml", "bootstrap-components.yaml");
  put("bootstrap-kubeadm", "v1.14.0", capi / "metadata.yaml", "metadata.yaml");
  auto cp = put("control-plane-kubeadm", "v1.14.0", capi / "control-plane-components.yaml",
                "control-plane-components.yaml");
  put("control-plane-kubeadm", "v1.14.0", capi / "metadata.yaml", "metadata.yaml");
  auto infra = put("infrastructure-aws", "v2.11.1", capa / "release" / "infrastructure-components.yaml",
                   "infrastructure-components.yaml");
  put("infrastructure-aws", "v2.11.1", capa / "release" / "metadata.yaml", "metadata.yaml");
  put("infrastructure-aws", "v2.11.1", capa / "templates" / "cluster-template.yaml", "cluster-template.yaml");
  auto cm = put("cert-manager", "v1.21.1", fx / "cert-manager-v1.21.1" / "release" / "cert-manager.yaml",
                "cert-manager.yaml");
  std::string text = "providers:\n";
  text += "  - {name: cluster-api, type: CoreProvider, url: \"file://" + core.string() + "\"}\n";
  text += "  - {name: kubeadm, type: BootstrapProvider, url: \"file://" + boot.string() + "\"}\n";
  text += "  - {name: kubeadm, type: ControlPlaneProvider, url: \"file://" + cp.string() + "\"}\n";
  text += "  - {name: aws, type: InfrastructureProvider, url: \"file://" + infra.string() + "\"}\n";
  text += "cert-manager:\n  url: \"file://" + cm.string() + "\"\n  version: v1.21.1\n";
  REQUIRE(fs::write_file_atomic(dir / "clusterctl.yaml", text).ok());
  return dir / "clusterctl.yaml";
}

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// kurator: started as a process; the time is when its kubeconfig file appears (it then goes on to the CNI
// and the Available wait, which the stand-ins cannot satisfy here: it is stopped).
double run_kurator(Bed& bed, test::FixtureMirror& mirror) {
  auto home = bed.dir.path() / "kurator-home";
  process::DaemonSpec spec;
  spec.argv = {test::kurator_bin().string(), "--kubeconfig", bed.mgmt.kubeconfig.string(), "--wait-timeout", "300s",
               "create", "cluster", "demo", "--provider", "aws", "--region", "eu-central-1", "--ssh-key-name",
               "bench-key", "--worker-count", "1", "--kubernetes-version", "v1.35.4"};
  for (const auto& [k, v] : kAwsEnv) spec.env[k] = v;
  for (const auto& [k, v] : mirror.env()) spec.env[k] = v;
  spec.env["KURATOR_HOME"] = home.string();
  spec.env["HOME"] = bed.dir.path().string();
  spec.log_file = bed.dir.path() / "kurator.log";
  spec.pid_file = bed.dir.path() / "kurator.pid";
  auto kc = home / "clusters" / "demo" / "kubeconfig";
  const auto t0 = Clock::now();
  auto pid = process::start_daemon(spec);
  INFO((pid.ok() ? std::string() : pid.error().message));
  REQUIRE(pid.ok());
  double t = -1;
  while (seconds(t0, Clock::now()) < 300) {
    if (stdfs::exists(kc)) {
      t = seconds(t0, Clock::now());
      break;
    }
    if (!process::is_alive(*pid)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  process::stop_pid(*pid, std::chrono::seconds(5));
  INFO(fs::read_file(spec.log_file).value_or(""));
  if (const char* keep = std::getenv("BENCH_LOGS")) {  // kurator's progress, for a breakdown of its time
    std::error_code ec;
    stdfs::copy_file(spec.log_file, stdfs::path(keep) / ("kurator-" + bed.mgmt.name + ".log"),
                     stdfs::copy_options::overwrite_existing, ec);
  }
  REQUIRE(t > 0);
  return t;
}

double run_clusterctl(Bed& bed, test::Fleet& fleet) {
  auto clusterctl = test::ClusterApiControllers::binary("clusterctl").string();
  auto config = clusterctl_config(bed.dir.path());
  auto env = kAwsEnv;
  env.push_back({"HOME", bed.dir.path().string()});
  // What `clusterawsadm bootstrap credentials encode-as-profile` printed beforehand (not timed).
  providers::aws::Credentials creds{kAwsEnv[0].second, kAwsEnv[1].second, "", "eu-central-1", "bench"};
  env.push_back({"AWS_B64ENCODED_CREDENTIALS", providers::aws::encode_as_profile(creds)});
  const std::vector<std::string> kc = {"--kubeconfig", bed.mgmt.kubeconfig.string(), "--config", config.string()};
  const auto t0 = Clock::now();
  auto init = test::run_command(test::with(test::with({clusterctl, "init"}, kc),
                                           {"--core", "cluster-api:v1.14.0", "--bootstrap", "kubeadm:v1.14.0",
                                            "--control-plane", "kubeadm:v1.14.0", "--infrastructure", "aws:v2.11.1",
                                            "--wait-providers"}),
                                env, false, std::chrono::seconds(600));
  INFO(init.out + init.err);
  REQUIRE(init.exit_code == 0);
  const double t_init = seconds(t0, Clock::now());
  auto gen = test::run_command(test::with(test::with({clusterctl, "generate", "cluster", "demo"}, kc),
                                          {"--infrastructure", "aws:v2.11.1", "--kubernetes-version", "v1.35.4",
                                           "--control-plane-machine-count", "1", "--worker-machine-count", "1"}),
                               env, false, std::chrono::seconds(120));
  INFO(gen.err);
  REQUIRE(gen.exit_code == 0);
  auto manifest = bed.dir.path() / "demo.yaml";
  REQUIRE(fs::write_file_atomic(manifest, gen.out).ok());
  // kubectl apply right after init --wait-providers, as the quick start does (retried while the webhooks
  // refuse, as a user would).
  for (int i = 0;; ++i) {
    auto apply = fleet.kubectl(bed.mgmt, {"apply", "-f", manifest.string()});
    if (apply.exit_code == 0) break;
    INFO(apply.err);
    REQUIRE(i < 60);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const double t_applied = seconds(t0, Clock::now());
  while (seconds(t0, Clock::now()) < 300) {
    auto get = test::run_command(test::with({clusterctl, "get", "kubeconfig", "demo"}, kc), env, false,
                                 std::chrono::seconds(30));
    if (get.exit_code == 0 && get.out.find("apiVersion") != std::string::npos) {
      const double t = seconds(t0, Clock::now());
      std::cout << "clusterctl: init --wait-providers " << t_init << " s, applied at " << t_applied
                << " s, kubeconfig at " << t << " s\n";
      return t;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  FAIL("clusterctl get kubeconfig never answered");
  return -1;
}

}  // namespace

TEST_CASE("bench aws: kurator create vs clusterctl init + generate | kubectl apply + get kubeconfig",
          "[.bench-aws]") {
  if (!test::e2e_ready_to_run()) return;
  if (auto why = test::ClusterApiControllers::skip_reason(); !why.empty()) {
    test::skip(why);
    return;
  }
  auto& fleet = test::Fleet::get();
  test::FixtureMirror mirror{{"cluster-api-provider-aws", "calico"},
                             false,
                             {},
                             {{"cert-manager", "cert-manager-v1.21.1/release/cert-manager.yaml"},
                              {"cluster-api-core-components", "cluster-api-v1.14.0/release/core-components.yaml"},
                              {"cluster-api-bootstrap-kubeadm-components",
                               "cluster-api-v1.14.0/release/bootstrap-components.yaml"},
                              {"cluster-api-control-plane-kubeadm-components",
                               "cluster-api-v1.14.0/release/control-plane-components.yaml"},
                              {"cluster-api-provider-aws-components",
                               "cluster-api-provider-aws-v2.11.1/release/infrastructure-components.yaml"}}};
  REQUIRE(mirror.ok());
  const int rounds = std::getenv("ROUNDS") ? std::atoi(std::getenv("ROUNDS")) : 1;
  std::vector<double> k, c;
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < 2; ++i) {
      const bool kurator_turn = (i == 0) == (r % 2 == 0);
      const std::string tag = std::string(kurator_turn ? "k" : "c") + std::to_string(r);
      {
        Bed bed(fleet, tag);
        if (kurator_turn)
          k.push_back(run_kurator(bed, mirror));
        else
          c.push_back(run_clusterctl(bed, fleet));
      }
      for (const auto& n : {"bench-mgmt-" + tag, "bench-wl-" + tag})
        fleet.kurator({"delete", "cluster", n, "--provider", "local"});
      std::cout << "round " << r + 1 << ": " << (kurator_turn ? "kurator " : "clusterctl ")
                << (kurator_turn ? k.back() : c.back()) << " s\n"
                << std::flush;
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::cout << "bench aws: to a usable kubeconfig on a fresh management cluster: kurator median " << median(k)
            << " s, clusterctl sequence median " << median(c) << " s, ratio " << median(k) / median(c)
            << " (goal <= 0.5)\n"
            << std::flush;
}
