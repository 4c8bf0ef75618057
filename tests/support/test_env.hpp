// Paths and environment shared by the tests.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace kurator::test {
// ../shared/fixtures/upstream, or $KURATOR_FIXTURES. Empty path when missing (tests then SKIP loudly).
std::filesystem::path fixtures_dir();
// Prints "SKIPPED: <why>" to stderr and returns; use with Catch's WARN for visibility.
void skip(const std::string& why);
// The built kurator binary ($KURATOR_BIN, else <build>/kurator).
std::filesystem::path kurator_bin();
// Directory of tiny helper executables built for the runner tests.
std::filesystem::path helpers_dir();
// A fresh temporary directory, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return m_path; }
 private:
  std::filesystem::path m_path;
};
// Runs `kurator args...` with env additions; captures stdout, stderr and exit code.
struct CliResult { int exit_code; std::string out; std::string err; };
CliResult run_kurator(const std::vector<std::string>& args,
                      const std::vector<std::pair<std::string, std::string>>& env = {},
                      const std::string& stdin_data = {});
}  // namespace kurator::test
