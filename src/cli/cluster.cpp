// create cluster NAME --provider local|vms, delete cluster NAME, get clusters, get kubeconfig NAME (vms: flags in
// cluster_vms.cpp).
#include <kurator/cli/app.hpp>
#include <kurator/cli/cluster_aws.hpp>
#include <kurator/cli/cluster_vms.hpp>
#include <kurator/fleet/karmada.hpp>
#include <kurator/providers/aws_cluster.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/providers/vms_cluster.hpp>

#include <ifaddrs.h>
#include <net/if.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

namespace kurator::cli {
namespace {
namespace local = providers::local;
using json = nlohmann::json;

struct CreateFlags {
  std::string name;
  std::string provider = "local";
  int nodes = 1;
  std::string kubernetes_version;
  std::string bin_dir;
  VmsFlags vms;
  AwsFlags aws;
};

struct DeleteFlags {
  std::string name;
  std::string provider;  // empty: vms when NAME is a vms cluster, else local
  VmsFlags vms;
};

void warn_other_netns(const local::ClusterStatus& st) {
  if (!st.other_netns) return;
  int apiserver_pid = 0;
  for (const auto& c : st.components)
    if (c.name == "kube-apiserver" && c.pid && c.running) apiserver_pid = *c.pid;
  if (apiserver_pid)
    spdlog::warn(
        "cluster \"{}\" runs in another network namespace ({}); its API is reachable from there only, "
        "e.g. nsenter --net=/proc/{}/ns/net kubectl ...",
        st.spec.name, st.netns, apiserver_pid);
  else
    spdlog::warn("cluster \"{}\" was created in another network namespace ({})", st.spec.name, st.netns);
}

// True in a private network namespace as scripts/netns-run.sh makes it: no interface up but loopback.
bool only_loopback_up() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool only_lo = true;
  for (ifaddrs* a = list; a; a = a->ifa_next)
    if ((a->ifa_flags & IFF_UP) && !(a->ifa_flags & IFF_LOOPBACK)) only_lo = false;
  ::freeifaddrs(list);
  return only_lo;
}

Status run_create(Context& ctx, const CreateFlags& f) {
  if (f.provider == "vms") return run_vms_create(ctx, f.name, f.vms);
  if (f.provider == "aws") {
    if (f.vms.check || !f.vms.api_endpoint.empty())
      return Error("--check and --api-endpoint are flags of --provider vms", ExitCode::usage);
    return run_aws_create(ctx, f.name, f.vms.file, f.vms.print_config, f.kubernetes_version, f.aws, f.vms.store);
  }
  if (!f.vms.file.empty() || f.vms.print_config || f.vms.check)
    return Error("-f and --print-config are flags of --provider vms|aws, --check of --provider vms", ExitCode::usage,
                 "kurator create cluster " + f.name + " --provider vms -f hosts.yaml");
  for (const auto* o : f.aws.options)
    if (o->count() > 0)
      return Error(o->get_name() + " is a flag of --provider aws", ExitCode::usage,
                   "kurator create cluster " + f.name + " --provider aws " + o->get_name() + " ...");
  local::Provider provider(std::filesystem::absolute(ctx.home()));
  local::CreateOptions opts;
  opts.spec.name = f.name;
  opts.spec.provider = f.provider;
  opts.spec.nodes = f.nodes;
  opts.spec.kubernetes_version = f.kubernetes_version;
  opts.bin_dir = f.bin_dir;
  opts.timeout = ctx.wait_timeout();
  auto r = provider.create(opts);
  if (!r) return r.error();
  const auto& st = r->status;
  if (ctx.g.output != "table") {
    json out = st.to_json();
    out["alreadyExisted"] = r->already_existed;
    out["elapsedSeconds"] = static_cast<double>(r->elapsed.count()) / 1000.0;
    ctx.print(out, {}, {});
    return {};
  }
  if (r->already_existed) {
    std::cout << "Cluster \"" << st.spec.name << "\" already exists with the same spec (" << st.status
              << "); nothing to do.\n";
    warn_other_netns(st);
  } else {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", static_cast<double>(r->elapsed.count()) / 1000.0);
    std::cout << "Cluster \"" << st.spec.name << "\" is " << (r->restarted ? "running again" : "ready")
              << " (" << st.spec.nodes << (st.spec.nodes == 1 ? " node" : " nodes") << ", Kubernetes "
              << st.spec.kubernetes_version << ") after " << secs << "s.\n";
  }
  // Started inside a private network namespace (scripts/netns-run.sh): say where the API is reachable.
  int apiserver_pid = 0;
  for (const auto& c : st.components)
    if (c.name == "kube-apiserver" && c.pid) apiserver_pid = *c.pid;
  if (only_loopback_up() && !st.netns.empty() && !st.other_netns && apiserver_pid) {
    std::cout << "Note: this runs in a private network namespace (" << st.netns
              << "); the API is reachable from inside it only,\n"
              << "  e.g. nsenter --net=/proc/" << apiserver_pid << "/ns/net kubectl --kubeconfig "
              << st.kubeconfig.string() << " get nodes\n";
  }
  std::cout << "API server: " << st.endpoint << "\n"
            << "Use it with:\n"
            << "  export KUBECONFIG=" << st.kubeconfig.string() << "\n"
            << "  kubectl get nodes\n"
            << "Delete it with:\n"
            << "  kurator delete cluster " << st.spec.name << " --provider local\n";
  std::cout.flush();
  return {};
}

Status run_delete(Context& ctx, const DeleteFlags& f) {
  const auto home = std::filesystem::absolute(ctx.home());
  if (f.provider == "vms" || (f.provider.empty() && providers::vms::is_vms_cluster(home, f.name)))
    return run_vms_delete(ctx, f.name, f.vms);
  if (f.provider == "aws" || (f.provider.empty() && providers::aws::is_aws_cluster(home, f.name)))
    return run_aws_delete(ctx, f.name);
  local::Provider provider(home);
  KURATOR_TRY(provider.remove(f.name, f.provider.empty() ? "local" : f.provider));
  std::cout << "Cluster \"" << f.name << "\" deleted.\n";
  std::cout.flush();
  return {};
}

// Joined Karmada members, when a Karmada kubeconfig exists at the default path: one row each with its
// Ready condition, or one row saying why they cannot be listed (Karmada down is not an error here).
void add_karmada_members(Context& ctx, json& items, std::vector<std::vector<std::string>>& rows) {
  namespace km = fleet::karmada;
  auto path = km::default_kubeconfig(std::filesystem::absolute(ctx.home()));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  std::string problem, short_problem;  // the full reason (JSON) and what fits in a table cell
  std::vector<km::MemberInfo> members;
  auto cfg = km::load_karmada_config(path);
  if (!cfg) {
    problem = cfg.error().message;
  } else if (auto st = km::check_reachable(*cfg, std::chrono::seconds(3), "Karmada"); !st) {
    problem = st.error().message;
    short_problem = "Karmada at " + cfg->server + " is not answering";
  } else {
    kube::Client karmada(*cfg);
    auto l = km::list_members(karmada);
    if (!l) problem = l.error().message;
    else members = std::move(*l);
  }
  if (!problem.empty()) {
    items.push_back({{"provider", "karmada-member"}, {"status", "Unknown"}, {"karmadaKubeconfig", path.string()},
                     {"error", problem}});
    rows.push_back({"-", "karmada-member",
                    "Unknown (cannot list members: " + (short_problem.empty() ? problem : short_problem) + ")", "-",
                    "-", "-"});
    return;
  }
  for (const auto& m : members) {
    std::string status = m.ready == "True" ? "Ready" : (m.ready == "False" ? "NotReady" : "Unknown");
    items.push_back({{"name", m.name},
                     {"provider", "karmada-member"},
                     {"status", status},
                     {"ready", m.ready},
                     {"reason", m.reason},
                     {"endpoint", m.api_endpoint},
                     {"id", m.id},
                     {"syncMode", m.sync_mode},
                     {"kubernetesVersion", m.kubernetes_version}});
    if (m.ready != "True" && !m.reason.empty()) status += " (" + m.reason + ")";
    rows.push_back({m.name, "karmada-member", status, m.api_endpoint.empty() ? "-" : m.api_endpoint, "-",
                    m.kubernetes_version.empty() ? "-" : m.kubernetes_version});
  }
}

Status run_get_clusters(Context& ctx) {
  local::Provider provider(std::filesystem::absolute(ctx.home()));
  auto list = provider.list();
  if (!list) return list.error();
  json items = json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& st : *list) {
    items.push_back(st.to_json());
    std::string endpoint = st.endpoint.empty() ? "-" : st.endpoint;
    if (st.other_netns && st.phase != "Stopped") endpoint += " (other netns)";
    rows.push_back({st.spec.name, st.spec.provider, st.status, endpoint, std::to_string(st.spec.nodes),
                    st.spec.kubernetes_version});
  }
  add_vms_rows(ctx, items, rows);
  add_aws_rows(ctx, items, rows);
  add_karmada_members(ctx, items, rows);
  if (ctx.g.output == "table" && rows.empty()) {
    std::cerr << "No clusters. Create one with: kurator create cluster NAME --provider local|vms|aws\n";
    return {};
  }
  ctx.print(items, {"NAME", "PROVIDER", "STATUS", "API", "NODES", "KUBERNETES"}, rows);
  return {};
}

Status run_get_kubeconfig(Context& ctx, const std::string& name) {
  const auto home = std::filesystem::absolute(ctx.home());
  local::Provider provider(home);
  auto text = providers::vms::is_vms_cluster(home, name)   ? providers::vms::kubeconfig(home, name)
              : providers::aws::is_aws_cluster(home, name) ? providers::aws::kubeconfig(home, name)
                                                           : provider.kubeconfig(name);
  if (!text) return text.error();
  std::cout << *text;
  if (!text->empty() && text->back() != '\n') std::cout << "\n";
  std::cout.flush();
  return {};
}

}  // namespace

void add_cluster_commands(CLI::App& app, Context& ctx) {
  auto* create = verb(app, "create", "Create resources (clusters)");
  auto cf = std::make_shared<CreateFlags>();
  auto* cc = create->add_subcommand("cluster",
                                    "Create a Kubernetes cluster: local (etcd, kube-apiserver, controller-manager, "
                                    "scheduler and kwok fake nodes on loopback), vms (your machines, by KubeSpray "
                                    "over SSH) or aws (Cluster API + CAPA on a management cluster)");
  cc->add_option("name", cf->name, "Cluster name (lower-case letters, digits, '-')");
  cc->add_option("--provider", cf->provider, "Where the cluster runs")
      ->check(CLI::IsMember({"local", "vms", "aws"}));
  cc->add_option("--nodes", cf->nodes, "Number of fake (kwok) nodes")->check(CLI::Range(0, 100));
  cc->add_option("--kubernetes-version", cf->kubernetes_version,
                 "Kubernetes version (default " + std::string(providers::versions::kubernetes) + ")");
  cc->add_option("--bin-dir", cf->bin_dir,
                 "Directory with etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok "
                 "(flat, or <component>-<version>/ below it; default " +
                     local::default_bin_cache().string() + ")");
  add_vms_create_flags(cc, cf->vms);
  add_aws_create_flags(cc, cf->aws);
  cc->callback([&ctx, cf] {
    if (cf->name.empty() && !cf->vms.print_config)
      ctx.outcome = Error("create cluster: the cluster NAME is required", ExitCode::usage,
                          "kurator create cluster NAME --provider local|vms|aws");
    else
      ctx.outcome = run_create(ctx, *cf);
  });

  auto* del = verb(app, "delete", "Delete resources (clusters)");
  auto df = std::make_shared<DeleteFlags>();
  auto* dc = del->add_subcommand("cluster",
                                 "Delete a cluster: local (stop its processes, remove its state), vms (KubeSpray's "
                                 "reset.yml on every host, then its state) or aws (delete the Cluster and follow "
                                 "its teardown)");
  dc->add_option("name", df->name, "Cluster name")->required();
  dc->add_option("--provider", df->provider, "Where the cluster runs (default: what made it)")
      ->check(CLI::IsMember({"local", "vms", "aws"}));
  add_vms_delete_flags(dc, df->vms);
  dc->callback([&ctx, df] { ctx.outcome = run_delete(ctx, *df); });

  auto* get = verb(app, "get", "Show resources (clusters, kubeconfigs)");
  auto* gc = get->add_subcommand("clusters", "List clusters (local, vms, Karmada members) and their health");
  gc->callback([&ctx] { ctx.outcome = run_get_clusters(ctx); });
  auto kname = std::make_shared<std::string>();
  auto* gk = get->add_subcommand("kubeconfig", "Print the admin kubeconfig of a cluster");
  gk->add_option("name", *kname, "Cluster name")->required();
  gk->callback([&ctx, kname] { ctx.outcome = run_get_kubeconfig(ctx, *kname); });
}

}  // namespace kurator::cli
