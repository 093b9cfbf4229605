#include "tools/cli/features_client.h"

#include "libs/core/status_macros.h"

namespace fabrique::cli {

void AddTargetFlags(core::FlagSet* flags, FeaturesTarget* target) {
  flags->Add("target", &target->target, "host:port of the feature store (fabrique-features)");
  flags->Add("data_dir", &target->data_dir,
             "Read the endpoints 'fabrique up --data_dir DIR' wrote (overrides --target)");
}

absl::StatusOr<FeatureStoreClient> ConnectFeatureStore(const FeaturesTarget& target) {
  ASSIGN_OR_RETURN(ServiceTarget resolved,
                   ResolveService(target.target, target.data_dir, "features"));
  auto stub = v1::FeatureStore::NewStub(resolved.channel);
  return FeatureStoreClient{std::move(stub), std::move(resolved)};
}

}  // namespace fabrique::cli
