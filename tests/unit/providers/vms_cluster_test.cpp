// The vms provider's operations with a scripted process runner (no machines): the SSH preflight rows,
// the managed toolchain (artifact + virtualenv keyed by requirements.txt), a failing ansible run reported
// by task/host/message, the record of steps and the resume, --dry-run, delete's confirmation, and the
// kubeconfig made from admin.conf. Real SSH and ansible runs are in the e2e tests.
#include <kurator/core/artifacts.hpp>
#include <kurator/core/process.hpp>
#include <kurator/providers/vms_cluster.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <sstream>

#include "support/test_env.hpp"

using namespace kurator;
namespace vms = kurator::providers::vms;
namespace stdfs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* const kKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

std::string config_text(const stdfs::path& key, int hosts = 3) {
  std::string t = "apiVersion: kurator.dev/v1alpha1\nkind: VmsCluster\nhosts:\n";
  for (int i = 1; i <= hosts; ++i)
    t += "  - name: node" + std::to_string(i) + "\n    address: 10.250.0.1" + std::to_string(i) +
         "\n    roles: [" + (i == 1 ? "control-plane, etcd, worker" : "worker") +
         "]\n    user: root\n    keyFile: " + key.string() + "\n";
  t += "kubernetesVersion: v1.34.3\nextraVars:\n  registry_password: hunter2-secret\n";
  return t;
}

std::string argv_text(const process::Spec& s) {
  std::string out;
  for (const auto& a : s.argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

bool is_ssh(const process::Spec& s) {
  return !s.argv.empty() && s.argv[0] == "ssh";
}
std::string ssh_host(const process::Spec& s) {
  return s.argv[s.argv.size() - 2];
}

process::Outcome ssh_ok() {
  process::Outcome o;
  o.exit_code = 0;
  o.out = "kurator-ssh-ok\npython=yes\nsudo=yes\ntime=" + std::to_string(std::time(nullptr)) + "\n";
  return o;
}

std::string jsonl(std::initializer_list<json> events) {
  std::string out;
  for (const auto& e : events) out += e.dump() + "\n";
  return out;
}

// A stand-in KubeSpray tree as a release tarball, served to the store through a catalog overlay.
struct Bed {
  test::TempDir dir;
  stdfs::path home = dir.path() / "home";
  stdfs::path key = dir.path() / "id_test";
  stdfs::path config = dir.path() / "hosts.yaml";
  std::optional<artifacts::Store> store;
  Bed() {
    REQUIRE(fs::write_private_file(key, kKey).ok());
    REQUIRE(fs::write_file_atomic(config, config_text(key)).ok());
    auto tree = dir.path() / "src" / "kubespray-2.31.0";
    stdfs::create_directories(tree);
    REQUIRE(fs::write_file_atomic(tree / "requirements.txt", "ansible==11.13.0\nnetaddr==1.3.0\n").ok());
    REQUIRE(fs::write_file_atomic(tree / "cluster.yml", "- hosts: all\n").ok());
    process::SystemRunner sys;
    process::Spec tar;
    tar.argv = {"tar",
                "-czf",
                (dir.path() / "ks.tar.gz").string(),
                "-C",
                (dir.path() / "src").string(),
                "kubespray-2.31.0"};
    auto r = sys.run(tar);
    REQUIRE(r.ok());
    REQUIRE(r->success());
    auto digest = artifacts::sha256_file(dir.path() / "ks.tar.gz");
    REQUIRE(digest.ok());
    auto c = artifacts::Catalog::builtin();
    REQUIRE(
        c.merge(
             "artifacts:\n  - {name: kubespray-source, version: v2.31.0, os: any, arch: any, url: 'file://" +
                 (dir.path() / "ks.tar.gz").string() + "', sha256: " + *digest + "}\n",
             "test-overlay")
            .ok());
    artifacts::Options o;
    o.home = home;
    o.download.progress = false;
    store.emplace(std::move(c), o);
  }
  vms::Options options(process::Runner& runner, std::ostream& out, std::ostream& progress) {
    vms::Options o;
    o.home = home;
    o.store = &*store;
    o.runner = &runner;
    o.out = &out;
    o.progress = &progress;
    o.yes = true;
    return o;
  }
  stdfs::path root() const { return home / "clusters" / "c1"; }
  json record() const { return json::parse(*fs::read_file(root() / "vms.json")); }
};

// Answers like the machines would: python -m venv makes bin/ansible-playbook, pip succeeds, ssh answers
// per `ssh_answer`, ansible-playbook per `playbook_answer` (by playbook file).
struct Machines {
  std::function<process::Outcome(const std::string& host)> ssh_answer = [](const std::string&) {
    return ssh_ok();
  };
  std::function<process::Outcome(const std::string& playbook, const process::Spec&)> playbook_answer;
  std::mutex mu;
  std::vector<std::string> calls;
  process::RecordingRunner runner{[this](const process::Spec& s) {
    {
      std::lock_guard<std::mutex> l(mu);
      calls.push_back(is_ssh(s) ? "ssh " + ssh_host(s) : argv_text(s));
    }
    process::Outcome o;
    o.exit_code = 0;
    if (is_ssh(s)) return ssh_answer(ssh_host(s));
    if (s.argv.size() > 3 && s.argv[1] == "-m" && s.argv[2] == "venv") {
      stdfs::create_directories(stdfs::path(s.argv[3]) / "bin");
      (void)fs::write_file_atomic(stdfs::path(s.argv[3]) / "bin" / "ansible-playbook", "#!/bin/sh\n", 0755);
      return o;
    }
    if (s.argv[0].find("ansible-playbook") != std::string::npos) {
      std::string pb;
      for (const auto& a : s.argv)
        if (a.size() > 4 && a.compare(a.size() - 4, 4, ".yml") == 0) pb = a;
      if (playbook_answer) return playbook_answer(pb, s);
    }
    return o;
  }};
  int count(const std::string& prefix) {
    int n = 0;
    for (const auto& c : calls)
      if (c.rfind(prefix, 0) == 0 || c.find(prefix) != std::string::npos) ++n;
    return n;
  }
};

process::Outcome playbook_ok() {
  process::Outcome o;
  o.exit_code = 0;
  o.out = jsonl({{{"_event", "v2_playbook_on_play_start"}, {"play", {{"name", "Validate"}}}},
                 {{"_event", "v2_playbook_on_task_start"}, {"task", {{"name", "check"}}}},
                 {{"_event", "v2_runner_on_ok"}, {"hosts", {{"node1", {{"changed", false}}}}}},
                 {{"_event", "v2_playbook_on_stats"}, {"stats", {{"node1", {{"ok", 1}, {"changed", 0}}}}}}});
  return o;
}

process::Outcome playbook_systemd_assert() {
  process::Outcome o;
  o.exit_code = 2;
  o.out = jsonl({{{"_event", "v2_playbook_on_play_start"}, {"play", {{"name", "Prepare for etcd install"}}}},
                 {{"_event", "v2_playbook_on_task_start"},
                  {"task", {{"name", "kubernetes/preinstall : Stop if non systemd OS type"}}}},
                 {{"_event", "v2_runner_on_failed"},
                  {"task", {{"name", "kubernetes/preinstall : Stop if non systemd OS type"}}},
                  {"hosts", {{"node2", {{"failed", true}, {"msg", "Assertion failed"}}}}}},
                 {{"_event", "v2_playbook_on_stats"},
                  {"stats", {{"node1", {{"ok", 30}}}, {"node2", {{"ok", 29}, {"failures", 1}}}}}}});
  return o;
}

// Every playbook passes; the create then stops at the kubeconfig (no admin.conf), after cluster.yml.
vms::Options created_to_kubeconfig(Bed& bed, Machines& m, std::ostream& out, std::ostream& progress) {
  m.playbook_answer = [](const std::string&, const process::Spec&) { return playbook_ok(); };
  auto o = bed.options(m.runner, out, progress);
  (void)vms::create("c1", bed.config, o);
  return o;
}

}  // namespace

TEST_CASE("vms ssh preflight: one row per failed check per host", "[unit][providers][vms]") {
  test::TempDir d;
  auto key = d.path() / "id";
  REQUIRE(fs::write_private_file(key, kKey).ok());
  REQUIRE(fs::write_file_atomic(d.path() / "h.yaml", config_text(key)).ok());
  auto cfg = vms::load_config(d.path() / "h.yaml");
  REQUIRE(cfg.ok());
  process::RecordingRunner runner([](const process::Spec& s) {
    process::Outcome o;
    const std::string host = ssh_host(s);
    if (host == "10.250.0.11") return ssh_ok();
    if (host == "10.250.0.12") {
      o.exit_code = 255;
      o.err = "root@10.250.0.12: Permission denied (publickey).\n";
      return o;
    }
    o.exit_code = 0;
    o.out = "kurator-ssh-ok\npython=no\nsudo=no\ntime=" + std::to_string(std::time(nullptr) - 100) + "\n";
    return o;
  });
  auto problems = vms::ssh_preflight(*cfg, runner);
  REQUIRE(problems.size() == 4);
  CHECK(problems[0].host == "node2");
  CHECK(problems[0].check == "ssh login");
  CHECK(problems[0].problem ==
        "the key " + key.string() +
            " is not accepted for user root (root@10.250.0.12: Permission denied (publickey).)");
  CHECK(problems[1].host == "node3");
  CHECK(problems[1].check == "python3");
  CHECK(problems[2].check == "sudo");
  CHECK(problems[3].check == "clock");
  CHECK(problems[3].problem.find("behind this machine's") != std::string::npos);
  auto table = vms::problems_table(problems);
  CHECK(table.rfind("HOST   ADDRESS         CHECK      PROBLEM\n", 0) == 0);
  // BatchMode (no password prompt), a bounded connect, no known_hosts writes.
  auto argv = vms::ssh_check_argv(cfg->hosts[0]);
  CHECK(std::find(argv.begin(), argv.end(), "BatchMode=yes") != argv.end());
  CHECK(std::find(argv.begin(), argv.end(), "ConnectTimeout=5") != argv.end());
  for (const auto& call : runner.calls()) CHECK(call.timeout == vms::kSshCheckTimeout);
}

TEST_CASE(
    "vms create --dry-run: inventory, variables (secrets redacted), checks and command lines, nothing "
    "written",
    "[unit][providers][vms]") {
  Bed bed;
  Machines m;
  std::ostringstream out, progress;
  auto o = bed.options(m.runner, out, progress);
  o.dry_run = true;
  REQUIRE(vms::create("c1", bed.config, o).ok());
  const std::string text = out.str();
  CHECK(text.find("# vms cluster c1: create would write:") != std::string::npos);
  CHECK(text.find("kube_control_plane:") != std::string::npos);
  CHECK(text.find("kube_version: \"1.34.3\"\n") != std::string::npos);
  CHECK(text.find("registry_password: \"<redacted>\"\n") != std::string::npos);
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("ssh -i " + bed.key.string() + " -p 22 -o BatchMode=yes") != std::string::npos);
  CHECK(text.find("cluster.yml --tags always") != std::string::npos);
  CHECK(text.find("ANSIBLE_STDOUT_CALLBACK=ansible.posix.jsonl") != std::string::npos);
  CHECK(text.find("venv-<requirements hash>/bin/ansible-playbook' -i " +
                  (bed.root() / "inventory/hosts.yaml").string() + " -b cluster.yml\n") != std::string::npos);
  CHECK(text.find("with server https://10.250.0.11:6443 written (0600)") != std::string::npos);
  CHECK(m.runner.calls().empty());
  CHECK_FALSE(stdfs::exists(bed.root()));
}

TEST_CASE(
    "vms create: a failed task is reported by task, host and message, the re-run resumes after preflight",
    "[unit][providers][vms]") {
  Bed bed;
  Machines m;
  int cluster_runs = 0;
  m.playbook_answer = [&](const std::string& pb, const process::Spec& s) {
    bool tags_always = std::find(s.argv.begin(), s.argv.end(), "always") != s.argv.end();
    if (pb == "cluster.yml" && !tags_always)
      return ++cluster_runs == 1 ? playbook_systemd_assert() : playbook_ok();
    return playbook_ok();
  };
  std::ostringstream out, progress;
  auto o = bed.options(m.runner, out, progress);
  auto st = vms::create("c1", bed.config, o);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message ==
        "cluster.yml failed at task \"kubernetes/preinstall : Stop if non systemd OS type\" on host node2: "
        "Assertion failed");
  CHECK(st.error().hint.find("full log: " + (bed.root() / "runs/create/cluster.yml.log").string()) == 0);
  // The toolchain: the venv is keyed by requirements.txt's digest and made once.
  auto venv = bed.home / "kubespray" /
              ("venv-" + artifacts::sha256_hex("ansible==11.13.0\nnetaddr==1.3.0\n").substr(0, 12));
  CHECK(stdfs::exists(venv / ".kurator-complete"));
  CHECK(m.count(" -m venv ") == 1);
  CHECK(m.count("/bin/pip install --disable-pip-version-check --no-input -q -r ") == 1);
  CHECK(m.count("ssh ") == 3);
  // Files: the inventory and the variables (with the secret) are 0600.
  struct stat sb {};
  REQUIRE(::stat((bed.root() / "inventory/group_vars/all.yml").c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == 0600);
  auto log = fs::read_file(bed.root() / "runs/create/cluster.yml.log");
  REQUIRE(log.ok());
  CHECK(log->find("Stop if non systemd OS type") != std::string::npos);
  auto rec = bed.record();
  CHECK(rec["provider"] == "vms");
  CHECK(rec["operation"]["name"] == "create");
  CHECK(rec["operation"]["result"] == "failed");
  CHECK(rec["operation"]["step"] == "cluster.yml");
  CHECK(rec["operation"]["done"] == json::array({"preflight"}));
  auto listed = vms::list_clusters(bed.home);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].result == "failed");
  CHECK(listed[0].hosts == 3);
  CHECK(listed[0].kubernetes_version == "v1.34.3");

  // Re-run: preflight is not repeated, cluster.yml passes, and the missing admin.conf is the next failure.
  std::ostringstream out2, progress2;
  auto o2 = bed.options(m.runner, out2, progress2);
  auto st2 = vms::create("c1", bed.config, o2);
  REQUIRE_FALSE(st2.ok());
  CHECK(progress2.str().find(
            "resuming create of c1 after its failure at step cluster.yml: preflight already done") !=
        std::string::npos);
  CHECK(m.count("ssh ") == 3);
  CHECK(m.count(" -m venv ") == 1);
  CHECK(st2.error().message == "KubeSpray left no " + (bed.root() / "artifacts/admin.conf").string());
  rec = bed.record();
  CHECK(rec["operation"]["done"] == json::array({"preflight", "cluster.yml"}));
  CHECK(rec["history"].size() == 1);
}

TEST_CASE("vms create: a preflight problem stops before any playbook runs", "[unit][providers][vms]") {
  Bed bed;
  Machines m;
  m.ssh_answer = [](const std::string& host) {
    if (host != "10.250.0.13") return ssh_ok();
    process::Outcome o;
    o.exit_code = 255;
    o.err = "ssh: connect to host 10.250.0.13 port 22: No route to host\n";
    return o;
  };
  std::ostringstream out, progress;
  auto o = bed.options(m.runner, out, progress);
  auto st = vms::create("c1", bed.config, o);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message == "preflight failed: 1 problem on node3; nothing was changed on the hosts");
  CHECK(progress.str().find(
            "node3  10.250.0.13:22  reachable  ssh: connect to host 10.250.0.13 port 22: No route to host") !=
        std::string::npos);
  CHECK(m.count("ansible-playbook") == 0);
  // Nothing reached the hosts: delete only removes the folder, without reset.yml.
  std::ostringstream out2;
  REQUIRE(vms::remove("c1", bed.options(m.runner, out2, progress)).ok());
  CHECK(out2.str().find("deleted (nothing had reached its hosts)") != std::string::npos);
  CHECK(m.count("reset.yml") == 0);
  CHECK_FALSE(stdfs::exists(bed.root()));
}

TEST_CASE("vms delete: asks for the name unless -y, then reset.yml and the folder goes",
          "[unit][providers][vms]") {
  Bed bed;
  Machines m;
  std::ostringstream out, progress;
  auto o = created_to_kubeconfig(bed, m, out, progress);
  REQUIRE(bed.record()["operation"]["done"] == json::array({"preflight", "cluster.yml"}));
  std::istringstream wrong("c2\n");
  auto ask = bed.options(m.runner, out, progress);
  ask.yes = false;
  ask.in = &wrong;
  auto st = vms::remove("c1", ask);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message == "delete of \"c1\" not confirmed; nothing was changed");
  CHECK(m.count("reset.yml") == 0);
  std::istringstream right("c1\n");
  ask.in = &right;
  REQUIRE(vms::remove("c1", ask).ok());
  CHECK(m.count("reset.yml -e reset_confirmation=yes") == 1);
  CHECK_FALSE(stdfs::exists(bed.root()));
}

TEST_CASE("vms upgrade and scale: version rules and host changes checked before anything runs",
          "[unit][providers][vms]") {
  Bed bed;
  Machines m;
  std::ostringstream out, progress;
  auto o = created_to_kubeconfig(bed, m, out, progress);
  const size_t calls = m.runner.calls().size();
  auto down = vms::upgrade("c1", "v1.33.0", o);
  REQUIRE_FALSE(down.ok());
  CHECK(down.error().message == "--kubernetes-version v1.33.0 is older than the cluster's v1.34.3");
  auto unknown = vms::upgrade("c1", "v1.36.0", o);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message == "--kubernetes-version v1.36.0: KubeSpray v2.31.0 does not install it");
  auto rm = vms::remove_hosts("c1", {"node9"}, o);
  REQUIRE_FALSE(rm.ok());
  CHECK(rm.error().message == "--remove-host node9: cluster c1 has no such host");
  auto rm_cp = vms::remove_hosts("c1", {"node1"}, o);
  REQUIRE_FALSE(rm_cp.ok());
  CHECK(rm_cp.error().message == "--remove-host: removing node1 leaves no control-plane host");
  CHECK(m.runner.calls().size() == calls);
  // Dry runs print the exact command lines.
  std::ostringstream dry;
  auto d = bed.options(m.runner, dry, progress);
  d.dry_run = true;
  REQUIRE(vms::upgrade("c1", "v1.35.4", d).ok());
  CHECK(dry.str().find(" -b upgrade-cluster.yml -e kube_version=1.35.4\n") != std::string::npos);
  REQUIRE(fs::write_file_atomic(bed.config, config_text(bed.key, 4)).ok());
  REQUIRE(vms::scale_up("c1", bed.config, d).ok());
  CHECK(dry.str().find("scale would add node4") != std::string::npos);
  CHECK(dry.str().find(" -b scale.yml --limit node4\n") != std::string::npos);
  REQUIRE(vms::remove_hosts("c1", {"node3"}, d).ok());
  CHECK(dry.str().find(" -b remove-node.yml -e node=node3 -e skip_confirmation=true\n") != std::string::npos);
  CHECK(m.runner.calls().size() == calls);
}

TEST_CASE("vms kubeconfig: admin.conf's server rewritten to the reachable endpoint",
          "[unit][providers][vms]") {
  const std::string admin =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: cluster.local\n  cluster:\n    server: "
      "https://127.0.0.1:6443\n"
      "    certificate-authority-data: QUJD\ncontexts:\n- name: kubernetes-admin@cluster.local\n  context:\n"
      "    cluster: cluster.local\n    user: kubernetes-admin\ncurrent-context: "
      "kubernetes-admin@cluster.local\n"
      "users:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: QUJD\n    client-key-data: "
      "QUJD\n";
  auto kc = vms::kubeconfig_from_admin_conf(admin, "https://10.250.0.11:6443", "admin.conf");
  REQUIRE(kc.ok());
  auto doc = yaml::parse_one(*kc, "kc");
  REQUIRE(doc.ok());
  CHECK((*doc)["clusters"][0]["cluster"]["server"] == "https://10.250.0.11:6443");
  CHECK((*doc)["users"][0]["user"]["client-key-data"] == "QUJD");
  auto bad = vms::kubeconfig_from_admin_conf("kind: Config\n", "https://x:6443", "/a/admin.conf");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "/a/admin.conf: clusters: missing (not a kubeconfig)");
  vms::VmsConfig cfg;
  vms::Host h;
  h.address = "fd00::5";
  h.roles = {vms::Role::control_plane};
  cfg.hosts.push_back(h);
  CHECK(vms::api_server(cfg, "") == "https://[fd00::5]:6443");
  CHECK(vms::api_server(cfg, "lb.example.test") == "https://lb.example.test:6443");
}
