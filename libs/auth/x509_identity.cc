#include "libs/auth/x509_identity.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/auth/pem.h"
#include "libs/auth/x509_openssl.h"

namespace fabrique::auth {
namespace {

constexpr absl::string_view kSpiffePrefix = "spiffe://fabrique/service/";
constexpr absl::string_view kCommonNamePrefix = "fabrique-";

absl::string_view AsView(const ASN1_STRING* s) {
  return absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<size_t>(ASN1_STRING_length(s)));
}

// Returns the service named by `cert`'s SPIFFE URI SANs: nullopt when it has none, an error when
// they name different services or an invalid one.
absl::StatusOr<std::optional<std::string>> SpiffeService(X509* cert) {
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  std::optional<std::string> found;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const absl::string_view uri = AsView(name->d.uniformResourceIdentifier);
    if (!absl::StartsWith(uri, kSpiffePrefix)) continue;
    const std::string service(uri.substr(kSpiffePrefix.size()));
    if (!ValidateServiceName(service).ok()) {
      return absl::UnauthenticatedError(absl::StrCat("certificate has an invalid SPIFFE ID ", uri));
    }
    if (found && *found != service) {
      return absl::UnauthenticatedError(
          absl::StrCat("certificate names two services: ", *found, " and ", service));
    }
    found = service;
  }
  return found;
}

std::optional<std::string> CommonName(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return std::nullopt;
  const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  return std::string(AsView(cn));
}

}  // namespace

std::string ServiceSpiffeId(absl::string_view service) {
  return absl::StrCat(kSpiffePrefix, service);
}

absl::Status ValidateServiceName(absl::string_view service) {
  bool ok = !service.empty() && service.size() <= 63 && service.front() != '-';
  for (const char c : service) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "service name '", service, "' is not 1 to 63 lower-case letters, digits and '-'"));
}

absl::StatusOr<std::string> CertificateIdentity(absl::string_view pem) {
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(pem);
  if (!cert.ok()) return absl::UnauthenticatedError("client certificate does not parse");
  absl::StatusOr<std::optional<std::string>> spiffe = SpiffeService(cert->get());
  if (!spiffe.ok()) return spiffe.status();
  if (*spiffe) return **spiffe;
  std::optional<std::string> cn = CommonName(cert->get());
  if (cn) {
    const std::string service =
        absl::StartsWith(*cn, kCommonNamePrefix) ? cn->substr(kCommonNamePrefix.size()) : *cn;
    if (ValidateServiceName(service).ok()) return service;
  }
  return absl::UnauthenticatedError(absl::StrCat("certificate names no service: no ", kSpiffePrefix,
                                                 "<name> URI and no CN fabrique-<name>"));
}

}  // namespace fabrique::auth
