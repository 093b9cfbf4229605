// TowerService's portfolio and template calls: the access check under the call's rule, one call
// into tower::Portfolio, the status mapped once (services/answer.h). Lists and the portfolio show
// only the use cases of squads the caller's permission holds in.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "libs/core/grpc_status.h"
#include "libs/tower/portfolio/portfolio.h"
#include "services/answer.h"
#include "services/tower/tower_service.h"

namespace fabrique::services {
namespace {

// The caller of `method` when its access rule allows it and this tower keeps a portfolio.
absl::StatusOr<server::Caller> Allowed(const server::ServiceAccess& access,
                                       const tower::Portfolio* portfolio,
                                       const grpc::ServerContext& context, absl::string_view method,
                                       const google::protobuf::Message& request) {
  absl::StatusOr<server::Caller> caller = access.Check(context, method, request);
  if (caller.ok() && portfolio == nullptr) {
    return absl::UnimplementedError("this tower keeps no portfolio");
  }
  return caller;
}

// The filter of a list call, seen through what the caller may see.
tower::UseCaseFilter FilterFor(const server::Caller& caller, const std::string& entity,
                               const std::string& squad, std::vector<v1::UseCaseStatus> statuses) {
  tower::UseCaseFilter filter;
  filter.entity = entity;
  filter.squad = squad;
  filter.statuses = std::move(statuses);
  filter.visible = [&caller](absl::string_view owner) { return caller.Sees(owner); };
  return filter;
}

}  // namespace

grpc::Status TowerService::CreateUseCase(grpc::ServerContext* context,
                                         const v1::CreateUseCaseRequest* request,
                                         v1::UseCase* response) {
  absl::StatusOr<server::Caller> caller =
      Allowed(access_, parts_.portfolio, *context, "CreateUseCase", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  return Answer(
      parts_.portfolio->CreateUseCase(request->use_case(), request->template_(), caller->principal),
      response);
}

grpc::Status TowerService::UpdateUseCase(grpc::ServerContext* context,
                                         const v1::UpdateUseCaseRequest* request,
                                         v1::UseCase* response) {
  absl::StatusOr<server::Caller> caller =
      Allowed(access_, parts_.portfolio, *context, "UpdateUseCase", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  return Answer(parts_.portfolio->UpdateUseCase(request->use_case(), request->update_mask(),
                                                caller->principal),
                response);
}

grpc::Status TowerService::GetUseCase(grpc::ServerContext* context,
                                      const v1::GetUseCaseRequest* request, v1::UseCase* response) {
  absl::StatusOr<server::Caller> caller =
      Allowed(access_, parts_.portfolio, *context, "GetUseCase", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  return Answer(parts_.portfolio->GetUseCase(request->id()), response);
}

grpc::Status TowerService::ListUseCases(grpc::ServerContext* context,
                                        const v1::ListUseCasesRequest* request,
                                        v1::ListUseCasesResponse* response) {
  absl::StatusOr<server::Caller> caller =
      Allowed(access_, parts_.portfolio, *context, "ListUseCases", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  std::vector<v1::UseCaseStatus> statuses;
  if (request->status() != v1::USE_CASE_STATUS_UNSPECIFIED) statuses.push_back(request->status());
  absl::StatusOr<tower::UseCasePage> page = parts_.portfolio->ListUseCases(
      FilterFor(*caller, request->entity(), request->squad(), std::move(statuses)),
      request->page_size(), request->page_token());
  if (!page.ok()) return core::ToGrpcStatus(page.status());
  for (v1::UseCase& use_case : page->use_cases) *response->add_use_cases() = std::move(use_case);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status TowerService::GetPortfolio(grpc::ServerContext* context,
                                        const v1::GetPortfolioRequest* request,
                                        v1::Portfolio* response) {
  absl::StatusOr<server::Caller> caller =
      Allowed(access_, parts_.portfolio, *context, "GetPortfolio", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  std::vector<v1::UseCaseStatus> statuses;
  for (int status : request->statuses()) statuses.push_back(static_cast<v1::UseCaseStatus>(status));
  return Answer(parts_.portfolio->GetPortfolio(
                    FilterFor(*caller, request->entity(), request->squad(), std::move(statuses)),
                    request->page_size(), request->page_token()),
                response);
}

grpc::Status TowerService::GetCapacityGaps(grpc::ServerContext* context,
                                           const v1::GetCapacityGapsRequest* request,
                                           v1::CapacityGaps* response) {
  absl::StatusOr<server::Caller> caller =
      Allowed(access_, parts_.portfolio, *context, "GetCapacityGaps", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  return Answer(parts_.portfolio->GetCapacityGaps(request->entity()), response);
}

grpc::Status TowerService::PutTemplate(grpc::ServerContext* context,
                                       const v1::PutTemplateRequest* request,
                                       v1::Template* response) {
  absl::StatusOr<server::Caller> caller =
      Allowed(access_, parts_.portfolio, *context, "PutTemplate", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  return Answer(parts_.portfolio->PutTemplate(request->template_(), caller->principal), response);
}

grpc::Status TowerService::GetTemplate(grpc::ServerContext* context,
                                       const v1::GetTemplateRequest* request,
                                       v1::Template* response) {
  absl::StatusOr<server::Caller> caller =
      Allowed(access_, parts_.portfolio, *context, "GetTemplate", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  return Answer(parts_.portfolio->GetTemplate(request->name()), response);
}

grpc::Status TowerService::ListTemplates(grpc::ServerContext* context,
                                         const v1::ListTemplatesRequest* request,
                                         v1::ListTemplatesResponse* response) {
  absl::StatusOr<server::Caller> caller =
      Allowed(access_, parts_.portfolio, *context, "ListTemplates", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  absl::StatusOr<std::vector<v1::Template>> templates = parts_.portfolio->ListTemplates();
  if (!templates.ok()) return core::ToGrpcStatus(templates.status());
  for (v1::Template& template_ : *templates) *response->add_templates() = std::move(template_);
  return grpc::Status::OK;
}

}  // namespace fabrique::services
