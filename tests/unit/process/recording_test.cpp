// RecordingRunner and the replaceable default runner.
#include <kurator/core/process.hpp>

#include <catch2/catch.hpp>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

using kurator::process::Outcome;
using kurator::process::RecordingRunner;
using kurator::process::Runner;
using kurator::process::Spec;

TEST_CASE("RecordingRunner without a responder: exit 0, empty output, calls recorded",
          "[process][recording]") {
  RecordingRunner runner;
  Spec a;
  a.argv = {"helm", "version", "--short"};
  a.env["KUBECONFIG"] = "/tmp/kc";
  a.cwd = "/tmp";
  Spec b;
  b.argv = {"kubectl", "get", "nodes"};
  b.stdin_data = "apiVersion: v1\n";

  auto ra = runner.run(a);
  auto rb = runner.run(b);
  REQUIRE(ra.ok());
  REQUIRE(rb.ok());
  CHECK(ra->success());
  CHECK(ra->exit_code == 0);
  CHECK(ra->out.empty());
  CHECK(ra->err.empty());

  REQUIRE(runner.calls().size() == 2);
  CHECK(runner.calls()[0].argv == std::vector<std::string>{"helm", "version", "--short"});
  CHECK(runner.calls()[0].env.at("KUBECONFIG") == "/tmp/kc");
  CHECK(runner.calls()[0].cwd == "/tmp");
  CHECK(runner.calls()[1].argv[0] == "kubectl");
  CHECK(runner.calls()[1].stdin_data == std::optional<std::string>("apiVersion: v1\n"));
}

TEST_CASE("RecordingRunner answers through the responder and feeds on_line", "[process][recording]") {
  RecordingRunner runner([](const Spec& spec) {
    Outcome o;
    if (spec.argv.size() > 1 && spec.argv[1] == "status") {
      o.exit_code = 1;
      o.err = "Error: release: not found\n";
    } else {
      o.exit_code = 0;
      o.out = "line one\nline two";
    }
    return o;
  });

  Spec status;
  status.argv = {"helm", "status", "cilium"};
  auto s = runner.run(status);
  REQUIRE(s.ok());
  CHECK(s->exit_code == 1);
  CHECK(s->describe("helm") == "helm exited with code 1: Error: release: not found");

  Spec list;
  list.argv = {"helm", "list"};
  std::vector<std::pair<std::string, bool>> lines;
  list.on_line = [&](std::string_view line, bool is_stderr) { lines.emplace_back(line, is_stderr); };
  auto l = runner.run(list);
  REQUIRE(l.ok());
  CHECK(l->out == "line one\nline two");
  CHECK(lines == std::vector<std::pair<std::string, bool>>{{"line one", false}, {"line two", false}});

  REQUIRE(runner.calls().size() == 2);
  CHECK(runner.calls()[0].argv[1] == "status");
  CHECK(runner.calls()[1].argv[1] == "list");
}

TEST_CASE("default_runner is a SystemRunner unless replaced", "[process][recording]") {
  Runner& original = kurator::process::default_runner();
  CHECK(dynamic_cast<kurator::process::SystemRunner*>(&original) != nullptr);

  RecordingRunner recording;
  kurator::process::set_default_runner(&recording);
  CHECK(&kurator::process::default_runner() == &recording);
  Spec spec;
  spec.argv = {"helm", "repo", "list"};
  auto r = kurator::process::default_runner().run(spec);
  REQUIRE(r.ok());
  CHECK(recording.calls().size() == 1);

  kurator::process::set_default_runner(nullptr);
  CHECK(&kurator::process::default_runner() == &original);
}

TEST_CASE("RecordingRunner records calls made from several threads", "[process][recording]") {
  std::atomic<int> answered{0};
  RecordingRunner runner([&](const Spec&) {
    ++answered;
    Outcome o;
    o.exit_code = 3;
    return o;
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&runner, t] {
      for (int i = 0; i < 200; ++i) {
        Spec spec;
        spec.argv = {"kubectl", std::to_string(t), std::to_string(i)};
        auto r = runner.run(spec);
        if (!r.ok() || r->exit_code != 3) std::abort();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(answered == 800);
  REQUIRE(runner.calls().size() == 800);
  size_t from_thread_2 = 0;
  for (const auto& call : runner.calls()) from_thread_2 += call.argv[1] == "2";
  CHECK(from_thread_2 == 200);
}
