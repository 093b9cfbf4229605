#include "libs/server/service_host.h"

#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <future>

#include "CivetServer.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/core/version.h"
#include "libs/server/memory_return.h"
#include "libs/server/not_built_interceptor.h"
#include "libs/server/process_metrics.h"
#include "libs/server/signals.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

namespace fabrique::server {

using core::Log;
using core::LogLevel;

namespace {

// Opens and closes one TCP connection to host:port, ignoring every error.
void WakeListener(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const bool connected = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    close(fd);
    if (connected) break;
  }
  freeaddrinfo(found);
}

}  // namespace

ServiceHost::ServiceHost(ServiceHostOptions options)
    : options_(std::move(options)), registry_(std::make_shared<prometheus::Registry>()) {}

ServiceHost::~ServiceHost() {
  Shutdown();
  StopExposer();  // When Start failed after the exposer started.
}

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Create(ServiceHostOptions options) {
  if (options.service_name.empty()) {
    return absl::InvalidArgumentError("ServiceHostOptions.service_name is required");
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--port=", options.port, " is not a TCP port (0-65535; 0 picks one)"));
  }
  if (options.metrics_port < -1 || options.metrics_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics_port=", options.metrics_port,
                                                   " is not a TCP port (0-65535; -1 disables)"));
  }
  if (options.max_connection_age < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_connection_age must not be negative (0 = never)");
  }
  if (options.memory_return_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--memory_return_interval must not be negative (0 = never)");
  }
  if (options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError("--max_message_bytes must be positive");
  }
  if (options.tls.has_value() == options.plaintext) {
    return absl::InvalidArgumentError(
        options.plaintext ? "a server is either TLS or plaintext, not both"
                          : "a server needs TLS files (certificate, key, client CA) or plaintext");
  }
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (options.tls.has_value()) {
    ASSIGN_OR_RETURN(credentials, MakeServerCredentials(*options.tls, options.tls_reload_interval));
  }
  if (options.version.empty()) options.version = core::kVersion;
  auto host = std::unique_ptr<ServiceHost>(new ServiceHost(std::move(options)));
  host->credentials_ = std::move(credentials);
  host->rpc_metrics_ = std::make_unique<RpcMetrics>(*host->registry_, host->options_.service_name);
  host->process_metrics_ = std::make_shared<ProcessMetrics>();
  host->AddCollectable(host->process_metrics_);
  prometheus::BuildGauge()
      .Name(absl::StrCat("fabrique_", host->options_.service_name, "_build_info"))
      .Help("Always 1; the labels say which build is running.")
      .Register(*host->registry_)
      .Add({{"version", host->options_.version}})
      .Set(1);
  prometheus::BuildGauge()
      .Name(absl::StrCat("fabrique_", host->options_.service_name, "_insecure"))
      .Help("1 when the server is plaintext and authenticates no one (--insecure), else 0.")
      .Register(*host->registry_)
      .Add({})
      .Set(host->options_.plaintext ? 1 : 0);
  return host;
}

void ServiceHost::AddService(grpc::Service* service, const std::string& full_name,
                             const std::string& area) {
  services_.push_back(service);
  service_names_.push_back(full_name);
  areas_[full_name] = area;
}

absl::Status ServiceHost::StartMetrics() {
  // Keeps thread_stack_floor.cc (CivetWeb's threads need it) in every program with a host.
  extern const bool kThreadStackFloorLinked;
  if (!kThreadStackFloorLinked) return absl::InternalError("thread stack floor missing");
  if (options_.metrics_port >= 0) {
    const std::string metrics_address =
        absl::StrCat(options_.listen_host, ":", options_.metrics_port);
    try {
      // Pages beside /metrics answer through CivetWeb's begin_request hook (http_pages.h).
      CivetCallbacks callbacks;
      if (!http_pages_.empty()) callbacks.begin_request = &HttpPages::BeginRequest;
      exposer_ = std::make_unique<prometheus::Exposer>(metrics_address, 2, &callbacks);
    } catch (const std::exception& e) {
      // CivetWeb throws when it cannot bind; this is the only exception that crosses here.
      return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", metrics_address,
                                                 " (is the port in use?): ", e.what()));
    }
    exposer_->RegisterCollectable(registry_);
    for (const auto& collectable : collectables_) exposer_->RegisterCollectable(collectable);
    const std::vector<int> ports = exposer_->GetListeningPorts();
    bound_metrics_port_ = ports.empty() ? options_.metrics_port : ports.front();
    if (!http_pages_.empty()) http_pages_.Attach(bound_metrics_port_);
  } else {
    bound_metrics_port_ = -1;
  }

  return absl::OkStatus();
}

void ServiceHost::ConfigureBuilder(grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_time)));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC sets SO_REUSEPORT by default, which would let a second server silently share a port
  // already in use; a taken port must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options_.min_client_ping_interval)));
  if (options_.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(options_.max_connection_age)));
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(options_.shutdown_grace)));
  }
  for (grpc::Service* service : services_) builder.RegisterService(service);

  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(MakeRpcMetricsInterceptor(rpc_metrics_.get()));
  creators.push_back(MakeNotBuiltInterceptor(areas_));
  builder.experimental().SetInterceptorCreators(std::move(creators));
}

absl::Status ServiceHost::Start() {
  RETURN_IF_ERROR(StartMetrics());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::string address = absl::StrCat(options_.listen_host, ":", options_.port);
  builder.AddListeningPort(address, credentials_, &bound_port_);
  ConfigureBuilder(builder);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || bound_port_ == 0) {
    server_.reset();
    StopExposer();
    return absl::UnavailableError(
        absl::StrCat("cannot serve gRPC on ", address, " (is the port in use?)"));
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  for (const std::string& name : service_names_) health->SetServingStatus(name, true);

  Log(LogLevel::kInfo, "server_started",
      {{"service", options_.service_name},
       {"version", options_.version},
       {"grpc_address", absl::StrCat(options_.listen_host, ":", bound_port_)},
       {"grpc_port", bound_port_},
       {"metrics_port", bound_metrics_port_},
       {"transport", options_.plaintext ? "plaintext" : "tls"}});
  MemoryReturnOptions memory_return;
  memory_return.interval = options_.memory_return_interval;
  memory_return.seconds =
      &prometheus::BuildCounter()
           .Name(absl::StrCat("fabrique_", options_.service_name, "_memory_return_seconds_total"))
           .Help(
               "Time spent handing memory the service freed back to the system "
               "(--memory_return_interval).")
           .Register(*registry_)
           .Add({});
  memory_return_ = MemoryReturn::Start(memory_return);
  if (options_.plaintext) {
    Log(LogLevel::kWarning, "insecure_transport",
        {{"service", options_.service_name},
         {"grpc_port", bound_port_},
         {"message", absl::StrCat("gRPC port ", bound_port_,
                                  " is plaintext: anyone who reaches it is trusted. "
                                  "For debugging only; serve TLS everywhere else")}});
  }
  return absl::OkStatus();
}

absl::Status ServiceHost::Run() {
  if (server_ == nullptr) {
    return absl::FailedPreconditionError("ServiceHost::Run called before a successful Start");
  }
  const int signal = WaitForTerminationSignal(&stop_requested_);
  Log(LogLevel::kInfo, "shutdown_requested",
      {{"service", options_.service_name},
       {"reason", signal == SIGTERM  ? "SIGTERM"
                  : signal == SIGINT ? "SIGINT"
                                     : "requested"}});
  Shutdown();
  return absl::OkStatus();
}

void ServiceHost::RequestShutdown() { stop_requested_.store(true); }

void ServiceHost::SetServing(const std::string& full_name, bool serving) {
  if (server_ != nullptr && !shut_down_.load()) {
    server_->GetHealthCheckService()->SetServingStatus(full_name, serving);
  }
}

void ServiceHost::Shutdown() {
  if (server_ == nullptr || shut_down_.exchange(true)) return;
  const auto start = std::chrono::steady_clock::now();
  // NOT_SERVING first, so load balancers and probes stop sending before calls are refused.
  server_->GetHealthCheckService()->Shutdown();
  for (const std::function<void()>& hook : shutdown_hooks_) hook();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(options_.shutdown_grace));
  server_->Wait();
  StopExposer();
  memory_return_.reset();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Log(LogLevel::kInfo, "server_stopped",
      {{"service", options_.service_name}, {"drain_seconds", seconds}});
}

void ServiceHost::StopExposer() {
  if (exposer_ == nullptr) return;
  // CivetWeb's accept loop notices a stop only when its poll() returns, which takes up to its
  // 2 s quantum on an idle port. Connecting to the port wakes it at once, so a clean stop takes
  // milliseconds rather than seconds.
  auto stopped = std::async(std::launch::async, [this] { exposer_.reset(); });
  const std::string host = options_.listen_host == "0.0.0.0" ? "127.0.0.1"
                           : options_.listen_host == "::"    ? "::1"
                                                             : options_.listen_host;
  while (stopped.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
    WakeListener(host, bound_metrics_port_);
  }
  stopped.get();
  HttpPages::Detach(bound_metrics_port_);
}

std::shared_ptr<grpc::Channel> ServiceHost::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

}  // namespace fabrique::server
