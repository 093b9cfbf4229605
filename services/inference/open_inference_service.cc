#include "services/inference/open_inference_service.h"

#include "libs/core/grpc_status.h"
#include "libs/serving/model_metadata.h"
#include "services/access_checks.h"
#include "services/inference/served_models.h"

namespace fabrique::services {
namespace {

grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, grpc::Status status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

// Whether `version` (0: the primary) of `model` answers now.
bool VersionReady(const serving::ServedModelStatus& model, int64_t version) {
  if (version == 0) version = model.primary_version;
  for (const serving::ServedVersionStatus& held : model.versions) {
    if (held.version == version) return held.state == serving::VersionState::kReady;
  }
  return false;
}

}  // namespace

// The model calls are checked in the squad owning their model, which the plan in force names.
OpenInferenceService::OpenInferenceService(OpenInferenceOptions options)
    : options_(std::move(options)),
      access_(options_.guard, inference::GRPCInferenceService::service_full_name(),
              options_.serving->Owners()) {}

grpc::ServerUnaryReactor* OpenInferenceService::ServerLive(
    grpc::CallbackServerContext* context, const inference::ServerLiveRequest* request,
    inference::ServerLiveResponse* response) {
  return Answer(context,
                Guarded(access_, *context, "ServerLive", *request, [&](const server::Caller&) {
                  // Answering at all proves the process is live.
                  response->set_live(true);
                  return grpc::Status::OK;
                }));
}

grpc::ServerUnaryReactor* OpenInferenceService::ServerReady(
    grpc::CallbackServerContext* context, const inference::ServerReadyRequest* request,
    inference::ServerReadyResponse* response) {
  return Answer(context,
                Guarded(access_, *context, "ServerReady", *request, [&](const server::Caller&) {
                  // The same truth as grpc.health.v1 reports.
                  response->set_ready(options_.serving->Ready());
                  return grpc::Status::OK;
                }));
}

grpc::ServerUnaryReactor* OpenInferenceService::ServerMetadata(
    grpc::CallbackServerContext* context, const inference::ServerMetadataRequest* request,
    inference::ServerMetadataResponse* response) {
  return Answer(context,
                Guarded(access_, *context, "ServerMetadata", *request, [&](const server::Caller&) {
                  response->set_name("fabrique-inference");
                  response->set_version(options_.version);
                  // No protocol extensions (model repository, statistics).
                  return grpc::Status::OK;
                }));
}

grpc::ServerUnaryReactor* OpenInferenceService::ModelReady(
    grpc::CallbackServerContext* context, const inference::ModelReadyRequest* request,
    inference::ModelReadyResponse* response) {
  return Answer(context, Guarded(access_, *context, "ModelReady", *request,
                                 [&](const server::Caller&) -> grpc::Status {
                                   absl::StatusOr<int64_t> version =
                                       ParseModelVersion(request->version(), "version");
                                   if (!version.ok()) return core::ToGrpcStatus(version.status());
                                   const auto models = options_.serving->models().Status();
                                   auto model = FindServedModel(models, request->name());
                                   if (!model.ok()) return core::ToGrpcStatus(model.status());
                                   response->set_ready(VersionReady(**model, *version));
                                   return grpc::Status::OK;
                                 }));
}

grpc::ServerUnaryReactor* OpenInferenceService::ModelMetadata(
    grpc::CallbackServerContext* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  return Answer(
      context,
      Guarded(access_, *context, "ModelMetadata", *request,
              [&](const server::Caller&) -> grpc::Status {
                absl::StatusOr<int64_t> version = ParseModelVersion(request->version(), "version");
                if (!version.ok()) return core::ToGrpcStatus(version.status());
                const auto models = options_.serving->models().Status();
                auto model = FindServedModel(models, request->name());
                if (!model.ok()) return core::ToGrpcStatus(model.status());
                // Described by the version asked for, or by the primary answering now.
                const int64_t number = *version > 0 ? *version : (*model)->primary_version;
                auto route = options_.serving->models().Resolve(request->name(), number, "", "");
                if (!route.ok()) return core::ToGrpcStatus(route.status());
                *response = serving::ModelMetadataFromSignature(
                    request->name(), ReadyVersions(**model), route->version->record().signature());
                return grpc::Status::OK;
              }));
}

}  // namespace fabrique::services
