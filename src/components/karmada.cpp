// The Karmada-side objects (see include/kurator/components/karmada.hpp): data from manifests/karmada/
// and the CRDs artifact, customised by structured edits.
#include <kurator/components/karmada.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/embedded.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <unistd.h>

#include <algorithm>

namespace kurator::components::karmada {
namespace {
namespace stdfs = std::filesystem;

// Shown instead of a caBundle when no CA is known yet (--dry-run before the install made one).
constexpr const char* kCaPlaceholder = "<base64 of the Karmada CA made at install>";

Result<std::vector<json>> embedded_docs(const std::string& path) {
  auto text = embedded::find(path);
  if (!text) return Error("manifests/" + path + " is not embedded in this kurator build");
  return yaml::parse_all(*text, "manifests/" + path);
}

std::string ca_bundle(const ObjectsOptions& o) {
  return o.ca_pem.empty() ? std::string(kCaPlaceholder) : base64::encode(o.ca_pem);
}

// The path (and query) of a URL: "https://h:443/convert" -> "/convert"; "" when it has none.
std::string url_path(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? std::string() : url.substr(slash);
}

// Points a webhook clientConfig (admission or conversion) at `base` + its path, with the CA: a
// `service` reference becomes a `url` (a local Karmada has no Service to route through).
Status point_client_config(json& cc, const ObjectsOptions& o, const std::string& where,
                           const std::string& default_path) {
  if (!cc.is_object()) return Error(where + ": clientConfig is not a mapping");
  std::string path;
  if (cc.contains("url") && cc["url"].is_string()) {
    path = url_path(cc["url"].get<std::string>());
  } else if (cc.contains("service") && cc["service"].is_object()) {
    path = cc["service"].value("path", std::string());
    cc.erase("service");
  } else {
    return Error(where + ": clientConfig has neither url nor service");
  }
  if (path.empty()) path = default_path;
  if (path.empty()) return Error(where + ": clientConfig names no path");
  cc["url"] = o.webhook_base_url + path;
  cc["caBundle"] = ca_bundle(o);
  return {};
}

// Deep merge of `patch` into `target` (maps merged key by key, anything else replaced), as a strategic
// merge patch does for the CRD fields the upstream patches set.
void merge_into(json& target, const json& patch) {
  if (!patch.is_object() || !target.is_object()) {
    target = patch;
    return;
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (target.contains(it.key()))
      merge_into(target[it.key()], it.value());
    else
      target[it.key()] = it.value();
  }
}

// A string still holding an upstream template marker ("{{caBundle}}"): the patch format changed.
std::optional<std::string> leftover_template(const json& j, const std::string& at) {
  if (j.is_string() && j.get<std::string>().find("{{") != std::string::npos) return at;
  if (j.is_object() || j.is_array()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string key = j.is_object() ? it.key() : std::to_string(std::distance(j.begin(), it));
      if (auto r = leftover_template(it.value(), at.empty() ? key : at + "." + key)) return r;
    }
  }
  return std::nullopt;
}

Result<std::vector<stdfs::path>> yaml_files(const stdfs::path& dir, bool recursive) {
  std::vector<stdfs::path> files;
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec))
    return Error("Karmada CRDs: " + dir.string() + " is not a folder", ExitCode::failure,
                 "the karmada-crds artifact must hold crds/bases and crds/patches");
  auto add = [&](const stdfs::directory_entry& e) {
    if (e.is_regular_file(ec) && e.path().extension() == ".yaml") files.push_back(e.path());
  };
  if (recursive) {
    for (const auto& e : stdfs::recursive_directory_iterator(dir, ec)) add(e);
  } else {
    for (const auto& e : stdfs::directory_iterator(dir, ec)) add(e);
  }
  if (ec) return Error("reading " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::vector<json>> crds(const ObjectsOptions& o) {
  auto bases = yaml_files(o.crds_dir / "bases", true);
  if (!bases) return bases.error();
  if (bases->empty())
    return Error("Karmada CRDs: no *.yaml under " + (o.crds_dir / "bases").string(), ExitCode::failure,
                 "the karmada-crds artifact looks empty; re-fetch it (kurator tool fetch karmada-crds)");
  stdfs::path patches_dir = o.crds_dir / "patches";
  std::vector<stdfs::path> patches;
  std::error_code ec;
  if (stdfs::exists(patches_dir, ec)) {
    auto p = yaml_files(patches_dir, false);
    if (!p) return p.error();
    patches = std::move(*p);
  }
  std::vector<std::string> texts;
  std::vector<yaml::Stream> streams;
  for (const auto* list : {&*bases, &patches}) {
    for (const auto& f : *list) {
      auto t = fs::read_file(f);
      if (!t) return t.error();
      texts.push_back(std::move(*t));
    }
  }
  size_t i = 0;
  for (const auto* list : {&*bases, &patches})
    for (const auto& f : *list) streams.push_back({f.string(), texts[i++]});
  auto parsed = yaml::parse_streams(streams);
  if (!parsed) return parsed.error();

  std::vector<json> out;
  for (size_t f = 0; f < bases->size(); ++f) {
    for (auto& d : (*parsed)[f]) {
      if (d.value("kind", "") != "CustomResourceDefinition")
        return Error((*bases)[f].string() + ": expected CustomResourceDefinitions, found kind \"" +
                     d.value("kind", "") + "\"");
      out.push_back(std::move(d));
    }
  }
  for (size_t f = 0; f < patches.size(); ++f) {
    const std::string where = patches[f].string();
    for (auto& patch : (*parsed)[bases->size() + f]) {
      std::string name = patch.value("/metadata/name"_json_pointer, std::string());
      auto target = std::find_if(out.begin(), out.end(), [&](const json& c) {
        return c.value("/metadata/name"_json_pointer, std::string()) == name;
      });
      if (name.empty() || target == out.end())
        return Error(where + ": patches CustomResourceDefinition \"" + name +
                     "\", which crds/bases does not hold");
      json spec = patch.value("spec", json::object());
      if (spec.contains("conversion") && spec["conversion"].contains("webhook")) {
        auto& webhook = spec["conversion"]["webhook"];
        if (!webhook.contains("clientConfig"))
          return Error(where + ": conversion.webhook has no clientConfig");
        KURATOR_TRY(
            point_client_config(webhook["clientConfig"], o, where + ": spec.conversion.webhook", "/convert"));
      }
      if (auto left = leftover_template(spec, "spec"))
        return Error(where + ": " + *left + " still holds a template marker after kurator's edits",
                     ExitCode::failure, "the upstream patch format changed; kurator needs updating for it");
      merge_into((*target)["spec"], spec);
    }
  }
  return out;
}

std::string cluster_info_kubeconfig(const ObjectsOptions& o) {
  // What clientcmd.Write makes of a Config holding only the cluster (server, CA), as
  // clusterinfo.CreateBootstrapConfigMapIfNotExists writes it.
  json cluster = {{"server", o.apiserver_url}};
  cluster["certificate-authority-data"] = ca_bundle(o);
  json cfg = {{"apiVersion", "v1"},
              {"kind", "Config"},
              {"clusters", json::array({{{"name", ""}, {"cluster", cluster}}})},
              {"contexts", nullptr},
              {"current-context", ""},
              {"preferences", json::object()},
              {"users", nullptr}};
  return yaml::dump(cfg);
}

}  // namespace

ObjectsOptions in_cluster_options(const std::string& namespace_) {
  ObjectsOptions o;
  o.namespace_ = namespace_;
  o.webhook_base_url = "https://" + std::string(kWebhookService) + "." + namespace_ + ".svc:443";
  o.aggregated_apiserver_host = std::string(kAggregatedApiserverService) + "." + namespace_ + ".svc";
  o.aggregated_apiserver_port = 443;
  return o;
}

Result<std::vector<json>> objects(const ObjectsOptions& o) {
  if (o.namespace_.empty()) return Error("Karmada objects: no namespace given", ExitCode::usage);
  if (o.webhook_base_url.rfind("https://", 0) != 0 || o.webhook_base_url.back() == '/')
    return Error("Karmada objects: webhook base URL \"" + o.webhook_base_url + "\" must be https://host:port",
                 ExitCode::usage);
  if (o.aggregated_apiserver_host.empty() || o.aggregated_apiserver_port <= 0 ||
      o.aggregated_apiserver_port > 65535)
    return Error("Karmada objects: aggregated apiserver address " + o.aggregated_apiserver_host + ":" +
                     std::to_string(o.aggregated_apiserver_port) + " is not valid",
                 ExitCode::usage);
  std::vector<json> out;

  auto ns = embedded_docs("karmada/namespace.yaml");
  if (!ns) return ns.error();
  for (auto& d : *ns) {
    d["metadata"]["name"] = o.namespace_;
    out.push_back(std::move(d));
  }

  auto c = crds(o);
  if (!c) return c.error();
  for (auto& d : *c) out.push_back(std::move(d));

  auto rbac = embedded_docs("karmada/rbac.yaml");
  if (!rbac) return rbac.error();
  for (auto& d : *rbac) {
    if (d.value("kind", "") == "ConfigMap" && d["metadata"].value("name", "") == "cluster-info") {
      if (o.apiserver_url.empty()) continue;
      d["data"]["kubeconfig"] = cluster_info_kubeconfig(o);
    }
    out.push_back(std::move(d));
  }

  auto aa = embedded_docs("karmada/aggregated-apiserver.yaml");
  if (!aa) return aa.error();
  for (auto& d : *aa) {
    if (d.value("kind", "") == "Service") {
      d["metadata"]["namespace"] = o.namespace_;
      d["spec"]["externalName"] = o.aggregated_apiserver_host;
    } else if (d.value("kind", "") == "APIService") {
      d["spec"]["service"]["namespace"] = o.namespace_;
      d["spec"]["service"]["port"] = o.aggregated_apiserver_port;
      d["spec"]["caBundle"] = ca_bundle(o);
    }
    out.push_back(std::move(d));
  }

  auto hooks = embedded_docs("karmada/webhook-configuration.yaml");
  if (!hooks) return hooks.error();
  for (auto& d : *hooks) {
    const std::string cfg = d.value("kind", "") + "/" + d["metadata"].value("name", "");
    for (auto& h : d["webhooks"]) {
      const std::string where = "manifests/karmada/webhook-configuration.yaml: " + cfg + " webhook " +
                                h.value("name", std::string("?"));
      KURATOR_TRY(point_client_config(h["clientConfig"], o, where, ""));
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<kube::WaitTarget> wait_targets(const std::vector<json>& objs) {
  std::vector<kube::WaitTarget> t;
  for (const auto& o : objs) {
    auto kind = o.value("kind", "");
    if (kind == "CustomResourceDefinition" || kind == "APIService") t.push_back(kube::WaitTarget::from(o));
  }
  return t;
}

Status apply_and_wait(kube::Client& client, std::vector<json> objs, std::chrono::milliseconds timeout) {
  auto targets = wait_targets(objs);
  kube::ApplyAllOptions ao;
  ao.keep_results = false;
  ao.crd_timeout = timeout;
  ao.crds_established_at_end = false;  // the wait below covers them, with progress
  auto applied = kube::apply_all(client, std::move(objs), ao);
  if (!applied) return applied.error().context("applying the Karmada objects");
  kube::WaitOptions wo;
  wo.timeout = timeout;
  wo.tty = ::isatty(STDERR_FILENO) == 1;
  return kube::wait_ready(client, targets, wo);
}

Result<std::filesystem::path> fetch_crds(artifacts::Store& store, const std::string& version) {
  auto f = store.ensure(kCrdsArtifact, version);
  if (!f) return f.error();
  std::error_code ec;
  if (!stdfs::is_directory(f->path / "bases", ec))
    return Error(f->artifact.id() + ": " + (f->path / "bases").string() + " is missing", ExitCode::failure,
                 "the catalog entry's `path` must name the folder holding bases/ and patches/");
  return f->path;
}

std::optional<std::filesystem::path> cached_crds(const artifacts::Store& store, const std::string& version) {
  auto a = store.resolve(kCrdsArtifact, version);
  if (!a) return std::nullopt;
  auto f = store.cached(*a);
  if (!f) return std::nullopt;
  return f->path;
}

}  // namespace kurator::components::karmada
