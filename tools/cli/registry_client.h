#ifndef FABRIQUE_TOOLS_CLI_REGISTRY_CLIENT_H_
#define FABRIQUE_TOOLS_CLI_REGISTRY_CLIENT_H_

// What every `fabrique models` and `fabrique registry` subcommand shares: where the registry is
// (--target, or the endpoints `fabrique up --data_dir DIR` wrote), who is calling (--user,
// --roles, --squad, sent as the x-fabrique-* metadata the registry records and checks roles
// against), deadlines, and one helper that makes a unary call and names it in any error.
//
//   RegistryFlags flags;
//   AddRegistryFlags(&command_flags, &flags, /*mutating=*/true);
//   ASSIGN_OR_RETURN(RegistryClient client, RegistryClient::Connect(flags));
//   ASSIGN_OR_RETURN(v1::Model model, client.Call(&Stub::GetModel, request, "GetModel fraud"));

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "libs/core/flags.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {

// The caller, as the registry records it. Defaults come from the environment (FABRIQUE_USER,
// FABRIQUE_ROLES, FABRIQUE_SQUAD; the user falls back to $USER), so a shell sets them once.
struct Identity {
  std::string user;   // x-fabrique-user.
  std::string roles;  // x-fabrique-roles: comma-separated, e.g. "data-scientist,design-authority".
  std::string squad;  // x-fabrique-squad.
};
Identity IdentityFromEnvironment();

struct RegistryFlags {
  std::string target = "127.0.0.1:7102";  // host:port of fabrique-registry.
  std::string data_dir;                   // When set, wins over `target`.
  Identity identity = IdentityFromEnvironment();
  absl::Duration timeout = absl::Seconds(30);  // Deadline of each unary call.
};

// Declares --target, --data_dir and --timeout on `flags`; with `mutating`, --user and --roles
// too, and --squad unless `squad_flag` is false (a command whose --squad means something else).
void AddRegistryFlags(core::FlagSet* flags, RegistryFlags* registry, bool mutating,
                      bool squad_flag = true);

using RegistryStub = v1::ModelRegistry::Stub;

// A connection to the registry that sends the caller's identity on every call.
class RegistryClient {
 public:
  // Fails if DIR/endpoints.tsv cannot be read or lists no "registry" service.
  static absl::StatusOr<RegistryClient> Connect(const RegistryFlags& flags);

  RegistryStub* stub() const { return stub_.get(); }
  // Where the registry is, for RpcError.
  const ServiceTarget& target() const { return target_; }

  // A context carrying the identity metadata and a deadline `timeout` from now (the flags'
  // --timeout when zero). Streams pass their own, longer, deadline.
  std::unique_ptr<grpc::ClientContext> NewContext(
      absl::Duration timeout = absl::ZeroDuration()) const;

  // Makes the unary call `method` with `request`; a failure names `call`, the code and the
  // server's message (rpc_call.h).
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (RegistryStub::*method)(grpc::ClientContext*,
                                                                     const Request&, Response*),
                                const Request& request, absl::string_view call) const {
    Response response;
    std::unique_ptr<grpc::ClientContext> context = NewContext();
    const absl::Status status =
        RpcError((stub_.get()->*method)(context.get(), request, &response), call, target_);
    if (!status.ok()) return status;
    return response;
  }

  // Like Call, for a request carrying a request_id (an idempotency key): retried, up to 3 tries
  // in all, when the registry was unreachable or did not answer in time, since a retry with the
  // same key cannot make a second version or request.
  template <typename Request, typename Response>
  absl::StatusOr<Response> CallIdempotent(grpc::Status (RegistryStub::*method)(grpc::ClientContext*,
                                                                               const Request&,
                                                                               Response*),
                                          const Request& request, absl::string_view call) const {
    absl::Duration backoff = absl::Milliseconds(500);
    for (int attempt = 1;; ++attempt) {
      absl::StatusOr<Response> response = Call(method, request, call);
      const absl::StatusCode code = response.status().code();
      if (attempt == 3 ||
          (code != absl::StatusCode::kUnavailable && code != absl::StatusCode::kDeadlineExceeded)) {
        return response;
      }
      absl::SleepFor(backoff);
      backoff *= 2;
    }
  }

  // Makes the paged list call `method` from `request`'s page on, calling `visit` with each page
  // until the server says there are no more.
  template <typename Request, typename Response, typename Visit>
  absl::Status CallPages(grpc::Status (RegistryStub::*method)(grpc::ClientContext*, const Request&,
                                                              Response*),
                         Request request, absl::string_view call, Visit visit) const {
    do {
      absl::StatusOr<Response> page = Call(method, request, call);
      if (!page.ok()) return page.status();
      visit(*page);
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    return absl::OkStatus();
  }

 private:
  RegistryClient(std::unique_ptr<RegistryStub> stub, ServiceTarget target, Identity identity,
                 absl::Duration timeout)
      : stub_(std::move(stub)),
        target_(std::move(target)),
        identity_(std::move(identity)),
        timeout_(timeout) {}

  std::shared_ptr<RegistryStub> stub_;
  ServiceTarget target_;
  Identity identity_;
  absl::Duration timeout_;
};

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_REGISTRY_CLIENT_H_
