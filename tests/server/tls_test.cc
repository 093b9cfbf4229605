// The service host's transport through real TLS handshakes on loopback port 0, with certificates
// made by the openssl command line: a client trusting the server's CA connects and one trusting
// another CA does not; a certificate rotated on disk is served without a restart; a client
// certificate, when presented, is verified and handed to the call; a plaintext host says so in
// its metrics.

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/testing/echo.grpc.pb.h"
#include "libs/client/channel.h"
#include "libs/server/server_credentials.h"
#include "libs/server/service_host.h"
#include "tests/util/test_certs.h"
#include "tests/util/test_util.h"

namespace fabrique::server {
namespace {

using fabrique::testing::EchoRequest;
using fabrique::testing::EchoResponse;
using fabrique::testing::MakeTestCa;
using fabrique::testing::MakeTestLeaf;
using fabrique::testing::ReadTestFile;
using fabrique::testing::TestCertificate;

// Answers Echo, and keeps the verified client certificate of the last call.
class PeerEcho final : public fabrique::testing::Echo::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* context, const EchoRequest* request,
                    EchoResponse* response) override {
    absl::MutexLock lock(&mu_);
    peer_pem_ = PeerCertificatePem(*context);
    response->set_text(request->text());
    return grpc::Status::OK;
  }
  std::string peer_pem() {
    absl::MutexLock lock(&mu_);
    return peer_pem_;
  }

 private:
  absl::Mutex mu_;
  std::string peer_pem_;
};

// Two CAs; the server's certificate and a client's signed by the first.
struct Pki {
  fabrique::testing::TempDir dir;
  TestCertificate ca, other_ca, server, client;
  Pki() {
    ca = *MakeTestCa(dir.path(), "ca");
    other_ca = *MakeTestCa(dir.path(), "other-ca");
    server = *MakeTestLeaf(dir.path(), "server", ca, /*server=*/true);
    client = *MakeTestLeaf(dir.path(), "trainer", ca, /*server=*/false);
  }
};

std::unique_ptr<ServiceHost> StartHost(ServiceHostOptions options, PeerEcho* service) {
  options.service_name = "test";
  options.listen_host = "127.0.0.1";
  absl::StatusOr<std::unique_ptr<ServiceHost>> host = ServiceHost::Create(options);
  INFO(host.status().ToString());
  REQUIRE(host.ok());
  (*host)->AddService(service, "fabrique.testing.Echo", "the echo area");
  REQUIRE((*host)->Start().ok());
  return *std::move(host);
}

ServiceHostOptions TlsOptions(const Pki& pki) {
  ServiceHostOptions options;
  options.tls = TlsFiles{pki.server.cert_path, pki.server.key_path, pki.ca.cert_path};
  options.tls_reload_interval = absl::Seconds(1);
  return options;
}

// One Echo call over a channel of its own (a fresh handshake) as `tls` says.
grpc::Status Echo(int port, const client::TlsClientFiles& tls) {
  client::ChannelOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.tls = tls;
  options.share_connections = false;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = client::MakeChannel(options);
  REQUIRE(channel.ok());
  auto stub = fabrique::testing::Echo::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  EchoRequest request;
  request.set_text("hi");
  EchoResponse response;
  return stub->Echo(&context, request, &response);
}

TEST_CASE("a client trusting the server's CA connects over TLS") {
  Pki pki;
  PeerEcho service;
  auto host = StartHost(TlsOptions(pki), &service);
  const grpc::Status status = Echo(host->port(), {pki.ca.cert_path});
  INFO(status.error_message());
  CHECK(status.ok());
  CHECK(service.peer_pem().empty());  // A token caller's channel: no client certificate.
}

TEST_CASE("the server's certificate must name the host the client dialled") {
  Pki pki;
  PeerEcho service;
  auto host = StartHost(TlsOptions(pki), &service);
  client::TlsClientFiles tls{pki.ca.cert_path};
  tls.server_name_override = "localhost";  // Among the certificate's names.
  CHECK(Echo(host->port(), tls).ok());
  tls.server_name_override = "fabrique-registry";  // Not among them.
  CHECK(Echo(host->port(), tls).error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("a client trusting another CA is refused with UNAVAILABLE") {
  Pki pki;
  PeerEcho service;
  auto host = StartHost(TlsOptions(pki), &service);
  CHECK(Echo(host->port(), {pki.other_ca.cert_path}).error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("a plaintext client cannot talk to a TLS server") {
  Pki pki;
  PeerEcho service;
  auto host = StartHost(TlsOptions(pki), &service);
  auto stub = fabrique::testing::Echo::NewStub(
      client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  EchoResponse response;
  CHECK(stub->Echo(&context, EchoRequest(), &response).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("a client certificate is verified and handed to the call as PEM") {
  Pki pki;
  PeerEcho service;
  auto host = StartHost(TlsOptions(pki), &service);
  const grpc::Status status =
      Echo(host->port(), {pki.ca.cert_path, pki.client.cert_path, pki.client.key_path});
  INFO(status.error_message());
  REQUIRE(status.ok());
  const std::string expected = ReadTestFile(pki.client.cert_path);
  REQUIRE(absl::StartsWith(expected, "-----BEGIN CERTIFICATE-----"));
  CHECK(service.peer_pem() == expected);

  SECTION("one signed by a CA the server does not trust is refused") {
    const TestCertificate stranger =
        *MakeTestLeaf(pki.dir.path(), "stranger", pki.other_ca, /*server=*/false);
    CHECK(Echo(host->port(), {pki.ca.cert_path, stranger.cert_path, stranger.key_path})
              .error_code() == grpc::StatusCode::UNAVAILABLE);
  }
}

TEST_CASE("a certificate rotated on disk is served after the reload interval, without restart") {
  Pki pki;
  PeerEcho service;
  auto host = StartHost(TlsOptions(pki), &service);
  const int port = host->port();
  REQUIRE(Echo(port, {pki.other_ca.cert_path}).error_code() == grpc::StatusCode::UNAVAILABLE);

  // The new certificate comes from the other CA, so only a client trusting that CA tells it from
  // the old one. Renames make each file change at once.
  const TestCertificate next =
      *MakeTestLeaf(pki.dir.path(), "server-next", pki.other_ca, /*server=*/true);
  REQUIRE(std::rename(next.key_path.c_str(), pki.server.key_path.c_str()) == 0);
  REQUIRE(std::rename(next.cert_path.c_str(), pki.server.cert_path.c_str()) == 0);

  CHECK(fabrique::testing::PollUntil([&] { return Echo(port, {pki.other_ca.cert_path}).ok(); },
                                     absl::Seconds(30)));
  CHECK(host->port() == port);
  CHECK(Echo(port, {pki.ca.cert_path}).error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("a TLS file missing or not PEM is FAILED_PRECONDITION naming it") {
  Pki pki;
  ServiceHostOptions options = TlsOptions(pki);
  options.service_name = "test";
  options.tls->key_path = pki.dir.Sub("missing.key");
  absl::Status status = ServiceHost::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(status.message(), pki.dir.Sub("missing.key")));
  CHECK(absl::StrContains(status.message(), "private key"));

  options = TlsOptions(pki);
  options.service_name = "test";
  std::FILE* junk = std::fopen(pki.dir.Sub("junk.crt").c_str(), "w");
  std::fputs("not a certificate\n", junk);
  std::fclose(junk);
  options.tls->client_ca_path = pki.dir.Sub("junk.crt");
  status = ServiceHost::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(status.message(), pki.dir.Sub("junk.crt")));
}

TEST_CASE("a host needs exactly one of TLS and plaintext") {
  Pki pki;
  ServiceHostOptions options;
  options.service_name = "test";
  absl::Status status = ServiceHost::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(status.message(), "TLS files"));
  options = TlsOptions(pki);
  options.service_name = "test";
  options.plaintext = true;
  CHECK(ServiceHost::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the insecure gauge is 1 on a plaintext host and 0 with TLS") {
  Pki pki;
  PeerEcho plain_service, tls_service;
  ServiceHostOptions plain;
  plain.plaintext = true;
  auto plain_host = StartHost(plain, &plain_service);
  auto tls_host = StartHost(TlsOptions(pki), &tls_service);
  const absl::StatusOr<std::string> plain_metrics =
      fabrique::testing::HttpGet("127.0.0.1", plain_host->metrics_port(), "/metrics");
  const absl::StatusOr<std::string> tls_metrics =
      fabrique::testing::HttpGet("127.0.0.1", tls_host->metrics_port(), "/metrics");
  REQUIRE(plain_metrics.ok());
  REQUIRE(tls_metrics.ok());
  CHECK(absl::StrContains(*plain_metrics, "\nfabrique_test_insecure 1\n"));
  CHECK(absl::StrContains(*tls_metrics, "\nfabrique_test_insecure 0\n"));
}

TEST_CASE("an in-process channel reaches a TLS host, with no peer certificate") {
  Pki pki;
  PeerEcho service;
  auto host = StartHost(TlsOptions(pki), &service);
  auto stub = fabrique::testing::Echo::NewStub(host->InProcessChannel());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  EchoResponse response;
  CHECK(stub->Echo(&context, EchoRequest(), &response).ok());
  CHECK(service.peer_pem().empty());
}

}  // namespace
}  // namespace fabrique::server
