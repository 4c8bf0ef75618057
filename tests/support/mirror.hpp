// Loopback servers and a local mirror of the upstream fixtures, so tests download through the real
// artifact code path (catalog -> mirror rewrite -> HTTP client -> sha256 -> cache).
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kurator::test {

// A Python server on 127.0.0.1 (a free port), started by the test and ended with the object:
// tests/data/artifacts/server.py by default (see its routes), or another script that prints "PORT <n>".
class LoopbackServer {
 public:
  struct Options {
    std::filesystem::path root;  // folder served
    std::filesystem::path cert;  // with key: HTTPS
    std::filesystem::path key;
    std::filesystem::path script;  // default: tests/data/artifacts/server.py
  };
  explicit LoopbackServer(Options opts);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  bool ok() const { return m_port > 0; }
  int port() const { return m_port; }
  // http://127.0.0.1:<port> (https:// with a certificate)
  std::string url() const;
  // Everything the server printed (one "REQ …" line per request).
  std::string log() const;
  // Requests whose log line contains `needle`.
  int count(const std::string& needle) const;

 private:
  int m_pid = -1;
  int m_port = 0;
  bool m_tls = false;
  std::filesystem::path m_log;
};

// A chosen subset of shared/fixtures/upstream served as a mirror laid out like the upstream hosts
// (<dir>/raw.githubusercontent.com/<owner>/<repo>/refs/tags/<tag>/<path>), plus a catalog overlay with
// the sha256 of every file served. `names` are catalog artifacts of kind `files` (karmada, istio,
// prometheus-operator, …; fixture folder <name>-<version>). With `include_test_binaries`, the mirror that
// scripts/build-test-binaries.sh publishes (~/.cache/kurator/mirror, or $KURATOR_MIRROR_DIR) is served
// too, with its catalog-overlay.yaml. When something is missing, ok() is false and the reason has been
// reported with skip().
//
// `archives` adds catalog artifacts of kind `archive` (release tarballs such as karmada-crds, the
// crds.tar.gz of a Karmada release) packed from a fixture folder: the folder's contents under the
// artifact's `path` (so it extracts the way the release does), served at the artifact's URL, with the
// tar.gz's sha256 in the overlay.
struct FixtureArchive {
  std::string artifact;     // catalog name, e.g. "karmada-crds"
  std::string fixture_dir;  // relative to fixtures_dir(), e.g. "karmada-v1.18.2/crds"
};

// `files` adds catalog artifacts of kind `yaml` (one release file such as cluster-api's core-components.yaml)
// served at the artifact's URL from a fixture file, with its sha256 in the overlay.
struct FixtureFile {
  std::string artifact;      // catalog name, e.g. "cluster-api-core-components"
  std::string fixture_file;  // relative to fixtures_dir(), e.g. "cluster-api-v1.14.0/release/core-components.yaml"
};

class FixtureMirror {
 public:
  explicit FixtureMirror(const std::vector<std::string>& names, bool include_test_binaries = false,
                         const std::vector<FixtureArchive>& archives = {},
                         const std::vector<FixtureFile>& files = {});
  ~FixtureMirror();
  bool ok() const { return m_ok; }
  std::string url() const;  // the mirror base (--mirror / KURATOR_MIRROR)
  const std::filesystem::path& catalog() const { return m_catalog; }  // overlay (--catalog / KURATOR_CATALOG)
  const std::filesystem::path& dir() const { return m_dir; }
  // {KURATOR_MIRROR, url()}, {KURATOR_CATALOG, catalog()}: for run_kurator.
  std::vector<std::pair<std::string, std::string>> env() const;
  LoopbackServer* server() { return m_server.get(); }

 private:
  bool m_ok = false;
  std::filesystem::path m_dir;
  std::filesystem::path m_catalog;
  std::unique_ptr<LoopbackServer> m_server;
};

// sha256 of a file, lower-case hex (empty when unreadable).
std::string sha256_of_file(const std::filesystem::path& file);

}  // namespace kurator::test
