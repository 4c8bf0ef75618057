// Helpers shared by the e2e cases that install components into the fleet's members.
#include "support/fleet_members.hpp"

#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "support/test_env.hpp"

namespace kurator::test {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

bool e2e_ready_to_run() {
  if (auto why = e2e_skip_reason(); !why.empty()) {
    skip(why);
    return false;
  }
  require_isolated_network();
  return true;
}

stdfs::path merged_kubeconfig(const stdfs::path& dir, const std::vector<FleetCluster>& clusters,
                              const std::vector<std::pair<std::string, std::string>>& extra) {
  json out = {{"apiVersion", "v1"},     {"kind", "Config"},          {"clusters", json::array()},
              {"users", json::array()}, {"contexts", json::array()}, {"current-context", clusters[0].name}};
  for (const auto& c : clusters) {
    auto text = fs::read_file(c.kubeconfig);
    REQUIRE(text.ok());
    auto doc = yaml::parse_one(*text, c.kubeconfig.string());
    REQUIRE(doc.ok());
    for (const char* s : {"clusters", "users"})
      for (const auto& e : (*doc)[s]) out[s].push_back(e);
    // The local kubeconfig's context is kurator-<name>: here it is named after the cluster.
    for (auto e : (*doc)["contexts"]) {
      e["name"] = c.name;
      out["contexts"].push_back(e);
    }
  }
  for (const auto& [name, server] : extra) {
    out["clusters"].push_back(
        {{"name", name}, {"cluster", {{"server", server}, {"insecure-skip-tls-verify", true}}}});
    out["contexts"].push_back({{"name", name}, {"context", {{"cluster", name}}}});
  }
  auto p = dir / "fleet-kubeconfig";
  REQUIRE(fs::write_private_file(p, out.dump()).ok());
  return p;
}

kube::Client client_for(const stdfs::path& kubeconfig) {
  kubeconfig::LoadOptions lo;
  lo.explicit_path = kubeconfig.string();
  auto cfg = kubeconfig::load(lo);
  REQUIRE(cfg.ok());
  return kube::Client(*cfg);
}

namespace {

KarmadaMembers& karmada_members(Fleet& fleet) {
  static KarmadaMembers m = [&] {
    KarmadaMembers x;
    x.a = fleet.create_extra("e2e-fleet-k1", 1);
    x.b = fleet.create_extra("e2e-fleet-k2", 1);
    return x;
  }();
  return m;
}

void join(Fleet& fleet, const std::string& name, const FleetCluster& c) {
  auto r = fleet.kurator({"join", "karmada", name, "--cluster-kubeconfig", c.kubeconfig.string()}, true);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

bool karmada_ready(Fleet*& fleet, LocalKarmada*& karmada, KarmadaMembers*& members) {
  if (!e2e_ready_to_run()) return false;
  if (auto why = LocalKarmada::skip_reason(); !why.empty()) {
    skip(why);
    return false;
  }
  fleet = &Fleet::get();
  karmada = &LocalKarmada::get(*fleet);
  members = &karmada_members(*fleet);
  join(*fleet, "fk1", members->a);  // idempotent: a re-run is a no-op
  join(*fleet, "fk2", members->b);
  return true;
}

KuratorOnExit::~KuratorOnExit() {
  if (!armed) return;
  auto r = fleet.kurator(args, true);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += " " + a;
    std::cerr << "cleanup: kurator" << cmd << " failed: " << r.err << "\n";
  }
}

std::vector<std::string> cmdlines_with(const std::string& needle) {
  std::vector<std::string> hits;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator("/proc", ec)) {
    int fd = ::open((e.path() / "cmdline").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::string s;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, size_t(n));
    ::close(fd);
    if (s.find(needle) != std::string::npos) hits.push_back(e.path().string());
  }
  return hits;
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace kurator::test
