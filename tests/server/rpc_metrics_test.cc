// Tests of the RPC metrics' per-method series: found once and kept, unknown methods sharing one
// series, and status codes named as GrpcCodeName names them.

#include "libs/server/rpc_metrics.h"

#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "fabrique/testing/echo.pb.h"
#include "prometheus/text_serializer.h"

namespace fabrique::server {
namespace {

constexpr char kEcho[] = "/fabrique.testing.Echo/Echo";

std::string Text(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST_CASE("a known method's series is found once and kept, under its own labels") {
  // The echo messages link the echo service's descriptor into the generated pool.
  REQUIRE(fabrique::testing::EchoRequest::descriptor() != nullptr);
  prometheus::Registry registry;
  RpcMetrics metrics(registry, "test");
  const MethodSeries& first = metrics.SeriesOf(kEcho);
  const MethodSeries& again = metrics.SeriesOf(std::string(kEcho).c_str());
  CHECK(&first == &again);
  CHECK(&first.requests(grpc::StatusCode::OK) == &again.requests(grpc::StatusCode::OK));
  first.in_flight().Increment();
  first.duration().Observe(0.001);
  first.requests(grpc::StatusCode::OK).Increment();
  again.requests(grpc::StatusCode::OK).Increment();
  again.requests(grpc::StatusCode::NOT_FOUND).Increment();
  const std::string text = Text(registry);
  INFO(text);
  CHECK(absl::StrContains(text,
                          "fabrique_test_rpc_requests_total{code=\"OK\",method=\"Echo\","
                          "service=\"fabrique.testing.Echo\"} 2"));
  CHECK(absl::StrContains(text,
                          "fabrique_test_rpc_requests_total{code=\"NOT_FOUND\",method=\"Echo\","
                          "service=\"fabrique.testing.Echo\"} 1"));
  CHECK(absl::StrContains(
      text, "fabrique_test_rpc_in_flight{method=\"Echo\",service=\"fabrique.testing.Echo\"} 1"));
  CHECK(absl::StrContains(text,
                          "fabrique_test_rpc_duration_seconds_count{method=\"Echo\",service="
                          "\"fabrique.testing.Echo\"} 1"));
  // A code is added to the family on the first call that ends with it, not before.
  CHECK_FALSE(absl::StrContains(text, "code=\"INTERNAL\""));
}

TEST_CASE("unknown methods share the one unknown series, whatever their names") {
  prometheus::Registry registry;
  RpcMetrics metrics(registry, "test");
  const MethodSeries& unknown = metrics.SeriesOf("/no.such.Service/Anything");
  CHECK(&metrics.SeriesOf("/fabrique.testing.Echo/Nope") == &unknown);
  CHECK(&metrics.SeriesOf("not a method") == &unknown);
  CHECK(&metrics.SeriesOf(nullptr) == &unknown);
  CHECK(&metrics.SeriesOf(kEcho) != &unknown);
  unknown.requests(grpc::StatusCode::UNIMPLEMENTED).Increment();
  metrics.SeriesOf("/other.Service/Else").requests(grpc::StatusCode::UNIMPLEMENTED).Increment();
  const std::string text = Text(registry);
  INFO(text);
  CHECK(absl::StrContains(text,
                          "fabrique_test_rpc_requests_total{code=\"UNIMPLEMENTED\","
                          "method=\"unknown\",service=\"unknown\"} 2"));
  CHECK_FALSE(absl::StrContains(text, "no.such.Service"));
  CHECK_FALSE(absl::StrContains(text, "Nope"));
}

TEST_CASE("a status code outside the canonical range is counted as UNKNOWN") {
  prometheus::Registry registry;
  RpcMetrics metrics(registry, "test");
  const MethodSeries& series = metrics.SeriesOf(kEcho);
  CHECK(&series.requests(static_cast<grpc::StatusCode>(99)) ==
        &series.requests(grpc::StatusCode::UNKNOWN));
  CHECK(&series.requests(static_cast<grpc::StatusCode>(-1)) ==
        &series.requests(grpc::StatusCode::UNKNOWN));
  CHECK(&series.requests(grpc::StatusCode::UNAUTHENTICATED) !=
        &series.requests(grpc::StatusCode::UNKNOWN));
}

}  // namespace
}  // namespace fabrique::server
