#include "tools/cli/features_client.h"

#include "libs/client/health_client.h"
#include "libs/core/status_macros.h"
#include "tools/cli/endpoints_file.h"

namespace fabrique::cli {

void AddTargetFlags(core::FlagSet* flags, FeaturesTarget* target) {
  flags->Add("target", &target->target, "host:port of the feature store (fabrique-features)");
  flags->Add("data_dir", &target->data_dir,
             "Read the endpoints 'fabrique up --data_dir DIR' wrote (overrides --target)");
}

absl::StatusOr<std::unique_ptr<v1::FeatureStore::Stub>> ConnectFeatureStore(
    const FeaturesTarget& target) {
  ASSIGN_OR_RETURN(const std::string address,
                   ServiceAddress(target.target, target.data_dir, "features"));
  return v1::FeatureStore::NewStub(client::MakeChannel(address));
}

}  // namespace fabrique::cli
