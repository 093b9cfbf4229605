#ifndef FABRIQUE_TESTS_AUTH_AUTH_TEST_KEYS_H_
#define FABRIQUE_TESTS_AUTH_AUTH_TEST_KEYS_H_

// Signing keys made once per test binary: RSA key generation takes a noticeable fraction of a
// second, and no test depends on a key being fresh.

#include "libs/auth/token_signing_key.h"

namespace fabrique::auth::testing {

// Two distinct ES256 keys and two distinct RS256 (2048-bit) keys.
const SigningKey& EsKey();
const SigningKey& OtherEsKey();
const SigningKey& RsKey();
const SigningKey& OtherRsKey();

}  // namespace fabrique::auth::testing

#endif  // FABRIQUE_TESTS_AUTH_AUTH_TEST_KEYS_H_
