#include "tools/cli/service_target.h"

#include "absl/strings/str_cat.h"
#include "libs/client/channel.h"
#include "tools/cli/endpoints_file.h"

namespace fabrique::cli {

absl::StatusOr<ServiceTarget> ResolveService(const std::string& target, const std::string& data_dir,
                                             const std::string& service) {
  if (data_dir.empty())
    return ServiceTarget{service, target, "", client::MakePlaintextChannel(target)};
  absl::StatusOr<std::vector<Endpoint>> endpoints = ReadEndpoints(data_dir);
  if (!endpoints.ok()) return endpoints.status();
  for (const Endpoint& e : *endpoints) {
    if (e.name == service) {
      return ServiceTarget{service, e.grpc_address, data_dir,
                           client::MakePlaintextChannel(e.grpc_address)};
    }
  }
  return absl::NotFoundError(
      absl::StrCat(EndpointsPath(data_dir), " lists no '", service, "' service"));
}

client::CallTarget CallTargetOf(const ServiceTarget& target) {
  return client::CallTarget{target.service, target.address,
                            target.data_dir.empty() ? "" : EndpointsPath(target.data_dir),
                            UnreachableAdvice(target.data_dir)};
}

std::string UnreachableMessage(const ServiceTarget& target, absl::string_view detail) {
  return client::UnreachableMessage(CallTargetOf(target), detail);
}

std::string UnreachableAdvice(const std::string& data_dir) {
  if (!data_dir.empty()) {
    return absl::StrCat("Is 'fabrique up --data_dir ", data_dir,
                        "' still running? Start it again, or pass --target HOST:PORT");
  }
  return "Is 'fabrique up' running? Start it, or pass --data_dir DIR (the folder 'fabrique up' "
         "runs on, where it writes endpoints.tsv) or --target HOST:PORT";
}

}  // namespace fabrique::cli
