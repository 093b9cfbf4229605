#ifndef FABRIQUE_LIBS_SERVER_RPC_METRICS_H_
#define FABRIQUE_LIBS_SERVER_RPC_METRICS_H_

// Standard RPC metrics for every Fabrique service, recorded by a server interceptor so that no
// adapter has to remember them:
//   fabrique_<service>_rpc_requests_total{service,method,code}     calls finished, by status code
//   fabrique_<service>_rpc_duration_seconds{service,method}        latency histogram, seconds
//   fabrique_<service>_rpc_in_flight{service,method}               calls being served now
// Labels stay low-cardinality: a method the server does not know is labelled "unknown".

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace fabrique::server {

// The series of one method (or of every unknown one): found once, then kept, so a call pays no
// label map, no family lookup and no descriptor lookup (together a visible share of a
// one-entity feature lookup's server CPU when each call found them anew).
class MethodSeries {
 public:
  MethodSeries(prometheus::Family<prometheus::Counter>& requests, prometheus::Gauge& in_flight,
               prometheus::Histogram& duration, std::string service, std::string method)
      : requests_(requests),
        in_flight_(in_flight),
        duration_(duration),
        service_(std::move(service)),
        method_(std::move(method)) {}

  prometheus::Gauge& in_flight() const { return in_flight_; }
  prometheus::Histogram& duration() const { return duration_; }
  // The requests counter of `code`, added to the family on the first call that ends with it.
  prometheus::Counter& requests(grpc::StatusCode code) const;

 private:
  static constexpr int kCodes = 17;  // grpc::StatusCode OK (0) .. UNAUTHENTICATED (16).

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Gauge& in_flight_;
  prometheus::Histogram& duration_;
  const std::string service_;
  const std::string method_;
  mutable std::array<std::atomic<prometheus::Counter*>, kCodes> by_code_{};
};

// The metric families, registered once per server in `registry`.
class RpcMetrics {
 public:
  // `service_name` is the short name used in metric names ("features").
  RpcMetrics(prometheus::Registry& registry, const std::string& service_name);

  // The series of "/pkg.Service/Method": its own for a method of the generated descriptor pool,
  // the shared "unknown" one otherwise (so a client cannot grow the cache or the labels).
  const MethodSeries& SeriesOf(const char* full_method);

  prometheus::Family<prometheus::Counter>& requests() { return requests_; }
  prometheus::Family<prometheus::Histogram>& duration() { return duration_; }
  prometheus::Family<prometheus::Gauge>& in_flight() { return in_flight_; }

  // Latency buckets in seconds, from 100 µs (a cached feature lookup) to 10 s (a long upload).
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  absl::Mutex series_mu_;
  std::map<std::string, std::unique_ptr<MethodSeries>, std::less<>> series_
      ABSL_GUARDED_BY(series_mu_);
  std::unique_ptr<MethodSeries> unknown_;  // Made on the first unknown call.
  absl::Mutex unknown_mu_;
};

// Makes one metrics interceptor per call. `metrics` must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcMetricsInterceptor(
    RpcMetrics* metrics);

// Splits "/pkg.Service/Method" into service and method; returns false if it is not of that shape
// or names no method known to the generated descriptor pool.
bool SplitKnownMethod(const char* full_method, std::string* service, std::string* method);

// Returns the gRPC code's canonical name ("OK", "NOT_FOUND", ...).
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_RPC_METRICS_H_
