// File helpers: whole-file reads, atomic writes (temp file + rename, so no partial file is ever left),
// private (0600) files for secrets, and the kurator home directory.
#pragma once
#include <kurator/util/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace kurator::fs {
namespace stdfs = std::filesystem;

Result<std::string> read_file(const stdfs::path& path);
// Writes via a temp file in the same folder and renames into place. `mode` applies to the final file.
Status write_file_atomic(const stdfs::path& path, std::string_view data, unsigned mode = 0644);
// Same, 0600, for kubeconfigs, keys and tokens.
inline Status write_private_file(const stdfs::path& path, std::string_view data) {
  return write_file_atomic(path, data, 0600);
}
// --home-dir, else $KURATOR_HOME, else ~/.kurator.
stdfs::path default_home();
// $HOME or the passwd entry.
stdfs::path user_home();
// A fresh temporary directory (mkdtemp) under $TMPDIR.
Result<stdfs::path> make_temp_dir(std::string_view prefix);
// A fresh temporary directory removed (with everything in it) when this goes out of scope.
class TempDir {
 public:
  static Result<TempDir> make(std::string_view prefix);
  TempDir(TempDir&& o) noexcept : m_path(std::exchange(o.m_path, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir();
  const stdfs::path& path() const { return m_path; }

 private:
  explicit TempDir(stdfs::path p) : m_path(std::move(p)) {}
  stdfs::path m_path;
};
// Reads an environment variable, empty when unset.
std::string env(const char* name);

}  // namespace kurator::fs
