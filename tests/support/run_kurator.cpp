#include "support/test_env.hpp"

#include <kurator/core/process.hpp>

#include <catch2/catch.hpp>

namespace kurator::test {
CliResult run_kurator(const std::vector<std::string>& args,
                      const std::vector<std::pair<std::string, std::string>>& env,
                      const std::string& stdin_data) {
  process::SystemRunner runner;
  process::Spec spec;
  spec.argv.push_back(kurator_bin().string());
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  for (const auto& [k, v] : env) spec.env[k] = v;
  if (!stdin_data.empty()) spec.stdin_data = stdin_data;
  spec.timeout = std::chrono::minutes(5);
  auto r = runner.run(spec);
  REQUIRE(r.ok());
  return {r->exit_code, r->out, r->err};
}
}  // namespace kurator::test
