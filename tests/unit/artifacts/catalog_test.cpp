// The pinned catalog: builtin content, versions.env in step, fixture digests, overlays and their errors,
// mirror rewriting and the user config.
#include <kurator/core/artifacts.hpp>
#include <kurator/util/fs.hpp>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "support/mirror.hpp"
#include "support/test_env.hpp"

namespace art = kurator::artifacts;
namespace stdfs = std::filesystem;
using kurator::test::TempDir;

namespace {
const art::Platform kLinuxAmd64{"linux", "amd64"};

std::map<std::string, std::string> read_versions_env() {
  std::map<std::string, std::string> out;
  std::ifstream in(stdfs::path(KURATOR_SOURCE_DIR) / "scripts" / "versions.env");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

void write(const stdfs::path& p, const std::string& text) {
  stdfs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// {relative path: sha256} of the files under a folder (links followed).
std::map<std::string, std::string> tree(const stdfs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e :
       stdfs::recursive_directory_iterator(dir, stdfs::directory_options::follow_directory_symlink))
    if (e.is_regular_file())
      out[stdfs::relative(e.path(), dir).string()] = kurator::test::sha256_of_file(e.path());
  return out;
}

// Checks every `kind: files` member of the catalog against a fixture tree; returns how many were checked.
// A link member matches the link itself, a file holding the link text (a checkout without symlinks), or
// a folder whose contents equal the link target's (a copy that dereferenced the link): what upstream
// says is the link; the fixture is only a copy of it.
int check_fixture_digests(const art::Catalog& c, const stdfs::path& fixtures) {
  int checked = 0;
  for (const auto& a : c.artifacts()) {
    if (a.kind != art::Kind::files) continue;
    stdfs::path folder = fixtures / (a.name + "-" + a.version);
    REQUIRE(stdfs::is_directory(folder));
    for (const auto& f : a.files) {
      INFO(folder.string() << ": " << f.path);
      ++checked;
      stdfs::path at = folder / f.path;
      if (!f.is_link()) {
        CHECK_FALSE(stdfs::is_symlink(at));
        CHECK(kurator::test::sha256_of_file(at) == f.sha256);
        continue;
      }
      CHECK(f.sha256 == art::sha256_hex(f.link));  // upstream's blob digest of a symlink
      CHECK(f.url.empty());
      if (stdfs::is_symlink(at)) {
        CHECK(stdfs::read_symlink(at).string() == f.link);
      } else if (stdfs::is_directory(at)) {
        auto got = tree(at);
        CHECK_FALSE(got.empty());
        CHECK(got == tree(at.parent_path() / f.link));
      } else {
        CHECK(slurp(at) == f.link);
      }
    }
  }
  return checked;
}

int run(const std::string& command) {
  INFO(command);
  return std::system(command.c_str());
}
}  // namespace

TEST_CASE("builtin catalog defaults match scripts/versions.env", "[unit][artifacts][catalog]") {
  auto versions = read_versions_env();
  REQUIRE(versions.count("KUBERNETES_VERSION"));
  auto c = art::Catalog::builtin();
  for (auto name : {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"})
    CHECK(c.default_version(name).value_or("") == versions["KUBERNETES_VERSION"]);
  CHECK(c.default_version("etcd").value_or("") == versions["ETCD_VERSION"]);
  CHECK(c.default_version("kwok").value_or("") == versions["KWOK_VERSION"]);
  CHECK(c.default_version("helm").value_or("") == versions["HELM_VERSION"]);
}

TEST_CASE("builtin catalog pins the upstream URLs for linux/amd64", "[unit][artifacts][catalog]") {
  auto c = art::Catalog::builtin();
  for (auto name : {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"}) {
    auto* a = c.find(name, {}, kLinuxAmd64);
    REQUIRE(a);
    CHECK(a->url == std::string("https://dl.k8s.io/release/v1.35.4/bin/linux/amd64/") + name);
    CHECK(a->kind == art::Kind::binary);
  }
  auto* etcd = c.find("etcd", {}, kLinuxAmd64);
  REQUIRE(etcd);
  CHECK(etcd->url ==
        "https://github.com/etcd-io/etcd/releases/download/v3.5.21/etcd-v3.5.21-linux-amd64.tar.gz");
  CHECK(etcd->kind == art::Kind::archive);
  CHECK(etcd->path == "etcd-v3.5.21-linux-amd64/etcd");
  CHECK(etcd->sha256 == "adddda4b06718e68671ffabff2f8cee48488ba61ad82900e639d108f2148501c");
  auto* kwok = c.find("kwok", {}, kLinuxAmd64);
  REQUIRE(kwok);
  CHECK(kwok->url == "https://github.com/kubernetes-sigs/kwok/releases/download/v0.7.0/kwok-linux-amd64");
  auto* helm = c.find("helm", {}, kLinuxAmd64);
  REQUIRE(helm);
  CHECK(helm->url == "https://get.helm.sh/helm-v3.19.0-linux-amd64.tar.gz");
  CHECK(helm->path == "linux-amd64/helm");
  CHECK(helm->sha256.empty());  // no published digest recorded: honest "unknown"
  for (auto name :
       {"clusterctl", "istioctl", "karmadactl", "cluster-api", "cluster-api-provider-aws", "karmada", "istio",
        "prometheus-operator", "volcano", "kube-thanos", "pixie-operator", "kubespray"})
    CHECK(c.find(name, {}, kLinuxAmd64) != nullptr);
  // Every default resolves, every component resolves.
  for (const auto& [name, version] : c.defaults()) {
    INFO(name << "@" << version);
    CHECK(c.find(name, version, kLinuxAmd64) != nullptr);
  }
  for (const auto& [comp, names] : c.components()) {
    INFO(comp);
    for (const auto& n : names) CHECK(c.find(n, {}, kLinuxAmd64) != nullptr);
  }
  CHECK(c.find("kubectl", "1.35.4", kLinuxAmd64) != nullptr);  // "v" optional
}

TEST_CASE("kind: files digests equal the upstream fixture blobs", "[unit][artifacts][catalog]") {
  auto fixtures = kurator::test::fixtures_dir();
  if (fixtures.empty()) {
    kurator::test::skip("upstream fixtures not found: catalog digests of kind files not checked");
    return;
  }
  auto c = art::Catalog::builtin();
  CHECK(check_fixture_digests(c, fixtures) > 400);

  // The Volcano chart's two upstream symlinks are link members.
  auto* volcano = c.find("volcano", "v1.15.1");
  REQUIRE(volcano);
  std::map<std::string, std::string> links;
  for (const auto& f : volcano->files)
    if (f.is_link()) links[f.path] = f.link;
  CHECK(links == std::map<std::string, std::string>{{"chart/volcano/charts/jobflow/crd/v1", "bases"},
                                                    {"chart/volcano/crd/v1", "bases"}});

  // The same on copies holding the links as links (cp -a, after making each link member a real link
  // whatever the fixtures hold there), and with the links dereferenced (cp -rL).
  TempDir tmp;
  auto t = tmp.path().string();
  REQUIRE(run("cp -a '" + fixtures.string() + "' '" + t + "/links' && chmod -R u+w '" + t + "/links'") == 0);
  for (const auto& a : c.artifacts())
    for (const auto& f : a.files) {
      if (!f.is_link()) continue;
      stdfs::path at = tmp.path() / "links" / (a.name + "-" + a.version) / f.path;
      if (stdfs::is_symlink(at)) continue;
      stdfs::remove_all(at);
      stdfs::create_symlink(f.link, at);
    }
  REQUIRE(run("cp -rL '" + t + "/links' '" + t + "/deref'") == 0);
  CHECK(stdfs::is_symlink(tmp.path() / "links/volcano-v1.15.1/chart/volcano/crd/v1"));
  CHECK(stdfs::is_regular_file(tmp.path() /
                               "links/volcano-v1.15.1/chart/volcano/crd/v1/batch.volcano.sh_jobs.yaml"));
  CHECK_FALSE(stdfs::is_symlink(tmp.path() / "deref/volcano-v1.15.1/chart/volcano/crd/v1"));
  CHECK(stdfs::is_directory(tmp.path() / "deref/volcano-v1.15.1/chart/volcano/crd/v1"));
  {
    INFO("fixtures with links");
    CHECK(check_fixture_digests(c, tmp.path() / "links") > 400);
  }
  {
    INFO("fixtures with links dereferenced");
    CHECK(check_fixture_digests(c, tmp.path() / "deref") > 400);
  }
  // The generator of the catalog entries gives the same entries from each.
  std::string gen = std::string(KURATOR_SOURCE_DIR) + "/tests/data/artifacts/gen_fixture_catalog.py";
  REQUIRE(run("python3 '" + gen + "' '" + fixtures.string() + "' >'" + t + "/orig.yaml' 2>/dev/null") == 0);
  for (auto variant : {"links", "deref"}) {
    INFO(variant);
    REQUIRE(run("python3 '" + gen + "' '" + t + "/" + variant + "' >'" + t + "/copy.yaml' 2>/dev/null") == 0);
    std::string copy = slurp(tmp.path() / "copy.yaml");
    CHECK(copy == slurp(tmp.path() / "orig.yaml"));
    CHECK(copy.find("{path: chart/volcano/crd/v1, link: bases}") != std::string::npos);
  }
}

TEST_CASE("link members of kind files: the schema and its errors", "[unit][artifacts][catalog]") {
  auto c = art::Catalog::builtin();
  REQUIRE(c.merge("artifacts:\n"
                  "  - name: mychart\n    version: \"1\"\n    kind: files\n    files:\n"
                  "      - {path: chart/crd/bases/a.yaml, url: https://example.invalid/a.yaml, sha256: " +
                      std::string(64, 'a') +
                      "}\n"
                      "      - {path: chart/crd/v1, link: bases}\n"
                      "      - {path: chart/crd/v2, link: ./bases/}\n"
                      "      - {path: chart/templates/crds, link: ../crd/bases}\n",
                  "user.yaml")
              .ok());
  auto* a = c.find("mychart", {}, kLinuxAmd64);
  REQUIRE(a);
  REQUIRE(a->files.size() == 4);
  CHECK(a->files[1].link == "bases");
  CHECK(a->files[1].url.empty());
  CHECK(a->files[1].sha256 == art::sha256_hex("bases"));
  CHECK(a->digest_known());

  auto err = [](const std::string& files) {
    auto c = art::Catalog::builtin();
    auto r = c.merge("artifacts:\n  - name: x\n    version: \"1\"\n    kind: files\n    files:\n" + files,
                     "/h/catalog.yaml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find('\n') == std::string::npos);
    return r.error().message;
  };
  CHECK(err("      - {path: crd/v1, link: /etc}\n") ==
        "/h/catalog.yaml: artifacts[0].files[0].link: must be a relative path inside the artifact folder, "
        "got the absolute '/etc'");
  CHECK(err("      - {path: crd/v1, link: ../../etc}\n") ==
        "/h/catalog.yaml: artifacts[0].files[0].link: points outside the artifact folder: '../../etc'");
  CHECK(err("      - {path: crd/v1, link: bases/../../../etc}\n") ==
        "/h/catalog.yaml: artifacts[0].files[0].link: may have '..' only at its start, got "
        "'bases/../../../etc'");
  CHECK(err("      - {path: crd/v1, link: \"a\\nb\"}\n") ==
        "/h/catalog.yaml: artifacts[0].files[0].link: must not hold control characters, got 'a\\x0ab'");
  CHECK(err("      - {path: crd/v1, link: ..}\n") ==
        "/h/catalog.yaml: artifacts[0].files[0].link: points at the link itself or a folder holding it: "
        "'..'");
  CHECK(err("      - {path: crd/v1, link: \"\"}\n") ==
        "/h/catalog.yaml: artifacts[0].files[0].link: must not be empty");
  CHECK(err("      - {path: crd/v1, link: bases, url: https://a/b}\n") ==
        "/h/catalog.yaml: artifacts[0].files[0].url: not allowed with link (a link is made, not downloaded; "
        "its digest is that of the target text)");
  CHECK(err("      - {path: crd/v1, link: bases, sha256: unknown}\n")
            .find("files[0].sha256: not allowed with link") != std::string::npos);
  CHECK(err("      - {path: crd/v1, link: bases}\n"
            "      - {path: crd/v1/a.yaml, url: https://a/b, sha256: unknown}\n") ==
        "/h/catalog.yaml: artifacts[0].files[1].path: 'crd/v1/a.yaml' lies inside the link crd/v1 (a link's "
        "contents are its target's)");
  CHECK(err("      - {path: crd/v1, link: 5}\n") ==
        "/h/catalog.yaml: artifacts[0].files[0].link: must be a string (quote it), got 5");
  CHECK(err("      - {link: bases}\n") == "/h/catalog.yaml: artifacts[0].files[0].path: missing");
}

TEST_CASE("overlay in the build-test-binaries format overrides field by field",
          "[unit][artifacts][catalog]") {
  auto c = art::Catalog::builtin();
  std::string kwok_url = c.find("kwok", {}, kLinuxAmd64)->url;
  std::string overlay =
      "# Written by scripts/build-test-binaries.sh: digests of local builds from Go modules.\n"
      "artifacts:\n"
      "  - {name: kubectl, version: \"v1.35.4\", os: linux, arch: amd64, sha256: "
      "1111111111111111111111111111111111111111111111111111111111111111}\n"
      "  - {name: kwok, version: \"v0.7.0\", os: linux, arch: amd64, sha256: "
      "2222222222222222222222222222222222222222222222222222222222222222}\n";
  REQUIRE(c.merge(overlay, "catalog-overlay.yaml").ok());
  auto* kubectl = c.find("kubectl", {}, kLinuxAmd64);
  CHECK(kubectl->sha256 == std::string(64, '1'));
  CHECK(kubectl->url == "https://dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubectl");  // kept
  CHECK(c.find("kwok", {}, kLinuxAmd64)->sha256 == std::string(64, '2'));
  CHECK(c.find("kwok", {}, kLinuxAmd64)->url == kwok_url);
  CHECK(kubectl->source == "catalog-overlay.yaml");

  // New entries, defaults and components.
  REQUIRE(c.merge("defaults: {mytool: \"2.0\"}\n"
                  "components: {mine: [mytool]}\n"
                  "artifacts:\n"
                  "  - name: mytool\n    version: \"2.0\"\n    kind: binary\n    url: "
                  "https://example.invalid/mytool\n"
                  "    sha256: sha256:" +
                      std::string(64, 'A') + "\n",
                  "user.yaml")
              .ok());
  auto* mine = c.find("mytool", {}, kLinuxAmd64);
  REQUIRE(mine);
  CHECK(mine->os == "any");
  CHECK(mine->sha256 == std::string(64, 'a'));
  auto names = c.resolve_components({"mine", "kubectl"});
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"mytool", "kubectl"});
  CHECK_FALSE(c.resolve_components({"nope"}).ok());
}

TEST_CASE("bad catalog entries give one line naming file and field", "[unit][artifacts][catalog]") {
  auto err = [](const std::string& text) {
    auto c = art::Catalog::builtin();
    auto r = c.merge(text, "/h/catalog.yaml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find('\n') == std::string::npos);
    // The catalog is unchanged by a failed merge.
    CHECK(c.find("kubectl", {}, kLinuxAmd64)->sha256 ==
          "b529430df69a688fd61b64ad2299edb5fd71cb58be2a4779dba624c7d3510efd");
    return r.error().message;
  };
  CHECK(err("artifacts:\n  - {name: kubectl, version: v1.35.4, os: linux, arch: amd64, sha256: abc}\n") ==
        "/h/catalog.yaml: artifacts[0].sha256: must be 64 hex digits or 'unknown', got 'abc'");
  CHECK(
      err("artifacts:\n  - {name: x, version: \"1\", kind: tarball, url: https://a/b, sha256: unknown}\n") ==
      "/h/catalog.yaml: artifacts[0].kind: must be one of binary, archive, chart, yaml, files, got "
      "'tarball'");
  CHECK(err("artifacts:\n  - {name: x, version: \"1\", kind: binary, sha256: unknown}\n") ==
        "/h/catalog.yaml: artifacts[0].url: missing");
  CHECK(err("artifacts:\n  - {name: x, version: \"1\", kind: binary, url: https://a/b}\n") ==
        "/h/catalog.yaml: artifacts[0].sha256: missing (a digest, or 'unknown' when none is published)");
  CHECK(err("artifacts:\n  - {name: kubectl, version: v1.35.4, os: linux, arch: amd64, colour: red}\n") ==
        "/h/catalog.yaml: artifacts[0].colour: unknown field");
  CHECK(err("artifacts:\n  - {name: x, version: 1.5, kind: binary, url: https://a/b, sha256: unknown}\n") ==
        "/h/catalog.yaml: artifacts[0].version: must be a string (quote it), got 1.5");
  CHECK(err("artifacts:\n  - {name: x, version: \"1\", kind: binary, url: ftp://a/b, sha256: unknown}\n") ==
        "/h/catalog.yaml: artifacts[0].url: must start with https://, http:// or file://, got 'ftp://a/b'");
  CHECK(err("artifacts:\n  - {name: x, version: \"1\", kind: archive, url: https://a/b.tgz, sha256: "
            "unknown}\n") ==
        "/h/catalog.yaml: artifacts[0].path: missing (kind archive needs the path inside the archive)");
  CHECK(err("artifacts:\n  - {name: x, version: \"1\", kind: archive, path: ../x, url: https://a/b.tgz, "
            "sha256: "
            "unknown}\n") ==
        "/h/catalog.yaml: artifacts[0].path: must be a relative path without '..', got '../x'");
  CHECK(err("artifacts:\n  - {version: \"1\"}\n") == "/h/catalog.yaml: artifacts[0].name: missing");
  CHECK(err("artifacts: {}\n") == "/h/catalog.yaml: artifacts: must be a list");
  CHECK(err("artifact:\n  - {}\n") == "/h/catalog.yaml: artifact: unknown field");
}

TEST_CASE("load_catalog reads $KURATOR_HOME/catalog.yaml, KURATOR_CATALOG and --catalog",
          "[unit][artifacts][catalog]") {
  TempDir home;
  write(home.path() / "catalog.yaml",
        "artifacts:\n  - {name: kwok, version: v0.7.0, os: linux, arch: amd64, sha256: " +
            std::string(64, '3') + "}\n");
  write(home.path() / "extra.yaml",
        "artifacts:\n  - {name: kwok, version: v0.7.0, os: linux, arch: amd64, sha256: " +
            std::string(64, '4') + "}\n");
  auto c = art::load_catalog(home.path());
  REQUIRE(c.ok());
  CHECK(c->find("kwok", {}, kLinuxAmd64)->sha256 == std::string(64, '3'));
  auto c2 = art::load_catalog(home.path(), {(home.path() / "extra.yaml").string()});
  REQUIRE(c2.ok());
  CHECK(c2->find("kwok", {}, kLinuxAmd64)->sha256 == std::string(64, '4'));

  write(home.path() / "catalog.yaml",
        "artifacts:\n  - {name: kwok, version: v0.7.0, os: linux, arch: amd64, url: x}\n");
  auto bad = art::load_catalog(home.path());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message ==
        (home.path() / "catalog.yaml").string() +
            ": artifacts[0].url: must start with https://, http:// or file://, got 'x'");
  auto missing = art::load_catalog({}, {"/nonexistent/overlay.yaml"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("/nonexistent/overlay.yaml") != std::string::npos);
}

TEST_CASE("mirror rewriting and user config rules", "[unit][artifacts][mirror]") {
  CHECK(art::rewrite_url("https://dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubectl", {},
                         "http://127.0.0.1:8080/m/") ==
        "http://127.0.0.1:8080/m/dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubectl");
  CHECK(art::rewrite_url("https://get.helm.sh/helm.tgz", {}, "file:///root/.cache/kurator/mirror") ==
        "file:///root/.cache/kurator/mirror/get.helm.sh/helm.tgz");
  CHECK(art::rewrite_url("https://get.helm.sh/helm.tgz", {}, "") == "https://get.helm.sh/helm.tgz");
  std::vector<art::MirrorRule> rules = {{"https://github.com/", "https://ghproxy.local/gh/"},
                                        {"https://dl.k8s.io/", "file:///srv/k8s/"}};
  CHECK(art::rewrite_url("https://github.com/a/b", rules, "http://m") == "https://ghproxy.local/gh/a/b");
  CHECK(art::rewrite_url("https://dl.k8s.io/release/x", rules, "") == "file:///srv/k8s/release/x");
  CHECK(art::rewrite_url("https://get.helm.sh/x", rules, "http://m") == "http://m/get.helm.sh/x");

  TempDir home;
  write(home.path() / "config.yaml", "mirrors:\n  - {from: https://dl.k8s.io/, to: file:///srv/k8s/}\n");
  auto cfg = art::load_user_config(home.path());
  REQUIRE(cfg.ok());
  REQUIRE(cfg->mirrors.size() == 1);
  CHECK(cfg->mirrors[0].to == "file:///srv/k8s/");
  write(home.path() / "config.yaml", "mirrors:\n  - {from: https://dl.k8s.io/}\n");
  auto bad = art::load_user_config(home.path());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message ==
        (home.path() / "config.yaml").string() + ": mirrors[0].to: missing (a URL prefix)");
}

TEST_CASE("proxy environment for subprocesses", "[unit][artifacts]") {
  ::setenv("HTTPS_PROXY", "http://proxy.test:3128", 1);
  ::setenv("no_proxy", "localhost,127.0.0.1", 1);
  auto env = art::proxy_env();
  CHECK(env["HTTPS_PROXY"] == "http://proxy.test:3128");
  CHECK(env["https_proxy"] == "http://proxy.test:3128");
  CHECK(env["NO_PROXY"] == "localhost,127.0.0.1");
  CHECK(env["no_proxy"] == "localhost,127.0.0.1");
  ::unsetenv("HTTPS_PROXY");
  ::unsetenv("no_proxy");
}

TEST_CASE("sha256 helpers", "[unit][artifacts]") {
  CHECK(art::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(art::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  art::Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(h.hex() == art::sha256_hex("abc"));
  CHECK(art::is_sha256(art::sha256_hex("x")));
  CHECK_FALSE(art::is_sha256("ABC"));
}
