// Opening a fleet: resolving the selection into members and checking that each answers.
#include <fmt/format.h>

#include <algorithm>

#include "internal.hpp"

namespace kurator::fleet {
namespace {

Result<std::unique_ptr<Fleet>> open_direct(const Selection& sel) {
  auto merged = kubeconfig::load_merged(sel.kubeconfig);
  if (!merged) return merged.error();
  std::vector<std::string> known;
  for (const auto& c : (*merged)["contexts"]) known.push_back(c.value("name", ""));
  std::string where = sel.kubeconfig.explicit_path.empty() ? std::string("the kubeconfig")
                                                           : "kubeconfig " + sel.kubeconfig.explicit_path;
  std::string known_list = known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "));
  std::vector<std::string> chosen;
  if (sel.clusters.empty()) {
    std::string current =
        sel.kubeconfig.context.empty() ? (*merged).value("current-context", "") : sel.kubeconfig.context;
    if (current.empty())
      return Error(where + " sets no current-context", ExitCode::failure,
                   "name the member clusters with --clusters CONTEXT[,CONTEXT...]; contexts: " + known_list);
    chosen.push_back(current);
  } else {
    chosen = sel.clusters;
  }
  std::vector<std::string> unique;
  for (const auto& c : chosen) {
    if (std::find(known.begin(), known.end(), c) == known.end())
      return Error(
          fmt::format("--clusters: {} has no context \"{}\"; its contexts: {}", where, c, known_list),
          ExitCode::failure,
          "name contexts of the kubeconfig (--kubeconfig FILE), or use --fleet karmada for members "
          "joined to Karmada");
    if (std::find(unique.begin(), unique.end(), c) == unique.end()) unique.push_back(c);
  }
  std::vector<Member> members(unique.size());
  std::vector<Status> st(unique.size());
  detail::parallel_for(unique.size(), [&](size_t i) {
    members[i].name = unique[i];
    kubeconfig::LoadOptions lo = sel.kubeconfig;
    lo.context = unique[i];
    auto cfg = kubeconfig::load(lo);
    if (!cfg) {
      st[i] = cfg.error();
      return;
    }
    members[i].config = std::move(*cfg);
    if (auto why = detail::probe(members[i].config, sel.connect_timeout); !why.empty()) {
      if (sel.require_reachable)
        st[i] = Error(
            "member cluster " + unique[i] + " is not reachable: " + why, ExitCode::failure,
            "is the cluster running? leave it out with --clusters, or check it with `kubectl --context " +
                unique[i] + " version`");
      else
        members[i].problem = why;
    }
  });
  for (auto& s : st)
    if (!s) return s.error();
  return detail::make_direct(std::move(members));
}

}  // namespace

Result<std::unique_ptr<Fleet>> open(const Selection& sel) {
  if (sel.mode == Mode::karmada) return detail::open_karmada(sel);
  return open_direct(sel);
}

}  // namespace kurator::fleet
