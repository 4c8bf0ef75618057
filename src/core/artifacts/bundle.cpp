// Offline bundles: one tar.gz with the artifacts as upstream published them plus index.json.
//   index.json                                   {schema, artifacts: [{name, version, os, arch, kind, url,
//                                                  sha256, path?, files?, file}]}
//   artifacts/<name>/<version>/<os>-<arch>/<file>       binaries, archives, charts, yaml
//   artifacts/<name>/<version>/<os>-<arch>/files/<path> members of `kind: files` artifacts; a link member
//                                                  ({path, link} in the index) is a symlink entry
#include <kurator/core/artifacts.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>
#include "internal.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

namespace kurator::artifacts {
namespace {
using json = nlohmann::json;
constexpr const char* kSchema = "kurator.dev/bundle/v1";

struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};

Status add_file(archive* out, const stdfs::path& src, const std::string& member, unsigned mode) {
  std::error_code ec;
  auto size = stdfs::file_size(src, ec);
  if (ec) return Error(src.string() + ": " + ec.message());
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), member.c_str());
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), mode);
  archive_entry_set_mtime(e.get(), 0, 0);
  if (archive_write_header(out, e.get()) != ARCHIVE_OK)
    return Error("bundle: writing " + member + ": " + archive_error_string(out));
  std::ifstream in(src, std::ios::binary);
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0 && archive_write_data(out, buf.data(), static_cast<size_t>(in.gcount())) < 0)
      return Error("bundle: writing " + member + ": " + archive_error_string(out));
  }
  if (in.bad()) return Error(src.string() + ": read error");
  return {};
}

Status add_data(archive* out, const std::string& data, const std::string& member) {
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), member.c_str());
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_mtime(e.get(), 0, 0);
  if (archive_write_header(out, e.get()) != ARCHIVE_OK ||
      archive_write_data(out, data.data(), data.size()) < 0)
    return Error("bundle: writing " + member + ": " + archive_error_string(out));
  return {};
}

Status add_symlink(archive* out, const std::string& target, const std::string& member) {
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), member.c_str());
  archive_entry_set_filetype(e.get(), AE_IFLNK);
  archive_entry_set_symlink(e.get(), target.c_str());
  archive_entry_set_perm(e.get(), 0777);
  archive_entry_set_size(e.get(), 0);
  archive_entry_set_mtime(e.get(), 0, 0);
  if (archive_write_header(out, e.get()) != ARCHIVE_OK)
    return Error("bundle: writing " + member + ": " + archive_error_string(out));
  return {};
}

std::string member_dir(const Artifact& a) {
  return "artifacts/" + a.name + "/" + a.version + "/" + a.os + "-" + a.arch;
}

bool safe_member(const std::string& m) {
  if (m.empty() || m.front() == '/') return false;
  for (const auto& part : stdfs::path(m))
    if (part == "..") return false;
  return true;
}

}  // namespace

Status create_bundle(Store& store, const std::vector<const Artifact*>& artifacts, const stdfs::path& out) {
  if (artifacts.empty()) return Error("bundle: nothing to pack", ExitCode::usage);
  std::vector<Fetched> fetched;
  for (const Artifact* a : artifacts) {
    auto f = store.ensure(*a);
    if (!f) return f.error().context("bundle");
    fetched.push_back(std::move(*f));
  }
  std::error_code ec;
  if (out.has_parent_path()) stdfs::create_directories(out.parent_path(), ec);
  std::string tmp = out.string() + ".tmp";
  std::unique_ptr<archive, WriteCloser> w(archive_write_new());
  archive_write_add_filter_gzip(w.get());
  archive_write_set_format_pax_restricted(w.get());
  if (archive_write_open_filename(w.get(), tmp.c_str()) != ARCHIVE_OK)
    return Error(out.string() + ": cannot write: " + archive_error_string(w.get()));
  auto fail = [&](Error e) -> Status {
    w.reset();
    std::error_code e2;
    stdfs::remove(tmp, e2);
    return e;
  };
  json index = {{"schema", kSchema}, {"artifacts", json::array()}};
  for (const auto& f : fetched) {
    const Artifact& a = f.artifact;
    std::string dir = member_dir(a);
    json j = {{"name", a.name},
              {"version", a.version},
              {"os", a.os},
              {"arch", a.arch},
              {"kind", std::string(to_string(a.kind))},
              {"url", a.url}};
    if (!a.path.empty()) j["path"] = a.path;
    if (a.kind == Kind::files) {
      j["file"] = dir + "/files";
      j["files"] = json::array();
      for (const auto& fe : a.files) {
        std::string member = dir + "/files/" + fe.path;
        if (fe.is_link()) {
          // A link stays a link (the cache holds it as one; see Store::verify_cache).
          if (auto s = add_symlink(w.get(), fe.link, member); !s) return fail(s.error());
          j["files"].push_back({{"path", fe.path}, {"link", fe.link}});
          continue;
        }
        if (auto s = add_file(w.get(), f.dir / "files" / fe.path, member, 0644); !s) return fail(s.error());
        j["files"].push_back({{"path", fe.path}, {"url", fe.url}, {"sha256", fe.sha256}});
      }
    } else {
      std::string member = dir + "/" + a.file_name();
      j["file"] = member;
      j["sha256"] = f.sha256;
      if (auto s = add_file(w.get(), f.dir / a.file_name(), member, a.kind == Kind::binary ? 0755 : 0644); !s)
        return fail(s.error());
    }
    index["artifacts"].push_back(j);
  }
  if (auto s = add_data(w.get(), index.dump(2) + "\n", "index.json"); !s) return fail(s.error());
  if (archive_write_close(w.get()) != ARCHIVE_OK)
    return fail(Error(out.string() + ": " + archive_error_string(w.get())));
  w.reset();
  stdfs::rename(tmp, out, ec);
  if (ec) return fail(Error(out.string() + ": " + ec.message()));
  spdlog::info("bundle {}: {} artifacts", out.string(), fetched.size());
  return {};
}

Result<std::vector<Fetched>> import_bundle(Store& store, const stdfs::path& bundle) {
  auto tmp_dir = fs::TempDir::make("kurator-bundle");
  if (!tmp_dir) return tmp_dir.error();
  const stdfs::path& tmp = tmp_dir->path();
  stdfs::path root = tmp / "b";
  KURATOR_TRY(extract(bundle, root, ExtractLimits{200000, 64ull << 30}));
  auto text = fs::read_file(root / "index.json");
  if (!text) return Error(bundle.string() + ": not a kurator bundle (no index.json)");
  json index = json::parse(*text, nullptr, false);
  if (!index.is_object() || index.value("schema", "") != kSchema || !index.contains("artifacts") ||
      !index["artifacts"].is_array())
    return Error(bundle.string() + ": index.json: not a " + std::string(kSchema) + " index");

  const Catalog& catalog = store.catalog();
  const bool allow = store.options().allow_unverified;
  struct Item {
    Artifact artifact;
    stdfs::path source;
  };
  std::vector<Item> items;
  // First verify everything, then fill the cache.
  for (size_t i = 0; i < index["artifacts"].size(); ++i) {
    const json& j = index["artifacts"][i];
    std::string where = bundle.string() + ": index.json: artifacts[" + std::to_string(i) + "]";
    Artifact a;
    try {
      a.name = j.at("name").get<std::string>();
      a.version = j.at("version").get<std::string>();
      a.os = j.at("os").get<std::string>();
      a.arch = j.at("arch").get<std::string>();
      auto k = parse_kind(j.at("kind").get<std::string>());
      if (!k) return Error(where + ".kind: unknown kind");
      a.kind = *k;
      a.url = j.value("url", "");
      a.path = j.value("path", "");
      a.sha256 = j.value("sha256", "");
      if (j.contains("files"))
        for (const auto& f : j["files"]) a.files.push_back(detail::file_entry_from_json(f));
    } catch (const std::exception& e) {
      return Error(where + ": malformed: " + e.what());
    }
    std::string member = j.value("file", "");
    if (!safe_member(member)) return Error(where + ".file: bad member path '" + member + "'");
    const Artifact* c = nullptr;
    for (const auto* x : catalog.find_all(a.name))
      if (x->version == a.version && x->os == a.os && x->arch == a.arch) c = x;
    stdfs::path src = root / member;
    if (a.kind == Kind::files) {
      if (auto bad = files_problem(a.files)) {
        const FileEntry& fe = a.files[bad->index];
        return Error(where + ".files[" + std::to_string(bad->index) + "]." + bad->field + ": " +
                     (bad->field == "link" ? fe.path + ": " : "") + bad->why);
      }
      for (const auto& fe : a.files) {
        if (!safe_member(fe.path)) return Error(where + ": bad file path '" + fe.path + "'");
        const FileEntry* cf = nullptr;
        if (c)
          for (const auto& x : c->files)
            if (x.path == fe.path) cf = &x;
        std::error_code lec;
        bool is_link = stdfs::is_symlink(stdfs::symlink_status(src / fe.path, lec));
        if (fe.is_link()) {
          // Kept as a link in the bundle, pointing where the index says (and the catalog, when it knows it).
          auto target = stdfs::read_symlink(src / fe.path, lec);
          if (!is_link || lec || target.string() != fe.link)
            return Error(where + ": " + fe.path + " is not a link to " + fe.link + " in the bundle");
          if (cf && cf->link != fe.link)
            return Error(where + ": " + fe.path + ": a link to " + fe.link + ", but the catalog has " +
                         (cf->is_link() ? "a link to " + cf->link : std::string("a file")));
          continue;
        }
        if (is_link) return Error(where + ": " + fe.path + " is a link in the bundle, the index says a file");
        auto got = sha256_file(src / fe.path);
        if (!got) return Error(where + ": " + fe.path + " is missing from the bundle");
        if (*got != fe.sha256)
          return Error(where + ": " + fe.path + ": sha256 mismatch: index says " + fe.sha256 + ", file has " +
                       *got);
        if (cf && cf->is_link())
          return Error(where + ": " + fe.path + ": a file, but the catalog has a link to " + cf->link);
        if (cf && !cf->sha256.empty() && cf->sha256 != *got)
          return Error(where + ": " + fe.path + ": sha256 " + *got + " differs from the catalog's " +
                       cf->sha256);
        if ((!cf || cf->sha256.empty()) && !allow)
          return Error(where + ": " + a.id() + " " + fe.path + " is not in the catalog with a digest",
                       ExitCode::failure,
                       "load the catalog it was made with (--catalog) or pass --allow-unverified");
      }
      if (c && c->files.size() == a.files.size()) a = *c;
    } else {
      auto got = sha256_file(src);
      if (!got) return Error(where + ": " + member + " is missing from the bundle");
      if (*got != a.sha256)
        return Error(where + ": " + member + ": sha256 mismatch: index says " + a.sha256 + ", file has " +
                     *got);
      if (c && !c->sha256.empty() && c->sha256 != *got)
        return Error(where + ": " + a.id() + ": sha256 " + *got + " differs from the catalog's " + c->sha256);
      if ((!c || c->sha256.empty()) && !allow)
        return Error(where + ": " + a.id() + " has no digest in the catalog to check the bundle against",
                     ExitCode::failure,
                     "load the catalog it was made with (--catalog) or pass --allow-unverified");
      if (c) {
        std::string digest = a.sha256;
        a = *c;
        if (a.sha256.empty()) {
          spdlog::warn("{}: trusting the bundle's digest {} (--allow-unverified)", a.id(), digest);
          a.sha256 = digest;
        }
      }
    }
    items.push_back({a, src});
  }
  std::vector<Fetched> out;
  for (const auto& it : items) {
    auto f = store.install_from(it.artifact, it.source);
    if (!f) return f.error().context("importing " + bundle.string());
    out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace kurator::artifacts
