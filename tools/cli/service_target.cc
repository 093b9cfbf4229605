#include "tools/cli/service_target.h"

#include "absl/strings/str_cat.h"
#include "libs/client/health_client.h"
#include "libs/client/service_catalog.h"
#include "tools/cli/endpoints_file.h"

namespace fabrique::cli {

absl::StatusOr<ServiceTarget> ResolveService(const std::string& target, const std::string& data_dir,
                                             const std::string& service) {
  if (data_dir.empty()) return ServiceTarget{service, target, "", client::MakeChannel(target)};
  absl::StatusOr<std::vector<Endpoint>> endpoints = ReadEndpoints(data_dir);
  if (!endpoints.ok()) return endpoints.status();
  for (const Endpoint& e : *endpoints) {
    if (e.name == service) {
      return ServiceTarget{service, e.grpc_address, data_dir, client::MakeChannel(e.grpc_address)};
    }
  }
  return absl::NotFoundError(
      absl::StrCat(EndpointsPath(data_dir), " lists no '", service, "' service"));
}

bool IsUnreachable(const grpc::Status& status, grpc::Channel* channel) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE || channel == nullptr) return false;
  // READY means a connection is up, so the answer came from the server. Not READY (connecting,
  // failing to connect, or idle after the server closed the connection) means the call found no
  // server, or lost it: either way the next step is to check that the service runs. A server
  // that answers and at once stops may land here too; the end of its message is kept.
  return channel->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY;
}

std::string UnreachableMessage(const ServiceTarget& target, absl::string_view detail) {
  const client::ServiceInfo* info = client::FindService(target.service);
  const std::string binary =
      info != nullptr ? std::string(info->binary) : absl::StrCat("fabrique-", target.service);
  // gRPC's message ends with the system's reason ("...: Connection refused").
  const size_t colon = detail.rfind(": ");
  const absl::string_view reason =
      colon == absl::string_view::npos ? detail : detail.substr(colon + 2);
  std::string message = absl::StrCat("cannot reach ", binary, " at ", target.address);
  if (!target.data_dir.empty()) {
    absl::StrAppend(&message, " (from ", EndpointsPath(target.data_dir), ")");
  }
  absl::StrAppend(&message, ": ", reason, ". ", UnreachableAdvice(target.data_dir));
  return message;
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
