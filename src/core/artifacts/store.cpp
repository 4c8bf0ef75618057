// The artifact cache: $KURATOR_HOME/cache/<name>/<version>/<os>-<arch>/ with
//   artifact.json   what is there and its sha256 (written last: its presence means complete)
//   <file>          the download as upstream published it (binary, archive, chart, yaml)
//   x/              an archive's extracted contents
//   files/          the members of a `kind: files` artifact (link members as symlinks)
//   .lock           flock'ed while fetching, so two processes download once
#include <kurator/core/artifacts.hpp>
#include "internal.hpp"
#include <kurator/util/cancel.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

namespace kurator::artifacts {

FileEntry detail::file_entry_from_json(const nlohmann::json& f) {
  FileEntry fe;
  fe.path = f.at("path").get<std::string>();
  fe.link = f.value("link", "");
  if (fe.is_link()) {
    fe.sha256 = sha256_hex(fe.link);
  } else {
    fe.url = f.value("url", "");
    fe.sha256 = f.at("sha256").get<std::string>();
  }
  return fe;
}

namespace {
using json = nlohmann::json;
constexpr const char* kMeta = "artifact.json";

class FileLock {
 public:
  ~FileLock() {
    if (m_fd >= 0) {
      ::flock(m_fd, LOCK_UN);
      ::close(m_fd);
    }
  }
  Status acquire(const stdfs::path& file, std::chrono::seconds timeout) {
    m_fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0) return Error(file.string() + ": cannot open lock file: " + std::strerror(errno));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool said = false;
    while (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR)
        return Error(file.string() + ": flock: " + std::strerror(errno));
      if (!said) {
        spdlog::info("waiting for another kurator fetching into {}", file.parent_path().string());
        said = true;
      }
      if (cancel::requested())
        return Error("interrupted while waiting for " + file.string(), ExitCode::interrupted);
      if (std::chrono::steady_clock::now() > deadline)
        return Error(
            "timed out waiting for the lock " + file.string(), ExitCode::timeout,
            "another kurator is fetching the same artifact; remove the lock only if none is running");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
  }

 private:
  int m_fd = -1;
};

// The digest recorded for a `kind: files` artifact: over the sorted "sha256  path" lines (a link's line
// ends with " -> target").
std::string files_digest(const std::vector<FileEntry>& files) {
  std::vector<std::string> lines;
  for (const auto& f : files)
    lines.push_back(f.sha256 + "  " + f.path + (f.is_link() ? " -> " + f.link : "") + "\n");
  std::sort(lines.begin(), lines.end());
  Sha256 h;
  for (const auto& l : lines) h.update(l);
  return h.hex();
}

json artifact_json(const Artifact& a) {
  json j = {{"name", a.name},
            {"version", a.version},
            {"os", a.os},
            {"arch", a.arch},
            {"kind", std::string(to_string(a.kind))},
            {"url", a.url},
            {"sha256", a.sha256}};
  if (!a.path.empty()) j["path"] = a.path;
  if (a.kind == Kind::files) {
    j["files"] = json::array();
    for (const auto& f : a.files)
      j["files"].push_back(f.is_link() ? json{{"path", f.path}, {"link", f.link}}
                                       : json{{"path", f.path}, {"url", f.url}, {"sha256", f.sha256}});
  }
  return j;
}

Result<Artifact> artifact_from_json(const json& j) {
  try {
    Artifact a;
    a.name = j.at("name").get<std::string>();
    a.version = j.at("version").get<std::string>();
    a.os = j.at("os").get<std::string>();
    a.arch = j.at("arch").get<std::string>();
    auto kind = parse_kind(j.at("kind").get<std::string>());
    if (!kind) return Error("unknown kind");
    a.kind = *kind;
    a.url = j.value("url", "");
    a.sha256 = j.value("sha256", "");
    a.path = j.value("path", "");
    if (j.contains("files"))
      for (const auto& f : j["files"]) a.files.push_back(detail::file_entry_from_json(f));
    return a;
  } catch (const std::exception& e) {
    return Error(std::string("malformed: ") + e.what());
  }
}

stdfs::path result_path(const Artifact& a, const stdfs::path& dir) {
  switch (a.kind) {
    case Kind::archive:
      return dir / "x" / a.path;
    case Kind::files:
      return dir / "files";
    default:
      return dir / a.file_name();
  }
}

std::vector<stdfs::path> subdirs(const stdfs::path& p) {
  std::vector<stdfs::path> out;
  std::error_code e;
  for (const auto& d : stdfs::directory_iterator(p, e))
    if (d.is_directory() && !d.is_symlink()) out.push_back(d.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool same_files(const std::vector<FileEntry>& a, const std::vector<FileEntry>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].path != b[i].path || a[i].sha256 != b[i].sha256 || a[i].link != b[i].link) return false;
  return true;
}

// Every member of a `kind: files` artifact from wherever it came (catalog, bundle index, metadata) is
// checked before anything is written: no path or link leaves the artifact folder.
std::string members_problem(const Artifact& a) {
  auto bad = files_problem(a.files);
  if (!bad) return {};
  // A path problem quotes the path itself; a link's path has passed the path checks.
  std::string what = bad->field == "link" ? a.files[bad->index].path + ": link " : "member path ";
  return what + bad->why;
}

Status check_members(const Artifact& a) {
  std::string problem = members_problem(a);
  if (problem.empty()) return {};
  return Error(a.id() + ": " + problem, ExitCode::failure,
               "the catalog or bundle entry of this artifact is wrong; nothing was written");
}

// Makes `dir`/`f.path` a symlink to `f.link` (checked by check_members).
Status make_link(const Artifact& a, const FileEntry& f, const stdfs::path& dir) {
  std::error_code ec;
  stdfs::path at = dir / f.path;
  stdfs::create_directories(at.parent_path(), ec);
  stdfs::create_symlink(f.link, at, ec);
  if (ec) return Error(a.id() + ": " + f.path + ": cannot make the link to " + f.link + ": " + ec.message());
  return {};
}

// What is at `at` when the catalog says `f`: empty when it matches, else the problem.
std::string member_problem(const FileEntry& f, const stdfs::path& at) {
  std::error_code ec;
  auto st = stdfs::symlink_status(at, ec);
  if (ec || !stdfs::exists(st)) return f.path + ": missing";
  if (f.is_link()) {
    if (!stdfs::is_symlink(st)) return f.path + ": expected a link to " + f.link + ", found no link";
    auto target = stdfs::read_symlink(at, ec);
    if (ec || target.string() != f.link)
      return f.path + ": expected a link to " + f.link + ", found a link to " + target.string();
    return {};
  }
  if (stdfs::is_symlink(st)) return f.path + ": expected a file, found a link";
  auto got = sha256_file(at);
  if (!got) return f.path + ": missing";
  if (*got != f.sha256) return f.path + ": sha256 mismatch: expected " + f.sha256 + ", got " + *got;
  return {};
}

}  // namespace

Store::Store(Catalog catalog, Options opts) : m_catalog(std::move(catalog)), m_opts(std::move(opts)) {}

stdfs::path Store::cache_dir(const Artifact& a) const {
  return cache_root() / a.name / a.version / (a.os + "-" + a.arch);
}

Result<Artifact> Store::resolve(const std::string& name, const std::string& version) const {
  if (const Artifact* a = m_catalog.find(name, version, m_opts.platform)) return *a;
  auto all = m_catalog.find_all(name);
  if (all.empty())
    return Error("unknown artifact '" + name + "'", ExitCode::usage, "see `kurator tool list`");
  if (version.empty())
    return Error(
        "no default version of '" + name + "' for " + m_opts.platform.os + "/" + m_opts.platform.arch,
        ExitCode::failure, "name a version: " + name + "@VERSION");
  // A version the catalog does not know: only with a digest from the user, at the default entry's URL
  // with the version replaced.
  const Artifact* base = m_catalog.find(name, {}, m_opts.platform);
  if (m_opts.sha256_override.empty() || !base || base->kind == Kind::files) {
    std::string known;
    for (auto* a : all)
      if (known.find(a->version) == std::string::npos) known += (known.empty() ? "" : ", ") + a->version;
    return Error(
        "the catalog has no " + name + "@" + version + " for " + m_opts.platform.os + "/" +
            m_opts.platform.arch,
        ExitCode::failure,
        "known versions: " + known + "; for another version pass --sha256 with its published digest");
  }
  Artifact a = *base;
  auto replace_all = [](std::string s, const std::string& from, const std::string& to) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
    return s;
  };
  std::string from = base->version, to = version;
  if (!from.empty() && from[0] == 'v' && !to.empty() && to[0] != 'v') to = "v" + to;
  a.url = replace_all(a.url, from, to);
  a.path = replace_all(a.path, from, to);
  a.version = to;
  a.sha256.clear();
  a.source = "--sha256";
  return a;
}

std::optional<Fetched> Store::cached(const Artifact& a) const {
  stdfs::path dir = cache_dir(a);
  auto text = fs::read_file(dir / kMeta);
  if (!text) return std::nullopt;
  json meta = json::parse(*text, nullptr, false);
  if (meta.is_discarded()) return std::nullopt;
  auto recorded = artifact_from_json(meta.value("artifact", json::object()));
  if (!recorded) return std::nullopt;
  Fetched f;
  f.artifact = *recorded;
  f.dir = dir;
  f.sha256 = meta.value("sha256", "");
  f.verified = meta.value("verified", true);
  f.path = result_path(*recorded, dir);
  // Consistent with the catalog entry asked for?
  if (recorded->kind != a.kind || recorded->path != a.path) return std::nullopt;
  if (a.kind == Kind::files) {
    if (!same_files(recorded->files, a.files)) return std::nullopt;
  } else {
    std::string want = !a.sha256.empty() ? a.sha256 : m_opts.sha256_override;
    if (!want.empty() && want != f.sha256) return std::nullopt;
  }
  std::error_code ec;
  if (!stdfs::exists(f.path, ec)) return std::nullopt;
  return f;
}

Result<Fetched> Store::ensure(const std::string& name, const std::string& version) {
  auto a = resolve(name, version);
  if (!a) return a.error();
  return ensure(*a);
}

Result<Fetched> Store::ensure(const Artifact& a) {
  if (a.kind == Kind::files) KURATOR_TRY(check_members(a));
  std::string expected = a.kind == Kind::files ? "" : (!a.sha256.empty() ? a.sha256 : m_opts.sha256_override);
  if (!m_opts.sha256_override.empty() && !is_sha256(m_opts.sha256_override))
    return Error("--sha256: must be 64 hex digits, got '" + m_opts.sha256_override + "'", ExitCode::usage);
  if (!a.sha256.empty() && !m_opts.sha256_override.empty() && a.sha256 != m_opts.sha256_override)
    return Error(a.id() + ": --sha256 " + m_opts.sha256_override + " differs from the catalog's " + a.sha256);
  if (auto c = cached(a)) {
    if (!c->verified && expected.empty())
      spdlog::warn("{}: using a cached copy that was accepted unverified", a.id());
    return *c;
  }
  if (m_opts.offline)
    return Error(a.id() + " is not in the cache and downloads are off", ExitCode::failure,
                 "import a bundle (kurator bundle import) or fetch it where the network is reachable");
  if (expected.empty() && !a.digest_known() && !m_opts.allow_unverified)
    return Error(a.id() + ": the catalog has no published sha256 for " + (a.url.empty() ? a.name : a.url),
                 ExitCode::failure,
                 "pass --sha256 DIGEST (the digest upstream publishes) or --allow-unverified");
  stdfs::path dir = cache_dir(a);
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) return Error(dir.string() + ": cannot create: " + ec.message());
  FileLock lock;
  KURATOR_TRY(lock.acquire(dir / ".lock", m_opts.lock_timeout));
  // Another process may have finished while we waited: then no download at all.
  if (auto c = cached(a)) return *c;
  return fetch_locked(a, expected);
}

Status Store::place_download(const Artifact& a, const stdfs::path& dir, const stdfs::path& file) {
  std::error_code ec;
  if (a.kind == Kind::binary) stdfs::permissions(file, stdfs::perms(0755), ec);
  if (a.kind == Kind::archive) {
    stdfs::remove_all(dir / "x", ec);
    KURATOR_TRY(extract(file, dir / "x"));
    stdfs::path inner = dir / "x" / a.path;
    if (!stdfs::exists(inner, ec)) {
      stdfs::remove_all(dir / "x", ec);
      return Error(a.id() + ": the archive has no '" + a.path + "'", ExitCode::failure,
                   "the catalog's `path` for this archive is wrong");
    }
  }
  return {};
}

Status Store::write_metadata(const Fetched& f) const {
  json meta = {{"artifact", artifact_json(f.artifact)},
               {"sha256", f.sha256},
               {"verified", f.verified},
               {"fetched_at", static_cast<long long>(std::time(nullptr))}};
  return fs::write_file_atomic(f.dir / kMeta, meta.dump(2) + "\n");
}

Result<Fetched> Store::fetch_locked(const Artifact& a, const std::string& expected) {
  stdfs::path dir = cache_dir(a);
  std::error_code ec;
  stdfs::remove(dir / kMeta, ec);  // whatever is there is stale from here on
  Fetched f;
  f.artifact = a;
  f.dir = dir;
  f.downloaded = true;
  DownloadOptions dl = m_opts.download;
  if (a.kind == Kind::files) {
    stdfs::path tmp = dir / "files.tmp";
    stdfs::remove_all(tmp, ec);
    bool verified = true;
    std::vector<FileEntry> got = a.files;
    size_t i = 0;
    for (auto& fe : got) {
      ++i;
      if (fe.is_link()) {
        fe.sha256 = sha256_hex(fe.link);
        if (auto s = make_link(a, fe, tmp); !s) {
          stdfs::remove_all(tmp, ec);
          return s.error();
        }
        continue;
      }
      std::string url = rewrite_url(fe.url, m_opts.rules, m_opts.mirror);
      dl.label = a.name + " [" + std::to_string(i) + "/" + std::to_string(got.size()) + "] " + fe.path;
      dl.progress = m_opts.download.progress && got.size() <= 1;
      if (fe.sha256.empty() && !m_opts.allow_unverified)
        return Error(a.id() + ": no sha256 for " + fe.path, ExitCode::failure, "pass --allow-unverified");
      spdlog::debug("{}: {} <- {}", a.name, fe.path, url);
      auto r = download(url, tmp / fe.path, fe.sha256, dl);
      if (!r) {
        stdfs::remove_all(tmp, ec);
        return r.error().context(a.id() + ": " + fe.path);
      }
      if (fe.sha256.empty()) {
        verified = false;
        fe.sha256 = *r;
      }
    }
    stdfs::remove_all(dir / "files", ec);
    stdfs::rename(tmp, dir / "files", ec);
    if (ec) return Error(dir.string() + ": cannot move files into place: " + ec.message());
    f.artifact.files = got;
    f.sha256 = files_digest(got);
    f.verified = verified;
    f.path = dir / "files";
  } else {
    std::string url = rewrite_url(a.url, m_opts.rules, m_opts.mirror);
    if (url != a.url)
      spdlog::info("fetching {} from {} (mirror of {})", a.id(), url, a.url);
    else
      spdlog::info("fetching {} from {}", a.id(), url);
    if (expected.empty())
      spdlog::warn("{}: no published sha256 to check against (--allow-unverified)", a.id());
    dl.label = a.name + " " + a.version;
    stdfs::path file = dir / a.file_name();
    auto r = download(url, file, expected, dl);
    if (!r) return r.error().context(a.id());
    f.sha256 = *r;
    f.verified = !expected.empty();
    if (!f.verified) spdlog::warn("{}: accepted unverified, sha256 {}", a.id(), f.sha256);
    auto placed = place_download(a, dir, file);
    if (!placed) {
      stdfs::remove(file, ec);
      return placed.error();
    }
    f.artifact.sha256 = a.sha256;
    f.path = result_path(a, dir);
  }
  KURATOR_TRY(write_metadata(f));
  return f;
}

Result<Fetched> Store::install_from(const Artifact& a, const stdfs::path& source) {
  if (a.kind == Kind::files) KURATOR_TRY(check_members(a));
  stdfs::path dir = cache_dir(a);
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  FileLock lock;
  KURATOR_TRY(lock.acquire(dir / ".lock", m_opts.lock_timeout));
  if (auto c = cached(a)) return *c;
  stdfs::remove(dir / kMeta, ec);
  // Copy through the normal download path (file://): verified while copying, renamed when it matches.
  DownloadOptions dl;
  dl.progress = false;
  Fetched f;
  f.artifact = a;
  f.dir = dir;
  if (a.kind == Kind::files) {
    stdfs::path tmp = dir / "files.tmp";
    stdfs::remove_all(tmp, ec);
    for (const auto& fe : a.files) {
      if (fe.is_link()) {
        if (auto s = make_link(a, fe, tmp); !s) {
          stdfs::remove_all(tmp, ec);
          return s.error();
        }
        continue;
      }
      auto r = download("file://" + (source / fe.path).string(), tmp / fe.path, fe.sha256, dl);
      if (!r) {
        stdfs::remove_all(tmp, ec);
        return r.error().context(a.id() + ": " + fe.path);
      }
    }
    stdfs::remove_all(dir / "files", ec);
    stdfs::rename(tmp, dir / "files", ec);
    if (ec) return Error(dir.string() + ": cannot move files into place: " + ec.message());
    f.sha256 = files_digest(a.files);
    f.verified = a.digest_known();
  } else {
    std::string expected = !a.sha256.empty() ? a.sha256 : m_opts.sha256_override;
    stdfs::path file = dir / a.file_name();
    auto r = download("file://" + source.string(), file, expected, dl);
    if (!r) return r.error().context(a.id());
    f.sha256 = *r;
    f.verified = !expected.empty();
    auto placed = place_download(a, dir, file);
    if (!placed) {
      stdfs::remove(file, ec);
      return placed.error();
    }
  }
  f.path = result_path(a, dir);
  KURATOR_TRY(write_metadata(f));
  return f;
}

Store::VerifyReport Store::verify_cache() const {
  VerifyReport report;
  std::error_code ec;
  if (!stdfs::exists(cache_root(), ec)) return report;
  std::vector<stdfs::path> metas;
  for (const auto& name : subdirs(cache_root()))
    for (const auto& version : subdirs(name))
      for (const auto& plat : subdirs(version))
        if (stdfs::exists(plat / kMeta, ec)) metas.push_back(plat / kMeta);
  std::sort(metas.begin(), metas.end());
  for (const auto& m : metas) {
    stdfs::path dir = m.parent_path();
    ++report.checked;
    auto text = fs::read_file(m);
    json meta = text ? json::parse(*text, nullptr, false) : json();
    auto recorded = meta.is_object() ? artifact_from_json(meta.value("artifact", json::object()))
                                     : Result<Artifact>(Error("unreadable"));
    if (!recorded) {
      report.issues.push_back({dir.string(), "metadata " + recorded.error().message});
      continue;
    }
    const Artifact& a = *recorded;
    std::string id = a.id();
    std::string sha = meta.value("sha256", "");
    if (a.kind == Kind::files) {
      if (auto problem = members_problem(a); !problem.empty()) report.issues.push_back({id, problem});
      for (const auto& fe : a.files)
        if (auto problem = member_problem(fe, dir / "files" / fe.path); !problem.empty())
          report.issues.push_back({id, problem});
    } else {
      auto got = sha256_file(dir / a.file_name());
      if (!got)
        report.issues.push_back({id, a.file_name() + ": missing"});
      else if (*got != sha)
        report.issues.push_back({id, a.file_name() + ": sha256 mismatch: expected " + sha + ", got " + *got});
      if (a.kind == Kind::archive && !stdfs::exists(dir / "x" / a.path, ec))
        report.issues.push_back({id, "x/" + a.path + ": missing from the extracted archive"});
    }
    // Against the catalog as well.
    for (const auto* c : m_catalog.find_all(a.name)) {
      if (c->version != a.version || c->os != a.os || c->arch != a.arch) continue;
      if (c->kind != Kind::files && !c->sha256.empty() && c->sha256 != sha)
        report.issues.push_back({id, "cached sha256 " + sha + " differs from the catalog's " + c->sha256});
      if (c->kind == Kind::files && !same_files(c->files, a.files))
        report.issues.push_back({id, "cached files differ from the catalog's list"});
    }
  }
  return report;
}

std::vector<stdfs::path> Store::prune(bool all) const {
  std::vector<stdfs::path> removed;
  std::error_code ec;
  if (!stdfs::exists(cache_root(), ec)) return removed;
  std::set<stdfs::path> keep;
  if (!all)
    for (const auto& a : m_catalog.artifacts())
      if (auto d = m_catalog.default_version(a.name); d && *d == a.version) keep.insert(cache_dir(a));
  for (const auto& name : subdirs(cache_root())) {
    for (const auto& version : subdirs(name)) {
      for (const auto& plat : subdirs(version)) {
        if (!keep.count(plat)) {
          stdfs::remove_all(plat, ec);
          removed.push_back(plat);
          continue;
        }
        // Leftovers of interrupted runs inside a kept entry.
        std::vector<stdfs::path> leftovers;
        for (const auto& f : stdfs::directory_iterator(plat, ec)) {
          std::string fn = f.path().filename().string();
          if (fn.find(".partial") != std::string::npos || fn.find(".tmp") != std::string::npos)
            leftovers.push_back(f.path());
        }
        for (const auto& f : leftovers) {
          stdfs::remove_all(f, ec);
          removed.push_back(f);
        }
      }
      if (stdfs::is_empty(version, ec)) stdfs::remove(version, ec);
    }
    if (stdfs::is_empty(name, ec)) stdfs::remove(name, ec);
  }
  return removed;
}

}  // namespace kurator::artifacts
