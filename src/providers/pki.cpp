#include <kurator/providers/pki.hpp>
#include <kurator/util/fs.hpp>

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace kurator::providers::pki {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

Error ssl_error(const std::string& what) {
  std::string msg = what;
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return Error(msg);
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Result<PkeyPtr> generate(KeyType type) {
  EVP_PKEY* key = nullptr;
  if (type == KeyType::rsa2048)
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  else
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!key) return ssl_error("generating a key");
  return PkeyPtr(key);
}

Result<std::string> private_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return ssl_error("encoding a private key");
  return bio_string(bio.get());
}

Result<std::string> public_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return ssl_error("encoding a public key");
  return bio_string(bio.get());
}

Result<std::string> cert_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return ssl_error("encoding a certificate");
  return bio_string(bio.get());
}

Result<PkeyPtr> load_key(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!key) return ssl_error("reading a private key");
  return PkeyPtr(key);
}

Result<X509Ptr> load_cert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509* cert = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!cert) return ssl_error("reading a certificate");
  return X509Ptr(cert);
}

Status add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) return ssl_error("building certificate extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  if (X509_add_ext(cert, ext.get(), -1) != 1) return ssl_error("adding a certificate extension");
  return {};
}

struct Subject {
  std::string common_name;
  std::vector<std::string> organizations;
};

// Builds and signs a certificate for `key`; `issuer`/`issuer_key` null means self-signed.
Result<X509Ptr> build_cert(EVP_PKEY* key, const Subject& subject, X509* issuer, EVP_PKEY* issuer_key,
                           int valid_days, bool is_ca, const CertRequest* leaf) {
  X509Ptr cert(X509_new());
  if (!cert) return ssl_error("allocating a certificate");
  X509_set_version(cert.get(), 2);
  // A random positive 127-bit serial number.
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    return ssl_error("making a serial number");
  // Valid from an hour ago (clock skew between processes is irrelevant here, but harmless).
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 24 * 3600);
  if (X509_set_pubkey(cert.get(), key) != 1) return ssl_error("setting the public key");

  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : subject.organizations)
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.c_str()),
                               -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(subject.common_name.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1)
    return ssl_error("setting the issuer name");

  KURATOR_TRY(add_ext(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (issuer) KURATOR_TRY(add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  if (is_ca) {
    KURATOR_TRY(add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"));
    KURATOR_TRY(add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"));
  } else {
    KURATOR_TRY(add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE"));
    KURATOR_TRY(add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
    std::string eku;
    if (leaf && leaf->server) eku += "serverAuth";
    if (leaf && leaf->client) eku += std::string(eku.empty() ? "" : ",") + "clientAuth";
    if (!eku.empty()) KURATOR_TRY(add_ext(cert.get(), signer, NID_ext_key_usage, eku));
    if (leaf && (!leaf->dns_names.empty() || !leaf->ip_addresses.empty())) {
      std::string san;
      for (const auto& d : leaf->dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
      for (const auto& ip : leaf->ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
      KURATOR_TRY(add_ext(cert.get(), signer, NID_subject_alt_name, san));
    }
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) <= 0)
    return ssl_error("signing the certificate for " + subject.common_name);
  return cert;
}

std::string asn1_string(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

Result<KeyPair> make_key(KeyType type) {
  auto key = generate(type);
  if (!key) return key.error();
  auto priv = private_pem(key->get());
  if (!priv) return priv.error();
  auto pub = public_pem(key->get());
  if (!pub) return pub.error();
  return KeyPair{std::move(*priv), std::move(*pub)};
}

Result<CertKey> make_ca(const std::string& common_name, int valid_days, KeyType type) {
  auto key = generate(type);
  if (!key) return key.error();
  auto cert = build_cert(key->get(), {common_name, {}}, nullptr, nullptr, valid_days, true, nullptr);
  if (!cert) return cert.error();
  auto c = cert_pem(cert->get());
  if (!c) return c.error();
  auto k = private_pem(key->get());
  if (!k) return k.error();
  return CertKey{std::move(*c), std::move(*k)};
}

Result<CertKey> issue(const CertKey& ca, const CertRequest& req) {
  auto ca_cert = load_cert(ca.cert_pem);
  if (!ca_cert) return ca_cert.error().context("CA certificate");
  auto ca_key = load_key(ca.key_pem);
  if (!ca_key) return ca_key.error().context("CA key");
  for (const auto& ip : req.ip_addresses) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, ip.c_str(), buf) != 1 && inet_pton(AF_INET6, ip.c_str(), buf) != 1)
      return Error("certificate for " + req.common_name + ": not an IP address: " + ip);
  }
  auto key = generate(req.key_type);
  if (!key) return key.error();
  auto cert = build_cert(key->get(), {req.common_name, req.organizations}, ca_cert->get(), ca_key->get(),
                         req.valid_days, false, &req);
  if (!cert) return cert.error();
  auto c = cert_pem(cert->get());
  if (!c) return c.error();
  auto k = private_pem(key->get());
  if (!k) return k.error();
  return CertKey{std::move(*c), std::move(*k)};
}

Result<CertInfo> inspect(const std::string& pem) {
  auto cert = load_cert(pem);
  if (!cert) return cert.error();
  CertInfo info;
  X509_NAME* name = X509_get_subject_name(cert->get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    std::string v = asn1_string(X509_NAME_ENTRY_get_data(e));
    if (nid == NID_commonName) info.common_name = v;
    if (nid == NID_organizationName) info.organizations.push_back(v);
  }
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type == GEN_DNS) info.dns_names.push_back(asn1_string(gn->d.dNSName));
      if (gn->type == GEN_IPADD) {
        std::string raw = asn1_string(gn->d.iPAddress);
        char buf[INET6_ADDRSTRLEN] = {};
        if (raw.size() == 4) inet_ntop(AF_INET, raw.data(), buf, sizeof buf);
        if (raw.size() == 16) inet_ntop(AF_INET6, raw.data(), buf, sizeof buf);
        info.ip_addresses.emplace_back(buf);
      }
    }
    GENERAL_NAMES_free(sans);
  }
  info.is_ca = X509_check_ca(cert->get()) != 0;
  uint32_t xku = X509_get_extended_key_usage(cert->get());
  info.server_auth = (xku & XKU_SSL_SERVER) != 0;
  info.client_auth = (xku & XKU_SSL_CLIENT) != 0;
  return info;
}

Status verify(const std::string& ca_pem, const std::string& pem) {
  auto ca = load_cert(ca_pem);
  if (!ca) return ca.error();
  auto cert = load_cert(pem);
  if (!cert) return cert.error();
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca->get()) != 1)
    return ssl_error("building a trust store");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1) return ssl_error("verifying");
  if (X509_verify_cert(ctx.get()) != 1)
    return Error(std::string("certificate does not verify against the CA: ") +
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  return {};
}

Status key_matches(const std::string& pem, const std::string& key_pem) {
  auto cert = load_cert(pem);
  if (!cert) return cert.error();
  auto key = load_key(key_pem);
  if (!key) return key.error();
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return Error("the private key does not belong to the certificate");
  }
  return {};
}

Status write_cluster_pki(const std::filesystem::path& dir, const ClusterPkiOptions& opts) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error(dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);

  auto write_pair = [&](const std::string& base, const CertKey& ck) -> Status {
    KURATOR_TRY(fs::write_file_atomic(dir / (base + ".crt"), ck.cert_pem, 0644));
    return fs::write_private_file(dir / (base + ".key"), ck.key_pem);
  };

  auto ca = make_ca("kurator-local-ca", 3650);
  if (!ca) return ca.error();
  KURATOR_TRY(write_pair("ca", *ca));

  struct Leaf {
    std::string file;
    CertRequest req;
  };
  const std::vector<std::string> loopback_ips = {"127.0.0.1", "::1"};
  std::vector<Leaf> leaves;
  {
    CertRequest r;
    r.common_name = "kube-apiserver";
    r.dns_names = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                   "kubernetes.default.svc.cluster.local"};
    r.ip_addresses = {"127.0.0.1", "::1", opts.service_ip};
    r.server = true;
    leaves.push_back({"apiserver", r});
  }
  {
    CertRequest r;
    r.common_name = "kurator-admin";
    r.organizations = {"system:masters"};
    r.client = true;
    leaves.push_back({"admin", r});
  }
  for (auto [file, cn] : {std::pair{"controller-manager", "system:kube-controller-manager"},
                          std::pair{"scheduler", "system:kube-scheduler"}}) {
    CertRequest r;
    r.common_name = cn;
    r.dns_names = {"localhost"};
    r.ip_addresses = loopback_ips;
    r.client = true;
    r.server = true;  // also serves its /healthz with it
    leaves.push_back({file, r});
  }
  {
    CertRequest r;
    r.common_name = "kwok-controller";
    r.organizations = {"system:masters"};
    r.client = true;
    leaves.push_back({"kwok", r});
  }
  {
    CertRequest r;
    r.common_name = "etcd-server";
    r.dns_names = {"localhost"};
    r.ip_addresses = loopback_ips;
    r.server = true;
    r.client = true;  // etcd checks its own peer/client use of the same cert
    leaves.push_back({"etcd-server", r});
  }
  {
    CertRequest r;
    r.common_name = "kube-apiserver-etcd-client";
    r.client = true;
    leaves.push_back({"apiserver-etcd-client", r});
  }
  for (const auto& [file, req] : opts.extra_leaves) leaves.push_back({file, req});
  for (auto& leaf : leaves) {
    leaf.req.valid_days = opts.valid_days;
    auto ck = issue(*ca, leaf.req);
    if (!ck) return ck.error().context("certificate " + leaf.file);
    KURATOR_TRY(write_pair(leaf.file, *ck));
  }

  // Aggregation layer: its own CA, and the client certificate the apiserver presents to extension
  // apiservers.
  auto fp_ca = make_ca("kurator-front-proxy-ca", 3650);
  if (!fp_ca) return fp_ca.error();
  KURATOR_TRY(write_pair("front-proxy-ca", *fp_ca));
  CertRequest fp;
  fp.common_name = "front-proxy-client";
  fp.client = true;
  fp.valid_days = opts.valid_days;
  auto fp_client = issue(*fp_ca, fp);
  if (!fp_client) return fp_client.error();
  KURATOR_TRY(write_pair("front-proxy-client", *fp_client));

  auto sa = make_key(KeyType::rsa2048);
  if (!sa) return sa.error();
  KURATOR_TRY(fs::write_private_file(dir / "sa.key", sa->private_pem));
  KURATOR_TRY(fs::write_file_atomic(dir / "sa.pub", sa->public_pem, 0644));
  return {};
}

std::vector<std::pair<std::string, CertRequest>> karmada_leaves(const std::string& namespace_) {
  std::vector<std::pair<std::string, CertRequest>> out;
  CertRequest admin;
  admin.common_name = "system:admin";
  admin.organizations = {"system:masters"};
  admin.client = true;
  out.emplace_back("karmada-admin", admin);
  for (const std::string name : {"karmada-webhook", "karmada-aggregated-apiserver"}) {
    CertRequest r;
    r.common_name = name;
    const std::string svc = name + "." + namespace_ + ".svc";
    r.dns_names = {"localhost", name, name + "." + namespace_, svc, svc + ".cluster.local"};
    r.ip_addresses = {"127.0.0.1", "::1"};
    r.server = true;
    out.emplace_back(name, r);
  }
  return out;
}

}  // namespace kurator::providers::pki
