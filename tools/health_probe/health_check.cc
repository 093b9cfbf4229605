#include "tools/health_probe/health_check.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace fabrique::health_probe {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("failed to read ", flag, " file \"", path, "\""));
  }
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(const ProbeOptions& options) {
  if (!options.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_cert.empty()) {
    absl::StatusOr<std::string> ca = ReadFile("-tls-ca-cert", options.tls_ca_cert);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.tls_client_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadFile("-tls-client-cert", options.tls_client_cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile("-tls-client-key", options.tls_client_key);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

std::shared_ptr<grpc::Channel> MakeChannel(const ProbeOptions& options,
                                           const std::shared_ptr<grpc::ChannelCredentials>& creds) {
  grpc::ChannelArguments args;
  // A prefix, as grpc-go's WithUserAgent, rather than replacing gRPC's own product token.
  args.SetUserAgentPrefix(options.user_agent);
  if (!options.tls_server_name.empty()) args.SetSslTargetNameOverride(options.tls_server_name);
  // A probe gets one try: no reconnect backoff hides a refused connection inside the timeout.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  if (options.gzip) args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  return grpc::CreateCustomChannel(options.addr, creds, args);
}

std::string Seconds(absl::Duration duration) { return absl::FormatDuration(duration); }

}  // namespace

ProbeExit RunHealthCheck(const ProbeOptions& options, std::ostream& log) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = Credentials(options);
  if (!creds.ok()) {
    log << "error: " << creds.status().message() << "\n";
    return kInvalidArguments;
  }
  if (options.verbose) {
    log << "establishing connection to " << options.addr << (options.tls ? " (TLS)" : "") << "\n";
  }
  const absl::Time connect_start = absl::Now();
  std::shared_ptr<grpc::Channel> channel = MakeChannel(options, *creds);
  if (!channel->WaitForConnected(absl::ToChronoTime(connect_start + options.connect_timeout))) {
    log << "timeout: failed to connect service \"" << options.addr << "\" within "
        << Seconds(options.connect_timeout) << "\n";
    return kConnectionFailure;
  }
  if (options.verbose) {
    log << "connection established (took " << Seconds(absl::Now() - connect_start) << ")\n";
  }

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options.rpc_timeout));
  for (const auto& [name, value] : options.rpc_headers) context.AddMetadata(name, value);
  HealthCheckRequest request;
  request.set_service(options.service);
  HealthCheckResponse response;
  const absl::Time rpc_start = absl::Now();
  const grpc::Status status = Health::NewStub(channel)->Check(&context, request, &response);
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      log << "error: this server does not implement the grpc health protocol "
             "(grpc.health.v1.Health): "
          << status.error_message() << "\n";
    } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      log << "timeout: health rpc did not complete within " << Seconds(options.rpc_timeout) << "\n";
    } else {
      log << "error: health rpc failed: code = " << status.error_code()
          << " desc = " << status.error_message() << "\n";
    }
    return kRpcFailure;
  }
  if (options.verbose) log << "time elapsed: " << Seconds(absl::Now() - rpc_start) << "\n";
  const std::string name = HealthCheckResponse::ServingStatus_Name(response.status());
  if (response.status() != HealthCheckResponse::SERVING) {
    log << "service unhealthy (responded with \"" << name << "\")\n";
    return kUnhealthy;
  }
  log << "status: " << name << "\n";
  return kServing;
}

}  // namespace fabrique::health_probe
