#ifndef FABRIQUE_LIBS_SERVER_RPC_METRICS_H_
#define FABRIQUE_LIBS_SERVER_RPC_METRICS_H_

// Standard RPC metrics for every Fabrique service, recorded by a server interceptor so that no
// adapter has to remember them:
//   fabrique_<service>_rpc_requests_total{service,method,code}     calls finished, by status code
//   fabrique_<service>_rpc_duration_seconds{service,method}        latency histogram, seconds
//   fabrique_<service>_rpc_in_flight{service,method}               calls being served now
// Labels stay low-cardinality: a method the server does not know is labelled "unknown".

#include <memory>
#include <string>

#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace fabrique::server {

// The metric families, registered once per server in `registry`.
class RpcMetrics {
 public:
  // `service_name` is the short name used in metric names ("features").
  RpcMetrics(prometheus::Registry& registry, const std::string& service_name);

  prometheus::Family<prometheus::Counter>& requests() { return requests_; }
  prometheus::Family<prometheus::Histogram>& duration() { return duration_; }
  prometheus::Family<prometheus::Gauge>& in_flight() { return in_flight_; }

  // Latency buckets in seconds, from 100 µs (a cached feature lookup) to 10 s (a long upload).
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
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
