#include <kurator/core/http.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/log.hpp>

#include "libcurl.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

namespace kurator::http {
namespace {

using detail::libcurl;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Splits "https://host:port/path" into scheme, host, port, rest.
struct UrlParts {
  std::string scheme, host, port, rest;
};
bool split_url(const std::string& url, UrlParts& out) {
  auto p = url.find("://");
  if (p == std::string::npos) return false;
  out.scheme = url.substr(0, p);
  auto host_start = p + 3;
  auto path_start = url.find('/', host_start);
  std::string hostport = url.substr(host_start, path_start == std::string::npos ? std::string::npos
                                                                                  : path_start - host_start);
  out.rest = path_start == std::string::npos ? "" : url.substr(path_start);
  if (!hostport.empty() && hostport[0] == '[') {  // [v6]:port
    auto close = hostport.find(']');
    out.host = hostport.substr(0, close + 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') out.port = hostport.substr(close + 2);
  } else {
    auto colon = hostport.rfind(':');
    out.host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
    if (colon != std::string::npos) out.port = hostport.substr(colon + 1);
  }
  if (out.port.empty()) out.port = out.scheme == "https" ? "443" : "80";
  return true;
}

struct Transfer {
  const Request* req = nullptr;
  Response* resp = nullptr;
  bool headers_delivered = false;
  bool body_delivered = false;
  bool aborted_by_caller = false;
  std::string status_line;
};

size_t header_cb(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {  // a new response (redirects, 100-continue): start over
    t->resp->headers.clear();
    t->status_line = trim(line);
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    t->resp->headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return size * n;
}

size_t write_cb(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  size_t len = size * n;
  const Request& req = *t->req;
  if (!t->headers_delivered) {
    t->headers_delivered = true;
    if (req.on_headers) {
      long status = 0;
      // The status of the final response is the last status line seen.
      if (auto sp = t->status_line.find(' '); sp != std::string::npos) status = std::atol(t->status_line.c_str() + sp + 1);
      req.on_headers(status, t->resp->headers);
    }
  }
  long status = 0;
  if (auto sp = t->status_line.find(' '); sp != std::string::npos) status = std::atol(t->status_line.c_str() + sp + 1);
  // Error answers are kept whole (so callers can read the apiserver's Status) even when streaming.
  if (req.on_body && status < 300) {
    t->body_delivered = true;
    if ((req.abort_flag && req.abort_flag->load()) || !req.on_body(std::string_view(data, len))) {
      t->aborted_by_caller = true;
      return 0;  // CURLE_WRITE_ERROR
    }
    return len;
  }
  if (t->resp->body.size() < 64 * 1024 * 1024) t->resp->body.append(data, len);
  return len;
}

int progress_cb(void* userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(userp);
  if (cancel::requested()) return 1;
  if (t->req->abort_flag && t->req->abort_flag->load()) {
    t->aborted_by_caller = true;
    return 1;
  }
  if (t->req->on_progress) t->req->on_progress(dlnow, dltotal);
  return 0;
}

}  // namespace

std::string Response::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

bool RetryPolicy::retryable_status(long status) { return status == 429 || (status >= 500 && status <= 599); }

std::chrono::milliseconds RetryPolicy::delay(int attempt, const std::string& retry_after) const {
  using namespace std::chrono;
  if (!retry_after.empty()) {
    milliseconds cap = max_retry_after;
    bool digits = std::all_of(retry_after.begin(), retry_after.end(), [](unsigned char c) { return std::isdigit(c); });
    if (digits) return std::min<milliseconds>(seconds(std::atol(retry_after.c_str())), cap);
    time_t when = libcurl().getdate(retry_after.c_str(), nullptr);
    if (when >= 0) {
      auto d = seconds(std::max<long>(0, static_cast<long>(when - std::time(nullptr))));
      return std::min<milliseconds>(duration_cast<milliseconds>(d), cap);
    }
  }
  // Exponential backoff with jitter: initial * 2^(attempt-1), +-20 %, capped.
  double base = static_cast<double>(initial_backoff.count()) * std::pow(2.0, std::max(0, attempt - 1));
  base = std::min(base, static_cast<double>(max_backoff.count()));
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return milliseconds(static_cast<long>(base * jitter(rng)));
}

struct Client::Impl {
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
  std::mutex pool_mu;
  std::vector<CURL*> pool;
  std::atomic<long> connects{0};
  std::atomic<long> requests{0};

  static void lock_cb(CURL*, curl_lock_data data, curl_lock_access, void* userp) {
    static_cast<Impl*>(userp)->locks[data].lock();
  }
  static void unlock_cb(CURL*, curl_lock_data data, void* userp) { static_cast<Impl*>(userp)->locks[data].unlock(); }

  CURL* acquire() {
    {
      std::lock_guard<std::mutex> g(pool_mu);
      if (!pool.empty()) {
        CURL* h = pool.back();
        pool.pop_back();
        libcurl().easy_reset(h);  // keeps the handle's live connections and caches
        return h;
      }
    }
    return libcurl().easy_init();
  }
  void release(CURL* h) {
    std::lock_guard<std::mutex> g(pool_mu);
    if (pool.size() < 32) pool.push_back(h);
    else libcurl().easy_cleanup(h);
  }
};

Client::Client() : m_impl(std::make_unique<Impl>()) {
  m_impl->share = libcurl().share_init();
  libcurl().share_setopt(m_impl->share, CURLSHOPT_LOCKFUNC, &Impl::lock_cb);
  libcurl().share_setopt(m_impl->share, CURLSHOPT_UNLOCKFUNC, &Impl::unlock_cb);
  libcurl().share_setopt(m_impl->share, CURLSHOPT_USERDATA, m_impl.get());
  // Connections are not shared: a shared cache makes concurrent easy handles open a new connection
  // almost every time (an HTTP/2 connection busy on one handle cannot be multiplexed by another).
  // Each pooled handle keeps its own live connection instead, so N workers use N connections.
  libcurl().share_setopt(m_impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  libcurl().share_setopt(m_impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

Client::~Client() {
  for (CURL* h : m_impl->pool) libcurl().easy_cleanup(h);
  libcurl().share_cleanup(m_impl->share);
}

long Client::connections_opened() const { return m_impl->connects.load(); }
long Client::requests_sent() const { return m_impl->requests.load(); }

Result<Response> Client::perform(const Request& req) {
  CURL* h = m_impl->acquire();
  if (!h) return Error("cannot initialise libcurl");
  Response resp;
  Transfer t;
  t.req = &req;
  t.resp = &resp;
  char errbuf[CURL_ERROR_SIZE] = {0};

  std::string url = req.url;
  curl_slist* connect_to = nullptr;
  if (!req.tls.server_name.empty()) {
    // tls-server-name: connect to the real host but verify (and send SNI for) server_name.
    UrlParts u;
    if (split_url(req.url, u)) {
      url = u.scheme + "://" + req.tls.server_name + ":" + u.port + u.rest;
      std::string rule = req.tls.server_name + ":" + u.port + ":" + u.host + ":" + u.port;
      connect_to = libcurl().slist_append(connect_to, rule.c_str());
      libcurl().easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);
    }
  }
  libcurl().easy_setopt(h, CURLOPT_SHARE, m_impl->share);
  libcurl().easy_setopt(h, CURLOPT_URL, url.c_str());
  libcurl().easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  libcurl().easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  libcurl().easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  libcurl().easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  libcurl().easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  libcurl().easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
  libcurl().easy_setopt(h, CURLOPT_HEADERDATA, &t);
  libcurl().easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
  libcurl().easy_setopt(h, CURLOPT_WRITEDATA, &t);
  libcurl().easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  libcurl().easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
  libcurl().easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  libcurl().easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
  if (req.timeout.count() > 0) libcurl().easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  if (req.low_speed_bytes > 0 && req.low_speed_time.count() > 0) {
    libcurl().easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, req.low_speed_bytes);
    libcurl().easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.low_speed_time.count()));
  }
  if (req.follow_redirects) {
    libcurl().easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    libcurl().easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  }
  if (req.resume_from > 0) libcurl().easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(req.resume_from));
  if (!req.proxy.empty()) libcurl().easy_setopt(h, CURLOPT_PROXY, req.proxy.c_str());

  // Method and body.
  if (req.method == "GET") {
    libcurl().easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    libcurl().easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    libcurl().easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      libcurl().easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
      libcurl().easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : req.headers) headers = libcurl().slist_append(headers, (k + ": " + v).c_str());
  headers = libcurl().slist_append(headers, "Expect:");
  libcurl().easy_setopt(h, CURLOPT_HTTPHEADER, headers);

  // TLS.
  const TlsConfig& tls = req.tls;
  if (!tls.ca_file.empty()) libcurl().easy_setopt(h, CURLOPT_CAINFO, tls.ca_file.c_str());
  curl_blob ca_blob{const_cast<char*>(tls.ca_pem.data()), tls.ca_pem.size(), CURL_BLOB_NOCOPY};
  if (!tls.ca_pem.empty()) libcurl().easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca_blob);
  if (!tls.client_cert_file.empty()) libcurl().easy_setopt(h, CURLOPT_SSLCERT, tls.client_cert_file.c_str());
  curl_blob cert_blob{const_cast<char*>(tls.client_cert_pem.data()), tls.client_cert_pem.size(), CURL_BLOB_NOCOPY};
  if (!tls.client_cert_pem.empty()) {
    libcurl().easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert_blob);
    libcurl().easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!tls.client_key_file.empty()) libcurl().easy_setopt(h, CURLOPT_SSLKEY, tls.client_key_file.c_str());
  curl_blob key_blob{const_cast<char*>(tls.client_key_pem.data()), tls.client_key_pem.size(), CURL_BLOB_NOCOPY};
  if (!tls.client_key_pem.empty()) {
    libcurl().easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key_blob);
    libcurl().easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (tls.insecure_skip_verify) {
    libcurl().easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    libcurl().easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  m_impl->requests.fetch_add(1);
  CURLcode rc = libcurl().easy_perform(h);
  long connects = 0;
  libcurl().easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
  m_impl->connects.fetch_add(connects);
  libcurl().easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  char* eff = nullptr;
  libcurl().easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
  if (eff) resp.effective_url = eff;
  long ver = 0;
  libcurl().easy_getinfo(h, CURLINFO_HTTP_VERSION, &ver);
  resp.http_version = ver == CURL_HTTP_VERSION_2_0 ? "2" : ver == CURL_HTTP_VERSION_1_0 ? "1.0" : "1.1";
  libcurl().slist_free_all(headers);
  libcurl().slist_free_all(connect_to);
  if (!req.on_headers || t.headers_delivered) {
  } else if (rc == CURLE_OK) {
    req.on_headers(resp.status, resp.headers);  // a response without body
  }
  // Do not return the handle to the pool with our stack buffers registered.
  libcurl().easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  m_impl->release(h);

  if (rc == CURLE_OK) return resp;
  if (cancel::requested()) return Error(req.method + " " + req.url + ": interrupted", ExitCode::interrupted);
  if (t.aborted_by_caller) return Error("aborted by caller");
  std::string msg = errbuf[0] ? std::string(errbuf) : libcurl().easy_strerror(rc);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  Error e(req.method + " " + req.url + ": " + msg);
  if (rc == CURLE_OPERATION_TIMEDOUT) e.exit = ExitCode::timeout;
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM)
    e.hint = "check the CA (certificate-authority / --ca-file) and the server name";
  return e;
}

Result<Response> Client::perform_with_retry(const Request& req, const RetryPolicy& policy) {
  int attempt = 0;
  bool streamed = false;
  Request r = req;
  if (req.on_body) {
    r.on_body = [&](std::string_view chunk) {
      streamed = true;
      return req.on_body(chunk);
    };
  }
  for (;;) {
    ++attempt;
    auto res = perform(r);
    bool last = attempt >= policy.max_attempts || streamed || cancel::requested();
    std::string retry_after;
    if (res.ok()) {
      if (!RetryPolicy::retryable_status(res->status) || last) return res;
      retry_after = res->header("retry-after");
      spdlog::debug("{} {}: HTTP {} (attempt {}/{}), retrying", req.method, req.url, res->status, attempt,
                    policy.max_attempts);
    } else {
      const Error& e = res.error();
      if (last || e.exit == ExitCode::interrupted || e.message == "aborted by caller") return res;
      spdlog::debug("{} (attempt {}/{}), retrying", e.message, attempt, policy.max_attempts);
    }
    auto wait = policy.delay(attempt, retry_after);
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (cancel::requested()) return Error(req.method + " " + req.url + ": interrupted", ExitCode::interrupted);
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(wait, std::chrono::milliseconds(50)));
    }
  }
}

Client& default_client() {
  static Client client;
  return client;
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace kurator::http
