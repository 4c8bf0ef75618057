// Karmada mode: the objects and their policies go to the Karmada apiserver; Karmada's controllers
// propagate them; readiness (and removal) is read back from each member through a client built from
// its Cluster object.
#include <kurator/fleet/karmada.hpp>
#include <kurator/util/cancel.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <thread>

#include "internal.hpp"

namespace kurator::fleet::detail {
namespace {

constexpr const char* kWorkApi = "work.karmada.io/v1alpha2";
// How long Karmada gets to remove the members' copies of deleted templates before kurator does.
constexpr std::chrono::seconds kKarmadaGrace{30};

std::string str_at(const json& j, const char* pointer) {
  auto p = json::json_pointer(pointer);
  return j.contains(p) && j.at(p).is_string() ? j.at(p).get<std::string>() : std::string();
}

bool is_namespace(const json& o) {
  return o.value("kind", "") == "Namespace" && o.value("apiVersion", "") == "v1";
}

// Karmada's binding name for an object (names.GenerateBindingName): lower-case "<name>-<kind>", ':' -> '.'.
std::string binding_name(const json& o) {
  std::string n = str_at(o, "/metadata/name") + "-" + o.value("kind", "");
  for (auto& c : n) c = c == ':' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

// API groups every Kubernetes member serves: only custom resources need to wait for members to serve them.
bool builtin_group(const std::string& api_version) {
  auto slash = api_version.find('/');
  if (slash == std::string::npos) return true;  // core
  const std::string g = api_version.substr(0, slash);
  static const std::set<std::string> groups = {
      "apps", "batch", "autoscaling", "policy", "apiextensions.k8s.io", "apiregistration.k8s.io"};
  if (groups.count(g)) return true;
  const std::string suffix = ".k8s.io";
  return g.size() > suffix.size() && g.compare(g.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class KarmadaFleet : public Fleet {
 public:
  KarmadaFleet(kubeconfig::RestConfig karmada, std::vector<Member> members)
      : m_karmada(std::move(karmada)), m_members(std::move(members)) {
    for (const auto& m : m_members) m_clients.push_back(std::make_unique<kube::Client>(m.config));
  }

  Mode mode() const override { return Mode::karmada; }
  const std::vector<Member>& members() const override { return m_members; }
  std::string control_plane() const override { return m_karmada.config().server; }

  // The objects as sent to Karmada (namespaces filled in), checking every member's overrides resolve.
  Result<std::vector<json>> templates(const Workload& w) {
    std::vector<json> objs = w.objects;
    KURATOR_TRY(fill_namespaces(m_karmada, objs));
    Workload filled{w.component, objs, w.per_member};
    for (const auto& m : m_members) {
      auto copy = objects_for(filled, m.name);
      if (!copy) return copy.error();
    }
    return objs;
  }

  Result<std::vector<json>> everything(const Workload& w, std::vector<json>* templates_out = nullptr) {
    auto objs = templates(w);
    if (!objs) return objs.error();
    Workload filled{w.component, *objs, w.per_member};
    std::vector<json> all = *objs;
    for (auto& p : karmada_policies(filled, names())) all.push_back(std::move(p));
    if (templates_out) *templates_out = std::move(*objs);
    return all;
  }

  Result<std::vector<PlannedStep>> plan(const Workload& w) override {
    auto all = everything(w);
    if (!all) return all.error();
    std::vector<json> ordered;
    for (auto& level : kube::dependency_levels(std::move(*all)))
      for (auto& o : level) ordered.push_back(std::move(o));
    return std::vector<PlannedStep>{{"karmada", control_plane(), std::move(ordered)}};
  }

  using Kinds = std::set<std::pair<std::string, std::string>>;  // (groupVersion, kind)

  // The custom resources of a workload: those whose CRD is in it too, and the others.
  static void custom_kinds(const std::vector<json>& objects, Kinds& with_crd, Kinds& without_crd) {
    std::set<std::pair<std::string, std::string>> crd_kinds;  // (group, kind)
    for (const auto& o : objects)
      if (o.value("kind", "") == "CustomResourceDefinition")
        crd_kinds.insert({str_at(o, "/spec/group"), str_at(o, "/spec/names/kind")});
    for (const auto& o : objects) {
      const std::string av = o.value("apiVersion", ""), kind = o.value("kind", "");
      if (builtin_group(av)) continue;
      (crd_kinds.count({av.substr(0, av.find('/')), kind}) ? with_crd : without_crd).insert({av, kind});
    }
  }

  // Karmada's scheduler leaves out every member whose Cluster status.apiEnablements does not list an
  // object's kind yet, and does not come back to it: custom resources wait until every member reports
  // serving their kind (Karmada refreshes that status every few seconds).
  Status wait_api_enabled(const Kinds& wanted, std::chrono::milliseconds timeout) {
    if (wanted.empty()) return {};
    auto t0 = Clock::now();
    bool said = false;
    while (true) {
      std::vector<std::string> missing;
      for (const auto& m : m_members) {
        auto c = m_karmada.get("cluster.karmada.io/v1alpha1", "Cluster", "", m.name);
        if (!c) return Error(c.error()).context("reading Cluster " + m.name + " from Karmada");
        const json en = c->value("/status/apiEnablements"_json_pointer, json::array());
        for (const auto& [gv, kind] : wanted) {
          bool found = false;
          for (const auto& e : en)
            if (e.value("groupVersion", "") == gv)
              for (const auto& r : e.value("resources", json::array()))
                if (r.value("kind", "") == kind) found = true;
          if (!found) missing.push_back(m.name + " (" + gv + " " + kind + ")");
        }
      }
      if (missing.empty()) return {};
      if (Clock::now() - t0 > timeout)
        return Error(
            fmt::format("timed out after {}s waiting for members to serve: {}",
                        std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                        fmt::join(missing, ", ")),
            ExitCode::timeout,
            "Karmada lists what a member serves in its Cluster's status.apiEnablements: check that the "
            "CRDs reached the member (`kubectl get crd` there)");
      if (!said) {
        progress_line(
            fmt::format("karmada: waiting for {} to report serving them (Cluster status.apiEnablements)",
                        fmt::join(missing, ", ")));
        said = true;
      }
      if (cancel::requested()) return Error("interrupted", ExitCode::interrupted);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  Result<ApplyReport> apply(const Workload& w) override {
    auto all = everything(w);
    if (!all) return all.error();
    Kinds with_crd, without_crd;
    custom_kinds(w.objects, with_crd, without_crd);
    KURATOR_TRY(wait_api_enabled(without_crd, std::chrono::minutes(2)));
    // Custom resources whose CRD comes with them go second, once Karmada has propagated the CRDs and every
    // member reports serving them; the rest first.
    std::vector<json> first, second;
    for (auto& o : *all)
      (with_crd.count({o.value("apiVersion", ""), o.value("kind", "")}) ? second : first)
          .push_back(std::move(o));
    auto t0 = Clock::now();
    auto r = apply_and_report(m_karmada, "karmada", std::move(first), std::chrono::minutes(2));
    if (!r) return Error(r.error()).context("Karmada at " + control_plane());
    if (!second.empty()) {
      KURATOR_TRY(wait_api_enabled(with_crd, std::chrono::minutes(2)));
      auto r2 = apply_and_report(m_karmada, "karmada", std::move(second), std::chrono::minutes(2));
      if (!r2) return Error(r2.error()).context("Karmada at " + control_plane());
      r->objects += r2->objects;
      r->changed.insert(r->changed.end(), r2->changed.begin(), r2->changed.end());
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    progress_line(
        fmt::format("karmada: applied {} objects and policies to {} ({} changed) in {:.1f}s; "
                    "Karmada propagates them to {}",
                    r->objects, r->server, r->changed.size(), ms / 1000.0, fmt::join(names(), ", ")));
    ApplyReport report;
    report.steps.push_back(std::move(*r));
    return report;
  }

  Status wait_ready(const Workload& w, const kube::WaitOptions& opts) override {
    auto objs = templates(w);
    if (!objs) return objs.error();
    std::vector<kube::WaitTarget> targets;
    for (const auto& o : *objs) targets.push_back(kube::WaitTarget::from(o));
    std::vector<Status> st(m_members.size());
    parallel_for(m_members.size(), [&](size_t i) {
      PrefixedStream out(m_members[i].name);
      kube::WaitOptions wo = opts;
      wo.progress = &out;
      wo.tty = opts.tty && m_members.size() == 1;
      st[i] = kube::wait_ready(*m_clients[i], targets, wo);
    });
    auto all = combine(names(), st);
    if (!all) {
      // What Karmada says about the propagation: bindings not scheduled or not fully applied.
      std::string problems = binding_problems(*objs);
      if (!problems.empty()) {
        Error e = all.error();
        e.message += "; Karmada: " + problems;
        return e;
      }
    }
    return all;
  }

  Result<RemoveReport> remove(const Workload& w, std::chrono::milliseconds timeout) override {
    std::vector<json> objs;
    auto all = everything(w, &objs);
    if (!all) return all.error();
    auto deadline = Clock::now() + timeout;
    std::vector<json> policies(all->begin() + static_cast<long>(objs.size()), all->end());
    std::vector<json> namespaces, rest;
    for (auto& o : objs) (is_namespace(o) ? namespaces : rest).push_back(o);

    RemovedStep step{"karmada", 0, 0};
    std::vector<std::string> errors, left;
    // Deletes a group of templates on Karmada, then waits until they are gone there and from every member.
    auto remove_group = [&](const std::vector<json>& group, bool on_members) {
      std::vector<bool> present;
      auto r = delete_objects(m_karmada, group, &present);
      step.deleted += r.deleted;
      step.absent += r.absent;
      errors.insert(errors.end(), r.errors.begin(), r.errors.end());
      std::vector<json> deleted;
      for (size_t i = 0; i < group.size(); ++i)
        if (present[i]) deleted.push_back(group[i]);
      auto l = wait_gone(m_karmada, deleted, deadline, "karmada");
      for (auto& s : l) left.push_back("karmada: " + s);
      if (!on_members || deleted.empty()) return;
      std::vector<std::vector<std::string>> member_left(m_members.size());
      // Karmada deletes the members' copies once the templates are gone. It can miss some (its member
      // informers for a kind whose CRD was deleted and made again go stale): what is still there after
      // kKarmadaGrace, its template gone, kurator deletes in the member itself, saying so.
      const auto grace = std::min(deadline, Clock::now() + kKarmadaGrace);
      parallel_for(m_members.size(), [&](size_t i) {
        if (wait_gone(*m_clients[i], deleted, grace, m_members[i].name).empty()) return;
        std::vector<json> still;
        for (const auto& o : deleted) {
          auto cur = m_clients[i]->get(o.value("apiVersion", ""), o.value("kind", ""),
                                       str_at(o, "/metadata/namespace"), str_at(o, "/metadata/name"));
          if (cur && str_at(*cur, "/metadata/deletionTimestamp").empty()) still.push_back(o);
        }
        if (!still.empty()) {
          std::vector<std::string> keys;
          for (const auto& o : still) keys.push_back(key_of(o));
          progress_line(
              fmt::format("{}: Karmada left {} after their templates were deleted: deleting them there",
                          m_members[i].name, fmt::join(keys, ", ")));
          (void)delete_objects(*m_clients[i], still, nullptr);
        }
        member_left[i] = wait_gone(*m_clients[i], deleted, deadline, m_members[i].name);
      });
      for (size_t i = 0; i < m_members.size(); ++i)
        for (auto& s : member_left[i]) left.push_back(m_members[i].name + ": " + s);
    };
    // Templates in reverse dependency order (webhooks first), then the policies, then the namespaces.
    auto levels = kube::dependency_level_indices(rest);
    for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
      std::vector<json> group;
      for (size_t i : *it) group.push_back(rest[i]);
      remove_group(group, true);
    }
    remove_group(policies, false);
    remove_group(namespaces, true);

    // Anything of the workload still in a member that Karmada did not manage (its template was not there).
    std::vector<std::vector<std::string>> strays(m_members.size());
    parallel_for(m_members.size(), [&](size_t i) {
      for (const auto& o : objs) {
        auto cur = m_clients[i]->get(o.value("apiVersion", ""), o.value("kind", ""),
                                     str_at(o, "/metadata/namespace"), str_at(o, "/metadata/name"));
        if (cur && str_at(*cur, "/metadata/deletionTimestamp").empty()) strays[i].push_back(key_of(o));
      }
    });
    for (size_t i = 0; i < m_members.size(); ++i)
      if (!strays[i].empty())
        left.push_back(
            fmt::format("{}: {} (not managed through Karmada: delete them there, e.g. uninstall "
                        "without --fleet karmada)",
                        m_members[i].name, fmt::join(strays[i], ", ")));
    if (step.deleted > 0)
      progress_line(
          fmt::format("karmada: removed {} objects and policies ({} were not there); Karmada removed "
                      "them from {}",
                      step.deleted, step.absent, fmt::join(names(), ", ")));
    if (!errors.empty() || !left.empty()) {
      std::string msg = "could not remove everything:";
      if (!errors.empty()) msg += fmt::format(" could not delete {};", fmt::join(errors, "; "));
      if (!left.empty()) msg += fmt::format(" still there: {}", fmt::join(left, "; "));
      return Error(msg, errors.empty() ? ExitCode::timeout : ExitCode::failure,
                   "run the uninstall again once Karmada and the members' finalizers are done");
    }
    RemoveReport report;
    report.steps.push_back(step);
    return report;
  }

 private:
  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& m : m_members) n.push_back(m.name);
    return n;
  }

  std::string binding_problems(const std::vector<json>& objs) {
    std::vector<std::string> out;
    for (const auto& o : objs) {
      if (is_namespace(o)) continue;
      std::string ns = str_at(o, "/metadata/namespace");
      auto rb = ns.empty() ? m_karmada.get(kWorkApi, "ClusterResourceBinding", "", binding_name(o))
                           : m_karmada.get(kWorkApi, "ResourceBinding", ns, binding_name(o));
      if (!rb) {
        if (rb.error().http_status == 404)
          out.push_back(key_of(o) + ": no binding yet (no policy matched it?)");
        continue;
      }
      if (!rb->contains("/status/conditions"_json_pointer)) continue;
      for (const auto& c : (*rb)["status"]["conditions"]) {
        if (c.value("status", "") == "True") continue;
        out.push_back(key_of(o) + ": " + c.value("type", "") + "=" + c.value("status", "") + " " +
                      c.value("reason", "") + ": " + c.value("message", ""));
      }
      if (out.size() >= 5) break;
    }
    return fmt::format("{}", fmt::join(out, "; "));
  }

  kube::Client m_karmada;
  std::vector<Member> m_members;
  std::vector<std::unique_ptr<kube::Client>> m_clients;
};

}  // namespace

Result<std::unique_ptr<Fleet>> open_karmada(const Selection& sel) {
  auto cfg = karmada::load_karmada_config(sel.karmada_kubeconfig);
  if (!cfg) return cfg.error();
  if (auto why = probe(*cfg, sel.connect_timeout); !why.empty())
    return Error("Karmada (" + sel.karmada_kubeconfig.string() + "): " + why, ExitCode::failure,
                 "is Karmada running? `kurator get clusters` shows a local Karmada's health");
  kube::Client karmada(*cfg);
  auto joined = karmada::list_members(karmada);
  if (!joined) return joined.error();
  std::vector<std::string> known;
  for (const auto& m : *joined) known.push_back(m.name);
  std::vector<std::string> chosen;
  if (sel.clusters.empty()) {
    chosen = known;
    if (chosen.empty())
      return Error("no member clusters are joined to Karmada at " + cfg->server, ExitCode::failure,
                   "join one with `kurator join karmada NAME --cluster-kubeconfig FILE`");
  } else {
    for (const auto& c : sel.clusters) {
      if (std::find(known.begin(), known.end(), c) == known.end())
        return Error(
            fmt::format("--clusters: \"{}\" is not a member cluster of Karmada at {}; joined: {}", c,
                        cfg->server,
                        known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))),
            ExitCode::failure,
            "name joined members (`kurator get clusters`), or join it with `kurator join karmada " + c +
                " --cluster-kubeconfig FILE`");
      if (std::find(chosen.begin(), chosen.end(), c) == chosen.end()) chosen.push_back(c);
    }
  }
  std::vector<Member> members(chosen.size());
  std::vector<Status> st(chosen.size());
  parallel_for(chosen.size(), [&](size_t i) {
    members[i].name = chosen[i];
    auto mc = karmada::member_config(karmada, chosen[i]);
    if (!mc) {
      st[i] = mc.error();
      return;
    }
    members[i].config = std::move(*mc);
    if (auto why = probe(members[i].config, sel.connect_timeout); !why.empty()) {
      if (sel.require_reachable)
        st[i] = Error("member cluster " + chosen[i] + " is not reachable: " + why, ExitCode::failure,
                      "check the member (kurator get clusters) or leave it out with --clusters");
      else
        members[i].problem = why;
    }
  });
  for (auto& s : st)
    if (!s) return s.error();
  return std::unique_ptr<Fleet>(std::make_unique<KarmadaFleet>(std::move(*cfg), std::move(members)));
}

}  // namespace kurator::fleet::detail
