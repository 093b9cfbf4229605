// The inference server's feature ports, against the real feature store served in-process. On
// LookupOnlineStream: answers equal LookupOnline's, one stream carries lookup after lookup, the
// store's verdicts come back with their codes (and the next lookup opens a new stream), a store
// that cannot be reached is UNAVAILABLE, and a lookup not answered by its deadline is
// DEADLINE_EXCEEDED. On unary LookupOnline calls (the server's): the same, concurrent lookups
// reaching their own callers.

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
#include "services/inference/feature_stream_port.h"
#include "tests/services/feature_store_test_server.h"

namespace fabrique::services {
namespace {

using feature_test::Batch;
using feature_test::Context;
using feature_test::Define;
using feature_test::Identity;
using feature_test::Ingest;
using feature_test::LookupOfKeys;
using feature_test::Server;

// A port to `address` as dana, who reads squad risk's features.
std::unique_ptr<FeatureStreamPort> PortTo(const std::string& address) {
  FeatureStreamPortOptions options;
  options.channel = client::MakePlaintextChannel(address);
  options.target = address;
  options.context.credentials.bearer_token =
      Identity().Token("dana", {"risk:data-engineer", "risk:data-scientist"});
  return std::make_unique<FeatureStreamPort>(std::move(options));
}

std::string AddressOf(Server& s) { return absl::StrCat("127.0.0.1:", s.host->port()); }

void IngestCustomers(Server& s, int n) {
  std::vector<std::tuple<std::string, int, float, std::string>> rows;
  for (int i = 0; i < n; ++i) {
    rows.emplace_back(absl::StrCat("c", i), i % 20, static_cast<float>(i), absl::StrCat("k", i));
  }
  v1::IngestResponse response;
  REQUIRE(Ingest(s, {Batch(s, rows)}, &response).ok());
}

absl::Time InTenSeconds() { return absl::Now() + absl::Seconds(10); }

TEST_CASE("feature stream port: lookups are answered as LookupOnline answers, on one stream") {
  Server s;
  Define(s);
  IngestCustomers(s, 10);
  auto port = PortTo(AddressOf(s));
  CHECK(port->non_blocking());
  for (int i = 0; i < 20; ++i) {
    const v1::LookupOnlineRequest request =
        LookupOfKeys({absl::StrCat("c", i % 12), absl::StrCat("c", (i + 3) % 12)});
    absl::StatusOr<v1::LookupOnlineResponse> answer = port->LookupOnline(request, InTenSeconds());
    INFO("lookup " << i << ": " << answer.status());
    REQUIRE(answer.ok());
    v1::LookupOnlineResponse unary;
    REQUIRE(s.stub->LookupOnline(Context().get(), request, &unary).ok());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*answer, unary));
  }
  CHECK(port->streams_opened() == 1);
}

TEST_CASE("feature stream port: lookups at once take a stream each; answers reach their caller") {
  Server s;
  Define(s);
  IngestCustomers(s, 40);
  auto port = PortTo(AddressOf(s));
  std::vector<std::thread> callers;
  std::vector<std::string> problems(8);
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const int key = (t * 5 + i) % 40;
        absl::StatusOr<v1::LookupOnlineResponse> answer =
            port->LookupOnline(LookupOfKeys({absl::StrCat("c", key)}), InTenSeconds());
        if (!answer.ok()) {
          problems[t] = answer.status().ToString();
        } else if (answer->columns(0).values().float_values().values(0) != key) {
          problems[t] = absl::StrCat("c", key, " answered another key's amount");
        }
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  for (const std::string& problem : problems) CHECK(problem.empty());
  // Streams are reused: a caller opens another only when its last answer came back before its
  // stream had reported its write (rare), never one per lookup.
  CHECK(port->streams_opened() >= 1);
  CHECK(port->streams_opened() <= 16);
}

TEST_CASE("feature stream port: the store's verdict comes back with its code, then lookups go on") {
  Server s;
  Define(s);
  IngestCustomers(s, 3);
  auto port = PortTo(AddressOf(s));
  REQUIRE(port->LookupOnline(LookupOfKeys({"c1"}), InTenSeconds()).ok());
  v1::LookupOnlineRequest ghost = LookupOfKeys({"c1"});
  ghost.mutable_features(1)->set_feature("ghost_feature");
  absl::StatusOr<v1::LookupOnlineResponse> refused = port->LookupOnline(ghost, InTenSeconds());
  CHECK(refused.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(refused.status().message(), "ghost_feature"));
  // The verdict is this lookup's: what the stream answered before it is not mentioned.
  CHECK(!absl::StrContains(refused.status().message(), "answered requests"));
  absl::StatusOr<v1::LookupOnlineResponse> after =
      port->LookupOnline(LookupOfKeys({"c2"}), InTenSeconds());
  REQUIRE(after.ok());
  CHECK(after->columns(0).values().float_values().values(0) == 2.f);
  CHECK(port->streams_opened() == 2);
}

TEST_CASE("feature stream port: a store that cannot be reached is UNAVAILABLE, saying so") {
  // A port nothing listens on: bind one, then free it.
  Server s;
  const std::string address = AddressOf(s);
  s.host->Shutdown();
  auto port = PortTo(address);
  absl::StatusOr<v1::LookupOnlineResponse> answer =
      port->LookupOnline(LookupOfKeys({"c1"}), InTenSeconds());
  CHECK(answer.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StartsWith(answer.status().message(), "the feature store is unavailable: "));
}

// A feature store that never answers a lookup: its stream reads requests, its unary call waits
// to be cancelled.
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
  grpc::ServerBidiReactor<v1::LookupOnlineRequest, v1::LookupOnlineResponse>* LookupOnlineStream(
      grpc::CallbackServerContext*) override {
    class Reactor final
        : public grpc::ServerBidiReactor<v1::LookupOnlineRequest, v1::LookupOnlineResponse> {
     public:
      Reactor() { StartRead(&request_); }
      void OnReadDone(bool ok) override {
        if (!ok) Finish(grpc::Status::OK);
      }
      void OnCancel() override { Finish(grpc::Status::CANCELLED); }
      void OnDone() override { delete this; }

     private:
      v1::LookupOnlineRequest request_;
    };
    return new Reactor();
  }
};

TEST_CASE("feature stream port: a lookup not answered by its deadline is DEADLINE_EXCEEDED") {
  SilentStore store;
  grpc::ServerBuilder builder;
  int port_number = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_number);
  builder.RegisterService(&store);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server != nullptr);
  {
    auto port = PortTo(absl::StrCat("127.0.0.1:", port_number));
    const absl::Time start = absl::Now();
    absl::Notification answered;
    absl::StatusOr<v1::LookupOnlineResponse> answer;
    port->LookupOnlineAsync(LookupOfKeys({"c1"}), start + absl::Milliseconds(200),
                            [&](absl::StatusOr<v1::LookupOnlineResponse> result) {
                              answer = std::move(result);
                              answered.Notify();
                            });
    REQUIRE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
    CHECK(answer.status().code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(absl::Now() - start >= absl::Milliseconds(200));
    CHECK(absl::Now() - start < absl::Seconds(5));
  }  // The port waits for its streams to end.
  server->Shutdown();
}

// A feature store whose lookup stream answers every request with its row count alone. When
// `hangs`, a stream the client closes is never finished (until cancelled).
class CountingStore final : public v1::FeatureStore::CallbackService {
 public:
  explicit CountingStore(bool hangs = false) : hangs_(hangs) {}

  grpc::ServerBidiReactor<v1::LookupOnlineRequest, v1::LookupOnlineResponse>* LookupOnlineStream(
      grpc::CallbackServerContext*) override {
    class Reactor final
        : public grpc::ServerBidiReactor<v1::LookupOnlineRequest, v1::LookupOnlineResponse> {
     public:
      explicit Reactor(bool hangs) : hangs_(hangs) { StartRead(&request_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          if (!hangs_) Finish(grpc::Status::OK);
          return;
        }
        response_.set_row_count(request_.entity_keys(0).keys_size());
        StartWrite(&response_);
      }
      void OnWriteDone(bool ok) override {
        if (!ok) return Finish(grpc::Status::CANCELLED);
        StartRead(&request_);
      }
      void OnCancel() override {
        if (hangs_) Finish(grpc::Status::CANCELLED);
      }
      void OnDone() override { delete this; }

     private:
      const bool hangs_;
      v1::LookupOnlineRequest request_;
      v1::LookupOnlineResponse response_;
    };
    return new Reactor(hangs_);
  }

 private:
  const bool hangs_;
};

std::unique_ptr<grpc::Server> Serve(grpc::Service* service, const std::string& address, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), port);
  builder.RegisterService(service);
  return builder.BuildAndStart();
}

TEST_CASE("feature stream port: a stream the store dropped while idle costs no failed lookup") {
  CountingStore store;
  int port_number = 0;
  std::unique_ptr<grpc::Server> server = Serve(&store, "127.0.0.1:0", &port_number);
  REQUIRE(server != nullptr);
  const std::string address = absl::StrCat("127.0.0.1:", port_number);
  auto port = PortTo(address);
  absl::StatusOr<v1::LookupOnlineResponse> first =
      port->LookupOnline(LookupOfKeys({"c1", "c2"}), InTenSeconds());
  REQUIRE(first.ok());
  CHECK(first->row_count() == 2);
  // The store restarts on the same address: the idle stream is gone with the old process.
  server->Shutdown(std::chrono::system_clock::now());
  server.reset();
  CountingStore restarted;
  server = Serve(&restarted, address, &port_number);
  REQUIRE(server != nullptr);
  absl::StatusOr<v1::LookupOnlineResponse> after =
      port->LookupOnline(LookupOfKeys({"c1", "c2", "c3"}), InTenSeconds());
  INFO(after.status());
  REQUIRE(after.ok());
  CHECK(after->row_count() == 3);
  CHECK(port->streams_opened() == 2);
  port.reset();
  server->Shutdown(std::chrono::system_clock::now());
}

TEST_CASE("feature stream port: a store that never ends closed streams does not hold shutdown") {
  CountingStore store(/*hangs=*/true);
  int port_number = 0;
  std::unique_ptr<grpc::Server> server = Serve(&store, "127.0.0.1:0", &port_number);
  REQUIRE(server != nullptr);
  auto port = PortTo(absl::StrCat("127.0.0.1:", port_number));
  REQUIRE(port->LookupOnline(LookupOfKeys({"c1"}), InTenSeconds()).ok());
  const absl::Time start = absl::Now();
  port.reset();  // Closes the idle stream, waits 2 s, then cancels it.
  CHECK(absl::Now() - start >= absl::Seconds(2));
  CHECK(absl::Now() - start < absl::Seconds(8));
  server->Shutdown(std::chrono::system_clock::now());
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
  port.LookupOnlineAsync(request, deadline, [&](absl::StatusOr<v1::LookupOnlineResponse> result) {
    answer = std::move(result);
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
  std::vector<absl::StatusOr<v1::LookupOnlineResponse>> answers(kLookups);
  std::vector<absl::Notification> answered(kLookups);
  for (int i = 0; i < kLookups; ++i) {
    port->LookupOnlineAsync(requests[i], InTenSeconds(),
                            [&, i](absl::StatusOr<v1::LookupOnlineResponse> result) {
                              answers[i] = std::move(result);
                              answered[i].Notify();
                            });
  }
  for (int i = 0; i < kLookups; ++i) {
    answered[i].WaitForNotification();
    REQUIRE(answers[i].ok());
    v1::LookupOnlineResponse unary;
    REQUIRE(s.stub->LookupOnline(Context().get(), requests[i], &unary).ok());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*answers[i], unary));
  }
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
