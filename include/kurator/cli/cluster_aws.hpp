// The aws provider's flags on create/delete/scale/upgrade cluster and its describe command
// (src/cli/cluster_aws.cpp); cluster.cpp and cluster_vms.cpp dispatch to them for aws clusters.
#pragma once
#include <kurator/cli/app.hpp>
#include <kurator/core/artifacts.hpp>
#include <kurator/providers/aws.hpp>

#include <optional>
#include <string>
#include <vector>

namespace kurator::cli {

struct AwsFlags {
  // What was given on the command line (each overrides the -f file).
  providers::aws::ConfigFlags given;
  std::vector<CLI::Option*> options;  // all of them (other providers refuse them)
};

// --region, --ssh-key-name, -n, the machine counts and types, the CIDRs, --cni and --ami-id on `create
// cluster`.
void add_aws_create_flags(CLI::App* create_cluster, AwsFlags& f);
// create cluster NAME --provider aws: -f (may be empty), --print-config, --kubernetes-version from the shared
// flags.
Status run_aws_create(Context& ctx, const std::string& name, const std::string& file, bool print_config,
                      const std::string& kubernetes_version, const AwsFlags& f,
                      const artifacts::StoreFlags& store);
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
