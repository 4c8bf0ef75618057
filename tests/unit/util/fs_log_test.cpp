#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>

#include <catch2/catch.hpp>
#include <sys/stat.h>

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
