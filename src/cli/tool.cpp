// kurator tool list|fetch|path|verify|prune: the artifact cache from the command line.
#include <kurator/cli/app.hpp>
#include <kurator/cli/artifact_flags.hpp>
#include <kurator/providers/vms_cluster.hpp>
#include <kurator/core/artifacts.hpp>
#include <kurator/util/log.hpp>

#include <iostream>
#include <memory>

namespace kurator::cli {
namespace art = kurator::artifacts;
using ArtifactFlags = art::StoreFlags;

void add_artifact_flags(CLI::App* cmd, ArtifactFlags& f, bool fetch_flags) {
  cmd->add_option("--mirror", f.mirror,
                  "Mirror base URL: https://host/path -> MIRROR/host/path (env KURATOR_MIRROR)");
  cmd->add_option("--ca-file", f.ca_file,
                  "CA bundle (PEM) trusted for HTTPS downloads (env KURATOR_CA_FILE)");
  cmd->add_option("--catalog", f.catalogs, "Extra catalog overlay file; repeatable (env KURATOR_CATALOG)");
  cmd->add_flag("--offline", f.offline, "Never download: use only the cache");
  if (fetch_flags) {
    cmd->add_option("--sha256", f.sha256,
                    "Expected sha256 of the download (for artifacts without a published one)");
    cmd->add_flag("--allow-unverified", f.allow_unverified, "Accept a download with no known sha256 (warns)");
  }
}

namespace {

bool on_platform(const art::Artifact& a, const art::Platform& p) {
  return (a.os == "any" || a.os == p.os) && (a.arch == "any" || a.arch == p.arch);
}

void tool_list(Context& ctx, const ArtifactFlags& f, bool all_versions) {
  auto store = art::open_store(ctx.home(), f);
  if (!store) {
    ctx.outcome = store.error();
    return;
  }
  const auto& catalog = store->catalog();
  auto platform = store->options().platform;
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : catalog.artifacts()) {
    if (!on_platform(a, platform)) continue;
    auto def = catalog.default_version(a.name);
    bool is_default = def && *def == a.version;
    if (!all_versions && !is_default) continue;
    // The platform-specific entry wins over an `any` one of the same name and version.
    if (catalog.find(a.name, a.version, platform) != &a) continue;
    auto cached = store->cached(a);
    std::string path = cached ? cached->path.string() : "";
    items.push_back({{"name", a.name},
                     {"version", a.version},
                     {"os", a.os},
                     {"arch", a.arch},
                     {"kind", std::string(art::to_string(a.kind))},
                     {"default", is_default},
                     {"url", a.kind == art::Kind::files ? "" : a.url},
                     {"sha256", a.kind == art::Kind::files ? "" : (a.sha256.empty() ? "unknown" : a.sha256)},
                     {"verified", a.digest_known()},
                     {"cached", cached.has_value()},
                     {"path", path}});
    rows.push_back({a.name, a.version, std::string(art::to_string(a.kind)),
                    a.digest_known() ? "pinned" : "unknown", cached ? "yes" : "no", path});
  }
  ctx.print(items, {"NAME", "VERSION", "KIND", "DIGEST", "CACHED", "PATH"}, rows);
}

void tool_fetch(Context& ctx, const ArtifactFlags& f, const std::vector<std::string>& refs, bool all) {
  if (refs.empty() && !all) {
    ctx.outcome =
        Error("tool fetch: name at least one artifact (NAME[@VERSION]) or pass --all", ExitCode::usage);
    return;
  }
  if (!f.sha256.empty() && (all || refs.size() != 1)) {
    ctx.outcome = Error("--sha256 applies to exactly one artifact", ExitCode::usage);
    return;
  }
  auto store = art::open_store(ctx.home(), f);
  if (!store) {
    ctx.outcome = store.error();
    return;
  }
  std::vector<art::Artifact> todo;
  if (all) {
    for (const auto* a : store->catalog().defaults_for(store->options().platform)) todo.push_back(*a);
  }
  for (const auto& ref : refs) {
    auto [name, version] = art::split_ref(ref);
    auto a = store->resolve(name, version);
    if (!a) {
      ctx.outcome = a.error();
      return;
    }
    todo.push_back(*a);
  }
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  Status first_error;
  for (const auto& a : todo) {
    auto r = store->ensure(a);
    if (!r) {
      if (first_error) {
        first_error = r.error();  // main prints it
      } else {
        spdlog::error("{}", r.error().message);
        if (!r.error().hint.empty()) spdlog::error("hint: {}", r.error().hint);
      }
      if (r.error().exit == ExitCode::interrupted) break;
      continue;
    }
    items.push_back({{"name", a.name},
                     {"version", a.version},
                     {"path", r->path.string()},
                     {"sha256", r->sha256},
                     {"downloaded", r->downloaded},
                     {"verified", r->verified}});
    rows.push_back({a.name, a.version, r->downloaded ? "downloaded" : "cached", r->path.string()});
  }
  if (!items.empty()) ctx.print(items, {"NAME", "VERSION", "STATUS", "PATH"}, rows);
  ctx.outcome = first_error;
}

void tool_path(Context& ctx, const ArtifactFlags& f, const std::string& ref) {
  auto store = art::open_store(ctx.home(), f);
  if (!store) {
    ctx.outcome = store.error();
    return;
  }
  auto [name, version] = art::split_ref(ref);
  auto r = store->ensure(name, version);
  if (!r) {
    ctx.outcome = r.error();
    return;
  }
  std::cout << r->path.string() << "\n";
}

void tool_verify(Context& ctx, const ArtifactFlags& f) {
  auto store = art::open_store(ctx.home(), f);
  if (!store) {
    ctx.outcome = store.error();
    return;
  }
  auto report = store->verify_cache();
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : report.issues) {
    items.push_back({{"artifact", i.id}, {"problem", i.problem}});
    rows.push_back({i.id, i.problem});
  }
  if (!report.issues.empty()) {
    ctx.print(items, {"ARTIFACT", "PROBLEM"}, rows);
    ctx.outcome = Error("tool verify: " + std::to_string(report.issues.size()) + " problem(s) in " +
                            std::to_string(report.checked) + " cached artifact(s)",
                        ExitCode::failure, "run `kurator tool prune --all` and fetch again");
    return;
  }
  spdlog::info("{} cached artifact(s) verified", report.checked);
}

void tool_prune(Context& ctx, const ArtifactFlags& f, bool all) {
  auto store = art::open_store(ctx.home(), f);
  if (!store) {
    ctx.outcome = store.error();
    return;
  }
  auto removed = store->prune(all);
  for (const auto& p : removed) std::cout << "removed " << p.string() << "\n";
  spdlog::info("pruned {} item(s) from {}", removed.size(), store->cache_root().string());
}

// KubeSpray's tree and its virtualenv, as create cluster --provider vms makes them on first use.
void tool_venv(Context& ctx, const ArtifactFlags& f) {
  const auto home = std::filesystem::absolute(ctx.home());
  auto store = art::open_store(home, f);
  if (!store) {
    ctx.outcome = store.error();
    return;
  }
  auto t = providers::vms::ensure_toolchain(*store, home, process::default_runner(), "python3", std::cerr);
  if (!t) {
    ctx.outcome = t.error();
    return;
  }
  ctx.print({{"kubespray", t->kubespray_dir.string()}, {"venv", t->venv.string()}}, {"KUBESPRAY", "VENV"},
            {{t->kubespray_dir.string(), t->venv.string()}});
}

}  // namespace

void add_tool_commands(CLI::App& app, Context& ctx) {
  auto* tool = app.add_subcommand("tool", "Pinned tools and release files: list, fetch, verify the cache");
  tool->require_subcommand(1);

  auto flags = std::make_shared<ArtifactFlags>();

  auto* list =
      tool->add_subcommand("list", "List the catalog's artifacts for this platform and what is cached");
  auto list_all = std::make_shared<bool>(false);
  list->add_flag("--all-versions", *list_all, "Every version in the catalog, not only the defaults");
  add_artifact_flags(list, *flags, false);
  list->callback([&ctx, flags, list_all] { tool_list(ctx, *flags, *list_all); });

  auto* fetch = tool->add_subcommand("fetch", "Download and verify artifacts into the cache");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto fetch_all = std::make_shared<bool>(false);
  fetch->add_option("artifacts", *refs, "NAME[@VERSION]...");
  fetch->add_flag("--all", *fetch_all, "Every artifact at its default version");
  add_artifact_flags(fetch, *flags, true);
  fetch->callback([&ctx, flags, refs, fetch_all] { tool_fetch(ctx, *flags, *refs, *fetch_all); });

  auto* path = tool->add_subcommand("path", "Print the path of a cached artifact, fetching it when needed");
  auto ref = std::make_shared<std::string>();
  path->add_option("artifact", *ref, "NAME[@VERSION]")->required();
  add_artifact_flags(path, *flags, true);
  path->callback([&ctx, flags, ref] { tool_path(ctx, *flags, *ref); });

  auto* venv = tool->add_subcommand(
      "venv",
      "Fetch KubeSpray and make its Python virtualenv (what create cluster --provider vms does on first use; "
      "e.g. before going offline)");
  add_artifact_flags(venv, *flags, true);
  venv->callback([&ctx, flags] { tool_venv(ctx, *flags); });

  auto* verify = tool->add_subcommand("verify", "Re-hash the cache against its records and the catalog");
  add_artifact_flags(verify, *flags, false);
  verify->callback([&ctx, flags] { tool_verify(ctx, *flags); });

  auto* prune =
      tool->add_subcommand("prune", "Remove cached artifacts that are not default versions, and leftovers");
  auto prune_all = std::make_shared<bool>(false);
  prune->add_flag("--all", *prune_all, "Remove the whole cache");
  add_artifact_flags(prune, *flags, false);
  prune->callback([&ctx, flags, prune_all] { tool_prune(ctx, *flags, *prune_all); });
}

}  // namespace kurator::cli
