// What "installed and healthy" means for each component, for `kurator status`. Each installer declares
// one entry (a function in its own file returning a Component) and adds one line to registry() in
// src/components/component.cpp.
#pragma once
#include <kurator/core/kube.hpp>
#include <kurator/fleet/fleet.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace kurator::components {

// Where a component lives: in every member cluster (volcano, prometheus, …) or once, on the fleet's
// control plane (karmada).
enum class Scope { member, control_plane };

struct Health {
  bool installed = false;
  bool healthy = false;
  std::string version;  // what is installed ("" when unknown or not installed)
  std::string reason;   // why it is not healthy (or not installed); empty when healthy
};

// What a health check may look at.
struct Probe {
  // Scope::member: the member (reachable). Scope::control_plane: nullptr; the check finds its control
  // plane from `home` / `karmada_kubeconfig`.
  kube::Client* cluster = nullptr;
  std::string cluster_name;                  // the member's name (messages)
  std::filesystem::path home;                // $KURATOR_HOME
  std::filesystem::path karmada_kubeconfig;  // the Karmada the fleet flags name
};

struct Component {
  std::string name;
  Scope scope = Scope::member;
  std::string description;
  // Never throws; read-only. An unreachable cluster is reported by the caller, not here.
  std::function<Health(const Probe&)> health;
};

// Every component kurator installs, in the order `status` lists them.
const std::vector<Component>& registry();
// The entry named `name`, or nullptr.
const Component* find(const std::string& name);

// Shared checks for member components: the named object exists and is ready by kstatus (Established,
// Available, …). Returns "" when ready, else the reason ("Deployment volcano-system/x: 0/1 replicas ready").
std::string check_ready(kube::Client& c, const std::string& api_version, const std::string& kind,
                        const std::string& ns, const std::string& name);

// The host part of a URL: "https://10.0.0.5:6443/x" -> "10.0.0.5", "https://[::1]:6443" -> "::1".
std::string url_host(const std::string& url);

// Where a member's Service is reached from outside the member: a LoadBalancer's ingress (ip, else
// hostname) and the Service port; a NodePort's node address (InternalIP, else ExternalIP, else the member
// apiserver's host) and the node port. "" when a LoadBalancer has no ingress yet. Errors name the Service.
Result<std::string> service_address(kube::Client& member, const std::string& ns, const std::string& name,
                                    int port);

struct MemberAddress {
  std::string member;
  std::string address;
};
// Every member's (but `skip`'s) address of Service ns/name:port. While one has none (a LoadBalancer
// without ingress, or an error): with `require` an error naming the member, else a placeholder
// "<M's NAME address, once it has one>" (for plans).
Result<std::vector<MemberAddress>> member_service_addresses(const std::vector<fleet::Member>& members,
                                                            const std::string& ns, const std::string& name,
                                                            int port, bool require,
                                                            const std::string& skip = {});

// The labels kurator puts on every object it installs (and `status` reads back).
inline constexpr const char* kComponentLabel = "kurator.dev/component";
inline constexpr const char* kVersionLabel = "kurator.dev/version";
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
// Sets those three labels on every object (managed-by=kurator).
void label_objects(std::vector<nlohmann::json>& objects, const std::string& component,
                   const std::string& version);
// An object's label `key`, "" when absent.
std::string label_of(const nlohmann::json& obj, const std::string& key);
// The kurator.dev/version the objects carry, "" when none.
std::string version_of(const std::vector<nlohmann::json>& objects);

}  // namespace kurator::components
