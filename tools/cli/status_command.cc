// `fabrique status`: asks every service for its health and prints a table. Exits 1 if any
// service is not SERVING, so scripts can wait on it.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/client/health_client.h"
#include "libs/client/service_catalog.h"
#include "libs/core/flags.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/endpoints_file.h"

namespace fabrique::cli {
namespace {

// The worst health among the gRPC services `name` serves, or the reason it cannot be asked.
std::string ServiceHealth(const std::string& name, const std::string& address,
                          absl::Duration timeout) {
  const client::ServiceInfo* info = client::FindService(name);
  auto channel = client::MakeChannel(address);
  std::vector<std::string> services = {""};
  if (info != nullptr) {
    for (absl::string_view s : info->grpc_services) services.emplace_back(s);
  }
  for (const std::string& service : services) {
    absl::StatusOr<client::Health> health = client::CheckHealth(channel, service, timeout);
    if (!health.ok()) {
      return health.status().code() == absl::StatusCode::kUnavailable ||
                     health.status().code() == absl::StatusCode::kDeadlineExceeded
                 ? "UNREACHABLE"
                 : absl::StrCat("ERROR: ", health.status().message());
    }
    if (*health != client::Health::kServing) return client::HealthName(*health);
  }
  return "SERVING";
}

}  // namespace

int RunStatus(const std::vector<std::string>& args) {
  std::string host = "127.0.0.1";
  int grpc_base_port = 7101;
  std::string data_dir;
  absl::Duration timeout = absl::Seconds(2);
  core::FlagSet flag_set("fabrique status",
                         "Checks the health (grpc.health.v1) of every Fabrique service and prints "
                         "a table.");
  flag_set.Add("host", &host, "Host the services listen on");
  flag_set.Add("grpc_base_port", &grpc_base_port,
               "gRPC port of features; the others follow (+1 .. +5)");
  flag_set.Add("data_dir", &data_dir,
               "Read the endpoints 'fabrique up --data_dir DIR' wrote (overrides host and ports)");
  flag_set.Add("timeout", &timeout, "Deadline of each health check");
  flag_set.set_epilog("Exit codes: 0 all SERVING, 1 any service down, 2 bad flags.");
  core::ParsedArgs parsed;
  if (std::optional<int> exit_code = ParseCommandFlags(flag_set, args, &parsed)) return *exit_code;

  std::vector<Endpoint> endpoints;
  if (!data_dir.empty()) {
    absl::StatusOr<std::vector<Endpoint>> read = ReadEndpoints(data_dir);
    if (!read.ok()) {
      std::cerr << "fabrique status: " << read.status().message() << "\n";
      return 1;
    }
    endpoints = *std::move(read);
  } else {
    const auto& services = client::Services();
    for (size_t i = 0; i < services.size(); ++i) {
      endpoints.push_back({std::string(services[i].name),
                           absl::StrCat(host, ":", grpc_base_port + static_cast<int>(i)), -1, 0});
    }
  }

  bool all_serving = true;
  std::cout << absl::StrFormat("%-10s %-22s %s\n", "SERVICE", "GRPC", "HEALTH");
  for (const Endpoint& e : endpoints) {
    const std::string health = ServiceHealth(e.name, e.grpc_address, timeout);
    all_serving = all_serving && health == "SERVING";
    std::cout << absl::StrFormat("%-10s %-22s %s\n", e.name, e.grpc_address, health);
  }
  return all_serving ? 0 : 1;
}

}  // namespace fabrique::cli
