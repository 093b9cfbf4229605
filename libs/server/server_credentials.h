#ifndef FABRIQUE_LIBS_SERVER_SERVER_CREDENTIALS_H_
#define FABRIQUE_LIBS_SERVER_SERVER_CREDENTIALS_H_

// The transport security of every Fabrique server: TLS with the server's certificate, and client
// certificates requested and verified against a CA when presented, but not required, because
// people call with bearer tokens and no certificate. A verified client certificate identifies a
// service. The files are watched, so a certificate, key or CA rotated on disk is served without a
// restart.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"

namespace fabrique::server {

struct TlsFiles {
  std::string cert_path;       // The server's certificate chain (PEM). Required.
  std::string key_path;        // Its private key (PEM). Required.
  std::string client_ca_path;  // CA bundle (PEM) client certificates must chain to. Required.
};

// TLS server credentials over `files`, read again every `reload_interval` (whole seconds, at
// least 1). FAILED_PRECONDITION naming the file when one is missing, unreadable or not PEM.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, absl::Duration reload_interval);

// The verified client certificate (PEM) of the call `context` belongs to, or "" when the caller
// presented none (a token caller, a plaintext or in-process channel).
std::string PeerCertificatePem(const grpc::AuthContext& context);
std::string PeerCertificatePem(const grpc::ServerContextBase& context);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_SERVER_CREDENTIALS_H_
