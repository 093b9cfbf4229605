// Where a command reaches a service, and what it says when nothing answers there: the service,
// the address, where the address came from and what to do, instead of gRPC's raw message. Other
// failures keep the server's words (an UNIMPLEMENTED call names the area that builds it), even an
// UNAVAILABLE whose words are about another service the server could not reach.

#include "tools/cli/service_target.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/trainer.grpc.pb.h"
#include "grpcpp/server_builder.h"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "libs/client/typed_clients.h"
#include "tests/util/test_util.h"
#include "tools/cli/connection.h"

namespace fabrique::cli {
namespace {

// A loopback port nothing listens on: bound to learn a free one, then closed.
int DeadPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  socklen_t length = sizeof(address);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Connection flags for a plaintext server at 127.0.0.1:`port`.
ConnectionFlags Plaintext(int port) {
  ConnectionFlags flags;
  flags.target = absl::StrCat("127.0.0.1:", port);
  flags.insecure = true;
  flags.timeout = absl::Seconds(10);
  return flags;
}

TEST_CASE("a call to a port nothing listens on is unreachable, and says what to do") {
  const absl::StatusOr<Connection> connection = Connect(Plaintext(DeadPort()), "features");
  REQUIRE(connection.ok());
  const ServiceTarget* target = &connection->target;
  const client::FeaturesClient client(target->channel, CallTargetOf(*target), connection->call);
  const absl::Status error = client
                                 .Call(&v1::FeatureStore::Stub::ListFeatureGroups,
                                       v1::ListFeatureGroupsRequest(), "ListFeatureGroups")
                                 .status();
  CHECK(error.code() == absl::StatusCode::kUnavailable);
  const std::string message(error.message());
  CHECK(absl::StartsWith(message, absl::StrCat("ListFeatureGroups: UNAVAILABLE: cannot reach "
                                               "fabrique-features at ",
                                               target->address, ": Connection refused. ")));
  CHECK(absl::StrContains(message, "Is 'fabrique up' running?"));
  CHECK(absl::StrContains(message, "--data_dir DIR"));
  CHECK(absl::StrContains(message, "--target HOST:PORT"));
  CHECK_FALSE(absl::StrContains(message, "failed to connect to all addresses"));
}

// What the trainer answers when the feature store it reads from is down: gRPC's connection
// message, but about the trainer's own call to another service.
constexpr char kFeatureStoreDown[] =
    "GetFeatureGroup sig failed 5 times (deadline 30s); last: failed to connect to all addresses; "
    "last error: UNKNOWN: ipv4:127.0.0.1:48001: Failed to connect to remote host: Connection "
    "refused";

// A trainer that answers every SubmitRun with kFeatureStoreDown.
class FeatureStoreDownTrainer final : public v1::Trainer::Service {
  grpc::Status SubmitRun(grpc::ServerContext*, const v1::SubmitRunRequest*, v1::Run*) override {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, kFeatureStoreDown);
  }
};

TEST_CASE("a server that answered UNAVAILABLE about another service keeps its words") {
  FeatureStoreDownTrainer trainer;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&trainer);
  const std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server != nullptr);
  const absl::StatusOr<Connection> connection = Connect(Plaintext(port), "trainer");
  REQUIRE(connection.ok());
  const ServiceTarget& target = connection->target;
  auto stub = v1::Trainer::NewStub(target.channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::Run run;
  const grpc::Status status = stub->SubmitRun(&context, v1::SubmitRunRequest(), &run);
  REQUIRE(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_FALSE(IsUnreachable(status, target.channel.get()));

  const absl::Status error =
      client::CallError(status, "SubmitRun", CallTargetOf(target), target.channel.get());
  CHECK(error.code() == absl::StatusCode::kUnavailable);
  CHECK(error.message() == absl::StrCat("SubmitRun: UNAVAILABLE: ", kFeatureStoreDown));
  server->Shutdown();
}

TEST_CASE("an address from endpoints.tsv asks whether that fabrique up still runs") {
  const ServiceTarget target{"registry", "127.0.0.1:4242", "/srv/fabrique", nullptr};
  const std::string message = UnreachableMessage(
      target,
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:4242: Failed to "
      "connect to remote host: Connection refused");
  CHECK(message ==
        "cannot reach fabrique-registry at 127.0.0.1:4242 (from /srv/fabrique/endpoints.tsv): "
        "Connection refused. Is 'fabrique up --data_dir /srv/fabrique' still running? Start it "
        "again, or pass --target HOST:PORT");
}

TEST_CASE("only an UNAVAILABLE over a channel that is not connected is unreachable") {
  // A channel that never connected: its state, not the words, makes the call unreachable.
  const std::shared_ptr<grpc::Channel> idle =
      client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", DeadPort()));
  CHECK(IsUnreachable(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "DNS resolution failed for nosuch.invalid:7101"),
      idle.get()));
  CHECK(IsUnreachable(grpc::Status(grpc::StatusCode::UNAVAILABLE, "Socket closed"), idle.get()));
  // Other codes came from a server, whatever they say; without a channel nothing is known, so
  // the server's words are kept.
  CHECK_FALSE(
      IsUnreachable(grpc::Status(grpc::StatusCode::NOT_FOUND, "connection refused"), idle.get()));
  CHECK_FALSE(IsUnreachable(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed to connect to all addresses"), nullptr));

  const ServiceTarget target{"monitor", "127.0.0.1:7105", "", idle};
  const absl::Status unimplemented = client::CallError(
      grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                   "/fabrique.v1.Monitor/ListAlerts is not built yet: it is part of the monitor, "
                   "whose calls are being built. The API is published so clients can be written "
                   "against it."),
      "ListAlerts", CallTargetOf(target), target.channel.get());
  CHECK(unimplemented.code() == absl::StatusCode::kUnimplemented);
  CHECK(unimplemented.message() ==
        "ListAlerts: UNIMPLEMENTED: /fabrique.v1.Monitor/ListAlerts is not built yet: it is part "
        "of the monitor, whose calls are being built. The API is published so clients can be "
        "written against it.");
  CHECK(client::CallError(grpc::Status::OK, "ListAlerts", CallTargetOf(target), idle.get()).ok());
}

TEST_CASE("Connect: a TLS channel needs a CA file that exists") {
  ConnectionFlags flags;
  flags.target = "127.0.0.1:7101";
  flags.ca = "/no/such/ca.crt";
  const absl::StatusOr<Connection> connection = Connect(flags, "features");
  CHECK(connection.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(connection.status().message(), "/no/such/ca.crt"));
}

}  // namespace
}  // namespace fabrique::cli
