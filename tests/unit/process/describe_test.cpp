// Outcome::describe(): the one-line (plus stderr tail) account of how a program ended.
#include <kurator/core/process.hpp>

#include <catch2/catch.hpp>
#include <string>

using namespace std::chrono_literals;
using kurator::process::Outcome;

TEST_CASE("describe: exit code with the stderr tail", "[process][describe]") {
  Outcome o;
  o.exit_code = 2;
  CHECK(o.describe("helm") == "helm exited with code 2");
  o.err = "Error: INSTALLATION FAILED: cannot re-use a name\n\n";
  CHECK(o.describe("helm") == "helm exited with code 2: Error: INSTALLATION FAILED: cannot re-use a name");
}

TEST_CASE("describe: only the last 20 lines of stderr", "[process][describe]") {
  Outcome o;
  o.exit_code = 1;
  for (int i = 1; i <= 25; ++i) o.err += "line " + std::to_string(i) + "\n";
  std::string expected;
  for (int i = 6; i <= 25; ++i) expected += (i > 6 ? "\n" : "") + ("line " + std::to_string(i));
  CHECK(o.describe("kubectl") == "kubectl exited with code 1: " + expected);
}

TEST_CASE("describe: stdout stands in when stderr says nothing (ansible-playbook)", "[process][describe]") {
  Outcome o;
  o.exit_code = 4;
  o.out = "PLAY RECAP\nnode1 : ok=3 failed=1\n";
  o.err = "  \n";
  CHECK(o.describe("ansible-playbook") ==
        "ansible-playbook exited with code 4: PLAY RECAP\nnode1 : ok=3 failed=1");
}

TEST_CASE("describe: success carries no output", "[process][describe]") {
  Outcome o;
  o.exit_code = 0;
  o.err = "warning: something harmless\n";
  CHECK(o.success());
  CHECK(o.describe("helm") == "helm exited with code 0");
}

TEST_CASE("describe: signal, timeout, interruption", "[process][describe]") {
  Outcome killed;
  killed.term_signal = 9;
  CHECK(killed.describe("helm") == "helm was killed by signal 9");

  Outcome timed;
  timed.timed_out = true;
  timed.term_signal = 15;
  timed.timeout = 30s;
  CHECK(timed.describe("helm") == "helm timed out after 30s");
  timed.timeout = 500ms;
  CHECK(timed.describe("helm") == "helm timed out after 500ms");
  timed.timeout = 5min;
  CHECK(timed.describe("helm") == "helm timed out after 5m");
  timed.timeout = 90s;
  CHECK(timed.describe("helm") == "helm timed out after 1m30s");
  timed.timeout = 1500ms;
  CHECK(timed.describe("helm") == "helm timed out after 1.5s");
  timed.err = "waiting for pods\n";
  CHECK(timed.describe("helm") == "helm timed out after 1.5s: waiting for pods");

  Outcome interrupted;
  interrupted.interrupted = true;
  interrupted.term_signal = 15;
  interrupted.err = "partial output\n";
  CHECK(interrupted.describe("helm") == "helm was interrupted");
  CHECK_FALSE(interrupted.success());
}

TEST_CASE("describe: secrets in stderr are redacted", "[process][describe]") {
  Outcome o;
  o.exit_code = 1;
  o.err = "error: Authorization: Bearer abcdef123456 rejected\n";
  std::string text = o.describe("kubectl");
  CHECK_THAT(text, Catch::StartsWith("kubectl exited with code 1: "));
  CHECK_THAT(text, !Catch::Contains("abcdef123456"));
}

TEST_CASE("describe: a very long last line is cut", "[process][describe]") {
  Outcome o;
  o.exit_code = 1;
  o.err = std::string(100000, 'x') + "END\n";
  std::string text = o.describe("helm");
  CHECK(text.size() < 5000);
  CHECK_THAT(text, Catch::EndsWith("xxxEND"));
}
