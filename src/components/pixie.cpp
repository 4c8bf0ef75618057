// Pixie: the pinned operator chart prepared as upstream's release script does, rendered by the real helm,
// customised by structured edits, sent through the fleet.
#include <kurator/components/pixie.hpp>
#include <kurator/core/readiness.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/cancel.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/log.hpp>
#include <kurator/util/yaml.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace kurator::components::pixie {
namespace stdfs = std::filesystem;
namespace {

std::string str_at(const json& o, const char* pointer) {
  auto p = json::json_pointer(pointer);
  return o.contains(p) && o.at(p).is_string() ? o.at(p).get<std::string>() : std::string();
}

std::string label_of(const json& obj, const char* key) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return {};
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return {};
  auto v = l->find(key);
  return v != l->end() && v->is_string() ? v->get<std::string>() : std::string();
}

bool is_hook(const json& o) {
  auto p = "/metadata/annotations/helm.sh~1hook"_json_pointer;
  return o.contains(p);
}

// Kinds of the chart that are cluster-scoped (everything else gets the release namespace when it has
// none, as helm install would place it).
bool cluster_scoped(const std::string& kind) {
  static const std::set<std::string> k = {"Namespace", "ClusterRole", "ClusterRoleBinding",
                                          "CustomResourceDefinition"};
  return k.count(kind) > 0;
}

bool is_olm_crd(const json& o) {
  if (o.value("kind", "") != "CustomResourceDefinition") return false;
  auto name = str_at(o, "/metadata/name");
  const std::string suffix = ".operators.coreos.com";
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string strip_v(const std::string& v) {
  return !v.empty() && v[0] == 'v' ? v.substr(1) : v;
}

std::vector<long> numeric_parts(std::string_view v) {
  std::vector<long> out;
  size_t i = 0;
  while (i < v.size() && !std::isdigit(static_cast<unsigned char>(v[i]))) {
    if (v[i] != 'v' && v[i] != 'V') return out;
    ++i;
  }
  while (i < v.size() && out.size() < 3) {
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) break;
    long n = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) n = n * 10 + (v[i++] - '0');
    out.push_back(n);
    if (i < v.size() && v[i] == '.')
      ++i;
    else
      break;
  }
  return out;
}

}  // namespace

// ---- chart preparation ----

std::string sed_change_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\' || i + 1 == text.size()) {
      out += c;
      continue;
    }
    char n = text[++i];
    if (n == 'n' || n == '\n')
      out += '\n';
    else if (n == 't')
      out += '\t';
    else
      out += n;
  }
  return out;
}

Status prepare_chart(const stdfs::path& artifact_dir, const stdfs::path& out,
                     const std::string& chart_version) {
  auto src = artifact_dir / "operator-chart";
  std::error_code ec;
  if (!stdfs::is_directory(src))
    return Error(src.string() + ": the pixie-operator artifact has no operator-chart folder",
                 ExitCode::failure,
                 "run `kurator tool verify`, then `kurator tool prune --all` and install again");
  if (stdfs::exists(out)) return Error(out.string() + ": already exists (the chart copy needs a new folder)");
  stdfs::copy(src, out, stdfs::copy_options::recursive, ec);
  if (ec) return Error("copying " + src.string() + " to " + out.string() + ": " + ec.message());
  // Cached artifacts are read-only: the copy must be writable.
  for (auto it = stdfs::recursive_directory_iterator(out, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec))
    stdfs::permissions(it->path(), stdfs::perms::owner_write, stdfs::perm_options::add, ec);
  stdfs::permissions(out, stdfs::perms::owner_all, stdfs::perm_options::add, ec);

  // 1. Chart.yaml
  std::string chart =
      "apiVersion: v2\nname: pixie-operator-chart\ntype: application\nversion: " + strip_v(chart_version) +
      "\n";
  KURATOR_TRY(fs::write_file_atomic(out / "Chart.yaml", chart));
  // 2. crds/vizier_crd.yaml
  auto crd = artifact_dir / "crds" / "px.dev_viziers.yaml";
  auto crd_text = fs::read_file(crd);
  if (!crd_text) return Error(crd.string() + ": missing from the pixie-operator artifact (the Vizier CRD)");
  stdfs::create_directories(out / "crds", ec);
  KURATOR_TRY(fs::write_file_atomic(out / "crds" / "vizier_crd.yaml", *crd_text));
  // 3. the OLM checks in place of every placeholder line
  auto tmpl_file = out / "olm_template_checks.tmpl";
  auto tmpl = fs::read_file(tmpl_file);
  if (!tmpl) return Error(tmpl_file.string() + ": missing from the pixie-operator artifact");
  std::string checks = *tmpl;
  while (!checks.empty() && checks.back() == '\n') checks.pop_back();  // as "$(cat …)" strips them
  checks = sed_change_text(checks);
  stdfs::remove(tmpl_file, ec);
  int replaced = 0;
  for (const auto& e : stdfs::directory_iterator(out / "templates", ec)) {
    if (!e.is_regular_file()) continue;
    auto text = fs::read_file(e.path());
    if (!text) return text.error();
    std::istringstream in(*text);
    std::string line, result;
    bool changed = false;
    while (std::getline(in, line)) {
      if (line.find(kPlaceholder) != std::string::npos) {
        result += checks + "\n";
        changed = true;
        ++replaced;
      } else {
        result += line + "\n";
      }
    }
    if (changed) KURATOR_TRY(fs::write_file_atomic(e.path(), result));
  }
  if (ec) return Error("reading " + (out / "templates").string() + ": " + ec.message());
  if (replaced == 0)
    return Error((out / "templates").string() + ": no line holds " + kPlaceholder +
                 " (not the chart layout kurator knows)");
  return {};
}

// ---- deploy key ----

Status check_deploy_key(std::string_view key, const std::string& source) {
  static const std::string prefix = "px-dep-";
  if (key.empty())
    return Error(source + ": the deploy key is empty", ExitCode::usage,
                 "create one with `px deploy-key create`");
  if (key.size() < prefix.size() + 36)
    return Error(source + ": the deploy key is too short (a Pixie deploy key is px-dep-<uuid>)",
                 ExitCode::usage, "create one with `px deploy-key create`");
  bool ok = key.size() == prefix.size() + 36 && key.substr(0, prefix.size()) == prefix;
  if (ok) {
    auto uuid = key.substr(prefix.size());
    for (size_t i = 0; i < uuid.size() && ok; ++i) {
      char c = uuid[i];
      if (i == 8 || i == 13 || i == 18 || i == 23)
        ok = c == '-';
      else
        ok = std::isxdigit(static_cast<unsigned char>(c)) != 0;
    }
  }
  if (!ok)
    return Error(source + ": not a Pixie deploy key (expected px-dep-<uuid>)", ExitCode::usage,
                 "create one with `px deploy-key create`");
  return {};
}

Result<std::string> read_deploy_key(const std::string& file, const std::string& env_value) {
  auto trim = [](std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t b = 0;
    while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    return s.substr(b);
  };
  std::string key, source;
  if (!file.empty()) {
    std::error_code ec;
    if (!stdfs::exists(file, ec))
      return Error("--deploy-key-file " + file + ": no such file", ExitCode::usage);
    if (!stdfs::is_regular_file(file, ec))
      return Error("--deploy-key-file " + file + ": not a regular file", ExitCode::usage);
    auto text = fs::read_file(file);
    if (!text) return Error("--deploy-key-file " + file + ": cannot be read", ExitCode::usage);
    key = trim(*text);
    source = "--deploy-key-file " + file;
  } else if (!env_value.empty()) {
    key = trim(env_value);
    source = "PX_DEPLOY_KEY";
  } else {
    return Error("no Pixie deploy key: give --deploy-key-file FILE or set PX_DEPLOY_KEY", ExitCode::usage,
                 "create one with `px deploy-key create` and store it in a file readable only by you (0600)");
  }
  KURATOR_TRY(check_deploy_key(key, source));
  return key;
}

// ---- OLM ----

Olm olm_from(const json& operator_groups) {
  Olm o;
  if (!operator_groups.is_object() || !operator_groups.contains("items")) return o;
  std::vector<std::pair<std::string, std::string>> foreign;  // name, namespace
  for (const auto& g : operator_groups["items"])
    if (label_of(g, kComponentLabel) != kName)
      foreign.emplace_back(str_at(g, "/metadata/name"), str_at(g, "/metadata/namespace"));
  if (foreign.empty()) return o;
  o.present = true;
  auto find = [&](const std::string& name) -> std::string {
    for (const auto& [n, ns] : foreign)
      if (n == name) return ns;
    return {};
  };
  o.olm_namespace = find("olm-operators");
  if (o.olm_namespace.empty()) o.olm_namespace = foreign.front().second;
  o.operator_namespace = find("global-operators");
  if (o.operator_namespace.empty()) {
    for (const auto& [n, ns] : foreign)
      if (ns != o.olm_namespace) {
        o.operator_namespace = ns;
        break;
      }
  }
  if (o.operator_namespace.empty()) o.operator_namespace = o.olm_namespace;
  return o;
}

Result<Olm> detect_olm(kube::Client& member) {
  auto crd = member.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "",
                        "operatorgroups.operators.coreos.com");
  if (!crd) {
    if (crd.error().http_status == 404) return Olm{};
    return Error("checking for OLM (CRD operatorgroups.operators.coreos.com): " + crd.error().message);
  }
  auto groups = member.list("operators.coreos.com/v1", "OperatorGroup");
  if (!groups) {
    if (groups.error().http_status == 404) return Olm{};
    return Error("listing OperatorGroups: " + groups.error().message);
  }
  return olm_from(*groups);
}

// ---- values and rendering ----

json values(const Settings& s) {
  return json{{"deployOLM", s.olm.present ? "false" : "true"},
              {"olmNamespace", s.olm.olm_namespace},
              {"olmOperatorNamespace", s.olm.operator_namespace},
              {"name", kVizierName},
              {"clusterName", s.cluster_name},
              {"customDeployKeySecret", kDeployKeySecret},
              {"cloudAddr", s.cloud_addr}};
}

Result<std::vector<json>> helm_template(process::Runner& runner, const stdfs::path& helm,
                                        const stdfs::path& chart_dir, const json& vals) {
  auto tmp_dir = fs::TempDir::make("kurator-pixie-helm-");
  if (!tmp_dir) return tmp_dir.error();
  const stdfs::path& tmp = tmp_dir->path();
  auto values_file = tmp / "values.yaml";
  KURATOR_TRY(fs::write_private_file(values_file, yaml::dump(vals)));
  process::Spec spec;
  spec.argv = {helm.string(), "template",       "pixie",    chart_dir.string(),  "--namespace",
               kNamespace,    "--include-crds", "--values", values_file.string()};
  spec.env = artifacts::proxy_env();
  spec.env["HELM_CACHE_HOME"] = (tmp / "cache").string();
  spec.env["HELM_CONFIG_HOME"] = (tmp / "config").string();
  spec.env["HELM_DATA_HOME"] = (tmp / "data").string();
  spec.unset_env = {"KUBECONFIG"};
  spec.timeout = std::chrono::minutes(2);
  spec.log_prefix = "helm";
  auto r = runner.run(spec);
  if (!r) return r.error();
  if (!r->success())
    return Error("rendering the Pixie operator chart: " + r->describe("helm"), ExitCode::failure,
                 "the chart copy was " + chart_dir.string());
  auto docs = yaml::parse_all(r->out, "helm template output");
  if (!docs) return docs.error();
  std::vector<json> out;
  for (auto& d : *docs)
    if (d.is_object() && !d.empty()) out.push_back(std::move(d));
  return out;
}

std::vector<json> objects_from(std::vector<json> rendered, const std::string& deploy_key, const Olm& olm,
                               const std::string& version) {
  std::vector<json> out;
  out.push_back({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNamespace}}}});
  for (auto& o : rendered) {
    if (is_hook(o)) continue;
    if (olm.present && is_olm_crd(o)) continue;  // the OLM that is there owns its CRDs
    auto kind = o.value("kind", "");
    if (!cluster_scoped(kind) && str_at(o, "/metadata/namespace").empty())
      o["metadata"]["namespace"] = kNamespace;
    out.push_back(std::move(o));
  }
  out.push_back({{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", kDeployKeySecret}, {"namespace", kNamespace}}},
                 {"type", "Opaque"},
                 {"data", {{kDeployKeyField, base64::encode(deploy_key)}}}});
  for (auto& o : out) {
    json& labels = o["metadata"]["labels"];
    if (!labels.is_object()) labels = json::object();
    labels[kManagedByLabel] = "kurator";
    labels[kComponentLabel] = kName;
    labels[kVersionLabel] = version;
  }
  return out;
}

fleet::Workload workload(std::vector<json> objects, const std::vector<std::string>& members) {
  fleet::Workload w;
  w.component = kName;
  w.objects = std::move(objects);
  for (const auto& m : members) {
    fleet::Override ov{
        "px.dev/v1alpha1", "Vizier", kNamespace, kVizierName, {{"add", "/spec/clusterName", m}}};
    w.per_member[m].push_back(ov);
  }
  return w;
}

Result<Prepared> prepare(artifacts::Store& store, process::Runner& runner, fleet::Fleet& fleet,
                         const std::string& deploy_key, const std::string& cloud_addr) {
  auto chart_art = store.resolve(kArtifact);
  if (!chart_art) return chart_art.error();
  auto chart = store.ensure(*chart_art);
  if (!chart) return chart.error();
  auto helm = store.ensure(kHelmArtifact);
  if (!helm) return helm.error();

  // OLM per member; members that differ cannot share one object list.
  Prepared p;
  std::vector<std::string> names, with_olm, without_olm;
  for (const auto& m : fleet.members()) {
    kube::Client c(m.config);
    auto olm = detect_olm(c);
    if (!olm) return olm.error().context(m.name);
    (olm->present ? with_olm : without_olm).push_back(m.name);
    if (olm->present) p.olm = *olm;
    names.push_back(m.name);
  }
  if (!with_olm.empty() && !without_olm.empty())
    return Error(
        fmt::format("OLM is installed in {} but not in {}: kurator installs Pixie into members alike",
                    fmt::join(with_olm, ", "), fmt::join(without_olm, ", ")),
        ExitCode::usage, "install Pixie with --clusters naming the members of each kind separately");

  auto tmp_dir = fs::TempDir::make("kurator-pixie-chart-");
  if (!tmp_dir) return tmp_dir.error();
  const stdfs::path& tmp = tmp_dir->path();
  auto chart_dir = tmp / "pixie-operator-chart";
  KURATOR_TRY(prepare_chart(chart->path, chart_dir, chart_art->version));
  Settings s;
  s.cloud_addr = cloud_addr.empty() ? kDefaultCloudAddr : cloud_addr;
  s.cluster_name = names.empty() ? std::string() : names.front();
  s.olm = p.olm;
  auto rendered = helm_template(runner, helm->path, chart_dir, values(s));
  if (!rendered) return rendered.error();
  p.version = chart_art->version;
  p.workload =
      workload(objects_from(std::move(*rendered),
                            deploy_key.empty() ? std::string("<not needed>") : deploy_key, p.olm, p.version),
               names);
  return p;
}

// ---- preflight ----

bool version_at_least(std::string_view v, std::string_view min) {
  auto a = numeric_parts(v), b = numeric_parts(min);
  if (a.empty()) return false;
  a.resize(3, 0);
  b.resize(3, 0);
  return a >= b;
}

std::vector<Problem> node_problems(const std::string& member, const json& nodes) {
  std::vector<Problem> out;
  if (!nodes.contains("items")) return out;
  for (const auto& n : nodes["items"]) {
    auto name = str_at(n, "/metadata/name");
    auto kernel = str_at(n, "/status/nodeInfo/kernelVersion");
    if (!version_at_least(kernel, kMinKernel))
      out.push_back({member, "kernel",
                     fmt::format("node {}: kernel version {} is older than {}", name,
                                 kernel.empty() ? "(not reported)" : kernel, kMinKernel)});
    auto provider = str_at(n, "/spec/providerID");
    if (provider.rfind("kind://", 0) == 0)
      out.push_back(
          {member, "cluster type", "node " + name + " is a kind node: Pixie does not support kind"});
    if (name == "docker-desktop")
      out.push_back({member, "cluster type", "node docker-desktop: Pixie does not support Docker Desktop"});
  }
  return out;
}

std::vector<Problem> preflight(fleet::Fleet& fleet) {
  std::vector<Problem> all;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (const auto& m : fleet.members()) {
    threads.emplace_back([&, m] {
      std::vector<Problem> mine;
      kube::Client c(m.config);
      auto nodes = c.list("v1", "Node");
      if (!nodes)
        mine.push_back({m.name, "kernel", "cannot list Nodes: " + nodes.error().message});
      else {
        auto p = node_problems(m.name, *nodes);
        mine.insert(mine.end(), p.begin(), p.end());
      }
      auto v = c.server_version();
      if (!v)
        mine.push_back({m.name, "kubernetes version", "cannot read /version: " + v.error().message});
      else if (auto gv = v->value("gitVersion", ""); !version_at_least(gv, kMinKubernetes))
        mine.push_back(
            {m.name, "kubernetes version", "Kubernetes " + gv + " is older than " + kMinKubernetes});
      json review = {{"apiVersion", "authorization.k8s.io/v1"},
                     {"kind", "SelfSubjectAccessReview"},
                     {"spec", {{"resourceAttributes", {{"verb", "create"}, {"resource", "namespaces"}}}}}};
      auto r = c.create(review);
      if (!r)
        mine.push_back({m.name, "create namespace", "SelfSubjectAccessReview failed: " + r.error().message});
      else if (!r->value("/status/allowed"_json_pointer, false))
        mine.push_back({m.name, "create namespace", "not allowed to create namespaces"});
      std::lock_guard<std::mutex> l(mu);
      all.insert(all.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  std::sort(all.begin(), all.end(), [](const Problem& a, const Problem& b) {
    return std::tie(a.member, a.check, a.detail) < std::tie(b.member, b.check, b.detail);
  });
  return all;
}

// ---- install ----

Status wait_vizier_healthy(fleet::Fleet& fleet, const kube::WaitOptions& wait) {
  std::ostream& progress = wait.progress ? *wait.progress : std::cerr;
  auto deadline = std::chrono::steady_clock::now() + wait.timeout;
  std::map<std::string, std::string> last;  // member -> last state shown
  while (true) {
    std::map<std::string, std::string> pending;  // member -> "phase=…, reason=…, message=…"
    for (const auto& m : fleet.members()) {
      kube::Client c(m.config);
      auto v = c.get("px.dev/v1alpha1", "Vizier", kNamespace, kVizierName);
      std::string state;
      if (!v)
        state = v.error().http_status == 404 ? "Vizier pl/pixie not found" : v.error().message;
      else {
        auto phase = str_at(*v, "/status/vizierPhase"), rec = str_at(*v, "/status/reconciliationPhase");
        if (phase == "Healthy" && rec == "Ready") continue;
        state = fmt::format("phase={}, reconciliationPhase={}", phase.empty() ? "(none)" : phase,
                            rec.empty() ? "(none)" : rec);
        if (auto reason = str_at(*v, "/status/vizierReason"); !reason.empty()) state += ", reason=" + reason;
        if (auto msg = str_at(*v, "/status/message"); !msg.empty()) state += ", message=" + msg;
      }
      pending[m.name] = state;
    }
    if (pending.empty()) {
      progress << "pixie: Vizier Healthy in every member\n" << std::flush;
      return {};
    }
    for (const auto& [m, s] : pending)
      if (last[m] != s) {
        progress << "[" << m << "] Vizier " << kNamespace << "/" << kVizierName << ": " << s << "\n"
                 << std::flush;
        last[m] = s;
      }
    if (cancel::requested()) return Error("interrupted while waiting for the Vizier", ExitCode::interrupted);
    if (std::chrono::steady_clock::now() >= deadline) {
      std::vector<std::string> parts;
      for (const auto& [m, s] : pending) parts.push_back(m + ": " + s);
      return Error(
          fmt::format("timed out waiting for the Vizier {}/{} to be Healthy: {}", kNamespace, kVizierName,
                      fmt::join(parts, "; ")),
          ExitCode::timeout,
          "the Pixie operator and cloud bring it to Healthy; see `kubectl -n pl describe vizier pixie`");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

Result<fleet::ApplyReport> install(fleet::Fleet& fleet, const fleet::Workload& w,
                                   const kube::WaitOptions& wait) {
  auto report = fleet.apply(w);
  if (!report) return report.error();
  auto t0 = std::chrono::steady_clock::now();
  KURATOR_TRY(fleet.wait_ready(w, wait));
  kube::WaitOptions rest = wait;
  rest.timeout = std::max(std::chrono::milliseconds(1000),
                          wait.timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - t0));
  KURATOR_TRY(wait_vizier_healthy(fleet, rest));
  return report;
}

// ---- uninstall ----

Result<UninstallReport> uninstall(fleet::Fleet& fleet, const fleet::Workload& w, const Olm& olm,
                                  std::chrono::milliseconds timeout) {
  UninstallReport rep;
  if (fleet.mode() == fleet::Mode::direct) {
    // What the pre-delete hooks do: the Vizier first (its operator cleans up after it), then the
    // operator's CSVs (so OLM removes the operator), before the rest goes.
    for (const auto& m : fleet.members()) {
      kube::Client c(m.config);
      auto crd = c.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", kVizierCrd);
      if (!crd && crd.error().http_status != 404) return crd.error().context(m.name);
      if (crd) {
        auto st = c.remove("px.dev/v1alpha1", "Vizier", kNamespace, kVizierName, "Foreground");
        if (!st && st.error().http_status != 404) return st.error().context(m.name + ": deleting the Vizier");
      }
      auto csvs = c.list("operators.coreos.com/v1alpha1", "ClusterServiceVersion",
                         kube::ListOptions{.namespace_ = olm.operator_namespace});
      if (csvs) {
        for (const auto& csv : (*csvs)["items"]) {
          auto name = str_at(csv, "/metadata/name");
          if (name.rfind("pixie-operator", 0) != 0) continue;
          (void)c.remove("operators.coreos.com/v1alpha1", "ClusterServiceVersion", olm.operator_namespace,
                         name);
        }
      }
    }
  }
  auto removed = fleet.remove(w, timeout);
  if (removed) {
    rep.removed = std::move(*removed);
    return rep;
  }
  // Tolerated: namespaces left Terminating (OLM's finalizers, pixie#1917). Anything else left: the error.
  std::vector<std::string> other;
  for (const auto& m : fleet.members()) {
    kube::Client c(m.config);
    for (const auto& o : w.objects) {
      auto got =
          c.get(o["apiVersion"], o["kind"], str_at(o, "/metadata/namespace"), str_at(o, "/metadata/name"));
      if (!got) continue;
      if (o["kind"] == "Namespace" && got->contains("/metadata/deletionTimestamp"_json_pointer)) {
        std::vector<std::string> fins;
        for (const char* p : {"/spec/finalizers", "/metadata/finalizers"}) {
          auto ptr = json::json_pointer(p);
          if (got->contains(ptr))
            for (const auto& f : got->at(ptr)) fins.push_back(f.get<std::string>());
        }
        rep.terminating.push_back(fmt::format(
            "{}: namespace {} is Terminating (finalizers: {})", m.name, str_at(o, "/metadata/name"),
            fins.empty() ? std::string("none") : fmt::format("{}", fmt::join(fins, ", "))));
      } else {
        other.push_back(m.name + ": " + kube::describe(o));
      }
    }
  }
  if (!other.empty() || rep.terminating.empty()) return removed.error();
  return rep;
}

// ---- status ----

Component component() {
  Component c;
  c.name = kName;
  c.scope = Scope::member;
  c.description = "Pixie: the Vizier pl/pixie Healthy (reconciliationPhase Ready)";
  c.health = [](const Probe& p) {
    Health h;
    kube::Client& k = *p.cluster;
    auto crd = k.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", kVizierCrd);
    if (!crd && crd.error().http_status != 404) {
      h.reason = "cannot read CustomResourceDefinitions: " + crd.error().message;
      return h;
    }
    auto v = crd ? k.get("px.dev/v1alpha1", "Vizier", kNamespace, kVizierName)
                 : Result<json>(Error("no CustomResourceDefinition viziers.px.dev"));
    if (!v) {
      auto ns = k.get("v1", "Namespace", "", kNamespace);
      if (ns && label_of(*ns, kComponentLabel) == kName) {
        h.installed = true;
        h.version = label_of(*ns, kVersionLabel);
        h.reason = "the Vizier pl/pixie is missing";
        return h;
      }
      h.reason = !crd || v.error().http_status == 404 ? "not installed"
                                                      : "cannot read the Vizier: " + v.error().message;
      return h;
    }
    h.installed = true;
    h.version = label_of(*v, kVersionLabel);
    if (h.version.empty()) h.version = str_at(*v, "/status/version");
    auto phase = str_at(*v, "/status/vizierPhase"), rec = str_at(*v, "/status/reconciliationPhase");
    h.healthy = phase == "Healthy" && rec == "Ready";
    if (!h.healthy) {
      h.reason = "Vizier phase " + (phase.empty() ? std::string("(none)") : phase);
      if (!rec.empty()) h.reason += ", reconciliation " + rec;
      if (auto r = str_at(*v, "/status/vizierReason"); !r.empty()) h.reason += ": " + r;
      if (auto m = str_at(*v, "/status/message"); !m.empty()) h.reason += " (" + m + ")";
    }
    return h;
  };
  return c;
}

}  // namespace kurator::components::pixie
