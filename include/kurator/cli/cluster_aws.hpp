// The aws provider's flags on create/delete/scale/upgrade cluster and its describe command
// (src/cli/cluster_aws.cpp); cluster.cpp and cluster_vms.cpp dispatch to them for aws clusters.
#pragma once
#include <kurator/cli/app.hpp>
#include <kurator/core/artifacts.hpp>

#include <optional>
#include <string>
#include <vector>

namespace kurator::cli {

struct AwsFlags {
  // Each option, when given on the command line, overrides the -f file (see options_given()).
  std::string namespace_, region, ssh_key_name, control_plane_machine_type, worker_machine_type, pod_cidr,
      service_cidr, cni, ami_id;
  int control_plane_count = 0, worker_count = 0;
  std::vector<CLI::Option*> options;  // the options above, in that order, then the two counts
};

// --region, --ssh-key-name, -n, the machine counts and types, the CIDRs, --cni and --ami-id on `create cluster`.
void add_aws_create_flags(CLI::App* create_cluster, AwsFlags& f);
// create cluster NAME --provider aws: -f (may be empty), --print-config, --kubernetes-version from the shared flags.
Status run_aws_create(Context& ctx, const std::string& name, const std::string& file, bool print_config,
                      const std::string& kubernetes_version, const AwsFlags& f, const artifacts::StoreFlags& store);
Status run_aws_delete(Context& ctx, const std::string& name);
Status run_aws_scale(Context& ctx, const std::string& name, std::optional<int> workers,
                     std::optional<int> control_plane, const artifacts::StoreFlags& store);
Status run_aws_upgrade(Context& ctx, const std::string& name, const std::string& version,
                       const artifacts::StoreFlags& store);
// The aws clusters as `get clusters` rows (NAME PROVIDER STATUS API NODES KUBERNETES) and JSON items.
void add_aws_rows(Context& ctx, nlohmann::json& items, std::vector<std::vector<std::string>>& rows);
// describe cluster NAME.
void add_describe_command(CLI::App& app, Context& ctx);

}  // namespace kurator::cli
