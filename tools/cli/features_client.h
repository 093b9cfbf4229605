#ifndef FABRIQUE_TOOLS_CLI_FEATURES_CLIENT_H_
#define FABRIQUE_TOOLS_CLI_FEATURES_CLIENT_H_

// What every `fabrique features` subcommand shares: where the feature store is and how to prove
// who you are (connection.h's flags), and libs/client's typed client to it, whose calls carry the
// deadline and the credentials and whose errors name the call and the address.

#include "absl/status/statusor.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "libs/client/typed_clients.h"
#include "libs/core/flags.h"
#include "tools/cli/connection.h"

namespace fabrique::cli {

using FeaturesTarget = ConnectionFlags;

// Declares the connection flags (connection.h) for the feature store on `flags`, bound to
// `target`; its --timeout is each unary call's deadline.
void AddTargetFlags(core::FlagSet* flags, FeaturesTarget* target);

using FeatureStoreClient = client::FeaturesClient;
using FeatureStoreStub = v1::FeatureStore::Stub;

// Connects to the feature store `target` names; fails as connection.h's Connect does.
absl::StatusOr<FeatureStoreClient> ConnectFeatureStore(const FeaturesTarget& target);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_FEATURES_CLIENT_H_
