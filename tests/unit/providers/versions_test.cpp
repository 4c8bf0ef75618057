// The default versions compiled into kurator equal the pins in scripts/versions.env.
#include <kurator/providers/versions.hpp>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <string>

namespace {
std::map<std::string, std::string> read_versions_env() {
  std::ifstream in(std::string(KURATOR_SOURCE_DIR) + "/scripts/versions.env");
  REQUIRE(in.good());
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\''))
      value = value.substr(1, value.size() - 2);
    values[line.substr(0, eq)] = value;
  }
  return values;
}
}  // namespace

TEST_CASE("default versions match scripts/versions.env", "[providers][versions]") {
  namespace v = kurator::providers::versions;
  auto env = read_versions_env();
  CHECK(env["KUBERNETES_VERSION"] == std::string(v::kubernetes));
  CHECK(env["ETCD_VERSION"] == std::string(v::etcd));
  CHECK(env["KWOK_VERSION"] == std::string(v::kwok));
  CHECK(env["HELM_VERSION"] == std::string(v::helm));
  CHECK(env["KARMADA_VERSION"] == std::string(v::karmada));
}
