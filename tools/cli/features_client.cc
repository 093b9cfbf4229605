#include "tools/cli/features_client.h"

namespace fabrique::cli {

void AddTargetFlags(core::FlagSet* flags, FeaturesTarget* target) {
  AddConnectionFlags(flags, target, "features", "the feature store (fabrique-features)");
}

absl::StatusOr<FeatureStoreClient> ConnectFeatureStore(const FeaturesTarget& target) {
  return ConnectClient<FeatureStoreClient>(target, "features");
}

}  // namespace fabrique::cli
