// Starts a Python loopback test server (tests/data/**/*.py) as a child process. The script must print
// "PORT <n>" on its first stdout line once it listens on 127.0.0.1. Killed when the object dies.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace kurator::test {
class PyServer {
 public:
  PyServer(const std::filesystem::path& script, const std::vector<std::string>& args = {});
  ~PyServer();
  PyServer(const PyServer&) = delete;
  PyServer& operator=(const PyServer&) = delete;
  int port() const { return m_port; }
  std::string url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(m_port);
  }

 private:
  int m_pid = -1;
  int m_port = 0;
};
}  // namespace kurator::test
