#include "libs/auth/x509_authority.h"

#include "absl/strings/str_cat.h"
#include "libs/auth/pem.h"
#include "libs/auth/x509_builder.h"
#include "libs/auth/x509_identity.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {

absl::StatusOr<CertificateAuthority> CertificateAuthority::Create(absl::string_view common_name,
                                                                  absl::Time now,
                                                                  absl::Duration validity) {
  ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateP256Key());
  CertificateSpec spec;
  spec.common_name = std::string(common_name);
  spec.is_ca = true;
  spec.not_before = now - kCertificateBackdate;
  spec.not_after = now + validity;
  ASSIGN_OR_RETURN(X509Ptr cert, BuildCertificate(spec, key.get(), nullptr, key.get()));
  return CertificateAuthority(std::move(cert), std::move(key));
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::FromPem(absl::string_view cert_pem,
                                                                   absl::string_view key_pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, CertificateFromPem(cert_pem));
  ASSIGN_OR_RETURN(EvpPkeyPtr key, PrivateKeyFromPem(key_pem));
  if (X509_check_ca(cert.get()) == 0) {
    return absl::InvalidArgumentError("the CA certificate is not a CA's (basicConstraints)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("the CA key is not the CA certificate's key");
  }
  return CertificateAuthority(std::move(cert), std::move(key));
}

absl::StatusOr<std::string> CertificateAuthority::CertPem() const {
  return CertificateToPem(cert_.get());
}

absl::StatusOr<std::string> CertificateAuthority::KeyPem() const {
  return PrivateKeyToPem(key_.get());
}

absl::StatusOr<IssuedCertificate> IssueCertificate(const CertificateAuthority& ca,
                                                   absl::string_view service, absl::Time now,
                                                   absl::Duration validity) {
  RETURN_IF_ERROR(ValidateServiceName(service));
  ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateP256Key());
  const std::string host = absl::StrCat("fabrique-", service);
  CertificateSpec spec;
  spec.common_name = host;
  spec.uris = {ServiceSpiffeId(service)};
  spec.dns_names = {"localhost", host};
  spec.ip_addresses = {"127.0.0.1", "::1"};
  spec.not_before = now - kCertificateBackdate;
  spec.not_after = now + validity;
  ASSIGN_OR_RETURN(X509Ptr cert, BuildCertificate(spec, key.get(), ca.cert(), ca.key()));
  IssuedCertificate issued;
  ASSIGN_OR_RETURN(issued.cert_pem, CertificateToPem(cert.get()));
  ASSIGN_OR_RETURN(issued.key_pem, PrivateKeyToPem(key.get()));
  return issued;
}

}  // namespace fabrique::auth
