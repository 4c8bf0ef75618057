// CredentialProvider: static token, token file, basic auth, and exec credential plugins
// (client.authentication.k8s.io/v1 and v1beta1 ExecCredential).
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>

#include <unistd.h>

#include <regex>
#include <sstream>

namespace kurator::kubeconfig {
namespace {
namespace stdfs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::system_clock;

// How long a plugin may run. Plugins that talk to cloud APIs can be slow, but never this slow.
constexpr std::chrono::minutes kPluginTimeout{5};

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// The last few lines of a plugin's stderr as one line (redacted: plugins sometimes echo secrets).
std::string stderr_tail(const std::string& err) {
  std::vector<std::string> lines;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (!line.empty()) lines.push_back(line);
  }
  std::string out;
  size_t first = lines.size() > 3 ? lines.size() - 3 : 0;
  for (size_t i = first; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i];
  }
  if (out.size() > 400) out = "..." + out.substr(out.size() - 400);
  return log::redact(out);
}

// One line from a (possibly multi-line) installHint.
std::string one_line(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : trim(s)) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// True when `command` names an executable: a path, or a name found in PATH.
bool command_exists(const std::string& command, const std::string& path_env) {
  if (command.find('/') != std::string::npos) return ::access(command.c_str(), X_OK) == 0;
  std::string path = path_env.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_env;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = end > start ? path.substr(start, end - start) : ".";
    if (::access((stdfs::path(dir) / command).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// RFC 3339 ("2024-05-01T10:00:00Z", "2024-05-01T12:00:00.5+02:00") to a time point; nullopt when malformed.
std::optional<Clock::time_point> parse_rfc3339(const std::string& s) {
  static const std::regex re(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  auto num = [&](int i) { return std::stoi(m[i].str()); };
  std::chrono::year_month_day ymd{std::chrono::year(num(1)), std::chrono::month(num(2)),
                                  std::chrono::day(num(3))};
  int hh = num(4), mm = num(5), ss = num(6);
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  // Seconds first: system_clock counts nanoseconds, which cannot hold dates after 2262.
  std::chrono::sys_seconds secs = std::chrono::sys_days(ymd) + std::chrono::hours(hh) +
                                  std::chrono::minutes(mm) + std::chrono::seconds(ss);
  if (m[9].matched) {
    if (num(10) > 23 || num(11) > 59) return std::nullopt;
    auto offset = std::chrono::hours(num(10)) + std::chrono::minutes(num(11));
    secs += m[9].str() == "+" ? -offset : offset;  // local time minus offset is UTC
  }
  constexpr auto kMax = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count() - 1;
  constexpr auto kMin = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::min()).count() + 1;
  if (secs.time_since_epoch().count() >= kMax) return Clock::time_point::max();
  if (secs.time_since_epoch().count() <= kMin) return Clock::time_point::min();
  Clock::time_point tp = std::chrono::time_point_cast<Clock::duration>(secs);
  if (m[7].matched) {
    std::string frac = m[7].str().substr(1, 6);
    while (frac.size() < 6) frac += '0';
    tp += std::chrono::microseconds(std::stoi(frac));
  }
  return tp;
}

// The ExecCredential request passed in KUBERNETES_EXEC_INFO.
Result<json> exec_info(const RestConfig& cfg) {
  json spec = {{"interactive", false}};
  if (cfg.exec->provide_cluster_info) {
    json cluster = {{"server", cfg.server}};
    if (!cfg.tls.server_name.empty()) cluster["tls-server-name"] = cfg.tls.server_name;
    if (cfg.tls.insecure_skip_verify) cluster["insecure-skip-tls-verify"] = true;
    std::string ca = cfg.tls.ca_pem;
    if (ca.empty() && !cfg.tls.ca_file.empty()) {
      auto text = fs::read_file(cfg.tls.ca_file);
      if (!text)
        return Error("cluster " + ("\"" + cfg.cluster_name + "\"") + ": certificate-authority " +
                     text.error().message);
      ca = *text;
    }
    if (!ca.empty()) cluster["certificate-authority-data"] = base64::encode(ca);
    if (!cfg.proxy_url.empty()) cluster["proxy-url"] = cfg.proxy_url;
    if (!cfg.exec->cluster_config.is_null()) cluster["config"] = cfg.exec->cluster_config;
    spec["cluster"] = std::move(cluster);
  }
  return json{{"apiVersion", cfg.exec->api_version}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}};
}

}  // namespace

CredentialProvider::CredentialProvider(RestConfig cfg, process::Runner* runner)
    : m_cfg(std::move(cfg)), m_runner(runner) {}

void CredentialProvider::invalidate() {
  std::lock_guard<std::mutex> lock(m_mu);
  m_have_cached = false;
  m_cached_token.clear();
  m_cached_cert_pem.clear();
  m_cached_key_pem.clear();
  m_expiry.reset();
}

Result<std::string> CredentialProvider::authorization(http::TlsConfig& tls) {
  std::lock_guard<std::mutex> lock(m_mu);
  const std::string user = "user \"" + m_cfg.user_name + "\"";

  if (m_cfg.exec) {
    const ExecConfig& x = *m_cfg.exec;
    bool fresh = m_have_cached && (!m_expiry || Clock::now() < *m_expiry);
    if (!fresh) {
      const std::string plugin = "exec credential plugin \"" + x.command + "\" (" + user + ")";
      std::string hint = one_line(x.install_hint);
      if (x.interactive_mode == "Always") {
        return Error(
            plugin +
                " needs an interactive terminal (interactiveMode: Always), which kurator does not give it",
            ExitCode::failure,
            "set interactiveMode: Never or IfAvailable, or use a plugin that runs non-interactively");
      }
      auto info = exec_info(m_cfg);
      if (!info) return std::move(info).error().context(plugin);
      process::Spec spec;
      spec.argv.push_back(x.command);
      spec.argv.insert(spec.argv.end(), x.args.begin(), x.args.end());
      for (const auto& [k, v] : x.env) spec.env[k] = v;
      spec.env["KUBERNETES_EXEC_INFO"] = info->dump();
      spec.timeout = kPluginTimeout;
      spec.capture_output = true;  // stdout carries the credential: never logged (no log_prefix)
      spdlog::debug("running {}", plugin);
      process::Runner& runner = m_runner ? *m_runner : process::default_runner();
      auto outcome = runner.run(spec);
      std::string path_env = spec.env.count("PATH") ? spec.env["PATH"] : fs::env("PATH");
      bool missing = (!outcome || outcome->exit_code == 127) && !command_exists(x.command, path_env);
      if (missing) {
        return Error(plugin + " was not found" + (x.command.find('/') == std::string::npos ? " in PATH" : ""),
                     ExitCode::failure,
                     hint.empty() ? "install the plugin or fix users[].user.exec.command" : hint);
      }
      if (!outcome) {
        return Error(plugin + " could not be started: " + outcome.error().message, ExitCode::failure, hint);
      }
      const process::Outcome& o = *outcome;
      if (!o.success()) {
        std::string why;
        if (o.timed_out)
          why = "timed out";
        else if (o.interrupted)
          why = "was interrupted";
        else if (o.term_signal != 0)
          why = "was killed by signal " + std::to_string(o.term_signal);
        else
          why = "exited with code " + std::to_string(o.exit_code);
        std::string tail = stderr_tail(o.err);
        return Error(plugin + " " + why + (tail.empty() ? "" : ": " + tail), ExitCode::failure,
                     "run the plugin by hand to see what it needs (login, network, permissions)");
      }
      json cred;
      try {
        cred = json::parse(o.out);
      } catch (const json::parse_error& e) {
        // The parser's message quotes the output, which may hold a secret: report only where it broke.
        return Error(plugin + " printed output that is not valid JSON (at byte " + std::to_string(e.byte) +
                         " of " + std::to_string(o.out.size()) + ")",
                     ExitCode::failure, "the plugin must print an ExecCredential object on stdout");
      }
      if (!cred.is_object()) {
        return Error(plugin + " printed JSON that is not an ExecCredential object", ExitCode::failure,
                     "the plugin must print an ExecCredential object on stdout");
      }
      std::string api =
          cred.value("apiVersion", json()).is_string() ? cred["apiVersion"].get<std::string>() : "";
      std::string kind = cred.value("kind", json()).is_string() ? cred["kind"].get<std::string>() : "";
      if (api != x.api_version) {
        return Error(plugin + " returned apiVersion \"" + api + "\", expected \"" + x.api_version + "\"",
                     ExitCode::failure, "set users[].user.exec.apiVersion to the version the plugin speaks");
      }
      if (kind != "ExecCredential") {
        return Error(plugin + " returned kind \"" + kind + "\", expected \"ExecCredential\"",
                     ExitCode::failure);
      }
      const json status = cred.value("status", json());
      if (!status.is_object())
        return Error(plugin + " returned an ExecCredential without status", ExitCode::failure);
      auto field = [&](const char* key) -> Result<std::string> {
        auto it = status.find(key);
        if (it == status.end() || it->is_null()) return std::string();
        if (!it->is_string()) return Error(plugin + " returned status." + key + " that is not a string");
        return it->get<std::string>();
      };
      auto token = field("token");
      auto cert = field("clientCertificateData");
      auto key = field("clientKeyData");
      auto expiry_text = field("expirationTimestamp");
      for (auto* r : {&token, &cert, &key, &expiry_text}) {
        if (!*r) return r->error();
      }
      if (cert->empty() != key->empty()) {
        return Error(plugin + " returned " +
                         (cert->empty() ? "clientKeyData without clientCertificateData"
                                        : "clientCertificateData without clientKeyData"),
                     ExitCode::failure);
      }
      if (token->empty() && cert->empty()) {
        return Error(plugin + " returned neither status.token nor status.clientCertificateData",
                     ExitCode::failure);
      }
      std::optional<Clock::time_point> expiry;
      if (!expiry_text->empty()) {
        expiry = parse_rfc3339(*expiry_text);
        if (!expiry) {
          return Error(
              plugin + " returned status.expirationTimestamp \"" + *expiry_text + "\", which is not RFC 3339",
              ExitCode::failure);
        }
      }
      m_cached_token = *token;
      m_cached_cert_pem = *cert;
      m_cached_key_pem = *key;
      m_expiry = expiry;
      m_have_cached = true;
    }
    if (!m_cached_cert_pem.empty()) {
      tls.client_cert_pem = m_cached_cert_pem;
      tls.client_key_pem = m_cached_key_pem;
      tls.client_cert_file.clear();
      tls.client_key_file.clear();
    }
    return m_cached_token.empty() ? std::string() : "Bearer " + m_cached_token;
  }

  if (!m_cfg.token_file.empty()) {
    auto text = fs::read_file(m_cfg.token_file);
    if (!text) return Error(user + ": tokenFile " + text.error().message, ExitCode::failure);
    std::string t = trim(*text);
    if (t.empty()) return Error(user + ": tokenFile " + m_cfg.token_file + " is empty", ExitCode::failure);
    return "Bearer " + t;
  }
  if (!m_cfg.token.empty()) return "Bearer " + m_cfg.token;
  if (!m_cfg.username.empty() || !m_cfg.password.empty()) {
    return "Basic " + base64::encode(m_cfg.username + ":" + m_cfg.password);
  }
  return std::string();
}

}  // namespace kurator::kubeconfig
