// What a call carries, seen by a real server over an in-process channel: the deadline, the
// bearer token as plain authorization metadata (so it also travels over plaintext and in-process
// channels), the on-behalf-of metadata and never an x-fabrique-* header; and the typed
// client's calls, retries and errors that name the call and the target.

#include "libs/client/call_context.h"

#include <future>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/testing/echo.grpc.pb.h"
#include "libs/client/channel.h"
#include "libs/client/service_client.h"
#include "libs/server/service_host.h"
#include "tests/util/test_util.h"

namespace fabrique::client {
namespace {

using fabrique::testing::EchoRequest;
using fabrique::testing::EchoResponse;
using EchoClient = ServiceClient<fabrique::testing::Echo>;

const CallTarget kInProcess{"test", "in-process", "", "", /*networked=*/false};

// Keeps what the last call carried; answers NotYet with the code its text names.
class RecordingEcho final : public fabrique::testing::Echo::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* context, const EchoRequest* request,
                    EchoResponse* response) override {
    absl::MutexLock lock(&mu_);
    metadata_.clear();
    for (const auto& [key, value] : context->client_metadata()) {
      metadata_[std::string(key.data(), key.size())] = std::string(value.data(), value.size());
    }
    deadline_ = absl::FromChrono(context->deadline());
    ++calls_;
    if (request->text() == "unavailable") return {grpc::StatusCode::UNAVAILABLE, "warming up"};
    if (request->text() == "missing") return {grpc::StatusCode::NOT_FOUND, "no such thing"};
    response->set_text(request->text());
    return grpc::Status::OK;
  }
  std::map<std::string, std::string> metadata() {
    absl::MutexLock lock(&mu_);
    return metadata_;
  }
  absl::Time deadline() {
    absl::MutexLock lock(&mu_);
    return deadline_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> metadata_;
  absl::Time deadline_;
  int calls_ = 0;
};

struct Server {
  RecordingEcho service;
  std::unique_ptr<server::ServiceHost> host;
  Server() {
    server::ServiceHostOptions options;
    options.service_name = "test";
    options.plaintext = true;
    options.listen_host = "127.0.0.1";
    options.metrics_port = -1;
    host = *server::ServiceHost::Create(options);
    host->AddService(&service, "fabrique.testing.Echo", "the echo area");
    REQUIRE(host->Start().ok());
  }
};

absl::StatusOr<EchoResponse> Echo(const Server& server, const CallContext& call,
                                  const std::string& text = "hi") {
  EchoClient client(server.host->InProcessChannel(), kInProcess, call);
  EchoRequest request;
  request.set_text(text);
  return client.Call(&EchoClient::Stub::Echo, request, "Echo");
}

TEST_CASE("a call context sets the deadline from its timeout") {
  Server server;
  CallContext call;
  call.timeout = absl::Seconds(7);
  const absl::Time before = absl::Now();
  REQUIRE(Echo(server, call).ok());
  CHECK(server.service.deadline() >= before + absl::Seconds(7) - absl::Milliseconds(50));
  CHECK(server.service.deadline() <= absl::Now() + absl::Seconds(7) + absl::Milliseconds(50));

  SECTION("an earlier deadline wins over the timeout") {
    call.deadline = absl::Now() + absl::Seconds(2);
    REQUIRE(Echo(server, call).ok());
    CHECK(server.service.deadline() <= call.deadline + absl::Milliseconds(50));
    CHECK(server.service.deadline() >= call.deadline - absl::Milliseconds(50));
  }
}

TEST_CASE("credentials travel as metadata over an in-process channel") {
  Server server;
  CallContext call;
  call.credentials.bearer_token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";
  call.credentials.on_behalf_of_user = "alice";
  call.credentials.on_behalf_of_groups = {"risk:data-scientist", "risk-ds"};
  REQUIRE(Echo(server, call).ok());
  const std::map<std::string, std::string> metadata = server.service.metadata();
  CHECK(metadata.at("authorization") == "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln");
  CHECK(metadata.at("fabrique-on-behalf-of-user") == "alice");
  CHECK(metadata.at("fabrique-on-behalf-of-groups") == "risk:data-scientist,risk-ds");
  // Who the caller is travels only in what a server verifies: never as a claim of its own.
  for (const char* key : {"x-fabrique-user", "x-fabrique-roles", "x-fabrique-squad"}) {
    INFO(key);
    CHECK(metadata.count(key) == 0);
  }
}

TEST_CASE("a call without credentials carries none of their metadata") {
  Server server;
  REQUIRE(Echo(server, CallContext()).ok());
  const std::map<std::string, std::string> metadata = server.service.metadata();
  for (const char* key : {"authorization", "fabrique-on-behalf-of-user",
                          "fabrique-on-behalf-of-groups", "x-fabrique-user"}) {
    INFO(key);
    CHECK(metadata.count(key) == 0);
  }
}

TEST_CASE("a token source is asked at each call, and its error fails the call unsent") {
  Server server;
  int asked = 0;
  CallContext call;
  call.credentials.bearer_token = "ignored";
  call.credentials.token_source = [&asked]() -> absl::StatusOr<std::string> {
    if (++asked == 3) return absl::UnauthenticatedError("the refresh token expired");
    return absl::StrCat("token", asked);
  };
  REQUIRE(Echo(server, call).ok());
  CHECK(server.service.metadata().at("authorization") == "Bearer token1");
  REQUIRE(Echo(server, call).ok());
  CHECK(server.service.metadata().at("authorization") == "Bearer token2");
  const absl::StatusOr<EchoResponse> failed = Echo(server, call);
  CHECK(failed.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(absl::StrContains(failed.status().message(),
                          "cannot get a bearer token: the refresh token expired"));
  CHECK(server.service.calls() == 2);
}

TEST_CASE("values that cannot travel as metadata are INVALID_ARGUMENT") {
  CallContext call;
  call.credentials.bearer_token = "Bearer abc";  // The header's words pasted in with the token.
  CHECK(call.NewClientContext().status().code() == absl::StatusCode::kInvalidArgument);
  call.credentials.bearer_token = "abc\n";
  CHECK(call.NewClientContext().status().code() == absl::StatusCode::kInvalidArgument);
  call.credentials.bearer_token = "abc";
  call.credentials.on_behalf_of_groups = {"a,b"};
  CHECK(call.NewClientContext().status().code() == absl::StatusCode::kInvalidArgument);
  call.credentials.on_behalf_of_groups = {"a"};
  CHECK(call.NewClientContext().ok());
}

TEST_CASE("a typed client's errors name the call and the code") {
  Server server;
  EchoClient client(server.host->InProcessChannel(), kInProcess, CallContext());
  EchoRequest request;
  request.set_text("missing");
  const absl::StatusOr<EchoResponse> got =
      client.Call(&EchoClient::Stub::Echo, request, "Echo missing");
  CHECK(got.status().code() == absl::StatusCode::kNotFound);
  CHECK(got.status().message() == "Echo missing: NOT_FOUND: no such thing");
}

TEST_CASE("CallIdempotent retries UNAVAILABLE on the client's clock, Call does not") {
  Server server;
  core::FakeClock clock;
  EchoClient client(server.host->InProcessChannel(), kInProcess, CallContext(), RetryPolicy{},
                    &clock);
  EchoRequest request;
  request.set_text("unavailable");
  CHECK(client.Call(&EchoClient::Stub::Echo, request, "Echo").status().code() ==
        absl::StatusCode::kUnavailable);
  CHECK(server.service.calls() == 1);

  auto retried = std::async(std::launch::async, [&] {
    return client.CallIdempotent(&EchoClient::Stub::Echo, request, "Echo");
  });
  REQUIRE(clock.AwaitSleeps(1, absl::Seconds(10)));
  clock.Advance(absl::Milliseconds(500));
  REQUIRE(clock.AwaitSleeps(2, absl::Seconds(10)));
  clock.Advance(absl::Seconds(1));
  const absl::StatusOr<EchoResponse> got = retried.get();
  CHECK(got.status().code() == absl::StatusCode::kUnavailable);
  CHECK(got.status().message() == "Echo: UNAVAILABLE: warming up");
  CHECK(server.service.calls() == 4);
}

TEST_CASE("a call that finds no server says which service, where, and what to do") {
  // Port 1 on loopback: nothing listens there.
  ServiceClient<fabrique::testing::Echo> client(
      MakePlaintextChannel("127.0.0.1:1"),
      {"registry", "127.0.0.1:1", "/data/endpoints.tsv", "Is it running?"}, CallContext());
  const absl::StatusOr<EchoResponse> got =
      client.Call(&EchoClient::Stub::Echo, EchoRequest(), "GetModel fraud");
  CHECK(got.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StartsWith(got.status().message(),
                         "GetModel fraud: UNAVAILABLE: cannot reach fabrique-registry at "
                         "127.0.0.1:1 (from /data/endpoints.tsv): "));
  CHECK(absl::EndsWith(got.status().message(), ". Is it running?"));
}

}  // namespace
}  // namespace fabrique::client
