#include <kurator/util/fs.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kurator::fs {

Result<std::string> read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(path.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error(path.string() + ": read error");
  return ss.str();
}

Status write_file_atomic(const stdfs::path& path, std::string_view data, unsigned mode) {
  std::error_code ec;
  if (path.has_parent_path()) stdfs::create_directories(path.parent_path(), ec);
  std::string tmpl = path.string() + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Error(path.string() + ": cannot create temporary file: " + std::strerror(errno));
  ::fchmod(fd, mode);
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmpl.c_str());
      return Error(path.string() + ": write failed: " + std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    return Error(path.string() + ": write failed: " + std::strerror(errno));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmpl.c_str());
    return Error(path.string() + ": rename failed: " + std::strerror(e));
  }
  return {};
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

stdfs::path user_home() {
  if (auto h = env("HOME"); !h.empty()) return h;
  if (auto* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

stdfs::path default_home() {
  if (auto h = env("KURATOR_HOME"); !h.empty()) return h;
  return user_home() / ".kurator";
}

Result<stdfs::path> make_temp_dir(std::string_view prefix) {
  auto base = env("TMPDIR");
  if (base.empty()) base = "/tmp";
  std::string tmpl = base + "/" + std::string(prefix) + ".XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    return Error("cannot create temporary directory in " + base + ": " + std::strerror(errno));
  return stdfs::path(tmpl);
}

Result<TempDir> TempDir::make(std::string_view prefix) {
  auto p = make_temp_dir(prefix);
  if (!p) return p.error();
  return TempDir(std::move(*p));
}

TempDir::~TempDir() {
  if (m_path.empty()) return;
  std::error_code ec;
  stdfs::remove_all(m_path, ec);
}

}  // namespace kurator::fs
