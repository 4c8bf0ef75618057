// The one HTTP client (libcurl). Connection reuse across calls and threads (a pool of handles, each
// keeping its live connection; DNS and TLS sessions shared), HTTP/2 where the server offers it, TLS
// from files or in-memory PEM, retries with backoff.
#pragma once
#include <kurator/util/result.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::http {

struct TlsConfig {
  std::string ca_file;           // PEM bundle file
  std::string ca_pem;            // PEM bundle in memory (kubeconfig certificate-authority-data)
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  std::string client_key_pem;
  bool insecure_skip_verify = false;  // only when a kubeconfig says so
  std::string server_name;            // SNI and certificate name to expect (tls-server-name)
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  TlsConfig tls;
  std::string proxy;  // explicit proxy URL; empty: HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{0};  // whole transfer; 0: none
  // Abort when fewer than low_speed_bytes per second arrive for low_speed_time (0: off).
  long low_speed_bytes = 0;
  std::chrono::seconds low_speed_time{0};
  long resume_from = 0;       // Range request from this byte offset (downloads)
  bool follow_redirects = false;
  // Streaming: called with each chunk of the body as it arrives (the body is then not kept).
  // Return false to stop the transfer (the result is then an Error with message "aborted by caller").
  std::function<bool(std::string_view chunk)> on_body;
  // Called once the status line and headers are in, before any body chunk.
  std::function<void(long status, const std::map<std::string, std::string>& headers)> on_headers;
  // Optional: when it becomes true (checked about once a second and per chunk) the transfer stops
  // with Error "aborted by caller". SIGINT/SIGTERM (util/cancel.hpp) always stop transfers.
  const std::atomic<bool>* abort_flag = nullptr;
  // Progress (downloaded so far, total or 0 when unknown).
  std::function<void(long long now, long long total)> on_progress;
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string effective_url;
  std::string http_version;  // "1.1", "2"
  std::string header(const std::string& name) const;
};

// Which failures are retried, and how long to wait.
struct RetryPolicy {
  int max_attempts = 5;  // 1: no retry
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds max_retry_after{60000};  // a server's Retry-After is honoured up to this
  // 429 and 5xx are retried, 4xx never; transport errors (connect refused, reset, timeout) are.
  static bool retryable_status(long status);
  // Delay before attempt `attempt` (1-based retry count), honouring a Retry-After value in seconds
  // or an HTTP date when given (capped at max_retry_after).
  std::chrono::milliseconds delay(int attempt, const std::string& retry_after = {}) const;
};

class Client {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One attempt. Error only for transport failures (no HTTP answer); any status is a Response.
  Result<Response> perform(const Request& req);
  // With retries per `policy` for transport errors, 429 and 5xx. Streaming requests (on_body) are
  // retried only when no body byte was delivered yet.
  Result<Response> perform_with_retry(const Request& req, const RetryPolicy& policy);

  // Number of new connections opened so far (for tests and benchmarks of connection reuse).
  long connections_opened() const;
  long requests_sent() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// The process-wide client.
Client& default_client();

// URL-encodes a query value.
std::string url_encode(std::string_view s);

}  // namespace kurator::http
