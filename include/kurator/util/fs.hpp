// File helpers: whole-file reads, atomic writes (temp file + rename, so no partial file is ever left),
// private (0600) files for secrets, and the kurator home directory.
#pragma once
#include <kurator/util/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>

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
// Reads an environment variable, empty when unset.
std::string env(const char* name);

}  // namespace kurator::fs
