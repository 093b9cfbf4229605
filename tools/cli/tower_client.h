#ifndef FABRIQUE_TOOLS_CLI_TOWER_CLIENT_H_
#define FABRIQUE_TOOLS_CLI_TOWER_CLIENT_H_

// How every `fabrique tower` subcommand reaches the tower: the connection flags, the typed
// client, and one call whose answer is printed as JSON (--json, or a record to edit and send
// back) or for a person. A refused call is exit 1 with the tower's words.

#include <functional>
#include <iostream>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "libs/client/typed_clients.h"
#include "libs/core/flags.h"
#include "tools/cli/connection.h"
#include "tools/cli/json_file.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {

using TowerStub = client::TowerClient::Stub;

// How a command prints an answer for a person; a parameter that takes no part in deducing the
// call's types, so a plain function can be passed.
template <typename Response>
using PrintAnswer = typename std::common_type<std::function<void(const Response&)>>::type;

// Declares --target, --data_dir, --token, --ca, --insecure and --timeout for the tower.
inline void AddTowerFlags(core::FlagSet* flags, ConnectionFlags* connection) {
  AddConnectionFlags(flags, connection, "tower", "the control tower (fabrique-tower)");
}

inline absl::StatusOr<client::TowerClient> ConnectTower(const ConnectionFlags& connection) {
  return ConnectClient<client::TowerClient>(connection, "tower");
}

// Prints `answer` as JSON when `json` or when `print` is empty, else with `print`; returns 0.
template <typename Response>
int ShowAnswer(const Response& answer, bool json, const PrintAnswer<Response>& print) {
  if (json || !print) {
    PrintJson(answer);
  } else {
    print(answer);
  }
  return 0;
}

// Makes one call to the tower and prints its answer: as JSON when `json` or when `print` is
// empty, else with `print`. Reads (`idempotent`) are retried as the client's policy says.
// Returns the exit code: 0, or 1 after printing why the call failed.
template <typename Request, typename Response>
int CallTower(const std::string& program, const ConnectionFlags& connection,
              client::TowerClient::UnaryMethod<Request, Response> method, const Request& request,
              const std::string& call, bool idempotent, bool json,
              const PrintAnswer<Response>& print = nullptr) {
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(program, tower.status());
  absl::StatusOr<Response> response = idempotent ? tower->CallIdempotent(method, request, call)
                                                 : tower->Call(method, request, call);
  if (!response.ok()) return Fail(program, response.status());
  return ShowAnswer(*response, json, print);
}

// Like CallTower for a paged list: follows every page, and prints them as one answer.
template <typename Request, typename Response>
int ListTower(const std::string& program, const ConnectionFlags& connection,
              client::TowerClient::UnaryMethod<Request, Response> method, const Request& request,
              const std::string& call, bool json, const PrintAnswer<Response>& print) {
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(program, tower.status());
  Response all;
  const absl::Status listed = tower->CallPages(
      method, request, call, [&all](const Response& page) { all.MergeFrom(page); });
  if (!listed.ok()) return Fail(program, listed);
  all.clear_next_page_token();
  return ShowAnswer(all, json, print);
}

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_TOWER_CLIENT_H_
