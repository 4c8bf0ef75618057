// `kurator apply -f FILE|DIR|- [--wait]`: server-side apply of any multi-document YAML, in dependency
// order, optionally waiting until every object is ready.
#include <kurator/cli/app.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/core/manifests.hpp>
#include <kurator/core/waiter.hpp>
#include <kurator/util/log.hpp>
#include <kurator/util/yaml.hpp>

#include <unistd.h>

#include <iostream>
#include <mutex>

namespace kurator::cli {
namespace {

struct ApplyFlags {
  std::vector<std::string> files;
  bool wait = false;
  std::string namespace_;
  bool force_conflicts = true;
  int concurrency = 8;
};

Status run_apply(Context& ctx, const ApplyFlags& f) {
  auto objs = kube::read_manifests(f.files, std::cin);
  if (!objs) return objs.error();
  if (!f.namespace_.empty())
    for (auto& o : *objs)
      if (!o["metadata"].contains("namespace")) o["metadata"]["namespace"] = f.namespace_;
  if (ctx.g.dry_run) {
    std::vector<nlohmann::json> ordered;
    for (auto& level : kube::dependency_levels(std::move(*objs)))
      for (auto& o : level) ordered.push_back(std::move(o));
    std::cout << yaml::dump_all(ordered);
    return {};
  }
  auto cfg = kubeconfig::load(ctx.kubeconfig_options());
  if (!cfg) return cfg.error();
  kube::Client client(*cfg);
  std::string default_ns = f.namespace_.empty() ? (cfg->namespace_.empty() ? "default" : cfg->namespace_) : f.namespace_;

  kube::ApplyAllOptions ao;
  ao.apply.force = f.force_conflicts;
  ao.concurrency = f.concurrency;
  ao.crd_timeout = ctx.wait_timeout();
  // Without --wait, return once the apiserver has accepted everything, as `kubectl apply` does; with
  // --wait the waiter below waits for the CRDs (Established) along with every other object.
  ao.crds_established_at_end = false;
  std::mutex out_mu;
  const bool table = ctx.g.output == "table";
  ao.keep_results = !table;  // the table only names what was applied
  ao.on_applied = [&](const nlohmann::json& o) {
    if (!table) return;
    std::lock_guard<std::mutex> g(out_mu);
    std::cout << kube::describe(o) << " applied\n" << std::flush;
  };
  auto applied = kube::apply_all(client, std::move(*objs), ao, default_ns);
  if (!applied) return applied.error();
  if (!table) {
    nlohmann::json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", *applied}};
    ctx.print(list, {}, {});
  }
  if (!f.wait) return {};
  std::vector<kube::WaitTarget> targets;
  for (const auto& o : *applied) targets.push_back(kube::WaitTarget::from(o));
  kube::WaitOptions wo;
  wo.timeout = ctx.wait_timeout();
  wo.tty = ::isatty(STDERR_FILENO) == 1;
  return kube::wait_ready(client, targets, wo);
}

}  // namespace

void add_apply_command(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<ApplyFlags>();
  auto* cmd = app.add_subcommand("apply", "Apply Kubernetes manifests with server-side apply, in dependency order");
  cmd->add_option("-f,--filename", flags->files, "A YAML/JSON file, a directory of them, or - for stdin")
      ->required()
      ->allow_extra_args(false);
  cmd->add_flag("--wait", flags->wait, "Wait until every applied object is ready (see --wait-timeout)");
  cmd->add_option("-n,--namespace", flags->namespace_, "Namespace for objects that name none");
  cmd->add_option("--concurrency", flags->concurrency, "Objects applied at once within a dependency level")
      ->check(CLI::Range(1, 64));
  cmd->callback([&ctx, flags] { ctx.outcome = run_apply(ctx, *flags); });
}

}  // namespace kurator::cli
