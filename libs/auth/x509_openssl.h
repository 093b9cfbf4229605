#ifndef FABRIQUE_LIBS_AUTH_X509_OPENSSL_H_
#define FABRIQUE_LIBS_AUTH_X509_OPENSSL_H_

// Owners for the OpenSSL objects the auth library handles (keys, certificates, contexts), so that
// no error path leaks one, and the one way to turn OpenSSL's error queue into a status.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace fabrique::auth {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

template <typename T, void (*Free)(T*)>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter<T, Free>>;

using EvpPkeyPtr = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtxPtr = OpenSslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpMdCtxPtr = OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using BignumPtr = OpenSslPtr<BIGNUM, BN_free>;
using EcdsaSigPtr = OpenSslPtr<ECDSA_SIG, ECDSA_SIG_free>;
using OsslParamBldPtr = OpenSslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using OsslParamPtr = OpenSslPtr<OSSL_PARAM, OSSL_PARAM_free>;
using X509Ptr = OpenSslPtr<X509, X509_free>;
using X509StorePtr = OpenSslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = OpenSslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using X509ExtensionPtr = OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using GeneralNamesPtr = OpenSslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using Asn1IntegerPtr = OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;

// BIO_free returns int, so it needs a wrapper to fit OpenSslPtr.
inline void BioFree(BIO* bio) { BIO_free(bio); }
using BioPtr = OpenSslPtr<BIO, BioFree>;

// Returns `code` with "<what>: <OpenSSL's queued errors>" and empties the thread's error queue, so
// a later failure does not report this one's reasons.
absl::Status OpenSslError(absl::StatusCode code, absl::string_view what);

// Empties the thread's error queue (after an expected failure, e.g. a signature that does not
// verify), so the next OpenSslError reports only its own reasons.
void ClearOpenSslErrors();

// Returns the bytes a memory BIO holds.
std::string BioContents(BIO* bio);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_X509_OPENSSL_H_
