// Direct mode: every member is a kubeconfig context; kurator applies to each member itself, in
// parallel, with the member's overrides applied to its copy of the objects.
#include <kurator/util/cancel.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "internal.hpp"

namespace kurator::fleet::detail {
namespace {

class DirectFleet : public Fleet {
 public:
  explicit DirectFleet(std::vector<Member> members) : m_members(std::move(members)) {
    for (const auto& m : m_members) m_clients.push_back(std::make_unique<kube::Client>(m.config));
  }

  Mode mode() const override { return Mode::direct; }
  const std::vector<Member>& members() const override { return m_members; }
  std::string control_plane() const override { return {}; }

  // Each member's copy: overrides applied, namespaces filled in.
  Result<std::vector<std::vector<json>>> copies(const Workload& w) {
    std::vector<std::vector<json>> out(m_members.size());
    std::vector<Status> st(m_members.size());
    parallel_for(m_members.size(), [&](size_t i) {
      auto objs = objects_for(w, m_members[i].name);
      if (!objs) {
        st[i] = objs.error();
        return;
      }
      st[i] = fill_namespaces(*m_clients[i], *objs);
      out[i] = std::move(*objs);
    });
    KURATOR_TRY(combine(names(), st));
    return out;
  }

  Result<std::vector<PlannedStep>> plan(const Workload& w) override {
    auto c = copies(w);
    if (!c) return c.error();
    std::vector<PlannedStep> steps;
    for (size_t i = 0; i < m_members.size(); ++i) {
      std::vector<json> ordered;
      for (auto& level : kube::dependency_levels(std::move((*c)[i])))
        for (auto& o : level) ordered.push_back(std::move(o));
      steps.push_back({m_members[i].name, m_members[i].config.server, std::move(ordered)});
    }
    return steps;
  }

  Result<ApplyReport> apply(const Workload& w) override {
    auto c = copies(w);
    if (!c) return c.error();
    ApplyReport report;
    report.steps.resize(m_members.size());
    std::vector<Status> st(m_members.size());
    parallel_for(m_members.size(), [&](size_t i) {
      auto t0 = Clock::now();
      auto r =
          apply_and_report(*m_clients[i], m_members[i].name, std::move((*c)[i]), std::chrono::minutes(2));
      if (!r) {
        st[i] = r.error();
        return;
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
      progress_line(fmt::format("{}: applied {} objects to {} ({} changed) in {:.1f}s", m_members[i].name,
                                r->objects, r->server, r->changed.size(), ms / 1000.0));
      report.steps[i] = std::move(*r);
    });
    KURATOR_TRY(combine(names(), st));
    return report;
  }

  Status wait_ready(const Workload& w, const kube::WaitOptions& opts) override {
    auto c = copies(w);
    if (!c) return c.error();
    std::vector<Status> st(m_members.size());
    parallel_for(m_members.size(), [&](size_t i) {
      std::vector<kube::WaitTarget> targets;
      for (const auto& o : (*c)[i]) targets.push_back(kube::WaitTarget::from(o));
      PrefixedStream out(m_members[i].name);
      kube::WaitOptions wo = opts;
      wo.progress = &out;
      wo.tty = opts.tty && m_members.size() == 1;  // in-place lines only when one member draws
      st[i] = kube::wait_ready(*m_clients[i], targets, wo);
    });
    return combine(names(), st);
  }

  Result<RemoveReport> remove(const Workload& w, std::chrono::milliseconds timeout) override {
    auto c = copies(w);
    if (!c) return c.error();
    auto deadline = Clock::now() + timeout;
    RemoveReport report;
    report.steps.resize(m_members.size());
    std::vector<Status> st(m_members.size());
    parallel_for(m_members.size(), [&](size_t i) {
      auto r = remove_in_order(*m_clients[i], (*c)[i], deadline, m_members[i].name);
      report.steps[i] = {m_members[i].name, r.deleted, r.absent};
      if (r.deleted > 0)
        progress_line(fmt::format("{}: removed {} objects ({} were not there)", m_members[i].name, r.deleted,
                                  r.absent));
      std::string msg;
      if (!r.errors.empty()) msg = "could not delete " + fmt::format("{}", fmt::join(r.errors, "; "));
      if (!r.left.empty())
        msg += (msg.empty() ? "" : "; ") + std::string("still there after ") +
               fmt::format("{}s: {}", std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                           fmt::join(r.left, ", "));
      if (!msg.empty()) st[i] = Error(msg, r.errors.empty() ? ExitCode::timeout : ExitCode::failure);
    });
    auto all = combine(names(), st);
    if (!all) {
      Error e = all.error();
      e.message = "could not remove everything: " + e.message;
      if (e.hint.empty()) e.hint = "run the uninstall again once the objects' finalizers are done";
      return e;
    }
    return report;
  }

 private:
  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& m : m_members) n.push_back(m.name);
    return n;
  }

  std::vector<Member> m_members;
  std::vector<std::unique_ptr<kube::Client>> m_clients;
};

}  // namespace

std::unique_ptr<Fleet> make_direct(std::vector<Member> members) {
  return std::make_unique<DirectFleet>(std::move(members));
}

}  // namespace kurator::fleet::detail
