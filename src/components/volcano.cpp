// Volcano: upstream's release YAML through the artifact layer, labelled as kurator's, through the fleet.
#include <kurator/components/volcano.hpp>
#include <kurator/core/readiness.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

namespace kurator::components::volcano {
namespace {

Result<std::vector<json>> read_release(const std::filesystem::path& dir, const std::string& version) {
  auto file = dir / kReleaseFile;
  auto text = fs::read_file(file);
  if (!text)
    return Error("volcano " + version + ": " + file.string() + " is missing from the cached artifact",
                 ExitCode::failure,
                 "run `kurator tool verify`, then `kurator tool prune --all` and install again");
  return objects_from(*text, version, file.string());
}

}  // namespace

Result<std::vector<json>> objects_from(std::string_view yaml_text, const std::string& version,
                                       const std::string& source) {
  auto docs = yaml::parse_all(yaml_text, source);
  if (!docs) return docs.error();
  KURATOR_TRY(kube::validate_objects(*docs, source));
  label_objects(*docs, kName, version);
  return docs;
}

Result<std::vector<json>> load(artifacts::Store& store, const std::string& version) {
  auto a = store.resolve(kArtifact, version);
  if (!a) return a.error();
  auto fetched = store.ensure(*a);
  if (!fetched) return fetched.error();
  return read_release(fetched->path, a->version);
}

std::optional<Result<std::vector<json>>> load_cached(const artifacts::Store& store,
                                                     const std::string& version) {
  auto a = store.resolve(kArtifact, version);
  if (!a) return Result<std::vector<json>>(a.error());
  auto c = store.cached(*a);
  if (!c) return std::nullopt;
  return read_release(c->path, a->version);
}

fleet::Workload workload(std::vector<json> objects) {
  fleet::Workload w;
  w.component = kName;
  w.objects = std::move(objects);
  return w;
}

std::string version_of(const std::vector<json>& objects) {
  return components::version_of(objects);
}

Result<fleet::ApplyReport> install(fleet::Fleet& fleet, const fleet::Workload& w,
                                   const kube::WaitOptions& wait) {
  auto report = fleet.apply(w);
  if (!report) return report.error();
  KURATOR_TRY(fleet.wait_ready(w, wait));
  return report;
}

Result<fleet::RemoveReport> uninstall(fleet::Fleet& fleet, const fleet::Workload& w,
                                      std::chrono::milliseconds timeout) {
  return fleet.remove(w, timeout);
}

Component component() {
  Component c;
  c.name = kName;
  c.scope = Scope::member;
  c.description = "Volcano batch scheduler: CRDs Established, admission/controllers/scheduler available";
  c.health = [](const Probe& p) {
    Health h;
    kube::Client& k = *p.cluster;
    kube::ListOptions lo;
    lo.label_selector = std::string(kComponentLabel) + "=" + kName;
    auto crds = k.list("apiextensions.k8s.io/v1", "CustomResourceDefinition", lo);
    auto scheduler = k.get("apps/v1", "Deployment", kNamespace, "volcano-scheduler");
    size_t n_crds = crds ? (*crds)["items"].size() : 0;
    if (n_crds == 0 && !scheduler) {
      if (!crds && crds.error().http_status != 404) {
        h.reason = "cannot read CustomResourceDefinitions: " + crds.error().message;
        return h;
      }
      h.reason = "not installed";
      return h;
    }
    h.installed = true;
    if (scheduler) {
      h.version = label_of(*scheduler, kVersionLabel);
      if (h.version.empty()) {  // installed by something else: the image tag
        auto img = scheduler->value("/spec/template/spec/containers/0/image"_json_pointer, std::string());
        if (auto colon = img.rfind(':'); colon != std::string::npos) h.version = img.substr(colon + 1);
      }
    }
    std::vector<std::string> problems;
    for (const auto& d : kDeployments)
      if (auto why = check_ready(k, "apps/v1", "Deployment", kNamespace, d); !why.empty())
        problems.push_back(why);
    if (crds) {
      for (const auto& crd : (*crds)["items"]) {
        auto st = kube::evaluate(crd);
        if (!st.ready())
          problems.push_back("CustomResourceDefinition/" + crd["metadata"].value("name", "") + ": " +
                             st.reason);
      }
    }
    if (n_crds == 0) problems.push_back("no CustomResourceDefinitions labelled " + lo.label_selector);
    for (size_t i = 0; i < problems.size() && i < 3; ++i) h.reason += (i ? "; " : "") + problems[i];
    if (problems.size() > 3) h.reason += "; and " + std::to_string(problems.size() - 3) + " more";
    h.healthy = problems.empty();
    return h;
  };
  return c;
}

}  // namespace kurator::components::volcano
