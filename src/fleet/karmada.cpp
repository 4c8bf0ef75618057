// Karmada membership natively over REST (karmadactl join/unjoin v1.18.2 semantics), member clients
// from Cluster objects, and the list of joined members.
#include <kurator/fleet/karmada.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace kurator::fleet::karmada {
namespace {

constexpr const char* kClusterApi = "cluster.karmada.io/v1alpha1";

std::string str_at(const json& j, const char* pointer) {
  auto p = json::json_pointer(pointer);
  if (!j.contains(p) || !j.at(p).is_string()) return {};
  return j.at(p).get<std::string>();
}

// The Ready condition of a Cluster (status, reason, message); status "Unknown" when absent.
struct Condition {
  std::string status = "Unknown", reason, message;
};
Condition ready_condition(const json& cluster) {
  Condition c;
  auto p = json::json_pointer("/status/conditions");
  if (!cluster.contains(p) || !cluster.at(p).is_array()) return c;
  for (const auto& cond : cluster.at(p)) {
    if (cond.value("type", "") != "Ready") continue;
    c.status = cond.value("status", "Unknown");
    c.reason = cond.value("reason", "");
    c.message = cond.value("message", "");
  }
  return c;
}

// Adds "Karmada at URL" to errors of calls to the Karmada apiserver.
Error karmada_error(const kube::Client& karmada, Error e) {
  if (e.hint.empty() && e.message.find("no kind \"Cluster\"") != std::string::npos)
    e.hint = "the Karmada aggregated apiserver (which serves cluster.karmada.io) is not answering; check "
             "`kurator get clusters` or reinstall with `kurator install karmada`";
  return e.context("Karmada at " + karmada.config().server);
}

}  // namespace

std::filesystem::path default_kubeconfig(const std::filesystem::path& home) {
  return home / "karmada" / "karmada-apiserver.config";
}

Result<kubeconfig::RestConfig> load_karmada_config(const std::filesystem::path& karmada_kubeconfig) {
  std::error_code ec;
  if (!std::filesystem::exists(karmada_kubeconfig, ec))
    return Error("Karmada is not installed: its kubeconfig " + karmada_kubeconfig.string() + " does not exist",
                 ExitCode::failure,
                 "install it with `kurator install karmada --provider local` (or `kurator install karmada` "
                 "into a cluster), or name its kubeconfig with --karmada-kubeconfig");
  kubeconfig::LoadOptions lo;
  lo.explicit_path = karmada_kubeconfig.string();
  auto cfg = kubeconfig::load(lo);
  if (!cfg) {
    Error e = std::move(cfg).error();
    e.context("reading the Karmada kubeconfig");
    return e;
  }
  return cfg;
}

Result<std::vector<MemberInfo>> list_members(kube::Client& karmada) {
  auto l = karmada.list(kClusterApi, "Cluster");
  if (!l) return karmada_error(karmada, std::move(l).error());
  std::vector<MemberInfo> out;
  for (const auto& item : (*l)["items"]) {
    MemberInfo m;
    m.name = str_at(item, "/metadata/name");
    m.id = str_at(item, "/spec/id");
    m.api_endpoint = str_at(item, "/spec/apiEndpoint");
    m.sync_mode = str_at(item, "/spec/syncMode");
    m.kubernetes_version = str_at(item, "/status/kubernetesVersion");
    auto c = ready_condition(item);
    m.ready = c.status;
    if (c.status == "True") m.reason = c.reason;
    else if (c.reason.empty() && c.message.empty()) m.reason = "no Ready condition yet";
    else m.reason = c.message.empty() ? c.reason : (c.reason.empty() ? c.message : c.reason + ": " + c.message);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const MemberInfo& a, const MemberInfo& b) { return a.name < b.name; });
  return out;
}

Result<kubeconfig::RestConfig> member_config(kube::Client& karmada, const std::string& name) {
  auto cluster = karmada.get(kClusterApi, "Cluster", "", name);
  if (!cluster) {
    if (cluster.error().http_status == 404) {
      std::string known;
      if (auto members = list_members(karmada); members)
        for (const auto& m : *members) known += (known.empty() ? "" : ", ") + m.name;
      return Error("member cluster \"" + name + "\" is not joined to Karmada at " + karmada.config().server,
                   ExitCode::failure,
                   known.empty() ? "no clusters are joined; join one with `kurator join karmada NAME "
                                   "--cluster-kubeconfig FILE`"
                                 : "joined clusters: " + known);
    }
    return karmada_error(karmada, std::move(cluster).error());
  }
  const json& c = *cluster;
  kubeconfig::RestConfig rc;
  rc.context_name = rc.cluster_name = rc.user_name = name;
  rc.server = str_at(c, "/spec/apiEndpoint");
  if (rc.server.empty())
    return Error("Cluster \"" + name + "\" in Karmada has no spec.apiEndpoint", ExitCode::failure,
                 "re-join it: `kurator unjoin karmada " + name + "`, then `kurator join karmada " + name + " ...`");
  rc.proxy_url = str_at(c, "/spec/proxyURL");
  if (c.contains(json::json_pointer("/spec/insecureSkipTLSVerification")))
    rc.tls.insecure_skip_verify = c.at(json::json_pointer("/spec/insecureSkipTLSVerification")).get<bool>();
  std::string sns = str_at(c, "/spec/secretRef/namespace"), sname = str_at(c, "/spec/secretRef/name");
  if (sname.empty())
    return Error("Cluster \"" + name + "\" in Karmada has no spec.secretRef (a Pull-mode cluster?)",
                 ExitCode::failure, "kurator reaches Push-mode members only, through their secret");
  auto secret = karmada.get("v1", "Secret", sns, sname);
  if (!secret) {
    Error e = std::move(secret).error();
    e.context("the credentials of member \"" + name + "\"");
    return e;
  }
  auto field = [&](const char* key) -> Result<std::string> {
    auto p = json::json_pointer(std::string("/data/") + key);
    if (!secret->contains(p)) return std::string();
    auto v = base64::decode(secret->at(p).get<std::string>());
    if (!v)
      return Error("Secret " + sns + "/" + sname + ": data." + key + " is not valid base64", ExitCode::failure);
    return *v;
  };
  auto token = field("token");
  if (!token) return token.error();
  auto ca = field("caBundle");
  if (!ca) return ca.error();
  if (token->empty())
    return Error("Secret " + sns + "/" + sname + " of member \"" + name + "\" has no token", ExitCode::failure,
                 "re-join it with `kurator join karmada " + name + " --cluster-kubeconfig FILE`");
  rc.token = std::move(*token);
  rc.tls.ca_pem = std::move(*ca);
  return rc;
}

Result<JoinResult> join(kube::Client& karmada, const JoinOptions& opts) {
  (void)karmada;
  (void)opts;
  return Error("join karmada: not implemented yet");
}

Status unjoin(kube::Client& karmada, const UnjoinOptions& opts) {
  (void)karmada;
  (void)opts;
  return Error("unjoin karmada: not implemented yet");
}

}  // namespace kurator::fleet::karmada
