#ifndef FABRIQUE_LIBS_AUTH_PEM_H_
#define FABRIQUE_LIBS_AUTH_PEM_H_

// PEM text to and from OpenSSL keys and certificates, and the key generation the local authority
// and tests need. Private keys are PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted: the file's mode
// (0600) is their protection, as for a kubelet's or kind's keys.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/x509_openssl.h"

namespace fabrique::auth {

// Returns a fresh EC P-256 key pair (ES256 tokens, the CA and service certificates).
absl::StatusOr<EvpPkeyPtr> GenerateP256Key();

// Returns a fresh RSA key pair of `bits` bits (RS256 tokens).
absl::StatusOr<EvpPkeyPtr> GenerateRsaKey(int bits);

// Parses a PEM private key. INVALID_ARGUMENT when `pem` holds none.
absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(absl::string_view pem);

// Returns `key`'s private key as PKCS#8 PEM.
absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key);

// Parses the first certificate in `pem`. INVALID_ARGUMENT when it holds none.
absl::StatusOr<X509Ptr> CertificateFromPem(absl::string_view pem);

// Returns `cert` as PEM.
absl::StatusOr<std::string> CertificateToPem(X509* cert);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_PEM_H_
