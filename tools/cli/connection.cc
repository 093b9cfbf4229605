#include "tools/cli/connection.h"

#include "libs/client/channel.h"
#include "tools/cli/local_token.h"

namespace fabrique::cli {

// Minted tokens live this long; the source mints a fresh one before it runs out.
constexpr absl::Duration kMintedTokenTtl = absl::Minutes(15);

client::CallContext CallContextFor(const ResolvedConnection& resolved, absl::Duration timeout) {
  client::CallContext call;
  call.timeout = timeout;
  switch (resolved.token_kind) {
    case TokenKind::kNone:
      break;
    case TokenKind::kGiven:
      call.credentials.bearer_token = resolved.token;
      break;
    case TokenKind::kMinted: {
      MintRequest mint;
      mint.signing_key_path = resolved.signing_key_path;
      mint.subject = resolved.mint_subject;
      mint.ttl = kMintedTokenTtl;
      call.credentials.token_source = MintingTokenSource(std::move(mint));
      break;
    }
  }
  return call;
}

absl::StatusOr<Connection> Connect(const ConnectionFlags& flags, absl::string_view service,
                                   const Getenv& getenv) {
  absl::StatusOr<ResolvedConnection> resolved = ResolveConnection(flags, service, getenv);
  if (!resolved.ok()) return resolved.status();
  client::ChannelOptions options;
  options.target = resolved->address;
  options.plaintext = resolved->plaintext;
  options.tls.ca_path = resolved->ca_path;
  options.tls.server_name_override = resolved->server_name_override;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = client::MakeChannel(options);
  if (!channel.ok()) return channel.status();
  Connection connection;
  connection.target =
      ServiceTarget{resolved->service, resolved->address, resolved->data_dir, *std::move(channel)};
  connection.call = CallContextFor(*resolved, flags.timeout);
  connection.resolved = *std::move(resolved);
  return connection;
}

}  // namespace fabrique::cli
