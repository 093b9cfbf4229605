#ifndef FABRIQUE_LIBS_AUTH_X509_AUTHORITY_H_
#define FABRIQUE_LIBS_AUTH_X509_AUTHORITY_H_

// A certificate authority (an EC P-256 CA certificate and its key) and the certificates it issues
// to services: CN "fabrique-<service>", SANs spiffe://fabrique/service/<service>, localhost,
// fabrique-<service>, 127.0.0.1 and ::1, usable as a TLS server and as a TLS client.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/auth/x509_openssl.h"

namespace fabrique::auth {

// Certificates start this long before they are made, so a peer whose clock is a little behind
// does not refuse a certificate issued a moment ago.
inline constexpr absl::Duration kCertificateBackdate = absl::Minutes(5);

class CertificateAuthority {
 public:
  // Returns a new CA with a fresh P-256 key and a self-signed certificate with CN `common_name`,
  // valid from `now` (less kCertificateBackdate) for `validity`.
  static absl::StatusOr<CertificateAuthority> Create(absl::string_view common_name, absl::Time now,
                                                     absl::Duration validity);
  // Loads a CA from its PEM certificate and private key. INVALID_ARGUMENT when either does not
  // parse, the certificate is not a CA's, or the key is not the certificate's.
  static absl::StatusOr<CertificateAuthority> FromPem(absl::string_view cert_pem,
                                                      absl::string_view key_pem);

  X509* cert() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  absl::StatusOr<std::string> CertPem() const;
  absl::StatusOr<std::string> KeyPem() const;

 private:
  CertificateAuthority(X509Ptr cert, EvpPkeyPtr key)
      : cert_(std::move(cert)), key_(std::move(key)) {}
  X509Ptr cert_;
  EvpPkeyPtr key_;
};

// A certificate and its private key, both PEM.
struct IssuedCertificate {
  std::string cert_pem;
  std::string key_pem;
};

// Returns a certificate for `service` (a fresh P-256 key) signed by `ca`, valid from `now` (less
// kCertificateBackdate) for `validity`. INVALID_ARGUMENT for a service name that is empty or not
// made of lower-case letters, digits and '-'.
absl::StatusOr<IssuedCertificate> IssueCertificate(const CertificateAuthority& ca,
                                                   absl::string_view service, absl::Time now,
                                                   absl::Duration validity);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_X509_AUTHORITY_H_
