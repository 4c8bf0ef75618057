// install/uninstall karmada. --provider local: a real Karmada control plane as local processes beside
// the local clusters (providers/local.hpp, Role::karmada), with the Karmada-side objects applied by
// components/karmada.hpp. --provider kubernetes (the in-cluster install) is not there yet.
#include <kurator/cli/app.hpp>
#include <kurator/cli/artifact_flags.hpp>
#include <kurator/components/karmada.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/util/yaml.hpp>

#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

namespace kurator::cli {
namespace {
namespace local = providers::local;
namespace km = components::karmada;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct InstallFlags {
  std::string provider;
  std::string bin_dir;
  artifacts::StoreFlags store;
};

struct UninstallFlags {
  std::string provider;
};

const char* kProviderHelp =
    "Where Karmada runs: `local` (a real control plane as local processes beside the local clusters: "
    "etcd, kube-apiserver, kube-controller-manager and Karmada's aggregated-apiserver, webhook, "
    "controller-manager and scheduler) or `kubernetes` (into the host cluster of --kubeconfig/--context; "
    "not available yet, it will become the default)";

Status check_provider(const std::string& provider) {
  if (provider.empty())
    return Error("choose where Karmada runs with --provider", ExitCode::usage,
                 "--provider local runs it as local processes; the in-cluster install (--provider "
                 "kubernetes) is not available yet");
  if (provider == "kubernetes")
    return Error("the in-cluster install of Karmada (--provider kubernetes) is not available yet",
                 ExitCode::failure, "use --provider local for a local Karmada beside the local clusters");
  return {};
}

// The local cluster --kubeconfig/--context names ("" when neither flag was given: standalone).
Result<std::string> host_cluster(Context& ctx, const local::Provider& provider) {
  if (ctx.g.kubeconfig.empty() && ctx.g.context.empty()) return std::string();
  auto cfg = kubeconfig::load(ctx.kubeconfig_options());
  if (!cfg) return cfg.error();
  auto list = provider.list();
  if (!list) return list.error();
  for (const auto& c : *list)
    if (c.spec.role == local::Role::cluster && !c.endpoint.empty() && c.endpoint == cfg->server) {
      if (c.phase != "Running") spdlog::warn("host cluster \"{}\" is {}", c.spec.name, c.status);
      return c.spec.name;
    }
  return Error(
      "context \"" + cfg->context_name + "\" (server " + cfg->server + ") is not a local cluster of " +
          ctx.home().string(),
      ExitCode::failure,
      "--provider local installs beside a cluster made by `kurator create cluster NAME --provider "
      "local` (see kurator get clusters); leave out --kubeconfig/--context for a standalone Karmada");
}

// The object list for the local Karmada whose webhook and aggregated apiserver listen on `ports`.
km::ObjectsOptions local_objects_options(const std::string& ca_pem, const local::Ports& ports,
                                         const std::filesystem::path& crds, const std::string& endpoint) {
  km::ObjectsOptions o;
  o.ca_pem = ca_pem;
  o.webhook_base_url = "https://127.0.0.1:" + std::to_string(ports.webhook);
  o.aggregated_apiserver_host = "127.0.0.1";
  o.aggregated_apiserver_port = ports.aggregated_apiserver;
  o.crds_dir = crds;
  o.apiserver_url = endpoint;
  return o;
}

Status run_dry_run(Context& ctx, local::Provider& provider, const local::CreateOptions& opts,
                   artifacts::Store& store) {
  auto plan = provider.plan(opts);
  if (!plan) return plan.error();
  json doc = plan->to_json();
  doc["kind"] = "LocalKarmadaPlan";
  if (plan->already_running) {
    doc["note"] = "the local Karmada is installed and running: install would do nothing";
    if (ctx.g.output == "table")
      std::cout << yaml::dump(doc);
    else
      ctx.print(doc, {}, {});
    std::cout.flush();
    return {};
  }
  // The ports the plan picked, read back from its processes' flags.
  local::Ports ports;
  auto flag_port = [&](const std::string& process, const std::string& flag) {
    for (const auto& p : plan->processes)
      if (p.name == process)
        for (const auto& a : p.argv)
          if (a.rfind(flag + "=", 0) == 0) {
            auto v = a.substr(flag.size() + 1);
            return std::atoi(v.substr(v.rfind(':') + 1).c_str());
          }
    return 0;
  };
  ports.webhook = flag_port("karmada-webhook", "--secure-port");
  ports.aggregated_apiserver = flag_port("karmada-aggregated-apiserver", "--secure-port");
  int api = flag_port("kube-apiserver", "--secure-port");
  std::vector<json> objs;
  auto crds = km::cached_crds(store);
  if (crds) {
    auto o = km::objects(local_objects_options("", ports, *crds, "https://127.0.0.1:" + std::to_string(api)));
    if (!o) return o.error();
    objs = std::move(*o);
    doc["crds"] = crds->string();
  } else {
    auto a = store.resolve(km::kCrdsArtifact);
    doc["crds"] = "not cached: install would fetch " +
                  (a ? a->id() + " from " + a->url : std::string(km::kCrdsArtifact)) +
                  " first; the CRDs are left out below";
  }
  doc["note"] = "nothing was changed; free ports are picked again at install; caBundle is the CA made then";
  if (ctx.g.output != "table") {
    json out = {{"plan", doc}, {"objects", objs}};
    ctx.print(out, {}, {});
    return {};
  }
  std::vector<json> all = {doc};
  for (auto& o : objs) all.push_back(std::move(o));
  std::cout << yaml::dump_all(all);
  std::cout.flush();
  return {};
}

Status run_install(Context& ctx, const InstallFlags& f) {
  KURATOR_TRY(check_provider(f.provider));
  local::Provider provider(std::filesystem::absolute(ctx.home()));
  auto host = host_cluster(ctx, provider);
  if (!host) return host.error();
  local::CreateOptions opts;
  opts.spec.role = local::Role::karmada;
  opts.spec.name = local::kKarmadaName;
  opts.spec.host_cluster = *host;
  // Re-run without --kubeconfig/--context: the host it was installed beside.
  if (host->empty() && provider.karmada_installed())
    if (auto st = provider.karmada_status(); st) opts.spec.host_cluster = st->spec.host_cluster;
  opts.bin_dir = f.bin_dir;
  opts.timeout = ctx.wait_timeout();

  auto store = artifacts::open_store(ctx.home(), f.store);
  if (!store) return store.error();
  if (ctx.g.dry_run) return run_dry_run(ctx, provider, opts, *store);

  // The CRDs before any process starts: a missing artifact changes nothing.
  std::filesystem::path crds;
  auto plan = provider.plan(opts);
  if (!plan) return plan.error();
  if (!plan->already_running) {
    auto c = km::fetch_crds(*store);
    if (!c) return c.error().context("the Karmada CRDs");
    crds = *c;
  }
  opts.on_api_ready = [&](const local::ApiReady& api) -> Status {
    auto cfg = kubeconfig::load(kubeconfig::LoadOptions{.explicit_path = api.kubeconfig.string()});
    if (!cfg) return cfg.error();
    kube::Client client(*cfg);
    auto objs = km::objects(local_objects_options(api.ca_pem, api.ports, crds, api.endpoint));
    if (!objs) return objs.error();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(api.deadline - Clock::now());
    if (left.count() <= 0) return Error("timed out before applying the Karmada objects", ExitCode::timeout);
    return km::apply_and_wait(client, std::move(*objs), left);
  };
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
    std::cout << "Karmada (local) is already installed and running in "
              << provider.karmada_paths().root.string() << "; nothing to do.\n";
  } else {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", static_cast<double>(r->elapsed.count()) / 1000.0);
    std::cout << "Karmada " << st.spec.karmada_version << " (local) is "
              << (r->restarted ? "running again" : "ready") << " after " << secs << "s"
              << (st.spec.host_cluster.empty() ? std::string(" (standalone)")
                                               : " beside cluster \"" + st.spec.host_cluster + "\"")
              << ".\n";
  }
  std::cout << "Karmada API: " << st.endpoint << "\n"
            << "Use it with:\n"
            << "  kubectl --kubeconfig " << st.kubeconfig.string() << " get clusters.cluster.karmada.io\n"
            << "Remove it with:\n"
            << "  kurator uninstall karmada --provider local\n";
  std::cout.flush();
  return {};
}

Status run_uninstall(Context& ctx, const UninstallFlags& f) {
  KURATOR_TRY(check_provider(f.provider));
  local::Provider provider(std::filesystem::absolute(ctx.home()));
  const auto root = provider.karmada_paths().root;
  if (!provider.karmada_installed()) {
    std::cout << "Karmada (local) is not installed in " << ctx.home().string() << "; nothing to do.\n";
    std::cout.flush();
    return {};
  }
  if (ctx.g.dry_run) {
    auto st = provider.karmada_status();
    if (!st) return st.error();
    json doc = {{"kind", "LocalKarmadaUninstallPlan"}, {"remove", root.string()}, {"stop", json::array()}};
    for (const auto& c : st->components)
      if (c.running) doc["stop"].push_back(json{{"name", c.name}, {"pid", *c.pid}});
    doc["note"] = "nothing was changed";
    if (ctx.g.output == "table")
      std::cout << yaml::dump(doc);
    else
      ctx.print(doc, {}, {});
    std::cout.flush();
    return {};
  }
  KURATOR_TRY(provider.remove_karmada());
  std::cout << "Karmada (local) uninstalled: every process stopped, " << root.string() << " removed.\n";
  std::cout.flush();
  return {};
}

}  // namespace

void add_karmada_commands(CLI::App& app, Context& ctx) {
  auto* install = verb(app, "install", "Install components");
  auto inf = std::make_shared<InstallFlags>();
  auto* ik = install->add_subcommand(
      "karmada",
      "Install Karmada " + std::string(providers::versions::karmada) +
          ". --provider local (available now): a real Karmada control plane as local processes in "
          "$KURATOR_HOME/karmada, beside the local cluster of --kubeconfig/--context or standalone; admin "
          "kubeconfig $KURATOR_HOME/karmada/karmada-apiserver.config. --provider kubernetes (into a host "
          "cluster) is not available yet. Re-running is a no-op; --dry-run prints what would start and be "
          "applied");
  ik->add_option("--provider", inf->provider, kProviderHelp)->check(CLI::IsMember({"local", "kubernetes"}));
  ik->add_option(
      "--bin-dir", inf->bin_dir,
      "Directory with etcd, kube-apiserver, kube-controller-manager and karmada-aggregated-apiserver, "
      "karmada-webhook, karmada-controller-manager, karmada-scheduler (flat, or <component>-<version>/ "
      "below it; default " +
          local::default_bin_cache().string() + ", filled by scripts/build-test-binaries.sh)");
  add_artifact_flags(ik, inf->store, true);
  ik->callback([&ctx, inf] { ctx.outcome = run_install(ctx, *inf); });

  auto* uninstall = verb(app, "uninstall", "Uninstall components");
  auto unf = std::make_shared<UninstallFlags>();
  auto* uk = uninstall->add_subcommand(
      "karmada",
      "Uninstall Karmada. --provider local: stop every process of the local Karmada and remove "
      "$KURATOR_HOME/karmada (names what it could not stop or remove; not installed: nothing to do)");
  uk->add_option("--provider", unf->provider, kProviderHelp)->check(CLI::IsMember({"local", "kubernetes"}));
  uk->callback([&ctx, unf] { ctx.outcome = run_uninstall(ctx, *unf); });
}

}  // namespace kurator::cli
