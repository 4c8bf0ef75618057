// Certificates and keys for a local control plane, made with OpenSSL (EVP + X509): one cluster CA,
// serving and client certificates signed by it, a service-account key pair and a front-proxy CA.
#pragma once
#include <kurator/util/result.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace kurator::providers::pki {

enum class KeyType { ec_p256, rsa2048 };

struct KeyPair {
  std::string private_pem;  // PKCS#8 "PRIVATE KEY"
  std::string public_pem;   // SubjectPublicKeyInfo "PUBLIC KEY"
};

// A certificate and its private key, both PEM.
struct CertKey {
  std::string cert_pem;
  std::string key_pem;
};

struct CertRequest {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // IPv4 or IPv6 literals
  bool server = false;                    // extendedKeyUsage serverAuth
  bool client = false;                    // extendedKeyUsage clientAuth
  int valid_days = 365;
  KeyType key_type = KeyType::ec_p256;
};

Result<KeyPair> make_key(KeyType type);
// A self-signed CA certificate (basicConstraints CA:TRUE, keyCertSign).
Result<CertKey> make_ca(const std::string& common_name, int valid_days = 3650,
                        KeyType type = KeyType::ec_p256);
// A leaf certificate signed by `ca`.
Result<CertKey> issue(const CertKey& ca, const CertRequest& req);

// What a certificate says (for tests and diagnostics).
struct CertInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  bool server_auth = false;
  bool client_auth = false;
};
Result<CertInfo> inspect(const std::string& cert_pem);
// Ok when `cert_pem` chains to `ca_pem` (and is within its validity period).
Status verify(const std::string& ca_pem, const std::string& cert_pem);
// Ok when `key_pem` is the private key of `cert_pem`.
Status key_matches(const std::string& cert_pem, const std::string& key_pem);

// Everything a local cluster needs, written under `dir` (keys 0600, certificates 0644):
//   ca.crt ca.key                      cluster CA (also the cluster-signing CA of the controller-manager)
//   apiserver.crt/.key                 serving: 127.0.0.1, localhost,
//   kubernetes[.default[.svc[.cluster.local]]],
//                                      the first service IP
//   admin.crt/.key                     client: CN=kurator-admin, O=system:masters
//   controller-manager.crt/.key        client+serving: CN=system:kube-controller-manager
//   scheduler.crt/.key                 client+serving: CN=system:kube-scheduler
//   kwok.crt/.key                      client: CN=kwok-controller, O=system:masters
//   etcd-server.crt/.key               serving for etcd on 127.0.0.1
//   apiserver-etcd-client.crt/.key     client: CN=kube-apiserver-etcd-client
//   sa.key sa.pub                      service-account signing key pair (RSA 2048)
//   front-proxy-ca.crt/.key, front-proxy-client.crt/.key   aggregation layer
//   <extra>.crt/.key                   each of `extra_leaves`, signed by the cluster CA
struct ClusterPkiOptions {
  std::string service_ip = "10.96.0.1";
  int valid_days = 365;
  std::vector<std::pair<std::string, CertRequest>> extra_leaves;  // file base name, request
};
// The extra certificates of the local Karmada (Role::karmada), signed by its cluster CA:
//   karmada-admin            client: CN=system:admin, O=system:masters (karmada-apiserver.config and the
//                            Karmada components; Karmada's RBAC names the user system:admin)
//   karmada-webhook          serving: IP 127.0.0.1, karmada-webhook.<ns>.svc
//   karmada-aggregated-apiserver  serving: IP 127.0.0.1, karmada-aggregated-apiserver.<ns>.svc (the name
//                            the aggregator verifies, whatever address it dials)
std::vector<std::pair<std::string, CertRequest>> karmada_leaves(
    const std::string& namespace_ = "karmada-system");
Status write_cluster_pki(const std::filesystem::path& dir, const ClusterPkiOptions& opts = {});

}  // namespace kurator::providers::pki
