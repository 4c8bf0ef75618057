// TLS: a private CA given as a file or as PEM data, tls-server-name, and a refused unknown CA.
#include <kurator/core/http.hpp>
#include <kurator/core/process.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include "support/py_server.hpp"
#include "support/test_env.hpp"

using namespace kurator;

namespace {
// Makes a CA and a server certificate for 127.0.0.1 and "api.internal" with the openssl CLI.
void make_certs(const std::filesystem::path& dir) {
  process::SystemRunner run;
  auto sh = [&](std::vector<std::string> argv) {
    process::Spec s;
    s.argv = std::move(argv);
    s.cwd = dir;
    auto r = run.run(s);
    REQUIRE(r.ok());
    INFO(r->err);
    REQUIRE(r->success());
  };
  sh({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
      "-subj", "/CN=test-ca"});
  sh({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj",
      "/CN=api.internal"});
  REQUIRE(fs::write_file_atomic(dir / "ext.cnf", "subjectAltName=DNS:api.internal,IP:127.0.0.1\n").ok());
  sh({"openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
      "srv.crt", "-days", "2", "-extfile", "ext.cnf"});
}
}  // namespace

TEST_CASE("http tls: private CA from a file, from PEM data, server name override", "[http][tls]") {
  test::TempDir dir;
  make_certs(dir.path());
  test::PyServer srv(std::filesystem::path(KURATOR_SOURCE_DIR) / "tests/data/http/apiserver_double.py",
                     {"--tls", (dir.path() / "srv.crt").string(), (dir.path() / "srv.key").string()});
  http::Client c;
  http::Request req;
  req.url = srv.url("https") + "/ok";

  SECTION("unknown CA is refused with a hint") {
    auto r = c.perform(req);
    REQUIRE_FALSE(r.ok());
    CHECK_FALSE(r.error().hint.empty());
  }
  SECTION("CA file") {
    req.tls.ca_file = (dir.path() / "ca.crt").string();
    auto r = c.perform(req);
    REQUIRE(r.ok());
    CHECK(r->body == "hello");
  }
  SECTION("CA as PEM data") {
    req.tls.ca_pem = *fs::read_file(dir.path() / "ca.crt");
    auto r = c.perform(req);
    REQUIRE(r.ok());
    CHECK(r->body == "hello");
  }
  SECTION("tls-server-name verifies against another name while connecting to the address") {
    req.tls.ca_pem = *fs::read_file(dir.path() / "ca.crt");
    req.tls.server_name = "api.internal";
    auto r = c.perform(req);
    REQUIRE(r.ok());
    CHECK(r->body == "hello");
    req.tls.server_name = "wrong.internal";
    CHECK_FALSE(c.perform(req).ok());
  }
  SECTION("insecure-skip-tls-verify") {
    req.tls.insecure_skip_verify = true;
    CHECK(c.perform(req).ok());
  }
}
