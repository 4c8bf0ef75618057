// The artifact catalog: the embedded manifests/catalog.yaml plus overlays merged field by field.
#include <kurator/core/artifacts.hpp>
#include <kurator/util/embedded.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace kurator::artifacts {
namespace {
using json = nlohmann::json;

std::string field_error(const std::string& source, const std::string& where, const std::string& what) {
  return source + ": " + where + ": " + what;
}

// Reads a string field; numbers and booleans are refused (quote them) so "1.10" never becomes 1.1.
Result<std::optional<std::string>> string_field(const json& obj, const char* key, const std::string& source,
                                                const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string())
    return Error(field_error(source, where + "." + key, "must be a string (quote it), got " + it->dump()));
  return std::optional<std::string>(it->get<std::string>());
}

bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

bool valid_url(const std::string& s) {
  return s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0 || s.rfind("file://", 0) == 0;
}

bool valid_rel_path(const std::string& p) {
  if (p.empty() || p.front() == '/') return false;
  stdfs::path path(p);
  for (const auto& part : path)
    if (part == "..") return false;
  return true;
}

// "a//b/./c/" -> {"a", "b", "c"}
std::vector<std::string_view> components(std::string_view p) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    size_t len = slash == std::string_view::npos ? std::string_view::npos : slash - start;
    std::string_view part = p.substr(start, len);
    if (!part.empty() && part != ".") out.push_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string joined(const std::vector<std::string_view>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < parts.size(); ++i) (out += i ? "/" : "") += parts[i];
  return out;
}

// Quoted for a message: control characters escaped, so the message stays one line.
std::string shown(std::string_view s) {
  std::string out = "'";
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

// Parses a digest field: 64 hex digits (an optional "sha256:" prefix is dropped) or "unknown" (-> "").
Result<std::string> parse_digest(const std::string& text, const std::string& source,
                                 const std::string& where) {
  std::string s = text;
  if (s.rfind("sha256:", 0) == 0) s = s.substr(7);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "unknown") return std::string();
  if (!is_sha256(s))
    return Error(field_error(source, where, "must be 64 hex digits or 'unknown', got '" + text + "'"));
  return s;
}

const std::set<std::string> kArtifactFields = {"name", "version", "os",   "arch", "kind",
                                               "url",  "sha256",  "path", "files"};
const std::set<std::string> kFileFields = {"path", "url", "sha256", "link"};
const std::set<std::string> kTopFields = {"schema", "defaults", "components", "artifacts"};

struct Partial {
  // Only the fields an overlay entry sets.
  std::optional<std::string> name, version, os, arch, url, sha256, path;
  std::optional<Kind> kind;
  std::optional<std::vector<FileEntry>> files;
};

Result<Partial> parse_entry(const json& e, const std::string& source, const std::string& where) {
  if (!e.is_object()) return Error(field_error(source, where, "must be a mapping"));
  for (const auto& [k, v] : e.items())
    if (!kArtifactFields.count(k)) return Error(field_error(source, where + "." + k, "unknown field"));
  Partial p;
  auto get = [&](const char* key, std::optional<std::string>& out) -> Status {
    auto r = string_field(e, key, source, where);
    if (!r) return r.error();
    out = *r;
    return {};
  };
  for (auto [key, out] : {std::pair{"name", &p.name},
                          {"version", &p.version},
                          {"os", &p.os},
                          {"arch", &p.arch},
                          {"url", &p.url},
                          {"path", &p.path}}) {
    KURATOR_TRY(get(key, *out));
  }
  if (!p.name || p.name->empty()) return Error(field_error(source, where + ".name", "missing"));
  if (!valid_name(*p.name))
    return Error(field_error(source, where + ".name", "invalid name '" + *p.name + "'"));
  if (!p.version || p.version->empty()) return Error(field_error(source, where + ".version", "missing"));
  if (!valid_name(*p.version))
    return Error(field_error(source, where + ".version", "invalid version '" + *p.version + "'"));
  for (auto [key, v] : {std::pair{"os", &p.os}, {"arch", &p.arch}})
    if (*v && !valid_name(**v))
      return Error(field_error(source, where + "." + key, "invalid value '" + **v + "'"));
  if (p.url && !valid_url(*p.url))
    return Error(field_error(source, where + ".url",
                             "must start with https://, http:// or file://, got '" + *p.url + "'"));
  if (p.path && !valid_rel_path(*p.path))
    return Error(
        field_error(source, where + ".path", "must be a relative path without '..', got '" + *p.path + "'"));
  std::optional<std::string> kind, digest;
  KURATOR_TRY(get("kind", kind));
  if (kind) {
    p.kind = parse_kind(*kind);
    if (!p.kind)
      return Error(field_error(source, where + ".kind",
                               "must be one of binary, archive, chart, yaml, files, got '" + *kind + "'"));
  }
  KURATOR_TRY(get("sha256", digest));
  if (digest) {
    auto d = parse_digest(*digest, source, where + ".sha256");
    if (!d) return d.error();
    p.sha256 = *d;
  }
  if (auto it = e.find("files"); it != e.end() && !it->is_null()) {
    if (!it->is_array()) return Error(field_error(source, where + ".files", "must be a list"));
    std::vector<FileEntry> files;
    std::set<std::string> seen;
    for (size_t i = 0; i < it->size(); ++i) {
      const json& f = (*it)[i];
      std::string fw = where + ".files[" + std::to_string(i) + "]";
      if (!f.is_object()) return Error(field_error(source, fw, "must be a mapping"));
      for (const auto& [k, v] : f.items())
        if (!kFileFields.count(k)) return Error(field_error(source, fw + "." + k, "unknown field"));
      FileEntry fe;
      auto link = string_field(f, "link", source, fw);
      if (!link) return link.error();
      // A file has a url and a sha256; a link has only its target (made, not downloaded).
      std::vector<std::pair<const char*, std::string*>> fields = {{"path", &fe.path}};
      if (*link) {
        for (const char* key : {"url", "sha256"})
          if (f.contains(key))
            return Error(field_error(source, fw + "." + key,
                                     "not allowed with link (a link is made, not downloaded; its digest "
                                     "is that of the target text)"));
      } else {
        fields.insert(fields.end(), {{"url", &fe.url}, {"sha256", &fe.sha256}});
      }
      for (auto [key, out] : fields) {
        auto r = string_field(f, key, source, fw);
        if (!r) return r.error();
        if (!*r) return Error(field_error(source, fw + "." + key, "missing"));
        *out = **r;
      }
      if (!valid_rel_path(fe.path))
        return Error(
            field_error(source, fw + ".path", "must be a relative path without '..', got '" + fe.path + "'"));
      if (!seen.insert(joined(components(fe.path), std::string::npos)).second)
        return Error(field_error(source, fw + ".path", "duplicate path " + fe.path));
      if (*link) {
        fe.link = **link;
        if (auto why = link_problem(fe.path, fe.link)) return Error(field_error(source, fw + ".link", *why));
        fe.sha256 = sha256_hex(fe.link);
      } else {
        if (!valid_url(fe.url))
          return Error(field_error(source, fw + ".url",
                                   "must start with https://, http:// or file://, got '" + fe.url + "'"));
        auto d = parse_digest(fe.sha256, source, fw + ".sha256");
        if (!d) return d.error();
        fe.sha256 = *d;
      }
      files.push_back(std::move(fe));
    }
    if (auto bad = files_problem(files))
      return Error(field_error(source, where + ".files[" + std::to_string(bad->index) + "]." + bad->field,
                               bad->why));
    p.files = std::move(files);
  }
  return p;
}

Status check_complete(const Artifact& a, const std::string& source, const std::string& where) {
  if (a.kind == Kind::files) {
    if (a.files.empty())
      return Error(field_error(source, where + ".files", "missing (kind files needs a list of files)"));
  } else if (a.url.empty()) {
    return Error(field_error(source, where + ".url", "missing"));
  }
  if (a.kind == Kind::archive && a.path.empty())
    return Error(
        field_error(source, where + ".path", "missing (kind archive needs the path inside the archive)"));
  return {};
}

std::string toggle_v(const std::string& v) {
  if (!v.empty() && v[0] == 'v') return v.substr(1);
  return "v" + v;
}

}  // namespace

std::optional<std::string> link_problem(std::string_view path, std::string_view target) {
  if (target.empty()) return std::string("must not be empty");
  for (unsigned char c : target)
    if (c < 0x20 || c == 0x7f) return "must not hold control characters, got " + shown(target);
  if (target.front() == '/')
    return "must be a relative path inside the artifact folder, got the absolute " + shown(target);
  auto here = components(path);
  for (auto part : here)
    if (part == "..") return "the link's path must not hold '..', got " + shown(path);
  if (here.empty()) return "the link's path is empty";
  here.pop_back();  // the folder holding the link
  size_t up = 0;
  std::vector<std::string_view> down;
  for (auto part : components(target)) {
    if (part != "..") {
      down.push_back(part);
    } else if (!down.empty()) {
      return "may have '..' only at its start, got " + shown(target);
    } else {
      ++up;
    }
  }
  if (up > here.size()) return "points outside the artifact folder: " + shown(target);
  std::vector<std::string_view> resolved(here.begin(), here.end() - static_cast<std::ptrdiff_t>(up));
  resolved.insert(resolved.end(), down.begin(), down.end());
  auto self = components(path);
  if (resolved.size() <= self.size() && std::equal(resolved.begin(), resolved.end(), self.begin()))
    return "points at the link itself or a folder holding it: " + shown(target);
  return std::nullopt;
}

std::optional<MemberProblem> files_problem(const std::vector<FileEntry>& files) {
  std::set<std::string> paths, links;
  for (const auto& f : files)
    if (f.is_link()) links.insert(joined(components(f.path), std::string::npos));
  for (size_t i = 0; i < files.size(); ++i) {
    const FileEntry& f = files[i];
    bool control = std::any_of(f.path.begin(), f.path.end(),
                               [](unsigned char c) { return c < 0x20 || c == 0x7f; });
    if (control || !valid_rel_path(f.path) || components(f.path).empty())
      return MemberProblem{i, "path", "must be a relative path without '..', got " + shown(f.path)};
    auto parts = components(f.path);
    if (!paths.insert(joined(parts, parts.size())).second)
      return MemberProblem{i, "path", "duplicate path " + shown(f.path)};
    for (size_t n = 1; n < parts.size(); ++n)
      if (links.count(joined(parts, n)))
        return MemberProblem{i, "path",
                             shown(f.path) + " lies inside the link " + joined(parts, n) +
                                 " (a link's contents are its target's)"};
    if (f.is_link())
      if (auto why = link_problem(f.path, f.link)) return MemberProblem{i, "link", *why};
  }
  return std::nullopt;
}

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::binary:
      return "binary";
    case Kind::archive:
      return "archive";
    case Kind::chart:
      return "chart";
    case Kind::yaml:
      return "yaml";
    case Kind::files:
      return "files";
  }
  return "binary";
}

std::optional<Kind> parse_kind(std::string_view text) {
  for (Kind k : {Kind::binary, Kind::archive, Kind::chart, Kind::yaml, Kind::files})
    if (to_string(k) == text) return k;
  return std::nullopt;
}

bool Artifact::digest_known() const {
  if (kind == Kind::files)
    return std::all_of(files.begin(), files.end(), [](const FileEntry& f) { return !f.sha256.empty(); });
  return !sha256.empty();
}

std::string Artifact::id() const {
  return name + "@" + version + " (" + os + "/" + arch + ")";
}

std::string Artifact::file_name() const {
  std::string u = url;
  if (auto q = u.find_first_of("?#"); q != std::string::npos) u.resize(q);
  auto slash = u.rfind('/');
  std::string base = slash == std::string::npos ? u : u.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") base = name;
  return base;
}

Platform Platform::host() {
  Platform p{"linux", "amd64"};
  struct utsname u {};
  if (::uname(&u) == 0) {
    std::string sys = u.sysname, m = u.machine;
    if (sys == "Darwin") p.os = "darwin";
    if (m == "aarch64" || m == "arm64")
      p.arch = "arm64";
    else if (m == "x86_64" || m == "amd64")
      p.arch = "amd64";
    else if (m == "ppc64le")
      p.arch = "ppc64le";
    else if (m == "s390x")
      p.arch = "s390x";
    else
      p.arch = m;
  }
  return p;
}

Catalog Catalog::builtin() {
  auto text = embedded::find("catalog.yaml");
  if (!text) throw FatalError(Error("the embedded catalog (manifests/catalog.yaml) is missing"));
  auto c = parse(*text, "catalog.yaml (builtin)");
  if (!c) throw FatalError(c.error());
  return std::move(*c);
}

Result<Catalog> Catalog::parse(std::string_view text, const std::string& source) {
  Catalog c;
  KURATOR_TRY(c.merge(text, source));
  return c;
}

Status Catalog::merge_file(const stdfs::path& file) {
  auto text = fs::read_file(file);
  if (!text) return Error("reading catalog " + text.error().message);
  return merge(*text, file.string());
}

Status Catalog::merge(std::string_view text, const std::string& source) {
  auto doc = yaml::parse_one(text, source);
  if (!doc) return doc.error();
  if (doc->is_null()) return {};
  if (!doc->is_object()) return Error(source + ": must be a mapping with `artifacts:`");
  for (const auto& [k, v] : doc->items())
    if (!kTopFields.count(k)) return Error(field_error(source, k, "unknown field"));
  // Work on a copy: a bad overlay leaves the catalog as it was.
  Catalog next = *this;
  if (auto it = doc->find("defaults"); it != doc->end() && !it->is_null()) {
    if (!it->is_object()) return Error(field_error(source, "defaults", "must be a mapping of name: version"));
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string())
        return Error(field_error(source, "defaults." + k, "must be a string (quote it), got " + v.dump()));
      next.m_defaults[k] = v.get<std::string>();
    }
  }
  if (auto it = doc->find("components"); it != doc->end() && !it->is_null()) {
    if (!it->is_object())
      return Error(field_error(source, "components", "must be a mapping of name: [artifacts]"));
    for (const auto& [k, v] : it->items()) {
      if (!v.is_array())
        return Error(field_error(source, "components." + k, "must be a list of artifact names"));
      std::vector<std::string> names;
      for (const auto& n : v) {
        if (!n.is_string())
          return Error(field_error(source, "components." + k, "must be a list of artifact names"));
        names.push_back(n.get<std::string>());
      }
      next.m_components[k] = std::move(names);
    }
  }
  if (auto it = doc->find("artifacts"); it != doc->end() && !it->is_null()) {
    if (!it->is_array()) return Error(field_error(source, "artifacts", "must be a list"));
    for (size_t i = 0; i < it->size(); ++i) {
      std::string where = "artifacts[" + std::to_string(i) + "]";
      auto p = parse_entry((*it)[i], source, where);
      if (!p) return p.error();
      std::string os = p->os.value_or("any"), arch = p->arch.value_or("any");
      auto existing = std::find_if(next.m_artifacts.begin(), next.m_artifacts.end(), [&](const Artifact& a) {
        return a.name == *p->name && a.version == *p->version && a.os == os && a.arch == arch;
      });
      Artifact a;
      if (existing != next.m_artifacts.end()) {
        a = *existing;
      } else {
        a.name = *p->name;
        a.version = *p->version;
        a.os = os;
        a.arch = arch;
        if (!p->kind)
          return Error(field_error(source, where + ".kind", "missing (a new entry needs a kind)"));
        if (!p->sha256 && *p->kind != Kind::files)
          return Error(field_error(source, where + ".sha256",
                                   "missing (a digest, or 'unknown' when none is published)"));
      }
      if (p->kind) a.kind = *p->kind;
      if (p->url) a.url = *p->url;
      if (p->sha256) a.sha256 = *p->sha256;
      if (p->path) a.path = *p->path;
      if (p->files) a.files = *p->files;
      a.source = source;
      KURATOR_TRY(check_complete(a, source, where));
      if (existing != next.m_artifacts.end())
        *existing = std::move(a);
      else
        next.m_artifacts.push_back(std::move(a));
    }
  }
  *this = std::move(next);
  return {};
}

std::optional<std::string> Catalog::default_version(const std::string& name) const {
  if (auto it = m_defaults.find(name); it != m_defaults.end()) return it->second;
  std::set<std::string> versions;
  for (const auto& a : m_artifacts)
    if (a.name == name) versions.insert(a.version);
  if (versions.size() == 1) return *versions.begin();
  return std::nullopt;
}

const Artifact* Catalog::find(const std::string& name, const std::string& version,
                              const Platform& platform) const {
  std::string v = version;
  if (v.empty()) {
    auto d = default_version(name);
    if (!d) return nullptr;
    v = *d;
  }
  auto lookup = [&](const std::string& ver) -> const Artifact* {
    const Artifact* any = nullptr;
    for (const auto& a : m_artifacts) {
      if (a.name != name || a.version != ver) continue;
      if (a.os == platform.os && a.arch == platform.arch) return &a;
      if ((a.os == "any" || a.os == platform.os) && (a.arch == "any" || a.arch == platform.arch)) any = &a;
    }
    return any;
  };
  if (auto* a = lookup(v)) return a;
  return lookup(toggle_v(v));
}

std::vector<const Artifact*> Catalog::find_all(const std::string& name) const {
  std::vector<const Artifact*> out;
  for (const auto& a : m_artifacts)
    if (a.name == name) out.push_back(&a);
  return out;
}

Result<std::vector<std::string>> Catalog::resolve_components(const std::vector<std::string>& names) const {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const auto& n : names) {
    if (auto it = m_components.find(n); it != m_components.end()) {
      for (const auto& a : it->second) add(a);
    } else if (!find_all(split_ref(n).first).empty()) {
      add(n);
    } else {
      std::string known;
      for (const auto& [k, v] : m_components) known += (known.empty() ? "" : ", ") + k;
      return Error("unknown component or artifact '" + n + "'", ExitCode::usage, "components: " + known);
    }
  }
  return out;
}

std::vector<const Artifact*> Catalog::defaults_for(const Platform& platform) const {
  std::vector<const Artifact*> out;
  std::set<std::string> names;
  for (const auto& a : m_artifacts) names.insert(a.name);
  for (const auto& n : names)
    if (auto* a = find(n, {}, platform)) out.push_back(a);
  return out;
}

std::pair<std::string, std::string> split_ref(const std::string& ref) {
  auto at = ref.find('@');
  if (at == std::string::npos) return {ref, {}};
  return {ref.substr(0, at), ref.substr(at + 1)};
}

Result<Catalog> load_catalog(const stdfs::path& home, const std::vector<std::string>& extra) {
  Catalog c = Catalog::builtin();
  std::error_code ec;
  if (!home.empty() && stdfs::exists(home / "catalog.yaml", ec))
    KURATOR_TRY(c.merge_file(home / "catalog.yaml"));
  std::vector<std::string> files;
  std::string env = fs::env("KURATOR_CATALOG");
  size_t start = 0;
  while (start <= env.size() && !env.empty()) {
    auto colon = env.find(':', start);
    std::string f = env.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!f.empty()) files.push_back(f);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  files.insert(files.end(), extra.begin(), extra.end());
  for (const auto& f : files) KURATOR_TRY(c.merge_file(f));
  return c;
}

}  // namespace kurator::artifacts
