#include "libs/auth/x509_identity.h"

#include "catch2/catch.hpp"
#include "libs/auth/pem.h"
#include "libs/auth/x509_builder.h"

namespace fabrique::auth {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

// A self-signed certificate with CN `cn` and URI SANs `uris`.
std::string Certificate(const std::string& cn, std::vector<std::string> uris = {}) {
  EvpPkeyPtr key = *GenerateP256Key();
  CertificateSpec spec;
  spec.common_name = cn;
  spec.uris = std::move(uris);
  spec.not_before = kNow;
  spec.not_after = kNow + absl::Hours(1);
  absl::StatusOr<X509Ptr> cert = BuildCertificate(spec, key.get(), nullptr, key.get());
  REQUIRE(cert.ok());
  return *CertificateToPem(cert->get());
}

void CheckUnidentified(absl::string_view pem, const std::string& reason) {
  absl::StatusOr<std::string> identity = CertificateIdentity(pem);
  CHECK(identity.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(identity.status().message() == reason);
}

TEST_CASE("the SPIFFE URI SAN names the service, before the CN") {
  CHECK(*CertificateIdentity(Certificate("fabrique-trainer", {ServiceSpiffeId("trainer")})) ==
        "trainer");
  CHECK(*CertificateIdentity(
            Certificate("fabrique-monitor", {"spiffe://fabrique/service/registry"})) == "registry");
  // Another trust domain's ID is not ours: the CN decides.
  CHECK(*CertificateIdentity(Certificate("fabrique-tower", {"spiffe://other/service/registry"})) ==
        "tower");
}

TEST_CASE("without a SPIFFE SAN the CN names the service") {
  CHECK(*CertificateIdentity(Certificate("fabrique-monitor")) == "monitor");
  CHECK(*CertificateIdentity(Certificate("inference")) == "inference");
}

TEST_CASE("certificates that name no service, or two, are refused") {
  const std::string none =
      "certificate names no service: no spiffe://fabrique/service/<name> URI and no CN "
      "fabrique-<name>";
  CheckUnidentified(Certificate("Alice Smith"), none);
  CheckUnidentified(Certificate("fabrique-"), none);
  CheckUnidentified(
      Certificate("x", {"spiffe://fabrique/service/a", "spiffe://fabrique/service/b"}),
      "certificate names two services: a and b");
  CheckUnidentified(Certificate("x", {"spiffe://fabrique/service/a/b"}),
                    "certificate has an invalid SPIFFE ID spiffe://fabrique/service/a/b");
  CheckUnidentified("not a certificate", "client certificate does not parse");
}

TEST_CASE("service names are DNS labels") {
  CHECK(ValidateServiceName("trainer").ok());
  CHECK(ValidateServiceName("feature-store-2").ok());
  CHECK(ValidateServiceName("").code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateServiceName("-x").code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateServiceName("Trainer").code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateServiceName(std::string(64, 'a')).code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::auth
