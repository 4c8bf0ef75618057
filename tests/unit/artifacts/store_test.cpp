// The cache in-process: one download then zero requests, mirrors and rewrite rules, digests the catalog
// does not know, archives, verify and prune, bundles.
#include <kurator/core/artifacts.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "support/mirror.hpp"
#include "support/test_env.hpp"

namespace art = kurator::artifacts;
namespace stdfs = std::filesystem;
using kurator::test::LoopbackServer;
using kurator::test::TempDir;

namespace {
std::string slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void make_tool_tgz(const stdfs::path& out, const std::string& inner, const std::string& data) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_filename(a, out.c_str()) == ARCHIVE_OK);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, inner.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0755);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

// A loopback "upstream" mirror: <root>/upstream.invalid/tools/{tool.bin,tool.tar.gz}, and a catalog that
// points at https://upstream.invalid/... (only ever reached through the mirror).
struct Upstream {
  TempDir root;
  std::string bin = "#!/bin/sh\necho mytool 1.0\n" + std::string(50000, '#') + "\n";
  std::string bin_sha = art::sha256_hex(bin);
  std::string tgz_sha;
  std::unique_ptr<LoopbackServer> server;
  Upstream() {
    auto d = root.path() / "upstream.invalid" / "tools";
    stdfs::create_directories(d);
    std::ofstream(d / "tool.bin", std::ios::binary) << bin;
    make_tool_tgz(d / "tool.tar.gz", "tool-1.0/bin/tool", bin);
    tgz_sha = *art::sha256_file(d / "tool.tar.gz");
    server = std::make_unique<LoopbackServer>(LoopbackServer::Options{root.path(), {}, {}, {}});
    REQUIRE(server->ok());
  }
  std::string overlay() const {
    return "defaults: {mytool: \"1.0\", mytar: \"1.0\", mynosum: \"1.0\"}\n"
           "artifacts:\n"
           "  - {name: mytool, version: \"1.0\", kind: binary, url: https://upstream.invalid/tools/tool.bin, "
           "sha256: " +
           bin_sha +
           "}\n"
           "  - {name: mytar, version: \"1.0\", kind: archive, path: tool-1.0/bin/tool, "
           "url: https://upstream.invalid/tools/tool.tar.gz, sha256: " +
           tgz_sha +
           "}\n"
           "  - {name: mynosum, version: \"1.0\", kind: binary, url: "
           "https://upstream.invalid/tools/tool.bin, "
           "sha256: unknown}\n";
  }
  art::Store store(const stdfs::path& home) const {
    auto c = art::Catalog::builtin();
    REQUIRE(c.merge(overlay(), "test-overlay.yaml").ok());
    art::Options o;
    o.home = home;
    o.mirror = server->url();
    o.download.progress = false;
    o.download.retry.max_attempts = 2;
    o.download.retry.initial_backoff = std::chrono::milliseconds(50);
    return art::Store(std::move(c), o);
  }
};
}  // namespace

TEST_CASE("store: one download, then the cache answers with zero requests", "[unit][artifacts][cache]") {
  Upstream up;
  TempDir home;
  auto store = up.store(home.path());
  long requests = 0;
  store.options().download.requests_made = &requests;
  auto first = store.ensure("mytool");
  REQUIRE(first.ok());
  CHECK(first->downloaded);
  CHECK(first->path == home.path() / "cache/mytool/1.0/any-any/tool.bin");
  CHECK(slurp(first->path) == up.bin);
  CHECK((stdfs::status(first->path).permissions() & stdfs::perms::owner_exec) != stdfs::perms::none);
  CHECK(stdfs::exists(home.path() / "cache/mytool/1.0/any-any/artifact.json"));
  CHECK(up.server->count("GET /upstream.invalid/tools/tool.bin") == 1);  // through the mirror
  CHECK(requests == 1);

  auto second = up.store(home.path());
  second.options().download.requests_made = &requests;
  auto again = second.ensure("mytool");
  REQUIRE(again.ok());
  CHECK_FALSE(again->downloaded);
  CHECK(again->path == first->path);
  CHECK(requests == 1);
  CHECK(up.server->count("GET ") == 1);
}

TEST_CASE("store: archives are extracted and the binary inside is the path", "[unit][artifacts][cache]") {
  Upstream up;
  TempDir home;
  auto store = up.store(home.path());
  auto r = store.ensure("mytar");
  REQUIRE(r.ok());
  CHECK(r->path == home.path() / "cache/mytar/1.0/any-any/x/tool-1.0/bin/tool");
  CHECK(slurp(r->path) == up.bin);
  CHECK(r->sha256 == up.tgz_sha);
}

TEST_CASE("store: an artifact without a known digest needs --sha256 or --allow-unverified",
          "[unit][artifacts][cache]") {
  Upstream up;
  TempDir home;
  {
    auto store = up.store(home.path());
    auto r = store.ensure("mynosum");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("no published sha256") != std::string::npos);
    CHECK(r.error().hint.find("--sha256") != std::string::npos);
    CHECK(up.server->count("GET ") == 0);
  }
  {
    auto store = up.store(home.path());
    store.options().sha256_override = std::string(64, 'e');
    auto r = store.ensure("mynosum");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("expected " + std::string(64, 'e') + ", got " + up.bin_sha) !=
          std::string::npos);
    CHECK_FALSE(stdfs::exists(home.path() / "cache/mynosum/1.0/any-any/tool.bin"));
  }
  {
    auto store = up.store(home.path());
    store.options().sha256_override = up.bin_sha;
    auto r = store.ensure("mynosum");
    REQUIRE(r.ok());
    CHECK(r->verified);
  }
  {
    TempDir home2;
    auto store = up.store(home2.path());
    store.options().allow_unverified = true;
    auto r = store.ensure("mynosum");
    REQUIRE(r.ok());
    CHECK_FALSE(r->verified);
    CHECK(r->sha256 == up.bin_sha);
  }
}

TEST_CASE("store: a version the catalog does not know needs --sha256", "[unit][artifacts][cache]") {
  Upstream up;
  TempDir home;
  auto store = up.store(home.path());
  auto r = store.resolve("kubectl", "v1.99.0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().hint.find("--sha256") != std::string::npos);
  store.options().sha256_override = std::string(64, 'a');
  auto ok = store.resolve("kubectl", "v1.99.0");
  REQUIRE(ok.ok());
  CHECK(ok->url.find("/release/v1.99.0/bin/") != std::string::npos);
  CHECK(ok->sha256.empty());
  CHECK_FALSE(store.resolve("no-such-tool").ok());
}

TEST_CASE("store: config.yaml rewrite rules, including file:// folders", "[unit][artifacts][mirror]") {
  Upstream up;
  TempDir home;
  auto store = up.store(home.path());
  store.options().mirror.clear();
  store.options().rules = {
      {"https://upstream.invalid/", "file://" + (up.root.path() / "upstream.invalid").string() + "/"}};
  auto r = store.ensure("mytool");
  REQUIRE(r.ok());
  CHECK(slurp(r->path) == up.bin);
  CHECK(up.server->count("GET ") == 0);
}

TEST_CASE("store: offline mode never downloads", "[unit][artifacts][cache]") {
  Upstream up;
  TempDir home;
  auto store = up.store(home.path());
  store.options().offline = true;
  auto r = store.ensure("mytool");
  REQUIRE_FALSE(r.ok());
  CHECK(up.server->count("GET ") == 0);
}

TEST_CASE("store: verify finds tampering, prune removes what is not a default", "[unit][artifacts][cache]") {
  Upstream up;
  TempDir home;
  auto store = up.store(home.path());
  REQUIRE(store.ensure("mytool").ok());
  REQUIRE(store.ensure("mytar").ok());
  auto clean = store.verify_cache();
  CHECK(clean.checked == 2);
  CHECK(clean.issues.empty());
  std::ofstream(home.path() / "cache/mytool/1.0/any-any/tool.bin", std::ios::app) << "tampered";
  auto dirty = store.verify_cache();
  REQUIRE(dirty.issues.size() == 1);
  CHECK(dirty.issues[0].problem.find("sha256 mismatch") != std::string::npos);

  // An old version in the cache and a leftover partial file.
  stdfs::create_directories(home.path() / "cache/mytool/0.9/any-any");
  std::ofstream(home.path() / "cache/mytool/1.0/any-any/tool.bin.partial") << "x";
  auto removed = store.prune(false);
  CHECK(removed.size() == 2);
  CHECK_FALSE(stdfs::exists(home.path() / "cache/mytool/0.9"));
  CHECK(stdfs::exists(home.path() / "cache/mytool/1.0/any-any/artifact.json"));
  store.prune(true);
  CHECK(stdfs::is_empty(home.path() / "cache"));
}

TEST_CASE("store: fixture source bundles download through a loopback mirror", "[unit][artifacts][mirror]") {
  kurator::test::FixtureMirror mirror({"prometheus-operator", "calico"});
  if (!mirror.ok()) return;
  TempDir home;
  auto c = art::Catalog::builtin();
  REQUIRE(c.merge_file(mirror.catalog()).ok());
  art::Options o;
  o.home = home.path();
  o.mirror = mirror.url();
  o.download.progress = false;
  art::Store store(std::move(c), o);
  auto r = store.ensure("prometheus-operator");
  REQUIRE(r.ok());
  auto fixtures = kurator::test::fixtures_dir() / "prometheus-operator-v0.93.0";
  CHECK(slurp(r->path / "crds/monitoring.coreos.com_prometheuses.yaml") ==
        slurp(fixtures / "crds/monitoring.coreos.com_prometheuses.yaml"));
  CHECK(stdfs::exists(r->path / "rbac/prometheus-operator-deployment.yaml"));
  CHECK(mirror.server()->count(
            "GET /raw.githubusercontent.com/prometheus-operator/prometheus-operator/refs/tags/"
            "v0.93.0/example/prometheus-operator-crd/") == 10);
  auto calico = store.ensure("calico");
  REQUIRE(calico.ok());
  CHECK(stdfs::file_size(calico->path / "calico.yaml") == 349572);
}

TEST_CASE("bundle: create, import into an empty home, fetch with no network", "[unit][artifacts][bundle]") {
  Upstream up;
  TempDir a, b, out;
  auto store = up.store(a.path());
  std::vector<const art::Artifact*> list = {store.catalog().find("mytool"), store.catalog().find("mytar")};
  REQUIRE(art::create_bundle(store, list, out.path() / "b.tar.gz").ok());
  CHECK(up.server->count("GET ") == 2);

  auto target = up.store(b.path());
  target.options().mirror = "http://127.0.0.1:9";  // nothing listens there
  target.options().download.retry.max_attempts = 1;
  auto imported = art::import_bundle(target, out.path() / "b.tar.gz");
  REQUIRE(imported.ok());
  CHECK(imported->size() == 2);
  target.options().offline = true;
  auto tool = target.ensure("mytar");
  REQUIRE(tool.ok());
  CHECK_FALSE(tool->downloaded);
  CHECK(slurp(tool->path) == up.bin);
  CHECK(up.server->count("GET ") == 2);

  // A bundle whose member does not match its index is refused, and nothing is imported.
  TempDir c;
  auto other = up.store(c.path());
  auto bad_catalog = art::Catalog::builtin();
  std::string overlay = up.overlay();
  auto pos = overlay.find(up.bin_sha);
  overlay.replace(pos, 64, std::string(64, 'd'));
  REQUIRE(bad_catalog.merge(overlay, "other.yaml").ok());
  art::Store mismatched(std::move(bad_catalog), other.options());
  auto refused = art::import_bundle(mismatched, out.path() / "b.tar.gz");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("differs from the catalog's " + std::string(64, 'd')) !=
        std::string::npos);
  CHECK_FALSE(stdfs::exists(c.path() / "cache/mytar"));
}

TEST_CASE("store: the mirror of scripts/build-test-binaries.sh with its catalog overlay",
          "[unit][artifacts][mirror]") {
  kurator::test::FixtureMirror mirror({}, true);
  if (!mirror.ok()) return;
  TempDir home;
  auto c = art::Catalog::builtin();
  REQUIRE(c.merge_file(mirror.catalog()).ok());
  art::Options o;
  o.home = home.path();
  o.mirror = mirror.url();
  o.download.progress = false;
  o.platform = {"linux", "amd64"};
  art::Store store(std::move(c), o);
  for (auto name : {"etcd", "helm", "kwok", "kubectl"}) {
    INFO(name);
    auto r = store.ensure(name);
    if (!r.ok()) FAIL(r.error().message);
    CHECK((stdfs::status(r->path).permissions() & stdfs::perms::owner_exec) != stdfs::perms::none);
  }
  CHECK(store.ensure("etcd")->path ==
        home.path() / "cache/etcd/v3.5.21/linux-amd64/x/etcd-v3.5.21-linux-amd64/etcd");
  CHECK(mirror.server()->count("GET /get.helm.sh/helm-v3.19.0-linux-amd64.tar.gz") == 1);
}

namespace {
// A chart with an upstream symlink, as `kind: files`: two files served by the loopback "upstream" and
// the link crd/v1 -> bases, which is made, not downloaded.
struct LinkedChart {
  Upstream up;
  std::string chart = "apiVersion: v2\nname: mychart\nversion: 1.0.0\n";
  std::string crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n";
  LinkedChart() {
    auto d = up.root.path() / "upstream.invalid" / "chart";
    stdfs::create_directories(d / "crd" / "bases");
    std::ofstream(d / "Chart.yaml", std::ios::binary) << chart;
    std::ofstream(d / "crd" / "bases" / "a.yaml", std::ios::binary) << crd;
  }
  std::string overlay() const {
    return "defaults: {mychart: \"1.0\"}\n"
           "artifacts:\n"
           "  - name: mychart\n    version: \"1.0\"\n    kind: files\n    files:\n"
           "      - {path: chart/Chart.yaml, url: https://upstream.invalid/chart/Chart.yaml, sha256: " +
           art::sha256_hex(chart) +
           "}\n"
           "      - {path: chart/crd/bases/a.yaml, url: https://upstream.invalid/chart/crd/bases/a.yaml, "
           "sha256: " +
           art::sha256_hex(crd) +
           "}\n"
           "      - {path: chart/crd/v1, link: bases}\n";
  }
  art::Store store(const stdfs::path& home) const {
    auto c = art::Catalog::builtin();
    REQUIRE(c.merge(overlay(), "chart-overlay.yaml").ok());
    art::Options o;
    o.home = home;
    o.mirror = up.server->url();
    o.download.progress = false;
    o.download.retry.max_attempts = 1;
    return art::Store(std::move(c), o);
  }
};

// A bundle written by hand: index.json plus members (symlinks where `links` says).
void write_bundle(const stdfs::path& out, const std::string& index,
                  const std::vector<std::pair<std::string, std::string>>& links) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_filename(a, out.c_str()) == ARCHIVE_OK);
  for (const auto& [member, target] : links) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, member.c_str());
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_symlink(e, target.c_str());
    archive_entry_set_perm(e, 0777);
    archive_write_header(a, e);
    archive_entry_free(e);
  }
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "index.json");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(index.size()));
  archive_write_header(a, e);
  archive_write_data(a, index.data(), index.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}
}  // namespace

TEST_CASE("store: a link member of kind files is made as a symlink, and verify and bundles keep it",
          "[unit][artifacts][cache][links]") {
  LinkedChart lc;
  TempDir home;
  auto store = lc.store(home.path());
  auto r = store.ensure("mychart");
  REQUIRE(r.ok());
  stdfs::path v1 = r->path / "chart/crd/v1";
  REQUIRE(stdfs::is_symlink(v1));
  CHECK(stdfs::read_symlink(v1) == "bases");
  CHECK(slurp(v1 / "a.yaml") == lc.crd);  // a folder of CRDs, as helm expects
  CHECK(slurp(r->path / "chart/Chart.yaml") == lc.chart);
  CHECK(lc.up.server->count("GET ") == 2);  // nothing is fetched for the link
  CHECK(lc.up.server->count("/crd/v1") == 0);

  // Cached: no request; verify passes.
  auto again = lc.store(home.path()).ensure("mychart");
  REQUIRE(again.ok());
  CHECK_FALSE(again->downloaded);
  CHECK(lc.up.server->count("GET ") == 2);
  auto clean = store.verify_cache();
  CHECK(clean.checked == 1);
  CHECK(clean.issues.empty());

  // A bundle keeps the link as a link, and the import makes it again.
  TempDir b, out;
  std::vector<const art::Artifact*> list = {store.catalog().find("mychart")};
  REQUIRE(art::create_bundle(store, list, out.path() / "b.tar.gz").ok());
  auto target = lc.store(b.path());
  target.options().mirror = "http://127.0.0.1:9";  // nothing listens there
  auto imported = art::import_bundle(target, out.path() / "b.tar.gz");
  REQUIRE(imported.ok());
  REQUIRE(imported->size() == 1);
  target.options().offline = true;
  auto offline = target.ensure("mychart");
  REQUIRE(offline.ok());
  CHECK(stdfs::read_symlink(offline->path / "chart/crd/v1") == "bases");
  CHECK(slurp(offline->path / "chart/crd/v1/a.yaml") == lc.crd);
  CHECK(target.verify_cache().issues.empty());

  // The link replaced by a file holding the link text, or pointing elsewhere: verify says so.
  stdfs::remove(v1);
  std::ofstream(v1) << "bases";
  auto flat = store.verify_cache();
  REQUIRE(flat.issues.size() == 1);
  CHECK(flat.issues[0].problem == "chart/crd/v1: expected a link to bases, found no link");
  stdfs::remove(v1);
  stdfs::create_symlink("../..", v1);
  auto moved = store.verify_cache();
  REQUIRE(moved.issues.size() == 1);
  CHECK(moved.issues[0].problem == "chart/crd/v1: expected a link to bases, found a link to ../..");
}

TEST_CASE("store: hostile links are refused with one error line and nothing is written",
          "[unit][artifacts][cache][links]") {
  LinkedChart lc;
  TempDir home;
  auto store = lc.store(home.path());
  art::Artifact a = *store.catalog().find("mychart");  // bypasses the catalog's own checks
  for (auto [target, why] : {std::pair{"/etc", "must be a relative path inside the artifact folder, got the "
                                               "absolute '/etc'"},
                             {"../../../etc", "points outside the artifact folder: '../../../etc'"},
                             {"bases/../../../../etc", "may have '..' only at its start, got "
                                                       "'bases/../../../../etc'"}}) {
    INFO(target);
    a.files[2].link = target;
    a.files[2].sha256 = art::sha256_hex(target);
    auto r = store.ensure(a);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "mychart@1.0 (any/any): chart/crd/v1: link " + std::string(why));
    CHECK(r.error().message.find('\n') == std::string::npos);
    CHECK_FALSE(stdfs::exists(home.path() / "cache/mychart"));
    CHECK(lc.up.server->count("GET ") == 0);
  }
  // A member inside a link would be written through it.
  a.files[2].link = "bases";
  a.files.push_back({"chart/crd/v1/b.yaml", "https://upstream.invalid/chart/crd/bases/a.yaml",
                     art::sha256_hex(lc.crd), ""});
  auto inside = store.ensure(a);
  REQUIRE_FALSE(inside.ok());
  CHECK(inside.error().message ==
        "mychart@1.0 (any/any): member path 'chart/crd/v1/b.yaml' lies inside the link chart/crd/v1 (a "
        "link's contents are its target's)");
  CHECK_FALSE(stdfs::exists(home.path() / "cache/mychart"));

  // A bundle whose link stays inside the bundle but leaves its artifact folder.
  TempDir out;
  std::string dir = "artifacts/evil/1.0/any-any/files";
  std::string index =
      "{\"schema\": \"kurator.dev/bundle/v1\", \"artifacts\": [{\"name\": \"evil\", \"version\": \"1.0\", "
      "\"os\": \"any\", \"arch\": \"any\", \"kind\": \"files\", \"url\": \"\", \"file\": \"" +
      dir + "\", \"files\": [{\"path\": \"l\", \"link\": \"../../../../../index.json\"}]}]}";
  write_bundle(out.path() / "evil.tar.gz", index, {{dir + "/l", "../../../../../index.json"}});
  auto target = lc.store(home.path());
  target.options().allow_unverified = true;
  auto refused = art::import_bundle(target, out.path() / "evil.tar.gz");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == (out.path() / "evil.tar.gz").string() +
                                       ": index.json: artifacts[0].files[0].link: l: points outside the "
                                       "artifact folder: '../../../../../index.json'");
  CHECK_FALSE(stdfs::exists(home.path() / "cache/evil"));
}
