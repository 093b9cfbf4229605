// Where a command reaches a service, and what it says when nothing answers there: the service,
// the address, where the address came from and what to do, instead of gRPC's raw message. Other
// failures keep the server's words (an UNIMPLEMENTED call names the area that builds it).

#include "tools/cli/service_target.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "libs/client/health_client.h"
#include "tests/util/test_util.h"
#include "tools/cli/endpoints_file.h"
#include "tools/cli/rpc_call.h"

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

TEST_CASE("a call to a port nothing listens on is unreachable, and says what to do") {
  const ServiceTarget target{"features", absl::StrCat("127.0.0.1:", DeadPort()), ""};
  auto stub = v1::FeatureStore::NewStub(client::MakeChannel(target.address));
  grpc::ClientContext context;
  SetTimeout(&context, absl::Seconds(10));
  v1::ListFeatureGroupsResponse response;
  const grpc::Status status =
      stub->ListFeatureGroups(&context, v1::ListFeatureGroupsRequest(), &response);
  REQUIRE(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(IsUnreachable(status));

  const absl::Status error = RpcError(status, "ListFeatureGroups", target);
  CHECK(error.code() == absl::StatusCode::kUnavailable);
  const std::string message(error.message());
  CHECK(absl::StartsWith(message, absl::StrCat("ListFeatureGroups: UNAVAILABLE: cannot reach "
                                               "fabrique-features at ",
                                               target.address, ": Connection refused. ")));
  CHECK(absl::StrContains(message, "Is 'fabrique up' running?"));
  CHECK(absl::StrContains(message, "--data_dir DIR"));
  CHECK(absl::StrContains(message, "--target HOST:PORT"));
  CHECK_FALSE(absl::StrContains(message, "failed to connect to all addresses"));
}

TEST_CASE("an address from endpoints.tsv asks whether that fabrique up still runs") {
  const ServiceTarget target{"registry", "127.0.0.1:4242", "/srv/fabrique"};
  const std::string message = UnreachableMessage(
      target,
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:4242: Failed to "
      "connect to remote host: Connection refused");
  CHECK(message ==
        "cannot reach fabrique-registry at 127.0.0.1:4242 (from /srv/fabrique/endpoints.tsv): "
        "Connection refused. Is 'fabrique up --data_dir /srv/fabrique' still running? Start it "
        "again, or pass --target HOST:PORT");
}

TEST_CASE("only connection failures are unreachable; other errors keep the server's words") {
  CHECK(IsUnreachable(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                   "DNS resolution failed for nosuch.invalid:7101")));
  // A server that answered UNAVAILABLE (stopping, or a dependency down) was reached.
  CHECK_FALSE(
      IsUnreachable(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the registry is stopping")));
  CHECK_FALSE(IsUnreachable(grpc::Status(grpc::StatusCode::NOT_FOUND, "connection refused")));

  const ServiceTarget target{"monitor", "127.0.0.1:7105", ""};
  const absl::Status unimplemented = RpcError(
      grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                   "/fabrique.v1.Monitor/ListAlerts is not built yet: it is part of the monitor, "
                   "whose calls are being built. The API is published so clients can be written "
                   "against it."),
      "ListAlerts", target);
  CHECK(unimplemented.code() == absl::StatusCode::kUnimplemented);
  CHECK(unimplemented.message() ==
        "ListAlerts: UNIMPLEMENTED: /fabrique.v1.Monitor/ListAlerts is not built yet: it is part "
        "of the monitor, whose calls are being built. The API is published so clients can be "
        "written against it.");
  CHECK(RpcError(grpc::Status::OK, "ListAlerts", target).ok());
}

TEST_CASE("ResolveService: --target as given, or the address endpoints.tsv lists") {
  auto direct = ResolveService("10.0.0.1:7101", "", "features");
  REQUIRE(direct.ok());
  CHECK(direct->address == "10.0.0.1:7101");
  CHECK(direct->data_dir.empty());

  fabrique::testing::TempDir tmp;
  CHECK(ResolveService("x", tmp.path(), "features").status().code() == absl::StatusCode::kNotFound);
  REQUIRE(WriteEndpoints(tmp.path(), {{"features", "127.0.0.1:40001", -1, 42}}).ok());
  auto listed = ResolveService("ignored:1", tmp.path(), "features");
  REQUIRE(listed.ok());
  CHECK(listed->address == "127.0.0.1:40001");
  CHECK(listed->data_dir == tmp.path());
  auto missing = ResolveService("ignored:1", tmp.path(), "registry");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.status().message(), "lists no 'registry' service"));
}

}  // namespace
}  // namespace fabrique::cli
