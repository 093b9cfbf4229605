#include "tests/auth/auth_test_keys.h"

#include <stdexcept>

namespace fabrique::auth::testing {
namespace {

const SigningKey& Keep(absl::StatusOr<SigningKey> key) {
  if (!key.ok()) throw std::runtime_error(std::string(key.status().message()));
  return *new SigningKey(*std::move(key));
}

}  // namespace

const SigningKey& EsKey() {
  static const SigningKey& key = Keep(SigningKey::GenerateEs256());
  return key;
}
const SigningKey& OtherEsKey() {
  static const SigningKey& key = Keep(SigningKey::GenerateEs256());
  return key;
}
const SigningKey& RsKey() {
  static const SigningKey& key = Keep(SigningKey::GenerateRs256());
  return key;
}
const SigningKey& OtherRsKey() {
  static const SigningKey& key = Keep(SigningKey::GenerateRs256());
  return key;
}

}  // namespace fabrique::auth::testing
