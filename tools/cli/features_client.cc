#include "tools/cli/features_client.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "libs/client/health_client.h"
#include "libs/core/grpc_status.h"
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
  std::string address = target.target;
  if (!target.data_dir.empty()) {
    ASSIGN_OR_RETURN(std::vector<Endpoint> endpoints, ReadEndpoints(target.data_dir));
    address.clear();
    for (const Endpoint& e : endpoints) {
      if (e.name == "features") address = e.grpc_address;
    }
    if (address.empty()) {
      return absl::NotFoundError(
          absl::StrCat(EndpointsPath(target.data_dir), " lists no 'features' service"));
    }
  }
  return v1::FeatureStore::NewStub(client::MakeChannel(address));
}

void SetTimeout(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
}

absl::Status RpcError(const grpc::Status& status, absl::string_view call) {
  if (status.ok()) return absl::OkStatus();
  const absl::Status s = core::FromGrpcStatus(status);
  return absl::Status(
      s.code(), absl::StrCat(call, ": ", absl::StatusCodeToString(s.code()), ": ", s.message()));
}

std::string ErrorLine(absl::string_view command, const absl::Status& status) {
  return absl::StrCat(command, ": ", status.message(), "\n");
}

}  // namespace fabrique::cli
