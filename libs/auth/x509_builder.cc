#include "libs/auth/x509_builder.h"

#include <openssl/rand.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

constexpr int kSerialBytes = 16;

absl::Status Failed(absl::string_view what) {
  return OpenSslError(absl::StatusCode::kInternal, absl::StrCat("building a certificate: ", what));
}

absl::Status SetRandomSerial(X509* cert) {
  unsigned char bytes[kSerialBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return Failed("random serial");
  bytes[0] &= 0x7f;  // Serial numbers are positive (RFC 5280 4.1.2.2).
  BignumPtr bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  Asn1IntegerPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (serial == nullptr || X509_set_serialNumber(cert, serial.get()) != 1) return Failed("serial");
  return absl::OkStatus();
}

absl::Status SetValidity(X509* cert, absl::Time not_before, absl::Time not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(cert), absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), absl::ToTimeT(not_after)) == nullptr) {
    return Failed("validity");
  }
  return absl::OkStatus();
}

// Adds extension `nid` with OpenSSL's configuration syntax `value`, e.g. "critical,CA:TRUE".
absl::Status AddExtension(X509V3_CTX* ctx, X509* cert, int nid, const std::string& value) {
  X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (extension == nullptr || X509_add_ext(cert, extension.get(), -1) != 1) {
    return Failed(absl::StrCat(OBJ_nid2sn(nid), " = ", value));
  }
  return absl::OkStatus();
}

std::string SubjectAltNames(const CertificateSpec& spec) {
  std::vector<std::string> names;
  for (const std::string& uri : spec.uris) names.push_back("URI:" + uri);
  for (const std::string& dns : spec.dns_names) names.push_back("DNS:" + dns);
  for (const std::string& ip : spec.ip_addresses) names.push_back("IP:" + ip);
  return absl::StrJoin(names, ",");
}

absl::Status AddExtensions(const CertificateSpec& spec, X509* cert, X509* issuer) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
  RETURN_IF_ERROR(AddExtension(&ctx, cert, NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(AddExtension(&ctx, cert, NID_authority_key_identifier, "keyid:always"));
  if (spec.is_ca) {
    // pathlen:0: the authority signs services, never another CA.
    RETURN_IF_ERROR(AddExtension(&ctx, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    RETURN_IF_ERROR(AddExtension(&ctx, cert, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    RETURN_IF_ERROR(AddExtension(&ctx, cert, NID_basic_constraints, "critical,CA:FALSE"));
    RETURN_IF_ERROR(AddExtension(&ctx, cert, NID_key_usage, "critical,digitalSignature"));
    RETURN_IF_ERROR(AddExtension(&ctx, cert, NID_ext_key_usage, "serverAuth,clientAuth"));
  }
  const std::string sans = SubjectAltNames(spec);
  if (!sans.empty()) RETURN_IF_ERROR(AddExtension(&ctx, cert, NID_subject_alt_name, sans));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<X509Ptr> BuildCertificate(const CertificateSpec& spec, EVP_PKEY* subject_key,
                                         X509* issuer, EVP_PKEY* issuer_key) {
  if (spec.common_name.empty()) return absl::InvalidArgumentError("a certificate needs a CN");
  if (spec.not_after <= spec.not_before) {
    return absl::InvalidArgumentError("a certificate must end after it begins");
  }
  X509Ptr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1) return Failed("new");
  RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  RETURN_IF_ERROR(SetValidity(cert.get(), spec.not_before, spec.not_after));
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                 -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(),
                           issuer != nullptr ? X509_get_subject_name(issuer) : subject) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    return Failed("names and key");
  }
  RETURN_IF_ERROR(AddExtensions(spec, cert.get(), issuer));
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) return Failed("signature");
  return cert;
}

}  // namespace fabrique::auth
