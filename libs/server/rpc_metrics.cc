#include "libs/server/rpc_metrics.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"

namespace fabrique::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Observes one call: in-flight from creation to destruction, the status the server sends, and
// the time between. Created by gRPC when the call starts, destroyed when it is done.
class RpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(grpc::experimental::ServerRpcInfo* info, RpcMetrics* metrics)
      : series_(metrics->SeriesOf(info->method())), start_(std::chrono::steady_clock::now()) {
    series_.in_flight().Increment();
  }

  ~RpcMetricsInterceptor() override {
    series_.in_flight().Decrement();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    series_.duration().Observe(seconds);
    series_.requests(code_).Increment();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      code_ = methods->GetSendStatus().error_code();
    }
    methods->Proceed();
  }

 private:
  const MethodSeries& series_;
  std::chrono::steady_clock::time_point start_;
  // A call that ends without the server sending a status was cancelled by the client or by
  // its deadline.
  grpc::StatusCode code_ = grpc::StatusCode::CANCELLED;
};

class RpcMetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsInterceptorFactory(RpcMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(info, metrics_);
  }

 private:
  RpcMetrics* metrics_;
};

}  // namespace

RpcMetrics::RpcMetrics(prometheus::Registry& registry, const std::string& service_name)
    : requests_(prometheus::BuildCounter()
                    .Name(absl::StrCat("fabrique_", service_name, "_rpc_requests_total"))
                    .Help("gRPC calls finished, by service, method and status code.")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name(absl::StrCat("fabrique_", service_name, "_rpc_duration_seconds"))
                    .Help("gRPC call latency from arrival to completion, in seconds.")
                    .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name(absl::StrCat("fabrique_", service_name, "_rpc_in_flight"))
                     .Help("gRPC calls being served now.")
                     .Register(registry)) {}

prometheus::Counter& MethodSeries::requests(grpc::StatusCode code) const {
  // Codes outside the canonical range are named UNKNOWN, as GrpcCodeName names them.
  const int index = code >= 0 && code < kCodes ? static_cast<int>(code)
                                               : static_cast<int>(grpc::StatusCode::UNKNOWN);
  std::atomic<prometheus::Counter*>& slot = by_code_[index];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add returns the one counter of these labels, so two first calls agree.
    counter = &requests_.Add({{"service", service_},
                              {"method", method_},
                              {"code", GrpcCodeName(static_cast<grpc::StatusCode>(index))}});
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

const MethodSeries& RpcMetrics::SeriesOf(const char* full_method) {
  const absl::string_view name = full_method == nullptr ? "" : full_method;
  {
    absl::ReaderMutexLock lock(&series_mu_);
    const auto it = series_.find(name);
    if (it != series_.end()) return *it->second;
  }
  std::string service;
  std::string method;
  if (!SplitKnownMethod(full_method, &service, &method)) {
    absl::MutexLock lock(&unknown_mu_);
    if (unknown_ == nullptr) {
      unknown_ = std::make_unique<MethodSeries>(
          requests_, in_flight_.Add({{"service", "unknown"}, {"method", "unknown"}}),
          duration_.Add({{"service", "unknown"}, {"method", "unknown"}}, LatencyBuckets()),
          "unknown", "unknown");
    }
    return *unknown_;
  }
  absl::MutexLock lock(&series_mu_);
  std::unique_ptr<MethodSeries>& series = series_[std::string(name)];
  if (series == nullptr) {
    series = std::make_unique<MethodSeries>(
        requests_, in_flight_.Add({{"service", service}, {"method", method}}),
        duration_.Add({{"service", service}, {"method", method}}, LatencyBuckets()), service,
        method);
  }
  return *series;
}

const prometheus::Histogram::BucketBoundaries& RpcMetrics::LatencyBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
  return *buckets;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcMetricsInterceptor(
    RpcMetrics* metrics) {
  return std::make_unique<RpcMetricsInterceptorFactory>(metrics);
}

bool SplitKnownMethod(const char* full_method, std::string* service, std::string* method) {
  if (full_method == nullptr || full_method[0] != '/') return false;
  std::vector<std::string> parts = absl::StrSplit(full_method + 1, '/');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) return false;
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(parts[0]);
  // gRPC's built-in health and reflection services are not in the generated pool of every
  // binary; name them explicitly so their calls are still counted under their own names.
  const bool builtin =
      parts[0] == "grpc.health.v1.Health" || parts[0] == "grpc.reflection.v1alpha.ServerReflection";
  if (!builtin && (descriptor == nullptr || descriptor->FindMethodByName(parts[1]) == nullptr)) {
    return false;
  }
  *service = std::move(parts[0]);
  *method = std::move(parts[1]);
  return true;
}

const char* GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

}  // namespace fabrique::server
