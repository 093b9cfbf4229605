#include "libs/client/channel.h"

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "libs/client/pem_file.h"
#include "libs/core/status_macros.h"

namespace fabrique::client {
namespace {

absl::Status CheckOptions(const ChannelOptions& options) {
  if (options.target.empty()) return absl::InvalidArgumentError("a channel needs a target");
  if (options.plaintext == !options.tls.ca_path.empty()) {
    return absl::InvalidArgumentError(
        options.plaintext ? "a channel is either plaintext or TLS with a CA, not both"
                          : "a TLS channel needs the CA that signs the server's certificate "
                            "(or plaintext, for a server started with --insecure)");
  }
  if (options.tls.cert_path.empty() != options.tls.key_path.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its private key, and a key its certificate");
  }
  if (options.max_receive_bytes < 0 || options.max_send_bytes < 0) {
    return absl::InvalidArgumentError("message size limits must not be negative");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const ChannelOptions& options) {
  const TlsClientFiles& files = options.tls;
  RETURN_IF_ERROR(CheckPemFile(files.ca_path, "the TLS CA bundle"));
  const bool identity = !files.cert_path.empty();
  if (identity) {
    RETURN_IF_ERROR(CheckPemFile(files.cert_path, "the client's TLS certificate"));
    RETURN_IF_ERROR(CheckPemFile(files.key_path, "the client's TLS private key"));
  }
  const unsigned int interval = WatchIntervalSeconds(options.tls_reload_interval);
  // A file-watching provider even for a CA alone, so a rotated CA bundle is trusted at once.
  auto provider = identity ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                                 files.key_path, files.cert_path, files.ca_path, interval)
                           : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                                 files.ca_path, interval);
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_certificate_provider(provider);
  tls.watch_root_certs();
  if (identity) tls.watch_identity_key_cert_pairs();
  tls.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(tls);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  grpc::ChannelArguments args;
  if (options.max_receive_bytes > 0) args.SetMaxReceiveMessageSize(options.max_receive_bytes);
  if (options.max_send_bytes > 0) args.SetMaxSendMessageSize(options.max_send_bytes);
  if (!options.share_connections) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (options.plaintext) {
    return grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), args);
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials, TlsCredentials(options));
  if (!options.tls.server_name_override.empty()) {
    args.SetSslTargetNameOverride(options.tls.server_name_override);
  }
  return grpc::CreateCustomChannel(options.target, credentials, args);
}

std::shared_ptr<grpc::Channel> MakePlaintextChannel(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

}  // namespace fabrique::client
