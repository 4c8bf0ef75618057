// --provider aws on create/delete/scale/upgrade cluster, and describe cluster: flags only; the work is in
// providers/aws_cluster.
#include <kurator/cli/cluster_aws.hpp>
#include <kurator/providers/aws_cluster.hpp>
#include <kurator/util/fs.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace kurator::cli {
namespace aws = providers::aws;
namespace {

aws::Options options_of(Context& ctx) {
  aws::Options o;
  o.home = std::filesystem::absolute(ctx.home());
  o.management.explicit_path = ctx.g.kubeconfig;
  o.management.context = ctx.g.context;
  o.env = [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  };
  o.dry_run = ctx.g.dry_run;
  o.wait_timeout = ctx.wait_timeout();
  o.tty = ::isatty(STDERR_FILENO) == 1;
  return o;
}

// The artifact store (a dry run needs it too: it renders the release files and the template).
struct Session {
  std::optional<artifacts::Store> store;
  aws::Options opts;
};

Result<Session> open_session(Context& ctx, const artifacts::StoreFlags& flags) {
  Session s;
  s.opts = options_of(ctx);
  auto store = artifacts::open_store(s.opts.home, flags);
  if (!store) return store.error();
  s.store.emplace(std::move(*store));
  return s;
}

}  // namespace

void add_aws_create_flags(CLI::App* cc, AwsFlags& f) {
  auto text = [cc, &f](const std::string& flag, std::optional<std::string>& into, const std::string& help) {
    f.options.push_back(
        cc->add_option_function<std::string>(flag, [&into](const std::string& v) { into = v; }, help));
  };
  auto count = [cc, &f](const std::string& flag, std::optional<int>& into, const std::string& help) {
    f.options.push_back(cc->add_option_function<int>(flag, [&into](int v) { into = v; }, help));
  };
  auto& g = f.given;
  text("-n,--namespace", g.namespace_,
       "aws: the management cluster's namespace for the cluster objects (default default)");
  text("--region", g.region, "aws: the AWS region (e.g. eu-central-1)");
  text("--ssh-key-name", g.ssh_key_name, "aws: the EC2 key pair the machines accept");
  text("--control-plane-machine-type", g.control_plane_machine_type,
       "aws: EC2 instance type of the control plane (default t3.large)");
  text("--worker-machine-type", g.worker_machine_type,
       "aws: EC2 instance type of the workers (default t3.large)");
  text("--pod-cidr", g.pod_cidr, "aws: the pods' CIDR (default 192.168.0.0/16)");
  text("--service-cidr", g.service_cidr, "aws: the services' CIDR (default 10.96.0.0/12)");
  text("--cni", g.cni, "aws: calico (the pinned Calico, applied once the cluster is up) or none");
  text("--ami-id", g.ami_id, "aws: the machines' AMI (default: CAPA's published image)");
  count("--control-plane-count", g.control_plane_count, "aws: control plane machines (odd; default 1)");
  count("--worker-count", g.worker_count, "aws: worker machines (default 1)");
}

Status run_aws_create(Context& ctx, const std::string& name, const std::string& file, bool print_config,
                      const std::string& kubernetes_version, const AwsFlags& f,
                      const artifacts::StoreFlags& store) {
  if (print_config) {
    std::cout << aws::sample_config(name.empty() ? "demo" : name) << std::flush;
    return {};
  }
  aws::ConfigFlags cf = f.given;
  if (!kubernetes_version.empty()) cf.kubernetes_version = kubernetes_version;
  auto cfg = aws::load_config(name, file, cf);
  if (!cfg) return cfg.error();
  auto s = open_session(ctx, store);
  if (!s) return s.error();
  s->opts.store = &*s->store;
  return aws::create(*cfg, s->opts);
}

Status run_aws_delete(Context& ctx, const std::string& name) {
  auto o = options_of(ctx);
  return aws::remove(name, o);
}

Status run_aws_scale(Context& ctx, const std::string& name, std::optional<int> workers,
                     std::optional<int> control_plane, const artifacts::StoreFlags& store) {
  auto s = open_session(ctx, store);
  if (!s) return s.error();
  s->opts.store = &*s->store;
  return aws::scale(name, workers, control_plane, s->opts);
}

Status run_aws_upgrade(Context& ctx, const std::string& name, const std::string& version,
                       const artifacts::StoreFlags& store) {
  auto s = open_session(ctx, store);
  if (!s) return s.error();
  s->opts.store = &*s->store;
  return aws::upgrade(name, version, s->opts);
}

void add_aws_rows(Context& ctx, nlohmann::json& items, std::vector<std::vector<std::string>>& rows) {
  auto o = options_of(ctx);
  for (const auto& c : aws::list_clusters(o)) {
    std::string status = c.problem.empty() ? c.phase : "Unknown (" + c.problem + ")";
    items.push_back({{"name", c.name},
                     {"provider", "aws"},
                     {"namespace", c.namespace_},
                     {"status", status},
                     {"management", c.management},
                     {"controlPlane", c.control_plane},
                     {"workers", c.workers},
                     {"kubernetesVersion", c.version},
                     {"kubeconfig", c.kubeconfig.string()}});
    std::string nodes = c.control_plane.empty() ? "-" : "cp " + c.control_plane + ", workers " + c.workers;
    rows.push_back({c.name, "aws", status, c.management.empty() ? "-" : "via " + c.management, nodes,
                    c.version.empty() ? "-" : c.version});
  }
}

void add_describe_command(CLI::App& app, Context& ctx) {
  auto* describe = verb(app, "describe", "Show details of resources (clusters)");
  auto name = std::make_shared<std::string>();
  auto* dc = describe->add_subcommand(
      "cluster",
      "Show an aws cluster's Cluster API objects as a tree (Cluster, infrastructure, control plane, "
      "machine deployments, machines) with their status and the failing condition's message");
  dc->add_option("name", *name, "Cluster name")->required();
  dc->callback([&ctx, name] {
    auto o = options_of(ctx);
    if (!aws::is_aws_cluster(o.home, *name))
      ctx.outcome = Error("describe cluster: \"" + *name + "\" is not an aws cluster kurator made",
                          ExitCode::failure, "kurator get clusters lists them");
    else
      ctx.outcome = aws::describe(*name, o);
  });
}

}  // namespace kurator::cli
