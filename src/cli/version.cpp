#include <kurator/cli/app.hpp>
#include <kurator/util/build_info.hpp>

#include <iostream>

namespace kurator::cli {
namespace {
const char* platform() {
#if defined(__x86_64__)
  return "linux/amd64";
#elif defined(__aarch64__)
  return "linux/arm64";
#else
  return "linux/unknown";
#endif
}
}  // namespace

void add_version_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("version", "Print kurator's version and git commit");
  cmd->callback([&ctx] {
    nlohmann::json v = {{"version", std::string("v") + build_info::version},
                        {"gitCommit", build_info::git_commit},
                        {"compiler", std::string("g++ ") + __VERSION__},
                        {"platform", platform()}};
    if (ctx.g.output == "table") {
      std::cout << "kurator v" << build_info::version << " (commit " << build_info::git_commit << ")\n";
    } else {
      ctx.print(v, {}, {});
    }
  });
}

}  // namespace kurator::cli
