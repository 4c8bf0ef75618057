#include <kurator/core/kube.hpp>
#include <kurator/util/cancel.hpp>

#include <spdlog/spdlog.h>

#include <thread>

namespace kurator::kube {
namespace {

std::string name_of(const json& obj) { return obj.value("/metadata/name"_json_pointer, std::string()); }
std::string ns_of(const json& obj) { return obj.value("/metadata/namespace"_json_pointer, std::string()); }

// The message of a Kubernetes Status body, or the raw body.
std::string status_message(const http::Response& resp) {
  auto j = json::parse(resp.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  std::string body = resp.body.substr(0, 300);
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  return body.empty() ? "HTTP " + std::to_string(resp.status) : body;
}

}  // namespace

GroupVersionKind GroupVersionKind::from_api_version(const std::string& api_version, const std::string& kind) {
  GroupVersionKind g;
  g.kind = kind;
  auto slash = api_version.find('/');
  if (slash == std::string::npos) g.version = api_version;
  else {
    g.group = api_version.substr(0, slash);
    g.version = api_version.substr(slash + 1);
  }
  return g;
}

std::string describe(const json& obj) {
  std::string kind = obj.value("kind", std::string("?"));
  std::string ns = ns_of(obj);
  return ns.empty() ? kind + "/" + name_of(obj) : kind + "/" + ns + "/" + name_of(obj);
}

Client::Client(kubeconfig::RestConfig cfg, http::Client* http)
    : m_cfg(std::move(cfg)),
      m_http(http ? http : &http::default_client()),
      m_creds(std::make_unique<kubeconfig::CredentialProvider>(m_cfg)) {
  while (!m_cfg.server.empty() && m_cfg.server.back() == '/') m_cfg.server.pop_back();
}

Client::~Client() = default;

Error Client::api_error(const http::Response& resp, const std::string& what) {
  Error e(what + ": " + status_message(resp) + " (HTTP " + std::to_string(resp.status) + ")");
  e.http_status = static_cast<int>(resp.status);
  if (resp.status == 401) e.hint = "the credentials in the kubeconfig were rejected; check the user's token or certificate";
  if (resp.status == 403) e.hint = "the user lacks RBAC permission for this; ask a cluster admin or use another --context";
  return e;
}

Result<http::Response> Client::request(const std::string& method, const std::string& path, const std::string& body,
                                       const std::string& content_type,
                                       const std::function<bool(std::string_view)>& on_body,
                                       std::chrono::milliseconds timeout) {
  if (m_cfg.server.empty()) return Error("kubeconfig: the cluster has no server address");
  for (int auth_try = 0;; ++auth_try) {
    http::Request req;
    req.method = method;
    req.url = m_cfg.server + path;
    req.body = body;
    req.tls = m_cfg.tls;
    req.proxy = m_cfg.proxy_url;
    req.timeout = timeout;
    req.on_body = on_body;
    req.headers.emplace_back("Accept", "application/json");
    req.headers.emplace_back("User-Agent", "kurator");
    if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
    auto auth = m_creds->authorization(req.tls);
    if (!auth) return auth.error();
    if (!auth->empty()) req.headers.emplace_back("Authorization", *auth);
    auto t0 = std::chrono::steady_clock::now();
    auto resp = m_http->perform_with_retry(req, http::RetryPolicy{});
    if (spdlog::should_log(spdlog::level::debug)) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      spdlog::debug("{} {} -> {} ({} ms)", method, path.substr(0, path.find('?')),
                    resp ? std::to_string(resp->status) : std::string("error"), ms);
    }
    if (!resp) {
      Error e = resp.error();
      if (e.hint.empty() && e.exit == ExitCode::failure)
        e.hint = "is the cluster running and the kubeconfig's server address right? (" + m_cfg.server + ")";
      return e;
    }
    // An exec credential may have expired early: refresh it once.
    if (resp->status == 401 && m_cfg.exec && auth_try == 0) {
      m_creds->invalidate();
      continue;
    }
    return resp;
  }
}

Result<json> Client::server_version() {
  auto resp = request("GET", "/version");
  if (!resp) return resp.error();
  if (resp->status != 200) return api_error(*resp, "GET /version");
  auto j = json::parse(resp->body, nullptr, false);
  if (j.is_discarded()) return Error("GET /version: the server's answer is not JSON");
  return j;
}

void Client::refresh_discovery() {
  std::lock_guard<std::mutex> g(m_discovery_mu);
  m_discovery.clear();
}

Result<ResourceInfo> Client::resource_for(const GroupVersionKind& gvk) {
  const std::string av = gvk.api_version();
  auto find = [&]() -> std::optional<ResourceInfo> {
    std::lock_guard<std::mutex> g(m_discovery_mu);
    auto it = m_discovery.find(av);
    if (it == m_discovery.end()) return std::nullopt;
    for (const auto& r : it->second)
      if (r.gvk.kind == gvk.kind) return r;
    return ResourceInfo{};  // group-version known, kind absent
  };
  if (auto r = find(); r) {
    if (!r->resource.empty()) return *r;
  }
  // (Re)load this group-version: a kind may be new since the cache was filled (a CRD just applied).
  // One load at a time, so concurrent workers do not all fetch the same group-version.
  std::lock_guard<std::mutex> loading(m_discovery_load_mu);
  if (auto r = find(); r && !r->resource.empty()) return *r;
  std::string path = gvk.group.empty() ? "/api/" + gvk.version : "/apis/" + av;
  auto resp = request("GET", path);
  if (!resp) return resp.error();
  Error not_found("no kind \"" + gvk.kind + "\" is registered for apiVersion \"" + av + "\" on this cluster",
                  ExitCode::failure, "install the CustomResourceDefinition that provides it, or check apiVersion/kind");
  if (resp->status == 404) return not_found;
  if (resp->status != 200) return api_error(*resp, "discovery GET " + path);
  auto list = json::parse(resp->body, nullptr, false);
  if (list.is_discarded() || !list.contains("resources")) return Error("discovery GET " + path + ": unexpected answer");
  std::vector<ResourceInfo> infos;
  for (const auto& r : list["resources"]) {
    std::string name = r.value("name", "");
    if (name.find('/') != std::string::npos) continue;  // subresources
    ResourceInfo info;
    info.gvk = GroupVersionKind{gvk.group, gvk.version, r.value("kind", "")};
    info.resource = name;
    info.namespaced = r.value("namespaced", true);
    if (r.contains("verbs")) info.verbs = r["verbs"].get<std::vector<std::string>>();
    infos.push_back(std::move(info));
  }
  {
    std::lock_guard<std::mutex> g(m_discovery_mu);
    m_discovery[av] = infos;
  }
  for (const auto& i : infos)
    if (i.gvk.kind == gvk.kind) return i;
  return not_found;
}

Result<std::string> Client::path_for(const GroupVersionKind& gvk, const std::string& ns, const std::string& name) {
  auto info = resource_for(gvk);
  if (!info) return info.error();
  std::string p = gvk.group.empty() ? "/api/" + gvk.version : "/apis/" + gvk.api_version();
  if (info->namespaced && !ns.empty()) p += "/namespaces/" + ns;
  p += "/" + info->resource;
  if (!name.empty()) p += "/" + name;
  return p;
}

Result<std::string> Client::object_path(const json& obj, bool with_name) {
  auto gvk = GroupVersionKind::from_api_version(obj.value("apiVersion", ""), obj.value("kind", ""));
  auto info = resource_for(gvk);
  if (!info) return Error(describe(obj) + ": " + info.error().message, info.error().exit, info.error().hint);
  std::string ns = ns_of(obj);
  if (info->namespaced && ns.empty()) ns = "default";
  return path_for(gvk, info->namespaced ? ns : "", with_name ? name_of(obj) : "");
}

Result<json> Client::get(const std::string& api_version, const std::string& kind, const std::string& ns,
                         const std::string& name) {
  auto path = path_for(GroupVersionKind::from_api_version(api_version, kind), ns, name);
  if (!path) return path.error();
  auto resp = request("GET", *path);
  if (!resp) return resp.error();
  if (resp->status != 200) {
    json ref = {{"kind", kind}, {"metadata", {{"name", name}, {"namespace", ns}}}};
    return api_error(*resp, "get " + describe(ref));
  }
  return json::parse(resp->body);
}

Result<json> Client::list(const std::string& api_version, const std::string& kind, const ListOptions& opts) {
  auto path = path_for(GroupVersionKind::from_api_version(api_version, kind), opts.namespace_, "");
  if (!path) return path.error();
  json result;
  std::string cont;
  do {
    std::string q = *path + "?limit=" + std::to_string(opts.limit);
    if (!opts.label_selector.empty()) q += "&labelSelector=" + http::url_encode(opts.label_selector);
    if (!opts.field_selector.empty()) q += "&fieldSelector=" + http::url_encode(opts.field_selector);
    if (!cont.empty()) q += "&continue=" + http::url_encode(cont);
    auto resp = request("GET", q);
    if (!resp) return resp.error();
    if (resp->status == 410 && !cont.empty()) {  // continue token expired: start over
      cont.clear();
      result = json();
      continue;
    }
    if (resp->status != 200) return api_error(*resp, "list " + kind);
    auto page = json::parse(resp->body, nullptr, false);
    if (page.is_discarded()) return Error("list " + kind + ": the server's answer is not JSON");
    if (result.is_null()) result = page;
    else
      for (auto& item : page["items"]) result["items"].push_back(std::move(item));
    result["metadata"]["resourceVersion"] = page["metadata"].value("resourceVersion", "");
    cont = page["metadata"].value("continue", "");
  } while (!cont.empty());
  result["metadata"].erase("continue");
  if (!result.contains("items") || result["items"].is_null()) result["items"] = json::array();
  return result;
}

Result<json> Client::create(const json& obj) {
  auto path = object_path(obj, false);
  if (!path) return path.error();
  auto resp = request("POST", *path, obj.dump(), "application/json");
  if (!resp) return resp.error();
  if (resp->status != 201 && resp->status != 200 && resp->status != 202) return api_error(*resp, "create " + describe(obj));
  return json::parse(resp->body);
}

Result<json> Client::apply(const json& obj, const ApplyOptions& opts) {
  auto path = object_path(obj, true);
  if (!path) return path.error();
  std::string q = *path + "?fieldManager=" + http::url_encode(opts.field_manager);
  if (opts.force) q += "&force=true";
  if (opts.strict) q += "&fieldValidation=Strict";
  if (opts.dry_run) q += "&dryRun=All";
  auto resp = request("PATCH", q, obj.dump(), "application/apply-patch+yaml");
  if (!resp) return Error(describe(obj) + ": " + resp.error().message, resp.error().exit, resp.error().hint);
  if (resp->status != 200 && resp->status != 201) return api_error(*resp, "apply " + describe(obj));
  if (!opts.identity_only) return json::parse(resp->body);
  // Keys at depth 1 are the object's; at depth 2 only metadata's remain (spec/status are dropped whole).
  return json::parse(resp->body, [](int depth, json::parse_event_t event, json& parsed) {
    if (event != json::parse_event_t::key) return true;
    const auto& k = parsed.get_ref<const std::string&>();
    if (depth == 1) return k == "apiVersion" || k == "kind" || k == "metadata";
    if (depth == 2)
      return k == "name" || k == "namespace" || k == "uid" || k == "generation" || k == "resourceVersion";
    return true;
  });
}

Result<json> Client::patch_status(const json& obj, const json& merge_patch) {
  auto path = object_path(obj, true);
  if (!path) return path.error();
  auto resp = request("PATCH", *path + "/status", merge_patch.dump(), "application/merge-patch+json");
  if (!resp) return resp.error();
  if (resp->status != 200) return api_error(*resp, "patch status of " + describe(obj));
  return json::parse(resp->body);
}

Status Client::remove(const std::string& api_version, const std::string& kind, const std::string& ns,
                      const std::string& name, const std::string& propagation, bool ignore_not_found) {
  json ref = {{"apiVersion", api_version}, {"kind", kind}, {"metadata", {{"name", name}}}};
  if (!ns.empty()) ref["metadata"]["namespace"] = ns;
  auto path = object_path(ref, true);
  if (!path) {
    // The kind itself is gone (CRD deleted): so is the object.
    if (ignore_not_found && path.error().message.find("no kind") != std::string::npos) return {};
    return path.error();
  }
  json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}, {"propagationPolicy", propagation}};
  auto resp = request("DELETE", *path, body.dump(), "application/json");
  if (!resp) return resp.error();
  if (resp->status == 404 && ignore_not_found) return {};
  if (resp->status != 200 && resp->status != 202) return api_error(*resp, "delete " + describe(ref));
  return {};
}

Status Client::watch(const std::string& api_version, const std::string& kind, const WatchOptions& opts,
                     const std::function<bool(const WatchEvent&)>& on_event) {
  using clock = std::chrono::steady_clock;
  auto gvk = GroupVersionKind::from_api_version(api_version, kind);
  auto path = path_for(gvk, opts.namespace_, "");
  if (!path) return path.error();
  const auto start = clock::now();
  auto remaining = [&]() -> std::chrono::milliseconds {
    if (opts.timeout.count() == 0) return std::chrono::hours(24);
    return std::chrono::duration_cast<std::chrono::milliseconds>(opts.timeout - (clock::now() - start));
  };
  auto stopped = [&] { return opts.stop && opts.stop->load(); };
  std::string rv = opts.resource_version;
  bool need_list = rv.empty();
  bool stop_requested = false;
  int failures = 0;

  while (true) {
    if (cancel::requested()) return Error("watch " + kind + ": interrupted", ExitCode::interrupted);
    if (stop_requested || stopped()) return {};
    if (remaining().count() <= 0) return Error("watch " + kind + ": timed out", ExitCode::timeout);
    if (need_list) {
      ListOptions lo;
      lo.namespace_ = opts.namespace_;
      lo.label_selector = opts.label_selector;
      lo.field_selector = opts.field_selector;
      auto l = list(api_version, kind, lo);
      if (!l) return l.error();
      rv = (*l)["metadata"].value("resourceVersion", "");
      for (auto& item : (*l)["items"]) {
        item["apiVersion"] = api_version;
        item["kind"] = kind;
        if (!on_event(WatchEvent{"ADDED", item})) return {};
      }
      need_list = false;
    }
    long secs = std::max<long>(1, std::min<long>(300, (remaining().count() + 999) / 1000));
    std::string q = *path + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(secs);
    if (!rv.empty()) q += "&resourceVersion=" + http::url_encode(rv);
    if (!opts.label_selector.empty()) q += "&labelSelector=" + http::url_encode(opts.label_selector);
    if (!opts.field_selector.empty()) q += "&fieldSelector=" + http::url_encode(opts.field_selector);

    std::string buf;
    bool gone = false;
    auto on_body = [&](std::string_view chunk) -> bool {
      if (stopped()) {
        stop_requested = true;
        return false;
      }
      buf.append(chunk);
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        if (line.empty()) continue;
        auto ev = json::parse(line, nullptr, false);
        if (ev.is_discarded() || !ev.is_object()) continue;
        std::string type = ev.value("type", "");
        json& o = ev["object"];
        if (type == "ERROR") {
          if (o.value("code", 0) == 410) gone = true;
          else spdlog::debug("watch {}: error event: {}", kind, o.value("message", ""));
          return false;
        }
        if (o.is_object() && o.contains("metadata")) rv = o["metadata"].value("resourceVersion", rv);
        if (type == "BOOKMARK") continue;
        if (!on_event(WatchEvent{type, o})) {
          stop_requested = true;
          return false;
        }
      }
      return true;
    };
    // The HTTP layer checks the stop flag about once a second even when no event arrives.
    auto resp = [&]() -> Result<http::Response> {
      if (m_cfg.server.empty()) return Error("kubeconfig: the cluster has no server address");
      http::Request req;
      req.method = "GET";
      req.url = m_cfg.server + q;
      req.tls = m_cfg.tls;
      req.proxy = m_cfg.proxy_url;
      req.timeout = std::chrono::seconds(secs + 30);
      req.on_body = on_body;
      req.abort_flag = opts.stop;
      req.headers.emplace_back("Accept", "application/json");
      req.headers.emplace_back("User-Agent", "kurator");
      auto auth = m_creds->authorization(req.tls);
      if (!auth) return auth.error();
      if (!auth->empty()) req.headers.emplace_back("Authorization", *auth);
      return m_http->perform(req);
    }();
    if (stop_requested || stopped()) return {};
    if (!resp) {
      if (resp.error().exit == ExitCode::interrupted) return resp.error();
      if (resp.error().message == "aborted by caller") {
        if (gone) {
          need_list = true;
          rv.clear();
        }
        continue;
      }
      if (++failures > 10) return resp.error();
      spdlog::debug("watch {}: {}; reconnecting", kind, resp.error().message);
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2000, 100 * failures)));
      continue;
    }
    if (resp->status == 410) {
      need_list = true;
      rv.clear();
      continue;
    }
    if (resp->status != 200) {
      if (http::RetryPolicy::retryable_status(resp->status) && ++failures <= 10) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200 * failures));
        continue;
      }
      return api_error(*resp, "watch " + kind);
    }
    if (gone) {
      need_list = true;
      rv.clear();
    }
    failures = 0;  // the stream ended normally (server timeout): resume from rv
  }
}

Result<std::vector<json>> Client::events_for(const json& obj) {
  std::string ns = ns_of(obj);
  ListOptions lo;
  lo.namespace_ = ns.empty() ? "default" : ns;
  lo.field_selector = "involvedObject.name=" + name_of(obj) + ",involvedObject.kind=" + obj.value("kind", "");
  auto l = list("v1", "Event", lo);
  if (!l) return l.error();
  std::vector<json> out((*l)["items"].begin(), (*l)["items"].end());
  auto ts = [](const json& e) {
    for (const char* k : {"lastTimestamp", "eventTime", "firstTimestamp"})
      if (e.contains(k) && e[k].is_string()) return e[k].get<std::string>();
    return e["metadata"].value("creationTimestamp", std::string());
  };
  std::stable_sort(out.begin(), out.end(), [&](const json& a, const json& b) { return ts(a) < ts(b); });
  return out;
}

}  // namespace kurator::kube
