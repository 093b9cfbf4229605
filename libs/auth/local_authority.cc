#include "libs/auth/local_authority.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/auth/pem.h"
#include "libs/auth/token_mint.h"
#include "libs/auth/x509_builder.h"
#include "libs/auth/x509_identity.h"
#include "libs/core/file_io.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

constexpr mode_t kPrivateMode = 0600;
constexpr mode_t kPublicMode = 0644;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Creates `dir` and its parents; a directory it creates itself gets mode 0700, since it holds
// private keys. An existing directory keeps its mode: its owner chose it.
absl::Status MakeDirectory(const std::string& dir) {
  if (Exists(dir)) return absl::OkStatus();
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error || ::chmod(dir.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", dir, ": ", error ? error.message() : std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Holds an exclusive lock on <dir>/.lock, so that processes opening the authority at once (the
// services `fabrique up` starts) do not each create a CA.
class DirectoryLock {
 public:
  static absl::StatusOr<DirectoryLock> Acquire(const std::string& dir) {
    const std::string path = absl::StrCat(dir, "/.lock");
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kPrivateMode);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
      const int error = errno;
      if (fd >= 0) ::close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat("cannot lock ", path, ": ", std::strerror(error)));
    }
    return DirectoryLock(fd);
  }
  DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // Closing releases the lock.
  }

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

absl::Status ValidateOptions(const LocalAuthorityOptions& options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("dir is required");
  if (options.issuer.empty()) return absl::InvalidArgumentError("issuer is required");
  if (options.audience.empty()) return absl::InvalidArgumentError("audience is required");
  if (options.cert_validity <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("cert_validity must be positive");
  }
  if (options.renew_before < absl::ZeroDuration() ||
      options.renew_before >= options.cert_validity) {
    return absl::InvalidArgumentError(
        "renew_before must be zero or more and less than cert_validity");
  }
  absl::flat_hash_set<std::string> seen;
  for (const std::string& service : options.services) {
    RETURN_IF_ERROR(ValidateServiceName(service));
    if (!seen.insert(service).second) {
      return absl::InvalidArgumentError(absl::StrCat("service '", service, "' is listed twice"));
    }
  }
  return absl::OkStatus();
}

// Wraps a PEM that does not load with the file it came from.
absl::Status InFile(const absl::Status& status, const std::string& path) {
  return absl::FailedPreconditionError(absl::StrCat(path, ": ", status.message()));
}

// Loads the CA, or creates it when neither file exists; `created` says which.
absl::StatusOr<CertificateAuthority> OpenCa(const std::string& cert_path,
                                            const std::string& key_path,
                                            const LocalAuthorityOptions& options, bool* created) {
  const bool has_cert = Exists(cert_path);
  const bool has_key = Exists(key_path);
  *created = !has_cert && !has_key;
  if (*created) {
    ASSIGN_OR_RETURN(CertificateAuthority ca,
                     CertificateAuthority::Create("fabrique-local-ca", options.clock->Now(),
                                                  options.cert_validity));
    // The key first: a certificate without its key would be a CA nobody can use.
    ASSIGN_OR_RETURN(const std::string key_pem, ca.KeyPem());
    RETURN_IF_ERROR(core::WriteFileAtomically(key_path, key_pem, kPrivateMode));
    ASSIGN_OR_RETURN(const std::string cert_pem, ca.CertPem());
    RETURN_IF_ERROR(core::WriteFileAtomically(cert_path, cert_pem, kPublicMode));
    return ca;
  }
  if (!has_cert || !has_key) {
    return absl::FailedPreconditionError(absl::StrCat(
        has_cert ? key_path : cert_path, " is missing but ", has_cert ? cert_path : key_path,
        " exists; restore it, or remove both to make a new authority"));
  }
  ASSIGN_OR_RETURN(const std::string cert_pem, core::ReadSmallFile(cert_path));
  ASSIGN_OR_RETURN(const std::string key_pem, core::ReadSmallFile(key_path));
  absl::StatusOr<CertificateAuthority> ca = CertificateAuthority::FromPem(cert_pem, key_pem);
  if (!ca.ok()) return InFile(ca.status(), cert_path);
  return ca;
}

// Loads the signing key, or creates it when missing; `created` says which.
absl::StatusOr<SigningKey> OpenSigningKey(const std::string& path, bool* created) {
  *created = !Exists(path);
  if (*created) {
    ASSIGN_OR_RETURN(SigningKey key, SigningKey::GenerateEs256());
    ASSIGN_OR_RETURN(const std::string pem, key.PrivateKeyPem());
    RETURN_IF_ERROR(core::WriteFileAtomically(path, pem, kPrivateMode));
    return key;
  }
  ASSIGN_OR_RETURN(const std::string pem, core::ReadSmallFile(path));
  absl::StatusOr<SigningKey> key = SigningKey::FromPem(pem);
  if (!key.ok()) return InFile(key.status(), path);
  return key;
}

// When `cert` stops being valid.
absl::StatusOr<absl::Time> Expiry(const X509* cert) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "reading a certificate's expiry");
  }
  return absl::FromTimeT(::timegm(&tm));
}

// Why a certificate that expires at `expiry` is renewed now: "expired", "expiring" (within
// renew_before), or "" when it is not due.
std::string RenewalReason(absl::Time expiry, const LocalAuthorityOptions& options) {
  const absl::Time now = options.clock->Now();
  if (expiry <= now) return "expired";
  if (expiry - now <= options.renew_before) return "expiring";
  return "";
}

// The CA certificate re-signed with the CA's own key under the same name, valid from now for
// cert_validity, written to `cert_path`.
absl::StatusOr<CertificateAuthority> RenewCa(const CertificateAuthority& ca,
                                             const std::string& cert_path,
                                             const LocalAuthorityOptions& options) {
  char common_name[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(ca.cert()), NID_commonName, common_name,
                                sizeof(common_name)) < 0) {
    return absl::FailedPreconditionError(absl::StrCat(cert_path, ": the CA has no common name"));
  }
  const absl::Time now = options.clock->Now();
  CertificateSpec spec;
  spec.common_name = common_name;
  spec.is_ca = true;
  spec.not_before = now - kCertificateBackdate;
  spec.not_after = now + options.cert_validity;
  ASSIGN_OR_RETURN(X509Ptr cert, BuildCertificate(spec, ca.key(), nullptr, ca.key()));
  ASSIGN_OR_RETURN(const std::string cert_pem, CertificateToPem(cert.get()));
  ASSIGN_OR_RETURN(const std::string key_pem, ca.KeyPem());
  RETURN_IF_ERROR(core::WriteFileAtomically(cert_path, cert_pem, kPublicMode));
  return CertificateAuthority::FromPem(cert_pem, key_pem);
}

// Whether the service certificate in `cert_path` is due: its renewal with a reason, or with none
// when it is kept. A certificate that does not parse is due ("unreadable"): the authority made
// it, and a new one serves better than a refusal to start.
absl::StatusOr<CertificateRenewal> ServiceCertificateDue(const std::string& cert_path,
                                                         bool ca_renewed,
                                                         const LocalAuthorityOptions& options) {
  CertificateRenewal due;
  due.path = cert_path;
  ASSIGN_OR_RETURN(const std::string pem, core::ReadSmallFile(cert_path));
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(pem);
  absl::StatusOr<absl::Time> expiry =
      cert.ok() ? Expiry(cert->get()) : absl::StatusOr<absl::Time>(cert.status());
  if (!expiry.ok()) {
    due.reason = "unreadable";
    return due;
  }
  due.old_expiry = *expiry;
  due.reason = RenewalReason(*expiry, options);
  // Re-issued with the CA so that no service certificate outlives the CA certificate it chains to.
  if (due.reason.empty() && ca_renewed) due.reason = "ca renewed";
  return due;
}

void LogRenewal(const CertificateRenewal& renewal) {
  // As the log's own "ts" reads, to the second.
  const auto format = [](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
  };
  core::Log(core::LogLevel::kInfo, "certificate_renewed",
            {{"path", renewal.path},
             {"reason", renewal.reason},
             {"old_expiry", format(renewal.old_expiry)},
             {"new_expiry", format(renewal.new_expiry)}});
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalAuthority>> LocalAuthority::Open(
    LocalAuthorityOptions options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  RETURN_IF_ERROR(MakeDirectory(options.dir));
  ASSIGN_OR_RETURN(const DirectoryLock lock, DirectoryLock::Acquire(options.dir));
  const std::string dir = options.dir;
  // Certificates are issued to expire this long from now, to the second, as X.509 dates them.
  const absl::Time new_expiry =
      absl::FromTimeT(absl::ToTimeT(options.clock->Now() + options.cert_validity));
  bool new_ca = false;
  ASSIGN_OR_RETURN(CertificateAuthority ca,
                   OpenCa(dir + "/ca.crt", dir + "/ca.key", options, &new_ca));
  std::vector<CertificateRenewal> renewals;
  if (!new_ca) {
    CertificateRenewal renewal;
    renewal.path = dir + "/ca.crt";
    ASSIGN_OR_RETURN(renewal.old_expiry, Expiry(ca.cert()));
    renewal.reason = RenewalReason(renewal.old_expiry, options);
    if (!renewal.reason.empty()) {
      ASSIGN_OR_RETURN(ca, RenewCa(ca, renewal.path, options));
      renewal.new_expiry = new_expiry;
      LogRenewal(renewal);
      renewals.push_back(std::move(renewal));
    }
  }
  const bool ca_renewed = !renewals.empty();
  bool new_signing_key = false;
  ASSIGN_OR_RETURN(SigningKey signing_key, OpenSigningKey(dir + "/signing.key", &new_signing_key));
  std::unique_ptr<LocalAuthority> authority(
      new LocalAuthority(std::move(options), std::move(ca), std::move(signing_key)));
  for (const std::string& service : authority->services()) {
    const std::string cert = authority->cert_path(service);
    const std::string key = authority->key_path(service);
    // Certificates of an older CA would not verify against the new one.
    const bool create = new_ca || !Exists(cert) || !Exists(key);
    CertificateRenewal renewal;
    if (!create) {
      ASSIGN_OR_RETURN(renewal, ServiceCertificateDue(cert, ca_renewed, authority->options_));
    }
    if (create || !renewal.reason.empty()) {
      RETURN_IF_ERROR(authority->IssueServiceCertificate(service, cert, key,
                                                         authority->options_.cert_validity));
    }
    if (!renewal.reason.empty()) {
      renewal.new_expiry = new_expiry;
      LogRenewal(renewal);
      renewals.push_back(std::move(renewal));
    }
  }
  authority->renewals_ = std::move(renewals);
  const std::string jwks = authority->jwks_path();
  // An existing jwks.json is kept with a kept key: it may also publish keys being rotated in.
  if (new_signing_key || !Exists(jwks)) {
    ASSIGN_OR_RETURN(const std::string json, authority->signing_key_.JwksJson());
    RETURN_IF_ERROR(core::WriteFileAtomically(jwks, json, kPublicMode));
  }
  return authority;
}

std::string LocalAuthority::ca_cert_path() const { return options_.dir + "/ca.crt"; }
std::string LocalAuthority::ca_key_path() const { return options_.dir + "/ca.key"; }
std::string LocalAuthority::cert_path(absl::string_view service) const {
  return absl::StrCat(options_.dir, "/", service, ".crt");
}
std::string LocalAuthority::key_path(absl::string_view service) const {
  return absl::StrCat(options_.dir, "/", service, ".key");
}
std::string LocalAuthority::signing_key_path() const { return options_.dir + "/signing.key"; }
std::string LocalAuthority::jwks_path() const { return options_.dir + "/jwks.json"; }

absl::StatusOr<std::string> LocalAuthority::MintToken(absl::string_view subject,
                                                      const std::vector<std::string>& groups,
                                                      absl::Duration ttl) const {
  if (ttl <= absl::ZeroDuration()) return absl::InvalidArgumentError("ttl must be positive");
  const absl::Time now = options_.clock->Now();
  TokenClaims claims;
  claims.subject = std::string(subject);
  claims.groups = groups;
  claims.issuer = options_.issuer;
  claims.audience = options_.audience;
  claims.issued_at = now;
  claims.not_before = now;
  claims.expires = now + ttl;
  return auth::MintToken(signing_key_, claims);
}

absl::Status LocalAuthority::IssueServiceCertificate(absl::string_view name,
                                                     const std::string& cert_path,
                                                     const std::string& key_path,
                                                     absl::Duration validity) const {
  ASSIGN_OR_RETURN(const IssuedCertificate issued,
                   IssueCertificate(ca_, name, options_.clock->Now(), validity));
  RETURN_IF_ERROR(core::WriteFileAtomically(key_path, issued.key_pem, kPrivateMode));
  return core::WriteFileAtomically(cert_path, issued.cert_pem, kPublicMode);
}

}  // namespace fabrique::auth
