// The inference server's feature port: unary LookupOnline calls on gRPC's callback API, against
// the real feature store served in-process. Answers equal LookupOnline's, concurrent lookups
// reach their own callers, the store's verdicts come back with their codes, a store that cannot
// be reached is UNAVAILABLE, and a lookup not answered by its deadline is DEADLINE_EXCEEDED.

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/server_builder.h"
#include "libs/client/channel.h"
#include "services/inference/feature_client_port.h"
#include "tests/services/feature_store_test_server.h"

namespace fabrique::services {
namespace {

using feature_test::Batch;
using feature_test::Context;
using feature_test::Define;
using feature_test::Identity;
using feature_test::Ingest;
using feature_test::IngestCustomers;
using feature_test::LookupOfKeys;
using feature_test::Server;

std::string AddressOf(Server& s) { return absl::StrCat("127.0.0.1:", s.host->port()); }

absl::Time InTenSeconds() { return absl::Now() + absl::Seconds(10); }

// A feature store that never answers a lookup (until it is cancelled).
class SilentStore final : public v1::FeatureStore::CallbackService {
 public:
  grpc::ServerUnaryReactor* LookupOnline(grpc::CallbackServerContext*,
                                         const v1::LookupOnlineRequest*,
                                         v1::LookupOnlineResponse*) override {
    class Reactor final : public grpc::ServerUnaryReactor {
     public:
      void OnCancel() override { Finish(grpc::Status::CANCELLED); }
      void OnDone() override { delete this; }
    };
    return new Reactor();
  }
};

std::unique_ptr<grpc::Server> Serve(grpc::Service* service, const std::string& address, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), port);
  builder.RegisterService(service);
  return builder.BuildAndStart();
}

// A unary port to `address` as dana, who reads squad risk's features.
std::unique_ptr<FeatureClientPort> ClientPortTo(const std::string& address) {
  client::CallContext context;
  context.credentials.bearer_token =
      Identity().Token("dana", {"risk:data-engineer", "risk:data-scientist"});
  return std::make_unique<FeatureClientPort>(client::MakePlaintextChannel(address), address,
                                             std::move(context));
}

// The port's answer to `request`, waited for.
absl::StatusOr<v1::LookupOnlineResponse> LookUpAsync(FeatureClientPort& port,
                                                     const v1::LookupOnlineRequest& request,
                                                     absl::Time deadline) {
  absl::Notification answered;
  absl::StatusOr<v1::LookupOnlineResponse> answer;
  port.LookupOnlineAsync(request, deadline, [&](absl::StatusOr<serving::LookupAnswer> result) {
    if (result.ok()) {
      answer = **result;  // A copy off the port's arena, which goes back to its pool below.
    } else {
      answer = result.status();
    }
    answered.Notify();
  });
  answered.WaitForNotification();
  return answer;
}

TEST_CASE("feature client port: lookups are answered as LookupOnline answers") {
  Server s;
  Define(s);
  IngestCustomers(s, 10);
  auto port = ClientPortTo(AddressOf(s));
  CHECK(port->non_blocking());
  for (int i = 0; i < 10; ++i) {
    const v1::LookupOnlineRequest request =
        LookupOfKeys({absl::StrCat("c", i % 12), absl::StrCat("c", (i + 3) % 12)});
    absl::StatusOr<v1::LookupOnlineResponse> answer =
        i % 2 == 0 ? LookUpAsync(*port, request, InTenSeconds())
                   : port->LookupOnline(request, InTenSeconds());
    INFO("lookup " << i << ": " << answer.status());
    REQUIRE(answer.ok());
    v1::LookupOnlineResponse unary;
    REQUIRE(s.stub->LookupOnline(Context().get(), request, &unary).ok());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*answer, unary));
  }
}

TEST_CASE("feature client port: lookups at once reach their own callers") {
  Server s;
  Define(s);
  IngestCustomers(s, 20);
  auto port = ClientPortTo(AddressOf(s));
  constexpr int kLookups = 16;
  std::vector<v1::LookupOnlineRequest> requests;
  for (int i = 0; i < kLookups; ++i) requests.push_back(LookupOfKeys({absl::StrCat("c", i)}));
  // Held on the port's arenas until the end: each answer is its own while others are parsed.
  std::vector<absl::StatusOr<serving::LookupAnswer>> answers(kLookups);
  std::vector<absl::Notification> answered(kLookups);
  for (int i = 0; i < kLookups; ++i) {
    port->LookupOnlineAsync(requests[i], InTenSeconds(),
                            [&, i](absl::StatusOr<serving::LookupAnswer> result) {
                              answers[i] = std::move(result);
                              answered[i].Notify();
                            });
  }
  for (int i = 0; i < kLookups; ++i) {
    answered[i].WaitForNotification();
    REQUIRE(answers[i].ok());
    v1::LookupOnlineResponse unary;
    REQUIRE(s.stub->LookupOnline(Context().get(), requests[i], &unary).ok());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(**answers[i], unary));
  }
}

TEST_CASE("feature client port: an answer stays readable after the port is gone") {
  Server s;
  Define(s);
  IngestCustomers(s, 3);
  auto port = ClientPortTo(AddressOf(s));
  const v1::LookupOnlineRequest request = LookupOfKeys({"c1", "c2"});
  absl::Notification answered;
  absl::StatusOr<serving::LookupAnswer> answer;
  port->LookupOnlineAsync(request, InTenSeconds(), [&](absl::StatusOr<serving::LookupAnswer> got) {
    answer = std::move(got);
    answered.Notify();
  });
  answered.WaitForNotification();
  port.reset();  // Its arenas' pool lives on with the answers still held.
  REQUIRE(answer.ok());
  v1::LookupOnlineResponse unary;
  REQUIRE(s.stub->LookupOnline(Context().get(), request, &unary).ok());
  CHECK(google::protobuf::util::MessageDifferencer::Equals(**answer, unary));
}

TEST_CASE("feature client port: the store's verdict comes back with its code") {
  Server s;
  Define(s);
  auto port = ClientPortTo(AddressOf(s));
  v1::LookupOnlineRequest unknown = LookupOfKeys({"c1"});
  unknown.mutable_features(0)->set_feature("no_such_feature");
  CHECK(LookUpAsync(*port, unknown, InTenSeconds()).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("feature client port: a lookup not answered by its deadline is DEADLINE_EXCEEDED") {
  SilentStore store;
  int port_number = 0;
  std::unique_ptr<grpc::Server> server = Serve(&store, "127.0.0.1:0", &port_number);
  REQUIRE(server != nullptr);
  auto port = ClientPortTo(absl::StrCat("127.0.0.1:", port_number));
  const absl::Time start = absl::Now();
  const absl::Status status =
      LookUpAsync(*port, LookupOfKeys({"c1"}), start + absl::Milliseconds(200)).status();
  CHECK(status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::Now() - start >= absl::Milliseconds(200));
  CHECK(absl::Now() - start < absl::Seconds(5));
  server->Shutdown();
}

TEST_CASE("feature client port: a store that cannot be reached is UNAVAILABLE, saying so") {
  // A port nothing listens on: connection refused at once.
  auto port = ClientPortTo("127.0.0.1:1");
  const absl::Status status = LookUpAsync(*port, LookupOfKeys({"c1"}), InTenSeconds()).status();
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StartsWith(status.message(), "the feature store is unavailable: "));
}

}  // namespace
}  // namespace fabrique::services
