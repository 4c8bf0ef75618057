// The local provider's lifecycle: create (start and wait), delete, status.
#include <kurator/core/http.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/core/process.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/providers/pki.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/providers/aws_cluster.hpp>
#include <kurator/providers/vms_cluster.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>

#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

namespace kurator::providers::local {
namespace {

// The machine's kernel release (uname -r) for the kwok Nodes' status.nodeInfo.kernelVersion: kwok keeps a
// value that is set, and installers' preflights (Pixie: kernel >= 4.14) read it.
std::string host_kernel_version() {
  struct utsname u {};
  if (::uname(&u) != 0) return "unknown";
  return u.release;
}

using Clock = std::chrono::steady_clock;
constexpr const char* kServiceCidr = "10.96.0.0/16";
constexpr const char* kFirstServiceIp = "10.96.0.1";
constexpr const char* kPodCidr = "10.244.0.1/16";
constexpr std::chrono::milliseconds kStopGrace{10000};
// Karmada's controllers keep no local state, and karmada-controller-manager does not end on SIGTERM
// within 10 s: a short grace before SIGKILL.
std::chrono::milliseconds stop_grace(const std::string& component) {
  return component.rfind("karmada-", 0) == 0 ? std::chrono::milliseconds(2000) : kStopGrace;
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string random_token() {
  unsigned char raw[24];
  if (RAND_bytes(raw, sizeof raw) != 1) throw FatalError(Error("OpenSSL could not produce random bytes"));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

Result<json> read_json(const stdfs::path& p) {
  auto text = fs::read_file(p);
  if (!text) return text.error();
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Error(p.string() + ": not valid JSON");
  return j;
}

Status write_json(const stdfs::path& p, const json& j) {
  return fs::write_file_atomic(p, j.dump(2) + "\n", 0644);
}

// The last `n` lines of a component log, secrets redacted.
std::vector<std::string> log_tail(const stdfs::path& file, size_t n) {
  std::ifstream in(file);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > n) lines.pop_front();
  }
  std::vector<std::string> out;
  for (auto& l : lines) out.push_back(log::redact(l));
  return out;
}

void print_log_tail(const std::string& component, const stdfs::path& file) {
  auto lines = log_tail(file, 30);
  if (lines.empty()) {
    spdlog::error("{}: its log {} is empty", component, file.string());
    return;
  }
  spdlog::error("{}: last {} lines of {}:", component, lines.size(), file.string());
  for (const auto& l : lines) spdlog::error("  | {}", l);
}

// The fields of state.json.
struct State {
  std::string phase;  // creating | created | failed
  int creator_pid = 0;
  Ports ports;
  Binaries binaries;
  std::string netns;
  std::string created_at;
  std::string endpoint() const { return "https://127.0.0.1:" + std::to_string(ports.apiserver); }
  json to_json() const {
    return json{{"phase", phase},
                {"creatorPid", creator_pid},
                {"ports", ports.to_json()},
                {"binaries", binaries.to_json()},
                {"networkNamespace", netns},
                {"createdAt", created_at},
                {"endpoint", endpoint()}};
  }
  static State from_json(const json& j) {
    State s;
    s.phase = j.value("phase", std::string());
    s.creator_pid = j.value("creatorPid", 0);
    s.ports = Ports::from_json(j.value("ports", json::object()));
    s.binaries = Binaries::from_json(j.value("binaries", json::object()));
    s.netns = j.value("networkNamespace", std::string());
    s.created_at = j.value("createdAt", std::string());
    return s;
  }
};

ComponentStatus component_status(const ClusterPaths& p, const std::string& c) {
  ComponentStatus cs;
  cs.name = c;
  cs.pid = process::read_pid_file(p.pid(c));
  cs.running = cs.pid && process::is_alive(*cs.pid) && process_belongs_to(*cs.pid, p.root);
  return cs;
}

// Elapsed-time progress lines on stderr: printed when a step's state changes, and every 10 s while
// it does not.
class Progress {
 public:
  Progress() : m_start(Clock::now()) {}
  void say(const std::string& what, const std::string& state) {
    auto now = Clock::now();
    auto& last = m_last[what];
    if (last.first == state && now - last.second < std::chrono::seconds(10)) return;
    last = {state, now};
    spdlog::info("[{:>5.1f}s] {}: {}", elapsed_seconds(), what, state);
  }
  double elapsed_seconds() const { return std::chrono::duration<double>(Clock::now() - m_start).count(); }
  std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - m_start);
  }

 private:
  Clock::time_point m_start;
  std::map<std::string, std::pair<std::string, Clock::time_point>> m_last;
};

std::string pem_or_empty(const stdfs::path& p) {
  auto r = fs::read_file(p);
  return r ? *r : std::string();
}

// Brings a cluster's components up (all of them for a new cluster, the missing ones for a restart)
// and waits for each; on failure names the failing component.
class Bringup {
 public:
  Bringup(const ClusterPaths& paths, const ClusterSpec& spec, const State& state, Clock::time_point deadline,
          Progress& progress)
      : m_p(paths), m_spec(spec), m_state(state), m_deadline(deadline), m_progress(progress) {}

  std::string failed_component;  // set when a step failed because of one component

  Status run() {
    if (m_spec.role == Role::karmada) return run_karmada();
    std::map<std::string, std::function<Status()>> waits = {
        {"etcd", [&] { return wait_etcd(); }},
        {"kube-apiserver", [&] { return wait_apiserver(); }},
        {"kube-controller-manager",
         [&] { return wait_healthz("kube-controller-manager", m_state.ports.controller_manager); }},
        {"kube-scheduler", [&] { return wait_healthz("kube-scheduler", m_state.ports.scheduler); }},
        {"kwok", [&] { return Status(); }},
    };
    // etcd and the apiserver in turn; the rest together once the API is up.
    for (const std::string c : {"etcd", "kube-apiserver"}) {
      KURATOR_TRY(ensure_started(c));
      KURATOR_TRY(waits[c]());
    }
    for (const std::string c : {"kube-controller-manager", "kube-scheduler", "kwok"})
      KURATOR_TRY(ensure_started(c));
    for (const std::string c : {"kube-controller-manager", "kube-scheduler", "kwok"}) KURATOR_TRY(waits[c]());
    KURATOR_TRY(create_nodes());
    KURATOR_TRY(wait_nodes());
    return wait_default_service_account();
  }

  // The local Karmada: the API with Karmada's controller-manager subset, the aggregated apiserver and
  // the webhook; then the hook (Karmada-side objects); then Karmada's controllers.
  Status run_karmada() {
    const auto& ports = m_state.ports;
    for (const std::string c : {"etcd", "kube-apiserver"}) {
      KURATOR_TRY(ensure_started(c));
      KURATOR_TRY(c == "etcd" ? wait_etcd() : wait_apiserver());
    }
    for (const std::string c : {"kube-controller-manager", "karmada-aggregated-apiserver", "karmada-webhook"})
      KURATOR_TRY(ensure_started(c));
    KURATOR_TRY(wait_healthz("kube-controller-manager", ports.controller_manager));
    KURATOR_TRY(wait_https("karmada-aggregated-apiserver", ports.aggregated_apiserver, "/readyz"));
    KURATOR_TRY(wait_https("karmada-webhook", ports.webhook, "/readyz/"));
    if (m_on_api_ready) {
      ApiReady info;
      info.root = m_p.root;
      info.kubeconfig = m_p.kubeconfig();
      info.endpoint = m_state.endpoint();
      info.ca_pem = pem_or_empty(m_p.pki() / "ca.crt");
      info.ports = ports;
      info.deadline = m_deadline;
      m_progress.say("Karmada objects", "applying (CRDs, webhooks, APIService, RBAC)");
      if (auto st = m_on_api_ready(info); !st) {
        Error e = st.error();
        return e.context("applying the Karmada objects");
      }
      m_progress.say("Karmada objects", "applied and ready");
    }
    for (const std::string c : {"karmada-controller-manager", "karmada-scheduler"})
      KURATOR_TRY(ensure_started(c));
    KURATOR_TRY(wait_http("karmada-controller-manager", ports.karmada_controller_manager, "/healthz"));
    return wait_http("karmada-scheduler", ports.karmada_scheduler, "/healthz");
  }

  void set_hook(std::function<Status(const ApiReady&)> hook) { m_on_api_ready = std::move(hook); }

  // The command line of component `c` (no secrets: only paths and flags).
  std::vector<std::string> command(const std::string& c) const { return argv_for(c); }

  // Stops what this Bringup started, newest first.
  void stop_started() {
    for (auto it = m_started.rbegin(); it != m_started.rend(); ++it) {
      m_progress.say(it->first, "stopping (pid " + std::to_string(it->second) + ")");
      process::stop_pid(it->second, stop_grace(it->first));
    }
    m_started.clear();
  }

 private:
  std::vector<std::string> argv_for(const std::string& c) const {
    const auto& pk = m_p.pki();
    const auto& ports = m_state.ports;
    auto f = [](const std::string& flag, const stdfs::path& path) { return flag + "=" + path.string(); };
    auto n = [](const std::string& flag, int port) { return flag + "=" + std::to_string(port); };
    const std::string etcd_url = "https://127.0.0.1:" + std::to_string(ports.etcd_client);
    const bool karmada = m_spec.role == Role::karmada;
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(ports.etcd_peer);
    if (c == "etcd") {
      return {m_state.binaries.etcd.string(),
              "--name=default",
              f("--data-dir", m_p.etcd_data()),
              "--listen-client-urls=" + etcd_url,
              "--advertise-client-urls=" + etcd_url,
              "--listen-peer-urls=" + peer_url,
              "--initial-advertise-peer-urls=" + peer_url,
              "--initial-cluster=default=" + peer_url,
              "--initial-cluster-state=new",
              "--initial-cluster-token=kurator-" + m_spec.name,
              f("--cert-file", pk / "etcd-server.crt"),
              f("--key-file", pk / "etcd-server.key"),
              f("--trusted-ca-file", pk / "ca.crt"),
              "--client-cert-auth=true",
              "--unsafe-no-fsync=true",
              "--log-level=warn"};
    }
    if (c == "kube-apiserver") {
      std::vector<std::string> argv = {
          m_state.binaries.kube_apiserver.string(), "--etcd-servers=" + etcd_url,
          f("--etcd-cafile", pk / "ca.crt"), f("--etcd-certfile", pk / "apiserver-etcd-client.crt"),
          f("--etcd-keyfile", pk / "apiserver-etcd-client.key"), "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          // The `kubernetes` Endpoints may not hold a loopback address: leave them alone.
          "--endpoint-reconciler-type=none", n("--secure-port", ports.apiserver),
          f("--cert-dir", m_p.root / "apiserver"), f("--tls-cert-file", pk / "apiserver.crt"),
          f("--tls-private-key-file", pk / "apiserver.key"), f("--client-ca-file", pk / "ca.crt"),
          "--authorization-mode=Node,RBAC", "--allow-privileged=true",
          std::string("--service-cluster-ip-range=") + kServiceCidr,
          "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
          f("--service-account-key-file", pk / "sa.pub"),
          f("--service-account-signing-key-file", pk / "sa.key"), f("--token-auth-file", pk / "tokens.csv"),
          f("--requestheader-client-ca-file", pk / "front-proxy-ca.crt"),
          "--requestheader-allowed-names=front-proxy-client",
          "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
          "--requestheader-extra-headers-prefix=X-Remote-Extra-",
          f("--proxy-client-cert-file", pk / "front-proxy-client.crt"),
          f("--proxy-client-key-file", pk / "front-proxy-client.key"),
          "--enable-admission-plugins=NodeRestriction", "--profiling=false"};
      if (karmada) {
        // karmadactl init's karmada-apiserver (pkg/karmadactl/cmdinit/kubernetes/command.go).
        argv.insert(argv.end(), {"--enable-bootstrap-token-auth=true",
                                 "--disable-admission-plugins=StorageObjectInUseProtection,ServiceAccount",
                                 "--runtime-config=", "--tls-min-version=VersionTLS13"});
      }
      return argv;
    }
    // The controller-manager and the scheduler share their client, serving and auth flags.
    auto controller = [&](const stdfs::path& binary, int port, const std::string& cert) {
      auto kc = m_p.component_kubeconfig(c);
      return std::vector<std::string>{binary.string(),
                                      f("--kubeconfig", kc),
                                      f("--authentication-kubeconfig", kc),
                                      f("--authorization-kubeconfig", kc),
                                      "--leader-elect=false",
                                      "--bind-address=127.0.0.1",
                                      n("--secure-port", port),
                                      f("--tls-cert-file", pk / (cert + ".crt")),
                                      f("--tls-private-key-file", pk / (cert + ".key")),
                                      f("--client-ca-file", pk / "ca.crt"),
                                      "--profiling=false"};
    };
    if (c == "kube-controller-manager") {
      auto argv = controller(m_state.binaries.kube_controller_manager, ports.controller_manager,
                             "controller-manager");
      argv.insert(argv.end(),
                  {f("--service-account-private-key-file", pk / "sa.key"), f("--root-ca-file", pk / "ca.crt"),
                   f("--cluster-signing-cert-file", pk / "ca.crt"),
                   f("--cluster-signing-key-file", pk / "ca.key"), "--use-service-account-credentials=true",
                   std::string("--service-cluster-ip-range=") + kServiceCidr, "--cluster-name=" + m_spec.name,
                   karmada ? std::string("--controllers=namespace,garbagecollector,serviceaccount-token,"
                                         "ttl-after-finished,bootstrapsigner,tokencleaner,csrcleaner,"
                                         "csrsigning,clusterrole-aggregation")
                           : std::string("--controllers=*,bootstrapsigner,tokencleaner")});
      return argv;
    }
    // Karmada's components, all with the admin kubeconfig of the Karmada apiserver, as karmadactl init
    // gives them (pkg/karmadactl/cmdinit/kubernetes/command.go); metrics off, probes on loopback.
    const std::string kkc = f("--kubeconfig", m_p.component_kubeconfig("karmada"));
    const auto& bins = m_state.binaries;
    auto loopback = [](const std::string& flag, int port) {
      return flag + "=127.0.0.1:" + std::to_string(port);
    };
    if (c == "karmada-aggregated-apiserver") {
      return {bins.karmada_aggregated_apiserver.string(),
              kkc,
              f("--authentication-kubeconfig", m_p.component_kubeconfig("karmada")),
              f("--authorization-kubeconfig", m_p.component_kubeconfig("karmada")),
              "--etcd-servers=" + etcd_url,
              f("--etcd-cafile", pk / "ca.crt"),
              f("--etcd-certfile", pk / "apiserver-etcd-client.crt"),
              f("--etcd-keyfile", pk / "apiserver-etcd-client.key"),
              f("--tls-cert-file", pk / "karmada-aggregated-apiserver.crt"),
              f("--tls-private-key-file", pk / "karmada-aggregated-apiserver.key"),
              "--tls-min-version=VersionTLS13",
              f("--cert-dir", m_p.root / "aggregated-apiserver"),
              "--bind-address=127.0.0.1",
              n("--secure-port", ports.aggregated_apiserver)};
    }
    if (c == "karmada-webhook") {
      return {bins.karmada_webhook.string(),
              kkc,
              "--bind-address=127.0.0.1",
              n("--secure-port", ports.webhook),
              f("--cert-dir", m_p.webhook_certs()),
              "--metrics-bind-address=0",
              loopback("--health-probe-bind-address", ports.webhook_health)};
    }
    if (c == "karmada-controller-manager") {
      return {bins.karmada_controller_manager.string(),
              kkc,
              "--leader-elect=false",
              "--cluster-status-update-frequency=10s",
              "--metrics-bind-address=0",
              loopback("--health-probe-bind-address", ports.karmada_controller_manager)};
    }
    if (c == "karmada-scheduler") {
      return {bins.karmada_scheduler.string(), kkc, "--leader-elect=false", "--metrics-bind-address=0",
              loopback("--health-probe-bind-address", ports.karmada_scheduler)};
    }
    if (c == "kube-scheduler")
      return controller(m_state.binaries.kube_scheduler, ports.scheduler, "scheduler");
    // kwok
    return {m_state.binaries.kwok.string(),
            f("--kubeconfig", m_p.component_kubeconfig(c)),
            f("--config", m_p.root / "kwok.yaml"),
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-lease-duration-seconds=40",
            std::string("--cidr=") + kPodCidr,
            "--server-address=127.0.0.1:" + std::to_string(ports.kwok)};
  }

  Status ensure_started(const std::string& c) {
    auto cs = component_status(m_p, c);
    if (cs.running) {
      m_running[c] = *cs.pid;
      m_progress.say(c, "already running (pid " + std::to_string(*cs.pid) + ")");
      return {};
    }
    process::DaemonSpec d;
    d.argv = argv_for(c);
    d.cwd = m_p.root;
    d.log_file = m_p.log(c);
    d.pid_file = m_p.pid(c);
    // kwok reads ~/.kwok/kwok.yaml by default: give it a home of its own.
    if (c == "kwok") d.env["HOME"] = (m_p.root / "kwok-home").string();
    auto pid = process::start_daemon(d);
    if (!pid) {
      failed_component = c;
      return pid.error().context("starting " + c);
    }
    m_started.emplace_back(c, *pid);
    m_running[c] = *pid;
    m_progress.say(c, "started (pid " + std::to_string(*pid) + ")");
    return {};
  }

  // Fails at once when a component died, the deadline passed, or kurator was interrupted.
  Status check(const std::string& what) {
    for (const auto& [c, pid] : m_running) {
      if (!process::is_alive(pid)) {
        failed_component = c;
        return Error(c + " exited while waiting for " + what, ExitCode::failure,
                     "see " + m_p.log(c).string());
      }
    }
    if (cancel::requested()) return Error("interrupted while waiting for " + what, ExitCode::interrupted);
    if (Clock::now() >= m_deadline) {
      return Error("timed out waiting for " + what, ExitCode::timeout,
                   "raise --wait-timeout, or look at the logs in " + m_p.logs().string());
    }
    return {};
  }

  // Polls `probe` (true: done; `state` says where it is) until done, printing progress.
  Status poll(const std::string& what, const std::string& component,
              const std::function<bool(std::string& state)>& probe) {
    auto delay = std::chrono::milliseconds(100);
    while (true) {
      if (auto st = check(what); !st) {
        if (failed_component.empty()) failed_component = component;
        return st;
      }
      std::string state;
      if (probe(state)) {
        m_progress.say(what, state.empty() ? "ready" : state);
        return {};
      }
      m_progress.say(what, state);
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(1000));
    }
  }

  Status wait_etcd() {
    auto url = "https://127.0.0.1:" + std::to_string(m_state.ports.etcd_client) + "/health";
    return poll("etcd", "etcd", [&](std::string& state) {
      auto req = probe_request(url, false);
      req.tls.client_cert_file = (m_p.pki() / "apiserver-etcd-client.crt").string();
      req.tls.client_key_file = (m_p.pki() / "apiserver-etcd-client.key").string();
      auto resp = http::default_client().perform(req);
      if (resp && resp->status == 200 && resp->body.find("\"true\"") != std::string::npos) return true;
      state = resp ? "/health HTTP " + std::to_string(resp->status) : "waiting for /health";
      return false;
    });
  }

  http::Request probe_request(const std::string& url, bool admin) const {
    http::Request req;
    req.url = url;
    req.tls.ca_file = (m_p.pki() / "ca.crt").string();
    if (admin) {
      req.tls.client_cert_file = (m_p.pki() / "admin.crt").string();
      req.tls.client_key_file = (m_p.pki() / "admin.key").string();
    }
    req.connect_timeout = std::chrono::seconds(2);
    req.timeout = std::chrono::seconds(10);
    return req;
  }

  Status wait_apiserver() {
    auto url = m_state.endpoint() + "/readyz";
    return poll("kube-apiserver", "kube-apiserver", [&](std::string& state) {
      auto resp = http::default_client().perform(probe_request(url, true));
      if (!resp) {
        state = "waiting for /readyz (" + resp.error().message + ")";
        return false;
      }
      if (resp->status == 200) return true;
      // The failing checks are the lines starting with "[-]".
      std::string failing;
      std::istringstream ss(resp->body);
      std::string line;
      while (std::getline(ss, line)) {
        if (line.rfind("[-]", 0) == 0) {
          auto name = line.substr(3);
          name = name.substr(0, name.find(' '));
          failing += (failing.empty() ? "" : ", ") + name;
        }
      }
      state =
          "/readyz HTTP " + std::to_string(resp->status) + (failing.empty() ? "" : ": not ready: " + failing);
      return false;
    });
  }

  // GET https://127.0.0.1:<port><path> (serving certificate verified against the CA) answers 200.
  Status wait_https(const std::string& c, int port, const std::string& path) {
    auto url = "https://127.0.0.1:" + std::to_string(port) + path;
    return poll(c, c, [&](std::string& state) {
      auto resp = http::default_client().perform(probe_request(url, false));
      if (resp && resp->status == 200) return true;
      state = resp ? path + " HTTP " + std::to_string(resp->status) : "waiting for " + path;
      return false;
    });
  }

  // A plain-HTTP health probe on loopback.
  Status wait_http(const std::string& c, int port, const std::string& path) {
    auto url = "http://127.0.0.1:" + std::to_string(port) + path;
    return poll(c, c, [&](std::string& state) {
      http::Request req;
      req.url = url;
      req.connect_timeout = std::chrono::seconds(2);
      req.timeout = std::chrono::seconds(10);
      auto resp = http::default_client().perform(req);
      if (resp && resp->status == 200) return true;
      state = resp ? path + " HTTP " + std::to_string(resp->status) : "waiting for " + path;
      return false;
    });
  }

  Status wait_healthz(const std::string& c, int port) {
    auto url = "https://127.0.0.1:" + std::to_string(port) + "/healthz";
    return poll(c, c, [&](std::string& state) {
      auto resp = http::default_client().perform(probe_request(url, false));
      if (resp && resp->status == 200) return true;
      state = resp ? "/healthz HTTP " + std::to_string(resp->status) : "waiting for /healthz";
      return false;
    });
  }

  kube::Client& client() {
    if (!m_client) {
      kubeconfig::RestConfig cfg;
      cfg.server = m_state.endpoint();
      cfg.context_name = cfg.cluster_name = cfg.user_name = "kurator-" + m_spec.name;
      cfg.tls.ca_pem = pem_or_empty(m_p.pki() / "ca.crt");
      cfg.tls.client_cert_pem = pem_or_empty(m_p.pki() / "admin.crt");
      cfg.tls.client_key_pem = pem_or_empty(m_p.pki() / "admin.key");
      m_client = std::make_unique<kube::Client>(cfg);
    }
    return *m_client;
  }

  std::string node_name(int i) const { return "kwok-node-" + std::to_string(i); }

  json node_object(const std::string& name) const {
    json resources = {{"cpu", "32"}, {"memory", "256Gi"}, {"pods", "110"}, {"ephemeral-storage", "100Gi"}};
    return json{{"apiVersion", "v1"},
                {"kind", "Node"},
                {"metadata",
                 {{"name", name},
                  {"annotations", {{"kwok.x-k8s.io/node", "fake"}, {"node.alpha.kubernetes.io/ttl", "0"}}},
                  {"labels",
                   {{"type", "kwok"},
                    {"kubernetes.io/hostname", name},
                    {"kubernetes.io/os", "linux"},
                    {"kubernetes.io/arch", "amd64"},
                    {"beta.kubernetes.io/os", "linux"},
                    {"beta.kubernetes.io/arch", "amd64"},
                    {"kubernetes.io/role", "agent"},
                    {"node-role.kubernetes.io/agent", ""}}}}},
                {"spec", json::object()},
                {"status",
                 {{"allocatable", resources},
                  {"capacity", resources},
                  {"nodeInfo",
                   {{"architecture", "amd64"},
                    {"operatingSystem", "linux"},
                    {"kernelVersion", host_kernel_version()},
                    {"kubeletVersion", m_spec.kubernetes_version},
                    {"kubeProxyVersion", m_spec.kubernetes_version}}},
                  {"phase", "Running"}}}};
  }

  Status create_nodes() {
    int created = 0;
    for (int i = 0; i < m_spec.nodes; ++i) {
      KURATOR_TRY(check("creating nodes"));
      auto r = client().create(node_object(node_name(i)));
      if (r)
        ++created;
      else if (r.error().http_status != 409)
        return r.error().context("creating Node " + node_name(i));
    }
    if (m_spec.nodes > 0)
      m_progress.say("nodes", std::to_string(created) + " Node objects created" +
                                  (created < m_spec.nodes
                                       ? ", " + std::to_string(m_spec.nodes - created) + " already there"
                                       : std::string()));
    return {};
  }

  Status wait_nodes() {
    if (m_spec.nodes == 0) return {};
    return poll("nodes", "kwok", [&](std::string& state) {
      auto list = client().list("v1", "Node", kube::ListOptions{.label_selector = "type=kwok"});
      if (!list) {
        state = "listing nodes: " + list.error().message;
        return false;
      }
      int ready = 0;
      for (const auto& node : list->value("items", json::array())) {
        for (const auto& cond : node.value("/status/conditions"_json_pointer, json::array()))
          if (cond.value("type", "") == "Ready" && cond.value("status", "") == "True") ++ready;
      }
      state = std::to_string(ready) + "/" + std::to_string(m_spec.nodes) + " Ready";
      return ready >= m_spec.nodes;
    });
  }

  // Pods can only be created once the controller-manager made the namespace's default ServiceAccount.
  Status wait_default_service_account() {
    return poll("default ServiceAccount", "kube-controller-manager", [&](std::string& state) {
      auto sa = client().get("v1", "ServiceAccount", "default", "default");
      if (sa) return true;
      state = "waiting for the controller-manager to create it";
      return false;
    });
  }

  const ClusterPaths& m_p;
  const ClusterSpec& m_spec;
  const State& m_state;
  Clock::time_point m_deadline;
  Progress& m_progress;
  std::vector<std::pair<std::string, int>> m_started;
  std::map<std::string, int> m_running;
  std::unique_ptr<kube::Client> m_client;
  std::function<Status(const ApiReady&)> m_on_api_ready;
};

// Writes PKI, tokens and kubeconfigs of a new cluster.
Status write_credentials(const ClusterPaths& p, const ClusterSpec& spec, const State& state) {
  const bool karmada = spec.role == Role::karmada;
  pki::ClusterPkiOptions pki_opts{.service_ip = kFirstServiceIp};
  if (karmada) pki_opts.extra_leaves = pki::karmada_leaves();
  KURATOR_TRY(pki::write_cluster_pki(p.pki(), pki_opts));
  std::string admin_token = random_token();
  std::string user_token = random_token();
  // token,user,uid,"group1,group2"
  std::string tokens = admin_token + ",kurator-admin,kurator-admin,\"system:masters\"\n" + user_token +
                       ",kurator-unprivileged,kurator-unprivileged\n";
  KURATOR_TRY(fs::write_private_file(p.pki() / "tokens.csv", tokens));

  std::string ca = pem_or_empty(p.pki() / "ca.crt");
  auto kubeconfig_for = [&](const std::string& cert_base, const std::string& token) {
    kubeconfig::SimpleKubeconfig k;
    k.name = "kurator-" + spec.name;
    k.server = state.endpoint();
    k.ca_pem = ca;
    if (!cert_base.empty()) {
      k.client_cert_pem = pem_or_empty(p.pki() / (cert_base + ".crt"));
      k.client_key_pem = pem_or_empty(p.pki() / (cert_base + ".key"));
    }
    k.token = token;
    return kubeconfig::render(k);
  };
  KURATOR_TRY(fs::write_private_file(p.component_kubeconfig("kube-controller-manager"),
                                     kubeconfig_for("controller-manager", "")));
  if (karmada) {
    // Karmada's components act as system:admin, as karmadactl init's karmada-config does.
    KURATOR_TRY(
        fs::write_private_file(p.component_kubeconfig("karmada"), kubeconfig_for("karmada-admin", "")));
    // karmada-webhook reads tls.crt/tls.key from its --cert-dir.
    std::error_code ec;
    stdfs::create_directories(p.webhook_certs(), ec);
    stdfs::permissions(p.webhook_certs(), stdfs::perms::owner_all, ec);
    KURATOR_TRY(fs::write_file_atomic(p.webhook_certs() / "tls.crt",
                                      pem_or_empty(p.pki() / "karmada-webhook.crt"), 0644));
    KURATOR_TRY(
        fs::write_private_file(p.webhook_certs() / "tls.key", pem_or_empty(p.pki() / "karmada-webhook.key")));
    KURATOR_TRY(
        fs::write_private_file(p.component_kubeconfig("admin-token"), kubeconfig_for("", admin_token)));
    return fs::write_private_file(p.kubeconfig(), kubeconfig_for("karmada-admin", ""));
  }
  KURATOR_TRY(
      fs::write_private_file(p.component_kubeconfig("kube-scheduler"), kubeconfig_for("scheduler", "")));
  KURATOR_TRY(fs::write_private_file(p.component_kubeconfig("kwok"), kubeconfig_for("kwok", "")));
  KURATOR_TRY(fs::write_private_file(p.component_kubeconfig("admin-token"), kubeconfig_for("", admin_token)));
  KURATOR_TRY(fs::write_private_file(p.component_kubeconfig("unprivileged"), kubeconfig_for("", user_token)));
  // kwok's own configuration file: empty, so it never reads one from a home directory.
  KURATOR_TRY(fs::write_file_atomic(p.root / "kwok.yaml", "", 0644));
  return fs::write_private_file(p.kubeconfig(), kubeconfig_for("admin", ""));
}

// Stops every process of the cluster at `p` (pid files first, then any stray naming its directory).
void stop_all(const ClusterPaths& p, Role role) {
  const auto& names = component_names(role);
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    auto cs = component_status(p, *it);
    if (cs.running) {
      spdlog::info("stopping {} (pid {})", *it, *cs.pid);
      process::stop_pid(*cs.pid, stop_grace(*it));
    }
  }
  for (int pid : find_cluster_processes(p.root)) {
    spdlog::info("stopping stray process {} of {}", pid, p.root.filename().string());
    process::stop_pid(pid, kStopGrace);
  }
}

// Free loopback ports for every listener of a control plane of `role`.
Result<Ports> pick_ports(Role role) {
  auto v = pick_free_ports(role == Role::karmada ? 9 : 6);
  if (!v) return v.error();
  const auto& x = *v;
  if (role == Role::cluster) return Ports{x[0], x[1], x[2], x[3], x[4], x[5]};
  Ports ports;
  ports.etcd_client = x[0];
  ports.etcd_peer = x[1];
  ports.apiserver = x[2];
  ports.controller_manager = x[3];
  ports.aggregated_apiserver = x[4];
  ports.webhook = x[5];
  ports.webhook_health = x[6];
  ports.karmada_controller_manager = x[7];
  ports.karmada_scheduler = x[8];
  return ports;
}

}  // namespace

namespace {
// The provider that owns a folder of $KURATOR_HOME/clusters when it is not local: vms or aws ("" for local).
std::string other_provider(const stdfs::path& root) {
  std::error_code ec;
  if (stdfs::exists(root / vms::kStateFile, ec)) return "vms";
  if (stdfs::exists(root / aws::kStateFile, ec)) return "aws";
  return "";
}
bool foreign_folder(const stdfs::path& root) { return !other_provider(root).empty(); }
}  // namespace

Result<ClusterStatus> Provider::status(const std::string& name) const {
  auto p = paths(name);
  std::error_code ec;
  if (!stdfs::is_directory(p.root, ec) || foreign_folder(p.root))
    return Error("cluster \"" + name + "\" not found", ExitCode::failure,
                 "list clusters with: kurator get clusters");
  return status_at(p, name);
}

bool Provider::karmada_installed() const {
  std::error_code ec;
  // The in-cluster install (--provider kubernetes) keeps its kubeconfig in the same folder, marked so.
  return stdfs::is_directory(karmada_paths().root, ec) &&
         !stdfs::exists(karmada_paths().root / kInClusterNote, ec);
}

Result<ClusterStatus> Provider::karmada_status() const {
  if (!karmada_installed())
    return Error("the local Karmada is not installed (no " + karmada_paths().root.string() + ")",
                 ExitCode::failure, "install it with: kurator install karmada --provider local");
  return status_at(karmada_paths(), kKarmadaName);
}

Result<ClusterStatus> Provider::status_at(const ClusterPaths& p, const std::string& name) const {
  const Role role = p.root == karmada_paths().root ? Role::karmada : Role::cluster;
  ClusterStatus st;
  st.spec.name = name;
  st.spec.role = role;
  if (role == Role::karmada) st.spec.nodes = 0;
  st.kubeconfig = p.kubeconfig();
  auto spec_json = read_json(p.spec());
  if (spec_json) {
    if (auto s = ClusterSpec::from_json(*spec_json); s) st.spec = *s;
  }
  State state;
  auto state_json = read_json(p.state());
  if (state_json) state = State::from_json(*state_json);
  if (state.ports.apiserver) st.endpoint = state.endpoint();
  st.netns = state.netns;
  st.other_netns = !state.netns.empty() && state.netns != current_netns();

  std::vector<std::string> down;
  int running = 0;
  for (const auto& c : component_names(role)) {
    auto cs = component_status(p, c);
    if (cs.running)
      ++running;
    else
      down.push_back(c);
    st.components.push_back(cs);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  if (!spec_json || !state_json) {
    st.phase = "Failed";
    st.status = "Failed: state incomplete (" + std::string(!spec_json ? "spec.json" : "state.json") +
                " unreadable); delete it";
  } else if (state.phase == "creating" && process::is_alive(state.creator_pid)) {
    st.phase = "Creating";
    st.status = "Creating";
  } else if (state.phase == "creating" || state.phase == "failed") {
    st.phase = "Failed";
    st.status = running ? "Failed: create did not finish (" + std::to_string(running) + " processes left)"
                        : "Failed: create did not finish";
  } else if (down.empty()) {
    st.phase = "Running";
    st.status = "Running";
  } else if (running == 0) {
    st.phase = "Stopped";
    st.status = "Stopped";
  } else {
    st.phase = "Degraded";
    st.status = "Degraded: " + join(down) + " not running";
  }
  return st;
}

Result<std::vector<ClusterStatus>> Provider::list() const {
  std::vector<ClusterStatus> out;
  std::error_code ec;
  std::vector<std::string> names;
  if (stdfs::is_directory(clusters_dir(), ec))
    for (const auto& e : stdfs::directory_iterator(clusters_dir(), ec))
      if (e.is_directory(ec) && !foreign_folder(e.path())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    auto st = status(n);
    if (st) out.push_back(std::move(*st));
  }
  if (karmada_installed())
    if (auto st = karmada_status(); st) out.push_back(std::move(*st));
  return out;
}

Result<std::string> Provider::kubeconfig(const std::string& name) const {
  auto p = paths(name);
  std::error_code ec;
  if (!stdfs::is_directory(p.root, ec) && name == kKarmadaName && karmada_installed()) p = karmada_paths();
  if (!stdfs::is_directory(p.root, ec))
    return Error("cluster \"" + name + "\" not found", ExitCode::failure,
                 "list clusters with: kurator get clusters");
  auto text = fs::read_file(p.kubeconfig());
  if (!text)
    return Error("cluster \"" + name + "\" has no kubeconfig yet", ExitCode::failure,
                 "its create may have failed; see kurator get clusters");
  return text;
}

Status Provider::remove(const std::string& name, const std::string& provider) {
  auto p = paths(name);
  std::error_code ec;
  if (auto other = other_provider(p.root); !other.empty())
    return Error("cluster \"" + name + "\" was made by provider " + other, ExitCode::usage,
                 "delete it with: kurator delete cluster " + name + " --provider " + other);
  if (!stdfs::is_directory(p.root, ec))
    return Error("cluster \"" + name + "\" not found", ExitCode::failure,
                 "list clusters with: kurator get clusters");
  return remove_at(p, name, provider);
}

Status Provider::remove_karmada() {
  if (!karmada_installed()) return {};
  return remove_at(karmada_paths(), kKarmadaName, "");
}

Status Provider::remove_at(const ClusterPaths& p, const std::string& name, const std::string& provider) {
  std::error_code ec;
  const Role role = p.root == karmada_paths().root ? Role::karmada : Role::cluster;
  if (auto spec_json = read_json(p.spec()); spec_json) {
    if (auto s = ClusterSpec::from_json(*spec_json); s && !provider.empty() && s->provider != provider)
      return Error("cluster \"" + name + "\" was made by provider " + s->provider + ", not " + provider,
                   ExitCode::usage);
  }
  stop_all(p, role);
  // Name what survived rather than removing the state of processes that still run.
  std::string left;
  for (int pid : find_cluster_processes(p.root)) left += (left.empty() ? "" : ", ") + std::to_string(pid);
  if (!left.empty())
    return Error("could not stop every process of " + name + " (pids " + left + " still run); " +
                     p.root.string() + " was left in place",
                 ExitCode::failure, "end them (kill PID) and run the command again");
  stdfs::remove_all(p.root, ec);
  if (ec || stdfs::exists(p.root))
    return Error("could not remove " + p.root.string() + (ec ? ": " + ec.message() : std::string()),
                 ExitCode::failure, "remove it by hand; every process of " + name + " was stopped");
  return {};
}

Result<CreateResult> Provider::create(const CreateOptions& opts) {
  auto spec_r = normalize(opts.spec);
  if (!spec_r) return spec_r.error();
  const ClusterSpec spec = *spec_r;
  Progress progress;
  const auto deadline = Clock::now() + opts.timeout;
  auto p = paths_for(spec);
  const std::string noun = spec.role == Role::karmada ? "the local Karmada" : "cluster \"" + spec.name + "\"";
  std::error_code ec;
  stdfs::create_directories(p.root.parent_path(), ec);
  if (ec) return Error("creating " + p.root.parent_path().string() + ": " + ec.message());

  CreateResult result;
  State state;
  bool fresh = true;
  if (::mkdir(p.root.c_str(), 0700) != 0) {
    if (errno != EEXIST) return Error("creating " + p.root.string() + ": " + std::strerror(errno));
    // An existing cluster: the same spec is a no-op (or a restart of what is down); anything else is refused.
    auto current = status_at(p, spec.name);
    if (!current) return current.error();
    auto diffs = spec_differences(current->spec, spec);
    if (current->phase == "Failed") {
      spdlog::warn("{} exists from a create that did not finish; removing it and starting over", noun);
      KURATOR_TRY(remove_at(p, spec.name, ""));
      if (::mkdir(p.root.c_str(), 0700) != 0)
        return Error("creating " + p.root.string() + ": " + std::strerror(errno));
    } else if (!diffs.empty()) {
      std::string msg = noun + " already exists with a different spec: ";
      for (size_t i = 0; i < diffs.size(); ++i) msg += (i ? "; " : "") + diffs[i];
      return Error(msg, ExitCode::failure,
                   spec.role == Role::karmada
                       ? std::string("uninstall it first (kurator uninstall karmada --provider local)")
                       : "delete it first (kurator delete cluster " + spec.name +
                             " --provider local) or pick another name");
    } else if (current->phase == "Creating") {
      return Error(noun + " is being created by another kurator process", ExitCode::failure,
                   "wait for it, or remove it");
    } else if (current->phase == "Running") {
      spdlog::info("{} already exists with the same spec and is running; nothing to do", noun);
      result.already_existed = true;
      result.status = std::move(*current);
      return result;
    } else {
      // Stopped or Degraded: start what is down, with the ports and binaries it was made with.
      spdlog::info("{} exists with the same spec but is {}; starting what is down", noun, current->status);
      auto state_json = read_json(p.state());
      if (!state_json) return state_json.error();
      state = State::from_json(*state_json);
      fresh = false;
      result.restarted = true;
    }
  }

  if (fresh) {
    // A new cluster: binaries, ports, credentials, then the processes.
    auto fail_early = [&](Error e) -> Error {
      stdfs::remove_all(p.root, ec);
      return e;
    };
    auto bins = spec.role == Role::karmada
                    ? resolve_karmada_binaries(opts.bin_dir, spec.kubernetes_version, spec.karmada_version)
                    : resolve_binaries(opts.bin_dir, spec.kubernetes_version);
    if (!bins && opts.bin_dir.empty() && spec.role == Role::cluster) {
      // Not built locally: through the artifact layer (its cache, else a download via the mirror).
      spdlog::info("control-plane binaries not in {}; getting them through the artifact cache",
                   default_bin_cache().string());
      auto fetched = fetch_binaries(m_home, spec.kubernetes_version);
      if (fetched) {
        bins = std::move(fetched);
      } else {
        Error e = bins.error();
        e.message += "; and the artifact layer could not provide them: " + fetched.error().message;
        e.hint +=
            "; or point the artifact layer at a mirror (KURATOR_MIRROR=file://$HOME/.cache/kurator/mirror "
            "KURATOR_CATALOG=$HOME/.cache/kurator/mirror/catalog-overlay.yaml)";
        return fail_early(e);
      }
    }
    if (!bins) return fail_early(bins.error());
    auto ports = pick_ports(spec.role);
    if (!ports) return fail_early(ports.error());
    state.phase = "creating";
    state.creator_pid = static_cast<int>(::getpid());
    state.binaries = *bins;
    state.ports = *ports;
    state.netns = current_netns();
    state.created_at = now_rfc3339();
    if (auto st = write_json(p.spec(), spec.to_json()); !st) return fail_early(st.error());
    if (auto st = write_json(p.state(), state.to_json()); !st) return fail_early(st.error());
    if (spec.role == Role::karmada)
      progress.say("karmada", "creating (Karmada " + spec.karmada_version + " on Kubernetes " +
                                  spec.kubernetes_version + ", API " + state.endpoint() + ")");
    else
      progress.say("cluster " + spec.name, "creating (" + std::to_string(spec.nodes) + " nodes, Kubernetes " +
                                               spec.kubernetes_version + ", API " + state.endpoint() + ")");
    for (auto d : {p.logs(), p.pids(), p.kubeconfigs(), p.etcd_data(), p.root / "kwok-home"}) {
      stdfs::create_directories(d, ec);
      stdfs::permissions(d, stdfs::perms::owner_all, ec);
    }
    if (auto st = write_credentials(p, spec, state); !st) {
      state.phase = "failed";
      (void)write_json(p.state(), state.to_json());
      return st.error().context("writing the cluster's credentials");
    }
    progress.say("certificates", "CA, serving and client certificates, service-account keys written");
  } else {
    // Record that this process is (re)starting it.
    state.phase = "creating";
    state.creator_pid = static_cast<int>(::getpid());
    (void)write_json(p.state(), state.to_json());
  }

  Bringup bringup(p, spec, state, deadline, progress);
  bringup.set_hook(opts.on_api_ready);
  auto st = bringup.run();
  if (!st) {
    Error err = st.error();
    if (!bringup.failed_component.empty())
      print_log_tail(bringup.failed_component, p.log(bringup.failed_component));
    spdlog::error("create of {} failed after {:.1f}s: {}; stopping what was started", noun,
                  progress.elapsed_seconds(), err.message);
    bringup.stop_started();
    if (fresh) {
      stop_all(p, spec.role);  // strays too
      state.phase = "failed";
    } else {
      state.phase = "created";  // as it was: some components down
    }
    (void)write_json(p.state(), state.to_json());
    {
      const std::string remove_with =
          "remove it with: " + (spec.role == Role::karmada ? std::string("kurator uninstall karmada --provider local")
                                                           : "kurator delete cluster " + spec.name + " --provider local");
      err.hint = err.hint.empty() ? "logs are in " + p.logs().string() + "; " + remove_with
                                  : err.hint + "; " + remove_with;
    }
    return err;
  }
  state.phase = "created";
  KURATOR_TRY(write_json(p.state(), state.to_json()));
  result.elapsed = progress.elapsed();
  auto final_status = status_at(p, spec.name);
  if (!final_status) return final_status.error();
  result.status = std::move(*final_status);
  progress.say(spec.role == Role::karmada ? std::string("karmada") : "cluster " + spec.name, "ready");
  return result;
}

Result<CreatePlan> Provider::plan(const CreateOptions& opts) const {
  auto spec_r = normalize(opts.spec);
  if (!spec_r) return spec_r.error();
  CreatePlan plan;
  plan.spec = *spec_r;
  auto p = paths_for(plan.spec);
  plan.root = p.root;
  plan.kubeconfig = p.kubeconfig();
  std::error_code ec;
  if (stdfs::is_directory(p.root, ec)) {
    auto current = status_at(p, plan.spec.name);
    if (current && current->phase == "Running" && spec_differences(current->spec, plan.spec).empty()) {
      plan.already_running = true;
      return plan;
    }
  }
  auto bins =
      plan.spec.role == Role::karmada
          ? resolve_karmada_binaries(opts.bin_dir, plan.spec.kubernetes_version, plan.spec.karmada_version)
          : resolve_binaries(opts.bin_dir, plan.spec.kubernetes_version);
  if (!bins) return bins.error();
  auto ports = pick_ports(plan.spec.role);
  if (!ports) return ports.error();
  State state;
  state.binaries = *bins;
  state.ports = *ports;
  Progress progress;
  Bringup b(p, plan.spec, state, Clock::now(), progress);
  for (const auto& c : component_names(plan.spec.role)) plan.processes.push_back({c, b.command(c)});
  return plan;
}

}  // namespace kurator::providers::local
