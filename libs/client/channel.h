#ifndef FABRIQUE_LIBS_CLIENT_CHANNEL_H_
#define FABRIQUE_LIBS_CLIENT_CHANNEL_H_

// Channels to Fabrique's services. Every server serves TLS, so a channel verifies the server's
// certificate against a CA; a service calling another presents its own certificate too (mutual
// TLS), and people and programs without one present a bearer token (call_context.h). The files
// are watched, so a CA or a client certificate rotated on disk is used without a restart.
// Plaintext exists for servers started with --insecure and for tests, and must be asked for.
//
//   ChannelOptions options;
//   options.target = "registry.fabrique.svc:7102";
//   options.tls.ca_path = "/etc/fabrique/tls/ca.crt";
//   ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, MakeChannel(options));

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace fabrique::client {

struct TlsClientFiles {
  // PEM bundle of the CA(s) the server's certificate must chain to. Required with TLS.
  std::string ca_path;
  // The caller's own certificate chain and private key (PEM), for a service calling another
  // under its own identity. Both or neither; people calling with a token give neither.
  std::string cert_path;
  std::string key_path;
  // The name the server's certificate is checked against instead of the target's host, e.g.
  // "fabrique-registry" when dialling an address the certificate does not name. Default: none.
  std::string server_name_override;
};

struct ChannelOptions {
  // "host:port" (or any gRPC target URI). Required.
  std::string target;
  // TLS files; used unless `plaintext`.
  TlsClientFiles tls;
  // Plaintext, for a server started with --insecure. Exactly one of `plaintext` and
  // `tls.ca_path` must be given. Default false.
  bool plaintext = false;
  // How often the TLS files are read again for changes (gRPC counts whole seconds; at least 1 s).
  // Default 10 s.
  absl::Duration tls_reload_interval = absl::Seconds(10);
  // Largest response message accepted, in bytes; 0 keeps gRPC's 4 MiB. Default 0.
  int max_receive_bytes = 0;
  // Largest request message sent, in bytes; 0 keeps gRPC's default (no limit). Default 0.
  int max_send_bytes = 0;
  // Whether the channel may share connections with other channels to the same target and
  // credentials (gRPC's global subchannel pool). False gives it connections of its own, so a
  // fresh channel makes a fresh TLS handshake. Default true.
  bool share_connections = true;
};

// A channel as `options` say; it connects on its first call. INVALID_ARGUMENT when the options
// contradict each other (no target; neither or both of plaintext and a CA; a client certificate
// without its key), FAILED_PRECONDITION naming a TLS file that is missing or not PEM.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& options);

// A plaintext channel to "host:port", for servers started with --insecure and for tests.
std::shared_ptr<grpc::Channel> MakePlaintextChannel(const std::string& target);

}  // namespace fabrique::client

#endif  // FABRIQUE_LIBS_CLIENT_CHANNEL_H_
