#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

using namespace kurator;
using json = nlohmann::json;

TEST_CASE("yaml: multi-document streams split into objects, empty documents skipped", "[yaml]") {
  auto docs = yaml::parse_all("---\na: 1\n---\n---\n# only a comment\n---\nb: [x, y]\n...\n", "in.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  CHECK((*docs)[0] == json{{"a", 1}});
  CHECK((*docs)[1] == json{{"b", {"x", "y"}}});
}

TEST_CASE("yaml: scalars follow the core schema, quoted scalars stay strings", "[yaml]") {
  auto d = yaml::parse_one(R"(
int: 42
neg: -7
float: 1.5
exp: 1e3
t: true
f: False
n: null
tilde: ~
empty:
quoted_int: "42"
quoted_bool: 'true'
version: 1.30.3
eq: =
octal: 0o17
hex: 0x1F
plain: hello world
big: 123456789012345678901234567890
)",
                           "s.yaml");
  REQUIRE(d.ok());
  const json& j = *d;
  CHECK(j["int"] == 42);
  CHECK(j["neg"] == -7);
  CHECK(j["float"] == 1.5);
  CHECK(j["exp"] == 1000.0);
  CHECK(j["t"] == true);
  CHECK(j["f"] == false);
  CHECK(j["n"].is_null());
  CHECK(j["tilde"].is_null());
  CHECK(j["empty"].is_null());
  CHECK(j["quoted_int"] == "42");
  CHECK(j["quoted_bool"] == "true");
  CHECK(j["version"] == "1.30.3");
  CHECK(j["eq"] == "=");  // prometheus-operator's alertmanagerconfigs CRD has a bare '=' enum value
  CHECK(j["octal"] == 15);
  CHECK(j["hex"] == 31);
  CHECK(j["plain"] == "hello world");
  CHECK(j["big"] == "123456789012345678901234567890");
}

TEST_CASE("yaml: syntax errors name the source, line and column", "[yaml]") {
  auto d = yaml::parse_all("a: 1\nb: [1, 2\nc: 3\n", "broken.yaml");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.rfind("broken.yaml: line ", 0) == 0);
  CHECK(d.error().message.find("invalid YAML") != std::string::npos);
  CHECK_FALSE(d.error().hint.empty());
}

TEST_CASE("yaml: dump round-trips types, including strings that look like other types", "[yaml]") {
  json v = {{"s", "true"}, {"n", "42"}, {"e", ""}, {"b", true}, {"i", 3}, {"f", 2.5}, {"z", nullptr},
            {"multi", "line1\nline2\n"}, {"list", {1, "two", json::object()}}, {"m", {{"k", "v"}}}};
  auto back = yaml::parse_one(yaml::dump(v), "dump");
  REQUIRE(back.ok());
  CHECK(*back == v);
}

TEST_CASE("yaml: dump_all separates documents", "[yaml]") {
  std::string out = yaml::dump_all({json{{"a", 1}}, json{{"b", 2}}});
  CHECK(out == "a: 1\n---\nb: 2\n");
}

TEST_CASE("yaml: errors in a later document give the line in the whole stream", "[yaml]") {
  auto line_of = [](const std::string& msg) {
    auto p = msg.find(": line ");
    return std::stoi(msg.substr(p + 7));
  };
  auto single = yaml::parse_all("c: 3\nd: [1\ne: 5\n", "one.yaml");
  auto multi = yaml::parse_all("a: 1\n---\nb: 2\n---\nc: 3\nd: [1\ne: 5\n", "multi.yaml");
  REQUIRE_FALSE(single.ok());
  REQUIRE_FALSE(multi.ok());
  CHECK(line_of(multi.error().message) == line_of(single.error().message) + 4);  // 4 lines precede
}

TEST_CASE("yaml: document markers with content, '...' ends, markers inside text are not split", "[yaml]") {
  auto d = yaml::parse_all("--- {a: 1}\n...\n---\nb: \"---\"\nc: |\n  text\n  ---x\n", "m.yaml");
  REQUIRE(d.ok());
  REQUIRE(d->size() == 2);
  CHECK((*d)[0] == json{{"a", 1}});
  CHECK((*d)[1]["b"] == "---");
  CHECK((*d)[1]["c"] == "text\n---x\n");
}

namespace {
// A stream of `n` documents, each larger than a few KB so that parse_streams uses its threads.
std::string big_stream(const std::string& prefix, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += "---\nname: " + prefix + "-" + std::to_string(i) + "\nitems:\n";
    for (int k = 0; k < 400; ++k) s += "  - {key: k" + std::to_string(k) + ", value: " + std::to_string(k) + "}\n";
  }
  return s;
}
}  // namespace

TEST_CASE("yaml: parse_streams keeps stream and document order on many threads", "[yaml]") {
  std::string a = big_stream("a", 40), b = big_stream("b", 3), empty = "# nothing\n---\n";
  REQUIRE(a.size() + b.size() > 256 * 1024);  // large enough to be parsed concurrently
  auto r = yaml::parse_streams({{"a.yaml", a}, {"empty.yaml", empty}, {"b.yaml", b}}, 4);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  REQUIRE((*r)[0].size() == 40);
  CHECK((*r)[1].empty());
  REQUIRE((*r)[2].size() == 3);
  for (int i = 0; i < 40; ++i) CHECK((*r)[0][i]["name"] == "a-" + std::to_string(i));
  CHECK((*r)[2][2]["name"] == "b-2");
  CHECK((*r)[0][39]["items"][399] == json{{"key", "k399"}, {"value", 399}});
}

TEST_CASE("yaml: parse_streams reports the first broken document in input order", "[yaml]") {
  std::string a = big_stream("a", 30) + "---\nbroken: [1\n", b = "---\nalso: [broken\n" + big_stream("b", 10);
  for (int round = 0; round < 5; ++round) {  // the same answer whatever thread finishes first
    auto r = yaml::parse_streams({{"a.yaml", a}, {"b.yaml", b}}, 4);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("a.yaml: line ", 0) == 0);
  }
}
