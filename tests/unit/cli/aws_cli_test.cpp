// The real kurator binary, --provider aws without a management cluster: the sample config, flag and config
// errors, the refusals of scale/upgrade that come before anything is contacted, and what a recorded cluster
// whose management cluster is gone gives.
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include "support/test_env.hpp"

using namespace kurator;
namespace stdfs = std::filesystem;

namespace {
std::vector<std::pair<std::string, std::string>> clean_env(const test::TempDir& d) {
  return {{"HOME", d.path().string()},
          {"KUBECONFIG", ""},
          {"KURATOR_HOME", (d.path() / "kurator").string()},
          {"NO_COLOR", "1"},
          {"AWS_ACCESS_KEY_ID", ""},
          {"AWS_SECRET_ACCESS_KEY", ""}};
}

std::string last_error(const std::string& err) {
  auto p = err.rfind("error: ");
  return p == std::string::npos ? std::string() : err.substr(p, err.find('\n', p) - p);
}

// A cluster "demo" as create records it, whose management kubeconfig is `mgmt_kubeconfig`.
void record(const test::TempDir& d, const std::string& version, const stdfs::path& mgmt_kubeconfig) {
  auto dir = d.path() / "kurator" / "clusters" / "demo";
  stdfs::create_directories(dir);
  REQUIRE(fs::write_private_file(dir / "aws.json",
                                 nlohmann::json{{"name", "demo"},
                                                {"provider", "aws"},
                                                {"namespace", "default"},
                                                {"management", {{"kubeconfig", mgmt_kubeconfig.string()}, {"context", ""}}},
                                                {"lastOperation", "create"},
                                                {"result", "succeeded"}}
                                     .dump())
              .ok());
  REQUIRE(fs::write_private_file(dir / "cluster.yaml", "apiVersion: kurator.dev/v1alpha1\nkind: AwsCluster\n"
                                                       "metadata: {name: demo}\nspec:\n  region: eu-central-1\n"
                                                       "  kubernetesVersion: " +
                                                           version + "\n")
              .ok());
}
}  // namespace

TEST_CASE("cli aws: --print-config writes a sample that -f reads back", "[cli][aws]") {
  test::TempDir d;
  auto r = test::run_kurator({"create", "cluster", "demo", "--provider", "aws", "--print-config"}, clean_env(d));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("kind: AwsCluster") != std::string::npos);
  CHECK(yaml::parse_one(r.out, "sample").ok());
  // A bad value in the file is one error line naming the file and field; nothing is contacted or written.
  auto file = d.path() / "cluster.yaml";
  auto text = r.out;
  text.replace(text.find("count: 1"), 8, "count: 2");
  REQUIRE(fs::write_file_atomic(file, text).ok());
  auto bad = test::run_kurator({"create", "cluster", "demo", "--provider", "aws", "-f", file.string()}, clean_env(d));
  CHECK(bad.exit_code == 1);
  CHECK(last_error(bad.err).find(file.string() + ": spec.controlPlane.count") != std::string::npos);
  CHECK_FALSE(stdfs::exists(d.path() / "kurator" / "clusters"));
}

TEST_CASE("cli aws: bad flags are usage errors before anything is contacted", "[cli][aws][bad-input]") {
  test::TempDir d;
  auto even = test::run_kurator({"create", "cluster", "demo", "--provider", "aws", "--region", "eu-central-1",
                                 "--control-plane-count", "2"},
                                clean_env(d));
  CHECK(even.exit_code == 2);
  CHECK(last_error(even.err).find("--control-plane-count") != std::string::npos);
  auto region = test::run_kurator({"create", "cluster", "demo", "--provider", "aws", "--region", "Frankfurt"},
                                  clean_env(d));
  CHECK(region.exit_code == 2);
  CHECK(last_error(region.err).find("--region") != std::string::npos);
  auto local = test::run_kurator({"create", "cluster", "demo", "--region", "eu-central-1"}, clean_env(d));
  CHECK(local.exit_code == 2);
  CHECK(last_error(local.err) == "error: --region is a flag of --provider aws");
  auto vms_flag = test::run_kurator({"create", "cluster", "demo", "--provider", "aws", "--check"}, clean_env(d));
  CHECK(vms_flag.exit_code == 2);
  CHECK_FALSE(stdfs::exists(d.path() / "kurator" / "clusters"));
}

TEST_CASE("cli aws: upgrade refuses a downgrade and a skipped minor up front", "[cli][aws][bad-input]") {
  test::TempDir d;
  record(d, "v1.34.2", d.path() / "no-such-kubeconfig");
  auto down = test::run_kurator({"upgrade", "cluster", "demo", "--kubernetes-version", "v1.33.1"}, clean_env(d));
  CHECK(down.exit_code == 2);
  CHECK(last_error(down.err) ==
        "error: upgrade cluster demo: v1.33.1 is older than the cluster's v1.34.2; a downgrade is not possible");
  auto skip = test::run_kurator({"upgrade", "cluster", "demo", "--kubernetes-version", "v1.36.0"}, clean_env(d));
  CHECK(skip.exit_code == 2);
  CHECK(last_error(skip.err) == "error: upgrade cluster demo: v1.34.2 → v1.36.0 skips a minor version; upgrade one "
                                "minor at a time");
  CHECK(skip.err.find("hint: first: kurator upgrade cluster demo --kubernetes-version v1.35.x") != std::string::npos);
  auto same = test::run_kurator({"upgrade", "cluster", "demo", "--kubernetes-version", "v1.34.2"}, clean_env(d));
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("already runs Kubernetes v1.34.2; nothing to do") != std::string::npos);
  // The recorded settings are untouched.
  auto text = fs::read_file(d.path() / "kurator" / "clusters" / "demo" / "cluster.yaml");
  REQUIRE(text.ok());
  CHECK(text->find("v1.34.2") != std::string::npos);
}

TEST_CASE("cli aws: scale, describe and delete name what is wrong", "[cli][aws][bad-input]") {
  test::TempDir d;
  record(d, "v1.34.2", d.path() / "no-such-kubeconfig");
  auto mixed = test::run_kurator({"scale", "cluster", "demo", "--workers", "2", "--remove-host", "n1"}, clean_env(d));
  CHECK(mixed.exit_code == 2);
  auto none = test::run_kurator({"scale", "cluster", "demo"}, clean_env(d));
  CHECK(none.exit_code == 2);
  CHECK(last_error(none.err).find("--workers N and/or --control-plane N") != std::string::npos);
  auto same = test::run_kurator({"scale", "cluster", "demo", "--workers", "1"}, clean_env(d));
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("already has 1 control plane and 1 worker machines; nothing to do") != std::string::npos);
  auto unknown = test::run_kurator({"describe", "cluster", "nope"}, clean_env(d));
  CHECK(unknown.exit_code == 1);
  CHECK(last_error(unknown.err) == "error: describe cluster: \"nope\" is not an aws cluster kurator made");
  // The management cluster is gone: delete says which kubeconfig it could not read and forgets nothing.
  auto del = test::run_kurator({"delete", "cluster", "demo"}, clean_env(d));
  CHECK(del.exit_code == 1);
  CHECK(last_error(del.err).find("no-such-kubeconfig") != std::string::npos);
  CHECK(stdfs::exists(d.path() / "kurator" / "clusters" / "demo" / "aws.json"));
  // get clusters lists it with the reason it cannot be read.
  auto list = test::run_kurator({"get", "clusters", "-o", "json"}, clean_env(d));
  CHECK(list.exit_code == 0);
  auto items = nlohmann::json::parse(list.out, nullptr, false);
  REQUIRE(items.is_array());
  REQUIRE(items.size() == 1);
  CHECK(items[0]["provider"] == "aws");
  CHECK(items[0]["status"].get<std::string>().rfind("Unknown (", 0) == 0);
}
