// join karmada NAME / unjoin karmada NAME: Karmada membership natively over REST (fleet/karmada.hpp).
#include <kurator/cli/app.hpp>
#include <kurator/fleet/karmada.hpp>
#include <kurator/util/yaml.hpp>

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>

namespace kurator::cli {
namespace {
namespace km = fleet::karmada;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct MemberFlags {
  std::string name;
  std::string cluster_kubeconfig, cluster_context;
  std::string karmada_kubeconfig;  // default $KURATOR_HOME/karmada/karmada-apiserver.config
  std::string cluster_namespace = "karmada-cluster";
};

struct JoinFlags : MemberFlags {
  std::string provider, region;
  std::vector<std::string> zones;
};

struct UnjoinFlags : MemberFlags {
  bool force = false;
  bool ignore_not_found = false;
};

Result<kubeconfig::RestConfig> load_member(const MemberFlags& f) {
  kubeconfig::LoadOptions lo;
  lo.explicit_path = f.cluster_kubeconfig;
  lo.context = f.cluster_context;
  auto cfg = kubeconfig::load(lo);
  if (!cfg) {
    Error e = std::move(cfg).error();
    if (e.hint.find("--kubeconfig") != std::string::npos) e.hint = "check the --cluster-kubeconfig path";
    // The loader's hint names the global flag ("pass --context NAME; available: …").
    if (auto p = e.hint.find("--context "); p != std::string::npos) e.hint.replace(p, 9, "--cluster-context");
    return e.context("--cluster-kubeconfig");
  }
  return cfg;
}

Result<kubeconfig::RestConfig> load_karmada(Context& ctx, const MemberFlags& f) {
  std::filesystem::path p = f.karmada_kubeconfig.empty() ? km::default_kubeconfig(std::filesystem::absolute(ctx.home()))
                                                         : std::filesystem::path(f.karmada_kubeconfig);
  return km::load_karmada_config(p);
}

json steps_json(const std::vector<km::PlannedAction>& planned) {
  json steps = json::array();
  for (const auto& p : planned)
    steps.push_back({{"target", p.target}, {"server", p.server}, {"action", p.action}, {"object", p.object}});
  return steps;
}

// The dry-run plan as YAML documents, each headed by a comment saying where and what.
void print_plan(const std::string& title, const std::vector<km::PlannedAction>& planned) {
  std::cout << "# " << title << " (dry run: nothing is changed). Steps, in order:\n";
  int i = 0;
  for (const auto& p : planned) {
    std::cout << "---\n# " << ++i << ". " << p.target << " " << p.server << ": " << p.action << "\n"
              << yaml::dump(p.object);
  }
  std::cout.flush();
}

std::string seconds_text(Clock::duration d) {
  return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count());
}

Status run_join(Context& ctx, const JoinFlags& f) {
  auto t0 = Clock::now();
  KURATOR_TRY(km::validate_name(f.name));
  auto member = load_member(f);
  if (!member) return member.error();
  auto kcfg = load_karmada(ctx, f);
  if (!kcfg) return kcfg.error();
  kube::Client karmada(*kcfg);
  km::JoinOptions o;
  o.name = f.name;
  o.member = std::move(*member);
  o.cluster_namespace = f.cluster_namespace;
  o.provider = f.provider;
  o.region = f.region;
  o.zones = f.zones;
  o.timeout = ctx.wait_timeout();
  o.dry_run = ctx.g.dry_run;
  auto r = km::join(karmada, o);
  if (!r) return r.error();
  const bool table = ctx.g.output == "table";
  if (ctx.g.dry_run) {
    if (!table) {
      ctx.print({{"dryRun", true},
                 {"name", f.name},
                 {"id", r->cluster_id},
                 {"alreadyJoined", r->already_joined},
                 {"steps", steps_json(r->planned)}},
                {}, {});
    } else if (r->already_joined && r->planned.empty()) {
      std::cout << "Cluster \"" << f.name << "\" is already joined to Karmada (id " << r->cluster_id
                << "); nothing would be done.\n";
    } else {
      print_plan(std::string("kurator join karmada ") + f.name + (r->already_joined ? " (already joined: repairs)" : ""),
                 r->planned);
    }
    std::cout.flush();
    return {};
  }
  auto elapsed = Clock::now() - t0;
  if (!table) {
    ctx.print({{"name", f.name},
               {"id", r->cluster_id},
               {"apiEndpoint", r->api_endpoint},
               {"alreadyJoined", r->already_joined},
               {"repaired", r->repaired},
               {"ready", r->ready},
               {"reason", r->reason},
               {"elapsedSeconds", std::chrono::duration<double>(elapsed).count()}},
              {}, {});
    return {};
  }
  std::string state = r->ready == "True" ? "Ready" : "not Ready: " + r->reason;
  if (r->already_joined && r->repaired.empty())
    std::cout << "Cluster \"" << f.name << "\" is already joined to Karmada (id " << r->cluster_id << ", "
              << r->api_endpoint << ", " << state << "); nothing to do.\n";
  else if (r->already_joined)
    std::cout << "Cluster \"" << f.name << "\" was already joined to Karmada (id " << r->cluster_id
              << "); repaired: " << fmt::format("{}", fmt::join(r->repaired, ", ")) << " (" << state << ").\n";
  else
    std::cout << "Cluster \"" << f.name << "\" joined to Karmada (id " << r->cluster_id << ", " << r->api_endpoint
              << "); Ready after " << seconds_text(elapsed) << ".\n"
              << "Remove it with: kurator unjoin karmada " << f.name << " --cluster-kubeconfig "
              << f.cluster_kubeconfig << (f.cluster_context.empty() ? "" : " --cluster-context " + f.cluster_context)
              << "\n";
  std::cout.flush();
  return {};
}

Status run_unjoin(Context& ctx, const UnjoinFlags& f) {
  auto t0 = Clock::now();
  KURATOR_TRY(km::validate_name(f.name));
  if (!f.cluster_context.empty() && f.cluster_kubeconfig.empty())
    return Error("--cluster-context needs --cluster-kubeconfig", ExitCode::usage,
                 "name the member's kubeconfig with --cluster-kubeconfig FILE");
  km::UnjoinOptions o;
  o.name = f.name;
  if (!f.cluster_kubeconfig.empty()) {
    auto member = load_member(f);
    if (!member) return member.error();
    o.member = std::move(*member);
  }
  auto kcfg = load_karmada(ctx, f);
  if (!kcfg) return kcfg.error();
  kube::Client karmada(*kcfg);
  o.cluster_namespace = f.cluster_namespace;
  o.timeout = ctx.wait_timeout();
  o.force = f.force;
  o.ignore_not_found = f.ignore_not_found;
  o.dry_run = ctx.g.dry_run;
  auto r = km::unjoin(karmada, o);
  if (!r) return r.error();
  const bool table = ctx.g.output == "table";
  if (ctx.g.dry_run) {
    if (!table)
      ctx.print({{"dryRun", true}, {"name", f.name}, {"notFound", r->not_found}, {"steps", steps_json(r->planned)}},
                {}, {});
    else if (r->planned.empty())
      std::cout << "Cluster \"" << f.name << "\" is not joined to Karmada; nothing would be done.\n";
    else
      print_plan("kurator unjoin karmada " + f.name, r->planned);
    std::cout.flush();
    return {};
  }
  auto elapsed = Clock::now() - t0;
  if (!table) {
    ctx.print({{"name", f.name},
               {"notFound", r->not_found},
               {"forced", r->forced},
               {"memberCleaned", r->member_cleaned},
               {"elapsedSeconds", std::chrono::duration<double>(elapsed).count()}},
              {}, {});
    return {};
  }
  if (r->not_found)
    std::cout << "Cluster \"" << f.name << "\" is not joined to Karmada; nothing to do"
              << (r->member_cleaned ? " there (the member side was removed)" : "") << ".\n";
  else
    std::cout << "Cluster \"" << f.name << "\" unjoined from Karmada"
              << (r->forced ? " (finalizers stripped with --force)" : "")
              << (r->member_cleaned ? "; the member side was removed too"
                                    : "; the member side was left (pass --cluster-kubeconfig to remove it)")
              << " after " << seconds_text(elapsed) << ".\n";
  std::cout.flush();
  return {};
}

void add_common(CLI::App* cmd, MemberFlags& f) {
  cmd->add_option("name", f.name, "Name of the member cluster in Karmada (a DNS-1123 label, at most 48 characters)")
      ->required();
  cmd->add_option("--karmada-kubeconfig", f.karmada_kubeconfig,
                  "Kubeconfig of the Karmada apiserver (default $KURATOR_HOME/karmada/karmada-apiserver.config)");
  cmd->add_option("--cluster-namespace", f.cluster_namespace,
                  "Namespace holding the member's credentials, in Karmada and in the member")
      ->capture_default_str();
}

}  // namespace

void add_join_commands(CLI::App& app, Context& ctx) {
  auto* join = verb(app, "join", "Join clusters to a multi-cluster control plane (karmada)");
  auto jf = std::make_shared<JoinFlags>();
  auto* jk = join->add_subcommand(
      "karmada",
      "Join a cluster to Karmada in Push mode, as karmadactl join does: a namespace, service accounts, RBAC and "
      "token secrets in the member; its credentials and a Cluster in Karmada; then wait until the Cluster is "
      "Ready (--wait-timeout). Re-running it for the same cluster and name is a no-op (missing pieces are "
      "re-made); the same cluster under another name, or the name for another cluster, is refused. --dry-run "
      "prints every step (secrets redacted) and changes nothing.");
  add_common(jk, *jf);
  jk->add_option("--cluster-kubeconfig", jf->cluster_kubeconfig, "Kubeconfig of the cluster to join")->required();
  jk->add_option("--cluster-context", jf->cluster_context, "Context in --cluster-kubeconfig (default its current one)");
  jk->add_option("--cluster-provider", jf->provider, "Cluster spec.provider (e.g. aws)");
  jk->add_option("--cluster-region", jf->region, "Cluster spec.region");
  jk->add_option("--cluster-zones", jf->zones, "Cluster spec.zones (comma-separated)")->delimiter(',');
  jk->callback([&ctx, jf] { ctx.outcome = run_join(ctx, *jf); });

  auto* unjoin = verb(app, "unjoin", "Remove clusters from a multi-cluster control plane (karmada)");
  auto uf = std::make_shared<UnjoinFlags>();
  auto* uk = unjoin->add_subcommand(
      "karmada",
      "Remove a Push-mode member from Karmada: delete its Cluster, wait until Karmada's finalizer has removed "
      "what it propagated there (namespace karmada-es-NAME) and delete its secrets; with --cluster-kubeconfig "
      "also remove the member side (ClusterRoleBinding, ClusterRole, ServiceAccount, namespace). A name that is "
      "not joined is an error (exit 1), as for kubectl delete, unless --ignore-not-found.");
  add_common(uk, *uf);
  uk->add_option("--cluster-kubeconfig", uf->cluster_kubeconfig,
                 "Kubeconfig of the member: remove the member side too (it must be the cluster that was joined)");
  uk->add_option("--cluster-context", uf->cluster_context, "Context in --cluster-kubeconfig (default its current one)");
  uk->add_flag("--force", uf->force,
               "When Karmada's finalizer has not finished within --wait-timeout, strip the Cluster's finalizers so "
               "it is deleted anyway (what Karmada propagated to the member may then stay there)");
  uk->add_flag("--ignore-not-found", uf->ignore_not_found, "A name that is not joined is a no-op, not an error");
  uk->callback([&ctx, uf] { ctx.outcome = run_unjoin(ctx, *uf); });
}

}  // namespace kurator::cli
