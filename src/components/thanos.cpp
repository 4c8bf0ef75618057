// Thanos on the host cluster: kube-thanos v0.29.0's manifests (the `kube-thanos` artifact) as the layout,
// edited structurally for Thanos v0.42.2; the compactor's checks from cmd/thanos/compact.go; the Query
// endpoint file (--endpoint.sd-config-file).
#include <kurator/components/thanos.hpp>
#include <kurator/core/kube.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <set>

namespace kurator::components::thanos {
namespace {

using std::chrono::milliseconds;

bool starts_with(const std::string& s, std::string_view p) {
  return s.compare(0, p.size(), p) == 0;
}

// ---- labels and generic edits ----

void label(json& obj) {
  json& labels = obj["metadata"]["labels"];
  if (!labels.is_object()) labels = json::object();
  labels[kManagedByLabel] = "kurator";
  labels[kComponentLabel] = kName;
  labels[kVersionLabel] = kVersion;
}

// kube-thanos' app.kubernetes.io/version labels name its Thanos: they follow the image.
void set_version_labels(json& labels) {
  if (labels.is_object() && labels.contains("app.kubernetes.io/version"))
    labels["app.kubernetes.io/version"] = kVersion;
}

// kube-thanos puts its version into the Receive router's selectors: a selector must not change with the
// version (a workload's is immutable), so it goes.
void drop_version_selector(json& selector) {
  if (selector.is_object()) selector.erase("app.kubernetes.io/version");
}

json* pod_spec(json& workload) {
  auto p = "/spec/template/spec"_json_pointer;
  return workload.contains(p) && workload[p].is_object() ? &workload[p] : nullptr;
}

json* container(json& workload, const std::string& name) {
  json* ps = pod_spec(workload);
  if (!ps || !ps->contains("containers")) return nullptr;
  for (auto& c : (*ps)["containers"])
    if (c.value("name", "") == name) return &c;
  return nullptr;
}

std::vector<std::string> args_of(const json& c) {
  std::vector<std::string> out;
  if (auto a = c.find("args"); a != c.end() && a->is_array())
    for (const auto& v : *a)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// Drops every arg that is `flag` or starts with `flag=`.
void drop_flag(std::vector<std::string>& args, const std::string& flag) {
  args.erase(std::remove_if(args.begin(), args.end(),
                            [&](const std::string& a) { return a == flag || starts_with(a, flag + "="); }),
             args.end());
}
bool has_flag(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a == flag || starts_with(a, flag + "="); });
}

void add_volume(json& ps, json volume) {
  json& vols = ps["volumes"];
  if (!vols.is_array()) vols = json::array();
  for (auto& v : vols)
    if (v.value("name", "") == volume.value("name", "")) {
      v = std::move(volume);
      return;
    }
  vols.push_back(std::move(volume));
}
void add_mount(json& c, json mount) {
  json& mounts = c["volumeMounts"];
  if (!mounts.is_array()) mounts = json::array();
  for (auto& m : mounts)
    if (m.value("name", "") == mount.value("name", "")) {
      m = std::move(mount);
      return;
    }
  mounts.push_back(std::move(mount));
}
void remove_named(json& list, const std::string& name) {
  if (!list.is_array()) return;
  json kept = json::array();
  for (auto& e : list)
    if (e.value("name", "") != name) kept.push_back(std::move(e));
  list = std::move(kept);
}

const std::string kObjstoreFlag = std::string("--objstore.config-file=") + kObjstoreDir + "/" + kObjstoreKey;

// The objstore config as a file from the Secret (kube-thanos passes it through an env var into an argument:
// the credentials would be in the process arguments).
void use_objstore_file(json& workload, json& c, std::vector<std::string>& args) {
  drop_flag(args, "--objstore.config");
  drop_flag(args, "--objstore.config-file");
  args.push_back(kObjstoreFlag);
  remove_named(c["env"], "OBJSTORE_CONFIG");
  add_mount(c, {{"name", "objstore-config"}, {"mountPath", kObjstoreDir}, {"readOnly", true}});
  add_volume(*pod_spec(workload), {{"name", "objstore-config"},
                                   {"secret", {{"secretName", kObjstoreSecret}, {"defaultMode", 0440}}}});
}

// Data on an emptyDir (no storage provisioner needed) unless persistent storage was asked for.
void data_volume(json& workload, bool persistent) {
  if (persistent) return;
  if (workload.contains("spec")) workload["spec"].erase("volumeClaimTemplates");
  add_volume(*pod_spec(workload), {{"name", "data"}, {"emptyDir", json::object()}});
}

// Edits every workload gets: image, version labels, the deprecated beta OS node label (kwok's and current
// nodes carry kubernetes.io/os only), no tracing to a Jaeger agent that is not there.
void common_workload_edits(json& w, std::vector<std::string>& args, json& c) {
  c["image"] = kImage;
  set_version_labels(w["metadata"]["labels"]);
  set_version_labels(w["spec"]["template"]["metadata"]["labels"]);
  drop_version_selector(w["spec"]["selector"]["matchLabels"]);
  json& ps = *pod_spec(w);
  if (ps.contains("nodeSelector") && ps["nodeSelector"].contains("beta.kubernetes.io/os")) {
    ps["nodeSelector"].erase("beta.kubernetes.io/os");
    ps["nodeSelector"]["kubernetes.io/os"] = "linux";
  }
  drop_flag(args, "--tracing.config");
}

int kind_rank(const std::string& kind) {
  static const std::map<std::string, int> r = {{"Namespace", 0},      {"Secret", 1},  {"ConfigMap", 2},
                                               {"ServiceAccount", 3}, {"Service", 4}, {"StatefulSet", 5},
                                               {"Deployment", 6}};
  auto it = r.find(kind);
  return it == r.end() ? 9 : it->second;
}

json hashring_configmap(int replicas) {
  json endpoints = json::array();
  for (int i = 0; i < replicas; ++i)
    endpoints.push_back(std::string(kReceiveIngestor) + "-" + std::to_string(i) + "." + kReceiveIngestor +
                        "." + kNamespace + ".svc.cluster.local:" + std::to_string(kGrpcPort));
  json ring = json::array({{{"hashring", "default"}, {"endpoints", endpoints}, {"tenants", json::array()}}});
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", kHashringConfigMap}, {"namespace", kNamespace}}},
          {"data", {{kHashringKey, ring.dump()}}}};
}

Status edit_workload(json& w, const HostOptions& o) {
  const std::string name = w["metadata"].value("name", "");
  const std::string cname = starts_with(name, "thanos-receive") ? kReceiveContainer : name;
  json* cp = container(w, cname);
  if (!cp)
    return Error("kube-thanos " + name + ": no container " + cname, ExitCode::failure,
                 "the kube-thanos artifact does not have the expected layout");
  json& c = *cp;
  json& ps = *pod_spec(w);
  auto args = args_of(c);
  common_workload_edits(w, args, c);
  if (starts_with(name, "thanos-receive") && !has_flag(args, "--receive.capnproto-address"))
    args.push_back("--receive.capnproto-address=0.0.0.0:19391");  // always listened on: made explicit
  if (name == kQuery) {
    drop_flag(args, "--store");  // removed in v0.38
    drop_flag(args, "--query.replica-label");
    drop_flag(args, "--endpoint.sd-config-file");
    for (const auto& l : o.replica_labels) args.push_back("--query.replica-label=" + l);
    args.push_back(std::string("--endpoint.sd-config-file=") + kEndpointsDir + "/" + kEndpointsKey);
    args.push_back("--endpoint.sd-config-reload-interval=30s");
    add_mount(c, {{"name", "endpoints"}, {"mountPath", kEndpointsDir}, {"readOnly", true}});
    add_volume(ps, {{"name", "endpoints"}, {"configMap", {{"name", kEndpointsConfigMap}}}});
  } else if (name == kStore) {
    use_objstore_file(w, c, args);
    data_volume(w, o.persistent_storage);
  } else if (name == kCompact) {
    for (const char* f :
         {"--retention.resolution-raw", "--retention.resolution-5m", "--retention.resolution-1h",
          "--downsampling.disable", "--deduplication.replica-label", "--wait"})
      drop_flag(args, f);
    args.insert(args.begin() + (args.empty() ? 0 : 1), "--wait");
    if (!has_flag(args, "--http-address"))
      args.push_back("--http-address=0.0.0.0:" + std::to_string(kHttpPort));
    args.push_back("--retention.resolution-raw=" + o.compactor.retention_raw);
    args.push_back("--retention.resolution-5m=" + o.compactor.retention_5m);
    args.push_back("--retention.resolution-1h=" + o.compactor.retention_1h);
    if (!o.compactor.downsampling) args.push_back("--downsampling.disable");
    for (const auto& l : o.replica_labels) args.push_back("--deduplication.replica-label=" + l);
    use_objstore_file(w, c, args);
    data_volume(w, o.persistent_storage);
    w["spec"]["replicas"] = 1;  // a singleton per bucket (docs/components/compact.md)
  } else if (name == kReceiveRouter) {
    // --receive.hashrings-file without --receive.local-endpoint: a router only.
  } else if (name == kReceiveIngestor) {
    // --receive.local-endpoint without a hashring: an ingestor only (the router holds the hashring).
    drop_flag(args, "--receive.hashrings-file");
    remove_named(c["volumeMounts"], kHashringConfigMap);
    remove_named(ps["volumes"], kHashringConfigMap);
    use_objstore_file(w, c, args);  // kube-thanos' ingestors keep blocks local only: ship them to the bucket
    data_volume(w, o.persistent_storage);
    w["spec"]["replicas"] = o.receive_replicas;
  } else if (name == kQueryFrontend) {
    // kube-thanos' example points both caches at a memcached placeholder: the in-memory default instead.
    drop_flag(args, "--query-range.response-cache-config");
    drop_flag(args, "--labels.response-cache-config");
  }
  c["args"] = args;
  return {};
}

// kube-thanos' files that make the host side (the compactor and the query frontend are only in its
// examples).
const std::vector<const char*> kFiles = {
    "manifests/thanos-query-serviceAccount.yaml",
    "manifests/thanos-query-service.yaml",
    "manifests/thanos-query-deployment.yaml",
    "manifests/thanos-store-serviceAccount.yaml",
    "manifests/thanos-store-service.yaml",
    "manifests/thanos-store-statefulSet.yaml",
    "examples-all-manifests/thanos-compact-serviceAccount.yaml",
    "examples-all-manifests/thanos-compact-service.yaml",
    "examples-all-manifests/thanos-compact-statefulSet.yaml",
    "manifests/thanos-receive-router-serviceAccount.yaml",
    "manifests/thanos-receive-router-service.yaml",
    "manifests/thanos-receive-router-deployment.yaml",
    "manifests/thanos-receive-ingestor-serviceAccount.yaml",
    "manifests/thanos-receive-ingestor-default-service.yaml",
    "manifests/thanos-receive-ingestor-default-statefulSet.yaml",
    "examples-all-manifests/thanos-query-frontend-serviceAccount.yaml",
    "examples-all-manifests/thanos-query-frontend-service.yaml",
    "examples-all-manifests/thanos-query-frontend-deployment.yaml",
};

}  // namespace

// ---- compactor ----

Result<milliseconds> parse_duration(std::string_view s) {
  if (s.empty()) return Error("empty duration");
  if (s == "0") return milliseconds(0);
  static const std::vector<std::pair<std::string_view, long long>> units = {{"y", 365LL * 24 * 3600 * 1000},
                                                                            {"w", 7LL * 24 * 3600 * 1000},
                                                                            {"d", 24LL * 3600 * 1000},
                                                                            {"h", 3600LL * 1000},
                                                                            {"m", 60LL * 1000},
                                                                            {"s", 1000},
                                                                            {"ms", 1}};
  long long total = 0;
  size_t next_unit = 0, i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return Error("not a duration");
    std::string_view digits = s.substr(start, i - start);
    if (digits.size() > 18) return Error("duration out of range");
    long long n = std::stoll(std::string(digits));
    size_t u = units.size();
    for (size_t k = next_unit; k < units.size(); ++k) {
      auto name = units[k].first;
      if (s.substr(i, name.size()) == name &&
          !(name == "m" && i + 1 < s.size() && s[i + 1] == 's')) {  // "ms" is not "m" then "s"
        u = k;
        break;
      }
    }
    if (u == units.size()) return Error("not a duration");
    i += units[u].first.size();
    next_unit = u + 1;
    if (n > (std::numeric_limits<long long>::max() - total) / units[u].second)
      return Error("duration out of range");
    total += n * units[u].second;
  }
  return milliseconds(total);
}

Status check_compactor(const CompactorOptions& o) {
  const std::string syntax = "a duration like 30d, 48h, 1w or 0d (keep forever): units y, w, d, h, m, s, ms";
  struct Item {
    const char* flag;
    const std::string& value;
  };
  milliseconds d[3];
  const Item items[3] = {{"--retention-raw", o.retention_raw},
                         {"--retention-5m", o.retention_5m},
                         {"--retention-1h", o.retention_1h}};
  for (int k = 0; k < 3; ++k) {
    auto r = parse_duration(items[k].value);
    if (!r)
      return Error(std::string(items[k].flag) + ": \"" + items[k].value + "\": " + r.error().message,
                   ExitCode::usage, "use " + syntax);
    d[k] = *r;
  }
  using std::chrono::hours;
  // cmd/thanos/compact.go: downsample.ResLevel1DownsampleRange (40h) and ResLevel2DownsampleRange (10d).
  if (o.downsampling && d[0].count() != 0 && d[0] < hours(40))
    return Error("--retention-raw: " + o.retention_raw +
                     " is shorter than 40h, the block size after which 5m downsampling happens",
                 ExitCode::usage, "use 0d (keep forever), at least 40h, or turn downsampling off");
  if (o.downsampling && d[1].count() != 0 && d[1] < hours(240))
    return Error("--retention-5m: " + o.retention_5m +
                     " is shorter than 10d, the block size after which 1h downsampling happens",
                 ExitCode::usage, "use 0d (keep forever), at least 10d, or turn downsampling off");
  return {};
}

// ---- endpoints ----

std::vector<Endpoint> in_cluster_endpoints() {
  const std::string suffix =
      std::string(".") + kNamespace + ".svc.cluster.local:" + std::to_string(kGrpcPort);
  return {{"host", std::string("dnssrv+_grpc._tcp.") + kStore + suffix, false},
          {"host", std::string("dnssrv+_grpc._tcp.") + kReceiveIngestor + suffix, false}};
}

std::string endpoints_file(const std::vector<Endpoint>& sidecars, bool in_cluster) {
  json list = json::array();
  std::set<std::string> seen;
  auto add = [&](const Endpoint& e) {
    if (e.address.empty() || !seen.insert(e.address).second) return;
    json entry = {{"address", e.address}};
    if (e.strict) entry["strict"] = true;
    list.push_back(std::move(entry));
  };
  for (const auto& e : sidecars) add(e);
  if (in_cluster)
    for (const auto& e : in_cluster_endpoints()) add(e);
  return yaml::dump(json{{"endpoints", list}});
}

json endpoints_configmap(const std::vector<Endpoint>& sidecars, bool in_cluster) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", kEndpointsConfigMap}, {"namespace", kNamespace}}},
             {"data", {{kEndpointsKey, endpoints_file(sidecars, in_cluster)}}}};
  label(cm);
  return cm;
}

// ---- host objects ----

Result<std::vector<json>> host_objects(const HostOptions& o) {
  auto store = check_objstore(o.objstore_text, o.objstore_source);
  if (!store) return store.error();
  KURATOR_TRY(check_compactor(o.compactor));
  if (o.receive_replicas < 1 || o.receive_replicas > 64)
    return Error("--receive-replicas: " + std::to_string(o.receive_replicas) + " is out of range",
                 ExitCode::usage, "use 1 to 64");
  if (o.replica_labels.empty())
    return Error("--replica-label: at least one is needed", ExitCode::usage,
                 "the label the member Prometheus replicas differ by, e.g. prometheus_replica");
  for (const auto& l : o.replica_labels) {
    bool ok = !l.empty() && (std::isalpha(static_cast<unsigned char>(l[0])) || l[0] == '_') &&
              std::all_of(l.begin(), l.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    if (!ok)
      return Error("--replica-label: \"" + l + "\" is not a Prometheus label name", ExitCode::usage,
                   "letters, digits and _, not starting with a digit");
  }

  std::vector<json> out;
  out.push_back({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNamespace}}}});
  out.push_back({{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", kObjstoreSecret}, {"namespace", kNamespace}}},
                 {"type", "Opaque"},
                 {"stringData", {{kObjstoreKey, o.objstore_text}}}});
  out.push_back(endpoints_configmap(o.sidecars));
  out.push_back(hashring_configmap(o.receive_replicas));

  for (const char* rel : kFiles) {
    auto file = o.kube_thanos_dir / rel;
    auto text = fs::read_file(file);
    if (!text)
      return Error("kube-thanos: " + file.string() + " is missing from the artifact", ExitCode::failure,
                   "run `kurator tool verify`, then `kurator tool prune --all` and install again");
    auto docs = yaml::parse_all(*text, file.string());
    if (!docs) return docs.error();
    KURATOR_TRY(kube::validate_objects(*docs, file.string()));
    for (auto& obj : *docs) {
      obj["metadata"]["namespace"] = kNamespace;
      const std::string kind = obj.value("kind", "");
      if (kind == "Deployment" || kind == "StatefulSet") {
        KURATOR_TRY(edit_workload(obj, o));
      } else {
        set_version_labels(obj["metadata"]["labels"]);
        if (kind == "Service" && obj.contains("spec")) drop_version_selector(obj["spec"]["selector"]);
      }
      out.push_back(std::move(obj));
    }
  }
  for (auto& obj : out) label(obj);
  std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return kind_rank(a.value("kind", "")) < kind_rank(b.value("kind", ""));
  });
  return out;
}

Result<std::filesystem::path> artifact_dir(artifacts::Store& store, const std::string& version) {
  auto a = store.resolve(kArtifact, version);
  if (!a) return a.error();
  auto fetched = store.ensure(*a);
  if (!fetched) return fetched.error();
  return fetched->path;
}

std::vector<std::string> container_args(const json& workload, const std::string& name) {
  auto p = "/spec/template/spec/containers"_json_pointer;
  if (!workload.contains(p) || !workload[p].is_array()) return {};
  for (const auto& c : workload[p])
    if (c.value("name", "") == name) return args_of(c);
  return {};
}

}  // namespace kurator::components::thanos
