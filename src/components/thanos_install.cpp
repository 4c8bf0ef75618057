// `install thanos` across the fleet: members through the fleet layer, the host as a fleet of one.
#include <kurator/components/prometheus.hpp>
#include <kurator/components/thanos_install.hpp>
#include <kurator/core/readiness.hpp>
#include <kurator/util/base64.hpp>

#include <algorithm>
#include <iostream>

namespace kurator::components::thanos {
namespace {

std::vector<std::string> member_names(const fleet::Fleet& f) {
  std::vector<std::string> n;
  for (const auto& m : f.members()) n.push_back(m.name);
  return n;
}

// The sidecar addresses: given, or read from each member's Service (placeholders while a LoadBalancer has
// none, unless `require`).
Result<std::vector<Endpoint>> sidecar_addresses(const fleet::Fleet& members, const InstallOptions& o,
                                                bool require) {
  std::vector<fleet::Member> exposed;
  for (const auto& m : members.members())
    if (!o.sidecar_endpoints.count(m.name)) exposed.push_back(m);
  auto found = member_service_addresses(exposed, kMemberNamespace, kSidecarService, kGrpcPort, require);
  if (!found) return found.error();
  std::vector<Endpoint> out;
  for (const auto& m : members.members()) {
    if (auto it = o.sidecar_endpoints.find(m.name); it != o.sidecar_endpoints.end()) {
      out.push_back({m.name, it->second, false});
      continue;
    }
    for (const auto& f : *found)
      if (f.member == m.name) out.push_back({m.name, f.address, false});
  }
  return out;
}

// The sidecars Query knew before (the endpoints ConfigMap's annotation), for members not in this run.
std::vector<Endpoint> previous_sidecars(fleet::Fleet& host, const std::vector<std::string>& now) {
  std::vector<Endpoint> out;
  if (host.members().empty()) return out;
  kube::Client c(host.members().front().config);
  auto cm = c.get("v1", "ConfigMap", kNamespace, kEndpointsConfigMap);
  if (!cm) return out;
  auto ann = cm->value("/metadata/annotations"_json_pointer, json::object()).value(kSidecarsAnnotation, "");
  auto parsed = json::parse(ann, nullptr, false);
  if (!parsed.is_object()) return out;
  for (const auto& [member, addr] : parsed.items())
    if (addr.is_string() && std::find(now.begin(), now.end(), member) == now.end())
      out.push_back({member, addr.get<std::string>(), false});
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> parse_sidecar_endpoints(const std::vector<std::string>& entries) {
  std::map<std::string, std::string> out;
  for (const auto& e : entries) {
    auto eq = e.find('=');
    std::string member = eq == std::string::npos ? "" : e.substr(0, eq);
    std::string addr = eq == std::string::npos ? "" : e.substr(eq + 1);
    auto colon = addr.rfind(':');
    bool port_ok =
        colon != std::string::npos && colon + 1 < addr.size() &&
        std::all_of(addr.begin() + long(colon) + 1, addr.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (member.empty() || colon == 0 || !port_ok)
      return Error("--sidecar-endpoints " + e + ": expected MEMBER=HOST:PORT", ExitCode::usage,
                   "e.g. --sidecar-endpoints member1=10.0.0.5:10901");
    if (out.count(member))
      return Error("--sidecar-endpoints: " + member + " is given twice", ExitCode::usage);
    out[member] = addr;
  }
  return out;
}

Status check(const InstallOptions& o, const std::vector<std::string>& members) {
  if (o.sidecar_service_type != "LoadBalancer" && o.sidecar_service_type != "NodePort")
    return Error("--sidecar-service-type " + o.sidecar_service_type + ": must be LoadBalancer or NodePort",
                 ExitCode::usage);
  KURATOR_TRY(check_compactor(o.host.compactor));
  if (o.host.receive_replicas < 1)
    return Error("--receive-replicas " + std::to_string(o.host.receive_replicas) + ": must be at least 1",
                 ExitCode::usage);
  for (const auto& [m, a] : o.sidecar_endpoints)
    if (std::find(members.begin(), members.end(), m) == members.end())
      return Error("--sidecar-endpoints: " + m + " is not one of the chosen member clusters", ExitCode::usage,
                   "name the members with --clusters");
  if (!o.sidecar_endpoints.empty())
    for (const auto& m : members)
      if (!o.sidecar_endpoints.count(m))
        return Error("--sidecar-endpoints names no address for member " + m, ExitCode::usage,
                     "give every chosen member's sidecar address, or leave --sidecar-endpoints out");
  auto obj = check_objstore(o.objstore_text, o.objstore_source);
  if (!obj) return obj.error();
  return {};
}

fleet::Workload sidecar_workload(const InstallOptions& o) {
  fleet::Workload w;
  w.component = kSidecarComponent;
  json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", kSidecarService}, {"namespace", kMemberNamespace}}},
              {"spec",
               {{"type", o.sidecar_service_type},
                {"selector", {{"app.kubernetes.io/name", "prometheus"}, {"prometheus", kMemberPrometheus}}},
                {"ports",
                 {{{"name", "grpc"}, {"port", kGrpcPort}, {"targetPort", "grpc"}},
                  {{"name", "http"}, {"port", kHttpPort}, {"targetPort", "http"}}}}}}};
  w.objects.push_back(std::move(svc));
  label_objects(w.objects, kName, kVersion);
  return w;
}

fleet::Workload members_workload(const InstallOptions& o, const std::vector<std::string>& members) {
  fleet::Workload w;
  w.component = kMembersComponent;
  w.objects.push_back({{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata", {{"name", kObjstoreSecret}, {"namespace", kMemberNamespace}}},
                       {"type", "Opaque"},
                       {"data", {{kObjstoreKey, base64::encode(o.objstore_text)}}}});
  w.objects.push_back({{"apiVersion", "monitoring.coreos.com/v1"},
                       {"kind", "Prometheus"},
                       {"metadata", {{"name", kMemberPrometheus}, {"namespace", kMemberNamespace}}},
                       {"spec",
                        {{"replicas", 1},
                         {"serviceAccountName", "prometheus"},
                         {"serviceMonitorSelector", json::object()},
                         {"serviceMonitorNamespaceSelector", json::object()},
                         {"podMonitorSelector", json::object()},
                         {"podMonitorNamespaceSelector", json::object()},
                         {"externalLabels", json::object()},
                         {"thanos",
                          {{"version", kVersion},
                           {"image", kImage},
                           {"objectStorageConfig", {{"name", kObjstoreSecret}, {"key", kObjstoreKey}}}}}}}});
  label_objects(w.objects, kName, kVersion);
  for (const auto& m : members)
    w.per_member[m].push_back({"monitoring.coreos.com/v1",
                               "Prometheus",
                               kMemberNamespace,
                               kMemberPrometheus,
                               {{"add", "/spec/externalLabels/cluster", m}}});
  return w;
}

Result<fleet::Workload> host_workload(const InstallOptions& o, const std::vector<Endpoint>& sidecars) {
  HostOptions h = o.host;
  h.objstore_text = o.objstore_text;
  h.objstore_source = o.objstore_source;
  h.sidecars = sidecars;
  auto objs = host_objects(h);
  if (!objs) return objs.error();
  json map = json::object();
  for (const auto& s : sidecars) map[s.cluster] = s.address;
  for (auto& obj : *objs)
    if (obj.value("kind", "") == "ConfigMap" && obj["metadata"].value("name", "") == kEndpointsConfigMap)
      obj["metadata"]["annotations"][kSidecarsAnnotation] = map.dump();
  fleet::Workload w;
  w.component = kHostComponent;
  w.objects = std::move(*objs);
  return w;
}

bool InstallReport::unchanged() const {
  for (const auto& [n, r] : applied)
    if (!r.unchanged()) return false;
  return true;
}

bool UninstallReport::nothing_found() const {
  for (const auto& [n, r] : removed)
    if (!r.nothing_found()) return false;
  return true;
}

Result<std::vector<fleet::PlannedStep>> plan(fleet::Fleet& members, fleet::Fleet& host,
                                             const fleet::Workload& op, const InstallOptions& o) {
  KURATOR_TRY(check(o, member_names(members)));
  std::vector<fleet::PlannedStep> all;
  auto add = [&](fleet::Fleet& f, const fleet::Workload& w) -> Status {
    auto p = f.plan(w);
    if (!p) return p.error();
    for (auto& s : *p) all.push_back(std::move(s));
    return {};
  };
  KURATOR_TRY(add(members, op));
  if (o.sidecar_endpoints.empty()) KURATOR_TRY(add(members, sidecar_workload(o)));
  KURATOR_TRY(add(members, members_workload(o, member_names(members))));
  auto sidecars = sidecar_addresses(members, o, false);
  if (!sidecars) return sidecars.error();
  auto prev = previous_sidecars(host, member_names(members));
  sidecars->insert(sidecars->begin(), prev.begin(), prev.end());
  auto hw = host_workload(o, *sidecars);
  if (!hw) return hw.error();
  KURATOR_TRY(add(host, *hw));
  return all;
}

Result<InstallReport> install(fleet::Fleet& members, fleet::Fleet& host, const fleet::Workload& op,
                              const InstallOptions& o, const kube::WaitOptions& wait) {
  KURATOR_TRY(check(o, member_names(members)));
  InstallReport r;
  auto step = [&](fleet::Fleet& f, const fleet::Workload& w) -> Status {
    auto rep = f.apply(w);
    if (!rep) return rep.error();
    r.applied.emplace_back(w.component, std::move(*rep));
    return f.wait_ready(w, wait);
  };
  KURATOR_TRY(step(members, op));
  // The sidecar Services first: a LoadBalancer's address is waited for (with progress) while the rest goes
  // on.
  if (o.sidecar_endpoints.empty()) KURATOR_TRY(step(members, sidecar_workload(o)));
  KURATOR_TRY(step(members, members_workload(o, member_names(members))));
  auto sidecars = sidecar_addresses(members, o, true);
  if (!sidecars) return sidecars.error();
  auto prev = previous_sidecars(host, member_names(members));
  r.sidecars = prev;
  r.sidecars.insert(r.sidecars.end(), sidecars->begin(), sidecars->end());
  auto hw = host_workload(o, r.sidecars);
  if (!hw) return hw.error();
  KURATOR_TRY(step(host, *hw));
  return r;
}

Result<UninstallReport> uninstall(fleet::Fleet& members, fleet::Fleet& host, const fleet::Workload& op,
                                  const InstallOptions& o, std::chrono::milliseconds timeout) {
  UninstallReport r;
  auto hw = host_workload(o, {});
  if (!hw) return hw.error();
  auto remove = [&](fleet::Fleet& f, const fleet::Workload& w) -> Status {
    auto rep = f.remove(w, timeout);
    if (!rep) return rep.error();
    r.removed.emplace_back(w.component, std::move(*rep));
    return {};
  };
  KURATOR_TRY(remove(host, *hw));
  KURATOR_TRY(remove(members, members_workload(o, member_names(members))));
  KURATOR_TRY(remove(members, sidecar_workload(o)));
  for (const auto& m : members.members()) {
    kube::Client c(m.config);
    for (const auto& u : prometheus::prometheus_users(c, kName))
      if (u == prometheus::kName) r.operator_kept.emplace_back(m.name, u);
  }
  if (r.operator_kept.empty()) KURATOR_TRY(remove(members, op));
  return r;
}

Component component() {
  Component c;
  c.name = kName;
  c.scope = Scope::member;
  c.description =
      "Prometheus monitoring/thanos with its sidecar Reconciled and Available, the sidecar Service "
      "addressable; Query available where the host's objects are";
  c.health = [](const Probe& p) {
    Health h;
    kube::Client& k = *p.cluster;
    auto prom = k.get("monitoring.coreos.com/v1", "Prometheus", kMemberNamespace, kMemberPrometheus);
    auto query = k.get("apps/v1", "Deployment", kNamespace, kQuery);
    const bool member_side = prom.ok(), host_side = query.ok() && label_of(*query, kComponentLabel) == kName;
    if (!member_side && !host_side) {
      if (!prom && prom.error().http_status != 404 && prom.error().http_status != 0)
        h.reason = "cannot read Prometheus: " + prom.error().message;
      else
        h.reason = "not installed";
      return h;
    }
    h.installed = true;
    h.version = label_of(member_side ? *prom : *query, kVersionLabel);
    std::vector<std::string> problems;
    if (member_side) {
      if (auto st = kube::evaluate(*prom); !st.ready())
        problems.push_back(std::string("Prometheus/") + kMemberNamespace + "/" + kMemberPrometheus + ": " +
                           st.reason);
      auto svc = k.get("v1", "Service", kMemberNamespace, kSidecarService);
      if (svc) {
        auto a = service_address(k, kMemberNamespace, kSidecarService, kGrpcPort);
        if (!a)
          problems.push_back(a.error().message);
        else if (a->empty())
          problems.push_back(std::string("Service/") + kMemberNamespace + "/" + kSidecarService +
                             ": LoadBalancer has no ingress address yet");
      }
    }
    if (host_side)
      if (auto why = check_ready(k, "apps/v1", "Deployment", kNamespace, kQuery); !why.empty())
        problems.push_back(why);
    for (size_t i = 0; i < problems.size(); ++i) h.reason += (i ? "; " : "") + problems[i];
    h.healthy = problems.empty();
    return h;
  };
  return c;
}

}  // namespace kurator::components::thanos
