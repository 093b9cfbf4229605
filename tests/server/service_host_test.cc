// Tests of the service host through real gRPC calls on loopback port 0.

#include "libs/server/service_host.h"

#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/testing/echo.grpc.pb.h"
#include "libs/client/health_client.h"
#include "tests/util/test_util.h"

namespace fabrique::server {
namespace {

using fabrique::testing::EchoRequest;
using fabrique::testing::EchoResponse;

constexpr char kEchoService[] = "fabrique.testing.Echo";
constexpr char kArea[] = "the echo area";

// Answers Echo after the requested delay; leaves NotYet unimplemented.
class EchoService final : public fabrique::testing::Echo::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* context, const EchoRequest* request,
                    EchoResponse* response) override {
    started.fetch_add(1);
    absl::SleepFor(absl::Milliseconds(request->delay_ms()));
    response->set_text(request->text());
    return grpc::Status::OK;
  }
  std::atomic<int> started{0};
};

struct Harness {
  EchoService service;
  std::unique_ptr<ServiceHost> host;

  explicit Harness(absl::Duration grace = absl::Seconds(5)) {
    ServiceHostOptions options;
    options.service_name = "test";
    options.listen_host = "127.0.0.1";
    options.shutdown_grace = grace;
    auto created = ServiceHost::Create(options);
    REQUIRE(created.ok());
    host = *std::move(created);
    host->AddService(&service, kEchoService, kArea);
    REQUIRE(host->Start().ok());
  }

  std::shared_ptr<grpc::Channel> Channel() const {
    return client::MakeChannel(absl::StrCat("127.0.0.1:", host->port()));
  }

  grpc::Status Call(const std::string& method, const std::string& text, int delay_ms = 0,
                    EchoResponse* response = nullptr) {
    auto stub = fabrique::testing::Echo::NewStub(Channel());
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    EchoRequest request;
    request.set_text(text);
    request.set_delay_ms(delay_ms);
    EchoResponse ignored;
    if (response == nullptr) response = &ignored;
    return method == "Echo" ? stub->Echo(&context, request, response)
                            : stub->NotYet(&context, request, response);
  }

  std::string Metrics() const {
    auto body = fabrique::testing::HttpGet("127.0.0.1", host->metrics_port(), "/metrics");
    REQUIRE(body.ok());
    return *body;
  }
};

TEST_CASE("port 0 binds free ports and reports them") {
  Harness h;
  CHECK(h.host->port() > 0);
  CHECK(h.host->metrics_port() > 0);
  CHECK(h.host->port() != h.host->metrics_port());
  EchoResponse response;
  REQUIRE(h.Call("Echo", "hello", 0, &response).ok());
  CHECK(response.text() == "hello");
}

TEST_CASE("health reports SERVING for the server and for each service") {
  Harness h;
  auto channel = h.Channel();
  CHECK(*client::CheckHealth(channel, "", absl::Seconds(5)) == client::Health::kServing);
  CHECK(*client::CheckHealth(channel, kEchoService, absl::Seconds(5)) == client::Health::kServing);
  CHECK(*client::CheckHealth(channel, "no.such.Service", absl::Seconds(5)) ==
        client::Health::kServiceUnknown);

  h.host->SetServing(kEchoService, false);
  CHECK(*client::CheckHealth(channel, kEchoService, absl::Seconds(5)) ==
        client::Health::kNotServing);
}

TEST_CASE("reflection lists the registered services") {
  Harness h;
  auto services = fabrique::testing::ListServicesByReflection(h.Channel());
  REQUIRE(services.ok());
  CHECK(std::count(services->begin(), services->end(), kEchoService) == 1);
  CHECK(std::count(services->begin(), services->end(), "grpc.health.v1.Health") == 1);
}

TEST_CASE("a call not built yet is UNIMPLEMENTED with a message naming the area") {
  Harness h;
  const grpc::Status status = h.Call("NotYet", "x");
  CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  CHECK(absl::StrContains(status.error_message(), "/fabrique.testing.Echo/NotYet"));
  CHECK(absl::StrContains(status.error_message(), kArea));
}

TEST_CASE("an unknown method is UNIMPLEMENTED and counted without its name") {
  Harness h;
  const grpc::Status status =
      fabrique::testing::GenericCall(h.Channel(), "/fabrique.testing.Echo/Nope", "", nullptr);
  CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  CHECK_FALSE(absl::StrContains(h.Metrics(), "Nope"));
}

TEST_CASE("metrics count calls by method and code, time them, and pass promtool") {
  Harness h;
  REQUIRE(h.Call("Echo", "a").ok());
  REQUIRE(h.Call("Echo", "b").ok());
  REQUIRE(h.Call("NotYet", "c").error_code() == grpc::StatusCode::UNIMPLEMENTED);
  // The interceptor records when the call object is released, just after the client has its
  // answer; poll rather than race it.
  std::string metrics;
  REQUIRE(fabrique::testing::PollUntil(
      [&] {
        metrics = h.Metrics();
        return absl::StrContains(
            metrics,
            "fabrique_test_rpc_requests_total{code=\"UNIMPLEMENTED\",method=\"NotYet\","
            "service=\"fabrique.testing.Echo\"} 1");
      },
      absl::Seconds(5)));
  CHECK(absl::StrContains(metrics,
                          "fabrique_test_rpc_requests_total{code=\"OK\",method=\"Echo\","
                          "service=\"fabrique.testing.Echo\"} 2"));
  CHECK(absl::StrContains(metrics,
                          "fabrique_test_rpc_duration_seconds_count{method=\"Echo\",service="
                          "\"fabrique.testing.Echo\"} 2"));
  CHECK(absl::StrContains(metrics, "# TYPE fabrique_test_rpc_in_flight gauge"));
  CHECK(absl::StrContains(metrics, "fabrique_test_build_info{version="));
  auto promtool = fabrique::testing::PromtoolCheckMetrics(metrics);
  INFO(promtool.status().message());
  CHECK(promtool.ok());
}

TEST_CASE("the in-flight gauge counts calls being served") {
  Harness h;
  auto slow = std::async(std::launch::async, [&] { return h.Call("Echo", "slow", 1500); });
  REQUIRE(fabrique::testing::PollUntil([&] { return h.service.started.load() == 1; },
                                       absl::Seconds(5)));
  CHECK(absl::StrContains(
      h.Metrics(),
      "fabrique_test_rpc_in_flight{method=\"Echo\",service=\"fabrique.testing.Echo\"} 1"));
  REQUIRE(slow.get().ok());
}

TEST_CASE("shutdown drains in-flight calls, then refuses new ones") {
  Harness h(absl::Seconds(5));
  auto channel = h.Channel();
  auto slow = std::async(std::launch::async, [&] { return h.Call("Echo", "drained", 800); });
  REQUIRE(fabrique::testing::PollUntil([&] { return h.service.started.load() == 1; },
                                       absl::Seconds(5)));
  auto run = std::async(std::launch::async, [&] { return h.host->Run(); });
  h.host->RequestShutdown();
  REQUIRE(run.get().ok());
  const grpc::Status drained = slow.get();
  CHECK(drained.ok());
  const grpc::Status after = h.Call("Echo", "late");
  CHECK(after.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("shutdown cancels calls that outlast the grace period") {
  Harness h(absl::Milliseconds(200));
  auto slow = std::async(std::launch::async, [&] { return h.Call("Echo", "too slow", 3000); });
  REQUIRE(fabrique::testing::PollUntil([&] { return h.service.started.load() == 1; },
                                       absl::Seconds(5)));
  const absl::Time start = absl::Now();
  h.host->Shutdown();
  // The handler itself runs on; the client is told at the grace deadline.
  const grpc::Status status = slow.get();
  CHECK_FALSE(status.ok());
  CHECK(absl::Now() - start < absl::Seconds(5));
}

TEST_CASE("a port in use is UNAVAILABLE naming the address") {
  Harness first;
  ServiceHostOptions options;
  options.service_name = "second";
  options.listen_host = "127.0.0.1";
  options.port = first.host->port();
  options.metrics_port = -1;
  auto second = ServiceHost::Create(options);
  REQUIRE(second.ok());
  const absl::Status started = (*second)->Start();
  CHECK(started.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(started.message(), absl::StrCat("127.0.0.1:", first.host->port())));
}

TEST_CASE("a metrics port in use is UNAVAILABLE naming the address") {
  Harness first;
  ServiceHostOptions options;
  options.service_name = "second";
  options.listen_host = "127.0.0.1";
  options.metrics_port = first.host->metrics_port();
  auto second = ServiceHost::Create(options);
  REQUIRE(second.ok());
  const absl::Status started = (*second)->Start();
  CHECK(started.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(started.message(), "metrics"));
}

TEST_CASE("bad options are INVALID_ARGUMENT") {
  ServiceHostOptions options;
  CHECK(ServiceHost::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
  options.service_name = "x";
  options.port = 70000;
  CHECK(ServiceHost::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
  options.port = 0;
  options.metrics_port = -2;
  CHECK(ServiceHost::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("with a max connection age, clients are moved to new connections without failed calls") {
  EchoService service;
  ServiceHostOptions options;
  options.service_name = "aging";
  options.listen_host = "127.0.0.1";
  options.metrics_port = -1;
  options.max_connection_age = absl::Milliseconds(300);
  options.shutdown_grace = absl::Seconds(2);
  auto host = *ServiceHost::Create(options);
  host->AddService(&service, kEchoService, kArea);
  REQUIRE(host->Start().ok());
  auto channel = client::MakeChannel(absl::StrCat("127.0.0.1:", host->port()));
  auto stub = fabrique::testing::Echo::NewStub(channel);
  // 40 calls of 25 ms span at least three connection ages: each GOAWAY must be invisible to
  // callers.
  for (int call = 0; call < 40; ++call) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    EchoRequest request;
    request.set_text("x");
    request.set_delay_ms(25);
    EchoResponse response;
    INFO("call " << call);
    REQUIRE(stub->Echo(&context, request, &response).ok());
  }

  options.max_connection_age = absl::Seconds(-1);
  CHECK(ServiceHost::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("messages larger than the limit are refused with RESOURCE_EXHAUSTED") {
  EchoService service;
  ServiceHostOptions options;
  options.service_name = "small";
  options.listen_host = "127.0.0.1";
  options.metrics_port = -1;
  options.max_message_bytes = 1024;
  auto host = *ServiceHost::Create(options);
  host->AddService(&service, kEchoService, kArea);
  REQUIRE(host->Start().ok());
  auto stub = fabrique::testing::Echo::NewStub(
      client::MakeChannel(absl::StrCat("127.0.0.1:", host->port())));
  grpc::ClientContext context;
  EchoRequest request;
  request.set_text(std::string(4096, 'x'));
  EchoResponse response;
  CHECK(stub->Echo(&context, request, &response).error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace fabrique::server
