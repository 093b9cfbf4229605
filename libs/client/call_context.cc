#include "libs/client/call_context.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/core/status_macros.h"

namespace fabrique::client {
namespace {

// Whether `value` can travel as an ASCII metadata value: printable, no leading or trailing space.
bool MetadataSafe(const std::string& value) {
  if (value.empty() || value.front() == ' ' || value.back() == ' ') return false;
  return std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

absl::StatusOr<std::string> Token(const CallCredentials& credentials) {
  if (!credentials.token_source) return credentials.bearer_token;
  absl::StatusOr<std::string> token = credentials.token_source();
  if (!token.ok()) {
    return absl::Status(token.status().code(),
                        absl::StrCat("cannot get a bearer token: ", token.status().message()));
  }
  return token;
}

absl::Status AddCredentials(const CallCredentials& credentials, grpc::ClientContext* context) {
  ASSIGN_OR_RETURN(const std::string token, Token(credentials));
  if (!token.empty()) {
    // A JWT is base64url and dots; anything with a space would split the header.
    if (!MetadataSafe(token) || absl::StrContains(token, ' ')) {
      return absl::InvalidArgumentError(
          "the bearer token has spaces or control characters: is it the token itself?");
    }
    context->AddMetadata(kAuthorizationKey, absl::StrCat("Bearer ", token));
  }
  if (!credentials.on_behalf_of_user.empty()) {
    if (!MetadataSafe(credentials.on_behalf_of_user)) {
      return absl::InvalidArgumentError(
          absl::StrCat("on-behalf-of user '", credentials.on_behalf_of_user,
                       "' cannot travel as metadata (control characters or edge spaces)"));
    }
    context->AddMetadata(kOnBehalfOfUserKey, credentials.on_behalf_of_user);
  }
  for (const std::string& group : credentials.on_behalf_of_groups) {
    if (!MetadataSafe(group) || absl::StrContains(group, ',')) {
      return absl::InvalidArgumentError(absl::StrCat(
          "on-behalf-of group '", group, "' cannot travel as metadata (commas separate groups)"));
    }
  }
  if (!credentials.on_behalf_of_groups.empty()) {
    context->AddMetadata(kOnBehalfOfGroupsKey, absl::StrJoin(credentials.on_behalf_of_groups, ","));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<grpc::ClientContext>> CallContext::NewClientContext() const {
  return NewClientContext(timeout);
}

absl::StatusOr<std::unique_ptr<grpc::ClientContext>> CallContext::NewClientContext(
    absl::Duration call_timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(std::min(absl::Now() + call_timeout, deadline)));
  RETURN_IF_ERROR(AddCredentials(credentials, context.get()));
  return context;
}

}  // namespace fabrique::client
