// The aws provider's machine-free parts: the AwsCluster config (defaults, file, flags, and the exact error
// line of every check), AWS credentials (the SDK's order and INI format, clusterawsadm's profile bytes,
// no secret in any message), and the cluster objects rendered from CAPA v2.11.1's real cluster template,
// compared with a golden file.
#include <kurator/providers/aws.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <set>

#include "support/test_env.hpp"

using namespace kurator;
namespace aws = kurator::providers::aws;
namespace stdfs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kFull =
    "apiVersion: kurator.dev/v1alpha1\n"
    "kind: AwsCluster\n"
    "metadata:\n"
    "  name: demo\n"
    "spec:\n"
    "  region: eu-central-1\n"
    "  sshKeyName: kurator-key\n"
    "  kubernetesVersion: 1.34.2\n"
    "  namespace: team-a\n"
    "  controlPlane:\n"
    "    count: 3\n"
    "    machineType: m6i.large\n"
    "  workers:\n"
    "    count: 2\n"
    "    machineType: t3.xlarge\n"
    "  network:\n"
    "    podCIDR: 172.16.0.0/16\n"
    "    serviceCIDR: 10.128.0.0/12\n"
    "    cni: none\n"
    "  amiID: ami-0123456789abcdef0\n";

// A folder with the config file.
struct Bed {
  test::TempDir dir;
  stdfs::path config = dir.path() / "cluster.yaml";
  Result<aws::AwsClusterConfig> load(const std::string& text, const std::string& name = "demo",
                                     const aws::ConfigFlags& flags = {}) const {
    REQUIRE(fs::write_file_atomic(config, text).ok());
    return aws::load_config(name, config, flags);
  }
};

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

aws::ConfigFlags with_region(const std::string& region = "us-west-2") {
  aws::ConfigFlags f;
  f.region = region;
  return f;
}

// An environment of its own for the credential tests.
struct Env {
  std::map<std::string, std::string> vars;
  aws::EnvLookup lookup() const {
    return [this](const std::string& k) -> std::optional<std::string> {
      auto it = vars.find(k);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

const char* const kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

stdfs::path template_path() {
  auto fx = test::fixtures_dir();
  if (fx.empty()) return {};
  auto p = fx / "cluster-api-provider-aws-v2.11.1" / "templates" / "cluster-template.yaml";
  std::error_code ec;
  return stdfs::exists(p, ec) ? p : stdfs::path();
}

// The config of the golden file: every setting away from its default.
aws::AwsClusterConfig golden_config() {
  aws::AwsClusterConfig c;
  c.name = "demo";
  c.namespace_ = "team-a";
  c.region = "eu-central-1";
  c.ssh_key_name = "kurator-key";
  c.kubernetes_version = "v1.35.4";
  c.control_plane_count = 3;
  c.control_plane_machine_type = "m6i.large";
  c.worker_count = 2;
  c.worker_machine_type = "t3.xlarge";
  c.pod_cidr = "172.16.0.0/16";
  c.service_cidr = "10.128.0.0/12";
  c.cni = "calico";
  c.ami_id = "ami-0123456789abcdef0";
  return c;
}

}  // namespace

TEST_CASE("aws config: flags only, with the defaults", "[providers][aws]") {
  auto cfg = aws::load_config("demo", "", with_region());
  REQUIRE(cfg.ok());
  CHECK(cfg->source.empty());
  CHECK(cfg->name == "demo");
  CHECK(cfg->namespace_ == "default");
  CHECK(cfg->region == "us-west-2");
  CHECK(cfg->ssh_key_name.empty());  // CAPA: "" means no SSH key
  CHECK(cfg->kubernetes_version == "v1.35.4");
  CHECK(aws::default_kubernetes_version() == "v1.35.4");
  CHECK(cfg->control_plane_count == 1);
  CHECK(cfg->control_plane_machine_type == "t3.large");
  CHECK(cfg->worker_count == 1);
  CHECK(cfg->worker_machine_type == "t3.large");
  CHECK(cfg->pod_cidr == "192.168.0.0/16");
  CHECK(cfg->service_cidr == "10.96.0.0/12");
  CHECK(cfg->cni == "calico");
  CHECK(cfg->ami_id.empty());

  aws::ConfigFlags f = with_region("ap-southeast-2");
  f.namespace_ = "clusters";
  f.ssh_key_name = "ops key";
  f.kubernetes_version = "1.31.0";
  f.control_plane_count = 5;
  f.control_plane_machine_type = "u-6tb1.metal";
  f.worker_count = 0;
  f.worker_machine_type = "m7i-flex.large";
  f.pod_cidr = "100.64.0.0/10";
  f.service_cidr = "172.20.0.0/16";
  f.cni = "none";
  f.ami_id = "ami-1234abcd";
  auto all = aws::load_config("a", "", f);
  REQUIRE(all.ok());
  CHECK(all->namespace_ == "clusters");
  CHECK(all->ssh_key_name == "ops key");
  CHECK(all->kubernetes_version == "v1.31.0");  // normalised
  CHECK(all->control_plane_count == 5);
  CHECK(all->control_plane_machine_type == "u-6tb1.metal");
  CHECK(all->worker_count == 0);
  CHECK(all->worker_machine_type == "m7i-flex.large");
  CHECK(all->pod_cidr == "100.64.0.0/10");
  CHECK(all->service_cidr == "172.20.0.0/16");
  CHECK(all->cni == "none");
  CHECK(all->ami_id == "ami-1234abcd");

  // The edges of what is accepted.
  for (const char* v : {"v1.31.0", "1.36.0", "v1.36.99", "v1.33.10"}) {
    INFO(v);
    aws::ConfigFlags g = with_region();
    g.kubernetes_version = v;
    CHECK(aws::load_config("demo", "", g).ok());
  }
  for (const char* r :
       {"us-east-1", "eu-central-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1", "cn-northwest-1",
        "il-central-1", "mx-central-1", "ca-west-1", "ap-southeast-7", "us-iso-east-1", "us-isob-east-1",
        "us-isof-south-1", "eu-isoe-west-1", "eusc-de-east-1", "af-south-1", "me-central-1", "sa-east-1"}) {
    INFO(r);
    CHECK(aws::load_config("demo", "", with_region(r)).ok());
  }
  for (const char* t : {"t3.nano", "m6i.xlarge", "c7gn.16xlarge", "u-6tb1.metal", "i7ie.metal-24xl",
                        "mac2-m2pro.metal", "p5e.48xlarge"}) {
    INFO(t);
    aws::ConfigFlags g = with_region();
    g.worker_machine_type = t;
    CHECK(aws::load_config("demo", "", g).ok());
  }
  std::string longest(aws::kMaxClusterNameLength, 'a');
  CHECK(aws::load_config(longest, "", with_region()).ok());
  CHECK(aws::check_cluster_name(longest).ok());
}

TEST_CASE("aws config: a file with every field, flags overriding it", "[providers][aws]") {
  Bed bed;
  auto cfg = bed.load(kFull);
  REQUIRE(cfg.ok());
  CHECK(cfg->source == bed.config);
  CHECK(cfg->name == "demo");
  CHECK(cfg->namespace_ == "team-a");
  CHECK(cfg->region == "eu-central-1");
  CHECK(cfg->ssh_key_name == "kurator-key");
  CHECK(cfg->kubernetes_version == "v1.34.2");
  CHECK(cfg->control_plane_count == 3);
  CHECK(cfg->control_plane_machine_type == "m6i.large");
  CHECK(cfg->worker_count == 2);
  CHECK(cfg->worker_machine_type == "t3.xlarge");
  CHECK(cfg->pod_cidr == "172.16.0.0/16");
  CHECK(cfg->service_cidr == "10.128.0.0/12");
  CHECK(cfg->cni == "none");
  CHECK(cfg->ami_id == "ami-0123456789abcdef0");

  // The name may come from the file alone.
  auto named_by_file = bed.load(kFull, "");
  REQUIRE(named_by_file.ok());
  CHECK(named_by_file->name == "demo");

  aws::ConfigFlags f;
  f.region = "us-east-2";
  f.control_plane_count = 1;
  f.worker_machine_type = "c6i.large";
  f.cni = "calico";
  auto over = bed.load(kFull, "demo", f);
  REQUIRE(over.ok());
  CHECK(over->region == "us-east-2");
  CHECK(over->control_plane_count == 1);
  CHECK(over->worker_machine_type == "c6i.large");
  CHECK(over->cni == "calico");
  CHECK(over->worker_count == 2);  // the file's, no flag

  // A minimal file: the defaults fill the rest.
  auto minimal = bed.load("apiVersion: kurator.dev/v1alpha1\nkind: AwsCluster\nspec:\n  region: us-east-1\n");
  REQUIRE(minimal.ok());
  CHECK(minimal->name == "demo");
  CHECK(minimal->control_plane_count == 1);
  CHECK(minimal->kubernetes_version == "v1.35.4");
}

TEST_CASE("aws config: the sample loads back to the defaults", "[providers][aws]") {
  Bed bed;
  std::string sample = aws::sample_config("demo");
  CHECK(sample.find("CHANGE ME") != std::string::npos);
  auto cfg = bed.load(sample, "demo");
  REQUIRE(cfg.ok());
  aws::AwsClusterConfig want;
  CHECK(cfg->name == "demo");
  CHECK(cfg->region == "us-east-1");
  CHECK(cfg->ssh_key_name == "change-me-ec2-key-pair");
  CHECK(cfg->kubernetes_version == aws::default_kubernetes_version());
  CHECK(cfg->namespace_ == want.namespace_);
  CHECK(cfg->control_plane_count == want.control_plane_count);
  CHECK(cfg->control_plane_machine_type == want.control_plane_machine_type);
  CHECK(cfg->worker_count == want.worker_count);
  CHECK(cfg->worker_machine_type == want.worker_machine_type);
  CHECK(cfg->pod_cidr == want.pod_cidr);
  CHECK(cfg->service_cidr == want.service_cidr);
  CHECK(cfg->cni == want.cni);
  CHECK(cfg->ami_id.empty());
  // Without a name the sample still loads (its own placeholder name).
  auto unnamed = bed.load(aws::sample_config(""), "");
  REQUIRE(unnamed.ok());
  CHECK(unnamed->name == "my-cluster");
}

TEST_CASE("aws config: every check gives its exact error line", "[providers][aws][bad-input]") {
  Bed bed;
  const std::string f = bed.config.string() + ": ";
  const std::string k = kFull;
  struct Case {
    std::string text;
    std::string message;
    std::string hint;  // a part of the hint
    std::string name = "demo";
  };
  const std::string long_name(59, 'x');
  std::vector<Case> cases = {
      {"spec: [\n", "", "--print-config"},  // yaml-cpp's wording, checked below
      {"- a\n- list\n", f + "not an AwsCluster config (expected a mapping)", "--print-config"},
      {k + "status: {}\n", f + "unknown field \"status\"", "the fields are apiVersion, kind, metadata, spec"},
      {replaced(k, "  name: demo\n", "  name: demo\n  labels: {}\n"),
       f + "metadata: unknown field \"labels\"", "the fields of metadata are name"},
      {replaced(k, "  sshKeyName: kurator-key\n", "  sshKey: kurator-key\n"),
       f + "spec: unknown field \"sshKey\"",
       "the fields of spec are region, sshKeyName, kubernetesVersion, controlPlane, workers, network, amiID, "
       "namespace"},
      {replaced(k, "    count: 3\n", "    replicas: 3\n"),
       f + "spec.controlPlane: unknown field \"replicas\"",
       "the fields of spec.controlPlane are count, machineType"},
      {replaced(k, "    count: 2\n", "    size: 2\n"), f + "spec.workers: unknown field \"size\"",
       "the fields of spec.workers are count, machineType"},
      {replaced(k, "podCIDR", "podCidr"), f + "spec.network: unknown field \"podCidr\"",
       "the fields of spec.network are podCIDR, serviceCIDR, cni"},
      {replaced(k, "apiVersion: kurator.dev/v1alpha1\n", ""), f + "apiVersion: is missing",
       "use apiVersion: kurator.dev/v1alpha1"},
      {replaced(k, "kurator.dev/v1alpha1", "cluster.x-k8s.io/v1beta1"),
       f + "apiVersion: \"cluster.x-k8s.io/v1beta1\" is not supported",
       "use apiVersion: kurator.dev/v1alpha1"},
      {replaced(k, "kind: AwsCluster\n", ""), f + "kind: is missing", "use kind: AwsCluster"},
      {replaced(k, "kind: AwsCluster", "kind: AWSCluster"), f + "kind: \"AWSCluster\" is not AwsCluster",
       "use kind: AwsCluster"},
      {"apiVersion: kurator.dev/v1alpha1\nkind: AwsCluster\nspec: 3\n", f + "spec: must be a mapping (got 3)",
       "its fields are region,"},
      {replaced(k, "  controlPlane:\n    count: 3\n    machineType: m6i.large\n", "  controlPlane: [3]\n"),
       f + "spec.controlPlane: must be a mapping (got [3])", "its fields are count, machineType"},
      {k, f + "metadata.name: \"demo\" is not the cluster name \"prod\"", "must agree", "prod"},
      {replaced(k, "name: demo", "name: Demo"), f + "metadata.name: \"Demo\" is not a valid cluster name",
       "lower-case letters, digits and '-'", ""},
      {replaced(k, "name: demo", "name: " + long_name),
       f + "metadata.name: \"" + long_name + "\" is 59 characters long; the limit is 58", "NAME-md-0", ""},
      {replaced(k, "name: demo", "name: 42"), f + "metadata.name: must be a string (got 42)",
       "quote the value", ""},
      {replaced(k, "namespace: team-a", "namespace: Team_A"),
       f + "spec.namespace: \"Team_A\" is not a valid namespace name", "lower-case DNS label"},
      {replaced(k, "  region: eu-central-1\n", ""), f + "spec.region: is missing",
       "the region to create the cluster in"},
      {replaced(k, "region: eu-central-1", "region: EU-Central-1"),
       f + "spec.region: \"EU-Central-1\" is not an AWS region", "us-east-1, eu-central-1, ap-southeast-2"},
      {replaced(k, "region: eu-central-1", "region: europe-west1"),
       f + "spec.region: \"europe-west1\" is not an AWS region", "us-gov-west-1 or cn-north-1"},
      {replaced(k, "region: eu-central-1", "region: eu-central-1a"),
       f + "spec.region: \"eu-central-1a\" is not an AWS region", "region code"},
      {replaced(k, "sshKeyName: kurator-key", "sshKeyName: 'my\"key'"),
       f + "spec.sshKeyName: \"my\"key\" is not an EC2 key pair name",
       "or empty for machines without an SSH key"},
      {replaced(k, "kubernetesVersion: 1.34.2", "kubernetesVersion: latest"),
       f + "spec.kubernetesVersion: \"latest\" is not a version (vMAJOR.MINOR.PATCH)",
       "Cluster API v1.14.0 runs workload clusters v1.31.x to v1.36.x (default v1.35.4)"},
      {replaced(k, "kubernetesVersion: 1.34.2", "kubernetesVersion: v1.30.14"),
       f + "spec.kubernetesVersion: v1.30.14 is not supported by Cluster API v1.14.0", "v1.31.x to v1.36.x"},
      {replaced(k, "kubernetesVersion: 1.34.2", "kubernetesVersion: 1.37.0"),
       f + "spec.kubernetesVersion: v1.37.0 is not supported by Cluster API v1.14.0", "v1.31.x to v1.36.x"},
      {replaced(k, "kubernetesVersion: 1.34.2", "kubernetesVersion: v1.35.0-rc.1"),
       f + "spec.kubernetesVersion: \"v1.35.0-rc.1\" is not a version (vMAJOR.MINOR.PATCH)", "v1.31.x"},
      {replaced(k, "kubernetesVersion: 1.34.2", "kubernetesVersion: 1.35"),
       f + "spec.kubernetesVersion: must be a string (got 1.35)", "quote the value"},
      {replaced(k, "count: 3", "count: 2"),
       f + "spec.controlPlane.count: 2 is even; KubeadmControlPlane refuses an even count with stacked etcd",
       "use 1, 3 or 5"},
      {replaced(k, "count: 3", "count: 0"),
       f + "spec.controlPlane.count: 0: a cluster needs a control-plane machine", "use 1, 3 or 5"},
      {replaced(k, "count: 3", "count: three"),
       f + "spec.controlPlane.count: must be an integer (got \"three\")", "whole number"},
      {replaced(k, "count: 3", "count: 3.0"), f + "spec.controlPlane.count: must be an integer (got 3.0)",
       "whole number"},
      {replaced(k, "machineType: m6i.large", "machineType: m6i"),
       f + "spec.controlPlane.machineType: \"m6i\" is not an EC2 instance type",
       "e.g. t3.large or m6i.xlarge"},
      {replaced(k, "count: 2", "count: -1"), f + "spec.workers.count: -1 is negative", "0 or more"},
      {replaced(k, "machineType: t3.xlarge", "machineType: T3.XLarge"),
       f + "spec.workers.machineType: \"T3.XLarge\" is not an EC2 instance type", "<family>.<size>"},
      {replaced(k, "podCIDR: 172.16.0.0/16", "podCIDR: 172.16.0.0"),
       f + "spec.network.podCIDR: \"172.16.0.0\" is not an IPv4 network (a.b.c.d/n)", "e.g. 192.168.0.0/16"},
      {replaced(k, "podCIDR: 172.16.0.0/16", "podCIDR: 172.16.1.0/16"),
       f + "spec.network.podCIDR: 172.16.1.0/16 has host bits set", "did you mean 172.16.0.0/16?"},
      {replaced(k, "podCIDR: 172.16.0.0/16", "podCIDR: 172.16.0.0/25"),
       f + "spec.network.podCIDR: 172.16.0.0/25: the prefix must be between /8 and /24", "a /24"},
      {replaced(k, "serviceCIDR: 10.128.0.0/12", "serviceCIDR: 10.128.0.0/9"),
       f + "spec.network.serviceCIDR: 10.128.0.0/9: the prefix must be between /12 and /28",
       "e.g. 10.96.0.0/12"},
      {replaced(k, "serviceCIDR: 10.128.0.0/12", "serviceCIDR: fd00::/108"),
       f + "spec.network.serviceCIDR: \"fd00::/108\" is not an IPv4 network (a.b.c.d/n)",
       "e.g. 10.96.0.0/12"},
      {replaced(k, "podCIDR: 172.16.0.0/16", "podCIDR: 10.130.0.0/16"),
       f + "spec.network.podCIDR: 10.130.0.0/16 overlaps the service network 10.128.0.0/12",
       "do not overlap"},
      {replaced(k, "podCIDR: 172.16.0.0/16", "podCIDR: 10.0.0.0/14"),
       f + "spec.network.podCIDR: 10.0.0.0/14 overlaps 10.0.0.0/16, the VPC CAPA creates for the machines",
       "outside 10.0.0.0/16"},
      {replaced(k, "serviceCIDR: 10.128.0.0/12", "serviceCIDR: 10.0.128.0/20"),
       f + "spec.network.serviceCIDR: 10.0.128.0/20 overlaps 10.0.0.0/16, the VPC CAPA creates for the "
           "machines",
       "outside 10.0.0.0/16"},
      {replaced(k, "cni: none", "cni: cilium"),
       f + "spec.network.cni: \"cilium\" is not a supported network plugin", "calico"},
      {replaced(k, "amiID: ami-0123456789abcdef0", "amiID: ami-123"),
       f + "spec.amiID: \"ami-123\" is not an AMI id", "8 or 17 hexadecimal digits"},
      {replaced(k, "amiID: ami-0123456789abcdef0", "amiID: ami-0123456789ABCDEF0"),
       f + "spec.amiID: \"ami-0123456789ABCDEF0\" is not an AMI id", "8 or 17 hexadecimal digits"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = bed.load(c.text, c.name);
    REQUIRE_FALSE(r.ok());
    if (!c.message.empty())
      CHECK(r.error().message == c.message);
    else
      CHECK(r.error().message.rfind(f + "line ", 0) == 0);
    CHECK(r.error().message.find('\n') == std::string::npos);
    CHECK(r.error().hint.find(c.hint) != std::string::npos);
    CHECK(r.error().exit == ExitCode::failure);
  }

  auto missing = aws::load_config("demo", bed.dir.path() / "nope.yaml", {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == (bed.dir.path() / "nope.yaml").string() + ": No such file or directory");
  CHECK(missing.error().hint.find("--print-config") != std::string::npos);

  // A flag over the file names the flag (a usage error).
  aws::ConfigFlags even;
  even.control_plane_count = 4;
  auto over = bed.load(kFull, "demo", even);
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().message ==
        "--control-plane-count: 4 is even; KubeadmControlPlane refuses an even count with stacked etcd");
  CHECK(over.error().exit == ExitCode::usage);
}

TEST_CASE("aws config: bad flags give their exact error line, exit usage", "[providers][aws][bad-input]") {
  struct Case {
    std::string name;
    aws::ConfigFlags flags;
    std::string message;
    std::string hint;
  };
  auto fl = [](auto setter) {
    aws::ConfigFlags f = with_region();
    setter(f);
    return f;
  };
  std::vector<Case> cases = {
      {"Demo", with_region(), "cluster name: \"Demo\" is not a valid cluster name", "lower-case letters"},
      {"-demo", with_region(), "cluster name: \"-demo\" is not a valid cluster name", "starting and ending"},
      {std::string(59, 'a'), with_region(),
       "cluster name: \"" + std::string(59, 'a') + "\" is 59 characters long; the limit is 58", "NAME-md-0"},
      {"", with_region(), "cluster name: is missing", "kurator create cluster NAME --provider aws"},
      {"demo", {}, "--region: is missing", "the region to create the cluster in"},
      {"demo", with_region("us-east"), "--region: \"us-east\" is not an AWS region", "us-east-1"},
      {"demo", with_region("xx-east-1"), "--region: \"xx-east-1\" is not an AWS region", "us-east-1"},
      {"demo", fl([](auto& f) { f.namespace_ = "a.b"; }),
       "--namespace: \"a.b\" is not a valid namespace name", "DNS label"},
      {"demo", fl([](auto& f) { f.ssh_key_name = "back\\slash"; }),
       "--ssh-key-name: \"back\\slash\" is not an EC2 key pair name", "no quotes or backslashes"},
      {"demo", fl([](auto& f) { f.kubernetes_version = "1.29.0"; }),
       "--kubernetes-version: v1.29.0 is not supported by Cluster API v1.14.0", "v1.31.x to v1.36.x"},
      {"demo", fl([](auto& f) { f.kubernetes_version = "v2.31.0"; }),
       "--kubernetes-version: v2.31.0 is not supported by Cluster API v1.14.0", "v1.31.x to v1.36.x"},
      {"demo", fl([](auto& f) { f.control_plane_count = 2; }),
       "--control-plane-count: 2 is even; KubeadmControlPlane refuses an even count with stacked etcd",
       "etcd runs on the control-plane machines"},
      {"demo", fl([](auto& f) { f.control_plane_count = -1; }),
       "--control-plane-count: -1: a cluster needs a control-plane machine", "use 1, 3 or 5"},
      {"demo", fl([](auto& f) { f.control_plane_machine_type = "large"; }),
       "--control-plane-machine-type: \"large\" is not an EC2 instance type", "t3.large"},
      {"demo", fl([](auto& f) { f.worker_count = -3; }), "--worker-count: -3 is negative", "0 or more"},
      {"demo", fl([](auto& f) { f.worker_machine_type = "t3."; }),
       "--worker-machine-type: \"t3.\" is not an EC2 instance type", "t3.large"},
      {"demo", fl([](auto& f) { f.pod_cidr = "10.96.0.0/16"; }),
       "--pod-cidr: 10.96.0.0/16 overlaps the service network 10.96.0.0/12",
       "192.168.0.0/16 and 10.96.0.0/12"},
      {"demo", fl([](auto& f) { f.service_cidr = "192.168.128.0/20"; }),
       "--service-cidr: 192.168.128.0/20 overlaps the pod network 192.168.0.0/16", "do not overlap"},
      {"demo", fl([](auto& f) { f.pod_cidr = "10.0.0.0/8"; }),
       "--pod-cidr: 10.0.0.0/8 overlaps the service network 10.96.0.0/12", "do not overlap"},
      {"demo", fl([](auto& f) { f.service_cidr = "10.0.0.0/12"; }),
       "--service-cidr: 10.0.0.0/12 overlaps 10.0.0.0/16, the VPC CAPA creates for the machines", "outside"},
      {"demo", fl([](auto& f) { f.service_cidr = "10.96.0.256/12"; }),
       "--service-cidr: \"10.96.0.256/12\" is not an IPv4 network (a.b.c.d/n)", "10.96.0.0/12"},
      {"demo", fl([](auto& f) { f.cni = "flannel"; }), "--cni: \"flannel\" is not a supported network plugin",
       "calico"},
      {"demo", fl([](auto& f) { f.ami_id = "ami-123456789"; }),
       "--ami-id: \"ami-123456789\" is not an AMI id", "ami-0123456789abcdef0"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    auto r = aws::load_config(c.name, "", c.flags);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == c.message);
    CHECK(r.error().hint.find(c.hint) != std::string::npos);
    CHECK(r.error().exit == ExitCode::usage);
  }
  auto bad = aws::check_cluster_name("under_score");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "cluster name: \"under_score\" is not a valid cluster name");
  CHECK(bad.error().exit == ExitCode::usage);
}

TEST_CASE("aws credentials: the environment first, then the profile of the shared file", "[providers][aws]") {
  test::TempDir home;
  REQUIRE(fs::write_private_file(home.path() / ".aws" / "credentials",
                                 "[default]\n"
                                 "aws_access_key_id = AKFILEDEFAULT\n"
                                 "aws_secret_access_key = SKFILEDEFAULT\n"
                                 "\n"
                                 "[dev]\n"
                                 "aws_access_key_id = AKFILEDEV\n"
                                 "aws_secret_access_key = SKFILEDEV\n"
                                 "aws_session_token = TOKENDEV\n"
                                 "[ops]\n"
                                 "aws_access_key_id = AKFILEOPS\n"
                                 "aws_secret_access_key = SKFILEOPS\n")
              .ok());
  const std::string file = (home.path() / ".aws" / "credentials").string();

  Env env;
  env.vars = {{"AWS_ACCESS_KEY_ID", "AKENV"}, {"AWS_SECRET_ACCESS_KEY", "SKENV"}, {"AWS_PROFILE", "dev"}};
  auto c = aws::load_credentials(env.lookup(), home.path(), "eu-west-1");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKENV");
  CHECK(c->secret_access_key == "SKENV");
  CHECK(c->session_token.empty());
  CHECK(c->region == "eu-west-1");
  CHECK(c->source == "environment");

  env.vars["AWS_SESSION_TOKEN"] = "TOKENENV";
  c = aws::load_credentials(env.lookup(), home.path(), "eu-west-1");
  REQUIRE(c.ok());
  CHECK(c->session_token == "TOKENENV");

  // The SDK's other names of the two keys.
  env.vars = {{"AWS_ACCESS_KEY", "AKOLD"}, {"AWS_SECRET_KEY", "SKOLD"}};
  c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKOLD");
  CHECK(c->secret_access_key == "SKOLD");

  // Half the keys in the environment (or empty ones): the SDK goes on to the file.
  env.vars = {{"AWS_ACCESS_KEY_ID", "AKENV"}, {"AWS_SECRET_ACCESS_KEY", ""}};
  c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKFILEDEFAULT");
  CHECK(c->secret_access_key == "SKFILEDEFAULT");
  CHECK(c->session_token.empty());
  CHECK(c->source == "profile default in " + file);

  env.vars = {{"AWS_PROFILE", "dev"}};
  c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKFILEDEV");
  CHECK(c->session_token == "TOKENDEV");
  CHECK(c->source == "profile dev in " + file);

  env.vars = {{"AWS_DEFAULT_PROFILE", "ops"}};
  c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKFILEOPS");
  env.vars = {{"AWS_PROFILE", "dev"}, {"AWS_DEFAULT_PROFILE", "ops"}};
  c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKFILEDEV");

  // AWS_SHARED_CREDENTIALS_FILE replaces ~/.aws/credentials.
  test::TempDir other;
  const auto elsewhere = other.path() / "creds.ini";
  REQUIRE(fs::write_private_file(elsewhere,
                                 "[default]\naws_access_key_id=AKOTHER\naws_secret_access_key=SKOTHER\n")
              .ok());
  env.vars = {{"AWS_SHARED_CREDENTIALS_FILE", elsewhere.string()}};
  c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKOTHER");
  CHECK(c->source == "profile default in " + elsewhere.string());
}

TEST_CASE("aws credentials: the shared file read as the AWS SDK reads it", "[providers][aws]") {
  test::TempDir home;
  const auto path = home.path() / ".aws" / "credentials";
  REQUIRE(fs::write_private_file(path,
                                 "aws_access_key_id = IGNORED_BEFORE_ANY_SECTION\n"
                                 "# a comment\n"
                                 "   ; an indented comment\r\n"
                                 "[profile dev]\n"  // not a credentials-file profile name: dropped
                                 "aws_access_key_id = AKPREFIXED\n"
                                 "aws_secret_access_key = SKPREFIXED\n"
                                 "[  dev  ]   # trailing comment\r\n"
                                 "AWS_Access_Key_ID\t=\tAKDEV   ; keys are case-insensitive\n"
                                 "aws_secret_access_key: \"SKDEV\"\n"
                                 "region = ignored-here\n"
                                 "\n"
                                 "[other]\n"
                                 "aws_access_key_id = AKOTHER\n"
                                 "[dev]\n"  // a repeated section adds to the first
                                 "aws_session_token = 'TOKDEV'\n")
              .ok());
  Env env;
  env.vars = {{"AWS_PROFILE", "dev"}};
  auto c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKDEV");
  CHECK(c->secret_access_key == "SKDEV");
  CHECK(c->session_token == "TOKDEV");

  // A line that is none of the INI forms: named by number, its text never shown.
  REQUIRE(fs::write_private_file(path, "[default]\naws_access_key_id = AK\nSECRETLINEWITHOUTKEY\n").ok());
  env.vars.clear();
  auto bad = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message ==
        path.string() + ": line 3: not a [profile] header, a key = value line or a comment");
  CHECK(bad.error().message.find("SECRETLINE") == std::string::npos);
}

TEST_CASE("aws credentials: the region order of clusterawsadm", "[providers][aws]") {
  Env env;
  env.vars = {{"AWS_ACCESS_KEY_ID", "AK"},
              {"AWS_SECRET_ACCESS_KEY", "SK"},
              {"AWS_REGION", "eu-west-1"},
              {"DEFAULT_AWS_REGION", "eu-west-2"}};
  test::TempDir home;
  auto c = aws::load_credentials(env.lookup(), home.path(), "ap-south-1");
  REQUIRE(c.ok());
  CHECK(c->region == "ap-south-1");  // the cluster's region first
  c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->region == "eu-west-1");
  env.vars.erase("AWS_REGION");
  c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->region == "eu-west-2");
  env.vars.erase("DEFAULT_AWS_REGION");
  env.vars["AWS_DEFAULT_REGION"] = "eu-west-3";  // not one clusterawsadm reads
  c = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE(c.ok());
  CHECK(c->region == "us-east-1");
}

TEST_CASE("aws credentials: encode-as-profile gives clusterawsadm's exact bytes", "[providers][aws]") {
  aws::Credentials c;
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = kSecret;
  c.region = "eu-central-1";
  // Encoded once with `base64 -w0` from the profile text clusterawsadm v2.11.1's template renders:
  // "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJal...KEY\n"
  // "region = eu-central-1\n\n"
  const std::string want =
      "W2RlZmF1bHRdCmF3c19hY2Nlc3Nfa2V5X2lkID0gQUtJQUlPU0ZPRE5ON0VYQU1QTEUKYXdzX3NlY3JldF9hY2Nlc3Nfa2V5ID0gd0"
      "ph"
      "bHJYVXRuRkVNSS9LN01ERU5HL2JQeFJmaUNZRVhBTVBMRUtFWQpyZWdpb24gPSBldS1jZW50cmFsLTEKCg==";
  CHECK(aws::encode_as_profile(c) == want);
  CHECK(base64::decode(want) ==
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " +
            std::string(kSecret) + "\nregion = eu-central-1\n\n");

  // With a session token the template's {{if}} block adds a blank line, the token line and a newline.
  aws::Credentials t;
  t.access_key_id = "ASIAEXAMPLE";
  t.secret_access_key = "s3cr3t/Key+Value";
  t.session_token = "FwoGZXIvYXdzEXAMPLE==";
  t.region = "us-east-1";
  const std::string want_token =
      "W2RlZmF1bHRdCmF3c19hY2Nlc3Nfa2V5X2lkID0gQVNJQUVYQU1QTEUKYXdzX3NlY3JldF9hY2Nlc3Nfa2V5ID0gczNjcjN0L0tleS"
      "tW"
      "YWx1ZQpyZWdpb24gPSB1cy1lYXN0LTEKCmF3c19zZXNzaW9uX3Rva2VuID0gRndvR1pYSXZZWGR6RVhBTVBMRT09Cgo=";
  CHECK(aws::encode_as_profile(t) == want_token);
  CHECK(base64::decode(want_token) ==
        "[default]\naws_access_key_id = ASIAEXAMPLE\naws_secret_access_key = s3cr3t/Key+Value\n"
        "region = us-east-1\n\naws_session_token = FwoGZXIvYXdzEXAMPLE==\n\n");
}

TEST_CASE("aws credentials: errors name the file, profile and key, never a secret",
          "[providers][aws][bad-input]") {
  test::TempDir home;
  const auto path = home.path() / ".aws" / "credentials";
  const std::string file = path.string();
  Env env;

  auto none = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message ==
        "no AWS credentials: not in the environment, and " + file + " does not exist");
  CHECK(none.error().hint.find("aws configure") != std::string::npos);

  env.vars = {{"AWS_SECRET_ACCESS_KEY", kSecret}};
  auto half = aws::load_credentials(env.lookup(), home.path(), "");
  REQUIRE_FALSE(half.ok());
  CHECK(half.error().message ==
        "no AWS credentials: not in the environment (AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is "
        "not), "
        "and " +
            file + " does not exist");

  REQUIRE(fs::write_private_file(path,
                                 "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                                 "[dev]\naws_secret_access_key = " +
                                     std::string(kSecret) +
                                     "\n"
                                     "[sso]\nsso_session = corp\nsso_account_id = 111122223333\n"
                                     "[profile admin]\naws_access_key_id = AK\naws_secret_access_key = SK\n")
              .ok());
  struct Case {
    std::map<std::string, std::string> vars;
    std::string message;
    std::string hint;
  };
  std::vector<Case> cases = {
      {{}, file + ": profile \"default\": aws_secret_access_key is missing", "add aws_secret_access_key"},
      {{{"AWS_PROFILE", "dev"}},
       file + ": profile \"dev\" (AWS_PROFILE): aws_access_key_id is missing",
       "add aws_access_key_id"},
      {{{"AWS_PROFILE", "sso"}},
       file + ": profile \"sso\" (AWS_PROFILE): aws_access_key_id is missing",
       "aws configure export-credentials --profile sso --format env"},
      {{{"AWS_PROFILE", "prod"}},
       file + ": profile \"prod\" (AWS_PROFILE) not found",
       "the file has profiles default, dev, sso; set AWS_PROFILE"},
      {{{"AWS_PROFILE", "admin"}},
       file + ": profile \"admin\" (AWS_PROFILE) not found",
       "profiles default, dev"},
      {{{"AWS_PROFILE", "profile admin"}},
       file + ": profile \"profile admin\" (AWS_PROFILE) not found",
       "profiles default, dev"},
      {{{"AWS_PROFILE", "dev"}, {"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"}},
       file + ": profile \"dev\" (AWS_PROFILE): aws_access_key_id is missing (AWS_ACCESS_KEY_ID is set but "
              "AWS_SECRET_ACCESS_KEY is not)",
       "aws_access_key_id"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    env.vars = c.vars;
    auto r = aws::load_credentials(env.lookup(), home.path(), "");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == c.message);
    CHECK(r.error().hint.find(c.hint) != std::string::npos);
    CHECK(r.error().exit == ExitCode::failure);
    CHECK(r.error().message.find(kSecret) == std::string::npos);
    CHECK(r.error().hint.find(kSecret) == std::string::npos);
  }
}

TEST_CASE("aws render: CAPA's cluster template as clusterctl generates it, compared with the golden file",
          "[providers][aws][fixtures]") {
  auto path = template_path();
  if (path.empty()) {
    test::skip(
        "upstream fixture cluster-api-provider-aws-v2.11.1/templates/cluster-template.yaml not found: the "
        "rendering of CAPA's cluster template is not checked");
    return;
  }
  auto text = fs::read_file(path);
  REQUIRE(text.ok());
  auto objs = aws::render_cluster(golden_config(), *text, "cluster-template.yaml");
  REQUIRE(objs.ok());
  const std::string rendered = yaml::dump_all(*objs);
  const auto golden = stdfs::path(KURATOR_SOURCE_DIR) / "tests" / "data" / "aws" / "cluster-golden.yaml";
  const char* update = std::getenv("KURATOR_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    REQUIRE(fs::write_file_atomic(golden, rendered).ok());
    WARN("rewrote " << golden.string());
  }
  auto want = fs::read_file(golden);
  REQUIRE(want.ok());
  CHECK(rendered == *want);
}

TEST_CASE("aws render: the objects, their namespace, labels and kurator's edits",
          "[providers][aws][fixtures]") {
  auto path = template_path();
  if (path.empty()) {
    test::skip("upstream fixture cluster-api-provider-aws-v2.11.1/templates/cluster-template.yaml not found");
    return;
  }
  auto text = fs::read_file(path);
  REQUIRE(text.ok());
  auto cfg = golden_config();
  auto objs = aws::render_cluster(cfg, *text, path.string());
  REQUIRE(objs.ok());

  std::vector<std::pair<std::string, std::string>> kinds;
  for (const auto& o : *objs)
    kinds.emplace_back(o["kind"].get<std::string>(), o["metadata"]["name"].get<std::string>());
  CHECK(kinds == std::vector<std::pair<std::string, std::string>>{
                     {"Cluster", "demo"},
                     {"AWSCluster", "demo"},
                     {"KubeadmControlPlane", "demo-control-plane"},
                     {"AWSMachineTemplate", "demo-control-plane"},
                     {"MachineDeployment", "demo-md-0"},
                     {"AWSMachineTemplate", "demo-md-0"},
                     {"KubeadmConfigTemplate", "demo-md-0"},
                     {"ClusterResourceSet", "crs-ccm"},
                     {"ClusterResourceSet", "crs-csi"},
                     {"ConfigMap", "cloud-controller-manager-addon"},
                     {"ConfigMap", "aws-ebs-csi-driver-addon"},
                 });
  // The template's apiVersions are kept.
  CHECK((*objs)[0]["apiVersion"] == "cluster.x-k8s.io/v1beta1");
  CHECK((*objs)[1]["apiVersion"] == "infrastructure.cluster.x-k8s.io/v1beta2");
  CHECK((*objs)[2]["apiVersion"] == "controlplane.cluster.x-k8s.io/v1beta1");
  CHECK((*objs)[6]["apiVersion"] == "bootstrap.cluster.x-k8s.io/v1beta1");
  CHECK((*objs)[7]["apiVersion"] == "addons.cluster.x-k8s.io/v1beta1");

  for (const auto& o : *objs) {
    INFO(o["kind"].get<std::string>() << " " << o["metadata"]["name"].get<std::string>());
    CHECK(o["metadata"]["namespace"] == "team-a");
    CHECK(o["metadata"]["labels"]["kurator.dev/cluster"] == "demo");
    CHECK(o["metadata"]["labels"]["kurator.dev/provider"] == "aws");
    // No ${ left, except inside the ConfigMaps' data (workload-cluster manifests, not touched).
    json rest = o;
    if (o["kind"] == "ConfigMap") rest.erase("data");
    CHECK(rest.dump().find("${") == std::string::npos);
  }
  const json& cluster = (*objs)[0];
  CHECK(cluster["metadata"]["labels"]["ccm"] == "external");  // the template's own labels stay
  CHECK(cluster["spec"]["clusterNetwork"]["pods"]["cidrBlocks"] == json::array({"172.16.0.0/16"}));
  CHECK(cluster["spec"]["clusterNetwork"]["services"]["cidrBlocks"] == json::array({"10.128.0.0/12"}));
  const json& awscluster = (*objs)[1];
  CHECK(awscluster["spec"]["region"] == "eu-central-1");
  CHECK(awscluster["spec"]["sshKeyName"] == "kurator-key");
  const json& kcp = (*objs)[2];
  CHECK(kcp["spec"]["replicas"].is_number_integer());
  CHECK(kcp["spec"]["replicas"] == 3);
  CHECK(kcp["spec"]["version"] == "v1.35.4");
  CHECK((*objs)[3]["spec"]["template"]["spec"]["instanceType"] == "m6i.large");
  CHECK((*objs)[3]["spec"]["template"]["spec"]["ami"]["id"] == "ami-0123456789abcdef0");
  const json& md = (*objs)[4];
  CHECK(md["spec"]["replicas"].is_number_integer());
  CHECK(md["spec"]["replicas"] == 2);
  CHECK(md["spec"]["clusterName"] == "demo");
  CHECK(md["spec"]["template"]["spec"]["clusterName"] == "demo");
  CHECK(md["spec"]["template"]["spec"]["version"] == "v1.35.4");
  CHECK((*objs)[5]["spec"]["template"]["spec"]["instanceType"] == "t3.xlarge");
  CHECK((*objs)[5]["spec"]["template"]["spec"]["ami"]["id"] == "ami-0123456789abcdef0");
  // The ConfigMaps' contents are the template's, the CCM image default applied by the substitution.
  const json& ccm = (*objs)[9];
  REQUIRE(ccm["data"].contains("aws-ccm-external.yaml"));
  const std::string ccm_text = ccm["data"]["aws-ccm-external.yaml"];
  CHECK(ccm_text.find("registry.k8s.io/provider-aws/cloud-controller-manager:v1.32.5") != std::string::npos);
  CHECK(ccm_text.find("namespace: kube-system") != std::string::npos);
  CHECK(ccm_text.find("team-a") == std::string::npos);
  auto raw = yaml::parse_all(*text, "raw template");
  REQUIRE(raw.ok());
  for (size_t i : {size_t(9), size_t(10)}) {
    REQUIRE((*raw)[i]["kind"] == "ConfigMap");
    for (auto it = (*raw)[i]["data"].begin(); it != (*raw)[i]["data"].end(); ++it) {
      INFO(it.key());
      std::string want = it.value().get<std::string>();
      const std::string var = "${KUBERNETES_AWS_CCM_VERSION:-v1.32.5}";
      if (auto at = want.find(var); at != std::string::npos) want.replace(at, var.size(), "v1.32.5");
      CHECK((*objs)[i]["data"][it.key()] == want);  // byte for byte
    }
  }

  // Without an AMI id CAPA looks its own up; an empty SSH key name stays empty (no key); a name YAML would
  // read as a number stays a string.
  cfg.ami_id.clear();
  cfg.ssh_key_name.clear();
  cfg.name = "1234";
  cfg.worker_count = 0;
  auto plain = aws::render_cluster(cfg, *text, path.string());
  REQUIRE(plain.ok());
  CHECK_FALSE((*plain)[3]["spec"]["template"]["spec"].contains("ami"));
  CHECK_FALSE((*plain)[5]["spec"]["template"]["spec"].contains("ami"));
  CHECK((*plain)[1]["spec"]["sshKeyName"] == "");
  CHECK((*plain)[3]["spec"]["template"]["spec"]["sshKeyName"] == "");
  CHECK((*plain)[4]["spec"]["template"]["spec"]["clusterName"] == "1234");
  CHECK((*plain)[4]["spec"]["replicas"] == 0);
}

TEST_CASE("aws render: templates that are not CAPA cluster templates", "[providers][aws][bad-input]") {
  auto cfg = golden_config();
  auto no_cluster = aws::render_cluster(
      cfg, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${CLUSTER_NAME}\n", "t.yaml");
  REQUIRE_FALSE(no_cluster.ok());
  CHECK(no_cluster.error().message == "t.yaml: 0 Cluster objects; a cluster template has one");

  auto not_object = aws::render_cluster(cfg, "kind: Cluster\nmetadata:\n  name: a\n---\n- 1\n", "t.yaml");
  REQUIRE_FALSE(not_object.ok());
  CHECK(not_object.error().message == "t.yaml: object 2 is not a Kubernetes object (no kind or metadata)");

  // A variable kurator does not set and the template gives no default: clusterctl's error.
  auto unset = aws::render_cluster(cfg, "kind: Cluster\nmetadata:\n  name: ${AWS_VPC_ID}\n", "t.yaml");
  REQUIRE_FALSE(unset.ok());
  CHECK(unset.error().message.find("AWS_VPC_ID") != std::string::npos);
}

TEST_CASE("aws config: config_yaml reads back to the same settings", "[providers][aws]") {
  namespace aws = kurator::providers::aws;
  kurator::test::TempDir dir;
  aws::ConfigFlags f;
  f.region = "eu-central-1";
  f.ssh_key_name = "";
  f.worker_count = 3;
  f.control_plane_count = 3;
  f.ami_id = "ami-0123456789abcdef0";
  f.namespace_ = "team-a";
  for (const std::string name : {"demo", "1234"}) {
    auto cfg = aws::load_config(name, {}, f);
    REQUIRE(cfg.ok());
    auto file = dir.path() / (name + ".yaml");
    REQUIRE(kurator::fs::write_file_atomic(file, aws::config_yaml(*cfg)).ok());
    auto back = aws::load_config(name, file, {});
    INFO(aws::config_yaml(*cfg));
    REQUIRE(back.ok());
    CHECK(back->name == name);
    CHECK(back->region == "eu-central-1");
    CHECK(back->ssh_key_name.empty());
    CHECK(back->worker_count == 3);
    CHECK(back->control_plane_count == 3);
    CHECK(back->ami_id == "ami-0123456789abcdef0");
    CHECK(back->namespace_ == "team-a");
    CHECK(back->kubernetes_version == cfg->kubernetes_version);
    CHECK(aws::config_yaml(*back) == aws::config_yaml(*cfg));
  }
}
