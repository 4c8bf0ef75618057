// Thanos (global query view and long-term storage over every member's Prometheus): the library layer of
// `kurator install thanos`.
//
// - check_objstore: an object-store config file checked as Thanos checks it (thanos-io/objstore
//   client/factory.go and the providers' Config structs at 71d60dfee488), before anything is applied.
// - check_compactor: the compactor's retention settings checked as cmd/thanos/compact.go (v0.42.2) does.
// - host_objects: the host cluster's objects in namespace `thanos` (Query, Store Gateway, Compactor,
//   Receive router + ingestor, Query Frontend), from the kube-thanos v0.29.0 manifests of the `kube-thanos`
//   artifact, parsed and edited structurally for Thanos v0.42.2 (image, flags, volumes, labels).
// - endpoints_file / endpoints_configmap: the file Query reads with --endpoint.sd-config-file (the member
//   sidecars plus the in-cluster Store Gateway and Receive ingestor); Query reloads it, so a re-run only
//   updates that ConfigMap.
//
// The object-store config holds credentials: no error of this module ever contains a value from it, and
// host_objects puts it only in the Secret (which is mounted as a file: it never appears in an argument).
#pragma once
#include <kurator/components/component.hpp>
#include <kurator/core/artifacts.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::components::thanos {
using json = nlohmann::json;

inline constexpr const char* kName = "thanos";
inline constexpr const char* kVersion = "v0.42.2";  // the Prometheus Operator v0.93.0's default Thanos
inline constexpr const char* kImage = "quay.io/thanos/thanos:v0.42.2";
inline constexpr const char* kArtifact = "kube-thanos";  // catalog name (kind files), used as the layout
inline constexpr const char* kNamespace = "thanos";
inline constexpr const char* kObjstoreSecret = "thanos-objstore-config";
inline constexpr const char* kObjstoreKey = "thanos.yaml";
inline constexpr const char* kObjstoreDir = "/etc/thanos/objstore";  // where the Secret is mounted
inline constexpr int kGrpcPort = 10901;
inline constexpr int kHttpPort = 10902;
inline constexpr int kQueryHttpPort = 9090;  // Query and Query Frontend (kube-thanos' choice)
inline constexpr int kRemoteWritePort = 19291;
inline constexpr const char* kEndpointsConfigMap = "thanos-query-endpoints";
inline constexpr const char* kEndpointsKey = "endpoints.yaml";
inline constexpr const char* kEndpointsDir = "/etc/thanos/endpoints";
inline constexpr const char* kHashringConfigMap = "hashring-config";  // kube-thanos' name
inline constexpr const char* kHashringKey = "hashrings.json";
// kurator's labels (component.hpp).
using components::kComponentLabel;
using components::kManagedByLabel;
using components::kVersionLabel;
// Workload (and container) names, as kube-thanos names them.
inline constexpr const char* kQuery = "thanos-query";
inline constexpr const char* kStore = "thanos-store";
inline constexpr const char* kCompact = "thanos-compact";
inline constexpr const char* kReceiveRouter = "thanos-receive-router";
inline constexpr const char* kReceiveIngestor = "thanos-receive-ingestor-default";
inline constexpr const char* kQueryFrontend = "thanos-query-frontend";
inline constexpr const char* kReceiveContainer = "thanos-receive";  // both Receive workloads' container

// ---- object-store config ----
struct ObjstoreConfig {
  std::string type;  // upper-cased, as objstore does (S3, GCS, FILESYSTEM, ...)
  std::string text;  // the file as given (a secret: never log it)
};
// The types thanos-io/objstore's factory builds.
const std::vector<std::string>& objstore_types();
// Checks `text` as Thanos would read it: top level only `type`, `config`, `prefix`; `type` one of
// objstore_types() (case-insensitive); each type's required fields and mutually exclusive ones; unknown
// keys inside `config` refused for every type (Thanos itself ignores them for FILESYSTEM, COS, ALIYUNOSS,
// BOS and OCI, where a typo silently drops a setting: kurator refuses them too). Errors are one line
// "<source>: <field>: <problem>" with a hint and never contain a value from the file.
Result<ObjstoreConfig> check_objstore(std::string_view text, const std::string& source);

// ---- compactor ----
struct CompactorOptions {
  std::string retention_raw = "0d";  // --retention.resolution-raw (0d: keep forever)
  std::string retention_5m = "0d";   // --retention.resolution-5m
  std::string retention_1h = "0d";   // --retention.resolution-1h
  bool downsampling = true;          // false: --downsampling.disable
};
// Prometheus model.Duration syntax (`1y2w3d4h5m6s7ms`, or `0`), as kingpin reads the retention flags.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// The three durations parse (errors name --retention-raw, --retention-5m, --retention-1h) and, with
// downsampling on, raw retention (when not 0) is >= 40h and 5m retention (when not 0) >= 10d.
Status check_compactor(const CompactorOptions& options);

// ---- Query endpoints ----
struct Endpoint {
  std::string cluster;  // the member it belongs to (for messages; not written to the file)
  std::string address;  // host:port of its sidecar's gRPC (as reachable from the host cluster)
  bool strict = false;  // always used even when its health check fails (no dns+ addresses then)
};
// The in-cluster Store Gateway and Receive ingestor, as Query in namespace `thanos` finds them.
std::vector<Endpoint> in_cluster_endpoints();
// The YAML for --endpoint.sd-config-file: `endpoints: [{address, strict?}]`, the sidecars in order (an
// address listed twice is written once: Thanos refuses duplicate store producers), then (in_cluster)
// in_cluster_endpoints().
std::string endpoints_file(const std::vector<Endpoint>& sidecars, bool in_cluster = true);
// The ConfigMap thanos-query-endpoints holding endpoints_file() under endpoints.yaml, labelled.
json endpoints_configmap(const std::vector<Endpoint>& sidecars, bool in_cluster = true);

// ---- host objects ----
struct HostOptions {
  std::filesystem::path kube_thanos_dir;  // the kube-thanos artifact (manifests/, examples-all-manifests/)
  CompactorOptions compactor;
  std::vector<std::string> replica_labels = {"prometheus_replica"};  // Query dedup + Compactor dedup
  int receive_replicas = 1;   // Receive ingestor StatefulSet replicas (and hashring entries)
  std::string objstore_text;  // the object-store config (checked with check_objstore)
  std::string objstore_source = "object-store config";  // names it in errors (a file name)
  std::vector<Endpoint> sidecars;                       // written to thanos-query-endpoints
  bool persistent_storage = false;  // keep kube-thanos' volumeClaimTemplates (default: emptyDir)
};
// Namespace, objstore Secret, thanos-query-endpoints and hashring ConfigMaps, ServiceAccounts, Services
// and workloads of Query, Store Gateway, Compactor (replicas 1), Receive router + ingestor and Query
// Frontend; every object labelled kurator.dev/component=thanos, kurator.dev/version=v0.42.2,
// app.kubernetes.io/managed-by=kurator. Checks the options (objstore, compactor, replicas) first.
Result<std::vector<json>> host_objects(const HostOptions& options);

// The pinned kube-thanos artifact's directory through the artifact store (fetching it when not cached).
Result<std::filesystem::path> artifact_dir(artifacts::Store& store, const std::string& version = {});

// The args of `container` in a Deployment/StatefulSet (empty when there is none).
std::vector<std::string> container_args(const json& workload, const std::string& container);

}  // namespace kurator::components::thanos
