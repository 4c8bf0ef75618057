// clusterctl's variable processor (simple_processor.go over drone/envsubst): every form with set, empty
// and unset values, the escapes, clusterctl's variable inspection and its errors, and the real CAPI/CAPA
// release files.
#include <kurator/util/envsubst.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/test_env.hpp"

using namespace kurator;
using json = nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

using Vars = std::map<std::string, std::string>;

envsubst::Lookup lookup_of(const Vars& vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// The expansion, or "ERROR: <message>".
std::string expand(std::string_view text, const Vars& vars = {}) {
  auto r = envsubst::substitute(text, "t.yaml", lookup_of(vars));
  return r.ok() ? *r : "ERROR: " + r.error().message;
}

// "NAME" for a required variable, "NAME=" for one with a default; or "ERROR: <message>".
std::vector<std::string> listed(std::string_view text) {
  auto r = envsubst::variables(text, "t.yaml");
  if (!r.ok()) return {"ERROR: " + r.error().message};
  std::vector<std::string> out;
  for (const auto& v : *r) out.push_back(v.name + (v.has_default ? "=" : ""));
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

stdfs::path fixture(const std::string& relative) {
  auto root = test::fixtures_dir();
  if (root.empty() || !stdfs::exists(root / relative)) return {};
  return root / relative;
}

const json* find_object(const std::vector<json>& objs, const std::string& kind, const std::string& name) {
  for (const auto& o : objs) {
    if (o.value("kind", "") == kind && o["metadata"].value("name", "") == name) return &o;
  }
  return nullptr;
}

constexpr const char* kCapa = "cluster-api-provider-aws-v2.11.1/release/infrastructure-components.yaml";
constexpr const char* kCapiCore = "cluster-api-v1.14.0/release/core-components.yaml";

}  // namespace

TEST_CASE("envsubst: only ${...} expands, $VAR, $(VAR), a lone $ and other braces stay",
          "[util][envsubst]") {
  const Vars x{{"X", "1"}};
  CHECK(expand("a: $X\nb: $(POD_NAMESPACE)\nc: ${X}\n", x) == "a: $X\nb: $(POD_NAMESPACE)\nc: 1\n");
  CHECK(expand("$ {X} {X} x$ $", x) == "$ {X} {X} x$ $");
  CHECK(expand("\\${X}", x) == "\\1");  // a backslash is no escape outside ${}
  CHECK(expand("") == "");
  CHECK(listed("$X $(Y) $$Z $").empty());
}

TEST_CASE("envsubst: $$ is a literal $ outside expressions", "[util][envsubst]") {
  const Vars x{{"X", "1"}};
  CHECK(expand("cost: $$5", x) == "cost: $5");
  CHECK(expand("$${X}", x) == "${X}");
  CHECK(expand("$$(X)", x) == "$(X)");
  CHECK(expand("$$${X}", x) == "$1");
  CHECK(expand("$$$", x) == "$$");
  CHECK(expand("$$$$", x) == "$$");
  CHECK(listed("$${X}").empty());
}

TEST_CASE("envsubst: ${V} and the default forms with set, empty and unset values", "[util][envsubst]") {
  CHECK(expand("${V}", {{"V", "v"}}) == "v");
  CHECK(expand("[${V}]", {{"V", ""}}) == "[]");
  // drone gives the default whenever the value is empty, also for `=`, `:?` and `:+`.
  for (std::string op : {":=", ":-", "=", ":?", ":+"}) {
    INFO(op);
    const std::string text = "${V" + op + "d}";
    CHECK(expand(text, {{"V", "v"}}) == "v");
    CHECK(expand(text, {{"V", ""}}) == "d");
    CHECK(expand(text) == "d");
  }
  // An empty default is none: clusterctl requires the variable.
  CHECK(expand("${V:=}", {{"V", ""}}) == "");
  CHECK(expand("${V:=}") == "ERROR: t.yaml: value for variables [V] is not set");
  CHECK(expand("${V:=a:b/c#d%e}}") == "a:b/c#d%e}");
}

TEST_CASE("envsubst: defaults hold expressions and are taken verbatim", "[util][envsubst]") {
  CHECK(expand("${A:=x${B}y}", {{"B", "1"}}) == "x1y");
  CHECK(expand("${A:=x${B}y}", {{"A", "a"}, {"B", "1"}}) == "a");
  CHECK(expand("${A:=x${B}y}") == "xy");  // B, inside A's default, is not required
  CHECK(expand("${A:=${B:=${C:=deep}}}") == "deep");
  CHECK(expand("${A:=${B^^}}", {{"B", "up"}}) == "UP");
  CHECK(expand("${A:=$$}") == "$$");  // no escapes in a default
  CHECK(expand("${A:=$(X)}") == "$(X)");
  CHECK(expand("${A:=$${B}}", {{"B", "1"}}) == "$1");
  CHECK(listed("${A:=${B}}") == std::vector<std::string>{"A="});
}

TEST_CASE("envsubst: length and case changes", "[util][envsubst]") {
  CHECK(expand("${#V}", {{"V", "hello"}}) == "5");
  CHECK(expand("${#V}", {{"V", "h\xC3\xA9llo"}}) == "6");  // bytes
  CHECK(expand("${#V}", {{"V", ""}}) == "0");
  CHECK(starts_with(expand("${#V}"), "ERROR: t.yaml: value for variables [V] is not set"));
  const Vars v{{"V", "heLLo world"}};
  CHECK(expand("${V^}|${V^^}|${V,}|${V,,}", v) == "HeLLo world|HELLO WORLD|heLLo world|hello world");
  CHECK(expand("${V,}", {{"V", "ABC"}}) == "aBC");
  CHECK(expand("${V^,}|${V,^}", {{"V", "aB"}}) == "aB|aB");  // mixed: no change
  // Unicode simple case mapping, as Go's: no ß -> SS.
  CHECK(expand("${V^}|${V^^}", {{"V", "\xC3\xA9lan"}}) == "\xC3\x89lan|\xC3\x89LAN");
  CHECK(expand("${V^^}", {{"V", "\xC3\x9F"}}) == "\xC3\x9F");
  CHECK(expand("${V,,}", {{"V", "\xCE\xA3\xCE\x91"}}) == "\xCF\x83\xCE\xB1");
  CHECK(expand("${V^}", {{"V", "\xFF"}}) == "\xEF\xBF\xBD");  // invalid UTF-8 becomes U+FFFD, as in Go
  CHECK(expand("[${V^}${V^^}${V,}${V,,}]", {{"V", ""}}) == "[]");
}

TEST_CASE("envsubst: substrings take byte offsets and lengths", "[util][envsubst]") {
  const Vars v{{"V", "abcdef"}, {"N", "-2"}};
  CHECK(expand("${V:2}", v) == "cdef");
  CHECK(expand("${V:2:3}", v) == "cde");
  CHECK(expand("${V:0:0}", v) == "");
  CHECK(expand("${V:4:100}", v) == "ef");
  CHECK(expand("${V:10}", v) == "");
  CHECK(expand("${V:${N}}", v) == "ef");  // a negative offset counts from the end
  CHECK(expand("${V:-2}", v) == "abcdef");  // that is the `:-` default
  CHECK(expand("${V: -2}|${V:x}|${V:1:y}", v) == "abcdef|abcdef|abcdef");  // not integers: the whole value
  CHECK(expand("${V:1::2}", v) == "bc");  // any run of ':' separates
  CHECK(expand("[${V:1:2}]") == "[]");
  CHECK(expand("[${V:1:2}]", {{"V", ""}}) == "[]");
  // An end before the offset makes Go panic: clusterctl crashes, kurator refuses.
  auto r = envsubst::substitute("a\n${V:1:-1}\n", "t.yaml", lookup_of(v));
  REQUIRE_FALSE(r.ok());
  CHECK(starts_with(r.error().message, "t.yaml: line 2: "));
}

TEST_CASE("envsubst: # and % remove glob prefixes and suffixes", "[util][envsubst]") {
  const Vars v{{"V", "a/b/c.tar.gz"}};
  CHECK(expand("${V#*/}", v) == "b/c.tar.gz");
  CHECK(expand("${V##*/}", v) == "c.tar.gz");
  CHECK(expand("${V%.*}", v) == "a/b/c.tar");
  CHECK(expand("${V%%.*}", v) == "a/b/c");
  CHECK(expand("${V%%/*}", v) == "a");
  CHECK(expand("${V#a}", v) == "/b/c.tar.gz");
  CHECK(expand("${V#[ab]?}", v) == "b/c.tar.gz");
  CHECK(expand("${V#?}", v) == "/b/c.tar.gz");
  CHECK(expand("${V#x}|${V%x}", v) == "a/b/c.tar.gz|a/b/c.tar.gz");
  CHECK(expand("${V#[}", v) == "a/b/c.tar.gz");  // a bad pattern leaves the value
  CHECK(expand("[${V#a}${V##a}${V%a}${V%%a}]") == "[]");
  CHECK(expand("[${V#a}]", {{"V", ""}}) == "[]");
}

TEST_CASE("envsubst: / replaces literal text", "[util][envsubst]") {
  const Vars v{{"V", "a.b.a"}};
  CHECK(expand("${V/a/x}", v) == "x.b.a");
  CHECK(expand("${V//a/x}", v) == "x.b.x");
  CHECK(expand("${V/#a/x}", v) == "x.b.a");
  CHECK(expand("${V/%a/x}", v) == "a.b.x");
  CHECK(expand("${V/#b/x}|${V/%b/x}", v) == "a.b.a|a.b.a");
  CHECK(expand("${V/a/}|${V//a/}", v) == ".b.a|.b.");
  CHECK(expand("${V/*/x}", v) == "a.b.a");          // not a glob
  CHECK(expand("${V/./\\/}", v) == "a/b.a");        // `\/` escapes a slash
  CHECK(expand("${V/./$$}", v) == "a$b.a");         // `$$` is an escape here
  CHECK(expand("${V//a/${W}}", {{"V", "a.b.a"}, {"W", "z"}}) == "z.b.z");
  CHECK(expand("[${V/a/x}${V//a/x}${V/#a/x}${V/%a/x}]") == "[]");
  CHECK(expand("[${V/a/x}]", {{"V", ""}}) == "[]");
}

TEST_CASE("envsubst: CAPA's role annotation expression, a prefix replacement holding '/' and ': '",
          "[util][envsubst]") {
  const std::string text =
      "annotations:\n  ${AWS_CONTROLLER_IAM_ROLE/#arn/eks.amazonaws.com/role-arn: arn}\n";
  CHECK(expand(text) == "annotations:\n  \n");
  CHECK(expand(text, {{"AWS_CONTROLLER_IAM_ROLE", "arn:aws:iam::123:role/x"}}) ==
        "annotations:\n  eks.amazonaws.com/role-arn: arn:aws:iam::123:role/x\n");
  CHECK(expand(text, {{"AWS_CONTROLLER_IAM_ROLE", "other"}}) == "annotations:\n  other\n");
  // clusterctl counts any argument as a default: this variable is optional.
  CHECK(listed(text) == std::vector<std::string>{"AWS_CONTROLLER_IAM_ROLE="});
}

TEST_CASE("envsubst: forms drone does not support are errors, as in clusterctl", "[util][envsubst]") {
  const std::map<std::string, std::string> errors{
      {"${V-d}", "missing closing brace"},
      {"${V+d}", "missing closing brace"},
      {"${V?d}", "missing closing brace"},
      {"${V d}", "missing closing brace"},
      {"${}", "unable to parse variable name"},
      {"${-}", "unable to parse variable name"},
      {"${V:}", "unable to parse substitution within function"},
      {"${V#}", "unable to parse substitution within function"},
      {"${V^^^}", "bad substitution"},
      {"${V/a}", "bad substitution"},  // the pattern runs past '}' looking for its '/'
  };
  for (const auto& [text, why] : errors) {
    INFO(text);
    const std::string got = expand(text, {{"V", "v"}});
    CHECK(starts_with(got, "ERROR: t.yaml: line 1: "));
    CHECK(contains(got, why));
    CHECK(starts_with(listed(text)[0], "ERROR: t.yaml: line 1: "));
  }
}

TEST_CASE("envsubst: whitespace inside ${ } goes first, as clusterctl's convertLegacyVars does",
          "[util][envsubst]") {
  const Vars v{{"V", "1"}};
  CHECK(expand("${ V }|${V }|${ V}|${\n  V\n}|${\tV\t}", v) == "1|1|1|1|1");
  CHECK(contains(expand("${ V:=x }", v), "unable to parse variable name"));  // only plain names
  CHECK(listed("${ A } ${B }") == std::vector<std::string>{"A", "B"});
}

TEST_CASE("envsubst: variables are listed once in order, the first occurrence deciding the default",
          "[util][envsubst]") {
  CHECK(listed("${B} ${A:=x} ${B:=y} ${A} ${C:=} ${D:1} ${E#p} ${#F} ${G^^} ${H:=${I}} ${J/a/}") ==
        std::vector<std::string>{"B", "A=", "C", "D=", "E=", "F", "G", "H=", "J="});
  CHECK(listed("plain text").empty());
}

TEST_CASE("envsubst: every variable without a default must be set, one error names them all",
          "[util][envsubst]") {
  const std::string text = "${ZETA}\n${ALPHA}\n${MID:=x}\n${ZETA}\n${C:=}\n";
  auto r = envsubst::substitute(text, "t.yaml", lookup_of({}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "t.yaml: value for variables [ALPHA, C, ZETA] is not set");  // sorted
  CHECK_FALSE(r.error().hint.empty());
  CHECK(expand(text, {{"ALPHA", ""}, {"ZETA", "z"}}) ==
        "ERROR: t.yaml: value for variables [C] is not set");
  // Set to "" counts as set.
  CHECK(expand(text, {{"ALPHA", ""}, {"ZETA", "z"}, {"C", ""}}) == "z\n\nx\nz\n\n");
  // A default at the first occurrence makes it optional; a later one does not.
  CHECK(expand("${A:=d} ${A}") == "d ");
  CHECK(expand("${A} ${A:=d}") == "ERROR: t.yaml: value for variables [A] is not set");
}

TEST_CASE("envsubst: a malformed expression names the source and line", "[util][envsubst]") {
  auto r = envsubst::substitute("a: 1\nb: ${FOO\nc: 2\n", "src.yaml", lookup_of({{"FOO", "x"}}));
  REQUIRE_FALSE(r.ok());
  CHECK(starts_with(r.error().message, "src.yaml: line 2: "));
  CHECK(contains(r.error().message, "${FOO"));
  CHECK(contains(r.error().message, "missing closing brace"));

  auto v = envsubst::variables("a: 1\n\nb: ${FOO:=bar", "src.yaml");
  REQUIRE_FALSE(v.ok());
  CHECK(starts_with(v.error().message, "src.yaml: line 3: "));
  CHECK(contains(v.error().message, "unable to parse substitution within function"));

  // Lines are those of the original text, also after `${\n X\n}` was joined.
  CHECK(starts_with(expand("a: ${\n  X\n}\nb: ${Y\n", {{"X", "1"}}), "ERROR: t.yaml: line 4: "));
}

TEST_CASE("envsubst: a NUL byte ends the text, as drone's scanner reads it as the end", "[util][envsubst]") {
  CHECK(expand(std::string_view("a${X}\0b${Y}", 11), {{"X", "1"}}) == "a1");
  CHECK(listed(std::string_view("${X}\0${Y}", 9)) == std::vector<std::string>{"X"});
}

TEST_CASE("envsubst: CAPA infrastructure-components: only AWS_B64ENCODED_CREDENTIALS is required",
          "[util][envsubst]") {
  auto file = fixture(kCapa);
  if (file.empty()) {
    test::skip(std::string("upstream fixture ") + kCapa + " not found");
    return;
  }
  auto text = fs::read_file(file);
  REQUIRE(text.ok());
  auto vars = envsubst::variables(*text, file.string());
  REQUIRE(vars.ok());
  std::vector<std::string> names;
  std::vector<std::string> required;
  for (const auto& v : *vars) {
    names.push_back(v.name);
    if (!v.has_default) required.push_back(v.name);
  }
  CHECK(required == std::vector<std::string>{"AWS_B64ENCODED_CREDENTIALS"});
  CHECK(names == std::vector<std::string>{"AWS_CONTROLLER_IAM_ROLE",
                                          "AWS_B64ENCODED_CREDENTIALS",
                                          "K8S_CP_LABEL",
                                          "CAPA_EKS",
                                          "CAPA_EKS_IAM",
                                          "CAPA_EKS_ADD_ROLES",
                                          "EXP_EKS_FARGATE",
                                          "EXP_MACHINE_POOL",
                                          "EXP_MACHINE_POOL_MACHINES",
                                          "EVENT_BRIDGE_INSTANCE_STATE",
                                          "AUTO_CONTROLLER_IDENTITY_CREATOR",
                                          "EXP_BOOTSTRAP_FORMAT_IGNITION",
                                          "EXTERNAL_RESOURCE_GC",
                                          "ALTERNATIVE_GC_STRATEGY",
                                          "TAG_UNMANAGED_NETWORK_RESOURCES",
                                          "EXP_ROSA",
                                          "CAPA_LOGLEVEL",
                                          "CAPA_DIAGNOSTICS_ADDRESS",
                                          "CAPA_INSECURE_DIAGNOSTICS"});
}

TEST_CASE("envsubst: CAPI core-components: every variable has a default", "[util][envsubst]") {
  auto file = fixture(kCapiCore);
  if (file.empty()) {
    test::skip(std::string("upstream fixture ") + kCapiCore + " not found");
    return;
  }
  auto text = fs::read_file(file);
  REQUIRE(text.ok());
  auto vars = envsubst::variables(*text, file.string());
  REQUIRE(vars.ok());
  std::vector<std::string> names;
  for (const auto& v : *vars) {
    CHECK(v.has_default);
    names.push_back(v.name);
  }
  CHECK(names == std::vector<std::string>{"CAPI_DIAGNOSTICS_ADDRESS",
                                          "CAPI_INSECURE_DIAGNOSTICS",
                                          "EXP_MACHINE_POOL",
                                          "CLUSTER_TOPOLOGY",
                                          "EXP_RUNTIME_SDK",
                                          "EXP_MACHINE_SET_PREFLIGHT_CHECKS",
                                          "EXP_MACHINE_WAITFORVOLUMEDETACH_CONSIDER_VOLUMEATTACHMENTS",
                                          "EXP_PRIORITY_QUEUE",
                                          "EXP_RECONCILER_RATE_LIMITING",
                                          "EXP_IN_PLACE_UPDATES",
                                          "EXP_MACHINE_TAINT_PROPAGATION"});
  auto out = envsubst::substitute(*text, file.string(), lookup_of({}));
  REQUIRE(out.ok());
  CHECK_FALSE(contains(*out, "${"));
  CHECK(contains(*out, "--feature-gates=MachinePool=true,"));
}

TEST_CASE("envsubst: CAPA infrastructure-components substitutes into valid YAML", "[util][envsubst]") {
  auto file = fixture(kCapa);
  if (file.empty()) {
    test::skip(std::string("upstream fixture ") + kCapa + " not found");
    return;
  }
  auto text = fs::read_file(file);
  REQUIRE(text.ok());

  auto missing = envsubst::substitute(*text, "capa.yaml", lookup_of({}));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "capa.yaml: value for variables [AWS_B64ENCODED_CREDENTIALS] is not set");

  SECTION("without a controller role") {
    auto out =
        envsubst::substitute(*text, "capa.yaml", lookup_of({{"AWS_B64ENCODED_CREDENTIALS", "Zm9v"}}));
    REQUIRE(out.ok());
    CHECK_FALSE(contains(*out, "${"));
    // clusterctl halves `$$` everywhere, CRD descriptions included.
    CHECK_FALSE(contains(*out, "$$"));
    CHECK(contains(*out, "\"$(VAR_NAME)\" will produce the string literal"));
    auto objs = yaml::parse_all(*out, "capa.yaml");
    REQUIRE(objs.ok());
    const json* sa = find_object(*objs, "ServiceAccount", "capa-controller-manager");
    REQUIRE(sa != nullptr);
    CHECK((*sa)["metadata"].value("annotations", json()).is_null());
    const json* secret = find_object(*objs, "Secret", "capa-manager-bootstrap-credentials");
    REQUIRE(secret != nullptr);
    CHECK((*secret)["data"]["credentials"] == "Zm9v");
    const json* deploy = find_object(*objs, "Deployment", "capa-controller-manager");
    REQUIRE(deploy != nullptr);
    const json& annotations = deploy->at("spec").at("template").at("metadata").at("annotations");
    CHECK(annotations.at("iam.amazonaws.com/role") == "");
  }
  SECTION("with a controller role") {
    const std::string role = "arn:aws:iam::123:role/x";
    auto out = envsubst::substitute(
        *text, "capa.yaml",
        lookup_of({{"AWS_B64ENCODED_CREDENTIALS", "Zm9v"}, {"AWS_CONTROLLER_IAM_ROLE", role}}));
    REQUIRE(out.ok());
    auto objs = yaml::parse_all(*out, "capa.yaml");
    REQUIRE(objs.ok());
    const json* sa = find_object(*objs, "ServiceAccount", "capa-controller-manager");
    REQUIRE(sa != nullptr);
    CHECK((*sa)["metadata"]["annotations"] == json{{"eks.amazonaws.com/role-arn", role}});
    const json* deploy = find_object(*objs, "Deployment", "capa-controller-manager");
    REQUIRE(deploy != nullptr);
    const json& annotations = deploy->at("spec").at("template").at("metadata").at("annotations");
    CHECK(annotations.at("iam.amazonaws.com/role") == role);
  }
}
