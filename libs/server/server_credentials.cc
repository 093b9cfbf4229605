#include "libs/server/server_credentials.h"

#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "libs/client/pem_file.h"
#include "libs/core/status_macros.h"

namespace fabrique::server {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, absl::Duration reload_interval) {
  RETURN_IF_ERROR(client::CheckPemFile(files.cert_path, "the server's TLS certificate"));
  RETURN_IF_ERROR(client::CheckPemFile(files.key_path, "the server's TLS private key"));
  RETURN_IF_ERROR(client::CheckPemFile(files.client_ca_path, "the client CA bundle"));
  const unsigned int interval = client::WatchIntervalSeconds(reload_interval);
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_path, files.cert_path, files.client_ca_path, interval);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  options.watch_root_certs();
  // Asked for and verified when sent, never required: token callers have no certificate.
  options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

std::string PeerCertificatePem(const grpc::AuthContext& context) {
  const std::vector<grpc::string_ref> pems =
      context.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) return "";
  return std::string(pems.front().data(), pems.front().size());
}

std::string PeerCertificatePem(const grpc::ServerContextBase& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  return auth == nullptr ? "" : PeerCertificatePem(*auth);
}

}  // namespace fabrique::server
