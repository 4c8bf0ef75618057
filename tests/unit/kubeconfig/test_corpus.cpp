// The corpus of broken kubeconfigs in tests/data/kubeconfig/broken: each must fail with its exact error line.
#include <kurator/core/kubeconfig.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "support/test_env.hpp"

namespace kc = kurator::kubeconfig;
namespace stdfs = std::filesystem;

namespace {

struct Case {
  std::string name;
  std::string text;
  std::string expect;   // after "kubeconfig <file>: ", with {dir} for the folder
  std::string hint;     // substring of the hint
  std::string context;  // --context
};

void write(const stdfs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  REQUIRE(out.good());
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

std::vector<Case> load_corpus() {
  stdfs::path dir = stdfs::path(KURATOR_SOURCE_DIR) / "tests/data/kubeconfig/broken";
  std::vector<Case> cases;
  for (const auto& entry : stdfs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    Case c;
    c.name = entry.path().stem().string();
    auto text = kurator::fs::read_file(entry.path());
    REQUIRE(text.ok());
    c.text = *text;
    std::istringstream in(c.text);
    for (std::string line; std::getline(in, line) && line.rfind("# ", 0) == 0;) {
      auto take = [&](const char* key, std::string& out) {
        std::string prefix = std::string("# ") + key + ": ";
        if (line.rfind(prefix, 0) == 0) out = line.substr(prefix.size());
      };
      take("expect", c.expect);
      take("hint", c.hint);
      take("context", c.context);
    }
    INFO(c.name);
    REQUIRE_FALSE(c.expect.empty());
    cases.push_back(std::move(c));
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

}  // namespace

TEST_CASE("broken kubeconfigs fail with one exact line naming the file and the field",
          "[kubeconfig][corpus]") {
  auto cases = load_corpus();
  REQUIRE(cases.size() >= 40);
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      kurator::test::TempDir tmp;
      stdfs::path file = tmp.path() / "config";
      write(file, c.text);
      kc::LoadOptions opts;
      opts.explicit_path = file.string();
      opts.context = c.context;
      opts.kubeconfig_env = "";
      opts.home = tmp.path();
      auto r = kc::load(opts);
      REQUIRE_FALSE(r.ok());
      const auto& e = r.error();
      CHECK(e.message ==
            "kubeconfig " + file.string() + ": " + replace_all(c.expect, "{dir}", tmp.path().string()));
      CHECK(e.message.find('\n') == std::string::npos);
      CHECK(e.exit == kurator::ExitCode::failure);
      if (!c.hint.empty()) {
        INFO("hint: " << e.hint);
        CHECK(e.hint.find(c.hint) != std::string::npos);
      }
    }
  }
}

TEST_CASE("structural errors also fail load_merged, context errors do not", "[kubeconfig][corpus]") {
  auto cases = load_corpus();
  kurator::test::TempDir tmp;
  stdfs::path file = tmp.path() / "config";
  int structural = 0;
  for (const auto& c : cases) {
    write(file, c.text);
    kc::LoadOptions opts;
    opts.explicit_path = file.string();
    auto r = kc::load_merged(opts);
    // Problems with one file's contents (indexed "clusters[0]", YAML, types) are found for every entry, as
    // kubectl does when it decodes; problems of the selected context ("cluster \"c1\": ...") only by load().
    bool file_level = true;
    for (const char* prefix :
         {"context \"", "current-context \"", "no current-context", "cluster \"", "user \""}) {
      if (c.expect.rfind(prefix, 0) == 0) file_level = false;
    }
    INFO(c.name);
    CHECK(r.ok() != file_level);
    if (file_level) {
      ++structural;
      CHECK(r.error().message == "kubeconfig " + file.string() + ": " + c.expect);
    }
  }
  CHECK(structural >= 25);
}
