#ifndef FABRIQUE_TOOLS_CLI_FEATURES_CLIENT_H_
#define FABRIQUE_TOOLS_CLI_FEATURES_CLIENT_H_

// What every `fabrique features` subcommand shares: where the feature store is (--target, or the
// endpoints `fabrique up --data_dir DIR` wrote, like `fabrique status`) and a stub to it. Deadlines
// and error messages are rpc_call.h's, shared with the other commands.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "libs/core/flags.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {

struct FeaturesTarget {
  std::string target = "127.0.0.1:7101";  // host:port of fabrique-features.
  std::string data_dir;                   // When set, wins over `target`.
};

// Declares --target and --data_dir on `flags`, bound to `target`.
void AddTargetFlags(core::FlagSet* flags, FeaturesTarget* target);

// A stub to the feature store, and where it is, for error messages (RpcError).
struct FeatureStoreClient {
  std::unique_ptr<v1::FeatureStore::Stub> stub;
  ServiceTarget target;
};

// Connects to the feature store `target` names; fails if DIR/endpoints.tsv cannot be read or
// lists no "features" service.
absl::StatusOr<FeatureStoreClient> ConnectFeatureStore(const FeaturesTarget& target);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_FEATURES_CLIENT_H_
