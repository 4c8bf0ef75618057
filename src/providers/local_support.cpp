// The pieces of the local provider that need no running cluster: specs, ports, binaries, process
// identity.
#include <kurator/core/artifacts.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/util/fs.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

namespace kurator::providers::local {

std::string to_string(Role role) {
  return role == Role::karmada ? "karmada" : "cluster";
}

const std::vector<std::string>& component_names(Role role) {
  static const std::vector<std::string> cluster = {"etcd", "kube-apiserver", "kube-controller-manager",
                                                   "kube-scheduler", "kwok"};
  static const std::vector<std::string> karmada = {"etcd",
                                                   "kube-apiserver",
                                                   "kube-controller-manager",
                                                   "karmada-aggregated-apiserver",
                                                   "karmada-webhook",
                                                   "karmada-controller-manager",
                                                   "karmada-scheduler"};
  return role == Role::karmada ? karmada : cluster;
}

json ClusterSpec::to_json() const {
  json j{{"name", name}, {"provider", provider}, {"nodes", nodes}, {"kubernetesVersion", kubernetes_version}};
  if (role == Role::karmada) {
    j["role"] = to_string(role);
    j["karmadaVersion"] = karmada_version;
    j["hostCluster"] = host_cluster;
  }
  return j;
}

Result<ClusterSpec> ClusterSpec::from_json(const json& j) {
  if (!j.is_object()) return Error("spec is not an object");
  ClusterSpec s;
  try {
    s.name = j.value("name", std::string());
    s.provider = j.value("provider", std::string("local"));
    s.nodes = j.value("nodes", 1);
    s.kubernetes_version = j.value("kubernetesVersion", std::string());
    s.role = j.value("role", std::string("cluster")) == "karmada" ? Role::karmada : Role::cluster;
    s.karmada_version = j.value("karmadaVersion", std::string());
    s.host_cluster = j.value("hostCluster", std::string());
  } catch (const std::exception& e) {
    return Error(std::string("spec: ") + e.what());
  }
  return s;
}

Result<ClusterSpec> normalize(ClusterSpec spec) {
  static const std::regex name_re("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  static const std::regex release_re(R"(v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?)");
  if (spec.role == Role::karmada) {
    if (spec.name.empty()) spec.name = kKarmadaName;
    if (spec.name != kKarmadaName)
      return Error(
          "the local Karmada is named \"" + std::string(kKarmadaName) + "\", not \"" + spec.name + "\"",
          ExitCode::usage);
    spec.nodes = 0;
    if (spec.karmada_version.empty()) spec.karmada_version = std::string(versions::karmada);
    if (spec.karmada_version[0] != 'v') spec.karmada_version = "v" + spec.karmada_version;
    if (!std::regex_match(spec.karmada_version, release_re))
      return Error("invalid Karmada version \"" + spec.karmada_version + "\"", ExitCode::usage,
                   "give a release like " + std::string(versions::karmada));
  }
  if (spec.name.empty() || spec.name.size() > 40 || !std::regex_match(spec.name, name_re))
    return Error("invalid cluster name \"" + spec.name + "\"", ExitCode::usage,
                 "use lower-case letters, digits and '-', at most 40 characters, starting and ending with a "
                 "letter or digit");
  if (spec.provider.empty()) spec.provider = "local";
  if (spec.provider != "local")
    return Error("unknown provider \"" + spec.provider + "\"", ExitCode::usage,
                 "the only provider is: local");
  if (spec.nodes < 0 || spec.nodes > 100)
    return Error("--nodes must be between 0 and 100, not " + std::to_string(spec.nodes), ExitCode::usage);
  if (spec.kubernetes_version.empty()) spec.kubernetes_version = std::string(versions::kubernetes);
  if (spec.kubernetes_version[0] != 'v') spec.kubernetes_version = "v" + spec.kubernetes_version;
  if (!std::regex_match(spec.kubernetes_version, release_re))
    return Error("invalid Kubernetes version \"" + spec.kubernetes_version + "\"", ExitCode::usage,
                 "give a release like " + std::string(versions::kubernetes));
  return spec;
}

std::vector<std::string> spec_differences(const ClusterSpec& existing, const ClusterSpec& requested) {
  std::vector<std::string> d;
  auto cmp = [&](const std::string& field, const std::string& a, const std::string& b) {
    if (a != b) d.push_back(field + ": " + a + " (existing) vs " + b + " (requested)");
  };
  cmp("provider", existing.provider, requested.provider);
  cmp("nodes", std::to_string(existing.nodes), std::to_string(requested.nodes));
  cmp("kubernetes version", existing.kubernetes_version, requested.kubernetes_version);
  cmp("karmada version", existing.karmada_version, requested.karmada_version);
  cmp("host cluster", existing.host_cluster, requested.host_cluster);
  return d;
}

json Ports::to_json() const {
  json j{{"etcdClient", etcd_client}, {"etcdPeer", etcd_peer},
         {"apiserver", apiserver},    {"controllerManager", controller_manager},
         {"scheduler", scheduler},    {"kwok", kwok}};
  if (aggregated_apiserver) {
    j["aggregatedApiserver"] = aggregated_apiserver;
    j["webhook"] = webhook;
    j["webhookHealth"] = webhook_health;
    j["karmadaControllerManager"] = karmada_controller_manager;
    j["karmadaScheduler"] = karmada_scheduler;
  }
  return j;
}

Ports Ports::from_json(const json& j) {
  Ports p;
  if (!j.is_object()) return p;
  p.etcd_client = j.value("etcdClient", 0);
  p.etcd_peer = j.value("etcdPeer", 0);
  p.apiserver = j.value("apiserver", 0);
  p.controller_manager = j.value("controllerManager", 0);
  p.scheduler = j.value("scheduler", 0);
  p.kwok = j.value("kwok", 0);
  p.aggregated_apiserver = j.value("aggregatedApiserver", 0);
  p.webhook = j.value("webhook", 0);
  p.webhook_health = j.value("webhookHealth", 0);
  p.karmada_controller_manager = j.value("karmadaControllerManager", 0);
  p.karmada_scheduler = j.value("karmadaScheduler", 0);
  return p;
}

namespace {
// The lowest port the kernel hands out itself (bind to port 0, outgoing connections).
int ephemeral_port_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 32768;
  if (!(in >> lo) || lo <= 0) return 32768;
  return lo;
}
}  // namespace

Result<std::vector<int>> pick_free_ports(int n) {
  // Listeners are put below the ephemeral range: a port there that is free now may be handed to some
  // client's outgoing connection (another control plane's, say) before the server binds it, which made
  // parallel creates fail with "address already in use". Randomly, so that concurrent pickers stay apart;
  // bind(0) when the range below is too small.
  constexpr int kLowest = 10000;
  const int eph_lo = ephemeral_port_low();
  const bool below = eph_lo - kLowest >= 4 * n + 1000;
  std::vector<int> fds;
  std::vector<int> ports;
  auto close_all = [&] {
    for (int fd : fds) ::close(fd);
  };
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(kLowest, below ? eph_lo - 1 : kLowest);
  int tries = 0;
  while (static_cast<int>(ports.size()) < n) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      close_all();
      return Error(std::string("socket: ") + std::strerror(errno));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool random = below && ++tries <= 100 * n;
    addr.sin_port = htons(random ? static_cast<uint16_t>(pick(rng)) : 0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int e = errno;
      ::close(fd);
      if (random && e == EADDRINUSE) continue;  // taken: another one
      close_all();
      return Error(std::string("binding a free port on 127.0.0.1: ") + std::strerror(e), ExitCode::failure,
                   "is the loopback interface up? (ip link set lo up)");
    }
    fds.push_back(fd);  // held until all are picked: distinct
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      int e = errno;
      close_all();
      return Error(std::string("getsockname: ") + std::strerror(e));
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  close_all();
  return ports;
}

bool port_open(int port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
    }
  }
  ::close(fd);
  return ok;
}

bool port_listening(int port) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "%04X", port);
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string slot, local, remote, state;
      ss >> slot >> local >> remote >> state;
      auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      if (local.substr(colon + 1) == hex && state == "0A") return true;  // 0A: LISTEN
    }
  }
  return false;
}

json Binaries::to_json() const {
  json j{{"etcd", etcd.string()},
         {"kube-apiserver", kube_apiserver.string()},
         {"kube-controller-manager", kube_controller_manager.string()},
         {"kube-scheduler", kube_scheduler.string()},
         {"kwok", kwok.string()},
         {"kubectl", kubectl.string()}};
  if (!karmada_webhook.empty()) {
    j["karmada-aggregated-apiserver"] = karmada_aggregated_apiserver.string();
    j["karmada-webhook"] = karmada_webhook.string();
    j["karmada-controller-manager"] = karmada_controller_manager.string();
    j["karmada-scheduler"] = karmada_scheduler.string();
  }
  return j;
}

Binaries Binaries::from_json(const json& j) {
  Binaries b;
  if (!j.is_object()) return b;
  b.etcd = j.value("etcd", std::string());
  b.kube_apiserver = j.value("kube-apiserver", std::string());
  b.kube_controller_manager = j.value("kube-controller-manager", std::string());
  b.kube_scheduler = j.value("kube-scheduler", std::string());
  b.kwok = j.value("kwok", std::string());
  b.kubectl = j.value("kubectl", std::string());
  b.karmada_aggregated_apiserver = j.value("karmada-aggregated-apiserver", std::string());
  b.karmada_webhook = j.value("karmada-webhook", std::string());
  b.karmada_controller_manager = j.value("karmada-controller-manager", std::string());
  b.karmada_scheduler = j.value("karmada-scheduler", std::string());
  return b;
}

stdfs::path default_bin_cache() {
  if (auto c = fs::env("KURATOR_BIN_CACHE"); !c.empty()) return c;
  return fs::user_home() / ".cache" / "kurator" / "bin";
}

namespace {
// Finds binaries in a --bin-dir (flat, or <component>-<version>/ below it) or the build cache
// (<component>-<version>/), collecting what is missing.
struct BinFinder {
  bool explicit_dir;
  stdfs::path root;
  std::vector<std::string> missing;
  explicit BinFinder(const stdfs::path& bin_dir)
      : explicit_dir(!bin_dir.empty()), root(bin_dir.empty() ? default_bin_cache() : bin_dir) {}
  stdfs::path operator()(const std::string& binary, const std::string& component, std::string_view version,
                         bool required) {
    std::vector<stdfs::path> candidates;
    if (explicit_dir) candidates.push_back(root / binary);
    candidates.push_back(root / (component + "-" + std::string(version)) / binary);
    for (const auto& c : candidates)
      if (::access(c.c_str(), X_OK) == 0) return stdfs::absolute(c);
    if (required) missing.push_back(candidates.back().string());
    return {};
  }
  std::string message() const {
    std::string msg = "control-plane binaries not found: ";
    for (size_t i = 0; i < missing.size(); ++i) msg += (i ? ", " : "") + missing[i];
    return msg;
  }
};
}  // namespace

Result<Binaries> resolve_binaries(const stdfs::path& bin_dir, const std::string& kubernetes_version) {
  BinFinder find(bin_dir);
  Binaries b;
  b.etcd = find("etcd", "etcd", versions::etcd, true);
  b.kube_apiserver = find("kube-apiserver", "kubernetes", kubernetes_version, true);
  b.kube_controller_manager = find("kube-controller-manager", "kubernetes", kubernetes_version, true);
  b.kube_scheduler = find("kube-scheduler", "kubernetes", kubernetes_version, true);
  b.kwok = find("kwok", "kwok", versions::kwok, true);
  b.kubectl = find("kubectl", "kubernetes", kubernetes_version, false);
  if (!find.missing.empty())
    return Error(
        find.message(), ExitCode::failure,
        "build them with scripts/build-test-binaries.sh (pinned in scripts/versions.env), or pass "
        "--bin-dir DIR holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok");
  return b;
}

Result<Binaries> resolve_karmada_binaries(const stdfs::path& bin_dir, const std::string& kubernetes_version,
                                          const std::string& karmada_version) {
  BinFinder find(bin_dir);
  Binaries b;
  b.etcd = find("etcd", "etcd", versions::etcd, true);
  b.kube_apiserver = find("kube-apiserver", "kubernetes", kubernetes_version, true);
  b.kube_controller_manager = find("kube-controller-manager", "kubernetes", kubernetes_version, true);
  b.kubectl = find("kubectl", "kubernetes", kubernetes_version, false);
  b.karmada_aggregated_apiserver = find("karmada-aggregated-apiserver", "karmada", karmada_version, true);
  b.karmada_webhook = find("karmada-webhook", "karmada", karmada_version, true);
  b.karmada_controller_manager = find("karmada-controller-manager", "karmada", karmada_version, true);
  b.karmada_scheduler = find("karmada-scheduler", "karmada", karmada_version, true);
  if (!find.missing.empty())
    return Error(find.message(), ExitCode::failure,
                 "build them with scripts/build-test-binaries.sh (pinned in scripts/versions.env; Karmada "
                 "publishes its control plane as images only), or pass --bin-dir DIR holding etcd, "
                 "kube-apiserver, kube-controller-manager, karmada-aggregated-apiserver, karmada-webhook, "
                 "karmada-controller-manager and karmada-scheduler");
  return b;
}

Result<Binaries> fetch_binaries(const stdfs::path& home, const std::string& kubernetes_version) {
  auto store = artifacts::open_store(home);
  if (!store) return store.error();
  Binaries b;
  const std::vector<std::tuple<std::string, std::string, stdfs::path*>> wanted = {
      {"etcd", std::string(versions::etcd), &b.etcd},
      {"kube-apiserver", kubernetes_version, &b.kube_apiserver},
      {"kube-controller-manager", kubernetes_version, &b.kube_controller_manager},
      {"kube-scheduler", kubernetes_version, &b.kube_scheduler},
      {"kwok", std::string(versions::kwok), &b.kwok},
  };
  for (const auto& [name, version, out] : wanted) {
    auto f = store->ensure(name, version);
    if (!f) return f.error().context(name + "@" + version);
    *out = f->path;
  }
  if (auto k = store->resolve("kubectl", kubernetes_version); k) {
    if (auto cached = store->cached(*k)) b.kubectl = cached->path;
  }
  return b;
}

std::string current_netns() {
  std::error_code ec;
  auto target = stdfs::read_symlink("/proc/self/ns/net", ec);
  return ec ? std::string() : target.string();
}

namespace {
std::vector<std::string> read_cmdline(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string cur;
  for (char c : data) {
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) args.push_back(cur);
  return args;
}
}  // namespace

bool process_belongs_to(int pid, const stdfs::path& root) {
  auto args = read_cmdline(pid);
  if (args.empty()) return false;
  static const std::set<std::string> programs = {"etcd",
                                                 "kube-apiserver",
                                                 "kube-controller-manager",
                                                 "kube-scheduler",
                                                 "kwok",
                                                 "karmada-webhook",
                                                 "karmada-aggregated-apiserver",
                                                 "karmada-controller-manager",
                                                 "karmada-scheduler"};
  // The program itself, or a script run by its interpreter (argv[1] then names the script).
  auto is_component = [&](size_t i) {
    if (i >= args.size()) return false;
    // Artifact caches keep upstream file names, e.g. kwok-linux-amd64.
    auto base = stdfs::path(args[i]).filename().string();
    for (const auto& p : programs)
      if (base == p || base.rfind(p + "-", 0) == 0) return true;
    return false;
  };
  if (!is_component(0) && !is_component(1)) return false;
  std::string prefix = root.string();
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  prefix += "/";
  for (size_t i = 1; i < args.size(); ++i)
    if (args[i].find(prefix) != std::string::npos) return true;
  return false;
}

std::vector<int> find_cluster_processes(const stdfs::path& root) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    int pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    if (process_belongs_to(pid, root)) pids.push_back(pid);
  }
  return pids;
}

json ClusterStatus::to_json() const {
  json comps = json::array();
  for (const auto& c : components) {
    json o{{"name", c.name}, {"running", c.running}};
    o["pid"] = c.pid ? json(*c.pid) : json(nullptr);
    comps.push_back(o);
  }
  return json{{"name", spec.name},
              {"provider", spec.provider},
              {"role", to_string(spec.role)},
              {"kubernetesVersion", spec.kubernetes_version},
              {"nodes", spec.nodes},
              {"phase", phase},
              {"status", status},
              {"endpoint", endpoint},
              {"kubeconfig", kubeconfig.string()},
              {"networkNamespace", netns},
              {"otherNetworkNamespace", other_netns},
              {"components", comps}};
}

}  // namespace kurator::providers::local

namespace kurator::providers::local {
json CreatePlan::to_json() const {
  json procs = json::array();
  for (const auto& p : processes) procs.push_back(json{{"name", p.name}, {"argv", p.argv}});
  return json{{"spec", spec.to_json()},
              {"stateDir", root.string()},
              {"kubeconfig", kubeconfig.string()},
              {"alreadyRunning", already_running},
              {"processes", procs}};
}
}  // namespace kurator::providers::local
