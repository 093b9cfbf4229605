#include "libs/server/access.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/security/auth_context.h"
#include "libs/auth/policy_syntax.h"
#include "libs/auth/x509_identity.h"
#include "libs/core/status_macros.h"

namespace fabrique::server {
namespace {

constexpr char kAnonymous[] = "anonymous";
constexpr absl::string_view kServicePrefix = "service:";

// The value of metadata `key`, or "" when absent. A key sent twice is not a way around a check:
// only the first value counts, as gRPC's own auth filters read it.
absl::string_view Metadata(const grpc::ServerContextBase& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return "";
  return absl::string_view(it->second.data(), it->second.size());
}

// A property of the verified peer, or "" when absent.
std::string Property(const grpc::AuthContext& auth, const char* name) {
  std::vector<grpc::string_ref> values = auth.FindPropertyValues(name);
  if (values.empty()) return "";
  return std::string(values.front().data(), values.front().size());
}

std::vector<std::string> SplitGroups(absl::string_view text) {
  std::vector<std::string> groups;
  for (absl::string_view group : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    groups.emplace_back(absl::StripAsciiWhitespace(group));
  }
  return groups;
}

// The name cores record: the user's own subject, or "service:<name>".
std::string RecordedSubject(const auth::Subject& subject) {
  if (absl::StartsWith(subject.name, "user:")) return subject.name.substr(5);
  return subject.name;
}

}  // namespace

bool Caller::Sees(absl::string_view squad) const {
  for (const std::string& s : squads) {
    if (s == auth::kAllSquads || s == squad) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Access>> Access::Create(AccessOptions options) {
  if (options.service_name.empty()) {
    return absl::InvalidArgumentError("AccessOptions.service_name is required");
  }
  if (!options.insecure && (options.tokens == nullptr || options.policy == nullptr)) {
    return absl::InvalidArgumentError(
        "AccessOptions needs a token verifier and a policy, unless it is insecure");
  }
  return std::unique_ptr<Access>(new Access(std::move(options)));
}

Access::Access(AccessOptions options)
    : options_(std::move(options)),
      authorizer_([store = options_.policy] { return store->Current(); }) {
  if (options_.metrics == nullptr) return;
  denials_ = &prometheus::BuildCounter()
                  .Name(absl::StrCat("fabrique_", options_.service_name, "_auth_denials_total"))
                  .Help(
                      "Calls refused, by reason: unauthenticated (no, bad or expired "
                      "credentials) or permission_denied (the policy does not allow it).")
                  .Register(*options_.metrics);
  unauthenticated_ = &denials_->Add({{"reason", "unauthenticated"}});
  permission_denied_ = &denials_->Add({{"reason", "permission_denied"}});
}

std::shared_ptr<const auth::Policy> Access::policy() const {
  if (options_.policy == nullptr) return nullptr;
  return options_.policy->Current();
}

absl::Status Access::Refuse(absl::Status status) const {
  if (denials_ != nullptr) {
    (status.code() == absl::StatusCode::kUnauthenticated ? unauthenticated_ : permission_denied_)
        ->Increment();
  }
  return status;
}

absl::StatusOr<std::string> Access::PeerService(const grpc::ServerContextBase& context) const {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::string();
  // gRPC verified the chain; the service's name is in its SPIFFE URI SAN or, failing that, its
  // CN. Both arrive as properties, so no certificate is parsed on the call path.
  std::string spiffe = Property(*auth, "peer_spiffe_id");
  constexpr absl::string_view kPrefix = "spiffe://fabrique/service/";
  if (absl::StartsWith(spiffe, kPrefix)) {
    std::string name = spiffe.substr(kPrefix.size());
    if (auth::ValidateServiceName(name).ok()) return name;
  }
  std::string pem = Property(*auth, "x509_pem_cert");
  if (pem.empty()) return std::string();
  return auth::CertificateIdentity(pem);
}

absl::StatusOr<Authentication> Access::Authenticate(const grpc::ServerContextBase& context) const {
  if (options_.insecure) {
    Authentication who;
    who.subject.name = kAnonymous;
    who.method = "insecure";
    return who;
  }
  absl::StatusOr<std::string> service = PeerService(context);
  if (!service.ok()) return Refuse(service.status());
  const absl::string_view on_behalf_of = Metadata(context, kOnBehalfOfUser);
  if (!on_behalf_of.empty()) {
    if (absl::StartsWith(on_behalf_of, kServicePrefix)) {
      return Refuse(absl::UnauthenticatedError(
          absl::StrCat("a service cannot act on behalf of '", on_behalf_of, "': users only")));
    }
    return Delegated(context, *std::move(service), on_behalf_of);
  }

  const absl::string_view header = Metadata(context, "authorization");
  if (!header.empty()) return AuthenticateBearer(header);
  if (!service->empty()) {
    Authentication who;
    who.subject.name = absl::StrCat("service:", *service);
    who.method = "certificate";
    return who;
  }
  return Refuse(absl::UnauthenticatedError(
      "no credentials: present a bearer token (authorization: Bearer <JWT>) or a client "
      "certificate"));
}

absl::StatusOr<Authentication> Access::AuthenticateBearer(absl::string_view header) const {
  if (options_.insecure) {
    Authentication who;
    who.subject.name = kAnonymous;
    who.method = "insecure";
    return who;
  }
  if (header.empty()) {
    return Refuse(absl::UnauthenticatedError(
        "no credentials: present a bearer token (Authorization: Bearer <JWT>)"));
  }
  const size_t space = header.find(' ');
  absl::string_view token =
      space == absl::string_view::npos ? "" : absl::StripAsciiWhitespace(header.substr(space));
  if (space == absl::string_view::npos ||
      !absl::EqualsIgnoreCase(header.substr(0, space), "bearer") || token.empty() ||
      absl::StrContains(token, ' ')) {
    return Refuse(
        absl::UnauthenticatedError("malformed authorization header: expected 'Bearer <token>'"));
  }
  absl::StatusOr<auth::VerifiedToken> verified = options_.tokens->Verify(token);
  if (!verified.ok()) return Refuse(verified.status());
  Authentication who;
  // "service:<name>" names a verified service everywhere else (audit, delegation); a token
  // cannot claim it, whatever its issuer put in `sub`.
  if (absl::StartsWith(verified->subject, kServicePrefix)) {
    return Refuse(absl::UnauthenticatedError(absl::StrCat(
        "token subject '", verified->subject,
        "' is reserved: 'service:' names services, which authenticate by certificate")));
  }
  who.subject.name = absl::StrCat("user:", verified->subject);
  who.subject.groups = std::move(verified->groups);
  who.method = "token";
  who.expires = verified->expires;
  return who;
}

absl::StatusOr<Authentication> Access::Delegated(const grpc::ServerContextBase& context,
                                                 std::string service,
                                                 absl::string_view user) const {
  // Whether this service may delegate is the authoriser's question (auth.delegate where the call
  // acts); here only that a verified service, not a token holder, makes the claim.
  if (service.empty()) {
    return Refuse(absl::UnauthenticatedError(
        absl::StrCat(kOnBehalfOfUser, " is honoured only from a service's client certificate")));
  }
  Authentication who;
  who.subject.name = absl::StrCat("user:", user);
  who.subject.groups = SplitGroups(Metadata(context, kOnBehalfOfGroups));
  who.delegating_service = std::move(service);
  who.method = "certificate+on-behalf-of";
  return who;
}

auth::Decision Access::Decide(const Authentication& who, absl::string_view permission,
                              absl::string_view squad) const {
  if (options_.insecure) {
    return {true, "the server runs with --insecure: every call is allowed", {}};
  }
  std::shared_ptr<const auth::Policy> policy = options_.policy->Current();
  auth::Decision user = policy->Decide(who.subject, permission, squad);
  if (!user.allowed || who.delegating_service.empty()) return user;
  const auth::Subject service_subject{absl::StrCat("service:", who.delegating_service), {}};
  auth::Decision may_delegate = policy->Decide(service_subject, "auth.delegate", squad);
  if (!may_delegate.allowed) return may_delegate;
  auth::Decision service = policy->Decide(service_subject, permission, squad);
  if (!service.allowed) return service;
  user.reason = absl::StrCat(user.reason, "; and ", service.reason);
  return user;
}

absl::StatusOr<const auth::MethodRule*> Access::RuleOf(absl::string_view service_full_name,
                                                       absl::string_view method) const {
  const auth::MethodRule* rule =
      auth::FindRuleForPath(absl::StrCat("/", service_full_name, "/", method));
  if (rule == nullptr) {
    return Refuse(absl::PermissionDeniedError(
        absl::StrCat(service_full_name, "/", method, " has no access rule, so it is refused")));
  }
  return rule;
}

absl::StatusOr<Caller> Access::Check(const grpc::ServerContextBase& context,
                                     absl::string_view service_full_name, absl::string_view method,
                                     const google::protobuf::Message& request,
                                     const auth::OwnerLookup& owner_of) const {
  // A method without a rule is refused before anyone is asked who they are.
  RETURN_IF_ERROR(RuleOf(service_full_name, method).status());
  ASSIGN_OR_RETURN(Authentication who, Authenticate(context));
  return Authorize(who, service_full_name, method, request, owner_of);
}

absl::StatusOr<Caller> Access::Authorize(const Authentication& who,
                                         absl::string_view service_full_name,
                                         absl::string_view method,
                                         const google::protobuf::Message& request,
                                         const auth::OwnerLookup& owner_of) const {
  const std::string path = absl::StrCat("/", service_full_name, "/", method);
  ASSIGN_OR_RETURN(const auth::MethodRule* rule, RuleOf(service_full_name, method));
  Caller caller;
  caller.principal.set_subject(RecordedSubject(who.subject));
  caller.principal.set_service(who.delegating_service);
  for (const std::string& group : who.subject.groups) caller.principal.add_groups(group);
  if (options_.insecure) {
    caller.squads = {std::string(auth::kAllSquads)};
    if (rule->squad_from == auth::SquadFrom::kRequestField ||
        rule->squad_from == auth::SquadFrom::kResourceOwner) {
      absl::StatusOr<std::string> squad = auth::SquadOf(*rule, request, owner_of);
      if (squad.ok() && *squad != auth::kAllSquads) caller.principal.set_squad(*squad);
    }
    return caller;
  }
  auth::Caller subject{who.subject, std::nullopt};
  if (!who.delegating_service.empty()) {
    subject = {{absl::StrCat("service:", who.delegating_service), {}}, who.subject};
  }
  absl::StatusOr<auth::Access> allowed = authorizer_.Check(subject, path, request, owner_of);
  if (!allowed.ok()) {
    return allowed.status().code() == absl::StatusCode::kPermissionDenied ? Refuse(allowed.status())
                                                                          : allowed.status();
  }
  caller.squads = std::move(allowed->squads);
  // The squad the call acted in: the one checked, or a list's only squad.
  std::string squad = allowed->squad;
  if (squad.empty() && caller.squads.size() == 1) squad = caller.squads[0];
  if (!squad.empty() && squad != auth::kAllSquads) {
    caller.principal.set_squad(squad);
    for (std::string& role : options_.policy->Current()->RolesIn(who.subject, squad)) {
      caller.principal.add_roles(std::move(role));
    }
  }
  return caller;
}

}  // namespace fabrique::server
