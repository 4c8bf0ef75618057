// kurator bundle create|import: offline bundles of artifacts (see core/artifacts.hpp).
#include <kurator/cli/app.hpp>
#include <kurator/cli/artifact_flags.hpp>
#include <kurator/core/artifacts.hpp>
#include <kurator/util/log.hpp>

#include <memory>

namespace kurator::cli {
namespace art = kurator::artifacts;
using ArtifactFlags = art::StoreFlags;

namespace {

struct CreateArgs {
  std::string out;
  std::vector<std::string> components;
  bool all = false;
};

void bundle_create(Context& ctx, const ArtifactFlags& f, const CreateArgs& args) {
  if (args.components.empty() && !args.all) {
    ctx.outcome = Error("bundle create: pass --components a,b or --all", ExitCode::usage);
    return;
  }
  auto store = art::open_store(ctx.home(), f);
  if (!store) {
    ctx.outcome = store.error();
    return;
  }
  const auto& catalog = store->catalog();
  auto platform = store->options().platform;
  std::vector<const art::Artifact*> list;
  auto add = [&](const art::Artifact* a) {
    if (std::find(list.begin(), list.end(), a) == list.end()) list.push_back(a);
  };
  if (args.all) {
    // Every default artifact whose digest is known (or all, with --allow-unverified / an overlay).
    for (const auto* a : catalog.defaults_for(platform)) {
      if (!a->digest_known() && !f.allow_unverified) {
        spdlog::warn("skipping {}: no published sha256 (pass --allow-unverified to include it)", a->id());
        continue;
      }
      add(a);
    }
  }
  if (!args.components.empty()) {
    auto names = catalog.resolve_components(args.components);
    if (!names) {
      ctx.outcome = names.error();
      return;
    }
    for (const auto& ref : *names) {
      auto [name, version] = art::split_ref(ref);
      const auto* a = catalog.find(name, version, platform);
      if (!a) {
        ctx.outcome =
            Error("bundle create: the catalog has no " + ref + " for " + platform.os + "/" + platform.arch);
        return;
      }
      add(a);
    }
  }
  ctx.outcome = art::create_bundle(*store, list, args.out);
  if (ctx.outcome) {
    nlohmann::json items = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto* a : list) {
      items.push_back({{"name", a->name}, {"version", a->version}, {"os", a->os}, {"arch", a->arch}});
      rows.push_back({a->name, a->version, a->os + "/" + a->arch});
    }
    ctx.print({{"bundle", args.out}, {"artifacts", items}}, {"NAME", "VERSION", "PLATFORM"}, rows);
  }
}

void bundle_import(Context& ctx, const ArtifactFlags& f, const std::string& file) {
  auto store = art::open_store(ctx.home(), f);
  if (!store) {
    ctx.outcome = store.error();
    return;
  }
  auto r = art::import_bundle(*store, file);
  if (!r) {
    ctx.outcome = r.error();
    return;
  }
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& x : *r) {
    items.push_back({{"name", x.artifact.name}, {"version", x.artifact.version}, {"path", x.path.string()}});
    rows.push_back({x.artifact.name, x.artifact.version, x.path.string()});
  }
  ctx.print(items, {"NAME", "VERSION", "PATH"}, rows);
}

}  // namespace

void add_bundle_commands(CLI::App& app, Context& ctx) {
  auto* bundle = app.add_subcommand("bundle", "Offline bundles: pack artifacts here, import them elsewhere");
  bundle->require_subcommand(1);

  auto flags = std::make_shared<ArtifactFlags>();
  auto args = std::make_shared<CreateArgs>();
  auto* create = bundle->add_subcommand("create", "Write one tar.gz with the artifacts and an index");
  create->add_option("-o,--output", args->out, "Bundle file to write (.tar.gz)")->required();
  create->add_option("--components", args->components, "Components or artifacts to pack (a,b,…)")
      ->delimiter(',');
  create->add_flag("--all", args->all, "Every artifact at its default version");
  add_artifact_flags(create, *flags, true);
  create->callback([&ctx, flags, args] { bundle_create(ctx, *flags, *args); });

  auto file = std::make_shared<std::string>();
  auto* import =
      bundle->add_subcommand("import", "Verify a bundle against its index and the catalog; fill the cache");
  import->add_option("file", *file, "Bundle file")->required()->check(CLI::ExistingFile);
  add_artifact_flags(import, *flags, true);
  import->callback([&ctx, flags, file] { bundle_import(ctx, *flags, *file);
});
}  // namespace kurator::cli

}  // namespace kurator::cli
