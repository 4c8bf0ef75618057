// Logging: everything goes to stderr (stdout carries results). Secrets never reach the log:
// callers pass tokens and keys through redact() or not at all.
#pragma once
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace kurator::log {

struct Options {
  int verbosity = 0;           // -v count: 0 info, 1 debug, 2+ trace
  std::string level;           // --log-level overrides verbosity when set (trace|debug|info|warn|error|off)
  bool color = true;           // false with --no-color or NO_COLOR
};

// Sets up the stderr logger. Returns false (and leaves the default) for an unknown level name.
bool init(const Options& opts);
// True when stderr is a terminal and colour is allowed.
bool color_enabled();
bool stderr_is_tty();

// Replaces bearer tokens, passwords, private keys and base64 *-data fields in text with "<redacted>".
std::string redact(std::string_view text);

}  // namespace kurator::log
