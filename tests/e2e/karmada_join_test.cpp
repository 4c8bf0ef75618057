// `kurator join karmada` / `unjoin karmada` against a real local Karmada (tests/support/fleet_karmada.hpp)
// and real member clusters (extra clusters of the e2e fleet, so other tests' members are not touched):
// both members join and become Ready, a re-run is a no-op, duplicates are refused naming the existing
// cluster, the dry run changes nothing and shows no secret, unjoin cleans both sides, bad input fails
// in one line with nothing changed, and a member without a token controller fails with the reason.
#include <kurator/core/kube.hpp>
#include <kurator/core/process.hpp>
#include <kurator/fleet/karmada.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/fs.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/fleet.hpp"
#include "support/fleet_karmada.hpp"
#include "support/test_env.hpp"

using kurator::test::CommandResult;
using kurator::test::Fleet;
using kurator::test::FleetCluster;
using kurator::test::LocalKarmada;
using json = nlohmann::json;
namespace km = kurator::fleet::karmada;
namespace stdfs = std::filesystem;

namespace {

bool skip_unless_ready() {
  if (auto why = kurator::test::e2e_skip_reason(); !why.empty()) {
    kurator::test::skip(why);
    return true;
  }
  if (auto why = LocalKarmada::skip_reason(); !why.empty()) {
    kurator::test::skip(why);
    return true;
  }
  kurator::test::require_isolated_network();
  return false;
}

json parse(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  INFO(text);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
size_t error_lines(const std::string& err) {
  size_t n = 0;
  for (size_t p = err.find("error: "); p != std::string::npos; p = err.find("error: ", p + 1)) ++n;
  return n;
}

// The members these tests join: extra clusters of the fleet (made once, reused by every case).
struct Members {
  FleetCluster a, b, c;  // a and b are joined as "ja" / "jb"; c is never joined successfully
};
Members& members(Fleet& fleet) {
  static Members m = [&] {
    Members x;
    x.a = fleet.create_extra("e2e-join-a", 1);
    x.b = fleet.create_extra("e2e-join-b", 1);
    x.c = fleet.create_extra("e2e-join-c", 0);
    return x;
  }();
  return m;
}

CommandResult join(Fleet& fleet, const std::string& name, const FleetCluster& c, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"join", "karmada", name, "--cluster-kubeconfig", c.kubeconfig.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return fleet.kurator(args, true);
}
CommandResult unjoin(Fleet& fleet, const std::string& name, const FleetCluster* c, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"unjoin", "karmada", name};
  if (c) args.insert(args.end(), {"--cluster-kubeconfig", c->kubeconfig.string()});
  args.insert(args.end(), extra.begin(), extra.end());
  return fleet.kurator(args, true);
}

// Joined (idempotently), so every case can run alone.
void ensure_joined(Fleet& fleet, const std::string& name, const FleetCluster& c) {
  auto r = join(fleet, name, c);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

bool exists_on(Fleet& fleet, const FleetCluster& c, const std::vector<std::string>& what) {
  std::vector<std::string> args = {"get"};
  args.insert(args.end(), what.begin(), what.end());
  args.insert(args.end(), {"-o", "name"});
  auto r = fleet.kubectl(c, args);
  return r.exit_code == 0 && !r.out.empty();
}
bool exists_in_karmada(const LocalKarmada& k, const std::vector<std::string>& what) {
  std::vector<std::string> args = {"get"};
  args.insert(args.end(), what.begin(), what.end());
  args.insert(args.end(), {"-o", "name"});
  auto r = k.kubectl(args);
  return r.exit_code == 0 && !r.out.empty();
}

std::string kube_system_uid(Fleet& fleet, const FleetCluster& c) {
  auto r = fleet.kubectl(c, {"get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

std::string member_token(Fleet& fleet, const FleetCluster& c, const std::string& sa) {
  auto r = fleet.kubectl(c, {"get", "secret", sa, "-n", "karmada-cluster", "-o", "jsonpath={.data.token}"});
  REQUIRE(r.exit_code == 0);
  auto t = kurator::base64::decode(r.out);
  REQUIRE(t);
  REQUIRE_FALSE(t->empty());
  return *t;
}

size_t karmada_cluster_count(const LocalKarmada& k) {
  auto r = k.kubectl({"get", "clusters.cluster.karmada.io", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  return parse(r.out)["items"].size();
}

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

}  // namespace

TEST_CASE("karmada join: two members join, become Ready and are listed by get clusters", "[e2e][karmada][join]") {
  if (skip_unless_ready()) return;
  auto& fleet = Fleet::get();
  auto& karmada = LocalKarmada::get(fleet);
  auto& m = members(fleet);
  // A clean start (a previous run may have left them joined).
  for (auto [name, c] : {std::pair{"ja", &m.a}, std::pair{"jb", &m.b}}) {
    auto u = unjoin(fleet, name, c, {"--ignore-not-found"});
    INFO(u.err);
    REQUIRE(u.exit_code == 0);
  }

  auto ra = join(fleet, "ja", m.a, {"-v", "-v"});
  INFO(ra.err);
  REQUIRE(ra.exit_code == 0);
  CHECK(ra.out.find("Cluster \"ja\" joined to Karmada") != std::string::npos);
  CHECK(ra.err.find("token issued") != std::string::npos);
  CHECK(ra.err.find("Cluster ja: Ready") != std::string::npos);
  std::cerr << "join ja: " << ra.seconds << "s\n";

  auto rb = join(fleet, "jb", m.b, {"-o", "json", "--cluster-provider", "kwok", "--cluster-region", "r1",
                                    "--cluster-zones", "z1,z2"});
  INFO(rb.err);
  REQUIRE(rb.exit_code == 0);
  auto jb = parse(rb.out);
  CHECK(jb["ready"] == "True");
  CHECK(jb["alreadyJoined"] == false);
  CHECK(jb["id"] == kube_system_uid(fleet, m.b));

  // Karmada side: the Cluster as karmadactl makes it, Ready; both secrets owned by it.
  for (auto [name, c] : {std::pair{"ja", &m.a}, std::pair{"jb", &m.b}}) {
    INFO(name);
    auto cl = karmada.kubectl({"get", "clusters.cluster.karmada.io", name, "-o", "json"});
    REQUIRE(cl.exit_code == 0);
    auto cj = parse(cl.out);
    CHECK(cj["spec"]["syncMode"] == "Push");
    CHECK(cj["spec"]["id"] == kube_system_uid(fleet, *c));
    CHECK(cj["spec"]["secretRef"] == json({{"namespace", "karmada-cluster"}, {"name", name}}));
    CHECK(cj["spec"]["impersonatorSecretRef"] ==
          json({{"namespace", "karmada-cluster"}, {"name", std::string(name) + "-impersonator"}}));
    auto kc = kurator::kubeconfig::load({c->kubeconfig.string(), "", {}, {}});
    REQUIRE(kc.ok());
    CHECK(cj["spec"]["apiEndpoint"] == kc->server);
    bool ready = false;
    for (const auto& cond : cj["status"]["conditions"])
      if (cond["type"] == "Ready" && cond["status"] == "True") ready = true;
    CHECK(ready);
    for (const std::string& s : {std::string(name), std::string(name) + "-impersonator"}) {
      auto sec = karmada.kubectl({"get", "secret", s, "-n", "karmada-cluster", "-o", "json"});
      REQUIRE(sec.exit_code == 0);
      auto sj = parse(sec.out);
      CHECK_FALSE(sj["data"].value("token", "").empty());
      REQUIRE(sj["metadata"]["ownerReferences"].size() == 1);
      CHECK(sj["metadata"]["ownerReferences"][0]["kind"] == "Cluster");
      CHECK(sj["metadata"]["ownerReferences"][0]["uid"] == cj["metadata"]["uid"]);
      CHECK(sj["metadata"]["ownerReferences"][0]["controller"] == true);
    }
    // Member side.
    CHECK(fleet.kubectl(*c, {"get", "namespace", "-l", "karmada.io/system=true", "-o", "name"}).out == "namespace/karmada-cluster\n");
    CHECK(exists_on(fleet, *c, {"serviceaccount", "karmada-impersonator", "-n", "karmada-cluster"}));
    CHECK(exists_on(fleet, *c, {"serviceaccount", "karmada-" + std::string(name), "-n", "karmada-cluster"}));
    CHECK(exists_on(fleet, *c, {"clusterrole", "karmada-controller-manager:karmada-" + std::string(name)}));
    CHECK(exists_on(fleet, *c, {"clusterrolebinding", "karmada-controller-manager:karmada-" + std::string(name)}));
  }
  auto jbc = parse(karmada.kubectl({"get", "clusters.cluster.karmada.io", "jb", "-o", "json"}).out);
  CHECK(jbc["spec"]["provider"] == "kwok");
  CHECK(jbc["spec"]["region"] == "r1");
  CHECK(jbc["spec"]["zones"] == json({"z1", "z2"}));

  // No token in any output, even at -vv.
  std::string token = member_token(fleet, m.a, "karmada-ja");
  CHECK(ra.out.find(token) == std::string::npos);
  CHECK(ra.err.find(token) == std::string::npos);

  // A client built from the Cluster object reaches the member as Karmada does.
  auto kcfg = km::load_karmada_config(karmada.kubeconfig());
  REQUIRE(kcfg.ok());
  kurator::kube::Client kclient(*kcfg);
  auto mcfg = km::member_config(kclient, "ja");
  REQUIRE(mcfg.ok());
  kurator::kube::Client mclient(*mcfg);
  auto ks = mclient.get("v1", "Namespace", "", "kube-system");
  REQUIRE(ks.ok());
  CHECK((*ks)["metadata"]["uid"] == kube_system_uid(fleet, m.a));
  auto listed = km::list_members(kclient);
  REQUIRE(listed.ok());
  size_t ready_members = 0;
  for (const auto& mi : *listed)
    if ((mi.name == "ja" || mi.name == "jb") && mi.ready == "True") ++ready_members;
  CHECK(ready_members == 2);

  // get clusters shows them with their Ready condition.
  auto gc = fleet.kurator({"get", "clusters", "-o", "json"});
  REQUIRE(gc.exit_code == 0);
  size_t shown = 0;
  for (const auto& item : parse(gc.out))
    if (item.value("provider", "") == "karmada-member" && (item["name"] == "ja" || item["name"] == "jb")) {
      CHECK(item["status"] == "Ready");
      ++shown;
    }
  CHECK(shown == 2);
  auto table = fleet.kurator({"get", "clusters"});
  CHECK(table.out.find("karmada-member") != std::string::npos);
}

TEST_CASE("karmada join: a re-run is a no-op, duplicates are refused naming the existing cluster", "[e2e][karmada][join]") {
  if (skip_unless_ready()) return;
  auto& fleet = Fleet::get();
  auto& karmada = LocalKarmada::get(fleet);
  auto& m = members(fleet);
  ensure_joined(fleet, "ja", m.a);
  auto rv = [&](const std::vector<std::string>& what) {
    std::vector<std::string> args = {"get"};
    args.insert(args.end(), what.begin(), what.end());
    args.insert(args.end(), {"-o", "jsonpath={.metadata.resourceVersion}"});
    return karmada.kubectl(args).out;
  };
  std::string cluster_rv = rv({"clusters.cluster.karmada.io", "ja"});
  std::string secret_rv = rv({"secret", "ja", "-n", "karmada-cluster"});

  auto again = join(fleet, "ja", m.a);
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.find("already joined") != std::string::npos);
  CHECK(again.out.find("nothing to do") != std::string::npos);
  CHECK(rv({"secret", "ja", "-n", "karmada-cluster"}) == secret_rv);
  // (The Cluster's resourceVersion moves with its status heartbeats; its spec must not.)
  (void)cluster_rv;

  // The same member under another name: refused, naming "ja"; nothing made.
  size_t before = karmada_cluster_count(karmada);
  auto dup = join(fleet, "ja2", m.a);
  INFO(dup.err);
  CHECK(dup.exit_code == 1);
  CHECK(error_lines(dup.err) == 1);
  CHECK(first_line(dup.err.substr(dup.err.find("error: "))).find("already joined to Karmada as \"ja\"") !=
        std::string::npos);
  CHECK(dup.err.find("hint: ") != std::string::npos);
  CHECK_FALSE(exists_in_karmada(karmada, {"secret", "ja2", "-n", "karmada-cluster"}));
  CHECK_FALSE(exists_on(fleet, m.a, {"serviceaccount", "karmada-ja2", "-n", "karmada-cluster"}));

  // The name for another member: refused, naming "ja" and its id; nothing made on that member.
  auto other = join(fleet, "ja", m.c);
  INFO(other.err);
  CHECK(other.exit_code == 1);
  CHECK(error_lines(other.err) == 1);
  CHECK(other.err.find("a cluster named \"ja\" is already joined to Karmada with another id") != std::string::npos);
  CHECK_FALSE(exists_on(fleet, m.c, {"namespace", "karmada-cluster"}));
  CHECK(karmada_cluster_count(karmada) == before);

  // Missing pieces are re-made by a re-run: the member's token secret and the Karmada impersonator secret.
  REQUIRE(fleet.kubectl(m.a, {"delete", "secret", "karmada-ja", "-n", "karmada-cluster"}).exit_code == 0);
  REQUIRE(karmada.kubectl({"delete", "secret", "ja-impersonator", "-n", "karmada-cluster"}).exit_code == 0);
  auto repaired = join(fleet, "ja", m.a);
  INFO(repaired.err);
  REQUIRE(repaired.exit_code == 0);
  CHECK(repaired.out.find("repaired") != std::string::npos);
  CHECK(repaired.out.find("Secret/karmada-cluster/karmada-ja") != std::string::npos);
  CHECK(repaired.out.find("Secret/karmada-cluster/ja-impersonator") != std::string::npos);
  auto tok = karmada.kubectl({"get", "secret", "ja", "-n", "karmada-cluster", "-o", "jsonpath={.data.token}"});
  CHECK(kurator::base64::decode(tok.out).value_or("") == member_token(fleet, m.a, "karmada-ja"));
  CHECK(exists_in_karmada(karmada, {"secret", "ja-impersonator", "-n", "karmada-cluster"}));
  auto settled = join(fleet, "ja", m.a);
  CHECK(settled.out.find("nothing to do") != std::string::npos);
}

TEST_CASE("karmada join: the dry run prints every step with secrets redacted and changes nothing", "[e2e][karmada][join]") {
  if (skip_unless_ready()) return;
  auto& fleet = Fleet::get();
  auto& karmada = LocalKarmada::get(fleet);
  auto& m = members(fleet);
  ensure_joined(fleet, "ja", m.a);
  size_t before = karmada_cluster_count(karmada);

  auto dry = join(fleet, "jc", m.c, {"--dry-run"});
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  for (const char* s : {"kind: Namespace", "kind: ServiceAccount", "kind: ClusterRole", "kind: ClusterRoleBinding",
                        "kubernetes.io/service-account-token", "kind: Cluster", "syncMode: Push", "<redacted>",
                        "ownerReferences", "condition Ready is True"})
    CHECK(dry.out.find(s) != std::string::npos);
  CHECK(dry.out.find(kube_system_uid(fleet, m.c)) != std::string::npos);
  CHECK_FALSE(exists_on(fleet, m.c, {"namespace", "karmada-cluster"}));
  CHECK(karmada_cluster_count(karmada) == before);
  auto dj = fleet.kurator({"--dry-run", "-o", "json", "join", "karmada", "jc", "--cluster-kubeconfig",
                           m.c.kubeconfig.string()});
  REQUIRE(dj.exit_code == 0);
  auto plan = parse(dj.out);
  CHECK(plan["dryRun"] == true);
  REQUIRE(plan["steps"].size() >= 10);
  for (const auto& step : plan["steps"])
    if (step["object"]["kind"] == "Secret" && step["object"].contains("data"))
      CHECK(step["object"]["data"].value("token", "") == "<redacted>");

  // Already joined: says so. No token of a joined member in any dry-run output.
  auto dry_joined = join(fleet, "ja", m.a, {"--dry-run", "-v", "-v"});
  REQUIRE(dry_joined.exit_code == 0);
  CHECK(dry_joined.out.find("already joined") != std::string::npos);
  std::string token = member_token(fleet, m.a, "karmada-ja");
  CHECK(dry_joined.out.find(token) == std::string::npos);
  CHECK(dry_joined.err.find(token) == std::string::npos);

  // unjoin's dry run names what it would delete and deletes nothing.
  auto du = unjoin(fleet, "ja", &m.a, {"--dry-run"});
  INFO(du.err);
  REQUIRE(du.exit_code == 0);
  CHECK(du.out.find("delete") != std::string::npos);
  CHECK(du.out.find("karmada-es-ja") != std::string::npos);
  CHECK(exists_in_karmada(karmada, {"clusters.cluster.karmada.io", "ja"}));
  CHECK(exists_on(fleet, m.a, {"namespace", "karmada-cluster"}));
}

TEST_CASE("karmada unjoin: removes both sides after Karmada's finalizer, unknown names are errors", "[e2e][karmada][join]") {
  if (skip_unless_ready()) return;
  auto& fleet = Fleet::get();
  auto& karmada = LocalKarmada::get(fleet);
  auto& m = members(fleet);
  ensure_joined(fleet, "ja", m.a);
  ensure_joined(fleet, "jb", m.b);
  // Karmada made the execution namespace.
  CHECK(exists_in_karmada(karmada, {"namespace", "karmada-es-jb"}));

  // The wrong member for the name: refused before anything is deleted.
  auto wrong = unjoin(fleet, "jb", &m.a);
  INFO(wrong.err);
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("is not the member joined as \"jb\"") != std::string::npos);
  CHECK(exists_in_karmada(karmada, {"clusters.cluster.karmada.io", "jb"}));

  auto r = unjoin(fleet, "jb", &m.b);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("unjoined") != std::string::npos);
  CHECK(r.err.find("finalizer") != std::string::npos);
  std::cerr << "unjoin jb: " << r.seconds << "s\n";
  CHECK_FALSE(exists_in_karmada(karmada, {"clusters.cluster.karmada.io", "jb"}));
  CHECK_FALSE(exists_in_karmada(karmada, {"namespace", "karmada-es-jb"}));
  CHECK_FALSE(exists_in_karmada(karmada, {"secret", "jb", "-n", "karmada-cluster"}));
  CHECK_FALSE(exists_in_karmada(karmada, {"secret", "jb-impersonator", "-n", "karmada-cluster"}));
  CHECK_FALSE(exists_on(fleet, m.b, {"namespace", "karmada-cluster"}));
  CHECK_FALSE(exists_on(fleet, m.b, {"clusterrole", "karmada-controller-manager:karmada-jb"}));
  CHECK_FALSE(exists_on(fleet, m.b, {"clusterrolebinding", "karmada-controller-manager:karmada-jb"}));
  // The other member is untouched.
  CHECK(exists_in_karmada(karmada, {"clusters.cluster.karmada.io", "ja"}));

  // Unknown name: an error naming it and the joined clusters (kubectl delete's convention)...
  auto again = unjoin(fleet, "jb", &m.b);
  CHECK(again.exit_code == 1);
  CHECK(error_lines(again.err) == 1);
  CHECK(again.err.find("cluster \"jb\" is not joined") != std::string::npos);
  CHECK(again.err.find("ja") != std::string::npos);
  // ...or a no-op that says so.
  auto ignored = unjoin(fleet, "jb", nullptr, {"--ignore-not-found"});
  CHECK(ignored.exit_code == 0);
  CHECK(ignored.out.find("nothing to do") != std::string::npos);

  // A Pull-mode cluster is refused.
  kurator::test::TempDir tmp;
  auto pull = tmp.path() / "pull.yaml";
  REQUIRE(kurator::fs::write_file_atomic(pull, "apiVersion: cluster.karmada.io/v1alpha1\nkind: Cluster\n"
                                               "metadata:\n  name: jpull\nspec:\n  syncMode: Pull\n")
              .ok());
  REQUIRE(karmada.kubectl({"apply", "-f", pull.string()}).exit_code == 0);
  auto p = unjoin(fleet, "jpull", nullptr);
  CHECK(p.exit_code == 1);
  CHECK(p.err.find("Pull mode") != std::string::npos);
  CHECK(exists_in_karmada(karmada, {"clusters.cluster.karmada.io", "jpull"}));
  karmada.kubectl({"delete", "clusters.cluster.karmada.io", "jpull", "--wait=true", "--timeout=60s"});

  // And it can join again right away.
  auto rejoin = join(fleet, "jb", m.b);
  INFO(rejoin.err);
  CHECK(rejoin.exit_code == 0);
  CHECK(rejoin.out.find("joined to Karmada") != std::string::npos);
}

TEST_CASE("karmada join: bad input fails in one line with a hint, and nothing changes", "[e2e][karmada][join]") {
  if (skip_unless_ready()) return;
  auto& fleet = Fleet::get();
  auto& karmada = LocalKarmada::get(fleet);
  auto& m = members(fleet);
  size_t before = karmada_cluster_count(karmada);
  kurator::test::TempDir tmp;

  struct Case {
    std::string what;
    std::vector<std::string> args;
    int exit;
    std::string names;  // the error line contains this
  };
  auto unreachable = tmp.path() / "unreachable.config";
  {
    auto text = kurator::fs::read_file(m.c.kubeconfig);
    REQUIRE(text.ok());
    auto kc = kurator::kubeconfig::load({m.c.kubeconfig.string(), "", {}, {}});
    REQUIRE(kc.ok());
    std::string t = *text;
    std::string dead = "https://127.0.0.1:" + std::to_string(closed_port());
    t.replace(t.find(kc->server), kc->server.size(), dead);
    REQUIRE(kurator::fs::write_private_file(unreachable, t).ok());
  }
  std::vector<Case> cases = {
      {"bad name", {"join", "karmada", "Bad_Name", "--cluster-kubeconfig", m.c.kubeconfig.string()}, 2, "Bad_Name"},
      {"long name", {"join", "karmada", std::string(49, 'x'), "--cluster-kubeconfig", m.c.kubeconfig.string()}, 2,
       "DNS-1123"},
      {"unknown context",
       {"join", "karmada", "jc", "--cluster-kubeconfig", m.c.kubeconfig.string(), "--cluster-context", "nope"},
       1,
       "context \"nope\""},
      {"missing kubeconfig", {"join", "karmada", "jc", "--cluster-kubeconfig", (tmp.path() / "none").string()}, 1,
       (tmp.path() / "none").string()},
      {"unreachable member", {"join", "karmada", "jc", "--cluster-kubeconfig", unreachable.string()}, 1,
       "is unreachable"},
      {"Karmada not installed",
       {"join", "karmada", "jc", "--cluster-kubeconfig", m.c.kubeconfig.string(), "--karmada-kubeconfig",
        (tmp.path() / "karmada.config").string()},
       1,
       "Karmada is not installed"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = fleet.kurator(c.args);
    INFO(r.err);
    CHECK(r.exit_code == c.exit);
    CHECK(error_lines(r.err) == 1);
    CHECK(r.err.find(c.names) != std::string::npos);
    CHECK(r.err.find("hint: ") != std::string::npos);
    CHECK(r.seconds < 15);
  }
  CHECK(karmada_cluster_count(karmada) == before);
  CHECK_FALSE(exists_on(fleet, m.c, {"namespace", "karmada-cluster"}));
}

TEST_CASE("karmada join: a member without a token controller fails with the reason, and leaves nothing", "[e2e][karmada][join]") {
  if (skip_unless_ready()) return;
  auto& fleet = Fleet::get();
  auto& karmada = LocalKarmada::get(fleet);
  auto& m = members(fleet);
  size_t before = karmada_cluster_count(karmada);
  // Stop the member's kube-controller-manager (its token controller).
  kurator::providers::local::Provider provider(fleet.home());
  auto st = provider.status(m.c.name);
  REQUIRE(st.ok());
  int kcm = 0;
  for (const auto& comp : st->components)
    if (comp.name == "kube-controller-manager" && comp.pid) kcm = *comp.pid;
  REQUIRE(kcm > 0);
  REQUIRE(::kill(kcm, SIGTERM) == 0);
  for (int i = 0; i < 100 && kurator::process::is_alive(kcm); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));

  auto r = fleet.kurator({"--wait-timeout", "6s", "join", "karmada", "jc", "--cluster-kubeconfig",
                          m.c.kubeconfig.string()},
                         true);
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK(error_lines(r.err) == 1);
  CHECK(r.err.find("token controller") != std::string::npos);
  CHECK(r.err.find("--service-account-private-key-file") != std::string::npos);
  CHECK(r.err.find("karmada-cluster/karmada-jc") != std::string::npos);
  CHECK(r.seconds < 20);
  CHECK(karmada_cluster_count(karmada) == before);
  CHECK_FALSE(exists_in_karmada(karmada, {"secret", "jc", "-n", "karmada-cluster"}));
  CHECK_FALSE(exists_on(fleet, m.c, {"clusterrole", "karmada-controller-manager:karmada-jc"}));
  CHECK_FALSE(exists_on(fleet, m.c, {"clusterrolebinding", "karmada-controller-manager:karmada-jc"}));
  // The namespace was deleted (it finishes terminating once the namespace controller runs again).
  auto ns = fleet.kubectl(m.c, {"get", "namespace", "karmada-cluster", "-o", "jsonpath={.metadata.deletionTimestamp}"});
  CHECK((ns.exit_code != 0 || !ns.out.empty()));

  // Bring the controller-manager back (create is idempotent and restarts what is missing).
  auto again = fleet.kurator({"create", "cluster", m.c.name, "--provider", "local", "--nodes", "0"});
  INFO(again.err);
  CHECK(again.exit_code == 0);
}
