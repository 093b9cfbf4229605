#include "libs/auth/jwt_verifier.h"

#include <cstdint>
#include <limits>

#include "catch2/catch.hpp"
#include "libs/auth/jwt_base64url.h"
#include "libs/auth/token_mint.h"
#include "tests/auth/jwt_verifier_fixture.h"

namespace fabrique::auth {
namespace {

using testing::CheckRefused;
using testing::EsKey;
using testing::ForgeToken;
using testing::GoodPayload;
using testing::HeaderFor;
using testing::kStart;
using testing::OtherEsKey;
using testing::RsKey;
using Fixture = testing::VerifierFixture;

TEST_CASE("minted ES256 and RS256 tokens verify and yield their claims") {
  Fixture f;
  for (const SigningKey* key : {&EsKey(), &RsKey()}) {
    TokenClaims claims;
    claims.subject = "bob";
    claims.groups = {"risk:data-scientist", "risk-ds"};
    claims.issuer = "fabrique-local";
    claims.audience = "fabrique";
    claims.issued_at = kStart;
    claims.not_before = kStart;
    claims.expires = kStart + absl::Hours(8);
    absl::StatusOr<std::string> token = MintToken(*key, claims);
    REQUIRE(token.ok());
    absl::StatusOr<VerifiedToken> verified = f.verifier->Verify(*token);
    INFO(JwtAlgName(key->alg()));
    REQUIRE(verified.ok());
    CHECK(verified->subject == "bob");
    CHECK(verified->groups == std::vector<std::string>{"risk:data-scientist", "risk-ds"});
    CHECK(verified->issuer == "fabrique-local");
    CHECK(verified->expires == kStart + absl::Hours(8));
  }
}

TEST_CASE("MintToken refuses claims a verifier would never accept") {
  TokenClaims claims;
  claims.subject = "bob";
  claims.issuer = "fabrique-local";
  claims.audience = "fabrique";
  CHECK(MintToken(EsKey(), claims).status().code() == absl::StatusCode::kInvalidArgument);
  claims.expires = kStart;
  claims.not_before = kStart + absl::Seconds(1);
  CHECK(MintToken(EsKey(), claims).status().code() == absl::StatusCode::kInvalidArgument);
  claims.not_before = absl::InfinitePast();
  claims.subject = "";
  CHECK(MintToken(EsKey(), claims).status().message() == "a token needs a subject");
}

TEST_CASE("expired and not-yet-valid tokens are refused, within the clock skew accepted") {
  Fixture f;
  const auto exp_at = [&](absl::Duration d) {
    return f.Token(EsKey(), [&](nlohmann::json& p) { p["exp"] = absl::ToUnixSeconds(kStart + d); });
  };
  const auto nbf_at = [&](absl::Duration d) {
    return f.Token(EsKey(), [&](nlohmann::json& p) { p["nbf"] = absl::ToUnixSeconds(kStart + d); });
  };
  CheckRefused(f.Check(exp_at(-absl::Minutes(2))), "token expired at 2023-11-14T22:11:20Z");
  CheckRefused(f.Check(exp_at(-absl::Seconds(60))), "token expired at 2023-11-14T22:12:20Z");
  CHECK(f.Check(exp_at(-absl::Seconds(59))).ok());
  CHECK(f.Check(exp_at(-absl::Seconds(30))).ok());
  CHECK(f.Check(nbf_at(absl::Seconds(60))).ok());
  CheckRefused(f.Check(nbf_at(absl::Seconds(61))), "token not valid before 2023-11-14T22:14:21Z");
  CheckRefused(f.Check(nbf_at(absl::Minutes(5))), "token not valid before 2023-11-14T22:18:20Z");
}

TEST_CASE("a token becomes valid, then expires, as the clock moves") {
  Fixture f;
  const std::string token = f.Token(EsKey(), [](nlohmann::json& p) {
    p["nbf"] = absl::ToUnixSeconds(kStart + absl::Minutes(10));
    p["exp"] = absl::ToUnixSeconds(kStart + absl::Minutes(20));
  });
  CheckRefused(f.Check(token), "token not valid before 2023-11-14T22:23:20Z");
  f.clock.Advance(absl::Minutes(9) + absl::Seconds(1));
  CHECK(f.Check(token).ok());
  // Valid until exp + skew.
  f.clock.Advance(absl::Minutes(11) + absl::Seconds(58));
  CHECK(f.Check(token).ok());
  f.clock.Advance(absl::Seconds(1));
  CheckRefused(f.Check(token), "token expired at 2023-11-14T22:33:20Z");
}

TEST_CASE("a token for another audience or from another issuer is refused") {
  Fixture f;
  CheckRefused(f.Check(f.Token(EsKey(), [](nlohmann::json& p) { p["aud"] = "grafana"; })),
               "token is for audience grafana, not fabrique");
  CheckRefused(f.Check(f.Token(EsKey(),
                               [](nlohmann::json& p) {
                                 p["aud"] = {"grafana", "vault"};
                               })),
               "token is for audience grafana, vault, not fabrique");
  CHECK(f.Check(f.Token(EsKey(), [](nlohmann::json& p) {
           p["aud"] = {"grafana", "fabrique"};
         })).ok());
  CheckRefused(f.Check(f.Token(EsKey(), [](nlohmann::json& p) { p["iss"] = "evil"; })),
               "token is from issuer evil, not fabrique-local");
}

TEST_CASE("a token signed by another key is refused") {
  Fixture f;
  // Claiming a known kid but signed by a key the set does not hold.
  CheckRefused(f.Check(ForgeToken(HeaderFor(EsKey()), GoodPayload(kStart), &OtherEsKey())),
               "bad signature");
  // Naming its own key, which the set does not hold.
  CheckRefused(f.Check(f.Token(OtherEsKey())), "unknown key id '" + OtherEsKey().kid() + "'");
  // An RS256 header pointing at the EC key: the key decides the algorithm, not the token.
  nlohmann::json header = HeaderFor(RsKey());
  header["kid"] = EsKey().kid();
  CheckRefused(f.Check(ForgeToken(header, GoodPayload(kStart), &RsKey())),
               "key id '" + EsKey().kid() + "' is for ES256, not RS256");
}

TEST_CASE("alg none, HMAC and other algorithms are refused by name") {
  Fixture f;
  for (const char* alg : {"none", "HS256", "PS256", "ES384"}) {
    nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}};
    CheckRefused(f.Check(ForgeToken(header, GoodPayload(kStart), nullptr)),
                 std::string("alg '") + alg + "' is not accepted");
  }
}

TEST_CASE("a tampered payload or signature fails the signature check") {
  Fixture f;
  for (const SigningKey* key : {&EsKey(), &RsKey()}) {
    const std::string good = f.Token(*key);
    nlohmann::json payload = GoodPayload(kStart);
    payload["sub"] = "mallory";
    CheckRefused(f.Check(testing::ReplacePart(good, 1, Base64UrlEncode(payload.dump()))),
                 "bad signature");
    // An ES256 signature must be 64 bytes; one byte short is refused, not passed to OpenSSL.
    const std::string signature = *Base64UrlDecode(good.substr(good.rfind('.') + 1));
    CheckRefused(f.Check(testing::ReplacePart(
                     good, 2, Base64UrlEncode(signature.substr(0, signature.size() - 1)))),
                 "bad signature");
    CheckRefused(f.Check(testing::ReplacePart(good, 2, "")), "bad signature");
  }
}

TEST_CASE("malformed tokens are refused with what is wrong") {
  Fixture f;
  const std::string good = f.Token(EsKey());
  const std::string header = good.substr(0, good.find('.'));
  const auto b64 = [](const std::string& s) { return Base64UrlEncode(s); };
  CheckRefused(f.Check(""), "malformed token: expected three base64url parts separated by '.'");
  CheckRefused(f.Check("abc.def"),
               "malformed token: expected three base64url parts separated by '.'");
  CheckRefused(f.Check(good + ".x"),
               "malformed token: expected three base64url parts separated by '.'");
  CheckRefused(f.Check(testing::ReplacePart(good, 0, "e30=")),
               "malformed token: header is not base64url");
  CheckRefused(f.Check(testing::ReplacePart(good, 0, "e3 0")),
               "malformed token: header is not base64url");
  CheckRefused(f.Check(testing::ReplacePart(good, 0, b64("{alg"))),
               "malformed token: header is not a JSON object");
  CheckRefused(f.Check(testing::ReplacePart(good, 0, b64("[\"ES256\"]"))),
               "malformed token: header is not a JSON object");
  CheckRefused(f.Check(testing::ReplacePart(good, 0, b64("{\"kid\":\"k\"}"))),
               "malformed token: header has no string 'alg'");
  CheckRefused(f.Check(ForgeToken({{"alg", "ES256"}, {"kid", ""}}, GoodPayload(kStart), &EsKey())),
               "unknown key id ''");
  CheckRefused(f.Check(testing::ReplacePart(good, 0, b64("{\"alg\":\"ES256\",\"kid\":7}"))),
               "malformed token: 'kid' is not a string");
  CheckRefused(f.Check(testing::ReplacePart(good, 2, "a+b/")),
               "malformed token: signature is not base64url");
  nlohmann::json crit = HeaderFor(EsKey());
  crit["crit"] = {"b64"};
  CheckRefused(f.Check(ForgeToken(crit, GoodPayload(kStart), &EsKey())),
               "malformed token: header has a 'crit' extension");
  // Signed, so these get past the signature to the payload.
  CheckRefused(f.Check(testing::ForgeRawToken(header, "pay!load", EsKey())),
               "malformed token: payload is not base64url");
  CheckRefused(f.Check(testing::ForgeRawToken(header, b64("not json"), EsKey())),
               "malformed token: payload is not a JSON object");
  CheckRefused(f.Check(std::string(20000, 'a')), "malformed token: longer than 16384 bytes");
}

TEST_CASE("claims that are missing or of the wrong type are refused") {
  Fixture f;
  const auto with = [&](const std::function<void(nlohmann::json&)>& edit) {
    return f.Check(f.Token(EsKey(), edit));
  };
  CheckRefused(with([](nlohmann::json& p) { p.erase("sub"); }),
               "malformed token: missing 'sub' claim");
  CheckRefused(with([](nlohmann::json& p) { p["sub"] = ""; }),
               "malformed token: missing 'sub' claim");
  CheckRefused(with([](nlohmann::json& p) { p["sub"] = 42; }),
               "malformed token: 'sub' claim is not a string");
  CheckRefused(with([](nlohmann::json& p) { p.erase("exp"); }),
               "malformed token: missing 'exp' claim");
  CheckRefused(with([](nlohmann::json& p) { p["exp"] = "soon"; }),
               "malformed token: 'exp' claim is not a number of seconds");
  CheckRefused(with([](nlohmann::json& p) { p.erase("iss"); }),
               "malformed token: missing 'iss' claim");
  CheckRefused(with([](nlohmann::json& p) { p.erase("aud"); }),
               "malformed token: missing 'aud' claim");
  CheckRefused(with([](nlohmann::json& p) { p["groups"] = "risk"; }),
               "malformed token: 'groups' claim is not an array of strings");
  // A time past int64 seconds saturates instead of wrapping to the past.
  CheckRefused(with([](nlohmann::json& p) { p["nbf"] = std::numeric_limits<uint64_t>::max(); }),
               "token not valid before infinite-future");
  // Groups are optional; fractional times are allowed.
  CHECK(with([](nlohmann::json& p) { p.erase("groups"); }).ok());
  CHECK(with([](nlohmann::json& p) { p["exp"] = 1'700'003'600.5; }).ok());
}

TEST_CASE("a token without a kid uses the set's only key of its algorithm") {
  Fixture f;
  nlohmann::json header = {{"alg", "ES256"}};
  CHECK(f.Check(ForgeToken(header, GoodPayload(kStart), &EsKey())).ok());
  header["alg"] = "RS256";
  CHECK(f.Check(ForgeToken(header, GoodPayload(kStart), &RsKey())).ok());

  Fixture two_ec({&EsKey(), &OtherEsKey()});
  CheckRefused(two_ec.Check(ForgeToken({{"alg", "ES256"}}, GoodPayload(kStart), &EsKey())),
               "token has no key id, and the key set has no single ES256 key");
  CheckRefused(two_ec.Check(ForgeToken({{"alg", "RS256"}}, GoodPayload(kStart), &RsKey())),
               "token has no key id, and the key set has no single RS256 key");
}

TEST_CASE("a cached token is still checked against the clock") {
  Fixture f;
  const std::string token = f.Token(EsKey());
  CHECK(f.verifier->cached_tokens() == 0);
  REQUIRE(f.Check(token).ok());
  CHECK(f.verifier->cached_tokens() == 1);
  absl::StatusOr<VerifiedToken> again = f.verifier->Verify(token);
  REQUIRE(again.ok());
  CHECK(again->subject == "alice");
  CHECK(f.verifier->cached_tokens() == 1);
  f.clock.Advance(absl::Hours(1) + absl::Seconds(60));
  CheckRefused(f.Check(token), "token expired at 2023-11-14T23:13:20Z");
  // Refused tokens are not cached.
  CheckRefused(f.Check(f.Token(OtherEsKey())), "unknown key id '" + OtherEsKey().kid() + "'");
  CHECK(f.verifier->cached_tokens() == 1);
}

TEST_CASE("the cache keeps at most cache_entries tokens") {
  Fixture bounded({&EsKey()}, 2);
  for (const char* user : {"a", "b", "c"}) {
    REQUIRE(
        bounded.Check(bounded.Token(EsKey(), [&](nlohmann::json& p) { p["sub"] = user; })).ok());
  }
  CHECK(bounded.verifier->cached_tokens() == 2);
  Fixture off({&EsKey()}, 0);
  const std::string token = off.Token(EsKey());
  CHECK(off.Check(token).ok());
  CHECK(off.Check(token).ok());
  CHECK(off.verifier->cached_tokens() == 0);
}

}  // namespace
}  // namespace fabrique::auth
