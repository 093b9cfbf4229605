// The registry's adapter: artifact uploads and downloads, and garbage collection.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/core/grpc_status.h"
#include "services/access_checks.h"
#include "services/registry/model_owners.h"
#include "services/registry/model_registry_service.h"
#include "services/registry/registry_replies.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;
using registry_replies::Invalid;
using registry_replies::Permission;

constexpr int kDefaultChunkBytes = 1 << 20;
// A chunk message stays under gRPC's default 4 MiB receive limit, which clients rarely raise.
constexpr int kMaxChunkBytes = (4 << 20) - (4 << 10);

}  // namespace

absl::StatusOr<bool> ModelRegistryService::SeesArtifact(const server::Caller& caller,
                                                        const std::string& sha256) const {
  if (caller.Sees(auth::kAllSquads)) return true;
  return store_->ArtifactReferenced(sha256,
                                    [&](absl::string_view squad) { return caller.Sees(squad); });
}

void ModelRegistryService::CountTransfer(const char* direction, int64_t bytes, absl::Time start) {
  transfer_bytes_.Add({{"direction", direction}}).Increment(static_cast<double>(bytes));
  transfer_seconds_.Add({{"direction", direction}})
      .Increment(absl::ToDoubleSeconds(absl::Now() - start));
}

grpc::Status ModelRegistryService::CollectGarbage(grpc::ServerContext* context,
                                                  const v1::CollectGarbageRequest* request,
                                                  v1::CollectGarbageResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "CollectGarbage", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const absl::Status collected = store_->WithReferencedArtifacts(
      [&](const absl::flat_hash_set<std::string>& referenced) -> absl::Status {
        absl::StatusOr<registry::GarbageCollection> result =
            blobs_->CollectGarbage(referenced, gc_grace_, request->dry_run());
        if (!result.ok()) return result.status();
        response->set_blobs_removed(result->blobs_removed);
        response->set_bytes_freed(result->bytes_removed);
        for (const std::string& sha256 : result->sha256s) response->add_sha256s(sha256);
        return absl::OkStatus();
      });
  if (collected.ok() && !request->dry_run()) CountMutation("artifacts.collect");
  return ToGrpcStatus(collected);
}

grpc::Status ModelRegistryService::UploadArtifact(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadArtifactRequest>* reader,
    v1::Artifact* response) {
  // Who is sending is known before anything they send is parsed.
  if (absl::StatusOr<server::Authentication> who = access_.guard().Authenticate(*context);
      !who.ok()) {
    return ToGrpcStatus(who.status());
  }
  v1::UploadArtifactRequest message;
  const bool read = reader->Read(&message);
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "UploadArtifact", message);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!read || !message.has_header()) {
    return Invalid("an upload starts with an ArtifactUploadHeader message");
  }
  const absl::Time start = absl::Now();
  const v1::ArtifactUploadHeader header = message.header();
  response->set_media_type(header.media_type());
  // Already held and readable by the caller: answer at once, without reading the content (the
  // client may stop sending). Held for others only: the content is read and checked, as if new,
  // so that the answer tells nothing the caller did not send.
  absl::StatusOr<bool> seen =
      header.sha256().empty() ? false : SeesArtifact(*caller, header.sha256());
  if (!seen.ok()) return ToGrpcStatus(seen.status());
  if (*seen) {
    absl::StatusOr<int64_t> held = blobs_->Size(header.sha256());
    if (held.ok()) {
      response->set_sha256(absl::AsciiStrToLower(header.sha256()));
      response->set_size_bytes(*held);
      artifact_bytes_.Add({{"outcome", "deduplicated"}}).Increment(static_cast<double>(*held));
      return grpc::Status::OK;
    }
    if (!absl::IsNotFound(held.status())) return ToGrpcStatus(held.status());
  }
  absl::StatusOr<std::unique_ptr<registry::BlobStore::Upload>> upload = blobs_->StartUpload();
  if (!upload.ok()) return ToGrpcStatus(upload.status());
  while (reader->Read(&message)) {
    if (message.has_header()) return Invalid("an upload has one header, first");
    if (absl::Status appended = (*upload)->Append(message.chunk()); !appended.ok()) {
      return ToGrpcStatus(appended);
    }
  }
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "upload cancelled: nothing was stored");
  }
  if (header.size_bytes() > 0 && header.size_bytes() != (*upload)->size_bytes()) {
    return grpc::Status(grpc::StatusCode::DATA_LOSS,
                        absl::StrCat("the header announced ", header.size_bytes(), " bytes but ",
                                     (*upload)->size_bytes(),
                                     " arrived: nothing was stored; re-send the artifact"));
  }
  absl::StatusOr<registry::BlobInfo> stored = (*upload)->Commit(header.sha256());
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  response->set_sha256(stored->sha256);
  response->set_size_bytes(stored->size_bytes);
  CountTransfer("upload", stored->size_bytes, start);
  artifact_bytes_.Add({{"outcome", stored->deduplicated ? "deduplicated" : "stored"}})
      .Increment(static_cast<double>(stored->size_bytes));
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::DownloadArtifact(
    grpc::ServerContext* context, const v1::DownloadArtifactRequest* request,
    grpc::ServerWriter<v1::DownloadArtifactResponse>* writer) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "DownloadArtifact", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->chunk_size() < 0 || request->chunk_size() > kMaxChunkBytes) {
    return Invalid(absl::StrCat("DownloadArtifactRequest.chunk_size must be 0 (1 MiB) to ",
                                kMaxChunkBytes, " bytes (4 MiB less 4 KiB)"));
  }
  absl::StatusOr<bool> seen = SeesArtifact(*caller, request->sha256());
  if (!seen.ok()) return ToGrpcStatus(seen.status());
  if (!*seen) {
    // The same answer whether or not the registry holds it: a digest probes nothing.
    return ToGrpcStatus(absl::NotFoundError(
        absl::StrCat("no artifact ", request->sha256(), " that a version of a model of squad ",
                     absl::StrJoin(caller->squads, ", "), " references (where ",
                     caller->principal.subject(), " holds ", Permission("DownloadArtifact"), ")")));
  }
  absl::StatusOr<std::unique_ptr<registry::BlobStore::Reader>> reader =
      blobs_->Open(request->sha256());
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  if (absl::Status moved = (*reader)->Seek(request->offset()); !moved.ok()) {
    return ToGrpcStatus(moved);
  }
  const absl::Time start = absl::Now();
  const size_t chunk = request->chunk_size() > 0 ? request->chunk_size() : kDefaultChunkBytes;
  v1::DownloadArtifactResponse response;
  response.mutable_artifact()->set_sha256(absl::AsciiStrToLower(request->sha256()));
  response.mutable_artifact()->set_size_bytes((*reader)->size_bytes());
  int64_t offset = request->offset();
  do {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    if (absl::Status read = (*reader)->Read(chunk, response.mutable_chunk()); !read.ok()) {
      return ToGrpcStatus(read);
    }
    response.set_offset(offset);
    offset += static_cast<int64_t>(response.chunk().size());
    // The first message carries the artifact (and may be empty, for an empty artifact).
    if ((response.chunk().empty() && !response.has_artifact()) || !writer->Write(response)) break;
    response.clear_artifact();
  } while (!response.chunk().empty());
  CountTransfer("download", offset - request->offset(), start);
  return grpc::Status::OK;
}

}  // namespace fabrique::services
