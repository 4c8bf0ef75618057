// join/unjoin karmada (being written; see issue 9).
#include <kurator/cli/app.hpp>

namespace kurator::cli {

void add_join_commands(CLI::App& app, Context& ctx) {
  (void)app;
  (void)ctx;
}

}  // namespace kurator::cli
