#include "support/test_env.hpp"

#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>
#include <iostream>

namespace kurator::test {
namespace stdfs = std::filesystem;

stdfs::path fixtures_dir() {
  stdfs::path p = fs::env("KURATOR_FIXTURES");
  if (p.empty()) p = stdfs::path(KURATOR_SOURCE_DIR) / ".." / "shared" / "fixtures" / "upstream";
  std::error_code ec;
  if (!stdfs::is_directory(p, ec)) return {};
  return stdfs::canonical(p, ec);
}

void skip(const std::string& why) {
  std::cerr << "SKIPPED: " << why << std::endl;
  WARN("SKIPPED: " << why);
}

stdfs::path kurator_bin() {
  if (auto b = fs::env("KURATOR_BIN"); !b.empty()) return b;
  return stdfs::path(KURATOR_BINARY_DIR) / "kurator";
}

stdfs::path helpers_dir() { return KURATOR_TEST_HELPERS_DIR; }

TempDir::TempDir() {
  auto r = fs::make_temp_dir("kurator-test");
  REQUIRE(r.ok());
  m_path = *r;
}
TempDir::~TempDir() {
  std::error_code ec;
  stdfs::remove_all(m_path, ec);
}

}  // namespace kurator::test
