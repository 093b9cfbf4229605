#ifndef FABRIQUE_TESTS_AUTH_JWT_VERIFIER_FIXTURE_H_
#define FABRIQUE_TESTS_AUTH_JWT_VERIFIER_FIXTURE_H_

// A verifier over a JWKS file in a temp dir, driven by a fake clock, for the verifier's tests.

#include <functional>
#include <memory>
#include <string>

#include "catch2/catch.hpp"
#include "libs/auth/jwt_verifier.h"
#include "tests/auth/auth_test_keys.h"
#include "tests/auth/token_forge.h"
#include "tests/util/test_util.h"

namespace fabrique::auth::testing {

// 2023-11-14T22:13:20Z.
inline const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

// A JWKS file with the ES256 and RS256 test keys, a fake clock, and a verifier over them.
struct VerifierFixture {
  fabrique::testing::TempDir dir;
  core::FakeClock clock{kStart};
  std::unique_ptr<JwtVerifier> verifier;

  explicit VerifierFixture(std::initializer_list<const SigningKey*> keys = {&EsKey(), &RsKey()},
                           size_t cache_entries = 10000) {
    WriteJwks(jwks_path(), keys);
    JwtVerifierOptions options;
    options.jwks_path = jwks_path();
    options.issuer = "fabrique-local";
    options.audience = "fabrique";
    options.clock = &clock;
    options.cache_entries = cache_entries;
    absl::StatusOr<std::unique_ptr<JwtVerifier>> created = JwtVerifier::Create(options);
    REQUIRE(created.ok());
    verifier = *std::move(created);
  }
  std::string jwks_path() const { return dir.Sub("jwks.json"); }

  absl::Status Check(const std::string& token) const { return verifier->Verify(token).status(); }

  // A token with GoodPayload, changed by `edit`, signed by `key`.
  std::string Token(const SigningKey& key,
                    const std::function<void(nlohmann::json&)>& edit = nullptr) const {
    nlohmann::json payload = GoodPayload(clock.Now());
    if (edit) edit(payload);
    return ForgeToken(HeaderFor(key), payload, &key);
  }
};

inline void CheckRefused(const absl::Status& status, const std::string& reason) {
  CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  CHECK(status.message() == reason);
}

}  // namespace fabrique::auth::testing

#endif  // FABRIQUE_TESTS_AUTH_JWT_VERIFIER_FIXTURE_H_
