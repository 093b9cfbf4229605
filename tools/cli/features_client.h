#ifndef FABRIQUE_TOOLS_CLI_FEATURES_CLIENT_H_
#define FABRIQUE_TOOLS_CLI_FEATURES_CLIENT_H_

// What every `fabrique features` subcommand shares: where the feature store is (--target, or the
// endpoints `fabrique up --data_dir DIR` wrote, like `fabrique status`), a stub to it, deadlines,
// and turning a failed call into a message that names the call, the code and the server's words.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "libs/core/flags.h"

namespace fabrique::cli {

struct FeaturesTarget {
  std::string target = "127.0.0.1:7101";  // host:port of fabrique-features.
  std::string data_dir;                   // When set, wins over `target`.
};

// Declares --target and --data_dir on `flags`, bound to `target`.
void AddTargetFlags(core::FlagSet* flags, FeaturesTarget* target);

// Connects to the feature store `target` names; fails if DIR/endpoints.tsv cannot be read or
// lists no "features" service.
absl::StatusOr<std::unique_ptr<v1::FeatureStore::Stub>> ConnectFeatureStore(
    const FeaturesTarget& target);

// Sets a deadline `timeout` from now on `context`.
void SetTimeout(grpc::ClientContext* context, absl::Duration timeout);

// Returns the absl::Status for a failed call, same code, with a message like
// "GetFeatureGroup cli_orders: NOT_FOUND: feature group 'x' not found". OK stays OK.
absl::Status RpcError(const grpc::Status& status, absl::string_view call);

// Builds a command's error line: "fabrique features ingest: <message>".
std::string ErrorLine(absl::string_view command, const absl::Status& status);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_FEATURES_CLIENT_H_
