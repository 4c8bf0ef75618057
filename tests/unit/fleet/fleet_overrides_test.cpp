// apply_overrides: Karmada plaintext-overrider semantics (RFC 6902 add / replace / remove) and its errors.
#include <kurator/fleet/fleet.hpp>

#include <catch2/catch.hpp>

using kurator::fleet::apply_overrides;
using kurator::fleet::PatchOp;
using json = nlohmann::json;

namespace {
json deployment() {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns",
    "labels":{"app":"web","a/b":"x"}},"spec":{"replicas":1,"template":{"spec":{"containers":[
    {"name":"c0","image":"img:1","args":["--a"]},{"name":"c1","image":"img:2"}]}}}})");
}
}  // namespace

TEST_CASE("apply_overrides: add sets new fields, replaces existing ones, inserts and appends in arrays",
          "[unit][fleet][overrides]") {
  json d = deployment();
  REQUIRE(apply_overrides(d, {{"add", "/metadata/labels/cluster", "m1"},
                              {"add", "/spec/replicas", 3},
                              {"add", "/spec/template/spec/containers/0/args/-", "--b"},
                              {"add", "/spec/template/spec/containers/0/args/0", "--first"},
                              {"add", "/spec/template/spec/nodeSelector", {{"zone", "a"}}}})
              .ok());
  CHECK(d["metadata"]["labels"]["cluster"] == "m1");
  CHECK(d["spec"]["replicas"] == 3);
  CHECK(d["spec"]["template"]["spec"]["containers"][0]["args"] == json({"--first", "--a", "--b"}));
  CHECK(d["spec"]["template"]["spec"]["nodeSelector"]["zone"] == "a");
}

TEST_CASE("apply_overrides: replace and remove need the path to exist, ~1 escapes a slash",
          "[unit][fleet][overrides]") {
  json d = deployment();
  REQUIRE(apply_overrides(d, {{"replace", "/spec/template/spec/containers/1/image", "img:3"},
                              {"replace", "/metadata/labels/a~1b", "y"},
                              {"remove", "/metadata/labels/app", nullptr},
                              {"remove", "/spec/template/spec/containers/0", nullptr}})
              .ok());
  CHECK(d["spec"]["template"]["spec"]["containers"].size() == 1);
  CHECK(d["spec"]["template"]["spec"]["containers"][0]["image"] == "img:3");
  CHECK(d["metadata"]["labels"] == json({{"a/b", "y"}}));
}

TEST_CASE("apply_overrides: errors name the object, the operation and the path", "[unit][fleet][overrides]") {
  struct Case {
    PatchOp op;
    std::string expect;
  };
  std::vector<Case> cases = {
      {{"replace", "/spec/replicaz", 2},
       "override of Deployment/ns/web: replace /spec/replicaz: the path does not exist"},
      {{"remove", "/metadata/annotations/x", nullptr},
       "override of Deployment/ns/web: remove /metadata/annotations/x: /metadata/annotations does not exist"},
      {{"add", "/spec/template/spec/containers/5", json::object()},
       "override of Deployment/ns/web: add /spec/template/spec/containers/5: 5 is not an index of the array "
       "at "
       "/spec/template/spec/containers (size 2)"},
      {{"replace", "/spec/template/spec/containers/x/image", "i"},
       "override of Deployment/ns/web: replace /spec/template/spec/containers/x/image: "
       "/spec/template/spec/containers/x is not an index of the array (size 2)"},
      {{"add", "/spec/replicas/x", 1},
       "override of Deployment/ns/web: add /spec/replicas/x: /spec/replicas is neither an object nor an "
       "array"},
      {{"add", "spec/replicas", 1}, "override of Deployment/ns/web: add spec/replicas: not a JSON pointer"},
      {{"add", "/metadata/labels/bad~2", 1},
       "override of Deployment/ns/web: add /metadata/labels/bad~2: not a JSON pointer"},
      {{"move", "/spec/replicas", 1},
       "override of Deployment/ns/web: move /spec/replicas: unknown operator \"move\""},
  };
  for (const auto& c : cases) {
    json d = deployment();
    json before = d;
    auto st = apply_overrides(d, {c.op});
    INFO(c.op.op << " " << c.op.path);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message == c.expect);
  }
}

TEST_CASE("apply_overrides: a failing operation leaves the earlier ones applied and reports the failing one",
          "[unit][fleet][overrides]") {
  json d = deployment();
  auto st = apply_overrides(d, {{"replace", "/spec/replicas", 5}, {"remove", "/spec/nope", nullptr}});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("remove /spec/nope") != std::string::npos);
  CHECK(d["spec"]["replicas"] == 5);  // callers work on a copy (objects_for), never the workload's objects
}
