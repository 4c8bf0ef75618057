// Downloads against loopback servers started here: redirects, errors, retries, resume, timeouts,
// digests, TLS with a private CA, a proxy, file:// URLs.
#include <kurator/core/artifacts.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "support/mirror.hpp"
#include "support/test_env.hpp"

namespace art = kurator::artifacts;
namespace stdfs = std::filesystem;
using kurator::test::LoopbackServer;
using kurator::test::TempDir;

namespace {
std::string payload(size_t n) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n; ++i) s += static_cast<char>('a' + (i * 7 + i / 13) % 26);
  return s;
}

std::string slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

art::DownloadOptions quick() {
  art::DownloadOptions o;
  o.progress = false;
  o.retry.max_attempts = 4;
  o.retry.initial_backoff = std::chrono::milliseconds(50);
  o.retry.max_backoff = std::chrono::milliseconds(200);
  o.connect_timeout = std::chrono::seconds(5);
  o.low_speed_time = std::chrono::seconds(10);
  return o;
}

struct Site {
  TempDir root;
  std::string data = payload(300 * 1024);
  std::string digest = art::sha256_hex(data);
  std::unique_ptr<LoopbackServer> server;
  Site() {
    std::ofstream(root.path() / "tool.bin", std::ios::binary) << data;
    server = std::make_unique<LoopbackServer>(LoopbackServer::Options{root.path(), {}, {}, {}});
    REQUIRE(server->ok());
  }
  std::string url(const std::string& path) const { return server->url() + path; }
};

bool no_leftovers(const stdfs::path& dir) {
  for (const auto& e : stdfs::directory_iterator(dir))
    if (e.path().filename().string().find(".partial") != std::string::npos) return false;
  return true;
}
}  // namespace

TEST_CASE("download: happy path, verified while streaming", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  long requests = 0;
  auto o = quick();
  o.requests_made = &requests;
  auto r = art::download(s.url("/tool.bin"), out.path() / "tool", s.digest, o);
  REQUIRE(r.ok());
  CHECK(*r == s.digest);
  CHECK(slurp(out.path() / "tool") == s.data);
  CHECK(requests == 1);
  CHECK(s.server->count("GET /tool.bin") == 1);
  CHECK(no_leftovers(out.path()));
}

TEST_CASE("download: follows redirects", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  auto r = art::download(s.url("/redirect/tool.bin"), out.path() / "tool", s.digest, quick());
  REQUIRE(r.ok());
  CHECK(s.server->count("GET /redirect/tool.bin") == 1);
  CHECK(s.server->count("GET /tool.bin") == 1);
}

TEST_CASE("download: 404 is not retried and leaves nothing", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  auto r = art::download(s.url("/status/404/tool.bin"), out.path() / "tool", s.digest, quick());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().http_status == 404);
  CHECK(r.error().message.find("HTTP 404") != std::string::npos);
  CHECK(s.server->count("/status/404/") == 1);
  CHECK_FALSE(stdfs::exists(out.path() / "tool"));
  CHECK(no_leftovers(out.path()));
}

TEST_CASE("download: 500 then success is retried", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  auto r = art::download(s.url("/flaky/2/tool.bin"), out.path() / "tool", s.digest, quick());
  REQUIRE(r.ok());
  CHECK(s.server->count("GET /flaky/2/tool.bin") == 3);
  CHECK(slurp(out.path() / "tool") == s.data);
}

TEST_CASE("download: 500 for good gives up after the retry budget", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  auto o = quick();
  o.retry.max_attempts = 2;
  auto r = art::download(s.url("/status/503/tool.bin"), out.path() / "tool", s.digest, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().http_status == 503);
  CHECK(s.server->count("/status/503/") == 2);
}

TEST_CASE("download: connection reset mid-body resumes with Range", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  auto r = art::download(s.url("/reset/tool.bin"), out.path() / "tool", s.digest, quick());
  REQUIRE(r.ok());
  CHECK(*r == s.digest);
  CHECK(slurp(out.path() / "tool") == s.data);
  CHECK(s.server->count("GET /reset/tool.bin") == 2);
  CHECK(s.server->count("range=bytes=") == 1);  // the second request resumed
}

TEST_CASE("download: a partial file from an earlier run is resumed", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  std::ofstream(out.path() / "tool.partial", std::ios::binary) << s.data.substr(0, 1000);
  auto r = art::download(s.url("/tool.bin"), out.path() / "tool", s.digest, quick());
  REQUIRE(r.ok());
  CHECK(slurp(out.path() / "tool") == s.data);
  CHECK(s.server->count("range=bytes=1000-") == 1);

  // A server that ignores Range: start over, still correct.
  std::ofstream(out.path() / "tool2.partial", std::ios::binary) << s.data.substr(0, 1000);
  auto r2 = art::download(s.url("/norange/tool.bin"), out.path() / "tool2", s.digest, quick());
  REQUIRE(r2.ok());
  CHECK(slurp(out.path() / "tool2") == s.data);
}

TEST_CASE("download: a stalled server hits the low-speed timeout", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  auto o = quick();
  o.retry.max_attempts = 1;
  o.low_speed_bytes = 1000;
  o.low_speed_time = std::chrono::seconds(2);
  auto start = std::chrono::steady_clock::now();
  auto r = art::download(s.url("/slow/tool.bin"), out.path() / "tool", s.digest, o);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().exit == kurator::ExitCode::timeout);
  CHECK(took < std::chrono::seconds(15));
  CHECK_FALSE(stdfs::exists(out.path() / "tool"));
}

TEST_CASE("download: a wrong sha256 deletes the file and names both digests", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  std::string wrong(64, '0');
  auto r = art::download(s.url("/tool.bin"), out.path() / "tool", wrong, quick());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("expected " + wrong) != std::string::npos);
  CHECK(r.error().message.find("got " + s.digest) != std::string::npos);
  CHECK_FALSE(stdfs::exists(out.path() / "tool"));
  CHECK(no_leftovers(out.path()));
}

TEST_CASE("download: file:// URLs are read directly", "[unit][artifacts][download]") {
  Site s;
  TempDir out;
  auto r = art::download("file://" + (s.root.path() / "tool.bin").string(), out.path() / "tool", s.digest,
                         quick());
  REQUIRE(r.ok());
  CHECK(slurp(out.path() / "tool") == s.data);
  auto bad = art::download("file://" + (s.root.path() / "tool.bin").string(), out.path() / "t2",
                           std::string(64, 'f'), quick());
  REQUIRE_FALSE(bad.ok());
  CHECK_FALSE(stdfs::exists(out.path() / "t2"));
  CHECK_FALSE(art::download("file:///nonexistent/x", out.path() / "t3", "", quick()).ok());
}

TEST_CASE("download: HTTPS with a private CA, with and without --ca-file",
          "[unit][artifacts][download][tls]") {
  Site s;
  TempDir pki;
  auto p = pki.path().string();
  std::string cmd =
      "cd '" + p +
      "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 "
      "-subj /CN=kurator-test-ca >/dev/null 2>&1"
      " && openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 "
      ">/dev/null 2>&1"
      " && printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf"
      " && openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 "
      "-extfile ext.cnf >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    kurator::test::skip("openssl CLI not available: TLS download test not run");
    return;
  }
  LoopbackServer tls({s.root.path(), pki.path() / "srv.crt", pki.path() / "srv.key", {}});
  REQUIRE(tls.ok());
  TempDir out;
  auto o = quick();
  o.retry.max_attempts = 1;
  auto without = art::download(tls.url() + "/tool.bin", out.path() / "tool", s.digest, o);
  REQUIRE_FALSE(without.ok());
  CHECK_FALSE(stdfs::exists(out.path() / "tool"));
  o.ca_file = (pki.path() / "ca.crt").string();
  auto with = art::download(tls.url() + "/tool.bin", out.path() / "tool", s.digest, o);
  REQUIRE(with.ok());
  CHECK(slurp(out.path() / "tool") == s.data);
}

TEST_CASE("download: through a forwarding proxy", "[unit][artifacts][download][proxy]") {
  Site s;
  LoopbackServer proxy({{}, {}, {}, stdfs::path(KURATOR_SOURCE_DIR) / "tests/data/artifacts/proxy.py"});
  REQUIRE(proxy.ok());
  TempDir out;
  auto o = quick();
  o.proxy = proxy.url();
  auto r = art::download(s.url("/tool.bin"), out.path() / "tool", s.digest, o);
  REQUIRE(r.ok());
  CHECK(proxy.count("PROXY GET " + s.url("/tool.bin")) == 1);
  CHECK(s.server->count("GET /tool.bin") == 1);
}
