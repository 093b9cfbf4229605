#include "libs/auth/jwt_signature.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "libs/auth/x509_openssl.h"

namespace fabrique::auth {
namespace {

constexpr int kMinRsaBits = 2048;
// P-256's scalars are 32 bytes; a JWS ES256 signature is r and s, each left-padded to that.
constexpr size_t kEs256ScalarBytes = 32;

// Converts OpenSSL's DER ECDSA-Sig-Value into JWS's fixed-width r||s.
absl::StatusOr<std::string> DerToRawEcdsa(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (sig == nullptr) return OpenSslError(absl::StatusCode::kInternal, "decoding ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kEs256ScalarBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEs256ScalarBytes) < 0 ||
      BN_bn2binpad(s, out + kEs256ScalarBytes, kEs256ScalarBytes) < 0) {
    return OpenSslError(absl::StatusCode::kInternal, "encoding ECDSA signature");
  }
  return raw;
}

// Converts JWS's r||s into DER for OpenSSL; nullopt when the length is wrong.
std::optional<std::string> RawEcdsaToDer(absl::string_view raw) {
  if (raw.size() != 2 * kEs256ScalarBytes) return std::nullopt;
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BignumPtr r(BN_bin2bn(in, kEs256ScalarBytes, nullptr));
  BignumPtr s(BN_bin2bn(in + kEs256ScalarBytes, kEs256ScalarBytes, nullptr));
  if (sig == nullptr || r == nullptr || s == nullptr) return std::nullopt;
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // Owned by `sig` now.
  s.release();
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != size) return std::nullopt;
  return der;
}

}  // namespace

absl::string_view JwtAlgName(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::kRs256:
      return "RS256";
    case JwtAlg::kEs256:
      return "ES256";
  }
  return "?";
}

std::optional<JwtAlg> ParseJwtAlg(absl::string_view name) {
  if (name == "RS256") return JwtAlg::kRs256;
  if (name == "ES256") return JwtAlg::kEs256;
  return std::nullopt;
}

absl::StatusOr<JwtAlg> JwtAlgForKey(EVP_PKEY* key) {
  if (key == nullptr) return absl::InvalidArgumentError("no key");
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits < kMinRsaBits) {
        return absl::InvalidArgumentError(
            absl::StrCat("RSA key of ", bits, " bits; at least ", kMinRsaBits, " are required"));
      }
      return JwtAlg::kRs256;
    }
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t length = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &length) != 1) {
        return OpenSslError(absl::StatusCode::kInvalidArgument, "reading the EC key's curve");
      }
      if (OBJ_txt2nid(group) != NID_X9_62_prime256v1) {
        return absl::InvalidArgumentError(
            absl::StrCat("EC key on curve ", group, "; only P-256 is accepted"));
      }
      return JwtAlg::kEs256;
    }
    default:
      return absl::InvalidArgumentError("key is neither RSA nor EC");
  }
}

absl::StatusOr<std::string> SignJws(JwtAlg alg, EVP_PKEY* private_key,
                                    absl::string_view signing_input) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, private_key) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "starting a JWS signature");
  }
  const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  size_t size = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &size, input, signing_input.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "sizing a JWS signature");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, input,
                     signing_input.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "signing a JWS");
  }
  signature.resize(size);
  if (alg == JwtAlg::kEs256) return DerToRawEcdsa(signature);
  return signature;
}

bool VerifyJwsSignature(JwtAlg alg, EVP_PKEY* public_key, absl::string_view signing_input,
                        absl::string_view signature) {
  std::string der;
  if (alg == JwtAlg::kEs256) {
    std::optional<std::string> converted = RawEcdsaToDer(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, public_key) == 1 &&
      EVP_DigestVerify(
          ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  // A signature that does not verify is an answer, not an error to report later.
  if (!ok) ClearOpenSslErrors();
  return ok;
}

}  // namespace fabrique::auth
