#ifndef FABRIQUE_LIBS_AUTH_X509_IDENTITY_H_
#define FABRIQUE_LIBS_AUTH_X509_IDENTITY_H_

// Which service a (verified) client certificate speaks for. The certificate's chain is checked by
// TLS; this only reads the name out of it.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::auth {

// Returns "spiffe://fabrique/service/<service>", the URI SAN naming a service.
std::string ServiceSpiffeId(absl::string_view service);

// OK when `service` is a usable service name: 1 to 63 lower-case letters, digits and '-', not
// starting with '-' (it becomes a DNS label, "fabrique-<service>"). INVALID_ARGUMENT otherwise.
absl::Status ValidateServiceName(absl::string_view service);

// Returns the service `pem` (a PEM certificate) identifies: the <name> of its URI SAN
// spiffe://fabrique/service/<name>, or failing any such SAN, its CN "fabrique-<name>" or
// "<name>". UNAUTHENTICATED when the certificate does not parse, names no valid service, or its
// SANs name two different services.
absl::StatusOr<std::string> CertificateIdentity(absl::string_view pem);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_X509_IDENTITY_H_
