// fabrique-health-probe against a real fabrique-features: every exit code a container probe
// can see, over plaintext and over TLS as a deployment serves it.

#include <signal.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "tests/integration/secure_service.h"
#include "tests/util/test_util.h"
#include "tools/cli/child_process.h"

namespace fabrique::testing {
namespace {

// A fabrique-features on free loopback ports, stopped with SIGTERM at the end of the test.
class FeatureStore {
 public:
  explicit FeatureStore(const std::vector<std::string>& security_flags) {
    std::vector<std::string> argv = {absl::StrCat(BinDir(), "/fabrique-features"),
                                     "--listen_host=127.0.0.1", "--port=0", "--metrics_port=-1",
                                     absl::StrCat("--data_dir=", dir_.Sub("data"))};
    argv.insert(argv.end(), security_flags.begin(), security_flags.end());
    auto spawned = cli::ChildProcess::Spawn(argv, dir_.Sub("log"));
    REQUIRE(spawned.ok());
    process_ = *std::move(spawned);
    int metrics_port = 0;
    const bool started = PollUntil(
        [&] {
          return cli::ReadServerStartedPorts(dir_.Sub("log"), 0, &port_, &metrics_port) ||
                 process_->Poll().has_value();
        },
        absl::Seconds(30));
    INFO(cli::TailFile(dir_.Sub("log"), 20));
    REQUIRE(started);
    REQUIRE(port_ > 0);
  }
  ~FeatureStore() {
    process_->Signal(SIGTERM);
    process_->Wait(absl::Seconds(20));
  }
  std::string addr() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<cli::ChildProcess> process_;
};

// Runs fabrique-health-probe with `flags` and returns its exit code.
int Probe(const std::vector<std::string>& flags) {
  static TempDir* const logs = new TempDir();
  std::vector<std::string> argv = {absl::StrCat(BinDir(), "/fabrique-health-probe")};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto probe = cli::ChildProcess::Spawn(argv, logs->Sub("probe.log"));
  REQUIRE(probe.ok());
  const std::optional<int> code = (*probe)->Wait(absl::Seconds(20));
  INFO(cli::TailFile(logs->Sub("probe.log"), 5));
  REQUIRE(code.has_value());
  return *code;
}

TEST_CASE("the probe reads a plaintext server's health as grpc_health_probe does") {
  FeatureStore store({"--insecure"});
  // Polls rather than sleeps: the server may log its port just before its health says SERVING.
  CHECK(PollUntil([&] { return Probe({"-addr=" + store.addr()}) == 0; }, absl::Seconds(10)));
  CHECK(Probe({"-addr=" + store.addr(), "-service=fabrique.v1.FeatureStore"}) == 0);
  // An unknown service is NOT_FOUND, an RPC failure, as grpc_health_probe reports it.
  CHECK(Probe({"-addr=" + store.addr(), "-service=no.such.Service"}) == 3);
  // TLS towards a plaintext server never completes the handshake.
  CHECK(Probe({"-addr=" + store.addr(), "-tls", "-connect-timeout=300ms"}) == 2);
}

TEST_CASE("the probe verifies a TLS server with a CA file, a server name and a client cert") {
  const TestIdentity& identity = LocalIdentity();
  const auth::LocalAuthority& authority = identity.authority();
  FeatureStore store(SecureServerFlags(identity, "features"));
  const std::string addr = "-addr=" + store.addr();
  const std::string ca = "-tls-ca-cert=" + authority.ca_cert_path();
  CHECK(PollUntil([&] { return Probe({addr, "-tls", ca}) == 0; }, absl::Seconds(10)));
  CHECK(Probe({addr, "-tls", ca, "-tls-server-name=fabrique-features"}) == 0);
  CHECK(Probe({addr, "-tls", ca, "-tls-client-cert=" + authority.cert_path("features"),
               "-tls-client-key=" + authority.key_path("features")}) == 0);
  // A name the certificate does not carry fails the handshake: a connection failure.
  CHECK(Probe({addr, "-tls", ca, "-tls-server-name=fabrique-registry"}) == 2);
  // Plaintext towards a TLS server fails the same way.
  CHECK(Probe({addr, "-connect-timeout=300ms"}) == 2);
  // A CA file that cannot be read is the caller's mistake, not the server's.
  CHECK(Probe({addr, "-tls", "-tls-ca-cert=/no/such/ca.pem"}) == 1);
}

TEST_CASE("the probe exits 2 when nothing listens and 1 for a bad flag") {
  // Port 1 (tcpmux) has no listener on any machine this runs on.
  CHECK(Probe({"-addr=127.0.0.1:1", "-connect-timeout=300ms"}) == 2);
  CHECK(Probe({"-addr=127.0.0.1:1", "-no-such-flag"}) == 1);
  CHECK(Probe({"-service=x"}) == 1);
  CHECK(Probe({"-help"}) == 0);
}

}  // namespace
}  // namespace fabrique::testing
