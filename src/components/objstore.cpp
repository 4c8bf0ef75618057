// The object-store config check: thanos-io/objstore (71d60dfee488) client/factory.go reads
// {type, config, prefix} with UnmarshalStrict and upper-cases the type; each provider's Config struct
// (providers/*/*.go, their yaml tags) and validate() say which keys exist and which are required.
// No message here contains a value from the file: it holds credentials.
#include <kurator/components/thanos.hpp>
#include <kurator/util/yaml.hpp>

#include <algorithm>
#include <cctype>
#include <map>

namespace kurator::components::thanos {
namespace {

// A schema: key -> null (a single value), "map" (a free string map) or a nested schema object.
const json& http_config_schema() {
  static const json s = {{"idle_conn_timeout", nullptr},
                         {"response_header_timeout", nullptr},
                         {"insecure_skip_verify", nullptr},
                         {"tls_handshake_timeout", nullptr},
                         {"expect_continue_timeout", nullptr},
                         {"max_idle_conns", nullptr},
                         {"max_idle_conns_per_host", nullptr},
                         {"max_conns_per_host", nullptr},
                         {"disable_compression", nullptr},
                         {"tls_config",
                          {{"ca_file", nullptr},
                           {"cert_file", nullptr},
                           {"key_file", nullptr},
                           {"server_name", nullptr},
                           {"insecure_skip_verify", nullptr}}}};
  return s;
}

json leaves(std::initializer_list<const char*> keys) {
  json s = json::object();
  for (const char* k : keys) s[k] = nullptr;
  return s;
}

const std::map<std::string, json>& schemas() {
  static const std::map<std::string, json> m = [] {
    std::map<std::string, json> s;
    json s3 = leaves({"bucket", "endpoint", "region", "disable_dualstack", "aws_sdk_auth", "access_key",
                      "insecure", "signature_version2", "secret_key", "session_token", "list_objects_version",
                      "bucket_lookup_type", "send_content_md5", "disable_multipart", "part_size",
                      "sts_endpoint", "max_retries"});
    s3["put_user_metadata"] = "map";
    s3["http_config"] = http_config_schema();
    s3["trace"] = leaves({"enable"});
    s3["sse_config"] = leaves({"type", "kms_key_id", "encryption_key"});
    s3["sse_config"]["kms_encryption_context"] = "map";
    s["S3"] = s3;
    // `no_auth` is an unexported field of gcs.Config: yaml refuses it.
    json gcs = leaves(
        {"bucket", "service_account", "use_grpc", "grpc_conn_pool_size", "chunk_size_bytes", "max_retries"});
    gcs["http_config"] = http_config_schema();
    s["GCS"] = gcs;
    json azure = leaves({"az_tenant_id", "client_id", "client_secret", "storage_account",
                         "storage_account_key", "storage_connection_string", "storage_create_container",
                         "container", "endpoint", "user_assigned_id", "max_retries", "msi_resource"});
    azure["reader_config"] = leaves({"max_retry_requests"});
    azure["pipeline_config"] = leaves({"max_tries", "try_timeout", "retry_delay", "max_retry_delay"});
    azure["http_config"] = http_config_schema();
    s["AZURE"] = azure;
    json swift = leaves({"auth_version",
                         "auth_url",
                         "username",
                         "user_domain_name",
                         "user_domain_id",
                         "user_id",
                         "password",
                         "domain_id",
                         "domain_name",
                         "application_credential_id",
                         "application_credential_name",
                         "application_credential_secret",
                         "project_id",
                         "project_name",
                         "project_domain_id",
                         "project_domain_name",
                         "region_name",
                         "container_name",
                         "large_object_chunk_size",
                         "large_object_segments_container_name",
                         "retries",
                         "connect_timeout",
                         "timeout",
                         "use_dynamic_large_objects"});
    swift["http_config"] = http_config_schema();
    s["SWIFT"] = swift;
    json cos = leaves({"bucket", "region", "app_id", "endpoint", "secret_key", "secret_id", "max_retries"});
    cos["http_config"] = http_config_schema();
    s["COS"] = cos;
    s["ALIYUNOSS"] = leaves({"endpoint", "bucket", "access_key_id", "access_key_secret"});
    s["FILESYSTEM"] = leaves({"directory"});
    s["BOS"] = leaves({"bucket", "endpoint", "access_key", "secret_key"});
    json oci = leaves({"provider", "bucket", "compartment_ocid", "tenancy_ocid", "user_ocid", "region",
                       "fingerprint", "privatekey", "passphrase", "part_size", "max_request_retries",
                       "request_retry_interval"});
    oci["http_config"] =
        leaves({"idle_conn_timeout", "response_header_timeout", "insecure_skip_verify",
                "tls_handshake_timeout", "expect_continue_timeout", "max_idle_conns",
                "max_idle_conns_per_host", "max_conns_per_host", "disable_compression", "client_timeout"});
    s["OCI"] = oci;
    json obs = leaves({"bucket", "endpoint", "access_key", "secret_key", "max_retries"});
    obs["http_config"] = http_config_schema();
    s["OBS"] = obs;
    return s;
  }();
  return m;
}

// A key is named in messages only when it looks like a field name (a mis-indented line could turn a
// secret into a key).
std::string key_name(const std::string& k) {
  bool plain = !k.empty() && k.size() <= 64 && std::all_of(k.begin(), k.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.';
  });
  return plain ? k : std::string("<a key that is not a field name>");
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> keys_of(const json& schema) {
  std::vector<std::string> k;
  for (auto it = schema.begin(); it != schema.end(); ++it) k.push_back(it.key());
  return k;
}

const char* kSchemaHint =
    "see https://thanos.io/tip/thanos/storage.md for the fields of each object-store type";

// Keys not in `schema` are refused; nested schemas recurse.
Status check_keys(const json& value, const json& schema, const std::string& path, const std::string& type,
                  const std::string& source) {
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string field = path + "." + key_name(it.key());
    auto s = schema.find(it.key());
    if (s == schema.end())
      return Error(source + ": " + field + ": unknown field for type " + type, ExitCode::usage,
                   "remove it or fix its spelling; " + std::string(kSchemaHint));
    const json& v = it.value();
    if (s->is_null()) {
      if (v.is_object() || v.is_array())
        return Error(
            source + ": " + field + ": must be a single value, not a " + (v.is_object() ? "mapping" : "list"),
            ExitCode::usage, kSchemaHint);
    } else if (s->is_string()) {  // a free map of strings
      if (!v.is_null() && !v.is_object())
        return Error(source + ": " + field + ": must be a mapping", ExitCode::usage, kSchemaHint);
    } else {
      if (v.is_null()) continue;
      if (!v.is_object())
        return Error(source + ": " + field + ": must be a mapping with the fields " + join(keys_of(*s)),
                     ExitCode::usage, kSchemaHint);
      KURATOR_TRY(check_keys(v, *s, field, type, source));
    }
  }
  return {};
}

// The value of a single-value field as text ("" when absent or null).
std::string text_of(const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}
bool has(const json& cfg, const char* key) {
  return !text_of(cfg, key).empty();
}
bool truthy(const json& cfg, const char* key) {
  auto it = cfg.find(key);
  return it != cfg.end() && it->is_boolean() && it->get<bool>();
}

struct Checker {
  const json& cfg;
  const std::string& type;
  const std::string& source;

  Error required(const std::string& field) const {
    return Error(source + ": config." + field + ": required for type " + type, ExitCode::usage,
                 "add it under `config:`; " + std::string(kSchemaHint));
  }
  Error together(const std::string& field, const std::string& other) const {
    return Error(
        source + ": config." + field + ": required when config." + other + " is set (type " + type + ")",
        ExitCode::usage, "set both, or neither to use the environment's credentials");
  }
  Error exclusive(const std::string& field, const std::string& other) const {
    return Error(source + ": config." + field + ": cannot be set together with config." + other + " (type " +
                     type + ")",
                 ExitCode::usage, "keep only one of them");
  }
  Error invalid(const std::string& field, const std::string& allowed) const {
    return Error(source + ": config." + field + ": not a supported value (type " + type + ")",
                 ExitCode::usage, "use one of " + allowed);
  }
  Status need(std::initializer_list<const char*> fields) const {
    for (const char* f : fields)
      if (!has(cfg, f)) return required(f);
    return {};
  }
  Status pair(const char* a, const char* b) const {
    if (has(cfg, a) && !has(cfg, b)) return together(b, a);
    if (has(cfg, b) && !has(cfg, a)) return together(a, b);
    return {};
  }
};

Status check_type_rules(const Checker& c) {
  const json& cfg = c.cfg;
  const std::string& t = c.type;
  if (t == "S3") {
    KURATOR_TRY(c.need({"bucket", "endpoint"}));
    if (truthy(cfg, "aws_sdk_auth") && has(cfg, "access_key"))
      return c.exclusive("access_key", "aws_sdk_auth");
    KURATOR_TRY(c.pair("access_key", "secret_key"));
    if (auto v = text_of(cfg, "list_objects_version"); !v.empty() && v != "v1" && v != "v2")
      return c.invalid("list_objects_version", "v1, v2");
    if (auto v = text_of(cfg, "bucket_lookup_type");
        !v.empty() && v != "auto" && v != "virtual-hosted" && v != "path")
      return c.invalid("bucket_lookup_type", "auto, virtual-hosted, path");
    if (auto sse = cfg.find("sse_config"); sse != cfg.end() && sse->is_object()) {
      auto st = text_of(*sse, "type");
      if (!st.empty() && st != "SSE-S3" && st != "SSE-KMS" && st != "SSE-C")
        return c.invalid("sse_config.type", "SSE-S3, SSE-KMS, SSE-C");
      if (st == "SSE-C" && !has(*sse, "encryption_key"))
        return c.together("sse_config.encryption_key", "sse_config.type");
      if (st == "SSE-KMS" && !has(*sse, "kms_key_id"))
        return c.together("sse_config.kms_key_id", "sse_config.type");
    }
  } else if (t == "GCS") {
    KURATOR_TRY(c.need({"bucket"}));
  } else if (t == "AZURE") {
    KURATOR_TRY(c.need({"storage_account", "container"}));
    if (has(cfg, "user_assigned_id")) {
      for (const char* other : {"storage_account_key", "storage_connection_string", "client_id"})
        if (has(cfg, other)) return c.exclusive(other, "user_assigned_id");
    }
    if (has(cfg, "az_tenant_id") || has(cfg, "client_id") || has(cfg, "client_secret")) {
      for (const char* f : {"az_tenant_id", "client_id", "client_secret"})
        if (!has(cfg, f)) return c.together(f, "az_tenant_id/client_id/client_secret");
    }
    if (has(cfg, "storage_account_key") && has(cfg, "storage_connection_string"))
      return c.exclusive("storage_connection_string", "storage_account_key");
  } else if (t == "SWIFT") {
    KURATOR_TRY(c.need({"auth_url", "container_name"}));
  } else if (t == "COS") {
    if (has(cfg, "endpoint")) {
      KURATOR_TRY(c.need({"secret_id", "secret_key"}));
    } else {
      KURATOR_TRY(c.need({"bucket", "app_id", "region", "secret_id", "secret_key"}));
    }
  } else if (t == "ALIYUNOSS") {
    KURATOR_TRY(c.need({"endpoint", "bucket", "access_key_id", "access_key_secret"}));
  } else if (t == "FILESYSTEM") {
    KURATOR_TRY(c.need({"directory"}));
  } else if (t == "BOS") {
    KURATOR_TRY(c.need({"bucket", "endpoint", "access_key", "secret_key"}));
  } else if (t == "OCI") {
    KURATOR_TRY(c.need({"provider"}));
    std::string p = text_of(cfg, "provider");
    std::transform(p.begin(), p.end(), p.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (p != "default" && p != "instance-principal" && p != "raw" && p != "oke-workload-identity")
      return c.invalid("provider", "default, instance-principal, raw, oke-workload-identity");
    if (p == "raw") KURATOR_TRY(c.need({"tenancy_ocid", "user_ocid", "region", "fingerprint", "privatekey"}));
  } else if (t == "OBS") {
    KURATOR_TRY(c.need({"endpoint", "access_key", "secret_key"}));
  }
  return {};
}

}  // namespace

const std::vector<std::string>& objstore_types() {
  static const std::vector<std::string> t = {"GCS",       "S3",         "AZURE", "SWIFT", "COS",
                                             "ALIYUNOSS", "FILESYSTEM", "BOS",   "OCI",   "OBS"};
  return t;
}

Result<ObjstoreConfig> check_objstore(std::string_view text, const std::string& source) {
  const std::string example = "e.g. `type: S3` and `config: {bucket: ..., endpoint: ...}`";
  auto doc = yaml::parse_one(text, source);
  if (!doc) {
    // Keep only "<source>: line L, column C": the parser's own words could quote the file.
    std::string m = doc.error().message;
    if (auto cut = m.find(": invalid YAML"); cut != std::string::npos) m.resize(cut);
    return Error(m + ": not valid YAML", ExitCode::usage,
                 "an object-store config is a YAML mapping with `type`, `config` and optionally `prefix`");
  }
  const json& root = *doc;
  if (root.is_null())
    return Error(source + ": empty: expected a mapping with `type` and `config`", ExitCode::usage, example);
  if (!root.is_object())
    return Error(source + ": not a mapping: expected `type`, `config` and optionally `prefix`",
                 ExitCode::usage, example);
  for (auto it = root.begin(); it != root.end(); ++it)
    if (it.key() != "type" && it.key() != "config" && it.key() != "prefix")
      return Error(source + ": " + key_name(it.key()) + ": unknown field (allowed: type, config, prefix)",
                   ExitCode::usage, "object-store settings belong under `config:`");
  auto t = root.find("type");
  if (t == root.end() || t->is_null() || (t->is_string() && t->get<std::string>().empty()))
    return Error(source + ": type: required", ExitCode::usage, "one of " + join(objstore_types()));
  if (!t->is_string())
    return Error(source + ": type: must be a name", ExitCode::usage, "one of " + join(objstore_types()));
  std::string type = t->get<std::string>();
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::toupper(c); });
  const auto& types = objstore_types();
  if (std::find(types.begin(), types.end(), type) == types.end()) {
    std::string what = type == "MEMORY" ? "MEMORY (in-process, for tests) is not supported"
                                        : "not a supported object-store type";
    return Error(source + ": type: " + what, ExitCode::usage, "use one of " + join(types));
  }
  if (auto p = root.find("prefix"); p != root.end() && (p->is_object() || p->is_array()))
    return Error(source + ": prefix: must be a single value (a path inside the bucket)", ExitCode::usage);
  json cfg = json::object();
  if (auto c = root.find("config"); c != root.end() && !c->is_null()) {
    if (!c->is_object())
      return Error(source + ": config: must be a mapping of the " + type + " settings", ExitCode::usage,
                   kSchemaHint);
    cfg = *c;
  }
  KURATOR_TRY(check_keys(cfg, schemas().at(type), "config", type, source));
  KURATOR_TRY(check_type_rules(Checker{cfg, type, source}));
  return ObjstoreConfig{type, std::string(text)};
}

}  // namespace kurator::components::thanos
