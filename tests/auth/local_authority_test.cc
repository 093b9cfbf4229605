#include "libs/auth/local_authority.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include "catch2/catch.hpp"
#include "libs/auth/jwks.h"
#include "libs/auth/jwt_verifier.h"
#include "libs/auth/pem.h"
#include "libs/auth/x509_identity.h"
#include "libs/core/file_io.h"
#include "tests/util/test_util.h"

namespace fabrique::auth {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
const std::vector<std::string> kSix = {"features",  "registry", "trainer",
                                       "inference", "monitor",  "tower"};

struct Fixture {
  fabrique::testing::TempDir temp;
  core::FakeClock clock{kNow};
  std::string dir = temp.Sub("data/auth");

  absl::StatusOr<std::unique_ptr<LocalAuthority>> Open() {
    LocalAuthorityOptions options;
    options.dir = dir;
    options.clock = &clock;
    return LocalAuthority::Open(options);
  }
  std::unique_ptr<LocalAuthority> MustOpen() {
    absl::StatusOr<std::unique_ptr<LocalAuthority>> authority = Open();
    REQUIRE(authority.ok());
    return *std::move(authority);
  }
  std::string Read(const std::string& name) const {
    absl::StatusOr<std::string> text = core::ReadSmallFile(dir + "/" + name);
    REQUIRE(text.ok());
    return *text;
  }
};

mode_t Mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::set<std::string> Listing(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// Returns X509_V_OK when `cert_pem` chains to `ca_pem` at time `at` for `purpose`, otherwise the
// X509_V_ERR_* code OpenSSL gives.
int VerifyChain(const std::string& ca_pem, const std::string& cert_pem, absl::Time at,
                int purpose) {
  X509Ptr ca = *CertificateFromPem(ca_pem);
  X509Ptr cert = *CertificateFromPem(cert_pem);
  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  REQUIRE(X509_STORE_add_cert(store.get(), ca.get()) == 1);
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) == 1);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), absl::ToTimeT(at));
  REQUIRE(X509_STORE_CTX_set_purpose(ctx.get(), purpose) == 1);
  return X509_verify_cert(ctx.get()) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx.get());
}

// Returns the subjectAltNames of `cert_pem`, as "URI:...", "DNS:...", "IP:...".
std::set<std::string> AltNames(const std::string& cert_pem) {
  X509Ptr cert = *CertificateFromPem(cert_pem);
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  std::set<std::string> out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    const ASN1_STRING* value = name->d.ia5;
    const std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                           static_cast<size_t>(ASN1_STRING_length(value)));
    if (name->type == GEN_URI) out.insert("URI:" + text);
    if (name->type == GEN_DNS) out.insert("DNS:" + text);
    if (name->type == GEN_IPADD) out.insert("IP:" + std::to_string(text.size()) + "-bytes");
  }
  return out;
}

TEST_CASE("the first open creates the CA, six service certificates and the signing key") {
  Fixture f;
  std::unique_ptr<LocalAuthority> authority = f.MustOpen();
  std::set<std::string> expected = {"ca.crt", "ca.key", "signing.key", "jwks.json", ".lock"};
  for (const std::string& service : kSix) {
    expected.insert(service + ".crt");
    expected.insert(service + ".key");
  }
  // Nothing else: no temporary file is left behind.
  CHECK(Listing(f.dir) == expected);
  CHECK(Mode(f.dir) == 0700);
  for (const std::string& name : {std::string("ca.key"), std::string("signing.key"),
                                  std::string("trainer.key"), std::string("tower.key")}) {
    INFO(name);
    CHECK(Mode(f.dir + "/" + name) == 0600);
  }
  CHECK(Mode(f.dir + "/ca.crt") == 0644);
  CHECK(Mode(f.dir + "/jwks.json") == 0644);
  CHECK(authority->ca_cert_path() == f.dir + "/ca.crt");
  CHECK(authority->key_path("trainer") == f.dir + "/trainer.key");
  CHECK(authority->jwks_path() == f.dir + "/jwks.json");

  absl::StatusOr<Jwks> jwks = Jwks::ReadFile(authority->jwks_path());
  REQUIRE(jwks.ok());
  REQUIRE(jwks->FindByKid(authority->signing_key().kid()) != nullptr);
  CHECK(authority->signing_key().alg() == JwtAlg::kEs256);
}

TEST_CASE("the CA is a P-256 CA and service certificates have the agreed shape") {
  Fixture f;
  std::unique_ptr<LocalAuthority> authority = f.MustOpen();
  X509Ptr ca = *CertificateFromPem(f.Read("ca.crt"));
  CHECK(X509_check_ca(ca.get()) >= 1);
  CHECK((X509_get_key_usage(ca.get()) & KU_KEY_CERT_SIGN) != 0);
  CHECK(*JwtAlgForKey(X509_get0_pubkey(ca.get())) == JwtAlg::kEs256);

  const std::string pem = f.Read("trainer.crt");
  X509Ptr cert = *CertificateFromPem(pem);
  CHECK(X509_check_ca(cert.get()) == 0);
  CHECK((X509_get_extended_key_usage(cert.get()) & (XKU_SSL_SERVER | XKU_SSL_CLIENT)) ==
        (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  CHECK(AltNames(pem) == std::set<std::string>{"URI:spiffe://fabrique/service/trainer",
                                               "DNS:localhost", "DNS:fabrique-trainer",
                                               "IP:4-bytes", "IP:16-bytes"});
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  CHECK(std::string(cn) == "fabrique-trainer");
  CHECK(*CertificateIdentity(pem) == "trainer");
  // The key on disk is the certificate's.
  EvpPkeyPtr key = *PrivateKeyFromPem(f.Read("trainer.key"));
  CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
  // Valid for 365 days from (a little before) now.
  CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert.get()),
                             absl::ToTimeT(kNow + absl::Hours(24 * 365))) == 0);
}

TEST_CASE("service certificates verify against the CA; one from another CA does not") {
  Fixture f;
  std::unique_ptr<LocalAuthority> authority = f.MustOpen();
  const std::string ca = f.Read("ca.crt");
  for (const std::string& service : kSix) {
    INFO(service);
    const std::string cert = f.Read(service + ".crt");
    CHECK(VerifyChain(ca, cert, kNow, X509_PURPOSE_SSL_SERVER) == X509_V_OK);
    CHECK(VerifyChain(ca, cert, kNow, X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
  }
  CHECK(VerifyChain(ca, f.Read("trainer.crt"), kNow + absl::Hours(24 * 366),
                    X509_PURPOSE_SSL_CLIENT) == X509_V_ERR_CERT_HAS_EXPIRED);

  absl::StatusOr<CertificateAuthority> other =
      CertificateAuthority::Create("other-ca", kNow, absl::Hours(24));
  REQUIRE(other.ok());
  absl::StatusOr<IssuedCertificate> foreign =
      IssueCertificate(*other, "trainer", kNow, absl::Hours(1));
  REQUIRE(foreign.ok());
  CHECK(VerifyChain(ca, foreign->cert_pem, kNow, X509_PURPOSE_SSL_CLIENT) ==
        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  CHECK(VerifyChain(*other->CertPem(), foreign->cert_pem, kNow, X509_PURPOSE_SSL_CLIENT) ==
        X509_V_OK);
}

TEST_CASE("reopening loads what is there and changes nothing") {
  Fixture f;
  std::unique_ptr<LocalAuthority> first = f.MustOpen();
  std::map<std::string, std::string> before;
  for (const std::string& name : Listing(f.dir)) before[name] = f.Read(name);
  f.clock.Advance(absl::Hours(1));
  std::unique_ptr<LocalAuthority> second = f.MustOpen();
  for (const auto& [name, text] : before) {
    INFO(name);
    CHECK(f.Read(name) == text);
  }
  CHECK(second->signing_key().kid() == first->signing_key().kid());
  CHECK(X509_cmp(second->ca().cert(), first->ca().cert()) == 0);
}

TEST_CASE("reopening recreates only what is missing") {
  Fixture f;
  f.MustOpen();
  const std::string features_crt = f.Read("features.crt");
  const std::string trainer_crt = f.Read("trainer.crt");
  const std::string jwks = f.Read("jwks.json");
  REQUIRE(std::remove((f.dir + "/trainer.key").c_str()) == 0);
  REQUIRE(std::remove((f.dir + "/jwks.json").c_str()) == 0);
  std::unique_ptr<LocalAuthority> authority = f.MustOpen();
  CHECK(f.Read("features.crt") == features_crt);
  CHECK(f.Read("trainer.crt") != trainer_crt);
  CHECK(Mode(f.dir + "/trainer.key") == 0600);
  CHECK(VerifyChain(f.Read("ca.crt"), f.Read("trainer.crt"), kNow, X509_PURPOSE_SSL_SERVER) ==
        X509_V_OK);
  // Rewritten from the same signing key, so the same document.
  CHECK(f.Read("jwks.json") == jwks);
}

TEST_CASE("a new CA re-issues every service certificate; half a CA is refused") {
  Fixture f;
  f.MustOpen();
  const std::string old_ca = f.Read("ca.crt");
  REQUIRE(std::remove((f.dir + "/ca.key").c_str()) == 0);
  absl::StatusOr<std::unique_ptr<LocalAuthority>> half = f.Open();
  CHECK(half.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(half.status().message() == f.dir + "/ca.key is missing but " + f.dir +
                                       "/ca.crt exists; restore it, or remove both to make a "
                                       "new authority");
  REQUIRE(std::remove((f.dir + "/ca.crt").c_str()) == 0);
  f.MustOpen();
  const std::string new_ca = f.Read("ca.crt");
  CHECK(new_ca != old_ca);
  for (const std::string& service : kSix) {
    INFO(service);
    CHECK(VerifyChain(new_ca, f.Read(service + ".crt"), kNow, X509_PURPOSE_SSL_SERVER) ==
          X509_V_OK);
  }
}

TEST_CASE("a corrupt key file is reported by name") {
  Fixture f;
  f.MustOpen();
  REQUIRE(core::WriteFileAtomically(f.dir + "/signing.key", "garbage", 0600).ok());
  absl::StatusOr<std::unique_ptr<LocalAuthority>> authority = f.Open();
  CHECK(authority.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(authority.status().message().find(f.dir + "/signing.key: ") == 0);
}

TEST_CASE("tokens the authority mints verify against its jwks.json") {
  Fixture f;
  std::unique_ptr<LocalAuthority> authority = f.MustOpen();
  absl::StatusOr<std::string> token =
      authority->MintToken("alice", {"risk:data-scientist"}, absl::Hours(1));
  REQUIRE(token.ok());
  JwtVerifierOptions options;
  options.jwks_path = authority->jwks_path();
  options.issuer = authority->issuer();
  options.audience = authority->audience();
  options.clock = &f.clock;
  std::unique_ptr<JwtVerifier> verifier = *JwtVerifier::Create(options);
  absl::StatusOr<VerifiedToken> verified = verifier->Verify(*token);
  REQUIRE(verified.ok());
  CHECK(verified->subject == "alice");
  CHECK(verified->groups == std::vector<std::string>{"risk:data-scientist"});
  CHECK(verified->issuer == "fabrique-local");
  CHECK(verified->expires == kNow + absl::Hours(1));
  CHECK(authority->MintToken("alice", {}, absl::ZeroDuration()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IssueServiceCertificate writes a fresh certificate where it is told") {
  Fixture f;
  std::unique_ptr<LocalAuthority> authority = f.MustOpen();
  const std::string cert = f.temp.Sub("cli.crt");
  const std::string key = f.temp.Sub("cli.key");
  REQUIRE(authority->IssueServiceCertificate("cli", cert, key, absl::Hours(2)).ok());
  CHECK(Mode(key) == 0600);
  const std::string pem = *core::ReadSmallFile(cert);
  CHECK(*CertificateIdentity(pem) == "cli");
  CHECK(VerifyChain(f.Read("ca.crt"), pem, kNow + absl::Hours(1), X509_PURPOSE_SSL_CLIENT) ==
        X509_V_OK);
  CHECK(VerifyChain(f.Read("ca.crt"), pem, kNow + absl::Hours(3), X509_PURPOSE_SSL_CLIENT) ==
        X509_V_ERR_CERT_HAS_EXPIRED);
  CHECK(authority->IssueServiceCertificate("Bad_Name", cert, key, absl::Hours(2)).code() ==
        absl::StatusCode::kInvalidArgument);
}

// When the certificate in `pem` expires.
absl::Time Expiry(const std::string& pem) {
  X509Ptr cert = *CertificateFromPem(pem);
  struct tm tm {};
  REQUIRE(ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1);
  return absl::FromTimeT(::timegm(&tm));
}

// What the renewals name: "<file> <reason>", in order.
std::vector<std::string> Renewed(const LocalAuthority& authority) {
  std::vector<std::string> out;
  for (const CertificateRenewal& renewal : authority.renewals()) {
    out.push_back(std::filesystem::path(renewal.path).filename().string() + " " + renewal.reason);
  }
  return out;
}

// Everything written to stderr (where core::Log writes) while it lives.
class StderrCapture {
 public:
  explicit StderrCapture(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    std::FILE* file = std::fopen(path_.c_str(), "w");
    REQUIRE(file != nullptr);
    ::dup2(::fileno(file), STDERR_FILENO);
    std::fclose(file);
  }
  ~StderrCapture() { Restore(); }
  // Stops capturing and returns what was written.
  std::string Text() {
    Restore();
    return *core::ReadSmallFile(path_);
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

const absl::Duration kDay = absl::Hours(24);

TEST_CASE("a service certificate within 30 days of expiry, or expired, is re-issued at open") {
  Fixture f;
  std::unique_ptr<LocalAuthority> first = f.MustOpen();
  CHECK(first->renewals().empty());
  // features lasts 40 days, trainer 1 day; the others the full year.
  REQUIRE(first
              ->IssueServiceCertificate("features", first->cert_path("features"),
                                        first->key_path("features"), 40 * kDay)
              .ok());
  REQUIRE(first
              ->IssueServiceCertificate("trainer", first->cert_path("trainer"),
                                        first->key_path("trainer"), kDay)
              .ok());
  const std::string ca = f.Read("ca.crt");
  const std::string registry_crt = f.Read("registry.crt");
  const std::string features_crt = f.Read("features.crt");

  // 30 days and a second left: features is not due yet; trainer has expired.
  f.clock.Advance(10 * kDay - absl::Seconds(1));
  std::unique_ptr<LocalAuthority> second = f.MustOpen();
  CHECK(Renewed(*second) == std::vector<std::string>{"trainer.crt expired"});
  CHECK(f.Read("features.crt") == features_crt);
  CHECK(Expiry(f.Read("trainer.crt")) == f.clock.Now() + 365 * kDay);

  // 30 days left: features is due, and nothing else.
  f.clock.Advance(absl::Seconds(1));
  const std::string trainer_crt = f.Read("trainer.crt");
  StderrCapture log(f.temp.Sub("stderr"));
  std::unique_ptr<LocalAuthority> third = f.MustOpen();
  const std::string logged = log.Text();
  REQUIRE(third->renewals().size() == 1);
  const CertificateRenewal& renewal = third->renewals()[0];
  CHECK(renewal.path == f.dir + "/features.crt");
  CHECK(renewal.reason == "expiring");
  CHECK(renewal.old_expiry == kNow + 40 * kDay);
  CHECK(renewal.new_expiry == f.clock.Now() + 365 * kDay);
  CHECK(
      logged.find("\"event\":\"certificate_renewed\",\"path\":\"" + f.dir +
                  "/features.crt\",\"reason\":\"expiring\",\"old_expiry\":\"2023-12-24T22:13:20Z\","
                  "\"new_expiry\":\"2024-11-23T22:13:20Z\"") != std::string::npos);
  CHECK(Expiry(f.Read("features.crt")) == f.clock.Now() + 365 * kDay);
  CHECK(f.Read("trainer.crt") == trainer_crt);
  CHECK(f.Read("registry.crt") == registry_crt);
  CHECK(f.Read("ca.crt") == ca);
  CHECK(Mode(f.dir + "/features.key") == 0600);
  // The new key is the new certificate's, and it chains to the CA as a server and a client.
  X509Ptr cert = *CertificateFromPem(f.Read("features.crt"));
  EvpPkeyPtr key = *PrivateKeyFromPem(f.Read("features.key"));
  CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
  CHECK(VerifyChain(ca, f.Read("features.crt"), f.clock.Now(), X509_PURPOSE_SSL_SERVER) ==
        X509_V_OK);
  CHECK(VerifyChain(ca, f.Read("features.crt"), f.clock.Now(), X509_PURPOSE_SSL_CLIENT) ==
        X509_V_OK);
}

TEST_CASE("a CA within 30 days of expiry is re-signed with its key, then every certificate") {
  Fixture f;
  std::unique_ptr<LocalAuthority> first = f.MustOpen();
  const std::string old_ca = f.Read("ca.crt");
  const std::string ca_key = f.Read("ca.key");
  const std::string old_trainer = f.Read("trainer.crt");
  const std::string signing_key = f.Read("signing.key");
  const std::string jwks = f.Read("jwks.json");
  f.clock.Advance(335 * kDay - absl::Seconds(1));
  CHECK(f.MustOpen()->renewals().empty());
  // 30 days left on the CA; tower got a fresh certificate the day before.
  f.clock.Advance(absl::Seconds(1) - kDay);
  REQUIRE(first
              ->IssueServiceCertificate("tower", first->cert_path("tower"),
                                        first->key_path("tower"), 365 * kDay)
              .ok());
  f.clock.Advance(kDay);
  std::unique_ptr<LocalAuthority> renewed = f.MustOpen();
  CHECK(Renewed(*renewed) ==
        std::vector<std::string>{"ca.crt expiring", "features.crt expiring",
                                 "registry.crt expiring", "trainer.crt expiring",
                                 "inference.crt expiring", "monitor.crt expiring",
                                 "tower.crt ca renewed"});
  CHECK(renewed->renewals()[0].old_expiry == kNow + 365 * kDay);
  const absl::Time now = f.clock.Now();
  const std::string new_ca = f.Read("ca.crt");
  CHECK(new_ca != old_ca);
  CHECK(Expiry(new_ca) == now + 365 * kDay);
  CHECK(X509_cmp(renewed->ca().cert(), CertificateFromPem(new_ca)->get()) == 0);
  // The same key and name: the key file is untouched, and tokens' keys are not the CA's.
  CHECK(f.Read("ca.key") == ca_key);
  CHECK(f.Read("signing.key") == signing_key);
  CHECK(f.Read("jwks.json") == jwks);
  for (const std::string& service : kSix) {
    INFO(service);
    const std::string cert = f.Read(service + ".crt");
    CHECK(Expiry(cert) == now + 365 * kDay);
    CHECK(VerifyChain(new_ca, cert, now, X509_PURPOSE_SSL_SERVER) == X509_V_OK);
    // A client still trusting the old CA certificate accepts the new certificates until the old
    // one expires, and the new CA certificate accepts the old ones.
    CHECK(VerifyChain(old_ca, cert, now, X509_PURPOSE_SSL_SERVER) == X509_V_OK);
  }
  CHECK(VerifyChain(new_ca, old_trainer, now, X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
  // Past the old CA's expiry, the renewed authority still verifies.
  CHECK(VerifyChain(new_ca, f.Read("trainer.crt"), now + 100 * kDay, X509_PURPOSE_SSL_CLIENT) ==
        X509_V_OK);
  // Renewed once: the next open keeps everything.
  CHECK(f.MustOpen()->renewals().empty());
  CHECK(f.Read("ca.crt") == new_ca);
}

TEST_CASE("an authority left for two years renews its expired CA and every certificate") {
  Fixture f;
  f.MustOpen();
  f.clock.Advance(2 * 365 * kDay);
  std::unique_ptr<LocalAuthority> authority = f.MustOpen();
  REQUIRE(authority->renewals().size() == 7);
  for (const CertificateRenewal& renewal : authority->renewals()) {
    INFO(renewal.path);
    CHECK(renewal.reason == "expired");
  }
  const std::string ca = f.Read("ca.crt");
  for (const std::string& service : kSix) {
    INFO(service);
    CHECK(VerifyChain(ca, f.Read(service + ".crt"), f.clock.Now(), X509_PURPOSE_SSL_SERVER) ==
          X509_V_OK);
  }
}

TEST_CASE("a service certificate that does not parse is re-issued") {
  Fixture f;
  f.MustOpen();
  REQUIRE(core::WriteFileAtomically(f.dir + "/monitor.crt", "garbage", 0644).ok());
  std::unique_ptr<LocalAuthority> authority = f.MustOpen();
  REQUIRE(authority->renewals().size() == 1);
  CHECK(authority->renewals()[0].path == f.dir + "/monitor.crt");
  CHECK(authority->renewals()[0].reason == "unreadable");
  CHECK(authority->renewals()[0].old_expiry == absl::InfinitePast());
  CHECK(*CertificateIdentity(f.Read("monitor.crt")) == "monitor");
}

TEST_CASE("options are checked before anything is written") {
  Fixture f;
  LocalAuthorityOptions options;
  options.dir = f.dir;
  options.services = {"trainer", "trainer"};
  CHECK(LocalAuthority::Open(options).status().message() == "service 'trainer' is listed twice");
  options.services = {"Trainer"};
  CHECK(LocalAuthority::Open(options).status().code() == absl::StatusCode::kInvalidArgument);
  options.services = {"trainer"};
  options.cert_validity = absl::ZeroDuration();
  CHECK(LocalAuthority::Open(options).status().code() == absl::StatusCode::kInvalidArgument);
  // A renewal window as long as a certificate lives would renew at every open.
  options.cert_validity = absl::Hours(24);
  options.renew_before = absl::Hours(24);
  CHECK(LocalAuthority::Open(options).status().message() ==
        "renew_before must be zero or more and less than cert_validity");
  options.renew_before = -absl::Hours(1);
  CHECK(LocalAuthority::Open(options).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(std::filesystem::exists(f.dir));
}

TEST_CASE("processes opening a new authority at once agree on one CA") {
  Fixture f;
  std::vector<std::string> cas(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < cas.size(); ++i) {
    threads.emplace_back([&f, &cas, i] {
      LocalAuthorityOptions options;
      options.dir = f.dir;
      options.clock = &f.clock;
      absl::StatusOr<std::unique_ptr<LocalAuthority>> authority = LocalAuthority::Open(options);
      if (authority.ok()) cas[i] = *(*authority)->ca().CertPem();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& ca : cas) CHECK(ca == f.Read("ca.crt"));
}

}  // namespace
}  // namespace fabrique::auth
