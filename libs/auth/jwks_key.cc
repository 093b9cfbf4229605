#include "libs/auth/jwks_key.h"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/auth/jwt_base64url.h"
#include "libs/auth/jwt_signature.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

constexpr size_t kP256CoordinateBytes = 32;

// Returns the base64url-decoded string member `name` of `jwk`.
absl::StatusOr<std::string> DecodedMember(const nlohmann::json& jwk, const char* name) {
  const auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("JWK has no string \"", name, "\""));
  }
  std::optional<std::string> bytes = Base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes || bytes->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("JWK \"", name, "\" is not base64url"));
  }
  return *std::move(bytes);
}

BignumPtr ToBignum(const std::string& bytes) {
  return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()), nullptr));
}

// Makes a public key of type `type` ("RSA" or "EC") from `params` built by the caller.
absl::StatusOr<EvpPkeyPtr> KeyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  OsslParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat("JWK is not a valid ", type, " public key"));
  }
  return EvpPkeyPtr(key);
}

absl::StatusOr<EvpPkeyPtr> RsaKeyFromJwk(const nlohmann::json& jwk) {
  ASSIGN_OR_RETURN(const std::string n, DecodedMember(jwk, "n"));
  ASSIGN_OR_RETURN(const std::string e, DecodedMember(jwk, "e"));
  BignumPtr n_bn = ToBignum(n);
  BignumPtr e_bn = ToBignum(e);
  OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (n_bn == nullptr || e_bn == nullptr || builder == nullptr ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "building RSA key parameters");
  }
  return KeyFromParams("RSA", builder.get());
}

absl::StatusOr<EvpPkeyPtr> EcKeyFromJwk(const nlohmann::json& jwk) {
  const auto crv = jwk.find("crv");
  if (crv == jwk.end() || *crv != "P-256") {
    return absl::InvalidArgumentError("EC JWK is not on curve P-256");
  }
  ASSIGN_OR_RETURN(const std::string x, DecodedMember(jwk, "x"));
  ASSIGN_OR_RETURN(const std::string y, DecodedMember(jwk, "y"));
  if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes) {
    return absl::InvalidArgumentError("EC JWK coordinates are not 32 bytes each");
  }
  // The uncompressed point: 0x04, then x and y.
  const std::string point = absl::StrCat("\x04", x, y);
  OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      SN_X9_62_prime256v1, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "building EC key parameters");
  }
  return KeyFromParams("EC", builder.get());
}

// Returns the big-endian bytes of `key`'s BIGNUM parameter `name`, left-padded to `width` (0: no
// padding).
absl::StatusOr<std::string> BignumParam(EVP_PKEY* key, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, absl::StrCat("reading key parameter ", name));
  }
  BignumPtr bn(raw);
  const int size = width > 0 ? width : BN_num_bytes(bn.get());
  std::string bytes(static_cast<size_t>(size), '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()), size) < 0) {
    return OpenSslError(absl::StatusCode::kInternal, absl::StrCat("encoding key parameter ", name));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<EvpPkeyPtr> PublicKeyFromJwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return absl::InvalidArgumentError("JWK is not a JSON object");
  const auto kty = jwk.find("kty");
  if (kty != jwk.end() && *kty == "RSA") return RsaKeyFromJwk(jwk);
  if (kty != jwk.end() && *kty == "EC") return EcKeyFromJwk(jwk);
  return absl::InvalidArgumentError("JWK \"kty\" is neither \"RSA\" nor \"EC\"");
}

absl::StatusOr<nlohmann::json> PublicJwkFor(EVP_PKEY* key) {
  ASSIGN_OR_RETURN(const JwtAlg alg, JwtAlgForKey(key));
  ASSIGN_OR_RETURN(std::string kid, KeyIdFor(key));
  nlohmann::json jwk = {{"kid", kid}, {"alg", std::string(JwtAlgName(alg))}, {"use", "sig"}};
  if (alg == JwtAlg::kRs256) {
    ASSIGN_OR_RETURN(const std::string n, BignumParam(key, OSSL_PKEY_PARAM_RSA_N, 0));
    ASSIGN_OR_RETURN(const std::string e, BignumParam(key, OSSL_PKEY_PARAM_RSA_E, 0));
    jwk["kty"] = "RSA";
    jwk["n"] = Base64UrlEncode(n);
    jwk["e"] = Base64UrlEncode(e);
  } else {
    ASSIGN_OR_RETURN(const std::string x,
                     BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_X, kP256CoordinateBytes));
    ASSIGN_OR_RETURN(const std::string y,
                     BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, kP256CoordinateBytes));
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = Base64UrlEncode(x);
    jwk["y"] = Base64UrlEncode(y);
  }
  return jwk;
}

absl::StatusOr<std::string> KeyIdFor(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key, &der);
  if (size <= 0) return OpenSslError(absl::StatusCode::kInternal, "encoding a public key");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  const int ok =
      EVP_Digest(der, static_cast<size_t>(size), digest, &digest_size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (ok != 1) return OpenSslError(absl::StatusCode::kInternal, "hashing a public key");
  constexpr size_t kKeyIdChars = 16;
  return Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(digest), digest_size))
      .substr(0, kKeyIdChars);
}

}  // namespace fabrique::auth
