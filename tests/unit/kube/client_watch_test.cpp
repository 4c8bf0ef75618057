// kube::Client::watch against a stand-in apiserver: list first, 410 Gone on the watch forces a re-list,
// then the watch resumes from the new resourceVersion.
#include <kurator/core/kube.hpp>

#include <catch2/catch.hpp>

#include "support/py_server.hpp"

using namespace kurator;

TEST_CASE("watch: lists, re-lists after 410 Gone, resumes from the new resourceVersion", "[watch]") {
  test::PyServer srv(std::filesystem::path(KURATOR_SOURCE_DIR) / "tests/data/http/watch_double.py");
  kubeconfig::RestConfig cfg;
  cfg.server = srv.url();
  http::Client http;
  kube::Client c(cfg, &http);
  std::vector<std::string> seen;
  kube::WatchOptions wo;
  wo.namespace_ = "default";
  wo.timeout = std::chrono::seconds(20);
  auto st = c.watch("v1", "ConfigMap", wo, [&](const kube::WatchEvent& ev) {
    seen.push_back(ev.type + " " + ev.object["metadata"].value("resourceVersion", ""));
    return ev.type != "MODIFIED";
  });
  REQUIRE(st.ok());
  CHECK(seen == std::vector<std::string>{"ADDED 1", "ADDED 5", "MODIFIED 6"});

  http::Request req;
  req.url = srv.url() + "/calls";
  auto calls = http.perform(req);
  REQUIRE(calls.ok());
  const std::string& log = calls->body;
  // list, watch from 1 (410), list again, watch from 5
  auto watch1 = log.find("watch=1&allowWatchBookmarks=true&timeoutSeconds=");
  REQUIRE(watch1 != std::string::npos);
  CHECK(log.find("resourceVersion=1", watch1) != std::string::npos);
  CHECK(log.find("resourceVersion=5") != std::string::npos);
  CHECK(std::count(log.begin(), log.end(), '\n') == 4);  // 5 calls: discovery, list, watch, list, watch
}

TEST_CASE("watch: an unknown kind is a clear error with a hint", "[watch]") {
  test::PyServer srv(std::filesystem::path(KURATOR_SOURCE_DIR) / "tests/data/http/watch_double.py");
  kubeconfig::RestConfig cfg;
  cfg.server = srv.url();
  kube::Client c(cfg);
  auto st = c.watch("v1", "Widget", kube::WatchOptions{}, [](const kube::WatchEvent&) { return true; });
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message == "no kind \"Widget\" is registered for apiVersion \"v1\" on this cluster");
  CHECK_FALSE(st.error().hint.empty());
}
