#ifndef FABRIQUE_LIBS_SERVER_SERVICE_HOST_H_
#define FABRIQUE_LIBS_SERVER_SERVICE_HOST_H_

// The service host every Fabrique binary runs in: a gRPC server with health checking
// (grpc.health.v1, one status per service), server reflection, a Prometheus exposer on its own
// port, standard RPC metrics, the standard process_* metrics (process_metrics.h), message-size
// and keepalive settings, and graceful shutdown.
//
//   ServiceHostOptions options;  options.service_name = "features";  options.port = 7101;
//   options.tls = TlsFiles{"features.crt", "features.key", "ca.crt"};
//   ASSIGN_OR_RETURN(auto host, ServiceHost::Create(options));
//   host->AddService(&feature_store, "the feature store");
//   RETURN_IF_ERROR(host->Start());
//   return host->Run();  // Serves until SIGTERM/SIGINT, then drains and stops.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "libs/server/http_pages.h"
#include "libs/server/rpc_metrics.h"
#include "libs/server/server_credentials.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace fabrique::server {

class MemoryReturn;
class ProcessMetrics;

struct ServiceHostOptions {
  // Short service name used in metric names and logs, e.g. "features". Required.
  std::string service_name;
  // Address the gRPC and metrics ports bind to. Default "0.0.0.0" (all interfaces, as pods
  // need); "127.0.0.1" keeps a laptop's services private.
  std::string listen_host = "0.0.0.0";
  // gRPC port. 0 picks a free port; port() tells which. Default 0.
  int port = 0;
  // Transport: TLS with these files (server_credentials.h), or `plaintext`; exactly one is
  // required, so no server is plaintext by omission. Default: neither.
  std::optional<TlsFiles> tls;
  // How often the TLS files are read again, so a rotated certificate, key or client CA is served
  // without a restart (whole seconds, at least 1). Default 10 s.
  absl::Duration tls_reload_interval = absl::Seconds(10);
  // Plaintext, for debugging and in-process tests: logged as a warning at start and exposed as
  // fabrique_<service>_insecure 1. Default false.
  bool plaintext = false;
  // Prometheus /metrics HTTP port. 0 picks a free port; -1 disables the exposer. Default 0.
  int metrics_port = 0;
  // Largest request or response message, in bytes. Default 64 MiB.
  int max_message_bytes = 64 << 20;
  // Interval between keepalive pings the server sends on an idle connection. Default 60 s.
  absl::Duration keepalive_time = absl::Seconds(60);
  // How long the server waits for a keepalive ack before closing the connection. Default 20 s.
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Shortest interval between client pings the server accepts (faster pings are abuse and end
  // the connection). Default 10 s.
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  // Age after which the server asks a client to reconnect (GOAWAY), so clients of a scaled-out
  // Deployment re-resolve DNS and spread over new pods; calls in flight get another
  // shutdown_grace to finish. Zero means never. Default 0.
  absl::Duration max_connection_age = absl::ZeroDuration();
  // On shutdown, how long in-flight calls may run before they are cancelled. Default 10 s.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // How often the memory the service freed is handed back to the system (memory_return.h), so
  // its resident memory is what it uses, not the peak of past bursts; zero = never. Default 10 s.
  absl::Duration memory_return_interval = absl::Seconds(10);
  // Version reported in fabrique_<service>_build_info and logs. Default: the build's version.
  std::string version;
};

class ServiceHost {
 public:
  // INVALID_ARGUMENT for bad options (neither or both of `tls` and `plaintext` among them);
  // FAILED_PRECONDITION naming a TLS file that is missing, unreadable or not PEM.
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Create(ServiceHostOptions options);
  ~ServiceHost();

  // Registers `service` (not owned; must outlive the host) under its fully-qualified name, e.g.
  // "fabrique.v1.FeatureStore". `area` names the work that builds its calls; calls not built yet
  // answer UNIMPLEMENTED saying so. Call before Start().
  void AddService(grpc::Service* service, const std::string& full_name, const std::string& area);

  // Binds the ports and starts serving; every registered service then reports SERVING. Returns
  // UNAVAILABLE naming the address if a port cannot be bound.
  absl::Status Start();

  // Serves until SIGTERM or SIGINT (blocked with BlockTerminationSignals) or RequestShutdown(),
  // then calls Shutdown(). Returns OK after a clean shutdown.
  absl::Status Run();

  // Makes Run() return; safe from any thread.
  void RequestShutdown();

  // Marks every service NOT_SERVING, runs the shutdown hooks, stops accepting calls, lets
  // in-flight calls finish within shutdown_grace (then cancels them), and stops the metrics
  // exposer. Idempotent.
  void Shutdown();
  // Runs `hook` when shutdown begins, before the grace period: a service ends its long-lived
  // streams there (watches), which would otherwise hold the whole grace. Call before Start().
  void OnShutdown(std::function<void()> hook) { shutdown_hooks_.push_back(std::move(hook)); }

  // Sets one service's health status (e.g. NOT_SERVING while a store is unavailable).
  void SetServing(const std::string& full_name, bool serving);

  // Ports actually bound; valid after Start().
  int port() const { return bound_port_; }
  int metrics_port() const { return bound_metrics_port_; }

  // Exposes `collectable`'s metrics on /metrics too (read at each scrape). Call before Start().
  void AddCollectable(std::weak_ptr<prometheus::Collectable> collectable) {
    collectables_.push_back(std::move(collectable));
  }

  // Serves every path under `prefix` (e.g. "/reports/") on the metrics port with `handler`
  // (http_pages.h), beside /metrics. Needs the metrics port (metrics_port >= 0). Call before
  // Start().
  void AddHttpPage(std::string prefix, HttpHandler handler) {
    http_pages_.Add(std::move(prefix), std::move(handler));
  }

  // Registry for the service's own metrics; exposed on /metrics with the standard ones.
  prometheus::Registry& metrics() { return *registry_; }

  // A channel to this server that skips the network, for tests and same-process clients.
  std::shared_ptr<grpc::Channel> InProcessChannel();

 private:
  explicit ServiceHost(ServiceHostOptions options);
  // Starts the Prometheus exposer, unless metrics are disabled.
  absl::Status StartMetrics();
  // Applies message-size, keepalive and connection options, services and interceptors.
  void ConfigureBuilder(grpc::ServerBuilder& builder);
  // Stops the metrics exposer without waiting out its accept loop's poll interval.
  void StopExposer();

  ServiceHostOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<RpcMetrics> rpc_metrics_;
  std::shared_ptr<ProcessMetrics> process_metrics_;
  // Started with the server, stopped with it.
  std::unique_ptr<MemoryReturn> memory_return_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  HttpPages http_pages_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::vector<grpc::Service*> services_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  std::vector<std::string> service_names_;
  std::map<std::string, std::string> areas_;
  std::unique_ptr<grpc::Server> server_;
  int bound_port_ = 0;
  int bound_metrics_port_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> shut_down_{false};
  std::vector<std::function<void()>> shutdown_hooks_;
};

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_SERVICE_HOST_H_
