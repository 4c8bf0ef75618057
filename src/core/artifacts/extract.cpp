// Safe archive extraction with libarchive: secure flags plus our own checks on every entry, into a
// temporary folder renamed into place only when the whole archive was accepted.
#include <kurator/core/artifacts.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <memory>
#include <mutex>
#include <vector>

namespace kurator::artifacts {
namespace {

// Normalises an entry path ("./a//b/" -> "a/b"); empty when it is absolute or climbs out with "..".
std::optional<std::string> safe_relative(const std::string& raw) {
  if (raw.empty()) return std::nullopt;
  if (raw.front() == '/' || raw.find('\\') != std::string::npos) return std::nullopt;
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= raw.size()) {
    auto slash = raw.find('/', start);
    std::string part = raw.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") return std::nullopt;
    if (!part.empty() && part != ".") parts.push_back(part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// A symlink at `entry` (relative, normalised) pointing to `target`: true when it stays inside the root.
// '..' counts only at the start of the target: after a component that may itself be a link ("a/.." with
// a -> .), the lexical answer is not where the link really points, so such targets are refused.
bool link_stays_inside(const std::string& entry, const std::string& target) {
  if (target.empty() || target.front() == '/') return false;
  std::vector<std::string> stack;
  // Start from the link's folder.
  size_t start = 0;
  std::vector<std::string> entry_parts;
  while (true) {
    auto slash = entry.find('/', start);
    if (slash == std::string::npos) break;
    entry_parts.push_back(entry.substr(start, slash - start));
    start = slash + 1;
  }
  stack = entry_parts;
  start = 0;
  bool descended = false;
  while (start <= target.size()) {
    auto slash = target.find('/', start);
    std::string part = target.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") {
      if (stack.empty() || descended) return false;
      stack.pop_back();
    } else if (!part.empty() && part != ".") {
      stack.push_back(part);
      descended = true;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

// libarchive writes relative to the working directory, and ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS
// refuses absolute names, so entries are written with their checked relative names from inside the
// temporary folder: the working directory is switched for the extraction and restored after it
// (serialised: the working directory is process-wide).
std::mutex g_cwd_mutex;
class InDirectory {
 public:
  explicit InDirectory(const stdfs::path& dir) : m_lock(g_cwd_mutex) {
    m_saved = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    m_ok = m_saved >= 0 && ::chdir(dir.c_str()) == 0;
  }
  ~InDirectory() {
    if (m_saved >= 0) {
      if (::fchdir(m_saved) != 0) spdlog::error("cannot return to the working directory after extraction");
      ::close(m_saved);
    }
  }
  bool ok() const { return m_ok; }

 private:
  std::lock_guard<std::mutex> m_lock;
  int m_saved = -1;
  bool m_ok = false;
};

struct ReadCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};

}  // namespace

Status extract(const stdfs::path& archive_path, const stdfs::path& dest_in, const ExtractLimits& limits) {
  std::error_code ec;
  const stdfs::path dest = stdfs::absolute(dest_in, ec);
  if (stdfs::exists(dest, ec)) return Error(dest.string() + ": already exists");
  stdfs::create_directories(dest.parent_path(), ec);
  std::string tmpl = dest.string() + ".tmp.XXXXXX";
  if (!::mkdtemp(tmpl.data())) return Error(dest.string() + ": cannot create a temporary folder");
  stdfs::path tmp = tmpl;
  auto fail = [&](const std::string& why) -> Status {
    std::error_code e;
    stdfs::remove_all(tmp, e);
    return Error("refusing archive " + archive_path.filename().string() + ": " + why);
  };

  stdfs::path archive_abs = stdfs::absolute(archive_path, ec);
  InDirectory cwd(tmp);
  if (!cwd.ok()) return fail("cannot enter the temporary folder");
  std::unique_ptr<archive, ReadCloser> in(archive_read_new());
  archive_read_support_filter_all(in.get());
  archive_read_support_format_all(in.get());
  if (archive_read_open_filename(in.get(), archive_abs.c_str(), 1 << 16) != ARCHIVE_OK)
    return fail(std::string("cannot open: ") + archive_error_string(in.get()));

  std::unique_ptr<archive, WriteCloser> out(archive_write_disk_new());
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
              ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
              ARCHIVE_EXTRACT_NO_OVERWRITE;
  archive_write_disk_set_options(out.get(), flags);
  archive_write_disk_set_standard_lookup(out.get());

  size_t entries = 0;
  std::uint64_t total = 0;
  for (;;) {
    if (cancel::requested()) return fail("interrupted");
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return fail(std::string("corrupt archive: ") + archive_error_string(in.get()));
    if (++entries > limits.max_entries)
      return fail("more than " + std::to_string(limits.max_entries) + " entries");
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = raw_name ? raw_name : "";
    auto rel = safe_relative(name);
    if (!rel) return fail("entry '" + name + "' has an absolute path or '..'");
    if (rel->empty()) continue;  // "./"
    auto type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
      return fail("entry '" + name + "' is a device, fifo or socket");
    if (type == AE_IFLNK) {
      const char* t = archive_entry_symlink(entry);
      std::string target = t ? t : "";
      if (!link_stays_inside(*rel, target))
        return fail("symlink '" + name + "' points outside: '" + target + "'");
    }
    if (const char* h = archive_entry_hardlink(entry)) {
      auto hrel = safe_relative(h);
      if (!hrel || hrel->empty())
        return fail("hard link '" + name + "' points outside: '" + std::string(h) + "'");
      archive_entry_set_hardlink(entry, hrel->c_str());
    }
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
      total += static_cast<std::uint64_t>(archive_entry_size(entry));
      if (total > limits.max_total_bytes)
        return fail("unpacks to more than " + std::to_string(limits.max_total_bytes) + " bytes");
    }
    archive_entry_set_pathname(entry, rel->c_str());
    // No setuid/setgid bits from downloads.
    archive_entry_set_perm(entry, archive_entry_perm(entry) & 0777);
    if (archive_write_header(out.get(), entry) < ARCHIVE_WARN)
      return fail("cannot write '" + name + "': " + archive_error_string(out.get()));
    if (type == AE_IFREG) {
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      std::uint64_t written = 0;
      for (;;) {
        int rb = archive_read_data_block(in.get(), &buf, &size, &offset);
        if (rb == ARCHIVE_EOF) break;
        if (rb < ARCHIVE_WARN) return fail("reading '" + name + "': " + archive_error_string(in.get()));
        written += size;
        if (written > limits.max_total_bytes)
          return fail("unpacks to more than " + std::to_string(limits.max_total_bytes) + " bytes");
        if (archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_WARN)
          return fail("writing '" + name + "': " + archive_error_string(out.get()));
      }
      if (!archive_entry_size_is_set(entry)) {
        total += written;
        if (total > limits.max_total_bytes)
          return fail("unpacks to more than " + std::to_string(limits.max_total_bytes) + " bytes");
      }
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
      return fail("finishing '" + name + "': " + archive_error_string(out.get()));
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    return fail(std::string("closing: ") + archive_error_string(out.get()));
  stdfs::rename(tmp, dest, ec);
  if (ec) return fail("cannot move into place: " + ec.message());
  return {};
}

}  // namespace kurator::artifacts
