// Tests of the service host through real gRPC calls on loopback port 0.

#include "libs/server/service_host.h"

#include <cstdio>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/testing/echo.grpc.pb.h"
#include "grpc/support/log.h"
#include "libs/client/channel.h"
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
    options.plaintext = true;
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
    return client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port()));
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

TEST_CASE("an unknown method is UNIMPLEMENTED and counted as unknown, without its name") {
  Harness h;
  for (const char* method : {"/fabrique.testing.Echo/Nope", "/no.such.Service/Anything"}) {
    std::string ignored;
    const grpc::Status status = fabrique::testing::GenericCall(h.Channel(), method, "", &ignored);
    CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  }
  // Both calls land in the one "unknown" series (recorded as the call is released: poll).
  const std::string unknown =
      "fabrique_test_rpc_requests_total{code=\"UNIMPLEMENTED\",method=\"unknown\","
      "service=\"unknown\"} 2";
  std::string metrics;
  const bool counted = fabrique::testing::PollUntil(
      [&] {
        metrics = h.Metrics();
        return absl::StrContains(metrics, unknown);
      },
      absl::Seconds(5));
  INFO(metrics);
  CHECK(counted);
  CHECK(absl::StrContains(metrics,
                          "fabrique_test_rpc_duration_seconds_count{method=\"unknown\","
                          "service=\"unknown\"} 2"));
  CHECK_FALSE(absl::StrContains(metrics, "Nope"));
  CHECK_FALSE(absl::StrContains(metrics, "no.such.Service"));
}

TEST_CASE("the host hands freed memory back on its interval and counts the time it took") {
  ServiceHostOptions options;
  options.plaintext = true;
  options.service_name = "test";
  options.listen_host = "127.0.0.1";
  options.memory_return_interval = absl::Milliseconds(20);
  auto host = ServiceHost::Create(options);
  REQUIRE(host.ok());
  REQUIRE((*host)->Start().ok());
  // The sample's line, not its # HELP and # TYPE lines.
  const std::string series = "\nfabrique_test_memory_return_seconds_total ";
  std::string metrics;
  const bool returned = fabrique::testing::PollUntil(
      [&] {
        auto body = fabrique::testing::HttpGet("127.0.0.1", (*host)->metrics_port(), "/metrics");
        REQUIRE(body.ok());
        metrics = *body;
        const size_t at = metrics.find(series);
        return at != std::string::npos && std::stod(metrics.substr(at + series.size())) > 0;
      },
      absl::Seconds(5));
  INFO(metrics);
  CHECK(returned);
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
  // The standard process metrics, under the names every Prometheus client library uses.
  CHECK(absl::StrContains(metrics, "# TYPE process_cpu_seconds_total counter"));
  for (const char* gauge :
       {"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
        "process_max_fds", "process_start_time_seconds", "process_threads"}) {
    CHECK(absl::StrContains(metrics, absl::StrCat("# TYPE ", gauge, " gauge\n", gauge, " ")));
  }
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
  options.plaintext = true;
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
  options.plaintext = true;
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
  options.plaintext = true;
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
  options.plaintext = true;
  options.service_name = "aging";
  options.listen_host = "127.0.0.1";
  options.metrics_port = -1;
  options.max_connection_age = absl::Milliseconds(300);
  options.shutdown_grace = absl::Seconds(2);
  auto host = *ServiceHost::Create(options);
  host->AddService(&service, kEchoService, kArea);
  REQUIRE(host->Start().ok());
  auto channel = client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port()));
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
  options.max_connection_age = absl::ZeroDuration();
  options.memory_return_interval = absl::Seconds(-1);
  const absl::Status negative_return = ServiceHost::Create(options).status();
  CHECK(negative_return.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(negative_return.message(), "--memory_return_interval"));
}

// A channel of its own (its own connection) whose keepalive pings every 200 ms, with no limit on
// pings without data: a client far more eager than the server's policy allows.
std::shared_ptr<grpc::Channel> EagerPinger(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 200);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<ServiceHost> EchoHost(EchoService* service, absl::Duration min_ping_interval) {
  ServiceHostOptions options;
  options.plaintext = true;
  options.service_name = "pings";
  options.listen_host = "127.0.0.1";
  options.metrics_port = -1;
  options.min_client_ping_interval = min_ping_interval;
  auto host = ServiceHost::Create(options);
  REQUIRE(host.ok());
  (*host)->AddService(service, kEchoService, kArea);
  REQUIRE((*host)->Start().ok());
  return *std::move(host);
}

// Collects gRPC's own log lines while it lives (gRPC logs the GOAWAY a client receives). gRPC
// cannot give back its previous log function, so the one installed here stays, and goes on
// printing every line to stderr as gRPC's default does.
class GrpcLogCapture {
 public:
  GrpcLogCapture() {
    absl::MutexLock lock(&Mutex());
    Lines().clear();
    Capturing() = true;
    gpr_set_log_function(&GrpcLogCapture::Log);
  }
  ~GrpcLogCapture() {
    absl::MutexLock lock(&Mutex());
    Capturing() = false;
  }
  bool Contains(absl::string_view text) const {
    absl::MutexLock lock(&Mutex());
    for (const std::string& line : Lines()) {
      if (absl::StrContains(line, text)) return true;
    }
    return false;
  }

 private:
  static absl::Mutex& Mutex() {
    static absl::Mutex mutex;
    return mutex;
  }
  static std::vector<std::string>& Lines() {
    static std::vector<std::string> lines;
    return lines;
  }
  static bool& Capturing() {
    static bool capturing = false;
    return capturing;
  }
  static void Log(gpr_log_func_args* args) {
    std::fprintf(stderr, "%s %s:%d] %s\n", gpr_log_severity_string(args->severity), args->file,
                 args->line, args->message);
    absl::MutexLock lock(&Mutex());
    if (Capturing()) Lines().push_back(args->message);
  }
};

TEST_CASE("keepalive: an idle client pinging faster than every 10 s is sent away") {
  GrpcLogCapture log;
  REQUIRE(ServiceHostOptions().min_client_ping_interval == absl::Seconds(10));
  // Under the default policy, the eager client's connection is closed by the server with GOAWAY
  // ENHANCE_YOUR_CALM ("too_many_pings") after a few strikes, although it has no call at all.
  EchoService strict_service;
  std::unique_ptr<ServiceHost> strict =
      EchoHost(&strict_service, ServiceHostOptions().min_client_ping_interval);
  std::shared_ptr<grpc::Channel> eager = EagerPinger(strict->port());
  REQUIRE(eager->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10))));
  const absl::Time connected = absl::Now();
  const bool sent_away = eager->WaitForStateChange(
      GRPC_CHANNEL_READY, absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  const absl::Duration strict_lifetime = absl::Now() - connected;
  INFO("the connection lived " << absl::FormatDuration(strict_lifetime));
  REQUIRE(sent_away);
  CHECK(eager->GetState(false) != GRPC_CHANNEL_READY);
  CHECK(log.Contains("ENHANCE_YOUR_CALM"));
  CHECK(log.Contains("too_many_pings"));

  // The control: the same client where the policy allows a ping every 50 ms keeps its connection
  // for twice as long as the strict server took to close it (at least 3 s).
  EchoService lenient_service;
  std::unique_ptr<ServiceHost> lenient = EchoHost(&lenient_service, absl::Milliseconds(50));
  std::shared_ptr<grpc::Channel> tolerated = EagerPinger(lenient->port());
  REQUIRE(tolerated->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10))));
  const absl::Duration window = std::max(absl::Seconds(3), 2 * strict_lifetime);
  CHECK_FALSE(
      tolerated->WaitForStateChange(GRPC_CHANNEL_READY, absl::ToChronoTime(absl::Now() + window)));
  CHECK(tolerated->GetState(false) == GRPC_CHANNEL_READY);
}

TEST_CASE("messages larger than the limit are refused with RESOURCE_EXHAUSTED") {
  EchoService service;
  ServiceHostOptions options;
  options.plaintext = true;
  options.service_name = "small";
  options.listen_host = "127.0.0.1";
  options.metrics_port = -1;
  options.max_message_bytes = 1024;
  auto host = *ServiceHost::Create(options);
  host->AddService(&service, kEchoService, kArea);
  REQUIRE(host->Start().ok());
  auto stub = fabrique::testing::Echo::NewStub(
      client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
  grpc::ClientContext context;
  EchoRequest request;
  request.set_text(std::string(4096, 'x'));
  EchoResponse response;
  CHECK(stub->Echo(&context, request, &response).error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace fabrique::server
