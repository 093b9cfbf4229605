#include <atomic>
#include <cstdio>
#include <thread>

#include "catch2/catch.hpp"
#include "libs/auth/jwt_verifier.h"
#include "libs/core/file_io.h"
#include "tests/auth/jwt_verifier_fixture.h"

namespace fabrique::auth {
namespace {

using testing::CheckRefused;
using testing::EsKey;
using testing::OtherEsKey;
using testing::RsKey;
using testing::WriteJwks;
using Fixture = testing::VerifierFixture;

JwtVerifierOptions OptionsFor(const std::string& jwks_path) {
  JwtVerifierOptions options;
  options.jwks_path = jwks_path;
  options.issuer = "fabrique-local";
  options.audience = "fabrique";
  return options;
}

TEST_CASE("Create names a JWKS file that is missing or unusable") {
  fabrique::testing::TempDir dir;
  const std::string path = dir.Sub("jwks.json");
  absl::StatusOr<std::unique_ptr<JwtVerifier>> missing = JwtVerifier::Create(OptionsFor(path));
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message() == path + " does not exist");

  REQUIRE(core::WriteFileAtomically(path, "{\"keys\": [", 0644).ok());
  absl::StatusOr<std::unique_ptr<JwtVerifier>> bad = JwtVerifier::Create(OptionsFor(path));
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() == "JWKS file " + path + ": JWKS is not valid JSON");

  REQUIRE(
      core::WriteFileAtomically(path, "{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2VjcmV0\"}]}", 0644)
          .ok());
  CHECK(JwtVerifier::Create(OptionsFor(path)).status().message() ==
        "JWKS file " + path + ": JWKS has no RS256 or ES256 key");
}

TEST_CASE("Create requires the issuer, audience and JWKS path") {
  fabrique::testing::TempDir dir;
  const std::string path = dir.Sub("jwks.json");
  WriteJwks(path, {&EsKey()});
  JwtVerifierOptions options = OptionsFor(path);
  options.issuer.clear();
  CHECK(JwtVerifier::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
  options = OptionsFor(path);
  options.audience.clear();
  CHECK(JwtVerifier::Create(options).status().message() == "audience is required");
  options = OptionsFor("");
  CHECK(JwtVerifier::Create(options).status().message() == "jwks_path is required");
  CHECK(JwtVerifier::Create(OptionsFor(path)).ok());
}

TEST_CASE("a rotated JWKS file is picked up at the next check, and a withdrawn key refused") {
  Fixture f({&EsKey()});
  const std::string old_token = f.Token(EsKey());
  const std::string new_token = f.Token(OtherEsKey());
  REQUIRE(f.Check(old_token).ok());
  const std::string unknown_new = "unknown key id '" + OtherEsKey().kid() + "'";
  CheckRefused(f.Check(new_token), unknown_new);

  WriteJwks(f.jwks_path(), {&EsKey(), &OtherEsKey()});
  // Not looked at again before the check interval has passed.
  f.clock.Advance(absl::Seconds(4));
  CheckRefused(f.Check(new_token), unknown_new);
  CHECK(f.verifier->jwks_reloads() == 0);
  f.clock.Advance(absl::Seconds(1));
  CHECK(f.Check(new_token).ok());
  CHECK(f.Check(old_token).ok());
  CHECK(f.verifier->jwks_reloads() == 1);
  CHECK(f.verifier->jwks_reload_failures() == 0);

  // The old key withdrawn: its token is refused, even though it was cached.
  WriteJwks(f.jwks_path(), {&OtherEsKey()});
  f.clock.Advance(absl::Seconds(5));
  CheckRefused(f.Check(old_token), "unknown key id '" + EsKey().kid() + "'");
  CHECK(f.Check(new_token).ok());
  CHECK(f.verifier->jwks_reloads() == 2);
}

TEST_CASE("a bad or missing JWKS file on reload keeps the old keys and is counted once") {
  Fixture f({&EsKey(), &RsKey()});
  const auto fresh_token = [&](const char* user) {
    return f.Token(EsKey(), [&](nlohmann::json& p) { p["sub"] = user; });
  };
  REQUIRE(core::WriteFileAtomically(f.jwks_path(), "not json", 0644).ok());
  f.clock.Advance(absl::Seconds(5));
  // A token never seen before, so the cache cannot be what accepts it.
  CHECK(f.Check(fresh_token("bob")).ok());
  CHECK(f.verifier->jwks_reload_failures() == 1);
  // The same bad file is not tried again.
  f.clock.Advance(absl::Seconds(5));
  CHECK(f.Check(fresh_token("carol")).ok());
  CHECK(f.verifier->jwks_reload_failures() == 1);

  REQUIRE(std::remove(f.jwks_path().c_str()) == 0);
  f.clock.Advance(absl::Seconds(5));
  CHECK(f.Check(fresh_token("dave")).ok());
  CHECK(f.verifier->jwks_reload_failures() == 2);
  CHECK(f.verifier->jwks_reloads() == 0);

  // A good file again is loaded.
  WriteJwks(f.jwks_path(), {&OtherEsKey()});
  f.clock.Advance(absl::Seconds(5));
  CHECK(f.Check(f.Token(OtherEsKey())).ok());
  CHECK(f.verifier->jwks_reloads() == 1);
}

TEST_CASE("Verify is safe to call from many threads while the key set is reloaded") {
  Fixture f({&EsKey(), &RsKey()}, 16);
  std::vector<std::string> tokens;
  for (int i = 0; i < 32; ++i) {
    tokens.push_back(f.Token(i % 2 ? EsKey() : RsKey(),
                             [&](nlohmann::json& p) { p["sub"] = "user" + std::to_string(i); }));
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        const std::string& token = tokens[(t * 7 + round) % tokens.size()];
        absl::StatusOr<VerifiedToken> verified = f.verifier->Verify(token);
        if (!verified.ok() || verified->subject.rfind("user", 0) != 0) ++failures;
      }
    });
  }
  // Rewrites the same keys while the threads verify: every reload must keep them accepted.
  for (int i = 0; i < 5; ++i) {
    WriteJwks(f.jwks_path(), {&RsKey(), &EsKey()});
    f.clock.Advance(absl::Seconds(5));
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(failures.load() == 0);
  CHECK(f.verifier->cached_tokens() <= 16);
  CHECK(f.verifier->jwks_reload_failures() == 0);
}

}  // namespace
}  // namespace fabrique::auth
