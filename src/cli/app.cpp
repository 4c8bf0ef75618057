#include <kurator/cli/app.hpp>
#include <kurator/cli/cluster_aws.hpp>
#include <kurator/cli/cluster_vms.hpp>
#include <kurator/core/http.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>
#include <kurator/util/yaml.hpp>

#include <unistd.h>

#include <iostream>
#include <regex>

namespace kurator::cli {

std::filesystem::path Context::home() const {
  return g.home_dir.empty() ? fs::default_home() : std::filesystem::path(g.home_dir);
}

std::chrono::milliseconds Context::wait_timeout() const {
  auto d = parse_duration(g.wait_timeout);
  return d ? *d : std::chrono::minutes(10);
}

kubeconfig::LoadOptions Context::kubeconfig_options() const {
  kubeconfig::LoadOptions o;
  o.explicit_path = g.kubeconfig;
  o.context = g.context;
  return o;
}

void Context::print(const nlohmann::json& value, const std::vector<std::string>& headers,
                    const std::vector<std::vector<std::string>>& rows) const {
  if (g.output == "json") {
    std::cout << value.dump(2) << "\n";
  } else if (g.output == "yaml") {
    std::cout << yaml::dump(value);
  } else {
    std::vector<size_t> width(headers.size(), 0);
    for (size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
    for (const auto& r : rows)
      for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    auto line = [&](const std::vector<std::string>& cells) {
      std::string s;
      for (size_t i = 0; i < cells.size() && i < width.size(); ++i) {
        s += cells[i];
        if (i + 1 < cells.size()) s += std::string(width[i] - cells[i].size() + 3, ' ');
      }
      std::cout << s << "\n";
    };
    if (!headers.empty()) line(headers);
    for (const auto& r : rows) line(r);
  }
  std::cout.flush();
}

Result<std::chrono::milliseconds> parse_duration(const std::string& text) {
  using namespace std::chrono;
  static const std::regex number_only(R"(\d+)");
  static const std::regex part(R"((\d+(?:\.\d+)?)(ms|h|m|s))");
  Error bad("invalid duration \"" + text + "\"", ExitCode::usage, "use a number with a unit, e.g. 90s, 10m, 1h30m");
  if (text.empty()) return bad;
  if (std::regex_match(text, number_only)) return duration_cast<milliseconds>(seconds(std::stoll(text)));
  double total_ms = 0;
  size_t pos = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), part), end; it != end; ++it) {
    if (static_cast<size_t>(it->position()) != pos) return bad;
    double v = std::stod((*it)[1]);
    std::string unit = (*it)[2];
    total_ms += unit == "h" ? v * 3600000 : unit == "m" ? v * 60000 : unit == "s" ? v * 1000 : v;
    pos += it->length();
  }
  if (pos != text.size()) return bad;
  return milliseconds(static_cast<long long>(total_ms));
}

CLI::App* verb(CLI::App& app, const std::string& name, const std::string& description) {
  for (auto* sub : app.get_subcommands([&](CLI::App* s) { return s->get_name() == name; })) return sub;
  auto* v = app.add_subcommand(name, description);
  v->require_subcommand(1);
  return v;
}

void build(CLI::App& app, Context& ctx) {
  app.description(
      "kurator builds a distributed cloud-native platform on Kubernetes, one command per capability.");
  app.require_subcommand(1);
  app.fallthrough();
  auto& g = ctx.g;
  app.add_option("--kubeconfig", g.kubeconfig, "Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)");
  app.add_option("--context", g.context, "The kubeconfig context to use");
  app.add_option("--home-dir", g.home_dir, "kurator's state and cache directory (default: $KURATOR_HOME or ~/.kurator)");
  app.add_flag("--dry-run", g.dry_run, "Print what would be applied, as YAML, and change nothing");
  app.add_option("-o,--output", g.output, "Output format")->check(CLI::IsMember({"table", "json", "yaml"}));
  app.add_option("--wait-timeout", g.wait_timeout, "How long to wait for readiness (e.g. 90s, 10m)")
      ->check([](const std::string& s) {
        auto d = parse_duration(s);
        return d ? std::string() : d.error().message + " (" + d.error().hint + ")";
      });
  app.add_flag("-v,--verbose", g.verbosity, "More logging (repeatable: -v debug, -vv trace)");
  app.add_option("--log-level", g.log_level, "Log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_flag("--no-color", g.no_color, "Disable coloured output (also NO_COLOR)");
  app.parse_complete_callback([&ctx] {
    log::Options lo;
    lo.verbosity = ctx.g.verbosity;
    lo.level = ctx.g.log_level;
    lo.color = !ctx.g.no_color;
    log::init(lo);
  });

  add_version_command(app, ctx);
  add_completion_command(app, ctx);
  add_apply_command(app, ctx);
  add_tool_commands(app, ctx);
  add_bundle_commands(app, ctx);
  add_cluster_commands(app, ctx);
  add_vms_lifecycle_commands(app, ctx);
  add_describe_command(app, ctx);
  add_karmada_commands(app, ctx);
  add_join_commands(app, ctx);
  add_volcano_commands(app, ctx);
  add_prometheus_commands(app, ctx);
  add_thanos_commands(app, ctx);
  add_pixie_commands(app, ctx);
  add_status_command(app, ctx);
}

namespace {

void print_error(const Error& e) {
  bool color = !std::getenv("NO_COLOR") && ::isatty(STDERR_FILENO);
  std::cerr << (color ? "\033[31merror:\033[0m " : "error: ") << log::redact(e.message) << "\n";
  if (!e.hint.empty()) std::cerr << (color ? "\033[33mhint:\033[0m " : "hint: ") << e.hint << "\n";
}

}  // namespace

int run(int argc, char** argv) {
  cancel::install_handlers();
  CLI::App app;
  app.name("kurator");
  Context ctx;
  build(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string msg = e.what();
    auto rest = app.remaining();
    if (app.get_subcommands().empty() && !rest.empty() && rest.front().rfind("-", 0) != 0)
      msg = "unknown command \"" + rest.front() + "\"";
    print_error(Error(msg, ExitCode::usage, "run 'kurator --help' (or 'kurator COMMAND --help') for usage"));
    return static_cast<int>(ExitCode::usage);
  } catch (const FatalError& e) {
    print_error(e.error());
    return static_cast<int>(e.error().exit);
  } catch (const std::exception& e) {
    print_error(Error(std::string("internal error: ") + e.what()));
    return static_cast<int>(ExitCode::failure);
  }
  if (spdlog::should_log(spdlog::level::debug))  // (constructing the client costs libcurl's start-up)
    spdlog::debug("http: {} requests, {} connections", http::default_client().requests_sent(),
                  http::default_client().connections_opened());
  if (cancel::requested()) {
    std::cerr << "interrupted\n";
    return static_cast<int>(ExitCode::interrupted);
  }
  if (!ctx.outcome) {
    print_error(ctx.outcome.error());
    return static_cast<int>(ctx.outcome.error().exit);
  }
  return 0;
}

}  // namespace kurator::cli
