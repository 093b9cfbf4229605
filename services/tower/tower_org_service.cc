// The organisation's calls: entities, squads, members and the role bindings stream, over
// tower::Organisation.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "libs/tower/org/organisation.h"
#include "services/answer.h"
#include "services/tower/tower_service.h"

namespace fabrique::services {
namespace {

// How long a bindings stream waits for a change before looking at its client again.
constexpr absl::Duration kBindingsPoll = absl::Seconds(1);

grpc::Status OrgNotServed() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this tower runs no organisation core");
}

}  // namespace

grpc::Status TowerService::OnboardEntity(grpc::ServerContext* context,
                                         const v1::OnboardEntityRequest* request,
                                         v1::Approval* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "OnboardEntity", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  return Answer(parts_.organisation->OnboardEntity(*request, caller->principal), response);
}

grpc::Status TowerService::GetEntity(grpc::ServerContext* context,
                                     const v1::GetOrgEntityRequest* request,
                                     v1::OrgEntity* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetEntity", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  return Answer(parts_.organisation->GetEntity(request->id()), response);
}

grpc::Status TowerService::ListEntities(grpc::ServerContext* context,
                                        const v1::ListOrgEntitiesRequest* request,
                                        v1::ListOrgEntitiesResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListEntities", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  absl::StatusOr<tower::OrgPage<v1::OrgEntity>> page =
      parts_.organisation->ListEntities(request->page_size(), request->page_token());
  if (!page.ok()) return core::ToGrpcStatus(page.status());
  for (v1::OrgEntity& entity : page->items) *response->add_entities() = std::move(entity);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status TowerService::CreateSquad(grpc::ServerContext* context,
                                       const v1::CreateSquadRequest* request, v1::Squad* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "CreateSquad", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  return Answer(parts_.organisation->CreateSquad(request->squad()), response);
}

grpc::Status TowerService::GetSquad(grpc::ServerContext* context,
                                    const v1::GetSquadRequest* request, v1::Squad* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetSquad", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  return Answer(parts_.organisation->GetSquad(request->id()), response);
}

grpc::Status TowerService::UpdateSquad(grpc::ServerContext* context,
                                       const v1::UpdateSquadRequest* request, v1::Squad* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "UpdateSquad", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  const std::vector<std::string> paths(request->update_mask().paths().begin(),
                                       request->update_mask().paths().end());
  return Answer(parts_.organisation->UpdateSquad(request->squad(), paths), response);
}

grpc::Status TowerService::ListSquads(grpc::ServerContext* context,
                                      const v1::ListSquadsRequest* request,
                                      v1::ListSquadsResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListSquads", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  tower::SquadFilter filter;
  filter.entity = request->entity();
  filter.member = request->member();
  filter.page_size = request->page_size();
  filter.page_token = request->page_token();
  absl::StatusOr<tower::OrgPage<v1::Squad>> page = parts_.organisation->ListSquads(filter);
  if (!page.ok()) return core::ToGrpcStatus(page.status());
  // Squads the caller may not read are left out, so a page may be shorter than asked; its token
  // still resumes after the last squad looked at.
  for (v1::Squad& squad : page->items) {
    if (caller->Sees(squad.id())) *response->add_squads() = std::move(squad);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status TowerService::AddSquadMember(grpc::ServerContext* context,
                                          const v1::AddSquadMemberRequest* request,
                                          v1::Squad* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "AddSquadMember", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  return Answer(
      parts_.organisation->AddMember(request->squad(), request->member(), request->etag()),
      response);
}

grpc::Status TowerService::UpdateSquadMember(grpc::ServerContext* context,
                                             const v1::UpdateSquadMemberRequest* request,
                                             v1::Squad* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "UpdateSquadMember", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  return Answer(
      parts_.organisation->UpdateMember(request->squad(), request->member(), request->etag()),
      response);
}

grpc::Status TowerService::RemoveSquadMember(grpc::ServerContext* context,
                                             const v1::RemoveSquadMemberRequest* request,
                                             v1::Squad* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "RemoveSquadMember", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  return Answer(
      parts_.organisation->RemoveMember(request->squad(), request->user(), request->etag()),
      response);
}

grpc::Status TowerService::WatchRoleBindings(grpc::ServerContext* context,
                                             const v1::WatchRoleBindingsRequest* request,
                                             grpc::ServerWriter<v1::RoleBindings>* writer) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "WatchRoleBindings", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.organisation == nullptr) return OrgNotServed();
  tower::Organisation& org = *parts_.organisation;
  int64_t after = request->after_revision();
  // after_revision 0 asks for the set at once, whatever its revision (0 before any member).
  bool send_now = after <= 0;
  while (!context->IsCancelled() && !org.interrupted()) {
    if (send_now || org.WaitForBindingsAfter(after, kBindingsPoll) > after) {
      v1::RoleBindings bindings = org.Bindings();
      if (!send_now && bindings.revision() <= after) continue;
      if (!writer->Write(bindings)) break;
      after = bindings.revision();
      send_now = false;
    }
  }
  if (org.interrupted()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("the tower is stopping: reconnect with after_revision=", after,
                                     " to miss nothing"));
  }
  return grpc::Status::OK;
}

}  // namespace fabrique::services
