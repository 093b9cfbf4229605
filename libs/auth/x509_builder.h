#ifndef FABRIQUE_LIBS_AUTH_X509_BUILDER_H_
#define FABRIQUE_LIBS_AUTH_X509_BUILDER_H_

// Builds and signs X.509 v3 certificates: a CA's own, or a service's signed by a CA. One place
// decides the extensions, so every certificate Fabrique makes has the same shape.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/auth/x509_openssl.h"

namespace fabrique::auth {

struct CertificateSpec {
  // The subject's CN, e.g. "fabrique-trainer".
  std::string common_name;
  // True for a CA (basicConstraints CA:TRUE, keyUsage keyCertSign and cRLSign); false for a
  // service (CA:FALSE, digitalSignature, extendedKeyUsage serverAuth and clientAuth).
  bool is_ca = false;
  // subjectAltName entries, e.g. "spiffe://fabrique/service/trainer", "localhost", "::1".
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  absl::Time not_before;
  absl::Time not_after;
};

// Returns a certificate for `spec` and `subject_key`'s public key, signed (SHA-256) by
// `issuer_key` as `issuer` (its subject becomes the issuer name). A null `issuer` makes it
// self-signed: `issuer_key` must then be `subject_key`'s own. The serial number is 128 random bits.
absl::StatusOr<X509Ptr> BuildCertificate(const CertificateSpec& spec, EVP_PKEY* subject_key,
                                         X509* issuer, EVP_PKEY* issuer_key);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_X509_BUILDER_H_
