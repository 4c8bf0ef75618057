// Artifacts: the one way kurator gets files from upstream (binaries, archives, charts, release YAML).
// A pinned catalog (manifests/catalog.yaml + user overlays) says what to fetch and which sha256 to
// expect; downloads go through the one HTTP client, are verified while streaming, land in a cache under
// $KURATOR_HOME/cache/<name>/<version>/<os>-<arch>/ only once verified, and are reused with zero network
// requests. Mirrors rewrite URLs; offline bundles carry artifacts to machines without network.
#pragma once
#include <kurator/core/http.hpp>
#include <kurator/util/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::artifacts {
namespace stdfs = std::filesystem;

// ---------------------------------------------------------------------------------------------------
// Catalog

enum class Kind { binary, archive, chart, yaml, files };
std::string_view to_string(Kind kind);
std::optional<Kind> parse_kind(std::string_view text);

// One member of a `kind: files` artifact: a file (`{path, url, sha256}`), or a symbolic link
// (`{path, link: TARGET}`), which upstream keeps in git as a blob holding the link text. A link is made,
// never downloaded: it has no url, and its sha256 is the digest of the target text (upstream's blob
// digest). The target is relative and stays inside the artifact folder (see link_problem); no other
// member may lie inside a link.
struct FileEntry {
  std::string path;    // relative path inside the artifact folder
  std::string url;     // upstream URL (empty for a link)
  std::string sha256;  // lower-case hex; empty: unknown; for a link: sha256 of `link`
  std::string link;    // non-empty: a symlink to this relative target
  bool is_link() const { return !link.empty(); }
};

// Why a link at `path` (relative to the artifact folder) pointing to `target` is refused, or nullopt:
// the target must be relative, with '..' only at its start and no more of them than the link's folder
// is deep, must not point at the link itself or a folder holding it, and holds no control characters.
// e.g. "points outside the artifact folder: '../../etc'".
std::optional<std::string> link_problem(std::string_view path, std::string_view target);

// The first refused member of a `kind: files` list: a path that is absolute or has '..', a duplicate, a
// bad link (link_problem), or a member inside a link. `field` is "path" or "link".
struct MemberProblem {
  size_t index = 0;
  std::string field;
  std::string why;
};
std::optional<MemberProblem> files_problem(const std::vector<FileEntry>& files);

struct Artifact {
  std::string name;
  std::string version;
  std::string os = "any";    // linux, darwin, any
  std::string arch = "any";  // amd64, arm64, any
  Kind kind = Kind::binary;
  std::string url;               // upstream URL (not for kind files)
  std::string sha256;            // lower-case hex; empty: no published digest known ("unknown")
  std::string path;              // archive: the binary or folder inside it
  std::vector<FileEntry> files;  // kind files
  std::string source;            // the catalog file that last set this entry (for messages)

  bool digest_known() const;  // every digest this artifact needs is known
  // "kubectl@v1.35.4 (linux/amd64)"
  std::string id() const;
  // The file name the download is stored under in the cache (last URL segment).
  std::string file_name() const;
};

struct Platform {
  std::string os;
  std::string arch;
  // The machine kurator runs on (uname), as Go names it: linux/amd64, linux/arm64.
  static Platform host();
};

class Catalog {
 public:
  // The catalog embedded in the binary (manifests/catalog.yaml). Fatal if it does not parse.
  static Catalog builtin();
  // Parses a full catalog. `source` names the text in errors.
  static Result<Catalog> parse(std::string_view text, const std::string& source);

  // Adds or overrides entries from an overlay (user catalog, catalog-overlay.yaml of
  // scripts/build-test-binaries.sh): entries matched by (name, version, os, arch) override the fields
  // they set; new entries must be complete. Errors name the file and the field:
  // "/home/u/.kurator/catalog.yaml: artifacts[2].sha256: must be 64 hex digits or 'unknown'".
  Status merge(std::string_view text, const std::string& source);
  Status merge_file(const stdfs::path& file);

  // The entry for name at version (empty: the default version) for the platform; an entry with
  // os/arch `any` matches every platform.
  const Artifact* find(const std::string& name, const std::string& version = {},
                       const Platform& platform = Platform::host()) const;
  // Every entry of a name (all versions and platforms).
  std::vector<const Artifact*> find_all(const std::string& name) const;
  std::optional<std::string> default_version(const std::string& name) const;
  const std::vector<Artifact>& artifacts() const { return m_artifacts; }
  const std::map<std::string, std::string>& defaults() const { return m_defaults; }
  const std::map<std::string, std::vector<std::string>>& components() const { return m_components; }
  // Artifact names for a list of component or artifact names; error for an unknown one.
  Result<std::vector<std::string>> resolve_components(const std::vector<std::string>& names) const;
  // One entry per name at its default version for the platform (what `--all` means).
  std::vector<const Artifact*> defaults_for(const Platform& platform = Platform::host()) const;

 private:
  std::vector<Artifact> m_artifacts;
  std::map<std::string, std::string> m_defaults;
  std::map<std::string, std::vector<std::string>> m_components;
};

// The builtin catalog, then $home/catalog.yaml when present, then every file of KURATOR_CATALOG
// (separated by ':'), then `extra` (--catalog) in order.
Result<Catalog> load_catalog(const stdfs::path& home, const std::vector<std::string>& extra = {});

// "kubectl" / "kubectl@v1.35.4" -> {name, version}.
std::pair<std::string, std::string> split_ref(const std::string& ref);

// ---------------------------------------------------------------------------------------------------
// Mirrors and user config

struct MirrorRule {
  std::string from;  // URL prefix
  std::string to;    // replacement prefix (http(s):// or file:///dir/)
};

struct UserConfig {
  std::vector<MirrorRule> mirrors;
};
// Reads $home/config.yaml (`mirrors: [{from, to}]`); a missing file is an empty config.
Result<UserConfig> load_user_config(const stdfs::path& home);

// The URL a download really uses: the first matching rule's prefix replaced; else, with a mirror base,
// scheme and host replaced (https://dl.k8s.io/release/x -> <mirror>/dl.k8s.io/release/x); else `url`.
std::string rewrite_url(const std::string& url, const std::vector<MirrorRule>& rules,
                        const std::string& mirror);

// HTTPS_PROXY/HTTP_PROXY/NO_PROXY (both spellings) from kurator's environment, with both spellings
// filled in, for every subprocess kurator starts (helm, kubectl, ansible-playbook…).
std::map<std::string, std::string> proxy_env();

// ---------------------------------------------------------------------------------------------------
// Hashing

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string hex();  // finishes; the object is reset afterwards
  void reset();

 private:
  void* m_ctx;
};
std::string sha256_hex(std::string_view data);
Result<std::string> sha256_file(const stdfs::path& file);
bool is_sha256(std::string_view text);

// ---------------------------------------------------------------------------------------------------
// Download

struct DownloadOptions {
  std::string ca_file;
  std::string proxy;  // explicit proxy; empty: from the environment
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds timeout{0};     // whole transfer, 0: none
  long low_speed_bytes = 1024;              // abort below this many bytes/s…
  std::chrono::seconds low_speed_time{30};  // …for this long (0: off)
  http::RetryPolicy retry;
  bool progress = true;  // progress on stderr (a bar on a TTY, plain lines otherwise)
  std::string label;     // shown in progress lines
  // Counts requests made (tests, "zero network requests" checks).
  long* requests_made = nullptr;
};

// Downloads `url` (http, https or file://) into `dest`: streamed into `dest`.partial (resumed when a
// partial file is there), hashed while streaming, renamed to `dest` only when the digest equals
// `expected_sha256` (empty: not checked). On a mismatch the file is deleted and the error names both
// digests. Returns the actual sha256.
Result<std::string> download(const std::string& url, const stdfs::path& dest,
                             const std::string& expected_sha256, const DownloadOptions& opts);

// ---------------------------------------------------------------------------------------------------
// Extraction

struct ExtractLimits {
  size_t max_entries = 20000;
  std::uint64_t max_total_bytes = 8ull << 30;  // 8 GiB unpacked
};
// Extracts a tar(.gz/.xz/.bz2/.zst) or zip into `dest` (which must not exist yet), refusing entries with
// `..`, absolute paths, links pointing outside, device files, and archives over the limits. Works in a
// temporary folder next to `dest` and renames it into place when complete: a refused archive leaves
// nothing behind.
Status extract(const stdfs::path& archive, const stdfs::path& dest, const ExtractLimits& limits = {});

// ---------------------------------------------------------------------------------------------------
// Cache

struct Options {
  stdfs::path home;               // $KURATOR_HOME
  std::string mirror;             // --mirror / KURATOR_MIRROR
  std::vector<MirrorRule> rules;  // from config.yaml
  std::string sha256_override;    // --sha256 for a single artifact
  bool allow_unverified = false;
  bool offline = false;  // never download; only the cache
  DownloadOptions download;
  std::chrono::seconds lock_timeout{600};
  Platform platform = Platform::host();
};

// Options from the environment and the user config: mirror from KURATOR_MIRROR, rules from
// $home/config.yaml, KURATOR_CA_FILE.
Result<Options> default_options(const stdfs::path& home);

// What the artifact commands take from the command line (and installers can pass through).
struct StoreFlags {
  std::string mirror;                 // --mirror (overrides KURATOR_MIRROR)
  std::string ca_file;                // --ca-file (overrides KURATOR_CA_FILE)
  std::vector<std::string> catalogs;  // --catalog FILE...
  std::string sha256;                 // --sha256
  bool allow_unverified = false;      // --allow-unverified
  bool offline = false;               // --offline
};

struct Fetched {
  Artifact artifact;
  stdfs::path dir;          // the artifact's cache folder
  stdfs::path path;         // binary / file / extracted path / folder of files
  std::string sha256;       // of the downloaded file (files: of the sorted list "sha  path[ -> link]\n")
  bool downloaded = false;  // false: served from the cache with no network request
  bool verified = true;     // false: accepted with --allow-unverified
};

class Store {
 public:
  Store(Catalog catalog, Options opts);

  const Catalog& catalog() const { return m_catalog; }
  const Options& options() const { return m_opts; }
  Options& options() { return m_opts; }

  // The artifact's cache folder.
  stdfs::path cache_dir(const Artifact& a) const;
  stdfs::path cache_root() const { return m_opts.home / "cache"; }

  // Resolves name[@version] for the store's platform. A version the catalog does not know is an error
  // unless --sha256 was given (then the URL of the default version's entry with the version replaced
  // is used).
  Result<Artifact> resolve(const std::string& name, const std::string& version = {}) const;

  // Cached and matching the catalog: no network. Else downloads (through the mirror), verifies,
  // extracts, records metadata. Two processes ensuring the same artifact do one download (flock).
  Result<Fetched> ensure(const std::string& name, const std::string& version = {});
  Result<Fetched> ensure(const Artifact& artifact);
  // The cached artifact when present and consistent with the catalog entry (no hashing, no network).
  std::optional<Fetched> cached(const Artifact& artifact) const;

  // Puts already-present files into the cache (bundle import): `source` is the downloaded file (or,
  // for kind files, a folder holding them at their paths), verified against the artifact's digests.
  Result<Fetched> install_from(const Artifact& artifact, const stdfs::path& source);

  struct VerifyIssue {
    std::string id;
    std::string problem;
  };
  struct VerifyReport {
    int checked = 0;
    std::vector<VerifyIssue> issues;
  };
  // Re-hashes every cached artifact against its metadata and the catalog.
  VerifyReport verify_cache() const;
  // Removes cached artifacts that are not the default version in the catalog (all when `all`), and
  // leftover partial downloads and temporary folders. Returns the removed folders.
  std::vector<stdfs::path> prune(bool all) const;

 private:
  Result<Fetched> fetch_locked(const Artifact& a, const std::string& expected);
  Status place_download(const Artifact& a, const stdfs::path& dir, const stdfs::path& file);
  Status write_metadata(const Fetched& f) const;

  Catalog m_catalog;
  Options m_opts;
};

// The store every command uses: load_catalog(home, flags.catalogs), default_options(home), then the flags.
Result<Store> open_store(const stdfs::path& home, const StoreFlags& flags = {});

// ---------------------------------------------------------------------------------------------------
// Offline bundles

struct BundleEntry {
  Artifact artifact;
  std::string file;  // member path inside the bundle (folder for kind files)
};
// Writes a tar.gz holding every artifact (fetched through the store when not cached) and index.json.
Status create_bundle(Store& store, const std::vector<const Artifact*>& artifacts, const stdfs::path& out);
// Verifies every entry against index.json and the catalog and fills the cache. Returns what was imported.
Result<std::vector<Fetched>> import_bundle(Store& store, const stdfs::path& bundle);

}  // namespace kurator::artifacts
