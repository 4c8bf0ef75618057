// User config (mirror rules), URL rewriting, proxy environment and hashing helpers.
#include <kurator/core/artifacts.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <openssl/evp.h>

#include <fstream>

namespace kurator::artifacts {

Result<UserConfig> load_user_config(const stdfs::path& home) {
  UserConfig cfg;
  stdfs::path file = home / "config.yaml";
  std::error_code ec;
  if (home.empty() || !stdfs::exists(file, ec)) return cfg;
  auto text = fs::read_file(file);
  if (!text) return Error("reading config " + text.error().message);
  auto doc = yaml::parse_one(*text, file.string());
  if (!doc) return doc.error();
  if (doc->is_null()) return cfg;
  if (!doc->is_object()) return Error(file.string() + ": must be a mapping");
  auto it = doc->find("mirrors");
  if (it == doc->end() || it->is_null()) return cfg;
  if (!it->is_array()) return Error(file.string() + ": mirrors: must be a list of {from, to}");
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& m = (*it)[i];
    std::string where = file.string() + ": mirrors[" + std::to_string(i) + "]";
    if (!m.is_object()) return Error(where + ": must be a mapping with from and to");
    MirrorRule r;
    for (auto [key, out] : {std::pair{"from", &r.from}, {"to", &r.to}}) {
      auto f = m.find(key);
      if (f == m.end() || !f->is_string() || f->get<std::string>().empty())
        return Error(where + "." + key + ": missing (a URL prefix)");
      *out = f->get<std::string>();
    }
    for (const auto& [k, v] : m.items())
      if (k != "from" && k != "to") return Error(where + "." + k + ": unknown field");
    cfg.mirrors.push_back(std::move(r));
  }
  return cfg;
}

std::string rewrite_url(const std::string& url, const std::vector<MirrorRule>& rules,
                        const std::string& mirror) {
  for (const auto& r : rules)
    if (url.rfind(r.from, 0) == 0) return r.to + url.substr(r.from.size());
  if (mirror.empty() || url.rfind("file://", 0) == 0) return url;
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  std::string rest = url.substr(scheme + 3);  // host/path
  std::string base = mirror;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + rest;
}

std::map<std::string, std::string> proxy_env() {
  std::map<std::string, std::string> out;
  for (const char* name : {"https_proxy", "http_proxy", "no_proxy", "all_proxy"}) {
    std::string lower = name, upper;
    for (char c : lower) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string v = fs::env(upper.c_str());
    if (v.empty()) v = fs::env(lower.c_str());
    if (v.empty()) continue;
    out[upper] = v;
    out[lower] = v;
  }
  return out;
}

Result<Options> default_options(const stdfs::path& home) {
  Options o;
  o.home = home;
  o.mirror = fs::env("KURATOR_MIRROR");
  auto cfg = load_user_config(home);
  if (!cfg) return cfg.error();
  o.rules = cfg->mirrors;
  o.download.ca_file = fs::env("KURATOR_CA_FILE");
  return o;
}

Result<Store> open_store(const stdfs::path& home, const StoreFlags& flags) {
  auto catalog = load_catalog(home, flags.catalogs);
  if (!catalog) return catalog.error();
  auto opts = default_options(home);
  if (!opts) return opts.error();
  if (!flags.mirror.empty()) opts->mirror = flags.mirror;
  if (!flags.ca_file.empty()) opts->download.ca_file = flags.ca_file;
  opts->sha256_override = flags.sha256;
  opts->allow_unverified = flags.allow_unverified;
  opts->offline = flags.offline;
  return Store(std::move(*catalog), std::move(*opts));
}

// ---- hashing -----------------------------------------------------------------------------------

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
  reset();
}
Sha256::~Sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(m_ctx));
}
void Sha256::reset() {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(m_ctx), EVP_sha256(), nullptr);
}
void Sha256::update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(m_ctx), data.data(), data.size());
}
std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(m_ctx), md, &len);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  reset();
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

Result<std::string> sha256_file(const stdfs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(file.string() + ": cannot open for hashing");
  Sha256 h;
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) h.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return Error(file.string() + ": read error while hashing");
  return h.hex();
}

bool is_sha256(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace kurator::artifacts
