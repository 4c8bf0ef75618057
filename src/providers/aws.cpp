// The aws provider's machine-free parts: the AwsCluster config (file and flags) and its checks, AWS
// credentials read as the AWS SDK's default chain reads them and encoded as clusterawsadm does, and the
// cluster objects rendered from CAPA's cluster-template.yaml as `clusterctl generate cluster` renders them.
#include <kurator/providers/aws.hpp>
#include <kurator/providers/versions.hpp>
#include <kurator/util/base64.hpp>
#include <kurator/util/envsubst.hpp>
#include <kurator/util/fs.hpp>
#include <kurator/util/ipv4.hpp>
#include <kurator/util/yaml.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <map>
#include <regex>
#include <set>
#include <utility>

namespace kurator::providers::aws {
namespace {

const std::string kStartHint =
    "start from the sample: kurator create cluster NAME --provider aws --print-config";
const std::string kNameRules =
    "use lower-case letters, digits and '-', starting and ending with a letter or digit, at most " +
    std::to_string(kMaxClusterNameLength) + " characters";

// CAPA's VPC when the AWSCluster names none (cluster-api-provider-aws v2.11.1 api/v1beta2/network_types.go,
// VPCSpec.CidrBlock "Defaults to 10.0.0.0/16"): the machines' addresses.
constexpr uint32_t kVpcBase = 10u << 24;
constexpr int kVpcPrefix = 16;
const std::string kVpcCidr = "10.0.0.0/16";

std::string in_quotes(const std::string& s) {
  return "\"" + s + "\"";
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string join(std::initializer_list<const char*> v, const std::string& sep) {
  return join(std::vector<std::string>(v.begin(), v.end()), sep);
}

bool dns_label(const std::string& s, std::size_t max) {
  static const std::regex label(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?)");
  return !s.empty() && s.size() <= max && std::regex_match(s, label);
}

// Where a setting came from, for its errors: a flag ("--region", a usage error) or a field of the file
// ("cluster.yaml: spec.region"); defaults are named like the field the user would set.
struct Origin {
  std::string label;
  bool flag = false;
};

Error fail(const Origin& at, const std::string& what, std::string hint) {
  return Error(at.label + ": " + what, at.flag ? ExitCode::usage : ExitCode::failure, std::move(hint));
}

template <class T>
struct Setting {
  T value{};
  Origin origin;
  bool given = false;  // set by the file or a flag (not a default)
};

// Reads the fields of one config file, naming the file in every error.
class FileReader {
 public:
  explicit FileReader(std::string file) : m_file(std::move(file)) {}
  Origin at(const std::string& field) const { return {m_file + ": " + field, false}; }
  Error fail(const std::string& field, const std::string& what, std::string hint) const {
    return Error(m_file + ": " + (field.empty() ? "" : field + ": ") + what, ExitCode::failure,
                 std::move(hint));
  }
  // Refuses keys of `obj` (the mapping at `field`) that are not in `keys`.
  Status only(const json& obj, const std::string& field, std::initializer_list<const char*> keys) const {
    for (auto it = obj.begin(); it != obj.end(); ++it)
      if (std::find_if(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; }) == keys.end())
        return fail(
            field, "unknown field " + in_quotes(it.key()),
            (field.empty() ? "the fields are " : "the fields of " + field + " are ") + join(keys, ", "));
    return {};
  }
  // A mapping; nullptr when absent or null.
  Result<const json*> mapping(const json& obj, const char* key, const std::string& field,
                              std::initializer_list<const char*> keys) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return static_cast<const json*>(nullptr);
    if (!it->is_object())
      return fail(field, "must be a mapping (got " + it->dump() + ")", "its fields are " + join(keys, ", "));
    KURATOR_TRY(only(*it, field, keys));
    return &*it;
  }
  Result<std::optional<std::string>> str(const json* obj, const char* key, const std::string& field) const {
    if (!obj) return std::optional<std::string>();
    auto it = obj->find(key);
    if (it == obj->end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string())
      return fail(field, "must be a string (got " + it->dump() + ")",
                  "quote the value: " + std::string(key) + ": \"...\"");
    return std::optional<std::string>(it->get<std::string>());
  }
  Result<std::optional<long long>> integer(const json* obj, const char* key, const std::string& field) const {
    if (!obj) return std::optional<long long>();
    auto it = obj->find(key);
    if (it == obj->end() || it->is_null()) return std::optional<long long>();
    if (!it->is_number_integer())
      return fail(field, "must be an integer (got " + it->dump() + ")",
                  "write a whole number: " + std::string(key) + ": 3");
    return std::optional<long long>(it->get<long long>());
  }

 private:
  std::string m_file;
};

// Fills `s` from the file's value (when present).
template <class T>
void from_file(Setting<T>& s, const std::optional<T>& v) {
  if (!v) return;
  s.value = *v;
  s.given = true;
}

template <class T, class U>
void from_flag(Setting<T>& s, const std::optional<U>& v, const char* flag) {
  if (!v) return;
  s.value = *v;
  s.origin = {flag, true};
  s.given = true;
}

using net::Cidr;
using net::ipv4_text;
using net::parse_ipv4;

// An IPv4 network a.b.c.d/n with no host bits set and a prefix in [min_prefix, max_prefix].
Result<Cidr> parse_cidr(const Setting<std::string>& s, int min_prefix, int max_prefix,
                        const std::string& example, const std::string& why) {
  const std::string& text = s.value;
  auto slash = text.find('/');
  static const std::regex prefix_re(R"((0|[1-9][0-9]?))");
  std::optional<uint32_t> ip;
  if (slash != std::string::npos) ip = parse_ipv4(text.substr(0, slash));
  std::string prefix = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (!ip || !std::regex_match(prefix, prefix_re) || std::stoi(prefix) > 32)
    return fail(s.origin, in_quotes(text) + " is not an IPv4 network (a.b.c.d/n)", "e.g. " + example);
  Cidr out{*ip, std::stoi(prefix)};
  if ((out.base & out.mask()) != out.base)
    return fail(s.origin, text + " has host bits set",
                "did you mean " + ipv4_text(out.base & out.mask()) + "/" + prefix + "?");
  if (out.prefix < min_prefix || out.prefix > max_prefix)
    return fail(s.origin,
                text + ": the prefix must be between /" + std::to_string(min_prefix) + " and /" +
                    std::to_string(max_prefix),
                why + ", e.g. " + example);
  return out;
}

// The AWS region shapes of every partition: aws (us-east-1, eu-central-1, ap-southeast-2, il-central-1,
// mx-central-1, ...), aws-cn (cn-north-1), aws-us-gov (us-gov-west-1), the ISO partitions (us-iso-east-1,
// us-isob-east-1, us-isof-south-1, eu-isoe-west-1) and the European Sovereign Cloud (eusc-de-east-1).
bool aws_region(const std::string& s) {
  static const std::regex re(
      R"((af|ap|ca|cn|eu|il|me|mx|sa|us|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc-de)-)"
      R"((central|north|south|east|west|northeast|northwest|southeast|southwest)-[1-9][0-9]?)");
  return std::regex_match(s, re);
}

// EC2 instance types are <family>.<size>: t3.large, m6i.xlarge, m7i-flex.large, u-6tb1.metal,
// i7ie.metal-24xl, ...
bool instance_type(const std::string& s) {
  static const std::regex re(R"([a-z][a-z0-9]*(-[a-z0-9]+)*\.[a-z0-9]+(-[a-z0-9]+)*)");
  return std::regex_match(s, re);
}

// An EC2 key pair name: up to 255 ASCII characters. The template puts it in a double-quoted YAML
// string, so quotes, backslashes and control characters are refused.
bool key_pair_name(const std::string& s) {
  if (s.size() > 255) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
}

bool ami_id(const std::string& s) {
  static const std::regex re(R"(ami-([0-9a-f]{8}|[0-9a-f]{17}))");
  return std::regex_match(s, re);
}

std::string versions_hint() {
  return "Cluster API " + std::string(kClusterApiVersion) + " runs workload clusters v1." +
         std::to_string(kMinKubernetesMinor) + ".x to v1." + std::to_string(kMaxKubernetesMinor) +
         ".x (default " + default_kubernetes_version() + ")";
}

// A DNS-1123 label short enough for the label values Cluster API makes of it.
Status check_name(const std::string& name, const Origin& at) {
  if (!dns_label(name, 63)) return fail(at, in_quotes(name) + " is not a valid cluster name", kNameRules);
  if (name.size() > kMaxClusterNameLength)
    return fail(at,
                in_quotes(name) + " is " + std::to_string(name.size()) + " characters long; the limit is " +
                    std::to_string(kMaxClusterNameLength),
                "Cluster API uses the name in label values of at most 63 characters (the MachineDeployment "
                "NAME-md-0 among them)");
  return {};
}

// The AwsCluster settings, each with where it came from.
struct Settings {
  Setting<std::string> name, namespace_, region, ssh_key_name, kubernetes_version, cp_type, worker_type,
      pod_cidr, service_cidr, cni, ami_id;
  Setting<long long> cp_count, worker_count;
};

// Reads the -f file into `s`.
Status read_file_settings(const stdfs::path& file, Settings& s) {
  auto text = fs::read_file(file);
  if (!text)
    return Error(
        text.error().message, ExitCode::failure,
        "write one with: kurator create cluster NAME --provider aws --print-config > " + file.string());
  FileReader r(file.string());
  auto doc = yaml::parse_one(*text, file.string());
  if (!doc) {
    auto e = doc.error();
    e.hint = kStartHint;
    return e;
  }
  const json& root = *doc;
  if (!root.is_object()) return r.fail("", "not an AwsCluster config (expected a mapping)", kStartHint);
  KURATOR_TRY(r.only(root, "", {"apiVersion", "kind", "metadata", "spec"}));
  const std::string api_hint = "use apiVersion: " + std::string(kApiVersion);
  auto api = r.str(&root, "apiVersion", "apiVersion");
  if (!api) return api.error();
  if (!*api || (*api)->empty()) return r.fail("apiVersion", "is missing", api_hint);
  if (**api != kApiVersion) return r.fail("apiVersion", in_quotes(**api) + " is not supported", api_hint);
  const std::string kind_hint = "use kind: " + std::string(kKind);
  auto kind = r.str(&root, "kind", "kind");
  if (!kind) return kind.error();
  if (!*kind || (*kind)->empty()) return r.fail("kind", "is missing", kind_hint);
  if (**kind != kKind) return r.fail("kind", in_quotes(**kind) + " is not " + std::string(kKind), kind_hint);

  auto metadata = r.mapping(root, "metadata", "metadata", {"name"});
  if (!metadata) return metadata.error();
  auto name = r.str(*metadata, "name", "metadata.name");
  if (!name) return name.error();
  if (*name && !(*name)->empty()) {
    if (s.name.given && **name != s.name.value)
      return r.fail("metadata.name",
                    in_quotes(**name) + " is not the cluster name " + in_quotes(s.name.value),
                    "the NAME argument and metadata.name must agree; drop one of them");
    from_file(s.name, *name);
    s.name.origin = r.at("metadata.name");
  }

  auto spec = r.mapping(root, "spec", "spec",
                        {"region", "sshKeyName", "kubernetesVersion", "controlPlane", "workers", "network",
                         "amiID", "namespace"});
  if (!spec) return spec.error();
  const json* sp = *spec;
  const json* cp = nullptr;
  const json* workers = nullptr;
  const json* network = nullptr;
  if (sp) {
    auto c = r.mapping(*sp, "controlPlane", "spec.controlPlane", {"count", "machineType"});
    if (!c) return c.error();
    cp = *c;
    auto w = r.mapping(*sp, "workers", "spec.workers", {"count", "machineType"});
    if (!w) return w.error();
    workers = *w;
    auto n = r.mapping(*sp, "network", "spec.network", {"podCIDR", "serviceCIDR", "cni"});
    if (!n) return n.error();
    network = *n;
  }
  struct StrField {
    Setting<std::string>& setting;
    const json* obj;
    const char* key;
    const char* field;
  };
  for (const StrField& f : {
           StrField{s.namespace_, sp, "namespace", "spec.namespace"},
           StrField{s.region, sp, "region", "spec.region"},
           StrField{s.ssh_key_name, sp, "sshKeyName", "spec.sshKeyName"},
           StrField{s.kubernetes_version, sp, "kubernetesVersion", "spec.kubernetesVersion"},
           StrField{s.cp_type, cp, "machineType", "spec.controlPlane.machineType"},
           StrField{s.worker_type, workers, "machineType", "spec.workers.machineType"},
           StrField{s.pod_cidr, network, "podCIDR", "spec.network.podCIDR"},
           StrField{s.service_cidr, network, "serviceCIDR", "spec.network.serviceCIDR"},
           StrField{s.cni, network, "cni", "spec.network.cni"},
           StrField{s.ami_id, sp, "amiID", "spec.amiID"},
       }) {
    auto v = r.str(f.obj, f.key, f.field);
    if (!v) return v.error();
    from_file(f.setting, *v);
  }
  auto cp_count = r.integer(cp, "count", "spec.controlPlane.count");
  if (!cp_count) return cp_count.error();
  from_file(s.cp_count, *cp_count);
  auto worker_count = r.integer(workers, "count", "spec.workers.count");
  if (!worker_count) return worker_count.error();
  from_file(s.worker_count, *worker_count);
  return {};
}

// Every check of the settings, in the order the fields appear in the sample; fills `cfg`.
Status check_settings(const Settings& s, AwsClusterConfig& cfg) {
  KURATOR_TRY(check_name(s.name.value, s.name.origin));
  cfg.name = s.name.value;

  if (!dns_label(s.namespace_.value, 63))
    return fail(
        s.namespace_.origin, in_quotes(s.namespace_.value) + " is not a valid namespace name",
        "the management cluster's namespace for the Cluster API objects: a lower-case DNS label (letters, "
        "digits and '-', at most 63 characters)");
  cfg.namespace_ = s.namespace_.value;

  const std::string region_hint =
      "an AWS region code such as us-east-1, eu-central-1, ap-southeast-2, us-gov-west-1 or cn-north-1";
  if (s.region.value.empty())
    return fail(s.region.origin, "is missing", "the region to create the cluster in: " + region_hint);
  if (!aws_region(s.region.value))
    return fail(s.region.origin, in_quotes(s.region.value) + " is not an AWS region", region_hint);
  cfg.region = s.region.value;

  if (!key_pair_name(s.ssh_key_name.value))
    return fail(s.ssh_key_name.origin, in_quotes(s.ssh_key_name.value) + " is not an EC2 key pair name",
                "the name of an EC2 key pair in the region (up to 255 ASCII characters, no quotes or "
                "backslashes), or empty for machines without an SSH key");
  cfg.ssh_key_name = s.ssh_key_name.value;

  auto version = parse_kubernetes_version(s.kubernetes_version.value);
  if (!version)
    return fail(s.kubernetes_version.origin,
                in_quotes(s.kubernetes_version.value) + " is not a version (vMAJOR.MINOR.PATCH)",
                versions_hint());
  cfg.kubernetes_version = "v" + std::to_string((*version)[0]) + "." + std::to_string((*version)[1]) + "." +
                           std::to_string((*version)[2]);
  if ((*version)[0] != 1 || (*version)[1] < kMinKubernetesMinor || (*version)[1] > kMaxKubernetesMinor)
    return fail(
        s.kubernetes_version.origin,
        cfg.kubernetes_version + " is not supported by Cluster API " + std::string(kClusterApiVersion),
        versions_hint());

  const std::string cp_hint =
      "use 1, 3 or 5: etcd runs on the control-plane machines and needs an odd number of members";
  if (s.cp_count.value < 1)
    return fail(s.cp_count.origin,
                std::to_string(s.cp_count.value) + ": a cluster needs a control-plane machine", cp_hint);
  if (s.cp_count.value % 2 == 0)
    return fail(s.cp_count.origin,
                std::to_string(s.cp_count.value) +
                    " is even; KubeadmControlPlane refuses an even count with "
                    "stacked etcd",
                cp_hint);
  if (s.cp_count.value > 99)
    return fail(s.cp_count.origin, std::to_string(s.cp_count.value) + " is too many", cp_hint);
  cfg.control_plane_count = static_cast<int>(s.cp_count.value);

  const std::string type_hint = "an EC2 instance type <family>.<size>, e.g. t3.large or m6i.xlarge";
  if (!instance_type(s.cp_type.value))
    return fail(s.cp_type.origin, in_quotes(s.cp_type.value) + " is not an EC2 instance type", type_hint);
  cfg.control_plane_machine_type = s.cp_type.value;

  if (s.worker_count.value < 0)
    return fail(s.worker_count.origin, std::to_string(s.worker_count.value) + " is negative",
                "the number of worker machines: 0 or more");
  if (s.worker_count.value > 10000)
    return fail(s.worker_count.origin, std::to_string(s.worker_count.value) + " is too many",
                "the number of worker machines: 0 to 10000");
  cfg.worker_count = static_cast<int>(s.worker_count.value);
  if (!instance_type(s.worker_type.value))
    return fail(s.worker_type.origin, in_quotes(s.worker_type.value) + " is not an EC2 instance type",
                type_hint);
  cfg.worker_machine_type = s.worker_type.value;

  // kube-controller-manager gives every node a /24 of the pod network (kubeadm allows at most 16 bits
  // between the two); kube-apiserver refuses a service network wider than /12.
  auto pod = parse_cidr(s.pod_cidr, 8, 24, "192.168.0.0/16", "every node gets a /24 of the pod network");
  if (!pod) return pod.error();
  auto svc = parse_cidr(s.service_cidr, 12, 28, "10.96.0.0/12", "kube-apiserver takes /12 to /28");
  if (!svc) return svc.error();
  const std::string overlap_hint =
      "pick ranges that do not overlap, e.g. the defaults 192.168.0.0/16 and 10.96.0.0/12";
  if (pod->overlaps(*svc)) {
    if (s.pod_cidr.given)
      return fail(s.pod_cidr.origin,
                  s.pod_cidr.value + " overlaps the service network " + s.service_cidr.value, overlap_hint);
    return fail(s.service_cidr.origin, s.service_cidr.value + " overlaps the pod network " + s.pod_cidr.value,
                overlap_hint);
  }
  const Cidr vpc{kVpcBase, kVpcPrefix};
  for (const auto* one : {&s.pod_cidr, &s.service_cidr}) {
    const Cidr& net = one == &s.pod_cidr ? *pod : *svc;
    if (net.overlaps(vpc))
      return fail(one->origin,
                  one->value + " overlaps " + kVpcCidr + ", the VPC CAPA creates for the machines",
                  "pick a range outside " + kVpcCidr);
  }
  cfg.pod_cidr = s.pod_cidr.value;
  cfg.service_cidr = s.service_cidr.value;

  if (s.cni.value != "calico" && s.cni.value != "none")
    return fail(s.cni.origin, in_quotes(s.cni.value) + " is not a supported network plugin",
                "use calico (installed once the control plane is up) or none (bring your own)");
  cfg.cni = s.cni.value;

  if (!s.ami_id.value.empty() && !ami_id(s.ami_id.value))
    return fail(s.ami_id.origin, in_quotes(s.ami_id.value) + " is not an AMI id",
                "ami- and 8 or 17 hexadecimal digits, e.g. ami-0123456789abcdef0; leave it empty for CAPA's "
                "published AMIs");
  cfg.ami_id = s.ami_id.value;
  return {};
}

// The AWS SDK's shared-credentials INI format (aws-sdk-go-v2 internal/ini): `[name]` sections (the text
// between the brackets trimmed; "[profile x]" names are dropped from a credentials file), `key = value`
// (or `key: value`) lines starting in column 1 with the key lower-cased, both trimmed and one pair of
// surrounding quotes removed, `#` and `;` starting a comment anywhere on a section or key line, indented
// lines continuing the previous value, blank lines, and properties before the first section ignored.
struct IniFile {
  std::map<std::string, std::map<std::string, std::string>> sections;
  std::vector<std::string> order;  // section names as they first appear
};

std::string trim(std::string s, const char* chars = " \t") {
  auto b = s.find_first_not_of(chars);
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(chars);
  return s.substr(b, e - b + 1);
}

std::string trim_comment(const std::string& s) {
  return s.substr(0, std::min(s.find('#'), s.find(';')));
}

// Splits `key = value` or `key: value` (the first separator wins); false when there is none.
bool split_property(const std::string& s, std::string& key, std::string& value) {
  auto eq = s.find('=');
  auto colon = s.find(':');
  auto at = eq == std::string::npos || (colon != std::string::npos && colon < eq) ? colon : eq;
  if (at == std::string::npos) return false;
  key = trim(s.substr(0, at), " \t\r\n\v\f");
  value = trim(s.substr(at + 1), " \t\r\n\v\f");
  return true;
}

std::string unquote(std::string v) {
  if (v.size() > 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = v.find(from, at)) != std::string::npos; at += to.size())
      v.replace(at, from.size(), to);
  };
  replace_all("\\\"", "\"");
  replace_all("\\'", "'");
  replace_all("\\n", "\n");
  return v;
}

// Never puts a line's text in an error: it may hold a secret.
Result<IniFile> parse_ini(const std::string& text, const std::string& source) {
  IniFile out;
  std::string section, key;
  size_t line_no = 0;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string lead = trim(line, " \t");
    if (lead.empty() || lead[0] == '#' || lead[0] == ';') continue;
    bool indented = line[0] == ' ' || line[0] == '\t';
    std::string head = trim(trim_comment(line), " \t");
    if (!indented && head.size() >= 2 && head.front() == '[' && head.back() == ']') {
      std::string name = trim(head.substr(1, head.size() - 2), " \t\r\n\v\f");
      auto space = name.find_first_of(" \t");
      if (space != std::string::npos) name = name.substr(0, space) + " " + trim(name.substr(space), " \t");
      section = name;
      key.clear();
      if (!out.sections.count(section)) out.order.push_back(section);
      out.sections[section];
      continue;
    }
    std::string k, v;
    if (!indented && split_property(head, k, v)) {
      if (section.empty()) continue;  // properties before the first section are ignored, as the SDK does
      std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
      key = k;
      out.sections[section][key] = unquote(v);
      continue;
    }
    if (indented) {
      // A sub-property (`  key = value`, used for nested settings) or a continuation of the value.
      if (!key.empty() && !split_property(lead, k, v)) {
        auto& value = out.sections[section][key];
        if (!value.empty()) value += "\n" + line.substr(line.find_first_not_of(" \t"));
      }
      continue;
    }
    return Error(source + ": line " + std::to_string(line_no) +
                     ": not a [profile] header, a key = value line or a comment",
                 ExitCode::failure, "fix the file; `aws configure` writes it");
  }
  return out;
}

std::optional<std::string> non_empty(const EnvLookup& env, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto v = env(n);
    if (v && !v->empty()) return v;
  }
  return std::nullopt;
}

// Whether a Kubernetes kind of the template is cluster-scoped (everything else gets the namespace).
bool cluster_scoped(const std::string& kind) {
  static const std::set<std::string> kinds = {"Namespace",
                                              "ClusterRole",
                                              "ClusterRoleBinding",
                                              "CustomResourceDefinition",
                                              "StorageClass",
                                              "PriorityClass",
                                              "AWSClusterControllerIdentity",
                                              "AWSClusterRoleIdentity",
                                              "AWSClusterStaticIdentity"};
  return kinds.count(kind) > 0;
}

}  // namespace

std::optional<std::array<int, 3>> parse_kubernetes_version(const std::string& s) {
  static const std::regex re(R"(v?(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3}))");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  return std::array<int, 3>{std::stoi(m[1].str()), std::stoi(m[2].str()), std::stoi(m[3].str())};
}

std::string default_kubernetes_version() {
  return std::string(versions::kubernetes);
}

Status check_cluster_name(const std::string& name) {
  return check_name(name, Origin{"cluster name", true});
}

Result<AwsClusterConfig> load_config(const std::string& name, const stdfs::path& file,
                                     const ConfigFlags& flags) {
  const AwsClusterConfig defaults;
  const bool has_file = !file.empty();
  auto origin = [&](const std::string& field, const char* flag) {
    return has_file ? Origin{file.string() + ": " + field, false} : Origin{flag, true};
  };
  Settings s;
  s.name = {name, {"cluster name", true}, !name.empty()};
  s.namespace_ = {defaults.namespace_, origin("spec.namespace", "--namespace")};
  s.region = {defaults.region, origin("spec.region", "--region")};
  s.ssh_key_name = {defaults.ssh_key_name, origin("spec.sshKeyName", "--ssh-key-name")};
  s.kubernetes_version = {default_kubernetes_version(),
                          origin("spec.kubernetesVersion", "--kubernetes-version")};
  s.cp_count = {defaults.control_plane_count, origin("spec.controlPlane.count", "--control-plane-count")};
  s.cp_type = {defaults.control_plane_machine_type,
               origin("spec.controlPlane.machineType", "--control-plane-machine-type")};
  s.worker_count = {defaults.worker_count, origin("spec.workers.count", "--worker-count")};
  s.worker_type = {defaults.worker_machine_type, origin("spec.workers.machineType", "--worker-machine-type")};
  s.pod_cidr = {defaults.pod_cidr, origin("spec.network.podCIDR", "--pod-cidr")};
  s.service_cidr = {defaults.service_cidr, origin("spec.network.serviceCIDR", "--service-cidr")};
  s.cni = {defaults.cni, origin("spec.network.cni", "--cni")};
  s.ami_id = {defaults.ami_id, origin("spec.amiID", "--ami-id")};

  if (!name.empty()) KURATOR_TRY(check_cluster_name(name));
  if (has_file) KURATOR_TRY(read_file_settings(file, s));
  if (!s.name.given)
    return Error("cluster name: is missing", ExitCode::usage,
                 has_file ? "give it: kurator create cluster NAME --provider aws, or set metadata.name in " +
                                file.string()
                          : "give it: kurator create cluster NAME --provider aws");

  from_flag(s.namespace_, flags.namespace_, "--namespace");
  from_flag(s.region, flags.region, "--region");
  from_flag(s.ssh_key_name, flags.ssh_key_name, "--ssh-key-name");
  from_flag(s.kubernetes_version, flags.kubernetes_version, "--kubernetes-version");
  from_flag(s.cp_count, flags.control_plane_count, "--control-plane-count");
  from_flag(s.cp_type, flags.control_plane_machine_type, "--control-plane-machine-type");
  from_flag(s.worker_count, flags.worker_count, "--worker-count");
  from_flag(s.worker_type, flags.worker_machine_type, "--worker-machine-type");
  from_flag(s.pod_cidr, flags.pod_cidr, "--pod-cidr");
  from_flag(s.service_cidr, flags.service_cidr, "--service-cidr");
  from_flag(s.cni, flags.cni, "--cni");
  from_flag(s.ami_id, flags.ami_id, "--ami-id");

  AwsClusterConfig cfg;
  cfg.source = file;
  KURATOR_TRY(check_settings(s, cfg));
  return cfg;
}

std::string sample_config(const std::string& name) {
  const AwsClusterConfig d;
  const std::string minors =
      "v1." + std::to_string(kMinKubernetesMinor) + " to v1." + std::to_string(kMaxKubernetesMinor);
  std::string out;
  out += "# A Kubernetes cluster on AWS, made by Cluster API " + std::string(kClusterApiVersion) +
         " and CAPA " + std::string(kCapaVersion) + " (its machines, VPC and\n";
  out += "# load balancer are created in your AWS account and cost money).\n";
  out += "#   kurator create cluster " + (name.empty() ? std::string("NAME") : name) +
         " --provider aws -f this-file.yaml\n";
  out +=
      "# Flags override this file (--region, --ssh-key-name, --control-plane-count, --worker-count, ...).\n";
  out += "apiVersion: " + std::string(kApiVersion) + "\n";
  out += "kind: " + std::string(kKind) + "\n";
  out += "metadata:\n";
  out += "  # Lower-case letters, digits and '-', at most " + std::to_string(kMaxClusterNameLength) +
         " characters.\n";
  out += "  name: " + (name.empty() ? std::string("my-cluster") : name) + "\n";
  out += "spec:\n";
  out +=
      "  # CHANGE ME: the AWS region to create the cluster in (us-east-1, eu-central-1, ap-southeast-2, "
      "...).\n";
  out += "  region: us-east-1\n";
  out += "  # CHANGE ME: an EC2 key pair of that region for SSH to the machines, or \"\" for none.\n";
  out += "  sshKeyName: change-me-ec2-key-pair\n";
  out += "  # Kubernetes " + minors + " (what Cluster API " + std::string(kClusterApiVersion) +
         " supports). Without amiID, CAPA looks up\n";
  out += "  # its own published AMIs, which exist for the newest three minor versions only.\n";
  out += "  kubernetesVersion: " + default_kubernetes_version() + "\n";
  out += "  # The namespace of the management cluster that holds this cluster's Cluster API objects.\n";
  out += "  namespace: " + d.namespace_ + "\n";
  out += "  controlPlane:\n";
  out += "    # 1, 3 or 5: etcd runs on these machines and needs an odd number of members.\n";
  out += "    count: " + std::to_string(d.control_plane_count) + "\n";
  out += "    # An EC2 instance type <family>.<size>.\n";
  out += "    machineType: " + d.control_plane_machine_type + "\n";
  out += "  workers:\n";
  out += "    # 0 or more.\n";
  out += "    count: " + std::to_string(d.worker_count) + "\n";
  out += "    machineType: " + d.worker_machine_type + "\n";
  out += "  network:\n";
  out += "    # IPv4 ranges that overlap neither each other nor " + kVpcCidr + " (the VPC CAPA creates).\n";
  out += "    podCIDR: " + d.pod_cidr + "\n";
  out += "    serviceCIDR: " + d.service_cidr + "\n";
  out += "    # calico (installed once the control plane is up) or none (bring your own).\n";
  out += "    cni: " + d.cni + "\n";
  out +=
      "  # Optional: the AMI of every machine (ami- and 8 or 17 hex digits); empty: CAPA's published AMIs.\n";
  out += "  amiID: \"\"\n";
  return out;
}

Result<Credentials> load_credentials(const EnvLookup& env, const stdfs::path& home,
                                     const std::string& region) {
  Credentials c;
  // clusterawsadm's ResolveRegion (cmd/clusterawsadm/credentials/credentials.go): --region, AWS_REGION,
  // DEFAULT_AWS_REGION, else encode-as-profile's us-east-1. Empty values count as unset here.
  c.region = !region.empty() ? region
                             : non_empty(env, {"AWS_REGION"})
                                   .value_or(non_empty(env, {"DEFAULT_AWS_REGION"}).value_or("us-east-1"));

  // The SDK's environment provider: both keys set and non-empty, each from its first non-empty variable.
  auto access = non_empty(env, {"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"});
  auto secret = non_empty(env, {"AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"});
  if (access && secret) {
    c.access_key_id = *access;
    c.secret_access_key = *secret;
    c.session_token = non_empty(env, {"AWS_SESSION_TOKEN"}).value_or("");
    c.source = "environment";
    return c;
  }
  std::string half_env;  // names only, never values
  if (access) half_env = " (AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not)";
  if (secret) half_env = " (AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not)";

  // Then the shared credentials file's profile.
  auto profile_env = non_empty(env, {"AWS_PROFILE", "AWS_DEFAULT_PROFILE"});
  const std::string profile = profile_env.value_or("default");
  stdfs::path file = home / ".aws" / "credentials";
  if (auto f = non_empty(env, {"AWS_SHARED_CREDENTIALS_FILE"})) {
    file = *f;
    if (f->rfind("~/", 0) == 0) file = home / f->substr(2);
  }
  const std::string where = file.string();
  const std::string setup_hint = "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or write profile " +
                                 in_quotes(profile) + " with `aws configure`";
  std::error_code ec;
  if (!stdfs::exists(file, ec))
    return Error(
        "no AWS credentials: not in the environment" + half_env + ", and " + where + " does not exist",
        ExitCode::failure, setup_hint);
  auto text = fs::read_file(file);
  if (!text) return Error(text.error().message, ExitCode::failure, setup_hint);
  auto ini = parse_ini(*text, where);
  if (!ini) return ini.error();
  std::vector<std::string> profiles;
  for (const auto& n : ini->order)
    if (n.rfind("profile ", 0) != 0) profiles.push_back(n);
  auto section = ini->sections.find(profile);
  const std::string which = in_quotes(profile) + (profile_env ? " (AWS_PROFILE)" : "");
  if (profile.rfind("profile ", 0) == 0 || section == ini->sections.end())
    return Error(where + ": profile " + which + " not found" + half_env, ExitCode::failure,
                 profiles.empty()
                     ? setup_hint
                     : "the file has profile" + std::string(profiles.size() > 1 ? "s " : " ") +
                           join(profiles, ", ") + "; set AWS_PROFILE to one of them, or " + setup_hint);
  const auto& values = section->second;
  for (const char* key : {"aws_access_key_id", "aws_secret_access_key"}) {
    auto it = values.find(key);
    if (it != values.end() && !it->second.empty()) continue;
    std::string hint = "add " + std::string(key) +
                       " to the profile (`aws configure`), or export AWS_ACCESS_KEY_ID "
                       "and AWS_SECRET_ACCESS_KEY";
    for (const char* other :
         {"role_arn", "source_profile", "credential_process", "sso_session", "sso_start_url"})
      if (values.count(other))
        hint = "the profile uses " + std::string(other) +
               ", but kurator reads access keys only: export temporary ones with eval \"$(aws configure "
               "export-credentials --profile " +
               profile + " --format env)\"";
    return Error(where + ": profile " + which + ": " + key + " is missing" + half_env, ExitCode::failure,
                 hint);
  }
  c.access_key_id = values.at("aws_access_key_id");
  c.secret_access_key = values.at("aws_secret_access_key");
  if (auto t = values.find("aws_session_token"); t != values.end()) c.session_token = t->second;
  c.source = "profile " + profile + " in " + where;
  return c;
}

std::string encode_as_profile(const Credentials& c) {
  // cluster-api-provider-aws v2.11.1 cmd/clusterawsadm/credentials/credentials.go, AWSCredentialsTemplate
  // rendered by text/template: the `{{if .SessionToken}}` block keeps its own leading and trailing newline.
  std::string profile = "[default]\naws_access_key_id = " + c.access_key_id +
                        "\naws_secret_access_key = " + c.secret_access_key + "\nregion = " + c.region + "\n";
  if (!c.session_token.empty()) profile += "\naws_session_token = " + c.session_token + "\n";
  profile += "\n";
  return base64::encode(profile);
}

Result<std::vector<json>> render_cluster(const AwsClusterConfig& cfg, std::string_view template_text,
                                         std::string_view source) {
  // What `clusterctl generate cluster NAME --kubernetes-version V --control-plane-machine-count N
  // --worker-machine-count M -n NS` sets (cmd/clusterctl/client/config.go), and the AWS variables the
  // template asks for. Nothing else is set: KUBERNETES_AWS_CCM_VERSION keeps the template's default.
  const std::map<std::string, std::string> vars = {
      {"NAMESPACE", cfg.namespace_},
      {"CLUSTER_NAME", cfg.name},
      {"KUBERNETES_VERSION", cfg.kubernetes_version},
      {"CONTROL_PLANE_MACHINE_COUNT", std::to_string(cfg.control_plane_count)},
      {"WORKER_MACHINE_COUNT", std::to_string(cfg.worker_count)},
      {"AWS_REGION", cfg.region},
      {"AWS_SSH_KEY_NAME", cfg.ssh_key_name},
      {"AWS_CONTROL_PLANE_MACHINE_TYPE", cfg.control_plane_machine_type},
      {"AWS_NODE_MACHINE_TYPE", cfg.worker_machine_type},
  };
  auto text =
      envsubst::substitute(template_text, source, [&](const std::string& n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
      });
  if (!text) return text.error();
  auto docs = yaml::parse_all(*text, source);
  if (!docs) return docs.error();

  const std::string src(source);
  int clusters = 0, machine_templates = 0;
  for (size_t i = 0; i < docs->size(); ++i) {
    json& obj = (*docs)[i];
    const std::string at = src + ": object " + std::to_string(i + 1);
    if (!obj.is_object() || !obj.contains("kind") || !obj["kind"].is_string() || !obj.contains("metadata") ||
        !obj["metadata"].is_object())
      return Error(at + " is not a Kubernetes object (no kind or metadata)");
    const std::string kind = obj["kind"].get<std::string>();
    json& meta = obj["metadata"];
    if (!cluster_scoped(kind)) meta["namespace"] = cfg.namespace_;
    if (!meta.contains("labels") || !meta["labels"].is_object()) meta["labels"] = json::object();
    meta["labels"]["kurator.dev/cluster"] = cfg.name;
    meta["labels"]["kurator.dev/provider"] = "aws";
    if (kind == "Cluster") ++clusters;
    if (kind == "AWSMachineTemplate") ++machine_templates;
    if (!obj.contains("spec") || !obj["spec"].is_object()) continue;
    json& spec = obj["spec"];
    if (kind == "Cluster") {
      spec["clusterNetwork"]["pods"]["cidrBlocks"] = json::array({cfg.pod_cidr});
      spec["clusterNetwork"]["services"]["cidrBlocks"] = json::array({cfg.service_cidr});
    } else if (kind == "AWSMachineTemplate") {
      if (!cfg.ami_id.empty()) spec["template"]["spec"]["ami"]["id"] = cfg.ami_id;
    } else if (kind == "MachineDeployment") {
      // The template leaves `clusterName: ${CLUSTER_NAME}` unquoted: keep it a string whatever the name.
      spec["clusterName"] = cfg.name;
      if (spec.contains("template") && spec["template"].is_object() && spec["template"].contains("spec"))
        spec["template"]["spec"]["clusterName"] = cfg.name;
    }
  }
  if (clusters != 1)
    return Error(src + ": " + std::to_string(clusters) + " Cluster objects; a cluster template has one");
  if (machine_templates == 0) return Error(src + ": no AWSMachineTemplate; not a CAPA cluster template");
  return std::move(*docs);
}

std::string config_yaml(const AwsClusterConfig& c) {
  json doc = {{"apiVersion", std::string(kApiVersion)},
              {"kind", std::string(kKind)},
              {"metadata", {{"name", c.name}}},
              {"spec",
               {{"region", c.region},
                {"sshKeyName", c.ssh_key_name},
                {"kubernetesVersion", c.kubernetes_version},
                {"namespace", c.namespace_},
                {"controlPlane", {{"count", c.control_plane_count}, {"machineType", c.control_plane_machine_type}}},
                {"workers", {{"count", c.worker_count}, {"machineType", c.worker_machine_type}}},
                {"network", {{"podCIDR", c.pod_cidr}, {"serviceCIDR", c.service_cidr}, {"cni", c.cni}}},
                {"amiID", c.ami_id}}}};
  return "# The settings kurator last applied to this cluster (kind " + std::string(kKind) +
         "); scale and upgrade start from them.\n" + yaml::dump(doc);
}

}  // namespace kurator::providers::aws
