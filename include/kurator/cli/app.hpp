// The CLI shell: global flags and the command tree. Each subcommand lives in its own file under
// src/cli/, binds its flags and calls the layer below; it reports its outcome through Context.
#pragma once
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/result.hpp>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kurator::cli {

struct Globals {
  std::string kubeconfig;
  std::string context;
  std::string home_dir;  // resolved: --home-dir, $KURATOR_HOME, ~/.kurator
  bool dry_run = false;
  std::string output = "table";  // table|json|yaml
  std::string wait_timeout = "10m";
  int verbosity = 0;
  std::string log_level;
  bool no_color = false;
};

class Context {
 public:
  Globals g;
  // The outcome of the command that ran; main turns it into the exit code and the error line.
  Status outcome;

  std::filesystem::path home() const;
  std::chrono::milliseconds wait_timeout() const;  // parsed --wait-timeout (validated at parse time)
  kubeconfig::LoadOptions kubeconfig_options() const;
  // Writes a result to stdout in the chosen -o format; `table` renders `rows` under `headers`.
  void print(const nlohmann::json& value, const std::vector<std::string>& headers,
             const std::vector<std::vector<std::string>>& rows) const;
};

// Parses "90s", "10m", "1h30m", "500ms", or a bare number of seconds.
Result<std::chrono::milliseconds> parse_duration(const std::string& text);

// The verb subcommand `name` of `app` (create, get, delete, install, uninstall, join, ...), added on
// first use so several files can hang their nouns under it.
CLI::App* verb(CLI::App& app, const std::string& name, const std::string& description);

// Builds the full command tree bound to `ctx`.
void build(CLI::App& app, Context& ctx);
// Runs kurator with argv; returns the process exit code. Errors are printed as one line on stderr
// ("error: …" and, when known, "hint: …").
int run(int argc, char** argv);

// Registrars, one per file under src/cli/.
void add_version_command(CLI::App& app, Context& ctx);
void add_completion_command(CLI::App& app, Context& ctx);
void add_apply_command(CLI::App& app, Context& ctx);
void add_tool_commands(CLI::App& app, Context& ctx);
void add_bundle_commands(CLI::App& app, Context& ctx);
void add_cluster_commands(CLI::App& app, Context& ctx);  // create/delete cluster, get clusters|kubeconfig
void add_karmada_commands(CLI::App& app, Context& ctx);  // install/uninstall karmada
void add_join_commands(CLI::App& app, Context& ctx);     // join/unjoin karmada
void add_volcano_commands(CLI::App& app, Context& ctx);  // install/uninstall volcano
void add_prometheus_commands(CLI::App& app, Context& ctx);  // install/uninstall prometheus
void add_thanos_commands(CLI::App& app, Context& ctx);      // install/uninstall thanos
void add_pixie_commands(CLI::App& app, Context& ctx);    // install pixie vizier, uninstall pixie
void add_status_command(CLI::App& app, Context& ctx);    // status

}  // namespace kurator::cli
