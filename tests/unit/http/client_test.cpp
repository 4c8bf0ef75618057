// The HTTP client against a loopback server that misbehaves on purpose (tests/data/http/apiserver_double.py).
#include <kurator/core/http.hpp>
#include <kurator/util/cancel.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/py_server.hpp"
#include "support/test_env.hpp"

using namespace kurator;
using namespace std::chrono_literals;

namespace {
std::filesystem::path server_script() {
  return std::filesystem::path(KURATOR_SOURCE_DIR) / "tests/data/http/apiserver_double.py";
}
http::RetryPolicy fast_policy(int attempts = 5) {
  http::RetryPolicy p;
  p.max_attempts = attempts;
  p.initial_backoff = 10ms;
  p.max_backoff = 50ms;
  return p;
}
http::Request get(const std::string& url) {
  http::Request r;
  r.url = url;
  return r;
}
long count(http::Client& c, test::PyServer& s, const std::string& key) {
  auto r = c.perform(get(s.url() + "/count?key=" + key));
  REQUIRE(r.ok());
  return std::stol(r->body);
}
}  // namespace

TEST_CASE("http: a plain GET answers with status, headers and body", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  auto r = c.perform(get(srv.url() + "/ok"));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "hello");
  CHECK(r->header("Content-Type") == "text/plain");
}

TEST_CASE("http: connections are reused across requests", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  for (int i = 0; i < 10; ++i) REQUIRE(c.perform(get(srv.url() + "/ok")).ok());
  CHECK(c.requests_sent() == 10);
  CHECK(c.connections_opened() == 1);
}

TEST_CASE("http: 5xx and 429 are retried until success", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  auto r = c.perform_with_retry(get(srv.url() + "/fail/503/2?key=a"), fast_policy());
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "recovered");
  CHECK(count(c, srv, "a") == 3);

  auto r429 = c.perform_with_retry(get(srv.url() + "/fail/429/1?key=b"), fast_policy());
  REQUIRE(r429.ok());
  CHECK(r429->status == 200);
  CHECK(count(c, srv, "b") == 2);
}

TEST_CASE("http: retries stop after max_attempts and return the last answer", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  auto r = c.perform_with_retry(get(srv.url() + "/fail/500/100?key=c"), fast_policy(3));
  REQUIRE(r.ok());
  CHECK(r->status == 500);
  CHECK(count(c, srv, "c") == 3);
}

TEST_CASE("http: 4xx client errors are never retried", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  for (int code : {400, 403, 404, 409, 422}) {
    std::string key = "k" + std::to_string(code);
    auto r = c.perform_with_retry(get(srv.url() + "/fail/" + std::to_string(code) + "/100?key=" + key), fast_policy());
    REQUIRE(r.ok());
    CHECK(r->status == code);
    CHECK(count(c, srv, key) == 1);
  }
}

TEST_CASE("http: a connection reset is retried", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  auto r = c.perform_with_retry(get(srv.url() + "/reset/2?key=r"), fast_policy());
  REQUIRE(r.ok());
  CHECK(r->body == "recovered");
  CHECK(count(c, srv, "r") == 3);
}

TEST_CASE("http: Retry-After is honoured", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.perform_with_retry(get(srv.url() + "/retry-after/1?key=ra"), fast_policy());
  auto elapsed = std::chrono::steady_clock::now() - t0;
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(elapsed >= 950ms);  // the server asked for 1 s; the policy's own backoff is 10 ms
}

TEST_CASE("http: RetryPolicy delays grow, are capped and read HTTP dates", "[http]") {
  http::RetryPolicy p;
  p.initial_backoff = 100ms;
  p.max_backoff = 1000ms;
  CHECK(p.delay(1) >= 80ms);
  CHECK(p.delay(1) <= 120ms);
  CHECK(p.delay(3) >= 320ms);
  CHECK(p.delay(20) <= 1200ms);
  CHECK(p.delay(1, "2") == 2000ms);
  p.max_retry_after = 4000ms;
  CHECK(p.delay(1, "3600") == 4000ms);  // capped
  CHECK(p.delay(1, "Thu, 01 Jan 1970 00:00:00 GMT") == 0ms);
  CHECK(http::RetryPolicy::retryable_status(429));
  CHECK(http::RetryPolicy::retryable_status(503));
  CHECK_FALSE(http::RetryPolicy::retryable_status(404));
  CHECK_FALSE(http::RetryPolicy::retryable_status(200));
}

TEST_CASE("http: a slow server hits the timeout with exit code 3", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  auto req = get(srv.url() + "/slow/5");
  req.timeout = 300ms;
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.perform(req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().exit == ExitCode::timeout);
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
}

TEST_CASE("http: connection refused is an error naming the URL", "[http]") {
  http::Client c;
  auto req = get("http://127.0.0.1:1/x");
  auto r = c.perform_with_retry(req, fast_policy(2));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("GET http://127.0.0.1:1/x") == 0);
}

TEST_CASE("http: streamed bodies arrive chunk by chunk and the caller can stop", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  std::string got;
  int lines = 0;
  auto req = get(srv.url() + "/stream/10");
  req.on_body = [&](std::string_view chunk) {
    got.append(chunk);
    lines = static_cast<int>(std::count(got.begin(), got.end(), '\n'));
    return lines < 3;
  };
  auto r = c.perform(req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "aborted by caller");
  CHECK(lines >= 3);
  CHECK(lines < 10);
}

TEST_CASE("http: an abort flag ends a quiet transfer promptly", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  std::atomic<bool> stop{false};
  auto req = get(srv.url() + "/slow/10");
  req.abort_flag = &stop;
  std::thread t([&] {
    std::this_thread::sleep_for(200ms);
    stop = true;
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.perform(req);
  t.join();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "aborted by caller");
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
}

TEST_CASE("http: error answers are kept whole even when streaming", "[http]") {
  test::PyServer srv(server_script());
  http::Client c;
  bool called = false;
  auto req = get(srv.url() + "/status/410");
  req.on_body = [&](std::string_view) {
    called = true;
    return true;
  };
  auto r = c.perform(req);
  REQUIRE(r.ok());
  CHECK(r->status == 410);
  CHECK_FALSE(called);
  CHECK(r->body.find("status 410 as asked") != std::string::npos);
}

TEST_CASE("http: url_encode escapes reserved characters", "[http]") {
  CHECK(http::url_encode("a b/c=d,e") == "a%20b%2Fc%3Dd%2Ce");
  CHECK(http::url_encode("metadata.name=x") == "metadata.name%3Dx");
}
