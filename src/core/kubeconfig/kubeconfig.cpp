// kubeconfig loading: sources (--kubeconfig, KUBECONFIG, ~/.kube/config), per-file validation, kubectl's
// merge rules, and resolution of one context into a RestConfig.
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>
#include <kurator/util/yaml.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

namespace kurator::kubeconfig {
namespace {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kExecApiV1 = "client.authentication.k8s.io/v1";
constexpr const char* kExecApiV1beta1 = "client.authentication.k8s.io/v1beta1";
constexpr const char* kExecExtension = "client.authentication.k8s.io/exec";
constexpr const char* kSourceHint = "pass --kubeconfig PATH, set KUBECONFIG, or create ~/.kube/config";

// One named cluster/user/context and the file it came from (relative paths already resolved).
struct Entry {
  std::string name;
  json body;
  stdfs::path file;
  json exec_extension;  // clusters: the client.authentication.k8s.io/exec extension, null when absent
};

// One section of a kubeconfig: "clusters" holding items {name, cluster}, and so on.
struct Section {
  const char* list;  // clusters
  const char* item;  // cluster
};
constexpr Section kClusters{"clusters", "cluster"};
constexpr Section kUsers{"users", "user"};
constexpr Section kContexts{"contexts", "context"};

struct Merged {
  std::vector<stdfs::path> files;
  std::vector<Entry> clusters, users, contexts;  // first definition of each name, in load order
  std::string current_context;
  stdfs::path current_context_file;

  std::vector<Entry>& entries(const Section& s) {
    if (&s == &kClusters) return clusters;
    if (&s == &kUsers) return users;
    return contexts;
  }
  const std::vector<Entry>& entries(const Section& s) const { return const_cast<Merged*>(this)->entries(s); }
};

const Entry* find(const std::vector<Entry>& v, const std::string& name) {
  for (const auto& e : v) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::string names_of(const std::vector<Entry>& v) {
  std::string out;
  for (const auto& e : v) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

std::string in_quotes(const std::string& s) {
  return "\"" + s + "\"";
}

std::string file_label(const stdfs::path& file) {
  return "kubeconfig " + file.string();
}

std::string files_label(const std::vector<stdfs::path>& files) {
  std::string out = "kubeconfig ";
  for (size_t i = 0; i < files.size(); ++i) {
    if (i > 0) out += ", ";
    out += files[i].string();
  }
  return out;
}

Error fail(const stdfs::path& file, const std::string& what, std::string hint = {}) {
  return Error(file_label(file) + ": " + what, ExitCode::failure, std::move(hint));
}

stdfs::path absolute_path(const stdfs::path& p) {
  std::error_code ec;
  auto abs = stdfs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal();
}

// Empty when `path` can be opened for reading as a regular file, else why not ("No such file or directory").
std::string unreadable_reason(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  struct stat st {};
  std::string why;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) why = "is a directory";
  ::close(fd);
  return why;
}

// ---- per-file validation ------------------------------------------------------------------------

// Checks the type of one field of a cluster/user/context/exec body. `where` is e.g. `users[0] "admin"`.
class FieldChecker {
 public:
  FieldChecker(const stdfs::path& file, std::string where, const json& body)
      : m_file(file), m_where(std::move(where)), m_body(body) {}

  Status string_field(const char* key) const {
    auto it = m_body.find(key);
    if (it == m_body.end() || it->is_null() || it->is_string()) return {};
    return fail(m_file, m_where + ": " + key + " must be a string",
                "quote the value in the kubeconfig, e.g. " + std::string(key) + ": \"...\"");
  }
  Status bool_field(const char* key) const {
    auto it = m_body.find(key);
    if (it == m_body.end() || it->is_null() || it->is_boolean()) return {};
    return fail(m_file, m_where + ": " + key + " must be true or false");
  }
  std::string str(const char* key) const {
    auto it = m_body.find(key);
    return it != m_body.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
  // Base64 field whose decoded text must contain `pem_marker`.
  Status pem_data_field(const char* key, const char* pem_marker, const char* what) const {
    KURATOR_TRY(string_field(key));
    std::string text = str(key);
    if (text.empty()) return {};
    auto decoded = base64::decode(text);
    if (!decoded) {
      return fail(m_file, m_where + ": " + key + " is not valid base64",
                  "the *-data fields hold the base64 of the PEM file (base64 -w0 FILE)");
    }
    if (decoded->find(pem_marker) == std::string::npos) {
      return fail(m_file, m_where + ": " + key + " does not hold " + what,
                  "the *-data fields hold the base64 of the PEM file (base64 -w0 FILE)");
    }
    return {};
  }
  const std::string& where() const { return m_where; }

 private:
  const stdfs::path& m_file;
  std::string m_where;
  const json& m_body;
};

Status check_cluster(const stdfs::path& file, const std::string& where, const json& c) {
  FieldChecker f(file, where, c);
  for (const char* k : {"server", "certificate-authority", "proxy-url", "tls-server-name"}) {
    KURATOR_TRY(f.string_field(k));
  }
  for (const char* k : {"insecure-skip-tls-verify", "disable-compression"}) KURATOR_TRY(f.bool_field(k));
  KURATOR_TRY(
      f.pem_data_field("certificate-authority-data", "-----BEGIN CERTIFICATE-----", "a PEM certificate"));
  if (auto proxy = f.str("proxy-url"); !proxy.empty()) {
    auto scheme = proxy.substr(0, proxy.find("://"));
    if (proxy.find("://") == std::string::npos ||
        (scheme != "http" && scheme != "https" && scheme != "socks5")) {
      return fail(file, where + ": proxy-url " + in_quotes(proxy) + " must be an http, https or socks5 URL");
    }
  }
  return {};
}

Status check_exec(const stdfs::path& file, const std::string& where, const json& e) {
  if (!e.is_object()) return fail(file, where + ": exec must be a mapping");
  std::string w = where + ": exec";
  FieldChecker f(file, w, e);
  for (const char* k : {"apiVersion", "command", "installHint", "interactiveMode"})
    KURATOR_TRY(f.string_field(k));
  KURATOR_TRY(f.bool_field("provideClusterInfo"));
  auto api = f.str("apiVersion");
  if (api.empty()) {
    return fail(file, w + ": apiVersion is not set",
                std::string("use ") + kExecApiV1 + " or " + kExecApiV1beta1);
  }
  if (api != kExecApiV1 && api != kExecApiV1beta1) {
    return fail(file, w + ": apiVersion " + in_quotes(api) + " is not supported",
                std::string("use ") + kExecApiV1 + " or " + kExecApiV1beta1);
  }
  if (f.str("command").empty()) return fail(file, w + ": command is not set");
  if (auto mode = f.str("interactiveMode");
      !mode.empty() && mode != "Never" && mode != "IfAvailable" && mode != "Always") {
    return fail(file,
                w + ": interactiveMode " + in_quotes(mode) + " is not one of Never, IfAvailable, Always");
  }
  if (auto it = e.find("args"); it != e.end() && !it->is_null()) {
    if (!it->is_array()) return fail(file, w + ": args must be a list of strings");
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        return fail(file, w + ": args[" + std::to_string(i) + "] must be a string",
                    "quote the value in the kubeconfig");
      }
    }
  }
  if (auto it = e.find("env"); it != e.end() && !it->is_null()) {
    if (!it->is_array()) return fail(file, w + ": env must be a list of {name, value}");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& item = (*it)[i];
      std::string at = w + ": env[" + std::to_string(i) + "]";
      if (!item.is_object()) return fail(file, at + " must be a mapping with name and value");
      auto name = item.find("name");
      if (name == item.end() || !name->is_string() || name->get<std::string>().empty()) {
        return fail(file, at + ": name is not set");
      }
      auto value = item.find("value");
      if (value != item.end() && !value->is_null() && !value->is_string()) {
        return fail(file, at + " " + in_quotes(name->get<std::string>()) + ": value must be a string",
                    "quote the value in the kubeconfig");
      }
    }
  }
  return {};
}

Status check_user(const stdfs::path& file, const std::string& where, const json& u) {
  FieldChecker f(file, where, u);
  for (const char* k :
       {"client-certificate", "client-key", "token", "tokenFile", "username", "password", "as"}) {
    KURATOR_TRY(f.string_field(k));
  }
  KURATOR_TRY(
      f.pem_data_field("client-certificate-data", "-----BEGIN CERTIFICATE-----", "a PEM certificate"));
  KURATOR_TRY(f.pem_data_field("client-key-data", "PRIVATE KEY-----", "a PEM private key"));
  if (auto it = u.find("exec"); it != u.end() && !it->is_null()) KURATOR_TRY(check_exec(file, where, *it));
  return {};
}

Status check_context(const stdfs::path& file, const std::string& where, const json& c) {
  FieldChecker f(file, where, c);
  for (const char* k : {"cluster", "user", "namespace"}) KURATOR_TRY(f.string_field(k));
  return {};
}

// Makes a relative path field absolute against the kubeconfig file's folder (kubectl's ResolveLocalPaths).
void resolve_path(json& body, const char* key, const stdfs::path& base) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string()) return;
  std::string p = it->get<std::string>();
  if (p.empty() || stdfs::path(p).is_absolute()) return;
  stdfs::path abs = (base / p).lexically_normal();
  if (abs.filename().empty() && abs.has_parent_path()) abs = abs.parent_path();  // "dir/." -> "dir"
  *it = abs.string();
}

void resolve_paths(const Section& s, json& body, const stdfs::path& file) {
  stdfs::path base = file.parent_path();
  if (&s == &kClusters) {
    resolve_path(body, "certificate-authority", base);
  } else if (&s == &kUsers) {
    for (const char* k : {"client-certificate", "client-key", "tokenFile"}) resolve_path(body, k, base);
    // Like kubectl: an exec command is resolved only when it is a path, not a name looked up in PATH.
    if (auto e = body.find("exec"); e != body.end() && e->is_object()) {
      if (auto c = e->find("command");
          c != e->end() && c->is_string() && c->get<std::string>().find('/') != std::string::npos) {
        resolve_path(*e, "command", base);
      }
    }
  }
}

Status check_section(const stdfs::path& file, const json& doc, const Section& s, std::vector<Entry>& out) {
  auto it = doc.find(s.list);
  if (it == doc.end() || it->is_null()) return {};
  if (!it->is_array()) return fail(file, std::string(s.list) + " must be a list");
  std::set<std::string> seen;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& item = (*it)[i];
    std::string at = std::string(s.list) + "[" + std::to_string(i) + "]";
    if (!item.is_object()) return fail(file, at + " must be a mapping with name and " + s.item);
    auto name_it = item.find("name");
    if (name_it == item.end() || name_it->is_null()) return fail(file, at + ": name is not set");
    if (!name_it->is_string()) return fail(file, at + ": name must be a string", "quote the name");
    std::string name = name_it->get<std::string>();
    if (name.empty()) return fail(file, at + ": name is empty");
    if (!seen.insert(name).second) {
      return fail(file, at + ": duplicate " + s.item + " name " + in_quotes(name),
                  "each " + std::string(s.item) + " name may appear once per file");
    }
    std::string where = at + " " + in_quotes(name);
    json body = json::object();
    if (auto b = item.find(s.item); b != item.end() && !b->is_null()) {
      if (!b->is_object()) return fail(file, where + ": " + s.item + " must be a mapping");
      body = *b;
    }
    json exec_extension;
    if (&s == &kClusters) {
      KURATOR_TRY(check_cluster(file, where, body));
      // The exec extension is passed to credential plugins as spec.cluster.config.
      if (auto ext = body.find("extensions"); ext != body.end() && ext->is_array()) {
        for (const auto& x : *ext) {
          if (x.is_object() && x.value("name", json()) == kExecExtension && x.contains("extension")) {
            exec_extension = x["extension"];
          }
        }
      }
    } else if (&s == &kUsers) {
      KURATOR_TRY(check_user(file, where, body));
    } else {
      KURATOR_TRY(check_context(file, where, body));
    }
    resolve_paths(s, body, file);
    out.push_back(Entry{name, std::move(body), file, std::move(exec_extension)});
  }
  return {};
}

struct FileDoc {
  std::vector<Entry> clusters, users, contexts;
  std::string current_context;
};

Result<FileDoc> parse_file(const stdfs::path& file) {
  std::error_code ec;
  if (stdfs::is_directory(file, ec)) return fail(file, "is a directory, not a file");
  auto text = fs::read_file(file);
  if (!text) {
    std::string why = unreadable_reason(file);
    return fail(file, "cannot read: " + (why.empty() ? text.error().message : why));
  }
  auto parsed = yaml::parse_one(*text, file_label(file));
  if (!parsed) return std::move(parsed).error();
  json doc = std::move(*parsed);
  FileDoc out;
  if (doc.is_null()) return out;  // an empty file is an empty config, as for kubectl
  if (!doc.is_object()) {
    return fail(file, "not a kubeconfig: the top level must be a mapping (apiVersion, kind, clusters, ...)");
  }
  if (auto kind = doc.find("kind"); kind != doc.end() && !kind->is_null() && *kind != "Config") {
    return fail(file, "kind is " + (kind->is_string() ? in_quotes(kind->get<std::string>()) : kind->dump()) +
                          ", expected Config");
  }
  KURATOR_TRY(check_section(file, doc, kClusters, out.clusters));
  KURATOR_TRY(check_section(file, doc, kUsers, out.users));
  KURATOR_TRY(check_section(file, doc, kContexts, out.contexts));
  if (auto cc = doc.find("current-context"); cc != doc.end() && !cc->is_null()) {
    if (!cc->is_string()) return fail(file, "current-context must be a string");
    out.current_context = cc->get<std::string>();
  }
  return out;
}

// ---- sources and merging -----------------------------------------------------------------------

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(':', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<std::vector<stdfs::path>> source_files(const LoadOptions& opts) {
  std::error_code ec;
  if (!opts.explicit_path.empty()) {
    stdfs::path p = absolute_path(opts.explicit_path);
    if (!stdfs::exists(p, ec)) {
      return fail(p, std::strerror(ENOENT), "check the --kubeconfig path");
    }
    return std::vector<stdfs::path>{p};
  }
  std::string env = opts.kubeconfig_env ? *opts.kubeconfig_env : fs::env("KUBECONFIG");
  if (!env.empty()) {
    std::vector<stdfs::path> files;
    std::set<stdfs::path> seen;
    for (const auto& item : split_list(env)) {
      stdfs::path p = absolute_path(item);
      if (!seen.insert(p).second) continue;
      if (!stdfs::exists(p, ec)) {
        spdlog::debug("KUBECONFIG: skipping {} (does not exist)", p.string());
        continue;
      }
      files.push_back(p);
    }
    if (files.empty()) {
      return Error("no kubeconfig found: none of the files in KUBECONFIG exist (KUBECONFIG=" + env + ")",
                   ExitCode::failure, kSourceHint);
    }
    return files;
  }
  stdfs::path home = opts.home ? *opts.home : fs::user_home();
  stdfs::path p = absolute_path(home / ".kube" / "config");
  if (!stdfs::exists(p, ec)) {
    return Error("no kubeconfig found: " + p.string() + " does not exist and KUBECONFIG is not set",
                 ExitCode::failure, kSourceHint);
  }
  return std::vector<stdfs::path>{p};
}

Result<Merged> load_all(const LoadOptions& opts) {
  auto files = source_files(opts);
  if (!files) return std::move(files).error();
  Merged m;
  m.files = *files;
  for (const auto& file : m.files) {
    auto doc = parse_file(file);
    if (!doc) return std::move(doc).error();
    // kubectl: the first file to define a name wins, as a whole entry (no field-by-field merge).
    for (const Section* s : {&kClusters, &kUsers, &kContexts}) {
      auto& src = s == &kClusters ? doc->clusters : s == &kUsers ? doc->users : doc->contexts;
      auto& dst = m.entries(*s);
      for (auto& e : src) {
        if (!find(dst, e.name)) dst.push_back(std::move(e));
      }
    }
    if (m.current_context.empty() && !doc->current_context.empty()) {
      m.current_context = doc->current_context;
      m.current_context_file = file;
    }
  }
  return m;
}

json to_json(const Merged& m) {
  json out = json::object();
  out["apiVersion"] = "v1";
  out["kind"] = "Config";
  for (const Section* s : {&kClusters, &kUsers, &kContexts}) {
    json list = json::array();
    for (const auto& e : m.entries(*s)) list.push_back({{"name", e.name}, {s->item, e.body}});
    out[s->list] = std::move(list);
  }
  out["current-context"] = m.current_context;
  return out;
}

// ---- resolution of one context -------------------------------------------------------------------

std::string str(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Status resolve_cluster(const Entry& e, RestConfig& rc) {
  std::string where = "cluster " + in_quotes(e.name);
  const json& c = e.body;
  rc.server = str(c, "server");
  if (rc.server.empty()) return fail(e.file, where + ": server is not set", "set clusters[].cluster.server");
  if (rc.server.find("://") == std::string::npos) rc.server = "https://" + rc.server;  // as kubectl
  std::string ca_file = str(c, "certificate-authority");
  std::string ca_data = str(c, "certificate-authority-data");
  bool insecure = c.value("insecure-skip-tls-verify", json(false)).is_boolean() &&
                  c.value("insecure-skip-tls-verify", false);
  if (!ca_file.empty() && !ca_data.empty()) {
    return fail(e.file, where + ": both certificate-authority and certificate-authority-data are set",
                "keep only one of them");
  }
  if (insecure && (!ca_file.empty() || !ca_data.empty())) {
    return fail(e.file, where + ": insecure-skip-tls-verify is set together with a certificate authority",
                "remove insecure-skip-tls-verify (or the certificate authority)");
  }
  if (!ca_file.empty()) {
    if (auto why = unreadable_reason(ca_file); !why.empty()) {
      return fail(e.file, where + ": certificate-authority " + ca_file + ": " + why,
                  "relative paths are resolved against the folder of the kubeconfig file");
    }
    rc.tls.ca_file = ca_file;
  }
  if (!ca_data.empty()) rc.tls.ca_pem = *base64::decode(ca_data);  // validated when parsed
  rc.tls.insecure_skip_verify = insecure;
  rc.tls.server_name = str(c, "tls-server-name");
  rc.proxy_url = str(c, "proxy-url");
  return {};
}

Status resolve_user(const Entry& e, RestConfig& rc, const json& cluster_exec_config) {
  std::string where = "user " + in_quotes(e.name);
  const json& u = e.body;
  if (u.contains("auth-provider") && !u["auth-provider"].is_null()) {
    std::string name = u["auth-provider"].is_object() ? str(u["auth-provider"], "name") : std::string();
    return fail(e.file, where + ": auth-provider " + in_quotes(name) + " is not supported",
                "use an exec credential plugin (users[].user.exec) instead");
  }
  struct Pair {
    const char* file_key;
    const char* data_key;
    std::string* file_out;
    std::string* pem_out;
  };
  for (const Pair& p :
       {Pair{"client-certificate", "client-certificate-data", &rc.tls.client_cert_file,
             &rc.tls.client_cert_pem},
        Pair{"client-key", "client-key-data", &rc.tls.client_key_file, &rc.tls.client_key_pem}}) {
    std::string file = str(u, p.file_key), data = str(u, p.data_key);
    if (!file.empty() && !data.empty()) {
      return fail(e.file, where + ": both " + p.file_key + " and " + p.data_key + " are set",
                  "keep only one of them");
    }
    if (!file.empty()) {
      if (auto why = unreadable_reason(file); !why.empty()) {
        return fail(e.file, where + ": " + p.file_key + " " + file + ": " + why,
                    "relative paths are resolved against the folder of the kubeconfig file");
      }
      *p.file_out = file;
    }
    if (!data.empty()) *p.pem_out = *base64::decode(data);  // validated when parsed
  }
  bool have_cert = !rc.tls.client_cert_file.empty() || !rc.tls.client_cert_pem.empty();
  bool have_key = !rc.tls.client_key_file.empty() || !rc.tls.client_key_pem.empty();
  if (have_cert && !have_key) {
    return fail(e.file, where + ": client-certificate is set without client-key",
                "set client-key or client-key-data for the certificate");
  }
  if (have_key && !have_cert) {
    return fail(e.file, where + ": client-key is set without client-certificate",
                "set client-certificate or client-certificate-data for the key");
  }

  rc.token = str(u, "token");
  if (std::string token_file = str(u, "tokenFile"); !token_file.empty() && rc.token.empty()) {
    auto text = fs::read_file(token_file);
    if (!text) {
      std::string why = unreadable_reason(token_file);
      return fail(e.file, where + ": tokenFile " + token_file + ": " + (why.empty() ? "cannot read" : why),
                  "relative paths are resolved against the folder of the kubeconfig file");
    }
    std::string t = *text;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    t.erase(0, std::min(t.size(), t.find_first_not_of(" \t\r\n")));
    if (t.empty()) return fail(e.file, where + ": tokenFile " + token_file + " is empty");
    rc.token = t;
    rc.token_file = token_file;
  }
  rc.username = str(u, "username");
  rc.password = str(u, "password");

  if (auto it = u.find("exec"); it != u.end() && it->is_object()) {
    const json& x = *it;
    ExecConfig ec;
    ec.api_version = str(x, "apiVersion");
    ec.command = str(x, "command");
    if (auto a = x.find("args"); a != x.end() && a->is_array()) {
      for (const auto& arg : *a) ec.args.push_back(arg.get<std::string>());
    }
    if (auto en = x.find("env"); en != x.end() && en->is_array()) {
      for (const auto& v : *en) ec.env.emplace_back(str(v, "name"), str(v, "value"));
    }
    ec.install_hint = str(x, "installHint");
    ec.provide_cluster_info =
        x.value("provideClusterInfo", json(false)).is_boolean() && x.value("provideClusterInfo", false);
    ec.interactive_mode = str(x, "interactiveMode");
    if (ec.interactive_mode.empty()) ec.interactive_mode = "IfAvailable";
    ec.cluster_config = cluster_exec_config;
    rc.exec = std::move(ec);
  }
  return {};
}

std::string context_hint(const Merged& m) {
  if (m.contexts.empty())
    return "the kubeconfig defines no contexts; add one (kubectl config set-context NAME ...)";
  return "pass --context NAME; available: " + names_of(m.contexts);
}

}  // namespace

Result<nlohmann::json> load_merged(const LoadOptions& opts) {
  auto m = load_all(opts);
  if (!m) return std::move(m).error();
  return to_json(*m);
}

Result<RestConfig> load(const LoadOptions& opts) {
  auto loaded = load_all(opts);
  if (!loaded) return std::move(loaded).error();
  const Merged& m = *loaded;

  std::string name = opts.context.empty() ? m.current_context : opts.context;
  if (name.empty()) {
    return Error(files_label(m.files) + ": no current-context is set", ExitCode::failure, context_hint(m));
  }
  const Entry* ctx = find(m.contexts, name);
  if (!ctx) {
    std::string why = opts.context.empty() ? "current-context " + in_quotes(name) + " is not defined"
                                           : "context " + in_quotes(name) + " is not defined";
    stdfs::path where = opts.context.empty() ? m.current_context_file : stdfs::path();
    return Error((where.empty() ? files_label(m.files) : file_label(where)) + ": " + why, ExitCode::failure,
                 context_hint(m));
  }

  RestConfig rc;
  rc.context_name = ctx->name;
  rc.source = ctx->file;
  rc.cluster_name = str(ctx->body, "cluster");
  rc.user_name = str(ctx->body, "user");
  rc.namespace_ = str(ctx->body, "namespace");
  std::string where = "context " + in_quotes(ctx->name);
  if (rc.cluster_name.empty()) {
    return fail(ctx->file, where + ": cluster is not set", "set contexts[].context.cluster");
  }
  const Entry* cluster = find(m.clusters, rc.cluster_name);
  if (!cluster) {
    return fail(ctx->file,
                where + " refers to cluster " + in_quotes(rc.cluster_name) + ", which is not defined",
                m.clusters.empty() ? "no clusters are defined" : "defined clusters: " + names_of(m.clusters));
  }
  KURATOR_TRY(resolve_cluster(*cluster, rc));
  if (!rc.user_name.empty()) {  // no user: anonymous, as for kubectl
    const Entry* user = find(m.users, rc.user_name);
    if (!user) {
      return fail(ctx->file, where + " refers to user " + in_quotes(rc.user_name) + ", which is not defined",
                  m.users.empty() ? "no users are defined" : "defined users: " + names_of(m.users));
    }
    KURATOR_TRY(resolve_user(*user, rc, cluster->exec_extension));
  }
  spdlog::debug("kubeconfig: context {} (cluster {}, user {}) from {}", rc.context_name, rc.cluster_name,
                rc.user_name.empty() ? "<none>" : rc.user_name, rc.source.string());
  return rc;
}

std::string render(const SimpleKubeconfig& k) {
  json cluster = {{"server", k.server}};
  if (!k.ca_pem.empty()) cluster["certificate-authority-data"] = base64::encode(k.ca_pem);
  json user = json::object();
  if (!k.client_cert_pem.empty()) user["client-certificate-data"] = base64::encode(k.client_cert_pem);
  if (!k.client_key_pem.empty()) user["client-key-data"] = base64::encode(k.client_key_pem);
  if (!k.token.empty()) user["token"] = k.token;
  json doc = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters", json::array({{{"name", k.name}, {"cluster", cluster}}})},
      {"users", json::array({{{"name", k.name}, {"user", user}}})},
      {"contexts", json::array({{{"name", k.name}, {"context", {{"cluster", k.name}, {"user", k.name}}}}})},
      {"current-context", k.name},
  };
  return yaml::dump(doc);
}

}  // namespace kurator::kubeconfig
