// The vms provider's flags on create/delete cluster and its scale/upgrade commands (src/cli/cluster_vms.cpp);
// cluster.cpp dispatches to them on --provider vms.
#pragma once
#include <kurator/cli/app.hpp>
#include <kurator/core/artifacts.hpp>

#include <memory>
#include <string>
#include <vector>

namespace kurator::cli {

struct VmsFlags {
  std::string file;           // -f hosts.yaml
  bool print_config = false;  // --print-config
  bool check = false;         // --check: KubeSpray's check mode
  bool yes = false;           // -y: delete without asking
  std::string api_endpoint;   // --api-endpoint
  artifacts::StoreFlags store;
};

// -f, --print-config, --check, --api-endpoint and the artifact flags on `create cluster`.
void add_vms_create_flags(CLI::App* create_cluster, VmsFlags& f);
// -y and --check on `delete cluster`.
void add_vms_delete_flags(CLI::App* delete_cluster, VmsFlags& f);
Status run_vms_create(Context& ctx, const std::string& name, const VmsFlags& f);
Status run_vms_delete(Context& ctx, const std::string& name, const VmsFlags& f);
// The vms clusters as `get clusters` rows (NAME PROVIDER STATUS API NODES KUBERNETES) and JSON items.
void add_vms_rows(Context& ctx, nlohmann::json& items, std::vector<std::vector<std::string>>& rows);
// scale cluster NAME (-f | --remove-host H), upgrade cluster NAME --kubernetes-version V.
void add_vms_lifecycle_commands(CLI::App& app, Context& ctx);

}  // namespace kurator::cli
