// Cluster state, status and delete against fake components: `tail -f` processes renamed (through
// symlinks) after the real components, with this cluster's directory on their command lines.
#include <kurator/core/process.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/util/fs.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "support/test_env.hpp"

namespace local = kurator::providers::local;
namespace process = kurator::process;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

class FakeCluster {
 public:
  FakeCluster(const std::filesystem::path& home, const std::string& name)
      : m_provider(home), m_paths(m_provider.paths(name)) {
    std::filesystem::create_directories(m_paths.logs());
    std::filesystem::create_directories(home / "fakebin");
    for (const auto& c : local::component_names()) {
      auto link = home / "fakebin" / c;
      if (!std::filesystem::exists(link)) std::filesystem::create_symlink("/usr/bin/tail", link);
    }
    std::ofstream(m_paths.logs() / "follow") << "";
    local::ClusterSpec spec;
    spec.name = name;
    spec.nodes = 2;
    spec = *local::normalize(spec);
    write(m_paths.spec(), spec.to_json());
    write(m_paths.state(), json{{"phase", "created"},
                                {"ports", local::Ports{1, 2, 4321, 4, 5, 6}.to_json()},
                                {"networkNamespace", local::current_netns()}});
  }
  ~FakeCluster() {
    for (int pid : pids) process::stop_pid(pid, 1s);
  }
  static void write(const std::filesystem::path& p, const json& j) {
    REQUIRE(kurator::fs::write_file_atomic(p, j.dump()).ok());
  }

  // Starts a fake component; with `pid_file` false it is a stray nobody recorded.
  int start(const std::string& c, bool pid_file = true) {
    process::DaemonSpec d;
    d.argv = {(m_provider.clusters_dir().parent_path() / "fakebin" / c).string(), "-f",
              (m_paths.logs() / "follow").string()};
    d.log_file = m_paths.logs() / (c + ".log");
    d.pid_file = pid_file ? m_paths.pid(c) : m_paths.root.parent_path() / ("stray-" + c + ".pid");
    auto pid = process::start_daemon(d);
    REQUIRE(pid.ok());
    pids.push_back(*pid);
    return *pid;
  }
  void start_all() {
    for (const auto& c : local::component_names()) start(c);
  }

  local::Provider m_provider;
  local::ClusterPaths m_paths;
  std::vector<int> pids;
};

}  // namespace

TEST_CASE("status follows the component processes, delete stops them all", "[providers][state]") {
  kurator::test::TempDir tmp;
  FakeCluster fake(tmp.path(), "fake");
  auto& provider = fake.m_provider;

  auto st = provider.status("fake");
  REQUIRE(st.ok());
  CHECK(st->phase == "Stopped");
  CHECK(st->endpoint == "https://127.0.0.1:4321");
  CHECK(st->spec.nodes == 2);
  CHECK_FALSE(st->other_netns);

  fake.start_all();
  st = provider.status("fake");
  REQUIRE(st.ok());
  CHECK(st->phase == "Running");
  CHECK(st->status == "Running");
  REQUIRE(st->components.size() == 5);
  for (const auto& c : st->components) CHECK(c.running);
  auto list = provider.list();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].spec.name == "fake");
  auto j = st->to_json();
  CHECK(j["phase"] == "Running");
  CHECK(j["components"].size() == 5);

  SECTION("a killed apiserver makes it Degraded and is named") {
    auto apiserver = *process::read_pid_file(fake.m_paths.pid("kube-apiserver"));
    ::kill(apiserver, SIGKILL);
    for (int i = 0; i < 200 && process::is_alive(apiserver); ++i) std::this_thread::sleep_for(10ms);
    st = provider.status("fake");
    REQUIRE(st.ok());
    CHECK(st->phase == "Degraded");
    CHECK(st->status == "Degraded: kube-apiserver not running");
  }
  SECTION("a pid file naming an unrelated process does not count (pid reuse)") {
    auto sched = *process::read_pid_file(fake.m_paths.pid("kube-scheduler"));
    process::stop_pid(sched, 1s);
    std::ofstream(fake.m_paths.pid("kube-scheduler")) << ::getpid() << "\n";
    st = provider.status("fake");
    REQUIRE(st.ok());
    CHECK(st->status == "Degraded: kube-scheduler not running");
    CHECK(local::process_belongs_to(*process::read_pid_file(fake.m_paths.pid("kwok")), fake.m_paths.root));
    CHECK_FALSE(local::process_belongs_to(::getpid(), fake.m_paths.root));
  }
  SECTION("create with the same spec while running is a no-op") {
    local::CreateOptions o;
    o.spec.name = "fake";
    o.spec.nodes = 2;
    o.bin_dir = tmp.path() / "no-binaries-needed";
    auto r = provider.create(o);
    REQUIRE(r.ok());
    CHECK(r->already_existed);
    CHECK(r->status.phase == "Running");
  }
  SECTION("create with a different spec is refused") {
    local::CreateOptions o;
    o.spec.name = "fake";
    o.spec.nodes = 3;
    auto r = provider.create(o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().exit == kurator::ExitCode::failure);
    CHECK(r.error().message.find("different spec") != std::string::npos);
    CHECK(r.error().message.find("nodes: 2 (existing) vs 3 (requested)") != std::string::npos);
    CHECK(std::filesystem::exists(fake.m_paths.spec()));  // untouched
  }
  SECTION("all stopped is Stopped") {
    for (int pid : fake.pids) process::stop_pid(pid, 1s);
    st = provider.status("fake");
    REQUIRE(st.ok());
    CHECK(st->phase == "Stopped");
  }

  // Delete: every component and a stray without a pid file are stopped, the state is gone.
  int stray = fake.start("kwok", false);
  auto found = local::find_cluster_processes(fake.m_paths.root);
  CHECK(std::find(found.begin(), found.end(), stray) != found.end());
  REQUIRE(provider.remove("fake").ok());
  for (int pid : fake.pids) CHECK_FALSE(process::is_alive(pid));
  CHECK_FALSE(std::filesystem::exists(fake.m_paths.root));
  CHECK(local::find_cluster_processes(fake.m_paths.root).empty());
  auto gone = provider.status("fake");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().message.find("not found") != std::string::npos);
  CHECK_FALSE(provider.remove("fake").ok());
}

TEST_CASE("an unfinished create shows as Failed and is started over", "[providers][state]") {
  kurator::test::TempDir tmp;
  FakeCluster fake(tmp.path(), "half");
  FakeCluster::write(fake.m_paths.state(), json{{"phase", "creating"}, {"creatorPid", 999999999}});
  auto st = fake.m_provider.status("half");
  REQUIRE(st.ok());
  CHECK(st->phase == "Failed");
  // A new create removes it and starts over; without binaries that fails early and leaves nothing.
  local::CreateOptions o;
  o.spec.name = "half";
  o.spec.nodes = 2;
  o.bin_dir = tmp.path() / "empty-bin";
  auto r = fake.m_provider.create(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("binaries not found") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(fake.m_paths.root));
}

TEST_CASE("create without binaries fails before writing any state", "[providers][state]") {
  kurator::test::TempDir tmp;
  local::Provider provider(tmp.path());
  local::CreateOptions o;
  o.spec.name = "nobin";
  o.bin_dir = tmp.path() / "empty-bin";
  auto r = provider.create(o);
  REQUIRE_FALSE(r.ok());
  CHECK_FALSE(std::filesystem::exists(provider.paths("nobin").root));
  auto list = provider.list();
  REQUIRE(list.ok());
  CHECK(list->empty());
  o.spec.name = "Bad_Name";
  r = provider.create(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().exit == kurator::ExitCode::usage);
}

TEST_CASE("cluster paths", "[providers][state]") {
  local::ClusterPaths p("/h/clusters/x");
  CHECK(p.kubeconfig() == "/h/clusters/x/kubeconfig");
  CHECK(p.pid("etcd") == "/h/clusters/x/pids/etcd.pid");
  CHECK(p.log("kwok") == "/h/clusters/x/logs/kwok.log");
  CHECK(p.component_kubeconfig("kube-scheduler") == "/h/clusters/x/kubeconfigs/kube-scheduler.kubeconfig");
}
