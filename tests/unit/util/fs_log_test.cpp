#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>

#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <cstdlib>

#include "support/test_env.hpp"

using namespace kurator;

TEST_CASE("fs: atomic writes leave no temp file and set the mode", "[fs]") {
  test::TempDir d;
  auto p = d.path() / "sub" / "kubeconfig";
  REQUIRE(fs::write_private_file(p, "secret").ok());
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(*fs::read_file(p) == "secret");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(d.path() / "sub")) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("fs: TempDir is removed with what is in it when it goes out of scope, also after a move", "[fs]") {
  test::TempDir base;
  struct RestoreTmpdir {
    std::string old = fs::env("TMPDIR");
    ~RestoreTmpdir() { old.empty() ? unsetenv("TMPDIR") : setenv("TMPDIR", old.c_str(), 1); }
  } restore;
  setenv("TMPDIR", base.path().c_str(), 1);
  std::filesystem::path seen;
  {
    auto t = fs::TempDir::make("kurator-unit");
    REQUIRE(t.ok());
    seen = t->path();
    CHECK(seen.parent_path() == base.path());
    CHECK(seen.filename().string().rfind("kurator-unit.", 0) == 0);
    REQUIRE(fs::write_private_file(seen / "a" / "values.yaml", "k: v").ok());
    fs::TempDir moved = std::move(*t);
    CHECK(moved.path() == seen);
    CHECK(t->path().empty());
  }
  CHECK_FALSE(std::filesystem::exists(seen));
  setenv("TMPDIR", (base.path() / "missing").c_str(), 1);
  auto bad = fs::TempDir::make("kurator-unit");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("cannot create temporary directory in " +
                                 (base.path() / "missing").string()) == 0);
}

TEST_CASE("fs: reading a missing file names it", "[fs]") {
  auto r = fs::read_file("/nonexistent/kurator/file");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "/nonexistent/kurator/file: No such file or directory");
}

TEST_CASE("log: redact hides tokens, keys and passwords", "[log]") {
  CHECK(log::redact("Authorization: Bearer abc.def-123") == "Authorization: Bearer <redacted>");
  CHECK(log::redact("token: s3cr3t") == "token: <redacted>");
  CHECK(log::redact(R"({"token":"s3cr3t","x":1})") == R"({"token":"<redacted>","x":1})");
  CHECK(log::redact("client-key-data: LS0tLS1CRUdJTg==") == "client-key-data: <redacted>");
  CHECK(log::redact("AWS_SECRET_ACCESS_KEY=abcd1234") == "AWS_SECRET_ACCESS_KEY=<redacted>");
  std::string pem = "x -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- y";
  CHECK(log::redact(pem) == "x <redacted private key> y");
  CHECK(log::redact("nothing secret here") == "nothing secret here");
}
