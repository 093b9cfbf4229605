// How a command finds its service and its credentials: the credentials file's format, and the
// order every source is tried in (flags, environment, the file, a local `fabrique up`).

#include "tools/cli/credentials.h"

#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/auth/jwt_verifier.h"
#include "libs/auth/local_authority.h"
#include "libs/core/file_io.h"
#include "tests/util/test_util.h"
#include "tools/cli/connection.h"
#include "tools/cli/credentials_file.h"
#include "tools/cli/endpoints_file.h"
#include "tools/cli/local_token.h"
#include "tools/cli/up_layout.h"

namespace fabrique::cli {
namespace {

// An environment of exactly `vars`.
Getenv Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
  };
}

void Write(const std::string& path, const std::string& text) {
  REQUIRE(core::WriteFileAtomically(path, text, 0600).ok());
}

constexpr char kTwoContexts[] = R"(# Two installations.
current-context: prod
contexts:
  prod:
    ca: certs/prod-ca.crt
    token: prod-token
    targets:
      registry: registry.prod:7102
      features: features.prod:7101
  staging:
    ca: /etc/staging-ca.crt
    token: staging-token
)";

TEST_CASE("the credentials file: the current context, relative paths, FABRIQUE_CONTEXT") {
  auto prod = ParseCredentials(kTwoContexts, "/home/dana/.config/fabrique/credentials", "");
  REQUIRE(prod.ok());
  CHECK(prod->name == "prod");
  CHECK(prod->ca == "/home/dana/.config/fabrique/certs/prod-ca.crt");
  CHECK(prod->token == "prod-token");
  CHECK(prod->targets == std::map<std::string, std::string>{{"features", "features.prod:7101"},
                                                            {"registry", "registry.prod:7102"}});
  CHECK(prod->Origin() ==
        "credentials file /home/dana/.config/fabrique/credentials (context prod)");

  auto staging = ParseCredentials(kTwoContexts, "/c", "staging");
  REQUIRE(staging.ok());
  CHECK(staging->ca == "/etc/staging-ca.crt");
  CHECK(staging->token == "staging-token");
  CHECK(staging->targets.empty());

  // One installation, no contexts.
  auto flat = ParseCredentials("token: t\nca: ca.pem\n", "/etc/fabrique/credentials", "");
  REQUIRE(flat.ok());
  CHECK(flat->name.empty());
  CHECK(flat->ca == "/etc/fabrique/ca.pem");
  CHECK(flat->Origin() == "credentials file /etc/fabrique/credentials");
}

TEST_CASE("the credentials file: mistakes are INVALID_ARGUMENT naming the file and what") {
  auto missing = ParseCredentials(kTwoContexts, "/c", "dev");
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.status().message() == "/c has no context 'dev'");

  auto typo = ParseCredentials("tokn: t\n", "/c", "");
  CHECK(typo.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(typo.status().message(), "unknown key 'tokn'"));

  auto no_current = ParseCredentials("contexts:\n  a:\n    token: t\n", "/c", "");
  CHECK(no_current.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(no_current.status().message(), "names no current-context"));

  auto syntax = ParseCredentials("token: t\nca: [unclosed\n", "/c", "");
  CHECK(syntax.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(syntax.status().message(), "/c:"));

  auto targets = ParseCredentials("targets: registry\n", "/c", "");
  CHECK(targets.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the credentials file is $FABRIQUE_CONFIG, else under XDG_CONFIG_HOME, else HOME") {
  CHECK(CredentialsFilePath(Env({{"FABRIQUE_CONFIG", "/x/creds"}, {"HOME", "/h"}})) == "/x/creds");
  CHECK(CredentialsFilePath(Env({{"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/h"}})) ==
        "/xdg/fabrique/credentials");
  CHECK(CredentialsFilePath(Env({{"HOME", "/h"}})) == "/h/.config/fabrique/credentials");
  CHECK(CredentialsFilePath(Env({})).empty());

  testing::TempDir tmp;
  // No file at the default place: no credentials, not an error.
  auto none = LoadCredentials(Env({{"HOME", tmp.path()}}));
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  // A file named on purpose must exist.
  auto named = LoadCredentials(Env({{"FABRIQUE_CONFIG", tmp.Sub("nope")}}));
  CHECK(named.status().code() == absl::StatusCode::kNotFound);
  Write(tmp.Sub("creds"), kTwoContexts);
  auto chosen = LoadCredentials(
      Env({{"FABRIQUE_CONFIG", tmp.Sub("creds")}, {"FABRIQUE_CONTEXT", "staging"}}));
  REQUIRE(chosen.ok());
  REQUIRE(chosen->has_value());
  CHECK((*chosen)->token == "staging-token");
}

// A `fabrique up` folder as it looks while running: endpoints, and a local authority.
struct UpFolder {
  testing::TempDir dir;
  std::unique_ptr<auth::LocalAuthority> authority;
  UpFolder() {
    REQUIRE(WriteEndpoints(dir.path(), {{"registry", "127.0.0.1:40002", -1, 1}}).ok());
    auto opened = auth::LocalAuthority::Open({AuthDir(dir.path())});
    REQUIRE(opened.ok());
    authority = *std::move(opened);
  }
};

TEST_CASE("the token: --token, then FABRIQUE_TOKEN, then the file, then minted for DATA_DIR") {
  UpFolder up;
  testing::TempDir home;
  Write(home.Sub("creds"), "token: file-token\nca: /file/ca.crt\n");
  const std::map<std::string, std::string> everything = {
      {"FABRIQUE_TOKEN", "env-token"}, {"FABRIQUE_CONFIG", home.Sub("creds")}, {"USER", "dana"}};
  ConnectionFlags flags;
  flags.data_dir = up.dir.path();
  flags.token = "flag-token";

  auto resolved = ResolveConnection(flags, "registry", Env(everything));
  REQUIRE(resolved.ok());
  CHECK(resolved->token_kind == TokenKind::kGiven);
  CHECK(resolved->token == "flag-token");
  CHECK(resolved->token_origin == "--token");

  flags.token.clear();
  resolved = ResolveConnection(flags, "registry", Env(everything));
  REQUIRE(resolved.ok());
  CHECK(resolved->token == "env-token");
  CHECK(resolved->token_origin == "$FABRIQUE_TOKEN");

  auto without_env = everything;
  without_env.erase("FABRIQUE_TOKEN");
  resolved = ResolveConnection(flags, "registry", Env(without_env));
  REQUIRE(resolved.ok());
  CHECK(resolved->token == "file-token");
  CHECK(resolved->token_origin == absl::StrCat("credentials file ", home.Sub("creds")));

  without_env.erase("FABRIQUE_CONFIG");
  without_env["HOME"] = home.path();  // No file there.
  resolved = ResolveConnection(flags, "registry", Env(without_env));
  REQUIRE(resolved.ok());
  CHECK(resolved->token_kind == TokenKind::kMinted);
  CHECK(resolved->mint_subject == "dana");
  CHECK(resolved->signing_key_path == SigningKeyPath(up.dir.path()));
  CHECK(resolved->token_origin ==
        absl::StrCat("minted for dana with ", SigningKeyPath(up.dir.path())));

  // Without a data dir there is nothing to mint with: no token, and the server will say so.
  ConnectionFlags remote;
  remote.ca = "/some/ca.crt";
  resolved = ResolveConnection(remote, "registry", Env({{"HOME", home.path()}}));
  REQUIRE(resolved.ok());
  CHECK(resolved->token_kind == TokenKind::kNone);
  CHECK(resolved->token_origin == "none");
}

TEST_CASE("a data dir without a signing key this user may read mints nothing") {
  UpFolder up;
  // Another user's `fabrique up` keeps its key to itself (0600); here it is simply gone.
  REQUIRE(std::filesystem::remove(SigningKeyPath(up.dir.path())));
  ConnectionFlags flags;
  flags.data_dir = up.dir.path();
  auto resolved = ResolveConnection(flags, "registry", Env({}));
  REQUIRE(resolved.ok());
  CHECK(resolved->token_kind == TokenKind::kNone);
  CHECK(resolved->ca_path == CaPath(up.dir.path()));
}

TEST_CASE("the CA: --ca, then FABRIQUE_CA, then the file, then DATA_DIR/auth/ca.crt") {
  UpFolder up;
  testing::TempDir home;
  Write(home.Sub("creds"), "ca: /file/ca.crt\n");
  ConnectionFlags flags;
  flags.data_dir = up.dir.path();
  flags.ca = "/flag/ca.crt";
  std::map<std::string, std::string> env = {{"FABRIQUE_CA", "/env/ca.crt"},
                                            {"FABRIQUE_CONFIG", home.Sub("creds")}};
  auto resolved = ResolveConnection(flags, "registry", Env(env));
  REQUIRE(resolved.ok());
  CHECK(resolved->ca_path == "/flag/ca.crt");
  CHECK(resolved->server_name_override.empty());
  flags.ca.clear();
  CHECK(ResolveConnection(flags, "registry", Env(env))->ca_path == "/env/ca.crt");
  env.erase("FABRIQUE_CA");
  CHECK(ResolveConnection(flags, "registry", Env(env))->ca_path == "/file/ca.crt");
  env.erase("FABRIQUE_CONFIG");
  resolved = ResolveConnection(flags, "registry", Env(env));
  REQUIRE(resolved.ok());
  CHECK(resolved->ca_path == CaPath(up.dir.path()));
  CHECK_FALSE(resolved->plaintext);
  // The local certificates name the service, whatever address it listens on.
  CHECK(resolved->server_name_override == "fabrique-registry");

  // Nowhere: FAILED_PRECONDITION saying where a CA may be given.
  ConnectionFlags remote;
  remote.target = "registry.example.com:7102";
  auto none = ResolveConnection(remote, "registry", Env({}));
  CHECK(none.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(none.status().message(), "pass --ca FILE, set FABRIQUE_CA"));
}

TEST_CASE("plaintext: --insecure, or a DATA_DIR whose fabrique up runs with --insecure") {
  UpFolder up;
  ConnectionFlags flags;
  flags.target = "127.0.0.1:7102";
  flags.insecure = true;
  flags.token = "never-sent-in-plaintext";
  auto resolved = ResolveConnection(flags, "registry", Env({{"FABRIQUE_TOKEN", "nor-this"}}));
  REQUIRE(resolved.ok());
  CHECK(resolved->plaintext);
  CHECK(resolved->ca_path.empty());
  CHECK(resolved->token_kind == TokenKind::kNone);

  ConnectionFlags local;
  local.data_dir = up.dir.path();
  Write(InsecureMarkerPath(up.dir.path()), "insecure\n");
  resolved = ResolveConnection(local, "registry", Env({}));
  REQUIRE(resolved.ok());
  CHECK(resolved->plaintext);
  CHECK(resolved->token_kind == TokenKind::kNone);
}

TEST_CASE("the address: DATA_DIR's endpoints, then --target, then the file, then the default") {
  UpFolder up;
  testing::TempDir home;
  Write(home.Sub("creds"), "ca: /ca.crt\ntargets:\n  registry: registry.prod:7102\n");
  const auto env = Env({{"FABRIQUE_CONFIG", home.Sub("creds")}});
  ConnectionFlags flags;
  flags.data_dir = up.dir.path();
  flags.target = "10.0.0.1:7102";
  auto resolved = ResolveConnection(flags, "registry", env);
  REQUIRE(resolved.ok());
  CHECK(resolved->address == "127.0.0.1:40002");
  CHECK(resolved->data_dir == up.dir.path());
  CHECK(resolved->address_origin == EndpointsPath(up.dir.path()));
  auto missing = ResolveConnection(flags, "trainer", env);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.status().message(), "lists no 'trainer' service"));

  flags.data_dir.clear();
  resolved = ResolveConnection(flags, "registry", env);
  REQUIRE(resolved.ok());
  CHECK(resolved->address == "10.0.0.1:7102");
  CHECK(resolved->data_dir.empty());
  flags.target.clear();
  CHECK(ResolveConnection(flags, "registry", env)->address == "registry.prod:7102");
  resolved = ResolveConnection(flags, "features", env);
  REQUIRE(resolved.ok());
  CHECK(resolved->address == "127.0.0.1:7101");
  CHECK(resolved->address_origin == "default");
}

TEST_CASE("given no address at all, the fabrique up on the default folder is the one meant") {
  UpFolder up;
  testing::TempDir home;
  const auto env =
      Env({{"FABRIQUE_DATA_DIR", up.dir.path()}, {"HOME", home.path()}, {"USER", "dana"}});
  CHECK(DefaultDataDir(env) == up.dir.path());
  CHECK(DefaultDataDir(Env({})) == "fabrique-data");
  CHECK(LocalDataDir(env) == up.dir.path());
  auto resolved = ResolveConnection(ConnectionFlags(), "registry", env);
  REQUIRE(resolved.ok());
  CHECK(resolved->address == "127.0.0.1:40002");
  CHECK(resolved->ca_path == CaPath(up.dir.path()));
  CHECK(resolved->token_kind == TokenKind::kMinted);

  // An address given anyhow wins, and the local folder is then not consulted.
  ConnectionFlags remote;
  remote.target = "registry.example.com:7102";
  remote.ca = "/ca.crt";
  resolved = ResolveConnection(remote, "registry", env);
  REQUIRE(resolved.ok());
  CHECK(resolved->address == "registry.example.com:7102");
  CHECK(resolved->token_kind == TokenKind::kNone);

  // No `fabrique up` running there (no endpoints.tsv): the default port.
  std::filesystem::remove(EndpointsPath(up.dir.path()));
  CHECK(LocalDataDir(env).empty());
}

TEST_CASE("a token minted for DATA_DIR verifies against that fabrique up's JWKS") {
  UpFolder up;
  core::FakeClock clock(absl::Now());
  MintRequest mint;
  mint.signing_key_path = SigningKeyPath(up.dir.path());
  mint.subject = "dana";
  mint.groups = {"risk:data-scientist"};
  mint.ttl = absl::Minutes(20);
  auto source = MintingTokenSource(mint, &clock);
  absl::StatusOr<std::string> first = source();
  REQUIRE(first.ok());

  auth::JwtVerifierOptions options;
  options.jwks_path = JwksPath(up.dir.path());
  options.issuer = kLocalIssuer;
  options.audience = kLocalAudience;
  options.clock = &clock;
  auto verifier = auth::JwtVerifier::Create(options);
  REQUIRE(verifier.ok());
  auto claims = (*verifier)->Verify(*first);
  REQUIRE(claims.ok());
  CHECK(claims->subject == "dana");
  CHECK(claims->groups == std::vector<std::string>{"risk:data-scientist"});

  // The same token while most of its life is left; a fresh one after three quarters.
  clock.Advance(absl::Minutes(14));
  CHECK(*source() == *first);
  clock.Advance(absl::Minutes(2));
  absl::StatusOr<std::string> second = source();
  REQUIRE(second.ok());
  CHECK(*second != *first);

  // A key that cannot be read: FAILED_PRECONDITION naming it.
  mint.signing_key_path = up.dir.Sub("missing.key");
  auto refused = MintWithKeyFile(mint);
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(refused.status().message(), "missing.key"));
  mint.ttl = absl::ZeroDuration();
  CHECK(MintWithKeyFile(mint).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::cli
