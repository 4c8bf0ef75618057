// Pure formatting helpers of the waiter (src/core/kube/waiter.cpp): durations, progress lines, events,
// the timeout message.
#include <kurator/core/readiness.hpp>
#include <kurator/core/detail/waiter_format.hpp>
#include <kurator/core/waiter.hpp>

#include <catch2/catch.hpp>
#include <chrono>


using namespace kurator::kube;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("format_duration", "[waiter][format]") {
  CHECK(detail::format_duration(0ms) == "0ms");
  CHECK(detail::format_duration(250ms) == "250ms");
  CHECK(detail::format_duration(1000ms) == "1s");
  CHECK(detail::format_duration(2500ms) == "2.5s");
  CHECK(detail::format_duration(9999ms) == "9.9s");
  CHECK(detail::format_duration(45900ms) == "45s");
  CHECK(detail::format_duration(60s) == "1m");
  CHECK(detail::format_duration(65s) == "1m05s");
  CHECK(detail::format_duration(120s) == "2m");
  CHECK(detail::format_duration(600s) == "10m");
  CHECK(detail::format_duration(3599s) == "59m59s");
  CHECK(detail::format_duration(3600s) == "1h");
  CHECK(detail::format_duration(3660s) == "1h01m");
  CHECK(detail::format_duration(3661s) == "1h01m01s");
  CHECK(detail::format_duration(-5s) == "0ms");
}

TEST_CASE("WaitTarget from an object, and its description", "[waiter]") {
  auto t = WaitTarget::from(json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
                                            "metadata": {"name": "web", "namespace": "default"}})"));
  CHECK(t.api_version == "apps/v1");
  CHECK(t.kind == "Deployment");
  CHECK(t.namespace_ == "default");
  CHECK(t.name == "web");
  CHECK(t.describe() == "Deployment/default/web");

  auto crd = WaitTarget::from(json::parse(R"({"apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"}})"));
  CHECK(crd.namespace_.empty());
  CHECK(crd.describe() == "CustomResourceDefinition/widgets.example.com");
}

TEST_CASE("progress lines are aligned, truncated to the terminal and optionally coloured",
          "[waiter][format]") {
  ReadyState waiting{Readiness::in_progress, "0/1 replicas ready"};
  CHECK(detail::progress_line("Deployment/default/web", 26, waiting, 12s, 0, false) ==
        "Deployment/default/web      waiting  0/1 replicas ready  12s");

  ReadyState ready{Readiness::ready, "Established"};
  CHECK(detail::progress_line("CustomResourceDefinition/widgets.example.com", 26, ready, 1s, 0, false) ==
        "CustomResourceDefinition/…  ready    Established  1s");

  ReadyState failed{Readiness::failed, "Job failed: BackoffLimitExceeded"};
  CHECK(detail::progress_line("Job/default/migrate", 19, failed, 65s, 0, true) ==
        "Job/default/migrate  \x1b[31mfailed \x1b[0m  Job failed: BackoffLimitExceeded  1m05s");

  // 40 columns: the reason is shortened, the elapsed time stays.
  ReadyState long_reason{Readiness::in_progress, "not scheduled: Unschedulable: 0/1 nodes are available"};
  std::string line = detail::progress_line("Pod/default/web-0", 17, long_reason, 3s, 40, false);
  CHECK(line == "Pod/default/web-0  waiting  not sch…  3s");

  // Multi-line messages stay on one line.
  ReadyState multi{Readiness::in_progress, "a\nb"};
  CHECK(detail::progress_line("X/y", 3, multi, 0ms, 0, false) == "X/y  waiting  a b  0ms");
}

TEST_CASE("truncate_display counts characters, not bytes", "[waiter][format]") {
  CHECK(detail::truncate_display("abcdef", 10) == "abcdef");
  CHECK(detail::truncate_display("abcdef", 6) == "abcdef");
  CHECK(detail::truncate_display("abcdef", 4) == "abc…");
  CHECK(detail::truncate_display("äöüßxy", 4) == "äöü…");
  CHECK(detail::truncate_display("abc", 0).empty());
}

TEST_CASE("state words", "[waiter][format]") {
  CHECK(detail::state_word(Readiness::ready) == "ready");
  CHECK(detail::state_word(Readiness::in_progress) == "waiting");
  CHECK(detail::state_word(Readiness::failed) == "failed");
}

TEST_CASE("events are rendered with type, reason, message, count and age", "[waiter][format]") {
  auto now = std::chrono::system_clock::from_time_t(1714641000);  // 2024-05-02T09:10:00Z
  json core = json::parse(R"json({
    "apiVersion": "v1", "kind": "Event",
    "metadata": {"name": "web-7c5ddbdf54-qz8lm.17cb5e0d3a1f2b4c", "namespace": "default",
                 "creationTimestamp": "2024-05-02T09:05:00Z"},
    "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-7c5ddbdf54-qz8lm"},
    "reason": "BackOff", "message": "Back-off pulling image \"nginx:1.277\"",
    "source": {"component": "kubelet", "host": "kind-control-plane"},
    "firstTimestamp": "2024-05-02T09:05:00Z", "lastTimestamp": "2024-05-02T09:09:30Z",
    "count": 5, "type": "Normal", "eventTime": null, "reportingComponent": "kubelet", "reportingInstance": "kind-control-plane"
  })json");
  CHECK(detail::format_event(core, now) ==
        "Normal  BackOff  Back-off pulling image \"nginx:1.277\" (x5, 30s ago)");

  json scheduler = json::parse(R"json({
    "apiVersion": "v1", "kind": "Event",
    "metadata": {"name": "web-0.17cb5e0d3a1f2b4d", "namespace": "default", "creationTimestamp": "2024-05-02T09:08:55Z"},
    "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-0"},
    "reason": "FailedScheduling",
    "message": "0/1 nodes are available: 1 Insufficient memory.",
    "source": {}, "firstTimestamp": null, "lastTimestamp": null, "type": "Warning",
    "eventTime": "2024-05-02T09:08:55.123456Z", "action": "Scheduling",
    "reportingComponent": "default-scheduler", "reportingInstance": "default-scheduler-kind-control-plane"
  })json");
  CHECK(detail::format_event(scheduler, now) ==
        "Warning  FailedScheduling  0/1 nodes are available: 1 Insufficient memory. (1m05s ago)");

  json events_v1 = json::parse(R"json({
    "apiVersion": "events.k8s.io/v1", "kind": "Event",
    "metadata": {"name": "migrate.17cb5e0d3a1f2b4e", "namespace": "default"},
    "regarding": {"kind": "Job", "namespace": "default", "name": "migrate"},
    "reason": "BackoffLimitExceeded", "note": "Job has reached the specified backoff limit", "type": "Warning",
    "eventTime": null, "deprecatedLastTimestamp": "2024-05-02T11:09:00+02:00", "deprecatedCount": 1
  })json");
  CHECK(detail::format_event(events_v1, now) ==
        "Warning  BackoffLimitExceeded  Job has reached the specified backoff limit (1m ago)");
}

TEST_CASE("timeout message lists every unready object with its reason", "[waiter][format]") {
  CHECK(detail::timeout_message(
            120s, {{"Deployment/default/web", {Readiness::in_progress, "0/1 replicas ready"}}}) ==
        "timed out after 2m waiting for Deployment/default/web: 0/1 replicas ready");
  CHECK(detail::timeout_message(90s,
                                {{"Deployment/default/web", {Readiness::in_progress, "0/1 replicas ready"}},
                                 {"StatefulSet/data/db", {Readiness::in_progress, "not found yet"}}}) ==
        "timed out after 1m30s waiting for Deployment/default/web: 0/1 replicas ready; StatefulSet/data/db: "
        "not "
        "found yet");
}
