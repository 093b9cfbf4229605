#include "services/monitor/registry_versions.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::services {

RegistryVersions::RegistryVersions(client::RegistryClient registry, RegistryVersionsOptions options)
    : registry_(std::move(registry)), options_(options) {}

absl::StatusOr<v1::ModelVersion> RegistryVersions::GetVersion(absl::string_view model,
                                                              int64_t version) {
  v1::GetVersionRequest request;
  request.mutable_ref()->set_model(std::string(model));
  request.mutable_ref()->set_version(version);
  return registry_.CallIdempotent(&client::RegistryClient::Stub::GetVersion, request,
                                  absl::StrCat("GetVersion ", model, ":", version));
}

absl::StatusOr<int64_t> RegistryVersions::AliasVersion(const std::string& model,
                                                       const std::string& alias) {
  v1::GetAliasRequest request;
  request.set_model(model);
  request.set_alias(alias);
  absl::StatusOr<v1::Alias> read = registry_.Call(&client::RegistryClient::Stub::GetAlias, request,
                                                  absl::StrCat("GetAlias ", model, "@", alias));
  if (!read.ok()) return read.status();
  return read->version();
}

absl::StatusOr<std::string> RegistryVersions::ReadArtifact(const std::string& sha256) {
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context =
      registry_.NewContext(options_.download_timeout);
  if (!context.ok()) return context.status();
  v1::DownloadArtifactRequest request;
  request.set_sha256(sha256);
  auto reader = registry_.stub()->DownloadArtifact(context->get(), request);
  v1::DownloadArtifactResponse chunk;
  std::string content;
  while (reader->Read(&chunk)) {
    if (static_cast<int64_t>(content.size() + chunk.chunk().size()) > options_.max_artifact_bytes) {
      (*context)->TryCancel();
      reader->Finish();
      return absl::FailedPreconditionError(absl::StrCat("artifact ", sha256, " is larger than ",
                                                        options_.max_artifact_bytes, " bytes"));
    }
    content.append(chunk.chunk());
  }
  absl::Status finished =
      registry_.Error(reader->Finish(), absl::StrCat("DownloadArtifact ", sha256));
  if (!finished.ok()) return finished;
  return content;
}

}  // namespace fabrique::services
