#include "support/mirror.hpp"

#include <kurator/core/process.hpp>
#include <kurator/util/embedded.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/yaml.hpp>

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/test_env.hpp"

extern char** environ;

namespace kurator::test {
namespace stdfs = std::filesystem;

std::string sha256_of_file(const stdfs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

LoopbackServer::LoopbackServer(Options opts) {
  stdfs::path script = opts.script.empty()
                           ? stdfs::path(KURATOR_SOURCE_DIR) / "tests" / "data" / "artifacts" / "server.py"
                           : opts.script;
  auto dir = fs::make_temp_dir("kurator-server");
  if (!dir) return;
  m_log = *dir / "server.log";
  std::vector<std::string> args = {"python3", "-u", script.string()};
  if (!opts.root.empty()) args.insert(args.end(), {"--root", opts.root.string()});
  if (!opts.cert.empty()) {
    args.insert(args.end(), {"--cert", opts.cert.string(), "--key", opts.key.string()});
    m_tls = true;
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, m_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "python3", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return;
  m_pid = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = log();
    if (auto p = text.find("PORT "); p != std::string::npos && text.find('\n', p) != std::string::npos) {
      m_port = std::atoi(text.c_str() + p + 5);
      break;
    }
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

LoopbackServer::~LoopbackServer() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGTERM);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
  std::error_code ec;
  if (!m_log.empty()) stdfs::remove_all(m_log.parent_path(), ec);
}

std::string LoopbackServer::url() const {
  return std::string(m_tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(m_port);
}

std::string LoopbackServer::log() const {
  std::ifstream in(m_log);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int LoopbackServer::count(const std::string& needle) const {
  std::istringstream in(log());
  int n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("PORT ", 0) != 0 && line.find(needle) != std::string::npos) ++n;
  return n;
}

namespace {
// Packs `src`'s contents as `top`/ into a reproducible tar.gz at `out` (through the process runner).
std::string pack_tar_gz(const stdfs::path& src, const std::string& top, const stdfs::path& out) {
  auto stage = fs::make_temp_dir("kurator-archive");
  if (!stage) return "cannot create a staging folder: " + stage.error().message;
  std::error_code ec;
  stdfs::create_directories((*stage / top).parent_path(), ec);
  stdfs::copy(src, *stage / top, stdfs::copy_options::recursive, ec);
  std::string why;
  if (ec) {
    why = "copying " + src.string() + ": " + ec.message();
  } else {
    process::SystemRunner runner;
    process::Spec spec;
    spec.argv = {"tar",        "-C",          stage->string(), "--owner=0",  "--group=0",
                 "--mtime=@0", "--sort=name", "-czf",          out.string(), top};
    spec.timeout = std::chrono::seconds(60);
    auto r = runner.run(spec);
    if (!r)
      why = "tar: " + r.error().message;
    else if (!r->success())
      why = r->describe("tar");
  }
  stdfs::remove_all(*stage, ec);
  return why;
}
}  // namespace

FixtureMirror::FixtureMirror(const std::vector<std::string>& names, bool include_test_binaries,
                             const std::vector<FixtureArchive>& archives, const std::vector<FixtureFile>& files) {
  auto tmp = fs::make_temp_dir("kurator-mirror");
  if (!tmp) {
    skip("cannot create a temporary folder for the fixture mirror");
    return;
  }
  m_dir = *tmp / "mirror";
  m_catalog = *tmp / "catalog-overlay.yaml";
  stdfs::create_directories(m_dir);
  std::string overlay = "# Test catalog written by kurator::test::FixtureMirror\nartifacts:\n";

  if (!names.empty() || !archives.empty() || !files.empty()) {
    stdfs::path fixtures = fixtures_dir();
    if (fixtures.empty()) {
      skip("upstream fixtures not found (set KURATOR_FIXTURES or provide ../shared/fixtures/upstream)");
      return;
    }
    auto text = embedded::find("catalog.yaml");
    auto doc =
        text ? yaml::parse_one(*text, "catalog.yaml") : Result<nlohmann::json>(Error("no embedded catalog"));
    if (!doc) {
      skip("cannot read the embedded catalog: " + doc.error().message);
      return;
    }
    for (const auto& name : names) {
      const nlohmann::json* entry = nullptr;
      for (const auto& a : (*doc)["artifacts"])
        if (a.value("name", "") == name && a.value("kind", "") == "files") entry = &a;
      if (!entry) {
        skip("the catalog has no `kind: files` artifact named " + name);
        return;
      }
      std::string version = entry->value("version", "");
      stdfs::path folder = fixtures / (name + "-" + version);
      if (!stdfs::is_directory(folder)) {
        skip("fixture folder missing: " + folder.string());
        return;
      }
      overlay += "  - name: " + name + "\n    version: \"" + version +
                 "\"\n    os: any\n    arch: any\n    files:\n";
      for (const auto& f : (*entry)["files"]) {
        std::string path = f.value("path", ""), url = f.value("url", "");
        if (f.contains("link")) {  // a symlink member: nothing to serve, the overlay keeps it
          overlay += "      - {path: \"" + path + "\", link: \"" + f.value("link", "") + "\"}\n";
          continue;
        }
        stdfs::path src = folder / path;
        auto scheme = url.find("://");
        if (scheme == std::string::npos) {
          skip("catalog entry " + name + ": " + path + " has no url");
          return;
        }
        stdfs::path dst = m_dir / url.substr(scheme + 3);
        stdfs::create_directories(dst.parent_path());
        std::error_code ec;
        stdfs::copy_file(src, dst, stdfs::copy_options::overwrite_existing, ec);
        if (ec) {
          skip("fixture file missing: " + src.string());
          return;
        }
        stdfs::permissions(dst,
                           stdfs::perms::owner_read | stdfs::perms::owner_write | stdfs::perms::group_read |
                               stdfs::perms::others_read,
                           ec);
        overlay +=
            "      - {path: \"" + path + "\", url: \"" + url + "\", sha256: " + sha256_of_file(src) + "}\n";
      }
    }
    for (const auto& want : archives) {
      const nlohmann::json* entry = nullptr;
      for (const auto& a : (*doc)["artifacts"])
        if (a.value("name", "") == want.artifact && a.value("kind", "") == "archive") entry = &a;
      if (!entry) {
        skip("the catalog has no `kind: archive` artifact named " + want.artifact);
        return;
      }
      stdfs::path folder = fixtures / want.fixture_dir;
      if (!stdfs::is_directory(folder)) {
        skip("fixture folder missing: " + folder.string());
        return;
      }
      std::string url = entry->value("url", ""), top = entry->value("path", "");
      auto scheme = url.find("://");
      if (scheme == std::string::npos || top.empty()) {
        skip("catalog entry " + want.artifact + " has no url or path");
        return;
      }
      stdfs::path dst = m_dir / url.substr(scheme + 3);
      stdfs::create_directories(dst.parent_path());
      if (auto why = pack_tar_gz(folder, top, dst); !why.empty()) {
        skip("packing " + folder.string() + " for " + want.artifact + ": " + why);
        return;
      }
      overlay += "  - {name: " + want.artifact + ", version: \"" + entry->value("version", "") +
                 "\", os: " + entry->value("os", "any") + ", arch: " + entry->value("arch", "any") +
                 ", sha256: " + sha256_of_file(dst) + "}\n";
    }
    for (const auto& want : files) {
      const nlohmann::json* entry = nullptr;
      for (const auto& a : (*doc)["artifacts"])
        if (a.value("name", "") == want.artifact && a.value("kind", "") == "yaml") entry = &a;
      if (!entry) {
        skip("the catalog has no `kind: yaml` artifact named " + want.artifact);
        return;
      }
      stdfs::path src = fixtures / want.fixture_file;
      std::string url = entry->value("url", "");
      auto scheme = url.find("://");
      if (scheme == std::string::npos || !stdfs::is_regular_file(src)) {
        skip("fixture file missing for " + want.artifact + ": " + src.string());
        return;
      }
      stdfs::path dst = m_dir / url.substr(scheme + 3);
      stdfs::create_directories(dst.parent_path());
      std::error_code ec;
      stdfs::copy_file(src, dst, stdfs::copy_options::overwrite_existing, ec);
      stdfs::permissions(dst, stdfs::perms::owner_read | stdfs::perms::owner_write | stdfs::perms::group_read |
                                  stdfs::perms::others_read, ec);
      overlay += "  - {name: " + want.artifact + ", version: \"" + entry->value("version", "") +
                 "\", os: any, arch: any, sha256: " + sha256_of_file(src) + "}\n";
    }
  }

  if (include_test_binaries) {
    stdfs::path bins = fs::env("KURATOR_MIRROR_DIR");
    if (bins.empty()) bins = fs::user_home() / ".cache" / "kurator" / "mirror";
    auto text = fs::read_file(bins / "catalog-overlay.yaml");
    if (!text) {
      skip("test binaries not built (run scripts/build-test-binaries.sh): no " +
           (bins / "catalog-overlay.yaml").string());
      return;
    }
    for (const auto& host : stdfs::directory_iterator(bins))
      if (host.is_directory()) stdfs::create_directory_symlink(host.path(), m_dir / host.path().filename());
    // The overlay's entries, appended under our `artifacts:`.
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("  - ", 0) == 0) overlay += line + "\n";
  }

  std::ofstream(m_catalog) << overlay;
  m_server = std::make_unique<LoopbackServer>(LoopbackServer::Options{m_dir, {}, {}, {}});
  if (!m_server->ok()) {
    skip("cannot start the loopback mirror server (python3)");
    return;
  }
  m_ok = true;
}

FixtureMirror::~FixtureMirror() {
  m_server.reset();
  std::error_code ec;
  if (!m_dir.empty()) stdfs::remove_all(m_dir.parent_path(), ec);
}

std::string FixtureMirror::url() const {
  return m_server ? m_server->url() : std::string();
}

std::vector<std::pair<std::string, std::string>> FixtureMirror::env() const {
  return {{"KURATOR_MIRROR", url()}, {"KURATOR_CATALOG", m_catalog.string()}};
}

}  // namespace kurator::test
