// The shared flags of every service binary, through ServiceMain itself: the transport must be
// chosen (TLS files or --insecure, never neither nor both), a wrong choice exits 2 saying which
// flags to pass, and the choice reaches the host's options.

#include "libs/server/service_flags.h"

#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/core/cpus.h"

namespace fabrique::server {
namespace {

struct Outcome {
  int code = -1;
  std::string err;
  std::string out;
  bool ran = false;
  ServiceFlags flags;
};

// Runs ServiceMain for fabrique-inference with `args`; the wiring only records its flags.
Outcome RunMain(std::vector<std::string> args) {
  args.insert(args.begin(), "fabrique-inference");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  Outcome outcome;
  std::ostringstream err, out;
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  outcome.code = ServiceMain(static_cast<int>(argv.size()), argv.data(), "inference", nullptr,
                             [&outcome](const ServiceFlags& flags) {
                               outcome.ran = true;
                               outcome.flags = flags;
                               return absl::OkStatus();
                             });
  std::cerr.rdbuf(old_err);
  std::cout.rdbuf(old_out);
  outcome.err = err.str();
  outcome.out = out.str();
  return outcome;
}

TEST_CASE("neither TLS files nor --insecure exits 2 saying which flags to pass") {
  const Outcome o = RunMain({});
  CHECK(o.code == 2);
  CHECK_FALSE(o.ran);
  CHECK(absl::StrContains(o.err,
                          "fabrique-inference serves TLS: pass --tls_cert=FILE "
                          "--tls_key=FILE --tls_client_ca=FILE"));
  CHECK(absl::StrContains(o.err, "or --insecure"));
  CHECK(absl::StrContains(o.err, "'fabrique up' makes these files"));
}

TEST_CASE("--malloc_arenas defaults to one per usable CPU, and a negative count exits 2") {
  const Outcome defaults = RunMain({"--insecure"});
  REQUIRE(defaults.ran);
  CHECK(defaults.flags.malloc_arenas == std::max(2, core::UsableCpus()));
  CHECK(RunMain({"--insecure", "--malloc_arenas=0"}).flags.malloc_arenas == 0);
  const Outcome negative = RunMain({"--insecure", "--malloc_arenas=-1"});
  CHECK(negative.code == 2);
  CHECK_FALSE(negative.ran);
  CHECK(absl::StrContains(negative.err, "--malloc_arenas must be >= 0"));
}

TEST_CASE("--insecure together with TLS files exits 2") {
  const Outcome o = RunMain({"--insecure", "--tls_cert=a.crt", "--tls_key=a.key"});
  CHECK(o.code == 2);
  CHECK_FALSE(o.ran);
  CHECK(absl::StrContains(o.err,
                          "--insecure (plaintext) cannot be combined with --tls_cert, "
                          "--tls_key (TLS)"));
}

TEST_CASE("some TLS files without the others exit 2 naming the missing ones") {
  const Outcome o = RunMain({"--tls_cert=a.crt"});
  CHECK(o.code == 2);
  CHECK(absl::StrContains(o.err, "--tls_cert given without --tls_key, --tls_client_ca"));
}

TEST_CASE("--insecure makes the host plaintext") {
  const Outcome o = RunMain({"--insecure"});
  CHECK(o.code == 0);
  REQUIRE(o.ran);
  CHECK(o.flags.host.plaintext);
  CHECK_FALSE(o.flags.host.tls.has_value());
  CHECK(o.flags.PeerChannel("h:1").plaintext);
}

TEST_CASE("TLS files and auth flags reach the host and the wiring") {
  const Outcome o = RunMain({"--tls_cert=s.crt", "--tls_key=s.key", "--tls_client_ca=ca.crt",
                             "--tls_reload_interval=3s", "--jwks=keys.json",
                             "--token_issuer=https://id.example", "--policy=policy.csv"});
  CHECK(o.code == 0);
  REQUIRE(o.ran);
  CHECK_FALSE(o.flags.host.plaintext);
  REQUIRE(o.flags.host.tls.has_value());
  CHECK(o.flags.host.tls->cert_path == "s.crt");
  CHECK(o.flags.host.tls->key_path == "s.key");
  CHECK(o.flags.host.tls->client_ca_path == "ca.crt");
  CHECK(o.flags.host.tls_reload_interval == absl::Seconds(3));
  CHECK(o.flags.auth.jwks_path == "keys.json");
  CHECK(o.flags.auth.token_issuer == "https://id.example");
  CHECK(o.flags.auth.token_audience == "fabrique");
  CHECK(o.flags.auth.policy_path == "policy.csv");

  // Peers are called as this service: its certificate, trusting the CA of its clients.
  const client::ChannelOptions peer = o.flags.PeerChannel("registry:7102");
  CHECK(peer.target == "registry:7102");
  CHECK_FALSE(peer.plaintext);
  CHECK(peer.tls.ca_path == "ca.crt");
  CHECK(peer.tls.cert_path == "s.crt");
  CHECK(peer.tls.key_path == "s.key");
}

TEST_CASE("--help lists the transport and auth flags") {
  const Outcome o = RunMain({"--help"});
  CHECK(o.code == 0);
  for (const char* flag :
       {"--tls_cert", "--tls_key", "--tls_client_ca", "--tls_reload_interval", "--insecure",
        "--jwks", "--token_issuer", "--token_audience", "--policy"}) {
    INFO(flag);
    CHECK(absl::StrContains(o.out, flag));
  }
}

}  // namespace
}  // namespace fabrique::server
