// Verified downloads through the one HTTP client: streamed into <dest>.partial, hashed while streaming,
// resumed with Range after a broken connection, renamed into place only when the digest matches.
#include <kurator/core/artifacts.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/log.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

namespace kurator::artifacts {
namespace {
using Clock = std::chrono::steady_clock;

std::string human(long long bytes) {
  char buf[32];
  if (bytes >= (1LL << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%lld B", bytes);
  return buf;
}

// Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise.
class Progress {
 public:
  Progress(std::string label, bool enabled)
      : m_label(std::move(label)),
        m_enabled(enabled),
        m_tty(enabled && log::stderr_is_tty()),
        m_last(Clock::now()) {}
  ~Progress() { finish(); }

  void update(long long now, long long total) {
    if (!m_enabled) return;
    auto t = Clock::now();
    m_now = now;
    m_total = total;
    if (m_tty) {
      if (m_drawn && t - m_last < std::chrono::milliseconds(100)) return;
      m_last = t;
      draw();
    } else {
      if (t - m_last < std::chrono::seconds(5)) return;  // a line every 5 s, the first after 5 s
      m_last = t;
      if (total > 0)
        spdlog::info("{}: {} of {} ({}%)", m_label, human(now), human(total),
                     static_cast<int>(now * 100 / total));
      else
        spdlog::info("{}: {}", m_label, human(now));
    }
  }

  void finish() {
    if (!m_enabled || m_done) return;
    m_done = true;
    if (m_tty && m_drawn) {
      draw();
      std::fputc('\n', stderr);
      std::fflush(stderr);
    }
  }

 private:
  void draw() {
    m_drawn = true;
    constexpr int width = 30;
    int filled = m_total > 0 ? static_cast<int>(m_now * width / m_total) : 0;
    std::string bar(static_cast<size_t>(std::clamp(filled, 0, width)), '#');
    bar.resize(width, '-');
    std::string pct = m_total > 0 ? std::to_string(m_now * 100 / m_total) + "%" : "";
    std::fprintf(stderr, "\r%s [%s] %s %s%s%s\x1b[K", m_label.c_str(), bar.c_str(), human(m_now).c_str(),
                 m_total > 0 ? "/ " : "", m_total > 0 ? human(m_total).c_str() : "",
                 pct.empty() ? "" : (" " + pct).c_str());
    std::fflush(stderr);
  }

  std::string m_label;
  bool m_enabled;
  bool m_tty;
  bool m_drawn = false;
  bool m_done = false;
  long long m_now = 0, m_total = 0;
  Clock::time_point m_last{};
};

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(std::string("write failed: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status finish_file(const std::string& url, const stdfs::path& partial, const stdfs::path& dest,
                   const std::string& expected, const std::string& actual) {
  std::error_code ec;
  if (!expected.empty() && expected != actual) {
    stdfs::remove(partial, ec);
    return Error("sha256 mismatch for " + url + ": expected " + expected + ", got " + actual +
                     " (the download was deleted)",
                 ExitCode::failure,
                 "the mirror or the upstream file changed, or the catalog digest is wrong");
  }
  stdfs::rename(partial, dest, ec);
  if (ec) {
    stdfs::remove(partial, ec);
    return Error(dest.string() + ": cannot move the download into place: " + ec.message());
  }
  return {};
}

Result<std::string> copy_local(const std::string& url, const stdfs::path& dest, const std::string& expected,
                               const DownloadOptions& opts) {
  stdfs::path src = percent_decode(url.substr(7));  // file:///dir/x -> /dir/x
  if (!src.is_absolute())
    return Error("bad file URL " + url + ": the path must be absolute (file:///dir/file)");
  if (opts.requests_made) ++*opts.requests_made;
  std::ifstream in(src, std::ios::binary);
  if (!in) return Error("reading " + url + ": " + std::strerror(errno));
  stdfs::path partial = dest.string() + ".partial";
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error(partial.string() + ": " + std::strerror(errno));
  Sha256 hash;
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::string_view chunk(buf.data(), static_cast<size_t>(in.gcount()));
    if (chunk.empty()) break;
    hash.update(chunk);
    if (auto w = write_all(fd, chunk); !w) {
      ::close(fd);
      std::error_code ec;
      stdfs::remove(partial, ec);
      return Error(partial.string() + ": " + w.error().message);
    }
  }
  bool bad = in.bad();
  ::fsync(fd);
  ::close(fd);
  if (bad) {
    std::error_code ec;
    stdfs::remove(partial, ec);
    return Error("reading " + url + ": read error");
  }
  std::string actual = hash.hex();
  KURATOR_TRY(finish_file(url, partial, dest, expected, actual));
  return actual;
}

bool sleep_interruptible(std::chrono::milliseconds d) {
  auto until = Clock::now() + d;
  while (Clock::now() < until) {
    if (cancel::requested()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(50)));
  }
  return !cancel::requested();
}

}  // namespace

Result<std::string> download(const std::string& url, const stdfs::path& dest,
                             const std::string& expected_sha256, const DownloadOptions& opts) {
  std::error_code ec;
  if (dest.has_parent_path()) stdfs::create_directories(dest.parent_path(), ec);
  if (url.rfind("file://", 0) == 0) return copy_local(url, dest, expected_sha256, opts);

  stdfs::path partial = dest.string() + ".partial";
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error(partial.string() + ": " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  // A partial file from an earlier, interrupted run: hash what is there and resume after it.
  Sha256 hash;
  long long offset = 0;
  if (auto size = stdfs::file_size(partial, ec); !ec && size > 0) {
    std::ifstream in(partial, std::ios::binary);
    std::string buf(1 << 16, '\0');
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      hash.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
      offset += in.gcount();
    }
    spdlog::debug("{}: resuming after {} bytes", url, offset);
  }

  Progress progress(opts.label.empty() ? dest.filename().string() : opts.label, opts.progress);
  Status write_error;
  http::Client& client = http::default_client();
  const int max_attempts = std::max(1, opts.retry.max_attempts);
  for (int attempt = 1;; ++attempt) {
    http::Request req;
    req.url = url;
    req.follow_redirects = true;
    req.connect_timeout = opts.connect_timeout;
    req.timeout = opts.timeout;
    req.low_speed_bytes = opts.low_speed_time.count() > 0 ? opts.low_speed_bytes : 0;
    req.low_speed_time = opts.low_speed_time;
    req.tls.ca_file = opts.ca_file;
    req.proxy = opts.proxy;
    req.resume_from = static_cast<long>(offset);
    long long base = offset;
    req.on_headers = [&](long status, const std::map<std::string, std::string>&) {
      if (status == 200 && offset > 0) {
        // The server ignored the Range request: start over.
        spdlog::debug("{}: server sent the whole file, restarting", url);
        if (::ftruncate(fd, 0) != 0) write_error = Error(partial.string() + ": truncate failed");
        hash.reset();
        offset = 0;
        base = 0;
      }
    };
    req.on_body = [&](std::string_view chunk) {
      if (auto w = write_all(fd, chunk); !w) {
        write_error = Error(partial.string() + ": " + w.error().message);
        return false;
      }
      hash.update(chunk);
      offset += static_cast<long long>(chunk.size());
      return true;
    };
    req.on_progress = [&](long long now, long long total) {
      progress.update(base + now, total > 0 ? base + total : 0);
    };
    if (opts.requests_made) ++*opts.requests_made;
    auto res = client.perform(req);
    if (!write_error) return write_error.error();

    Error failure;
    bool retryable = true;
    std::string retry_after;
    if (!res) {
      failure = res.error();
      if (failure.exit == ExitCode::interrupted) return failure;
      if (failure.message.find("ange") != std::string::npos && offset > 0) {
        // Resume refused (curl: "server does not support byte ranges"): start over.
        if (::ftruncate(fd, 0) != 0) return Error(partial.string() + ": truncate failed");
        hash.reset();
        offset = 0;
      }
    } else if (res->status == 416 && offset > 0) {
      // The partial file is as long as (or longer than) the file: start over.
      if (::ftruncate(fd, 0) != 0) return Error(partial.string() + ": truncate failed");
      hash.reset();
      offset = 0;
      failure = Error("GET " + url + ": HTTP 416 for a resumed download");
    } else if (res->status >= 300) {
      failure = Error("GET " + url + ": HTTP " + std::to_string(res->status));
      failure.http_status = static_cast<int>(res->status);
      retryable = http::RetryPolicy::retryable_status(res->status);
      retry_after = res->header("retry-after");
      if (res->status == 404) failure.hint = "the file is not at this URL (check the version and the mirror)";
    } else {
      break;  // 2xx: complete
    }
    if (!retryable || attempt >= max_attempts) {
      std::error_code ec2;
      if (!retryable) stdfs::remove(partial, ec2);  // nothing to resume from a refusal
      if (attempt > 1) failure.message += " (after " + std::to_string(attempt) + " attempts)";
      return failure;
    }
    auto wait = opts.retry.delay(attempt, retry_after);
    spdlog::warn("{}; retrying in {} ms (attempt {}/{})", failure.message, wait.count(), attempt + 1,
                 max_attempts);
    if (!sleep_interruptible(wait)) return Error("GET " + url + ": interrupted", ExitCode::interrupted);
  }
  progress.finish();
  if (::fsync(fd) != 0) return Error(partial.string() + ": fsync failed: " + std::strerror(errno));
  std::string actual = hash.hex();
  KURATOR_TRY(finish_file(url, partial, dest, expected_sha256, actual));
  return actual;
}

}  // namespace kurator::artifacts
