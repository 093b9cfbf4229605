#include "libs/auth/pem.h"

#include <openssl/pem.h>

namespace fabrique::auth {
namespace {

BioPtr ReadOnlyBio(absl::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace

absl::StatusOr<EvpPkeyPtr> GenerateP256Key() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslError(absl::StatusCode::kInternal, "generating a P-256 key");
  return key;
}

absl::StatusOr<EvpPkeyPtr> GenerateRsaKey(int bits) {
  EvpPkeyPtr key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  if (key == nullptr) return OpenSslError(absl::StatusCode::kInternal, "generating an RSA key");
  return key;
}

absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(absl::string_view pem) {
  BioPtr bio = ReadOnlyBio(pem);
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (key == nullptr) return OpenSslError(absl::StatusCode::kInvalidArgument, "no PEM private key");
  return key;
}

absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "encoding a private key as PEM");
  }
  return BioContents(bio.get());
}

absl::StatusOr<X509Ptr> CertificateFromPem(absl::string_view pem) {
  BioPtr bio = ReadOnlyBio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (cert == nullptr)
    return OpenSslError(absl::StatusCode::kInvalidArgument, "no PEM certificate");
  return cert;
}

absl::StatusOr<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "encoding a certificate as PEM");
  }
  return BioContents(bio.get());
}

}  // namespace fabrique::auth
