// kubeconfig loading the way kubectl does it, resolved into what the REST client needs.
#pragma once
#include <kurator/core/http.hpp>
#include <kurator/core/process.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kurator::kubeconfig {

struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never | IfAvailable | Always
  // The cluster's `client.authentication.k8s.io/exec` extension, sent as spec.cluster.config when
  // provideClusterInfo is set (null when absent).
  nlohmann::json cluster_config;
};

// Everything needed to talk to one cluster as one user.
struct RestConfig {
  std::string server;            // https://host:port[/path]
  std::string context_name;
  std::string cluster_name;
  std::string user_name;
  std::string namespace_;        // context namespace, "" if unset
  http::TlsConfig tls;
  std::string proxy_url;
  std::string token;             // static token (token or tokenFile read at load time)
  std::string token_file;        // re-read on each credential request when set
  std::string username, password;  // basic auth (legacy)
  std::optional<ExecConfig> exec;
  std::filesystem::path source;  // the kubeconfig file the context came from (first file for merged)
};

struct LoadOptions {
  std::string explicit_path;  // --kubeconfig; wins over KUBECONFIG
  std::string context;        // --context; empty: current-context
  // Overrides for tests; empty means read the real environment / home.
  std::optional<std::string> kubeconfig_env;
  std::optional<std::filesystem::path> home;
};

// The merged kubeconfig as kubectl builds it: KUBECONFIG files merged in order, first file to set a
// map entry (cluster/user/context by name) or current-context wins; relative paths resolved against
// the file that holds them.
Result<nlohmann::json> load_merged(const LoadOptions& opts);
// Loads, merges and resolves one context into a RestConfig. Errors name the file and the field,
// e.g. "kubeconfig /x/config: context \"dev\": cluster \"c1\" not found".
Result<RestConfig> load(const LoadOptions& opts);

// Produces the bearer token for requests: static token, token file, or an exec credential plugin
// (run through the process runner, cached until expirationTimestamp). Thread-safe.
class CredentialProvider {
 public:
  explicit CredentialProvider(RestConfig cfg, process::Runner* runner = nullptr);
  // The Authorization header value ("Bearer …"), or empty when the config has none. An exec plugin
  // may also return a client certificate; it is then put into `tls`.
  Result<std::string> authorization(http::TlsConfig& tls);
  // Forget a cached exec credential (after a 401).
  void invalidate();

 private:
  RestConfig m_cfg;
  process::Runner* m_runner;
  std::mutex m_mu;
  std::string m_cached_token;
  std::string m_cached_cert_pem, m_cached_key_pem;
  std::optional<std::chrono::system_clock::time_point> m_expiry;
  bool m_have_cached = false;
};

// Writes a kubeconfig with one cluster/user/context (0600, atomically). Used by `create cluster`
// and `get kubeconfig`.
struct SimpleKubeconfig {
  std::string name;  // used for cluster, user and context names
  std::string server;
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;
};
std::string render(const SimpleKubeconfig& k);

}  // namespace kurator::kubeconfig
