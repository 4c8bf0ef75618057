// install/uninstall karmada. --provider local: a real Karmada control plane as local processes beside
// the local clusters (providers/local.hpp, Role::karmada), with the Karmada-side objects applied by
// components/karmada.hpp. --provider kubernetes: the in-cluster install into the host cluster of
// --kubeconfig/--context (components/karmada_install.hpp), the same Karmada-side objects.
#include <kurator/cli/app.hpp>
#include <kurator/cli/artifact_flags.hpp>
#include <kurator/components/karmada.hpp>
#include <kurator/components/karmada_install.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/core/kubeconfig.hpp>
#include <kurator/providers/local.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

namespace kurator::cli {
namespace {
namespace local = providers::local;
namespace km = components::karmada;
namespace ki = components::karmada_install;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct InstallFlags {
  std::string provider;
  std::string bin_dir;
  artifacts::StoreFlags store;
  // --provider kubernetes
  std::string namespace_ = "karmada-system";
  std::string service_type = "NodePort";
  std::string image_registry;
};

struct UninstallFlags {
  std::string provider;
  std::string namespace_ = "karmada-system";
};

const char* kProviderHelp =
    "Where Karmada runs: `local` (a real control plane as local processes beside the local clusters: "
    "etcd, kube-apiserver, kube-controller-manager and Karmada's aggregated-apiserver, webhook, "
    "controller-manager and scheduler) or `kubernetes` (Deployments in the host cluster of "
    "--kubeconfig/--context, the object list of karmadactl init)";

Status check_provider(const std::string& provider) {
  if (provider.empty())
    return Error("choose where Karmada runs with --provider", ExitCode::usage,
                 "--provider kubernetes installs it into the host cluster of --kubeconfig/--context; "
                 "--provider local runs it as local processes");
  return {};
}

// Where the in-cluster install keeps its admin kubeconfig, and the note that tells the local provider
// the folder is not a local Karmada.
std::filesystem::path in_cluster_kubeconfig(const Context& ctx) {
  return ctx.home() / "karmada" / "karmada-apiserver.config";
}
std::filesystem::path in_cluster_note(const Context& ctx) { return ctx.home() / "karmada" / local::kInClusterNote; }

Result<kube::Client*> host_client(Context& ctx, std::unique_ptr<kube::Client>& holder) {
  auto cfg = kubeconfig::load(ctx.kubeconfig_options());
  if (!cfg)
    return Error(cfg.error().message, ExitCode::usage,
                 cfg.error().hint.empty()
                     ? std::string("name the host cluster with --kubeconfig FILE and/or --context NAME")
                     : cfg.error().hint);
  holder = std::make_unique<kube::Client>(*cfg);
  return holder.get();
}

// The dry-run: a plan document naming the host apiserver, the host objects, then (when the CRDs are
// cached) a document naming the Karmada apiserver and the objects applied there.
void print_dry_run(Context& ctx, const json& plan, const std::vector<json>& host_objs, const json& karmada_plan,
                   const std::vector<json>& karmada_objs) {
  if (ctx.g.output != "table") {
    ctx.print(json{{"plan", plan},
                   {"hostObjects", host_objs},
                   {"karmadaPlan", karmada_plan},
                   {"karmadaObjects", karmada_objs}},
              {}, {});
    return;
  }
  std::vector<json> all = {plan};
  for (const auto& d : host_objs) all.push_back(d);
  all.push_back(karmada_plan);
  for (const auto& d : karmada_objs) all.push_back(d);
  std::cout << yaml::dump_all(all);
  std::cout.flush();
}

// A dry-run plan: YAML for table output, else as -o asks.
void print_document(Context& ctx, const json& doc) {
  if (ctx.g.output == "table")
    std::cout << yaml::dump(doc);
  else
    ctx.print(doc, {}, {});
  std::cout.flush();
}

Status run_install_kubernetes(Context& ctx, const InstallFlags& f) {
  ki::Options o;
  o.namespace_ = f.namespace_;
  o.service_type = f.service_type;
  o.image_registry = f.image_registry;
  KURATOR_TRY(ki::validate(o));
  local::Provider provider(std::filesystem::absolute(ctx.home()));
  if (provider.karmada_installed())
    return Error("the local Karmada is installed in " + provider.karmada_paths().root.string(),
                 ExitCode::failure, "uninstall it first: kurator uninstall karmada --provider local");
  std::unique_ptr<kube::Client> holder;
  auto host = host_client(ctx, holder);
  if (!host) return host.error();
  auto store = artifacts::open_store(ctx.home(), f.store);
  if (!store) return store.error();
  const std::string server = (*host)->config().server;

  if (ctx.g.dry_run) {
    // Nothing is sent: a throwaway PKI fills the Secrets, whose data is redacted.
    auto made = ki::make_pki(o);
    if (!made) return made.error();
    auto objs = ki::host_objects(o, *made);
    if (!objs) return objs.error();
    json plan = {{"kind", "KarmadaInClusterInstallPlan"},
                 {"hostApiserver", server},
                 {"namespace", o.namespace_},
                 {"apiserverServiceType", o.service_type},
                 {"kubeconfig", in_cluster_kubeconfig(ctx).string()}};
    std::vector<json> docs;
    for (const auto& d : *objs) docs.push_back(ki::redact(d));
    plan["hostObjects"] = docs.size();
    plan["note"] = "nothing was changed; Secret data is redacted; the certificates are made (or reused from "
                   "Secret " + o.namespace_ + "/karmada-cert) at install";
    json kplan = {{"kind", "KarmadaApiserverPlan"},
                  {"apiserver", "the Karmada apiserver, through Service " + o.namespace_ + "/karmada-apiserver (" +
                                    o.service_type + ") once its pods are Ready"}};
    std::vector<json> kdocs;
    auto crds = km::cached_crds(*store);
    if (crds) {
      auto ko = km::in_cluster_options(o.namespace_);
      ko.crds_dir = *crds;
      ko.apiserver_url = "https://<the exposed address of Service karmada-apiserver>";
      auto kobjs = km::objects(ko);
      if (!kobjs) return kobjs.error();
      kdocs = std::move(*kobjs);
      kplan["objects"] = kdocs.size();
      kplan["note"] = "caBundle is the CA made (or reused) at install";
    } else {
      auto a = store->resolve(km::kCrdsArtifact);
      kplan["objects"] = "left out: the CRDs are not cached; install would fetch " +
                         (a ? a->id() + " from " + a->url : std::string(km::kCrdsArtifact)) + " first";
    }
    print_dry_run(ctx, plan, docs, kplan, kdocs);
    return {};
  }

  auto crds = km::fetch_crds(*store);
  if (!crds) return crds.error().context("the Karmada CRDs");
  ki::InstallRequest req;
  req.options = o;
  req.crds_dir = *crds;
  req.kubeconfig_out = in_cluster_kubeconfig(ctx);
  req.timeout = ctx.wait_timeout();
  std::error_code ec;
  std::filesystem::create_directories(in_cluster_note(ctx).parent_path(), ec);
  KURATOR_TRY(fs::write_file_atomic(
      in_cluster_note(ctx),
      json{{"provider", "kubernetes"}, {"hostApiserver", server}, {"namespace", o.namespace_}}.dump(2) + "\n"));
  const auto start = Clock::now();
  auto r = ki::install(**host, req);
  if (!r) return r.error();
  const double secs =
      static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()) /
      1000.0;
  if (ctx.g.output != "table") {
    ctx.print(json{{"provider", "kubernetes"},
                   {"hostApiserver", server},
                   {"namespace", o.namespace_},
                   {"apiserver", r->apiserver_url},
                   {"kubeconfig", r->kubeconfig.string()},
                   {"pkiReused", r->pki_reused},
                   {"hostObjectsChanged", r->host_changed},
                   {"elapsedSeconds", secs}},
              {}, {});
    return {};
  }
  if (r->pki_reused && r->host_changed == 0)
    std::cout << "Karmada " << providers::versions::karmada << " is already installed in namespace "
              << o.namespace_ << " of " << server << "; nothing changed in the host.\n";
  else
    std::cout << "Karmada " << providers::versions::karmada << " is ready in namespace " << o.namespace_ << " of "
              << server << " (" << r->host_changed << " of " << r->host_objects << " host objects changed).\n";
  std::cout << "Karmada API: " << r->apiserver_url << "\n"
            << "Use it with:\n"
            << "  kubectl --kubeconfig " << r->kubeconfig.string() << " get clusters.cluster.karmada.io\n"
            << "Remove it with:\n"
            << "  kurator uninstall karmada --provider kubernetes"
            << (o.namespace_ == "karmada-system" ? std::string() : " -n " + o.namespace_) << "\n";
  std::cout.flush();
  return {};
}

Status run_uninstall_kubernetes(Context& ctx, const UninstallFlags& f) {
  std::unique_ptr<kube::Client> holder;
  auto host = host_client(ctx, holder);
  if (!host) return host.error();
  const std::string server = (*host)->config().server;
  if (ctx.g.dry_run) {
    json doc = {{"kind", "KarmadaInClusterUninstallPlan"},
                {"hostApiserver", server},
                {"delete", json::array({"Namespace/" + f.namespace_ + " (if labelled " +
                                        std::string(ki::kManagedByLabel) + "=kurator) and everything in it"})},
                {"remove", in_cluster_kubeconfig(ctx).string()},
                {"note", "nothing was changed"}};
    print_document(ctx, doc);
    return {};
  }
  auto r = ki::uninstall(**host, f.namespace_, in_cluster_kubeconfig(ctx), ctx.wait_timeout());
  if (!r) return r.error();
  std::error_code ec;
  std::filesystem::remove(in_cluster_note(ctx), ec);
  std::filesystem::remove(in_cluster_note(ctx).parent_path(), ec);  // only when empty
  if (!r->was_installed)
    std::cout << "Karmada is not installed in namespace " << f.namespace_ << " of " << server
              << "; nothing to do in the host.\n";
  else
    std::cout << "Karmada uninstalled from " << server << ": namespace " << f.namespace_
              << " and everything in it deleted.\n";
  std::cout.flush();
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
    print_document(ctx, doc);
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
  if (f.provider == "kubernetes") return run_install_kubernetes(ctx, f);
  if (std::error_code ec; std::filesystem::exists(in_cluster_note(ctx), ec))
    return Error("Karmada is installed in a cluster from this home (" + in_cluster_note(ctx).string() + ")",
                 ExitCode::failure, "uninstall it first: kurator uninstall karmada --provider kubernetes");
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
  if (f.provider == "kubernetes") return run_uninstall_kubernetes(ctx, f);
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
    print_document(ctx, doc);
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
          ". --provider local: a real Karmada control plane as local processes in "
          "$KURATOR_HOME/karmada, beside the local cluster of --kubeconfig/--context or standalone; admin "
          "kubeconfig $KURATOR_HOME/karmada/karmada-apiserver.config. --provider kubernetes: into the host "
          "cluster of --kubeconfig/--context (etcd, karmada-apiserver, aggregated-apiserver, "
          "kube-controller-manager, scheduler, controller-manager, webhook; PKI kept in Secrets), then the "
          "Karmada objects over the apiserver's Service, same kubeconfig path. Re-running is a no-op; "
          "--dry-run prints what would start and be applied");
  ik->add_option("--provider", inf->provider, kProviderHelp)->check(CLI::IsMember({"local", "kubernetes"}));
  ik->add_option(
      "--bin-dir", inf->bin_dir,
      "Directory with etcd, kube-apiserver, kube-controller-manager and karmada-aggregated-apiserver, "
      "karmada-webhook, karmada-controller-manager, karmada-scheduler (flat, or <component>-<version>/ "
      "below it; default " +
          local::default_bin_cache().string() + ", filled by scripts/build-test-binaries.sh)");
  ik->add_option("-n,--namespace", inf->namespace_,
                 "--provider kubernetes: the host namespace of Karmada's control plane")
      ->capture_default_str();
  ik->add_option("--apiserver-service-type", inf->service_type,
                 "--provider kubernetes: how karmada-apiserver is exposed: NodePort (node InternalIP:32443), "
                 "LoadBalancer (its ingress address) or ClusterIP (reachable from inside the cluster network only)")
      ->capture_default_str();
  ik->add_option("--image-registry", inf->image_registry,
                 "--provider kubernetes: pull every image from this registry (mirror or private): "
                 "R/<component>:<pinned tag> instead of registry.k8s.io and docker.io/karmada");
  add_artifact_flags(ik, inf->store, true);
  ik->callback([&ctx, inf] { ctx.outcome = run_install(ctx, *inf); });

  auto* uninstall = verb(app, "uninstall", "Uninstall components");
  auto unf = std::make_shared<UninstallFlags>();
  auto* uk = uninstall->add_subcommand(
      "karmada",
      "Uninstall Karmada. --provider local: stop every process of the local Karmada and remove "
      "$KURATOR_HOME/karmada (names what it could not stop or remove; not installed: nothing to do). "
      "--provider kubernetes: delete the host namespace kurator made (and everything in it), wait until "
      "it is gone, remove $KURATOR_HOME/karmada/karmada-apiserver.config");
  uk->add_option("--provider", unf->provider, kProviderHelp)->check(CLI::IsMember({"local", "kubernetes"}));
  uk->add_option("-n,--namespace", unf->namespace_,
                 "--provider kubernetes: the host namespace the install used")
      ->capture_default_str();
  uk->callback([&ctx, unf] { ctx.outcome = run_uninstall(ctx, *unf); });
}

}  // namespace kurator::cli
