// The vms provider's operations: SSH preflight, the managed KubeSpray toolchain, ansible-playbook runs
// with a progress view, the kubeconfig, and the lifecycle of a cluster with its steps recorded.
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/providers/vms_cluster.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace kurator::providers::vms {
namespace {

using Clock = std::chrono::steady_clock;

std::string join(const std::vector<std::string>& v, const char* sep) {
  return fmt::format("{}", fmt::join(v, sep));
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string seconds_text(Clock::duration d) {
  return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count());
}

std::ostream& out_of(const Options& o) {
  return o.out ? *o.out : std::cout;
}
std::ostream& progress_of(const Options& o) {
  return o.progress ? *o.progress : std::cerr;
}

stdfs::path cluster_root(const stdfs::path& home, const std::string& name) {
  return home / "clusters" / name;
}

// ---- the record: vms.json ------------------------------------------------------------------------

struct Record {
  ClusterDir dir;
  json
      state;  // {provider, name, config: {source, text}, kubernetesVersion, operation: {...}, history: [...]}

  explicit Record(stdfs::path root) : dir(std::move(root)) {}
  stdfs::path file() const { return dir.root / kStateFile; }
  Status save() const { return fs::write_private_file(file(), state.dump(2) + "\n"); }
};

Result<Record> load_record(const stdfs::path& home, const std::string& name) {
  Record r(cluster_root(home, name));
  auto text = fs::read_file(r.file());
  if (!text)
    return Error("vms cluster \"" + name + "\" not found (no " + r.file().string() + ")", ExitCode::failure,
                 "list clusters with: kurator get clusters");
  try {
    r.state = json::parse(*text);
  } catch (const std::exception& e) {
    return Error(r.file().string() + ": not valid JSON (" + e.what() + ")", ExitCode::failure,
                 "it is kurator's record of the cluster; restore it or delete the folder");
  }
  return r;
}

Result<VmsConfig> recorded_config(const Record& r) {
  const json& c = r.state.value("config", json::object());
  auto cfg = parse_config(c.value("text", ""), c.value("source", (r.dir.root / "cluster.yaml").string()));
  if (!cfg) {
    auto e = cfg.error();
    e.message = "the recorded config of " + r.dir.root.filename().string() + " (" + r.file().string() +
                ") no longer passes its checks: " + e.message;
    return e;
  }
  return cfg;
}

// The record of an existing cluster and its config.
struct Opened {
  Record rec;
  VmsConfig cfg;
};
Result<Opened> open_cluster(const stdfs::path& home, const std::string& name) {
  auto rec = load_record(home, name);
  if (!rec) return rec.error();
  auto cfg = recorded_config(*rec);
  if (!cfg) return cfg.error();
  return Opened{std::move(*rec), std::move(*cfg)};
}

// One operation on the record: its steps done so far, resumed from an earlier failed run of the same
// operation with the same input.
class Operation {
 public:
  Operation(Record& r, std::string name, std::string input, bool check, std::ostream& progress)
      : m_r(r), m_name(std::move(name)), m_input(std::move(input)), m_check(check) {
    const json prev = r.state.value("operation", json());
    if (!check && prev.is_object() && prev.value("name", "") == m_name &&
        prev.value("input", "") == m_input && prev.value("result", "") != "succeeded" &&
        !prev.value("check", false)) {
      for (const auto& s : prev.value("done", json::array())) m_done.push_back(s.get<std::string>());
      if (!m_done.empty())
        progress << fmt::format("resuming {} of {} after its {} at step {}: {} already done ({})\n", m_name,
                                r.dir.root.filename().string(),
                                prev.value("result", "") == "running" ? "interruption" : "failure",
                                prev.value("step", "?"), join(m_done, ", "), prev.value("startedAt", ""));
    }
    if (prev.is_object()) {
      json& h = r.state["history"];
      if (!h.is_array()) h = json::array();
      h.push_back(prev);
      while (h.size() > 20) h.erase(h.begin());
    }
    r.state["operation"] = {{"name", m_name},      {"input", m_input},
                            {"check", check},      {"startedAt", now_rfc3339()},
                            {"result", "running"}, {"done", m_done}};
  }
  bool done(const std::string& step) const {
    return std::find(m_done.begin(), m_done.end(), step) != m_done.end();
  }
  Status start(const std::string& step) {
    m_r.state["operation"]["step"] = step;
    return m_r.save();
  }
  Status finish(const std::string& step) {
    if (!m_check) m_done.push_back(step);
    m_r.state["operation"]["done"] = m_done;
    return m_r.save();
  }
  // Records the failure and returns it.
  Error fail(const Error& e) {
    m_r.state["operation"]["result"] = "failed";
    m_r.state["operation"]["message"] = e.message;
    m_r.state["operation"]["finishedAt"] = now_rfc3339();
    (void)m_r.save();
    return e;
  }
  Status succeed() {
    m_r.state["operation"]["result"] = m_check ? "checked" : "succeeded";
    m_r.state["operation"]["finishedAt"] = now_rfc3339();
    m_r.state["operation"].erase("step");
    return m_r.save();
  }

 private:
  Record& m_r;
  std::string m_name, m_input;
  bool m_check;
  std::vector<std::string> m_done;
};

// ---- display ----------------------------------------------------------------------------------------

bool secret_name(const std::string& key) {
  std::string k = key;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* w : {"password", "passwd", "secret", "token", "credential"})
    if (k.find(w) != std::string::npos) return true;
  return k.size() > 4 && k.compare(k.size() - 4, 4, "_key") == 0;
}

// group vars for display: values of secret-named variables replaced.
json redacted(json v) {
  if (v.is_object())
    for (auto it = v.begin(); it != v.end(); ++it)
      it.value() = secret_name(it.key()) ? json("<redacted>") : redacted(it.value());
  else if (v.is_array())
    for (auto& e : v) e = redacted(e);
  return v;
}

std::string display_group_vars(const VmsConfig& cfg, const stdfs::path& root) {
  VmsConfig shown = cfg;
  shown.extra_vars = redacted(cfg.extra_vars);
  return render_group_vars(shown, root);
}

Status write_inventory(const VmsConfig& cfg, const ClusterDir& dir) {
  std::error_code ec;
  stdfs::create_directories(dir.group_vars().parent_path(), ec);
  stdfs::create_directories(dir.artifacts(), ec);
  if (ec) return Error("cannot create " + dir.inventory_dir().string() + ": " + ec.message());
  KURATOR_TRY(fs::write_private_file(dir.inventory(), render_inventory(cfg)));
  // extraVars may hold secrets: 0600.
  return fs::write_private_file(dir.group_vars(), render_group_vars(cfg, dir.root));
}

Status prepare_run_dirs(const PlaybookRun& run) {
  std::error_code ec;
  for (const char* k : {"ANSIBLE_CACHE_PLUGIN_CONNECTION", "ANSIBLE_SSH_CONTROL_PATH_DIR"})
    if (auto it = run.env.find(k); it != run.env.end()) {
      stdfs::create_directories(it->second, ec);
      if (ec) return Error("cannot create " + it->second + ": " + ec.message());
      stdfs::permissions(it->second, stdfs::perms::owner_all, ec);
    }
  return {};
}

std::string playbook_name(const PlaybookRun& run) {
  for (const auto& a : run.argv)
    if (a.size() > 4 && a.compare(a.size() - 4, 4, ".yml") == 0) return a;
  return "playbook";
}

// The shared first part of every operation's dry run.
void print_plan_head(std::ostream& out, const std::string& what, const VmsConfig& cfg,
                     const ClusterDir& dir) {
  out << "# " << what << "\n";
  out << "# " << dir.inventory().string() << "\n" << render_inventory(cfg);
  out << "# " << dir.group_vars().string() << "\n" << display_group_vars(cfg, dir.root);
}

void print_ssh_checks(std::ostream& out, const VmsConfig& cfg) {
  out << "# preflight over SSH on every host at once (reachable, key accepted, /usr/bin/python3, sudo -n "
         "true, "
         "clock within "
      << kMaxClockSkew.count() << "s):\n";
  for (const auto& h : cfg.hosts) {
    std::vector<std::string> argv = ssh_check_argv(h);
    argv.back() = "'" + argv.back() + "'";
    out << join(argv, " ") << "\n";
  }
}

}  // namespace

// ---- machines --------------------------------------------------------------------------------------

std::vector<std::string> ssh_check_argv(const Host& h) {
  return {"ssh",
          "-i",
          h.key_file.string(),
          "-p",
          std::to_string(h.port),
          "-o",
          "BatchMode=yes",
          "-o",
          "ConnectTimeout=5",
          "-o",
          "ConnectionAttempts=1",
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          "ControlMaster=no",
          "-o",
          "LogLevel=ERROR",
          "-l",
          h.user,
          h.address,
          "echo kurator-ssh-ok; if [ -x /usr/bin/python3 ]; then echo python=yes; else echo python=no; fi; "
          "if sudo -n true 2>/dev/null; then echo sudo=yes; else echo sudo=no; fi; echo time=$(date +%s)"};
}

std::vector<HostProblem> ssh_preflight(const VmsConfig& cfg, process::Runner& runner) {
  std::vector<std::vector<HostProblem>> per_host(cfg.hosts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < cfg.hosts.size(); ++i)
    threads.emplace_back([&, i] {
      const Host& h = cfg.hosts[i];
      auto add = [&](std::string check, std::string problem) {
        per_host[i].push_back(
            {h.name, h.address + ":" + std::to_string(h.port), std::move(check), std::move(problem)});
      };
      process::Spec spec;
      spec.argv = ssh_check_argv(h);
      spec.timeout = kSshCheckTimeout;
      spec.kill_grace = std::chrono::milliseconds(500);
      const auto before = std::chrono::system_clock::now();
      auto r = runner.run(spec);
      const auto after = std::chrono::system_clock::now();
      if (!r) return add("reachable", r.error().message);
      if (r->timed_out)
        return add("reachable", "no answer within " + std::to_string(kSshCheckTimeout.count()) + "s");
      std::string err = r->err;
      while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
      if (auto nl = err.rfind('\n'); nl != std::string::npos) err = err.substr(nl + 1);
      if (r->out.find("kurator-ssh-ok") == std::string::npos) {
        if (err.find("Permission denied") != std::string::npos ||
            err.find("Too many authentication") != std::string::npos)
          return add("ssh login", "the key " + h.key_file.string() + " is not accepted for user " + h.user +
                                      " (" + err + ")");
        return add("reachable", err.empty() ? r->describe("ssh") : err);
      }
      if (r->out.find("python=yes") == std::string::npos)
        add("python3", "no /usr/bin/python3 (ansible's modules run with it): install python3 on the host");
      if (r->out.find("sudo=yes") == std::string::npos)
        add("sudo", "`sudo -n true` fails for user " + h.user +
                        ": KubeSpray runs with become; give the user passwordless sudo");
      if (auto p = r->out.find("time="); p != std::string::npos) {
        long long remote = std::atoll(r->out.c_str() + p + 5);
        long long mid = std::chrono::duration_cast<std::chrono::seconds>(
                            (before.time_since_epoch() + after.time_since_epoch()) / 2)
                            .count();
        long long skew = remote - mid;
        if (std::llabs(skew) > kMaxClockSkew.count())
          add("clock",
              fmt::format(
                  "the host's clock is {}s {} this machine's: certificates would be refused; sync it (NTP)",
                  std::llabs(skew), skew > 0 ? "ahead of" : "behind"));
      }
    });
  for (auto& t : threads) t.join();
  std::vector<HostProblem> out;
  for (auto& v : per_host) out.insert(out.end(), v.begin(), v.end());
  return out;
}

std::string problems_table(const std::vector<HostProblem>& problems) {
  size_t w0 = 4, w1 = 7, w2 = 5;
  for (const auto& p : problems) {
    w0 = std::max(w0, p.host.size());
    w1 = std::max(w1, p.address.size());
    w2 = std::max(w2, p.check.size());
  }
  std::string out =
      fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", "HOST", w0, "ADDRESS", w1, "CHECK", w2, "PROBLEM");
  for (const auto& p : problems)
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", p.host, w0, p.address, w1, p.check, w2, p.problem);
  return out;
}

stdfs::path venv_root(const stdfs::path& home) {
  std::string dir = fs::env("KURATOR_VENV_DIR");
  return dir.empty() ? home / "kubespray" : stdfs::path(dir);
}

Toolchain planned_toolchain(const artifacts::Store* store, const stdfs::path& home) {
  Toolchain t;
  t.venv = venv_root(home) / "venv-<requirements hash>";
  if (!store) return t;
  auto a = store->resolve("kubespray-source");
  if (!a) return t;
  t.kubespray_dir = store->cache_dir(*a) / "x" / a->path;
  if (auto req = fs::read_file(t.kubespray_dir / "requirements.txt"); req)
    t.venv = venv_root(home) / ("venv-" + artifacts::sha256_hex(*req).substr(0, 12));
  return t;
}

Result<Toolchain> ensure_toolchain(artifacts::Store& store, const stdfs::path& home, process::Runner& runner,
                                   const std::string& python, std::ostream& progress) {
  auto fetched = store.ensure("kubespray-source");
  if (!fetched) return fetched.error();
  Toolchain t;
  t.kubespray_dir = fetched->path;
  auto req = fs::read_file(t.kubespray_dir / "requirements.txt");
  if (!req)
    return Error("the KubeSpray tree at " + t.kubespray_dir.string() + " has no requirements.txt",
                 ExitCode::failure, "kurator tool verify; or kurator tool prune and re-run");
  const std::string key = artifacts::sha256_hex(*req).substr(0, 12);
  t.venv = venv_root(home) / ("venv-" + key);
  const stdfs::path stamp = t.venv / ".kurator-complete";
  std::error_code ec;
  if (stdfs::exists(stamp, ec) && stdfs::exists(t.venv / "bin" / "ansible-playbook", ec)) return t;
  // A half-made venv (interrupted pip) is made again; venvs hold absolute paths, so in place.
  stdfs::remove_all(t.venv, ec);
  stdfs::create_directories(t.venv.parent_path(), ec);
  const auto t0 = Clock::now();
  progress << "making the KubeSpray virtualenv " << t.venv.string() << " (requirements.txt " << key << ")\n";
  process::Spec mk;
  mk.argv = {python, "-m", "venv", t.venv.string()};
  mk.timeout = std::chrono::minutes(5);
  auto r = runner.run(mk);
  if (!r) return r.error();
  if (!r->success())
    return Error(r->describe(python + " -m venv"), ExitCode::failure,
                 "kurator needs Python 3 with its venv module (Debian: apt-get install python3-venv)");
  process::Spec pip;
  pip.argv = {(t.venv / "bin" / "pip").string(),
              "install",
              "--disable-pip-version-check",
              "--no-input",
              "-q",
              "-r",
              (t.kubespray_dir / "requirements.txt").string()};
  pip.env = artifacts::proxy_env();
  pip.timeout = std::chrono::minutes(20);
  pip.log_prefix = "pip";
  r = runner.run(pip);
  if (!r) return r.error();
  if (!r->success()) {
    stdfs::remove_all(t.venv, ec);
    return Error(
        r->describe("pip install -r requirements.txt"), ExitCode::failure,
        "pip reads its index from PIP_INDEX_URL / pip.conf; offline: PIP_FIND_LINKS with the wheels");
  }
  KURATOR_TRY(fs::write_file_atomic(stamp, *req));
  progress << "virtualenv ready after " << seconds_text(Clock::now() - t0) << "\n";
  return t;
}

Status run_playbook(const PlaybookRun& run, process::Runner& runner, const stdfs::path& log,
                    const std::string& label, const Options& opts) {
  KURATOR_TRY(prepare_run_dirs(run));
  std::error_code ec;
  stdfs::create_directories(log.parent_path(), ec);
  std::ofstream logf(log, std::ios::trunc);
  if (!logf) return Error("cannot write " + log.string());
  stdfs::permissions(log, stdfs::perms::owner_read | stdfs::perms::owner_write, ec);
  std::ostream& progress = progress_of(opts);
  const std::string playbook = playbook_name(run);
  PlaybookProgress pp;
  std::mutex mu;
  const auto t0 = Clock::now();
  auto last_print = t0;
  std::string last_task;
  auto status_line = [&] {
    int ok = 0, changed = 0, failed = 0, unreachable = 0;
    for (const auto& [h, c] : pp.hosts()) {
      ok += c.ok;
      changed += c.changed;
      failed += c.failed;
      unreachable += c.unreachable;
    }
    const std::string where = pp.finished() || pp.task().empty()
                                  ? fmt::format("{} plays, {} tasks", pp.plays(), pp.tasks())
                                  : fmt::format("play {} · task {}: {}", pp.plays(), pp.tasks(), pp.task());
    return fmt::format("[{}] {} · {} · {} hosts ok={} changed={} failed={}{} · {}", label, playbook, where,
                       pp.hosts().size(), ok, changed, failed,
                       unreachable ? fmt::format(" unreachable={}", unreachable) : "",
                       seconds_text(Clock::now() - t0));
  };
  process::Spec spec;
  spec.argv = run.argv;
  spec.env = run.env;
  for (auto& [k, v] : artifacts::proxy_env()) spec.env.emplace(k, v);
  spec.cwd = run.cwd;
  spec.capture_output = false;
  spec.on_line = [&](std::string_view line, bool is_stderr) {
    std::lock_guard<std::mutex> lock(mu);
    logf << (is_stderr ? "stderr: " : "") << line << "\n";
    if (opts.verbosity > 0) progress << "[" << label << "] " << line << "\n";
    if (is_stderr) return;
    pp.feed(line);
    if (opts.verbosity > 0) return;
    const auto now = Clock::now();
    if (opts.tty) {
      progress << "\r\033[K" << status_line() << std::flush;
    } else if (pp.task() != last_task && now - last_print >= std::chrono::seconds(5)) {
      progress << status_line() << "\n";
      last_print = now;
    }
    last_task = pp.task();
  };
  progress << fmt::format("[{}] running {} (log: {})\n", label, playbook, log.string());
  auto r = runner.run(spec);
  logf.flush();
  // A short socket folder under /tmp (control_path_dir) does not outlive the run.
  if (auto it = run.env.find("ANSIBLE_SSH_CONTROL_PATH_DIR");
      it != run.env.end() && it->second.rfind("/tmp/kurator-ssh-", 0) == 0)
    stdfs::remove_all(it->second, ec);
  if (opts.tty && opts.verbosity == 0) progress << "\r\033[K";
  if (!r) return r.error();
  progress << status_line() << (r->success() ? " · done\n" : "\n");
  if (r->success()) return {};
  if (r->interrupted)
    return Error(playbook + " was interrupted", ExitCode::interrupted, "full log: " + log.string());
  const std::string hint =
      "full log: " + log.string() + "; fix it and re-run the same command: it resumes here";
  if (auto f = pp.failure()) {
    std::string msg = f->msg.empty() ? "(no message)" : f->msg;
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg = msg.substr(0, nl) + " …";
    if (f->unreachable)
      return Error(
          fmt::format("{} failed: host {} unreachable at task \"{}\": {}", playbook, f->host, f->task, msg),
          ExitCode::failure, hint);
    return Error(fmt::format("{} failed at task \"{}\" on host {}: {}{}", playbook, f->task, f->host, msg,
                             f->item.empty() ? "" : " (item " + f->item + ")"),
                 ExitCode::failure, hint);
  }
  return Error(r->describe(playbook), ExitCode::failure, hint);
}

std::string api_server(const VmsConfig& cfg, const std::string& override_endpoint) {
  if (!override_endpoint.empty()) {
    std::string e = override_endpoint;
    if (e.rfind("https://", 0) != 0) e = "https://" + e;
    if (e.find(':', 8) == std::string::npos) e += ":" + std::to_string(kDefaultApiPort);
    return e;
  }
  if (!cfg.api_endpoint.empty()) return cfg.api_endpoint;
  auto cps = cfg.with_role(Role::control_plane);
  std::string host = cps.empty() ? "127.0.0.1" : cps.front()->address;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "https://" + host + ":" + std::to_string(kDefaultApiPort);
}

Result<std::string> kubeconfig_from_admin_conf(std::string_view admin_conf, const std::string& server,
                                               const stdfs::path& source) {
  auto doc = yaml::parse_one(admin_conf, source.string());
  if (!doc) return doc.error();
  json& kc = *doc;
  if (!kc.is_object() || !kc.contains("clusters") || !kc["clusters"].is_array() || kc["clusters"].empty())
    return Error(source.string() + ": clusters: missing (not a kubeconfig)", ExitCode::failure,
                 "KubeSpray writes it with kubeconfig_localhost: true; re-run the create");
  for (auto& c : kc["clusters"])
    if (c.is_object() && c.contains("cluster") && c["cluster"].is_object()) c["cluster"]["server"] = server;
  return yaml::dump(kc);
}

// ---- clusters --------------------------------------------------------------------------------------

bool is_vms_cluster(const stdfs::path& home, const std::string& name) {
  std::error_code ec;
  return stdfs::exists(cluster_root(home, name) / kStateFile, ec);
}

std::vector<ClusterInfo> list_clusters(const stdfs::path& home) {
  std::vector<ClusterInfo> out;
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : stdfs::directory_iterator(home / "clusters", ec))
    if (e.is_directory(ec) && is_vms_cluster(home, e.path().filename().string()))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    ClusterInfo info;
    info.name = n;
    auto r = load_record(home, n);
    if (!r) {
      info.result = "failed";
      info.message = r.error().message;
      out.push_back(info);
      continue;
    }
    info.kubernetes_version = r->state.value("kubernetesVersion", "");
    info.hosts = static_cast<int>(r->state.value("hosts", json::array()).size());
    info.api_server = r->state.value("apiServer", "");
    const json op = r->state.value("operation", json::object());
    info.last_operation = op.value("name", "") + (op.value("check", false) ? " --check" : "");
    info.result = op.value("result", "");
    info.message = op.value("message", "");
    if (op.value("result", "") == "running" && !op.value("step", "").empty())
      info.result += " (" + op.value("step", "") + ")";
    if (stdfs::exists(r->dir.root / "kubeconfig", ec)) info.kubeconfig = r->dir.root / "kubeconfig";
    out.push_back(info);
  }
  return out;
}

Result<std::string> kubeconfig(const stdfs::path& home, const std::string& name) {
  auto r = load_record(home, name);
  if (!r) return r.error();
  auto text = fs::read_file(r->dir.root / "kubeconfig");
  if (!text)
    return Error("vms cluster \"" + name + "\" has no kubeconfig yet", ExitCode::failure,
                 "its create has not finished; see kurator get clusters, and re-run the create to resume");
  return text;
}

namespace {

PlaybookOptions playbook_options(const Toolchain& t, const Options& o) {
  PlaybookOptions p;
  p.toolchain = t;
  p.check = o.check;
  return p;
}

Result<Toolchain> toolchain_for(const Options& o) {
  if (o.dry_run) return planned_toolchain(o.store, o.home);
  if (!o.store || !o.runner) return Error("internal: vms operation without a store or runner");
  return ensure_toolchain(*o.store, o.home, *o.runner, o.python, progress_of(o));
}

// The preflight step: the SSH checks (before anything is fetched or made), then the toolchain, then
// KubeSpray's own validation (cluster.yml --tags always, which changes nothing). Returns the toolchain.
Result<Toolchain> preflight(const VmsConfig& cfg, const ClusterDir& dir, Operation& op, const Options& o,
                            const std::string& label) {
  const bool todo = !op.done("preflight");
  if (todo) {
    KURATOR_TRY(op.start("preflight"));
    const auto t0 = Clock::now();
    progress_of(o) << fmt::format("[{}] preflight over SSH on {} hosts\n", label, cfg.hosts.size());
    auto problems = ssh_preflight(cfg, *o.runner);
    if (!problems.empty()) {
      progress_of(o) << problems_table(problems);
      std::set<std::string> where;
      for (const auto& p : problems) where.insert(p.host);
      return op.fail(
          Error(fmt::format("preflight failed: {} problem{} on {}; nothing was changed on the hosts",
                            problems.size(), problems.size() == 1 ? "" : "s",
                            join(std::vector<std::string>(where.begin(), where.end()), ", ")),
                ExitCode::failure, "see the table above; fix the hosts and re-run"));
    }
    progress_of(o) << fmt::format("[{}] every host answers over SSH with python3 and sudo ({})\n", label,
                                  seconds_text(Clock::now() - t0));
  }
  auto t = toolchain_for(o);
  if (!t) return op.fail(t.error());
  if (!todo) return t;
  auto run = preflight_command(cfg, dir.root, playbook_options(*t, o));
  if (auto st =
          run_playbook(run, *o.runner, dir.run_dir("preflight") / "ansible.log", label + " preflight", o);
      !st)
    return op.fail(Error("KubeSpray's validation refused the cluster: " + st.error().message, st.error().exit,
                         st.error().hint));
  KURATOR_TRY(op.finish("preflight"));
  return t;
}

Status run_step(const std::string& step, const PlaybookRun& run, const ClusterDir& dir, Operation& op,
                const Options& o, const std::string& label) {
  if (op.done(step)) return {};
  KURATOR_TRY(op.start(step));
  auto st = run_playbook(run, *o.runner, dir.run_dir(label) / (step + ".log"), label, o);
  if (!st) return op.fail(st.error());
  return op.finish(step);
}

// admin.conf -> kubeconfig (0600), then every host's Node Ready.
Status kubeconfig_and_nodes(const VmsConfig& cfg, Record& rec, Operation& op, const Options& o,
                            const std::string& label) {
  if (o.check) return {};
  const ClusterDir& dir = rec.dir;
  // --api-endpoint, else what the create used, else the config's.
  const std::string server = !o.api_endpoint.empty() ? api_server(cfg, o.api_endpoint)
                                                     : rec.state.value("apiServer", api_server(cfg, ""));
  if (!op.done("kubeconfig")) {
    KURATOR_TRY(op.start("kubeconfig"));
    auto admin = fs::read_file(dir.admin_conf());
    if (!admin)
      return op.fail(
          Error("KubeSpray left no " + dir.admin_conf().string(), ExitCode::failure,
                "it writes admin.conf with kubeconfig_localhost: true at the end of cluster.yml; see the "
                "run's log in " +
                    dir.run_dir(label).string()));
    auto kc = kubeconfig_from_admin_conf(*admin, server, dir.admin_conf());
    if (!kc) return op.fail(kc.error());
    if (auto st = fs::write_private_file(dir.root / "kubeconfig", *kc); !st) return op.fail(st.error());
    rec.state["apiServer"] = server;
    KURATOR_TRY(op.finish("kubeconfig"));
  }
  KURATOR_TRY(op.start("nodes"));
  kubeconfig::LoadOptions lo;
  lo.explicit_path = (dir.root / "kubeconfig").string();
  auto rc = kubeconfig::load(lo);
  if (!rc) return op.fail(rc.error());
  kube::Client client(*rc);
  std::vector<kube::WaitTarget> targets;
  for (const auto& h : cfg.hosts) targets.push_back({"v1", "Node", "", h.name});
  kube::WaitOptions wo;
  wo.timeout = o.wait_timeout;
  wo.tty = o.tty;
  wo.progress = &progress_of(o);
  progress_of(o) << fmt::format("[{}] waiting for {} nodes Ready at {}\n", label, targets.size(), server);
  if (auto st = kube::wait_ready(client, targets, wo); !st) return op.fail(st.error());
  return op.finish("nodes");
}

// What identifies an operation's input for resuming: the config text's digest.
std::string input_of(const std::string& text) {
  return artifacts::sha256_hex(text).substr(0, 16);
}

void record_config(Record& rec, const VmsConfig& cfg, const std::string& text) {
  rec.state["config"] = {{"source", stdfs::absolute(cfg.source).string()}, {"text", text}};
  rec.state["kubernetesVersion"] = cfg.kubernetes_version;
  json hosts = json::array();
  for (const auto& h : cfg.hosts) hosts.push_back(h.name);
  rec.state["hosts"] = hosts;
}

void print_next(std::ostream& out, const std::string& name, const stdfs::path& root) {
  out << "Use it with:\n"
      << "  export KUBECONFIG=" << (root / "kubeconfig").string() << "\n"
      << "  kubectl get nodes\n"
      << "Delete it with:\n"
      << "  kurator delete cluster " << name << " --provider vms\n";
}

// The config text as the user gave it, and its checks.
Result<std::pair<VmsConfig, std::string>> read_config(const stdfs::path& file) {
  auto cfg = load_config(file);
  if (!cfg) return cfg.error();
  auto text = fs::read_file(file);
  if (!text) return text.error();
  return std::make_pair(std::move(*cfg), std::move(*text));
}

}  // namespace

Status create(const std::string& name, const stdfs::path& config_file, const Options& o) {
  KURATOR_TRY(check_cluster_name(name));
  auto read = read_config(config_file);
  if (!read) return read.error();
  auto& [cfg, text] = *read;
  Record rec(cluster_root(o.home, name));
  std::error_code ec;
  const bool exists = stdfs::exists(rec.file(), ec);
  if (!exists && stdfs::exists(rec.dir.root, ec))
    return Error("a cluster \"" + name + "\" of another provider exists (" + rec.dir.root.string() + ")",
                 ExitCode::usage, "choose another name, or delete it first: kurator delete cluster " + name);
  const std::string input = input_of(text);
  if (exists) {
    auto loaded = load_record(o.home, name);
    if (!loaded) return loaded.error();
    rec.state = loaded->state;
    const json op = rec.state.value("operation", json::object());
    bool created = op.value("name", "") == "create" && op.value("result", "") == "succeeded";
    for (const auto& h : rec.state.value("history", json::array()))
      if (h.value("name", "") == "create" && h.value("result", "") == "succeeded") created = true;
    if (created) {
      if (rec.state.value("config", json::object()).value("text", "") != text)
        return Error("vms cluster \"" + name + "\" exists with another config", ExitCode::usage,
                     "to add hosts: kurator scale cluster " + name + " -f " + config_file.string() +
                         "; to change the version: kurator upgrade cluster " + name);
      out_of(o) << "vms cluster \"" << name << "\" already exists with this config (" << cfg.hosts.size()
                << " hosts, Kubernetes " << cfg.kubernetes_version << "); nothing to do.\n";
      return {};
    }
  }
  const std::string what =
      o.check ? "create (KubeSpray check mode: a preview, nothing changes on the hosts)" : "create";
  if (o.dry_run) {
    auto t = planned_toolchain(o.store, o.home);
    std::ostream& out = out_of(o);
    print_plan_head(out, "vms cluster " + name + ": " + what + " would write:", cfg, rec.dir);
    out << "# KubeSpray " << cfg.kubespray_version << ": the kubespray-source artifact ("
        << (t.kubespray_dir.empty() ? "fetched into the cache" : t.kubespray_dir.string())
        << ") and a virtualenv with its requirements.txt (" << t.venv.string() << ")\n";
    print_ssh_checks(out, cfg);
    out << "# KubeSpray's validation (changes nothing):\n"
        << display(preflight_command(cfg, rec.dir.root, playbook_options(t, o)));
    out << "# the cluster:\n" << display(create_command(cfg, rec.dir.root, playbook_options(t, o)));
    if (!o.check)
      out << "# then " << rec.dir.admin_conf().string() << " with server " << api_server(cfg, o.api_endpoint)
          << " written (0600) to " << (rec.dir.root / "kubeconfig").string() << ", and a wait for nodes " <<
          [&] {
            std::vector<std::string> n;
            for (const auto& h : cfg.hosts) n.push_back(h.name);
            return join(n, ", ");
          }()
          << " Ready\n";
    return {};
  }
  std::error_code mk;
  stdfs::create_directories(rec.dir.root, mk);
  if (mk) return Error("cannot create " + rec.dir.root.string() + ": " + mk.message());
  if (!exists) rec.state = {{"provider", "vms"}, {"name", name}, {"createdAt", now_rfc3339()}};
  record_config(rec, cfg, text);
  rec.state["apiServer"] = api_server(cfg, o.api_endpoint);
  Operation op(rec, "create", input, o.check, progress_of(o));
  KURATOR_TRY(rec.save());
  const auto t0 = Clock::now();
  if (auto st = write_inventory(cfg, rec.dir); !st) return op.fail(st.error());
  auto t = preflight(cfg, rec.dir, op, o, name);
  if (!t) return t.error();
  KURATOR_TRY(run_step("cluster.yml", create_command(cfg, rec.dir.root, playbook_options(*t, o)), rec.dir, op,
                       o, "create"));
  KURATOR_TRY(kubeconfig_and_nodes(cfg, rec, op, o, "create"));
  KURATOR_TRY(op.succeed());
  if (o.check) {
    out_of(o) << "KubeSpray's check mode passed for \"" << name << "\" after "
              << seconds_text(Clock::now() - t0)
              << "; nothing was changed on the hosts. Run it without --check to create the cluster.\n";
    return {};
  }
  out_of(o) << "vms cluster \"" << name << "\" is ready (" << cfg.hosts.size() << " nodes, Kubernetes "
            << cfg.kubernetes_version << ") after " << seconds_text(Clock::now() - t0)
            << ".\nAPI server: " << rec.state.value("apiServer", api_server(cfg, o.api_endpoint)) << "\n";
  print_next(out_of(o), name, rec.dir.root);
  return {};
}

Status scale_up(const std::string& name, const stdfs::path& config_file, const Options& o) {
  auto opened = open_cluster(o.home, name);
  if (!opened) return opened.error();
  auto* rec = &opened->rec;
  auto* old_cfg = &opened->cfg;
  auto read = read_config(config_file);
  if (!read) return read.error();
  auto& [cfg, text] = *read;
  std::set<std::string> old_names;
  for (const auto& h : old_cfg->hosts) old_names.insert(h.name);
  std::set<std::string> new_names;
  std::vector<std::string> added;
  for (const auto& h : cfg.hosts) {
    new_names.insert(h.name);
    if (!old_names.count(h.name)) added.push_back(h.name);
  }
  for (const auto& n : old_names)
    if (!new_names.count(n))
      return Error(
          config_file.string() + ": hosts: " + n + " of cluster " + name + " is missing", ExitCode::usage,
          "scale -f only adds hosts; remove one with: kurator scale cluster " + name + " --remove-host " + n);
  if (cfg.kubernetes_version != old_cfg->kubernetes_version)
    return Error(config_file.string() + ": kubernetesVersion: " + cfg.kubernetes_version +
                     " differs from the cluster's " + old_cfg->kubernetes_version,
                 ExitCode::usage,
                 "change the version with: kurator upgrade cluster " + name + " --kubernetes-version V");
  if (added.empty()) {
    out_of(o) << "vms cluster \"" << name << "\" already has every host of " << config_file.string() << " ("
              << cfg.hosts.size() << "); nothing to do.\n";
    return {};
  }
  if (o.dry_run) {
    auto t = planned_toolchain(o.store, o.home);
    print_plan_head(out_of(o),
                    "vms cluster " + name + ": scale would add " + join(added, ", ") + " and write:", cfg,
                    rec->dir);
    print_ssh_checks(out_of(o), cfg);
    for (const auto& run : scale_commands(cfg, rec->dir.root, added, playbook_options(t, o)))
      out_of(o) << display(run);
    return {};
  }
  const auto t0 = Clock::now();
  Operation op(*rec, "scale", input_of(text), o.check, progress_of(o));
  KURATOR_TRY(rec->save());
  if (auto st = write_inventory(cfg, rec->dir); !st) return op.fail(st.error());
  auto t = preflight(cfg, rec->dir, op, o, name);
  if (!t) return t.error();
  auto runs = scale_commands(cfg, rec->dir.root, added, playbook_options(*t, o));
  KURATOR_TRY(run_step("facts.yml", runs[0], rec->dir, op, o, "scale"));
  KURATOR_TRY(run_step("scale.yml", runs[1], rec->dir, op, o, "scale"));
  if (!o.check) {
    record_config(*rec, cfg, text);
    KURATOR_TRY(kubeconfig_and_nodes(cfg, *rec, op, o, "scale"));
  } else {
    KURATOR_TRY(write_inventory(*old_cfg, rec->dir));  // a preview leaves the recorded inventory as it was
  }
  KURATOR_TRY(op.succeed());
  out_of(o) << "vms cluster \"" << name << "\": " << (o.check ? "check mode passed for adding " : "added ")
            << join(added, ", ") << " after " << seconds_text(Clock::now() - t0) << " (" << cfg.hosts.size()
            << " hosts).\n";
  return {};
}

Status remove_hosts(const std::string& name, const std::vector<std::string>& hosts, const Options& o) {
  auto opened = open_cluster(o.home, name);
  if (!opened) return opened.error();
  auto* rec = &opened->rec;
  auto* cfg = &opened->cfg;
  std::vector<std::string> known;
  for (const auto& h : cfg->hosts) known.push_back(h.name);
  std::vector<std::string> removing;
  for (const auto& n : hosts) {
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      const json op = rec->state.value("operation", json::object());
      if (op.value("name", "") == "remove-node" && op.value("result", "") == "succeeded" &&
          op.value("input", "").find(n) != std::string::npos) {
        out_of(o) << "host " << n << " was already removed from \"" << name << "\"; nothing to do.\n";
        continue;
      }
      return Error("--remove-host " + n + ": cluster " + name + " has no such host", ExitCode::usage,
                   "its hosts: " + join(known, ", "));
    }
    removing.push_back(n);
  }
  if (removing.empty()) return {};
  VmsConfig after = *cfg;
  after.hosts.erase(std::remove_if(after.hosts.begin(), after.hosts.end(),
                                   [&](const Host& h) {
                                     return std::find(removing.begin(), removing.end(), h.name) !=
                                            removing.end();
                                   }),
                    after.hosts.end());
  if (after.with_role(Role::control_plane).empty())
    return Error("--remove-host: removing " + join(removing, ", ") + " leaves no control-plane host",
                 ExitCode::usage, "keep at least one control-plane host");
  if (after.with_role(Role::etcd).size() % 2 == 0)
    return Error(fmt::format("--remove-host: removing {} leaves {} etcd hosts; etcd needs an odd count",
                             join(removing, ", "), after.with_role(Role::etcd).size()),
                 ExitCode::usage, "remove etcd hosts two at a time, or move the etcd role first");
  if (o.dry_run) {
    const auto t = planned_toolchain(o.store, o.home);
    out_of(o) << "# vms cluster " << name << ": remove " << join(removing, ", ")
              << " (drain, reset, delete the node):\n";
    out_of(o) << display(remove_node_command(*cfg, rec->dir.root, removing, playbook_options(t, o)));
    return {};
  }
  const auto t0 = Clock::now();
  Operation op(*rec, "remove-node", join(removing, ","), o.check, progress_of(o));
  KURATOR_TRY(rec->save());
  KURATOR_TRY(write_inventory(*cfg, rec->dir));
  auto tc = toolchain_for(o);
  if (!tc) return op.fail(tc.error());
  KURATOR_TRY(run_step("remove-node.yml",
                       remove_node_command(*cfg, rec->dir.root, removing, playbook_options(*tc, o)), rec->dir,
                       op, o, "remove-node"));
  if (!o.check) {
    // The recorded config loses the hosts: its text is re-made from the remaining hosts.
    auto doc = yaml::parse_one(rec->state["config"].value("text", ""), "config");
    if (doc && doc->is_object() && (*doc)["hosts"].is_array()) {
      json& hs = (*doc)["hosts"];
      hs.erase(std::remove_if(hs.begin(), hs.end(),
                              [&](const json& h) {
                                return std::find(removing.begin(), removing.end(), h.value("name", "")) !=
                                       removing.end();
                              }),
               hs.end());
      record_config(*rec, after, yaml::dump(*doc));
    }
    KURATOR_TRY(write_inventory(after, rec->dir));
  }
  KURATOR_TRY(op.succeed());
  out_of(o) << "vms cluster \"" << name
            << "\": " << (o.check ? "check mode passed for removing " : "removed ") << join(removing, ", ")
            << " after " << seconds_text(Clock::now() - t0) << ".\n";
  return {};
}

Status upgrade(const std::string& name, const std::string& version, const Options& o) {
  auto opened = open_cluster(o.home, name);
  if (!opened) return opened.error();
  auto* rec = &opened->rec;
  auto* cfg = &opened->cfg;
  const auto& supported = supported_kubernetes_versions();
  auto to = std::find(supported.begin(), supported.end(), version);
  if (to == supported.end())
    return Error("--kubernetes-version " + version + ": KubeSpray " + std::string(kKubesprayVersion) +
                     " does not install it",
                 ExitCode::usage, "supported: " + supported.front() + " to " + supported.back());
  auto minor = [](const std::string& v) {
    int a = 0, b = 0, c = 0;
    std::sscanf(v.c_str(), "v%d.%d.%d", &a, &b, &c);
    return std::array<int, 3>{a, b, c};
  };
  const auto from = minor(cfg->kubernetes_version), target = minor(version);
  if (target == from) {
    out_of(o) << "vms cluster \"" << name << "\" already runs Kubernetes " << version << "; nothing to do.\n";
    return {};
  }
  if (target < from)
    return Error(
        "--kubernetes-version " + version + " is older than the cluster's " + cfg->kubernetes_version,
        ExitCode::usage, "KubeSpray does not downgrade");
  if (target[0] != from[0] || target[1] > from[1] + 1)
    return Error("--kubernetes-version " + version + " skips a minor version (the cluster runs " +
                     cfg->kubernetes_version + ")",
                 ExitCode::usage, "upgrade one minor version at a time");
  VmsConfig after = *cfg;
  after.kubernetes_version = version;
  if (o.dry_run) {
    auto t = planned_toolchain(o.store, o.home);
    out_of(o) << "# vms cluster " << name << ": upgrade " << cfg->kubernetes_version << " -> " << version
              << " (control plane first, then workers 20% at a time):\n";
    out_of(o) << display(upgrade_command(after, rec->dir.root, version, playbook_options(t, o)));
    return {};
  }
  const auto t0 = Clock::now();
  Operation op(*rec, "upgrade", version, o.check, progress_of(o));
  KURATOR_TRY(rec->save());
  KURATOR_TRY(write_inventory(after, rec->dir));
  auto tc = toolchain_for(o);
  if (!tc) return op.fail(tc.error());
  KURATOR_TRY(run_step("upgrade-cluster.yml",
                       upgrade_command(after, rec->dir.root, version, playbook_options(*tc, o)), rec->dir, op,
                       o, "upgrade"));
  if (o.check) {
    KURATOR_TRY(write_inventory(*cfg, rec->dir));
  } else {
    auto doc = yaml::parse_one(rec->state["config"].value("text", ""), "config");
    if (doc && doc->is_object()) {
      (*doc)["kubernetesVersion"] = version;
      record_config(*rec, after, yaml::dump(*doc));
    }
    KURATOR_TRY(rec->save());
  }
  KURATOR_TRY(op.succeed());
  out_of(o) << "vms cluster \"" << name
            << "\": " << (o.check ? "check mode passed for the upgrade to " : "upgraded to ") << version
            << " after " << seconds_text(Clock::now() - t0) << ".\n";
  return {};
}

Status remove(const std::string& name, const Options& o) {
  auto opened = open_cluster(o.home, name);
  if (!opened) return opened.error();
  auto* rec = &opened->rec;
  auto* cfg = &opened->cfg;
  // Did anything reach the hosts? A create that stopped before cluster.yml changed nothing there.
  bool touched = false;
  auto look = [&](const json& op) {
    if (op.value("check", false)) return;
    const std::string n = op.value("name", "");
    if (n == "create") {
      for (const auto& s : op.value("done", json::array()))
        if (s != "preflight") touched = true;
      if (op.value("step", "") == "cluster.yml" || op.value("result", "") == "succeeded") touched = true;
    } else if (!n.empty() && n != "reset") {
      touched = true;
    }
  };
  look(rec->state.value("operation", json::object()));
  for (const auto& h : rec->state.value("history", json::array())) look(h);
  if (o.dry_run) {
    const auto t = planned_toolchain(o.store, o.home);
    if (touched)
      out_of(o) << "# vms cluster " << name << ": reset every host (KubeSpray's reset.yml), then remove "
                << rec->dir.root.string() << "\n"
                << display(reset_command(*cfg, rec->dir.root, playbook_options(t, o)));
    else
      out_of(o) << "# vms cluster " << name << ": nothing reached the hosts; remove "
                << rec->dir.root.string() << "\n";
    return {};
  }
  if (touched && !o.yes && !o.check) {
    std::istream& in = o.in ? *o.in : std::cin;
    progress_of(o) << "This resets " << cfg->hosts.size() << " hosts of \"" << name
                   << "\" (KubeSpray's reset.yml: Kubernetes, etcd and their data are removed). Type the "
                      "cluster's name to go on: "
                   << std::flush;
    std::string answer;
    std::getline(in, answer);
    if (answer != name)
      return Error("delete of \"" + name + "\" not confirmed; nothing was changed", ExitCode::usage,
                   "pass -y to delete without the question");
  }
  const auto t0 = Clock::now();
  if (touched) {
    Operation op(*rec, "reset", "reset", o.check, progress_of(o));
    KURATOR_TRY(rec->save());
    KURATOR_TRY(write_inventory(*cfg, rec->dir));
    auto tc = toolchain_for(o);
    if (!tc) return op.fail(tc.error());
    KURATOR_TRY(run_step("reset.yml", reset_command(*cfg, rec->dir.root, playbook_options(*tc, o)), rec->dir,
                         op, o, "reset"));
    KURATOR_TRY(op.succeed());
    if (o.check) {
      out_of(o) << "KubeSpray's check mode passed for resetting \"" << name << "\"; nothing was changed.\n";
      return {};
    }
  }
  std::error_code ec;
  stdfs::remove_all(rec->dir.root, ec);
  if (ec)
    return Error("reset the hosts, but could not remove " + rec->dir.root.string() + ": " + ec.message(),
                 ExitCode::failure, "remove it by hand");
  out_of(o) << "vms cluster \"" << name << "\" deleted"
            << (touched ? " (hosts reset)" : " (nothing had reached its hosts)") << " after "
            << seconds_text(Clock::now() - t0) << ".\n";
  return {};
}

}  // namespace kurator::providers::vms
