#include "libs/auth/local_authority.h"

#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <thread>

#include "catch2/catch.hpp"
#include "libs/auth/jwks.h"
#include "libs/auth/jwt_verifier.h"
#include "libs/auth/pem.h"
#include "libs/auth/pem_file.h"
#include "libs/auth/x509_identity.h"
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
    absl::StatusOr<std::string> text = ReadSmallFile(dir + "/" + name);
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
  REQUIRE(WriteFileAtomically(f.dir + "/signing.key", "garbage", 0600).ok());
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
  const std::string pem = *ReadSmallFile(cert);
  CHECK(*CertificateIdentity(pem) == "cli");
  CHECK(VerifyChain(f.Read("ca.crt"), pem, kNow + absl::Hours(1), X509_PURPOSE_SSL_CLIENT) ==
        X509_V_OK);
  CHECK(VerifyChain(f.Read("ca.crt"), pem, kNow + absl::Hours(3), X509_PURPOSE_SSL_CLIENT) ==
        X509_V_ERR_CERT_HAS_EXPIRED);
  CHECK(authority->IssueServiceCertificate("Bad_Name", cert, key, absl::Hours(2)).code() ==
        absl::StatusCode::kInvalidArgument);
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
