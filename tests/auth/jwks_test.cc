#include "libs/auth/jwks.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/auth/jwks_key.h"
#include "libs/auth/jwt_base64url.h"
#include "libs/auth/jwt_parts.h"
#include "libs/auth/pem.h"
#include "tests/auth/auth_test_keys.h"

namespace fabrique::auth {
namespace {

using testing::EsKey;
using testing::OtherEsKey;
using testing::RsKey;

// RFC 7515 appendix A.3: an ES256 JWS and the P-256 public key that verifies it, from the
// specification itself, so the JWK reading and the r||s signature form are checked against the
// standard rather than against this library's own output.
constexpr char kRfcX[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr char kRfcY[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
constexpr char kRfcJws[] =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// A P-256 key made with `openssl genpkey`, and the kid computed with the openssl command line:
// openssl pkey -pubout -outform DER | openssl dgst -sha256 -binary | base64url | cut -c1-16
constexpr char kFixedKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7BXEI+0s/VVzUQlB
hQZnhoEV4VGuEaFAxrFzZGLaoKChRANCAARePS7As1NiLIdOSJ3kmyI5WPdhvizB
gmW8r/6oCh+LwDP6YTk6E5d2pJYDDqfE+2FproMcbFsjZh88FaxYp0Pi
-----END PRIVATE KEY-----
)";
constexpr char kFixedKeyId[] = "Y7BjYH8xZoTFs9aY";

nlohmann::json RfcJwk() { return {{"kty", "EC"}, {"crv", "P-256"}, {"x", kRfcX}, {"y", kRfcY}}; }

std::string JwksOf(std::initializer_list<nlohmann::json> keys) {
  return nlohmann::json({{"keys", keys}}).dump();
}

TEST_CASE("the RFC 7515 ES256 example verifies with its JWK, and fails when altered") {
  absl::StatusOr<EvpPkeyPtr> key = PublicKeyFromJwk(RfcJwk());
  REQUIRE(key.ok());
  absl::StatusOr<JwtParts> parts = SplitJwt(kRfcJws);
  REQUIRE(parts.ok());
  CHECK(parts->alg == JwtAlg::kEs256);
  CHECK(VerifyJwsSignature(JwtAlg::kEs256, key->get(), parts->signing_input, parts->signature));
  std::string altered = parts->signature;
  altered.back() ^= 1;
  CHECK_FALSE(VerifyJwsSignature(JwtAlg::kEs256, key->get(), parts->signing_input, altered));
}

TEST_CASE("RSA and EC keys survive the trip to a JWK and back") {
  for (const SigningKey* key : {&EsKey(), &RsKey()}) {
    absl::StatusOr<nlohmann::json> jwk = PublicJwkFor(key->key());
    REQUIRE(jwk.ok());
    CHECK((*jwk)["kid"] == key->kid());
    CHECK((*jwk)["alg"] == std::string(JwtAlgName(key->alg())));
    CHECK((*jwk)["use"] == "sig");
    CHECK_FALSE(jwk->contains("d"));  // Never the private part.
    absl::StatusOr<EvpPkeyPtr> back = PublicKeyFromJwk(*jwk);
    REQUIRE(back.ok());
    CHECK(EVP_PKEY_eq(back->get(), key->key()) == 1);
  }
  absl::StatusOr<nlohmann::json> ec = PublicJwkFor(EsKey().key());
  CHECK(Base64UrlDecode((*ec)["x"].get<std::string>())->size() == 32);
}

TEST_CASE("the key id is the truncated base64url SHA-256 of the public key") {
  absl::StatusOr<SigningKey> key = SigningKey::FromPem(kFixedKeyPem);
  REQUIRE(key.ok());
  CHECK(key->kid() == kFixedKeyId);
  CHECK(*KeyIdFor(key->key()) == kFixedKeyId);
  CHECK(EsKey().kid().size() == 16);
  CHECK(EsKey().kid() != OtherEsKey().kid());
}

TEST_CASE("a JWKS written for a key parses back to that key") {
  absl::StatusOr<std::string> json = JwksJsonFor(RsKey().key());
  REQUIRE(json.ok());
  absl::StatusOr<Jwks> jwks = Jwks::Parse(*json);
  REQUIRE(jwks.ok());
  REQUIRE(jwks->keys().size() == 1);
  const Jwk* found = jwks->FindByKid(RsKey().kid());
  REQUIRE(found != nullptr);
  CHECK(found->alg == JwtAlg::kRs256);
  CHECK(EVP_PKEY_eq(found->key.get(), RsKey().key()) == 1);
  CHECK(jwks->FindByKid("nope") == nullptr);
  CHECK(jwks->SoleKeyFor(JwtAlg::kRs256) == found);
  CHECK(jwks->SoleKeyFor(JwtAlg::kEs256) == nullptr);
}

TEST_CASE("keys Fabrique cannot verify with are skipped, not fatal") {
  nlohmann::json rfc = RfcJwk();
  rfc["kid"] = "rfc";
  absl::StatusOr<Jwks> jwks = Jwks::Parse(
      JwksOf({{{"kty", "oct"}, {"k", "c2VjcmV0"}},
              {{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}},
              {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AA"}},
              {{"kty", "EC"}, {"crv", 256}, {"x", kRfcX}, {"y", kRfcY}},
              {{"kty", 7}},
              {{"kty", "EC"}, {"crv", "P-256"}, {"use", "enc"}, {"x", kRfcX}, {"y", kRfcY}},
              {{"kty", "EC"}, {"crv", "P-256"}, {"alg", "ES384"}, {"x", kRfcX}, {"y", kRfcY}},
              rfc}));
  REQUIRE(jwks.ok());
  REQUIRE(jwks->keys().size() == 1);
  CHECK(jwks->keys()[0].kid == "rfc");
  CHECK(jwks->keys()[0].alg == JwtAlg::kEs256);
}

TEST_CASE("a malformed JWKS or key is refused with the reason") {
  const auto error = [](const std::string& json) { return Jwks::Parse(json).status(); };
  CHECK(error("{").code() == absl::StatusCode::kInvalidArgument);
  CHECK(error("{").message() == "JWKS is not valid JSON");
  CHECK(error("[]").message() == "JWKS has no \"keys\" array");
  CHECK(error("{\"keys\": {}}").message() == "JWKS has no \"keys\" array");
  CHECK(error("{\"keys\": []}").message() == "JWKS has no RS256 or ES256 key");
  CHECK(error("{\"keys\": [3]}").message() == "key 0: not a JSON object");

  nlohmann::json off_curve = RfcJwk();
  off_curve["y"] = kRfcX;
  const absl::Status off = error(JwksOf({off_curve}));
  CHECK(off.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(off.message(), "key 0: JWK is not a valid EC public key"));

  nlohmann::json short_x = RfcJwk();
  short_x["x"] = "AAAA";
  CHECK(error(JwksOf({short_x})).message() == "key 0: EC JWK coordinates are not 32 bytes each");
  nlohmann::json padded = RfcJwk();
  padded["x"] = std::string(kRfcX) + "=";
  CHECK(error(JwksOf({padded})).message() == "key 0: JWK \"x\" is not base64url");

  nlohmann::json rsa = *PublicJwkFor(RsKey().key());
  rsa.erase("e");
  CHECK(error(JwksOf({rsa})).message() == "key 0: JWK has no string \"e\"");

  nlohmann::json rfc = RfcJwk();
  rfc["kid"] = "same";
  nlohmann::json es = *PublicJwkFor(EsKey().key());
  es["kid"] = "same";
  CHECK(error(JwksOf({rfc, es})).message() == "key id 'same' appears twice");
}

TEST_CASE("RSA keys under 2048 bits are refused") {
  absl::StatusOr<EvpPkeyPtr> small = GenerateRsaKey(1024);
  REQUIRE(small.ok());
  CHECK(SigningKey::GenerateRs256(1024).status().code() == absl::StatusCode::kInvalidArgument);
  // Written by hand, since PublicJwkFor refuses the key too.
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(small->get(), "n", &n) == 1);
  REQUIRE(EVP_PKEY_get_bn_param(small->get(), "e", &e) == 1);
  const auto b64 = [](BIGNUM* bn) {
    std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return Base64UrlEncode(bytes);
  };
  const nlohmann::json jwk = {{"kty", "RSA"}, {"n", b64(n)}, {"e", b64(e)}};
  CHECK(Jwks::Parse(JwksOf({jwk})).status().message() ==
        "key 0: RSA key of 1024 bits; at least 2048 are required");
}

}  // namespace
}  // namespace fabrique::auth
