#include <kurator/util/log.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

#include <regex>

namespace kurator::log {
namespace {
bool g_color = true;
}

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }
bool color_enabled() { return g_color && stderr_is_tty(); }

bool init(const Options& opts) {
  g_color = opts.color && std::getenv("NO_COLOR") == nullptr;
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(g_color ? spdlog::color_mode::automatic
                                                                            : spdlog::color_mode::never);
  auto logger = std::make_shared<spdlog::logger>("kurator", sink);
  logger->set_pattern(stderr_is_tty() ? "%^%l%$ %v" : "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::level::level_enum lvl = spdlog::level::info;
  if (opts.verbosity == 1) lvl = spdlog::level::debug;
  if (opts.verbosity >= 2) lvl = spdlog::level::trace;
  bool ok = true;
  if (!opts.level.empty()) {
    auto parsed = spdlog::level::from_str(opts.level);
    if (parsed == spdlog::level::off && opts.level != "off") ok = false;
    else lvl = parsed;
  }
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  return ok;
}

std::string redact(std::string_view text) {
  static const std::regex patterns[] = {
      std::regex(R"((Bearer\s+)[A-Za-z0-9._~+/=-]+)", std::regex::icase),
      std::regex(R"re(((?:token|password|secret|client-key-data|client-certificate-data|aws_secret_access_key|aws_session_token)"?\s*[:=]\s*"?)[^\s",}]+)re",
                 std::regex::icase),
      std::regex(R"(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)"),
  };
  std::string out(text);
  out = std::regex_replace(out, patterns[0], "$1<redacted>");
  out = std::regex_replace(out, patterns[1], "$1<redacted>");
  out = std::regex_replace(out, patterns[2], "<redacted private key>");
  return out;
}
}  // namespace kurator::log
