// Archives crafted here with libarchive: good ones extract, hostile ones are refused and leave nothing.
#include <kurator/core/artifacts.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "support/test_env.hpp"

namespace art = kurator::artifacts;
namespace stdfs = std::filesystem;
using kurator::test::TempDir;

namespace {
struct Entry {
  std::string name;
  std::string data;
  enum Type { file, dir, symlink, hardlink } type = file;
  std::string link;
};

void make_tar_gz(const stdfs::path& out, const std::vector<Entry>& entries) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_filename(a, out.c_str()) == ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.name.c_str());
    archive_entry_set_perm(en, 0755);
    switch (e.type) {
      case Entry::file:
        archive_entry_set_filetype(en, AE_IFREG);
        archive_entry_set_size(en, static_cast<la_int64_t>(e.data.size()));
        break;
      case Entry::dir:
        archive_entry_set_filetype(en, AE_IFDIR);
        break;
      case Entry::symlink:
        archive_entry_set_filetype(en, AE_IFLNK);
        archive_entry_set_symlink(en, e.link.c_str());
        break;
      case Entry::hardlink:
        archive_entry_set_filetype(en, AE_IFREG);
        archive_entry_set_hardlink(en, e.link.c_str());
        break;
    }
    REQUIRE(archive_write_header(a, en) == ARCHIVE_OK);
    if (e.type == Entry::file && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// Extracting into <tmp>/out must fail and leave <tmp> holding only the archive.
std::string refused(const std::vector<Entry>& entries, art::ExtractLimits limits = {}) {
  TempDir t;
  auto archive = t.path() / "a.tar.gz";
  make_tar_gz(archive, entries);
  auto r = art::extract(archive, t.path() / "out", limits);
  REQUIRE_FALSE(r.ok());
  int left = 0;
  for (const auto& e : stdfs::directory_iterator(t.path())) {
    (void)e;
    ++left;
  }
  CHECK(left == 1);
  CHECK_FALSE(stdfs::exists(t.path() / "out"));
  return r.error().message;
}
}  // namespace

TEST_CASE("extract: a normal archive with an inner symlink", "[unit][artifacts][extract]") {
  TempDir t;
  auto archive = t.path() / "ok.tar.gz";
  make_tar_gz(archive, {{"etcd-v3.5.21-linux-amd64/", "", Entry::dir},
                        {"etcd-v3.5.21-linux-amd64/etcd", "#!/bin/sh\necho etcd\n"},
                        {"./etcd-v3.5.21-linux-amd64/README.md", "readme"},
                        {"etcd-v3.5.21-linux-amd64/latest", "", Entry::symlink, "etcd"},
                        {"etcd-v3.5.21-linux-amd64/docs/up", "", Entry::symlink, "../README.md"}});
  auto r = art::extract(archive, t.path() / "x");
  REQUIRE(r.ok());
  auto bin = t.path() / "x" / "etcd-v3.5.21-linux-amd64" / "etcd";
  CHECK(stdfs::is_regular_file(bin));
  CHECK((stdfs::status(bin).permissions() & stdfs::perms::owner_exec) != stdfs::perms::none);
  CHECK(stdfs::is_symlink(t.path() / "x" / "etcd-v3.5.21-linux-amd64" / "latest"));
  // Nothing else next to the destination.
  int n = 0;
  for (const auto& e : stdfs::directory_iterator(t.path())) {
    (void)e;
    ++n;
  }
  CHECK(n == 2);
  // The destination must not exist yet.
  CHECK_FALSE(art::extract(archive, t.path() / "x").ok());
}

TEST_CASE("extract refuses ../ entries", "[unit][artifacts][extract]") {
  auto msg = refused({{"good.txt", "ok"}, {"../evil", "pwned"}});
  CHECK(msg.find("'../evil'") != std::string::npos);
  refused({{"a/../../evil", "pwned"}});
}

TEST_CASE("extract refuses absolute paths", "[unit][artifacts][extract]") {
  auto msg = refused({{"/tmp/kurator-evil-absolute", "pwned"}});
  CHECK(msg.find("absolute") != std::string::npos);
  CHECK_FALSE(stdfs::exists("/tmp/kurator-evil-absolute"));
}

TEST_CASE("extract refuses symlinks pointing outside", "[unit][artifacts][extract]") {
  auto msg = refused({{"link", "", Entry::symlink, "../../etc"}});
  CHECK(msg.find("symlink 'link' points outside") != std::string::npos);
  refused({{"link", "", Entry::symlink, "/etc/passwd"}});
  refused({{"d/", "", Entry::dir}, {"d/up", "", Entry::symlink, "../.."}});
  // Lexically inside, but a -> . makes a/.. the folder above the root.
  auto through = refused({{"a", "", Entry::symlink, "."}, {"b", "", Entry::symlink, "a/.."}});
  CHECK(through.find("symlink 'b' points outside: 'a/..'") != std::string::npos);
  // A link then a write through it.
  refused({{"esc", "", Entry::symlink, "/tmp"}, {"esc/kurator-evil-through-link", "x"}});
  CHECK_FALSE(stdfs::exists("/tmp/kurator-evil-through-link"));
  refused({{"f", "x"}, {"h", "", Entry::hardlink, "../../etc/passwd"}});
}

TEST_CASE("extract refuses a huge entry count and oversize content", "[unit][artifacts][extract]") {
  std::vector<Entry> many;
  for (int i = 0; i < 20001; ++i) many.push_back({"f" + std::to_string(i), ""});
  auto msg = refused(many);
  CHECK(msg.find("more than 20000 entries") != std::string::npos);
  auto big = refused({{"big", std::string(4096, 'x')}}, art::ExtractLimits{100, 1024});
  CHECK(big.find("more than 1024 bytes") != std::string::npos);
}

TEST_CASE("extract refuses a corrupt archive", "[unit][artifacts][extract]") {
  TempDir t;
  std::ofstream(t.path() / "bad.tar.gz") << "this is not an archive at all, just text that goes on and on";
  CHECK_FALSE(art::extract(t.path() / "bad.tar.gz", t.path() / "out").ok());
  CHECK_FALSE(stdfs::exists(t.path() / "out"));
}
