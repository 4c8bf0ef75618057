// The vms provider's machine-free parts: config checks, KubeSpray inventory and group vars, the
// ansible-playbook command lines, and the JSON-lines progress parser.
#include <kurator/core/artifacts.hpp>
#include <kurator/providers/vms.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/ipv4.hpp>
#include <kurator/util/yaml.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <regex>
#include <set>

namespace kurator::providers::vms {
namespace {

const char* const kTopFields[] = {"apiVersion", "kind",       "hosts",       "kubernetesVersion",
                                  "cni",        "podCIDR",    "serviceCIDR", "kubesprayVersion",
                                  "extraVars",  "apiEndpoint"};
const char* const kHostFields[] = {"name", "address", "internalIP", "roles", "user", "port", "keyFile"};

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string in_quotes(const std::string& s) {
  return "\"" + s + "\"";
}

// "v1.35.4" -> "1.35.4"
std::string without_v(const std::string& v) {
  return !v.empty() && v[0] == 'v' ? v.substr(1) : v;
}

using net::Cidr;
using net::ipv4_text;
using net::parse_ipv4;

bool dns_name(const std::string& s, bool lower_only) {
  static const std::regex lower(
      R"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*)");
  static const std::regex any(
      R"([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*)");
  return s.size() <= 253 && std::regex_match(s, lower_only ? lower : any);
}

bool ipv6(const std::string& s) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// A host to connect to: IPv4, IPv6 or a DNS name (not an all-numeric one: that is a broken IPv4).
bool host_address(const std::string& s) {
  if (parse_ipv4(s)) return true;
  if (ipv6(s)) return true;
  static const std::regex numeric(R"([0-9.]+)");
  return dns_name(s, false) && !std::regex_match(s, numeric);
}

// Reads one config file's fields, naming the file in every error.
class Checker {
 public:
  explicit Checker(const stdfs::path& source) : m_label(source.string()) {}
  Error fail(const std::string& field, const std::string& what, std::string hint = {}) const {
    return Error(m_label + ": " + (field.empty() ? "" : field + ": ") + what, ExitCode::failure,
                 std::move(hint));
  }
  // A string field; nullopt when absent or null. A non-string value is an error.
  Result<std::optional<std::string>> str(const json& obj, const char* key, const std::string& field) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string())
      return fail(field, "must be a string (got " + it->dump() + ")",
                  "quote the value: " + std::string(key) + ": \"...\"");
    return std::optional<std::string>(it->get<std::string>());
  }
  Result<std::string> required(const json& obj, const char* key, const std::string& field,
                               const std::string& hint) const {
    auto s = str(obj, key, field);
    if (!s) return s.error();
    if (!*s || (*s)->empty()) return fail(field, "is missing", hint);
    return **s;
  }

 private:
  std::string m_label;
};

const std::string kStartHint = "start from the sample: kurator create cluster --provider vms --print-config";

Result<Cidr> parse_cidr(const Checker& c, const std::string& field, const std::string& text) {
  auto slash = text.find('/');
  static const std::regex prefix_re(R"((0|[1-9][0-9]?))");
  std::optional<uint32_t> ip;
  if (slash != std::string::npos) ip = parse_ipv4(text.substr(0, slash));
  std::string prefix = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (!ip || !std::regex_match(prefix, prefix_re) || std::stoi(prefix) > 32)
    return c.fail(field, in_quotes(text) + " is not an IPv4 network (a.b.c.d/n)",
                  "e.g. " + std::string(field == "podCIDR" ? kDefaultPodCidr : kDefaultServiceCidr) +
                      " (KubeSpray's default)");
  Cidr out{*ip, std::stoi(prefix)};
  if ((out.base & out.mask()) != out.base)
    return c.fail(field, text + " has host bits set",
                  "did you mean " + ipv4_text(out.base & out.mask()) + "/" + prefix + "?");
  if (out.prefix < 8 || out.prefix > 28)
    return c.fail(field, text + ": the prefix must be between /8 and /28",
                  "e.g. " + std::string(field == "podCIDR" ? kDefaultPodCidr : kDefaultServiceCidr));
  return out;
}

// Absolute key path: "~/" is the user's home, relative paths are relative to the config's folder.
stdfs::path resolve_key_path(const std::string& text, const stdfs::path& source) {
  stdfs::path p;
  if (text == "~" || text.rfind("~/", 0) == 0)
    p = fs::user_home() / text.substr(text.size() > 1 ? 2 : 1);
  else
    p = text;
  if (p.is_relative()) {
    std::error_code ec;
    auto dir = stdfs::absolute(source, ec).parent_path();
    p = dir / p;
  }
  return p.lexically_normal();
}

// Empty when `path` is a readable private key; else why not, and a hint. Never reads more than 1 MiB
// and never puts the key's content in a message.
std::pair<std::string, std::string> key_problem(const stdfs::path& path) {
  const std::string key_hint = "give the SSH private key ansible should log in with (a file you can read)";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {path.string() + ": " + std::strerror(errno), key_hint};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return {path.string() + " is a directory", key_hint};
  }
  std::string head(1 << 20, '\0');
  ssize_t n = ::read(fd, head.data(), head.size());
  ::close(fd);
  if (n < 0) return {path.string() + ": " + std::strerror(errno), key_hint};
  head.resize(static_cast<size_t>(n));
  if (head.find("PRIVATE KEY-----") != std::string::npos) return {};
  if (head.rfind("ssh-", 0) == 0 || head.rfind("ecdsa-", 0) == 0 || head.rfind("sk-", 0) == 0)
    return {path.string() + " is a public key", "point keyFile at the private key (the file without .pub)"};
  return {path.string() + " does not hold a private key (no PRIVATE KEY header)", key_hint};
}

// "https://host:port" from "host", "host:port" or "https://host[:port]"; empty when malformed.
std::pair<std::string, std::string> normalize_endpoint(const std::string& text) {
  std::string rest = text;
  if (rest.rfind("https://", 0) == 0)
    rest = rest.substr(8);
  else if (rest.find("://") != std::string::npos)
    return {};
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  std::string host = rest;
  int port = kDefaultApiPort;
  auto colon = rest.rfind(':');
  if (colon != std::string::npos) {
    host = rest.substr(0, colon);
    std::string p = rest.substr(colon + 1);
    static const std::regex port_re(R"([1-9][0-9]{0,4})");
    if (!std::regex_match(p, port_re) || std::stoi(p) > 65535) return {};
    port = std::stoi(p);
  }
  if (!parse_ipv4(host) && !(dns_name(host, false) && !std::regex_match(host, std::regex("[0-9.]+"))))
    return {};
  return {"https://" + host + ":" + std::to_string(port), host};
}

// Ansible reads YAML 1.1 (PyYAML): besides what the 1.2 core schema types, yes/no/on/off/y/n are
// booleans and 010 is octal. A string stays plain only when it cannot read as anything but a string.
bool plain_for_ansible(const std::string& s) {
  static const std::regex safe(R"([A-Za-z_/][A-Za-z0-9_./+-]*)");
  if (!std::regex_match(s, safe)) return false;
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  static const std::set<std::string> words = {"y", "yes", "n", "no", "true", "false", "on", "off", "null"};
  return !words.count(lower);
}

std::string shell_word(const std::string& s) {
  static const std::regex safe(R"([A-Za-z0-9_./:=,@%+-]+)");
  if (std::regex_match(s, safe)) return s;
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'')
      out += "'\\''";
    else
      out += ch;
  }
  return out + "'";
}

}  // namespace

const std::vector<std::string>& supported_kubernetes_versions() {
  // kubespray-2.31.0/roles/kubespray_defaults/vars/main/checksums.yml: the keys of kubeadm_checksums,
  // kubelet_checksums and kubectl_checksums (the same for amd64 and arm64). tests/unit/providers/vms_test.cpp
  // checks this table against the release tarball in the fixtures.
  static const std::vector<std::string> v = {
      "v1.33.0", "v1.33.1",  "v1.33.2",  "v1.33.3", "v1.33.4", "v1.33.5", "v1.33.6", "v1.33.7", "v1.33.8",
      "v1.33.9", "v1.33.10", "v1.33.11", "v1.34.0", "v1.34.1", "v1.34.2", "v1.34.3", "v1.34.4", "v1.34.5",
      "v1.34.6", "v1.34.7",  "v1.35.0",  "v1.35.1", "v1.35.2", "v1.35.3", "v1.35.4"};
  return v;
}

const std::vector<std::string>& network_plugins() {
  // kubespray-2.31.0/roles/validate_inventory/tasks/main.yml, "Stop if unsupported options selected".
  static const std::vector<std::string> v = {"calico",   "flannel",     "cloud",   "cilium",     "cni",
                                             "kube-ovn", "kube-router", "macvlan", "custom_cni", "none"};
  return v;
}

const std::map<std::string, std::string>& managed_variables() {
  static const std::map<std::string, std::string> m = {
      {"kube_version", "set kubernetesVersion instead"},
      {"kube_network_plugin", "set cni instead"},
      {"kube_pods_subnet", "set podCIDR instead"},
      {"kube_service_addresses", "set serviceCIDR instead"},
      {"kubeconfig_localhost",
       "kurator always sets it to true: it reads admin.conf from the artifacts folder"},
      {"artifacts_dir",
       "kurator keeps the artifacts in the cluster's folder ($KURATOR_HOME/clusters/NAME/artifacts)"},
  };
  return m;
}

std::string to_string(Role role) {
  switch (role) {
    case Role::control_plane:
      return "control-plane";
    case Role::etcd:
      return "etcd";
    case Role::worker:
      return "worker";
  }
  return "?";
}

bool Host::has(Role r) const {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

std::vector<const Host*> VmsConfig::with_role(Role r) const {
  std::vector<const Host*> out;
  for (const auto& h : hosts)
    if (h.has(r)) out.push_back(&h);
  return out;
}

Result<VmsConfig> load_config(const stdfs::path& path) {
  auto text = fs::read_file(path);
  if (!text)
    return Error(text.error().message, ExitCode::failure,
                 "write one with: kurator create cluster --provider vms --print-config > " + path.string());
  return parse_config(*text, path);
}

Result<VmsConfig> parse_config(std::string_view text, const stdfs::path& source) {
  Checker c(source);
  auto doc = yaml::parse_one(text, source.string());
  if (!doc) {
    auto e = doc.error();
    e.hint = kStartHint;
    return e;
  }
  const json& root = *doc;
  if (!root.is_object()) return c.fail("", "not a VmsCluster config (expected a mapping)", kStartHint);
  for (auto it = root.begin(); it != root.end(); ++it)
    if (std::find_if(std::begin(kTopFields), std::end(kTopFields),
                     [&](const char* f) { return it.key() == f; }) == std::end(kTopFields))
      return c.fail("", "unknown field " + in_quotes(it.key()),
                    "the fields are " +
                        join(std::vector<std::string>(std::begin(kTopFields), std::end(kTopFields)), ", "));

  VmsConfig cfg;
  cfg.source = source;
  auto api = c.required(root, "apiVersion", "apiVersion", "set apiVersion: " + std::string(kApiVersion));
  if (!api) return api.error();
  if (*api != kApiVersion)
    return c.fail("apiVersion", in_quotes(*api) + " is not supported",
                  "use apiVersion: " + std::string(kApiVersion));
  auto kind = c.required(root, "kind", "kind", "set kind: " + std::string(kKind));
  if (!kind) return kind.error();
  if (*kind != kKind)
    return c.fail("kind", in_quotes(*kind) + " is not " + std::string(kKind),
                  "use kind: " + std::string(kKind));

  // hosts
  auto hosts_it = root.find("hosts");
  if (hosts_it == root.end() || hosts_it->is_null())
    return c.fail("hosts", "is missing",
                  "list the machines: hosts: [{name, address, roles, user, keyFile}, ...]");
  if (!hosts_it->is_array() || hosts_it->empty())
    return c.fail("hosts", "must be a non-empty list of hosts",
                  "list the machines: hosts: [{name, address, roles, user, keyFile}, ...]");
  std::map<std::string, std::string> names, addresses, internal_ips;  // value -> the host that has it
  const std::string field_list =
      join(std::vector<std::string>(std::begin(kHostFields), std::end(kHostFields)), ", ");
  for (size_t i = 0; i < hosts_it->size(); ++i) {
    const json& hj = (*hosts_it)[i];
    std::string at = "hosts[" + std::to_string(i) + "]";
    if (!hj.is_object()) return c.fail(at, "must be a mapping", "host fields: " + field_list);
    Host h;
    auto name = c.required(hj, "name", at + ".name", "give every host a name: its node name");
    if (!name) return name.error();
    if (!dns_name(*name, true))
      return c.fail(
          at + ".name", in_quotes(*name) + " is not a valid node name",
          "use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit");
    h.name = *name;
    std::string who = at + " (" + h.name + ")";
    if (auto dup = names.find(h.name); dup != names.end())
      return c.fail(at + ".name", in_quotes(h.name) + " is used by " + dup->second + " too",
                    "host names must be unique (they become node names)");
    names[h.name] = at;
    for (auto it = hj.begin(); it != hj.end(); ++it)
      if (std::find_if(std::begin(kHostFields), std::end(kHostFields),
                       [&](const char* f) { return it.key() == f; }) == std::end(kHostFields))
        return c.fail(who, "unknown field " + in_quotes(it.key()), "host fields: " + field_list);

    auto address = c.required(hj, "address", who + ".address", "the address ansible connects to over SSH");
    if (!address) return address.error();
    if (!host_address(*address))
      return c.fail(who + ".address", in_quotes(*address) + " is not a host name or IP address",
                    "the address ansible connects to over SSH, e.g. 192.0.2.11 or node1.example.com");
    h.address = *address;

    auto internal = c.str(hj, "internalIP", who + ".internalIP");
    if (!internal) return internal.error();
    if (*internal && !(*internal)->empty()) {
      if (!parse_ipv4(**internal))
        return c.fail(
            who + ".internalIP", in_quotes(**internal) + " is not an IPv4 address",
            "the host's address on the cluster network (KubeSpray's ip); leave it out to use the host's "
            "default IPv4 address");
      h.internal_ip = **internal;
      if (auto dup = internal_ips.find(h.internal_ip); dup != internal_ips.end())
        return c.fail(who + ".internalIP", h.internal_ip + " is used by " + dup->second + " too",
                      "every host needs its own address");
      internal_ips[h.internal_ip] = who;
    }

    const std::string role_hint =
        "roles are control-plane, etcd and worker, e.g. roles: [control-plane, etcd, worker]";
    auto roles_it = hj.find("roles");
    if (roles_it == hj.end() || roles_it->is_null()) return c.fail(who + ".roles", "is missing", role_hint);
    if (!roles_it->is_array() || roles_it->empty())
      return c.fail(who + ".roles", "must be a non-empty list", role_hint);
    std::set<Role> roles;
    for (const auto& r : *roles_it) {
      std::string rs = r.is_string() ? r.get<std::string>() : r.dump();
      if (rs == "control-plane")
        roles.insert(Role::control_plane);
      else if (rs == "etcd")
        roles.insert(Role::etcd);
      else if (rs == "worker")
        roles.insert(Role::worker);
      else
        return c.fail(who + ".roles", in_quotes(rs) + " is not a role", role_hint);
    }
    h.roles.assign(roles.begin(), roles.end());

    auto user = c.required(hj, "user", who + ".user", "the SSH user (root, or one with passwordless sudo)");
    if (!user) return user.error();
    h.user = *user;

    if (auto p = hj.find("port"); p != hj.end() && !p->is_null()) {
      if (!p->is_number_integer() || p->get<long long>() < 1 || p->get<long long>() > 65535)
        return c.fail(who + ".port", p->dump() + " is not a TCP port",
                      "the SSH port, 1 to 65535 (default 22)");
      h.port = p->get<int>();
    }
    std::string addr_key = h.address + ":" + std::to_string(h.port);
    if (auto dup = addresses.find(addr_key); dup != addresses.end())
      return c.fail(who + ".address",
                    h.address + (h.port == 22 ? "" : " port " + std::to_string(h.port)) + " is used by " +
                        dup->second + " too",
                    "every host needs its own address");
    addresses[addr_key] = who;

    auto key = c.required(hj, "keyFile", who + ".keyFile",
                          "the SSH private key ansible logs in with, e.g. ~/.ssh/id_ed25519");
    if (!key) return key.error();
    h.key_file = resolve_key_path(*key, source);
    if (auto [why, hint] = key_problem(h.key_file); !why.empty()) return c.fail(who + ".keyFile", why, hint);
    cfg.hosts.push_back(std::move(h));
  }
  auto cp = cfg.with_role(Role::control_plane);
  if (cp.empty())
    return c.fail("hosts", "no host has the role control-plane",
                  "give at least one host roles: [control-plane, etcd]");
  auto etcd = cfg.with_role(Role::etcd);
  const std::string etcd_hint = "give the etcd role to 1, 3 or 5 hosts (KubeSpray refuses an even number)";
  if (etcd.empty()) return c.fail("hosts", "no host has the role etcd", etcd_hint);
  if (etcd.size() % 2 == 0) {
    std::vector<std::string> n;
    for (const auto* h : etcd) n.push_back(h->name);
    return c.fail("hosts",
                  std::to_string(etcd.size()) + " hosts have the role etcd (" + join(n, ", ") +
                      "); etcd needs an odd number",
                  etcd_hint);
  }

  // cluster settings
  auto kv = c.str(root, "kubernetesVersion", "kubernetesVersion");
  if (!kv) return kv.error();
  const auto& versions = supported_kubernetes_versions();
  const std::string versions_hint = "KubeSpray " + std::string(kKubesprayVersion) + " installs " +
                                    versions.front() + " to " + versions.back() + " (default " +
                                    std::string(kDefaultKubernetesVersion) + ")";
  if (*kv && !(*kv)->empty()) {
    static const std::regex ver(R"(v?[0-9]+\.[0-9]+\.[0-9]+)");
    if (!std::regex_match(**kv, ver))
      return c.fail("kubernetesVersion", in_quotes(**kv) + " is not a version (vMAJOR.MINOR.PATCH)",
                    versions_hint);
    cfg.kubernetes_version = (**kv)[0] == 'v' ? **kv : "v" + **kv;
    if (std::find(versions.begin(), versions.end(), cfg.kubernetes_version) == versions.end())
      return c.fail(
          "kubernetesVersion",
          cfg.kubernetes_version + " is not supported by KubeSpray " + std::string(kKubesprayVersion),
          versions_hint);
  }
  auto cni = c.str(root, "cni", "cni");
  if (!cni) return cni.error();
  if (*cni && !(*cni)->empty()) {
    cfg.cni = **cni;
    const auto& plugins = network_plugins();
    if (std::find(plugins.begin(), plugins.end(), cfg.cni) == plugins.end())
      return c.fail(
          "cni", in_quotes(**cni) + " is not a network plugin of KubeSpray " + std::string(kKubesprayVersion),
          "use one of " + join(plugins, ", ") + " (default " + std::string(kDefaultCni) + ")");
  }
  auto pod = c.str(root, "podCIDR", "podCIDR");
  if (!pod) return pod.error();
  if (*pod && !(*pod)->empty()) cfg.pod_cidr = **pod;
  auto svc = c.str(root, "serviceCIDR", "serviceCIDR");
  if (!svc) return svc.error();
  if (*svc && !(*svc)->empty()) cfg.service_cidr = **svc;
  auto pod_net = parse_cidr(c, "podCIDR", cfg.pod_cidr);
  if (!pod_net) return pod_net.error();
  auto svc_net = parse_cidr(c, "serviceCIDR", cfg.service_cidr);
  if (!svc_net) return svc_net.error();
  {
    Cidr wider = pod_net->prefix <= svc_net->prefix ? *pod_net : *svc_net;
    const Cidr& other = pod_net->prefix <= svc_net->prefix ? *svc_net : *pod_net;
    if ((other.base & wider.mask()) == wider.base)
      return c.fail("podCIDR", cfg.pod_cidr + " overlaps serviceCIDR " + cfg.service_cidr,
                    "pick ranges that do not overlap, e.g. KubeSpray's defaults " +
                        std::string(kDefaultPodCidr) + " and " + std::string(kDefaultServiceCidr));
  }
  for (const auto& h : cfg.hosts) {
    auto ip = parse_ipv4(h.internal_ip.empty() ? h.address : h.internal_ip);
    if (!ip) continue;
    for (const auto* net : {&*pod_net, &*svc_net})
      if ((*ip & net->mask()) == net->base)
        return c.fail(std::string(net == &*pod_net ? "podCIDR" : "serviceCIDR"),
                      (net == &*pod_net ? cfg.pod_cidr : cfg.service_cidr) + " contains the address " +
                          ipv4_text(*ip) + " of host " + h.name,
                      "pick a range the machines' network does not use");
  }
  auto ksv = c.str(root, "kubesprayVersion", "kubesprayVersion");
  if (!ksv) return ksv.error();
  if (*ksv && !(*ksv)->empty()) {
    std::string v = (**ksv)[0] == 'v' ? **ksv : "v" + **ksv;
    if (v != kKubesprayVersion)
      return c.fail("kubesprayVersion", in_quotes(**ksv) + " is not supported by this kurator",
                    "use " + std::string(kKubesprayVersion) + " (the pinned release)");
    cfg.kubespray_version = v;
  }
  if (auto ep = c.str(root, "apiEndpoint", "apiEndpoint"); !ep) {
    return ep.error();
  } else if (*ep && !(*ep)->empty()) {
    auto [url, host] = normalize_endpoint(**ep);
    if (url.empty())
      return c.fail(
          "apiEndpoint", in_quotes(**ep) + " is not host[:port] or https://host[:port]",
          "the address clients use for the API server (a load balancer or a control-plane host), e.g. "
          "https://192.0.2.10:6443");
    cfg.api_endpoint = url;
  }
  if (auto ev = root.find("extraVars"); ev != root.end() && !ev->is_null()) {
    if (!ev->is_object())
      return c.fail("extraVars", "must be a mapping of KubeSpray variables",
                    "e.g. extraVars: {container_manager: containerd}");
    static const std::regex var_name(R"([A-Za-z_][A-Za-z0-9_]*)");
    for (auto it = ev->begin(); it != ev->end(); ++it) {
      if (!std::regex_match(it.key(), var_name))
        return c.fail("extraVars", in_quotes(it.key()) + " is not an Ansible variable name",
                      "variable names are letters, digits and '_', not starting with a digit");
      if (auto m = managed_variables().find(it.key()); m != managed_variables().end())
        return c.fail("extraVars." + it.key(), "is set by kurator", m->second);
      if (it.key() == "supplementary_addresses_in_ssl_keys" && !it->is_array())
        return c.fail("extraVars." + it.key(), "must be a list of addresses",
                      "e.g. [192.0.2.10, api.example.com]");
    }
    cfg.extra_vars = *ev;
  }
  return cfg;
}

Status check_cluster_name(const std::string& name) {
  static const std::regex label(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?)");
  if (name.size() > 40 || !std::regex_match(name, label))
    return Error("invalid cluster name \"" + name + "\"", ExitCode::usage,
                 "use lower-case letters, digits and '-', at most 40 characters, starting and ending with a "
                 "letter or digit");
  return {};
}

std::string sample_config() {
  const auto& v = supported_kubernetes_versions();
  std::string out;
  out += "# A cluster on your own machines (VMs or bare metal), built by KubeSpray " +
         std::string(kKubesprayVersion) + " over SSH.\n";
  out += "#   kurator create cluster NAME --provider vms -f this-file.yaml --dry-run\n";
  out += "# Fill in your machines' addresses and SSH keys; everything else has working defaults.\n";
  out += "apiVersion: " + std::string(kApiVersion) + "\n";
  out += "kind: " + std::string(kKind) + "\n";
  out += R"(hosts:
  # name:       the node name (lower-case letters, digits, '-', '.')
  # address:    where ansible connects over SSH (IP address or DNS name)
  # internalIP: optional, the host's IPv4 address on the cluster network (KubeSpray's ip and
  #             access_ip); default: the host's default IPv4 address
  # roles:      control-plane, etcd, worker (at least one control-plane; etcd on 1, 3 or 5 hosts)
  # user:       the SSH user: root, or a user with passwordless sudo
  # port:       the SSH port (default 22)
  # keyFile:    the SSH private key (~/ is your home; relative paths are relative to this file)
  - name: node1
    address: 192.0.2.11
    internalIP: 192.0.2.11
    roles: [control-plane, etcd, worker]
    user: root
    port: 22
    keyFile: ~/.ssh/id_ed25519
  - name: node2
    address: 192.0.2.12
    internalIP: 192.0.2.12
    roles: [control-plane, etcd, worker]
    user: root
    keyFile: ~/.ssh/id_ed25519
  - name: node3
    address: 192.0.2.13
    internalIP: 192.0.2.13
    roles: [control-plane, etcd, worker]
    user: root
    keyFile: ~/.ssh/id_ed25519
)";
  out += "# Kubernetes version: KubeSpray " + std::string(kKubesprayVersion) + " installs " + v.front() +
         " to " + v.back() + ".\n";
  out += "kubernetesVersion: " + std::string(kDefaultKubernetesVersion) + "\n";
  out += "# Network plugin (KubeSpray's kube_network_plugin): " + join(network_plugins(), ", ") + ".\n";
  out += "cni: " + std::string(kDefaultCni) + "\n";
  out += "# Pod and Service address ranges (IPv4, must not overlap each other or the machines' network).\n";
  out += "podCIDR: " + std::string(kDefaultPodCidr) + "\n";
  out += "serviceCIDR: " + std::string(kDefaultServiceCidr) + "\n";
  out += "# The KubeSpray release (only " + std::string(kKubesprayVersion) + ", the pinned one).\n";
  out += "kubesprayVersion: " + std::string(kKubesprayVersion) + "\n";
  out += R"(# Optional: the address clients use for the API server (a load balancer, or a control-plane
# host): written into the kubeconfig and added to the API server's certificate.
# apiEndpoint: https://192.0.2.10:6443
# Any other KubeSpray variable, written to the inventory's group_vars/all.yml after kurator's own
# (kube_version, kube_network_plugin, kube_pods_subnet, kube_service_addresses, kubeconfig_localhost
# and artifacts_dir are kurator's: use the fields above).
extraVars:
  container_manager: containerd
)";
  return out;
}

json inventory(const VmsConfig& cfg) {
  json hosts = json::object();
  for (const auto& h : cfg.hosts) {
    json hv = {{"ansible_host", h.address},
               {"ansible_port", h.port},
               {"ansible_user", h.user},
               {"ansible_ssh_private_key_file", h.key_file.string()},
               {"ansible_python_interpreter", "/usr/bin/python3"}};
    if (!h.internal_ip.empty()) {
      hv["ip"] = h.internal_ip;
      hv["access_ip"] = h.internal_ip;
    }
    hosts[h.name] = hv;
  }
  auto group = [&](Role r) {
    json members = json::object();
    for (const auto* h : cfg.with_role(r)) members[h->name] = nullptr;
    return json{{"hosts", members}};
  };
  return {{"all",
           {{"hosts", hosts},
            {"children",
             {{"kube_control_plane", group(Role::control_plane)},
              {"etcd", group(Role::etcd)},
              {"kube_node", group(Role::worker)}}}}}};
}

std::string render_inventory(const VmsConfig& cfg) {
  return "# KubeSpray inventory written by kurator from " + cfg.source.string() + "\n" +
         dump_for_ansible(inventory(cfg));
}

namespace {
// kurator's variables, in the order they are written.
std::vector<std::pair<std::string, json>> kurator_vars(const VmsConfig& cfg, const stdfs::path& cluster_dir) {
  std::vector<std::pair<std::string, json>> v = {
      {"kube_version", without_v(cfg.kubernetes_version)},
      {"kube_network_plugin", cfg.cni},
      {"kube_pods_subnet", cfg.pod_cidr},
      {"kube_service_addresses", cfg.service_cidr},
      {"kubeconfig_localhost", true},
      {"artifacts_dir", ClusterDir(cluster_dir).artifacts().string()},
  };
  return v;
}

json extra_vars_with_endpoint(const VmsConfig& cfg) {
  json extra = cfg.extra_vars.is_object() ? cfg.extra_vars : json::object();
  if (cfg.api_endpoint.empty()) return extra;
  auto host = normalize_endpoint(cfg.api_endpoint).second;
  json& sans = extra["supplementary_addresses_in_ssl_keys"];
  if (!sans.is_array()) sans = json::array();
  if (std::find(sans.begin(), sans.end(), json(host)) == sans.end()) sans.push_back(host);
  return extra;
}
}  // namespace

json group_vars(const VmsConfig& cfg, const stdfs::path& cluster_dir) {
  json out = extra_vars_with_endpoint(cfg);
  for (auto& [k, v] : kurator_vars(cfg, cluster_dir)) out[k] = v;
  return out;
}

std::string render_group_vars(const VmsConfig& cfg, const stdfs::path& cluster_dir) {
  // kurator's keys in their fixed order, one mapping entry at a time.
  std::string text = "# KubeSpray variables written by kurator from " + cfg.source.string() + "\n";
  for (auto& [k, v] : kurator_vars(cfg, cluster_dir)) text += dump_for_ansible(json{{k, v}});
  json extra = extra_vars_with_endpoint(cfg);
  if (!extra.empty()) text += "# extraVars (and apiEndpoint's address)\n" + dump_for_ansible(extra);
  return text;
}

std::string dump_for_ansible(const json& value) {
  return yaml::dump(value, yaml::DumpStyle{plain_for_ansible});
}

Toolchain default_toolchain(const stdfs::path& home, std::string_view kubespray_version) {
  std::string v(kubespray_version);
  stdfs::path root = home / "kubespray" / v;
  return {root / ("kubespray-" + without_v(v)), root / "venv"};
}

std::string control_path_dir(const stdfs::path& wanted) {
  // ansible's control path is DIR/%C (40 hex digits), and ssh binds DIR/%C.<16 random characters> first:
  // a socket path has at most 107 bytes. A deep folder gets a short one under /tmp, named by its hash.
  const std::string dir = wanted.string();
  if (dir.size() + 1 + 40 + 17 <= 107) return dir;
  return "/tmp/kurator-ssh-" + artifacts::sha256_hex(dir).substr(0, 12);
}

PlaybookRun playbook_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, std::string playbook,
                             const PlaybookOptions& o) {
  (void)cfg;
  ClusterDir dir(cluster_dir);
  PlaybookRun run;
  run.cwd = o.toolchain.kubespray_dir;
  run.argv = {(o.toolchain.venv / "bin" / "ansible-playbook").string(), "-i", dir.inventory().string()};
  if (o.become) run.argv.push_back("-b");
  run.argv.push_back(std::move(playbook));
  if (o.check) run.argv.push_back("--check");
  if (!o.tags.empty()) run.argv.insert(run.argv.end(), {"--tags", o.tags});
  if (!o.limit.empty()) run.argv.insert(run.argv.end(), {"--limit", join(o.limit, ",")});
  for (const auto& [k, v] : o.extra_vars) run.argv.insert(run.argv.end(), {"-e", k + "=" + v});
  auto run_dir = dir.run_dir(o.operation.empty() ? "run" : o.operation);
  run.env = {
      {"ANSIBLE_STDOUT_CALLBACK", "ansible.posix.jsonl"},
      {"ANSIBLE_CALLBACKS_ENABLED", ""},
      {"ANSIBLE_CACHE_PLUGIN_CONNECTION", (run_dir / "facts").string()},
      {"ANSIBLE_SSH_CONTROL_PATH_DIR", control_path_dir(run_dir / "ssh")},
      {"ANSIBLE_SSH_ARGS",
       "-o ControlMaster=auto -o ControlPersist=60s -o ConnectionAttempts=1 -o UserKnownHostsFile=/dev/null "
       "-o "
       "StrictHostKeyChecking=no"},
      {"ANSIBLE_TIMEOUT", "10"},
      {"ANSIBLE_HOST_KEY_CHECKING", "False"},
  };
  return run;
}

PlaybookRun preflight_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, PlaybookOptions o) {
  if (o.operation.empty()) o.operation = "preflight";
  o.tags = "always";
  o.check = false;  // --tags always changes nothing by itself
  return playbook_command(cfg, cluster_dir, "cluster.yml", o);
}

PlaybookRun create_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, PlaybookOptions o) {
  if (o.operation.empty()) o.operation = "create";
  return playbook_command(cfg, cluster_dir, "cluster.yml", o);
}

std::vector<PlaybookRun> scale_commands(const VmsConfig& cfg, const stdfs::path& cluster_dir,
                                        const std::vector<std::string>& new_hosts, PlaybookOptions o) {
  if (o.operation.empty()) o.operation = "scale";
  PlaybookOptions facts = o;
  facts.limit.clear();
  facts.extra_vars.clear();
  o.limit = new_hosts;
  return {playbook_command(cfg, cluster_dir, "playbooks/facts.yml", facts),
          playbook_command(cfg, cluster_dir, "scale.yml", o)};
}

PlaybookRun remove_node_command(const VmsConfig& cfg, const stdfs::path& cluster_dir,
                                const std::vector<std::string>& nodes, PlaybookOptions o) {
  if (o.operation.empty()) o.operation = "remove-node";
  o.extra_vars.insert(o.extra_vars.begin(), {{"node", join(nodes, ",")}, {"skip_confirmation", "true"}});
  return playbook_command(cfg, cluster_dir, "remove-node.yml", o);
}

PlaybookRun upgrade_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, const std::string& version,
                            PlaybookOptions o) {
  if (o.operation.empty()) o.operation = "upgrade";
  o.extra_vars.insert(o.extra_vars.begin(), {"kube_version", without_v(version)});
  return playbook_command(cfg, cluster_dir, "upgrade-cluster.yml", o);
}

PlaybookRun reset_command(const VmsConfig& cfg, const stdfs::path& cluster_dir, PlaybookOptions o) {
  if (o.operation.empty()) o.operation = "reset";
  o.extra_vars.insert(o.extra_vars.begin(), {"reset_confirmation", "yes"});
  return playbook_command(cfg, cluster_dir, "reset.yml", o);
}

std::string display(const PlaybookRun& run) {
  std::string out = "cd " + shell_word(run.cwd.string()) + "\n";
  for (const auto& [k, v] : run.env) out += k + "=" + shell_word(v) + " \\\n";
  std::vector<std::string> words;
  for (const auto& a : run.argv) words.push_back(shell_word(a));
  return out + join(words, " ") + "\n";
}

// ---- progress -----------------------------------------------------------------------------------

namespace {
std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return v.dump();
}
std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}
std::string field(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? std::string() : text_of(*it);
}
}  // namespace

void PlaybookProgress::feed(std::string_view line) {
  auto start = line.find('{');
  if (start == std::string_view::npos ||
      line.substr(0, start).find_first_not_of(" \t\r") != std::string_view::npos) {
    ++m_ignored_lines;
    return;
  }
  json ev = json::parse(line.begin() + static_cast<std::ptrdiff_t>(start), line.end(), nullptr, false);
  if (ev.is_discarded() || !ev.is_object() || !ev.contains("_event") || !ev["_event"].is_string()) {
    ++m_ignored_lines;
    return;
  }
  const std::string event = ev["_event"].get<std::string>();
  if (event == "v2_playbook_on_play_start") {
    ++m_plays;
    m_play = ev.contains("play") && ev["play"].is_object() ? field(ev["play"], "name") : "";
    m_task.clear();
  } else if (event == "v2_playbook_on_task_start" || event == "v2_playbook_on_handler_task_start" ||
             event == "v2_runner_on_start") {
    ++m_tasks;
    m_task = ev.contains("task") && ev["task"].is_object() ? field(ev["task"], "name") : "";
  } else if (event.rfind("v2_runner_on_", 0) == 0) {
    on_result(ev, event.substr(std::strlen("v2_runner_on_")));
  } else if (event == "v2_playbook_on_stats") {
    const json stats = ev.value("stats", json::object());
    if (!stats.is_object()) return;
    m_stats.clear();
    for (auto it = stats.begin(); it != stats.end(); ++it) {
      if (!it->is_object()) continue;
      auto n = [&](const char* k) {
        return it->contains(k) && (*it)[k].is_number() ? (*it)[k].get<int>() : 0;
      };
      m_stats[it.key()] = {n("ok"),      n("changed"), n("failures"), n("unreachable"),
                           n("skipped"), n("rescued"), n("ignored")};
    }
    m_final = true;
  } else {
    ++m_ignored_lines;
  }
}

void PlaybookProgress::on_result(const json& ev, const std::string& kind) {
  if (kind != "ok" && kind != "failed" && kind != "skipped" && kind != "unreachable") {
    ++m_ignored_lines;
    return;
  }
  std::string task = ev.contains("task") && ev["task"].is_object() ? field(ev["task"], "name") : m_task;
  auto hosts_it = ev.find("hosts");
  if (hosts_it == ev.end() || !hosts_it->is_object()) return;
  for (auto it = hosts_it->begin(); it != hosts_it->end(); ++it) {
    const json& r = *it;
    auto& c = m_live[it.key()];
    bool changed = r.is_object() && r.value("changed", false) == true;
    if (kind == "ok") {
      ++c.ok;
      if (changed) ++c.changed;
    } else if (kind == "skipped") {
      ++c.skipped;
    } else if (kind == "unreachable") {
      ++c.unreachable;
    } else {
      ++c.failed;
    }
    if (kind != "failed" && kind != "unreachable") continue;
    Failure f;
    f.task = task;
    f.host = it.key();
    f.unreachable = kind == "unreachable";
    if (r.is_object()) {
      f.msg = trimmed(field(r, "msg"));
      if (f.msg.empty()) f.msg = trimmed(field(r, "stderr"));
      // A loop: the first failed item says what went wrong.
      if (auto res = r.find("results"); res != r.end() && res->is_array()) {
        for (const auto& item : *res) {
          if (!item.is_object() || item.value("failed", false) != true) continue;
          std::string m = trimmed(field(item, "msg"));
          if (m.empty()) m = trimmed(field(item, "stderr"));
          if (!m.empty()) f.msg = m;
          if (item.contains("item")) f.item = text_of(item["item"]);
          break;
        }
      }
    }
    m_failures.push_back(std::move(f));
  }
}

std::optional<PlaybookProgress::Failure> PlaybookProgress::failure() const {
  if (m_failures.empty()) return std::nullopt;
  if (!m_final) return m_failures.back();
  // The first host (in event order) that really failed, and its last failure (the fatal one).
  for (const auto& f : m_failures) {
    auto st = m_stats.find(f.host);
    if (st == m_stats.end() || (st->second.failed == 0 && st->second.unreachable == 0)) continue;
    const Failure* last = &f;
    for (const auto& g : m_failures)
      if (g.host == f.host) last = &g;
    return *last;
  }
  return std::nullopt;  // every failure was ignored or rescued
}

}  // namespace kurator::providers::vms
