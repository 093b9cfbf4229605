#ifndef FABRIQUE_LIBS_AUTH_LOCAL_AUTHORITY_H_
#define FABRIQUE_LIBS_AUTH_LOCAL_AUTHORITY_H_

// The embedded default's own identity provider, like kind's or minikube's: a directory holding a
// CA, a certificate per service, and a token signing key with its public JWKS.
//
//   <dir>/ca.crt, ca.key                  EC P-256 CA (CA:TRUE, keyCertSign)
//   <dir>/<service>.crt, <service>.key    CN fabrique-<service>, SANs spiffe://fabrique/service/
//                                         <service>, localhost, fabrique-<service>, 127.0.0.1, ::1
//   <dir>/signing.key, jwks.json          ES256 token signing key and its public key set
//   <dir>/.lock                           locked while Open runs, so concurrent opens agree
//
// Open creates what is missing and loads what is there, so the first `fabrique up` makes the
// authority and later ones reuse it. Private keys are mode 0600 and every file is written
// atomically, so a crash never leaves half a key. A new CA re-issues every service certificate.
//
// Open also renews what has expired or is about to (within `renew_before`), so a laptop's
// `fabrique up` keeps working past the first year: a service certificate is re-issued; the CA
// certificate is re-signed with the CA's own key, and then every service certificate is
// re-issued. Keeping the key means certificates and trust stores of the old CA certificate still
// verify against the new one (same name, same key) while they live, and the renewal writes one
// file, ca.crt, so a crash cannot leave a certificate without its key. Each renewal is logged
// ("certificate_renewed") and listed by renewals().

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/auth/token_signing_key.h"
#include "libs/auth/x509_authority.h"
#include "libs/core/clock.h"

namespace fabrique::auth {

struct LocalAuthorityOptions {
  // The directory, e.g. DATA_DIR/auth; created with mode 0700 (and its parents) when missing.
  // Required.
  std::string dir;
  // The services to hold certificates for. Default the six Fabrique services.
  std::vector<std::string> services = {"features",  "registry", "trainer",
                                       "inference", "monitor",  "tower"};
  // "iss" of the tokens it mints. Default "fabrique-local".
  std::string issuer = "fabrique-local";
  // "aud" of the tokens it mints. Default "fabrique".
  std::string audience = "fabrique";
  // How long the CA and the certificates it issues at Open are valid. Default 365 days.
  absl::Duration cert_validity = absl::Hours(24 * 365);
  // A certificate that expires within this long of Open (or has expired) is renewed by it. Zero
  // or more, and less than `cert_validity`, or every Open would renew. Default 30 days.
  absl::Duration renew_before = absl::Hours(24 * 30);
  // The clock certificates and tokens are dated by. Not owned; default the real clock.
  const core::Clock* clock = nullptr;
};

// A certificate Open replaced because it had expired or was about to.
struct CertificateRenewal {
  // The certificate file, e.g. <dir>/ca.crt or <dir>/trainer.crt.
  std::string path;
  // Why: "expired", "expiring" (within renew_before), "unreadable" (its file did not parse), or
  // "ca renewed" (a service certificate re-issued with the CA).
  std::string reason;
  // When the replaced certificate expired or would have; InfinitePast when it did not parse.
  absl::Time old_expiry = absl::InfinitePast();
  // When the new one expires.
  absl::Time new_expiry;
};

class LocalAuthority {
 public:
  // Opens the authority in `options.dir`, creating what is missing and renewing what is due
  // (see the top of this file). INVALID_ARGUMENT for a bad
  // option or service name; FAILED_PRECONDITION, naming the file, when a file cannot be read or
  // written, or when only one of ca.crt and ca.key exists (remove both to start a new authority).
  static absl::StatusOr<std::unique_ptr<LocalAuthority>> Open(LocalAuthorityOptions options);

  const std::string& dir() const { return options_.dir; }
  std::string ca_cert_path() const;
  std::string ca_key_path() const;
  std::string cert_path(absl::string_view service) const;
  std::string key_path(absl::string_view service) const;
  std::string signing_key_path() const;
  std::string jwks_path() const;
  const std::string& issuer() const { return options_.issuer; }
  const std::string& audience() const { return options_.audience; }
  const std::vector<std::string>& services() const { return options_.services; }
  const CertificateAuthority& ca() const { return ca_; }
  const SigningKey& signing_key() const { return signing_key_; }
  // What the Open that made this object renewed, the CA first; empty when nothing was due.
  const std::vector<CertificateRenewal>& renewals() const { return renewals_; }

  // Returns a token for `subject` in `groups`, valid from now for `ttl`, from this authority's
  // issuer to its audience. INVALID_ARGUMENT for an empty subject or a ttl that is not positive.
  absl::StatusOr<std::string> MintToken(absl::string_view subject,
                                        const std::vector<std::string>& groups,
                                        absl::Duration ttl) const;

  // Issues a certificate for service `name` (any valid service name, e.g. "cli") valid from now
  // for `validity`, writing the key (0600) then the certificate (0644), each atomically, replacing
  // what was there.
  absl::Status IssueServiceCertificate(absl::string_view name, const std::string& cert_path,
                                       const std::string& key_path, absl::Duration validity) const;

 private:
  LocalAuthority(LocalAuthorityOptions options, CertificateAuthority ca, SigningKey signing_key)
      : options_(std::move(options)), ca_(std::move(ca)), signing_key_(std::move(signing_key)) {}

  const LocalAuthorityOptions options_;
  const CertificateAuthority ca_;
  const SigningKey signing_key_;
  std::vector<CertificateRenewal> renewals_;
};

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_LOCAL_AUTHORITY_H_
