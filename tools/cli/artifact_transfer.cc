#include "tools/cli/artifact_transfer.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/core/sha256.h"
#include "libs/core/status_macros.h"
#include "tools/cli/progress_bar.h"

namespace fabrique::cli {
namespace {

// The largest chunk the registry sends (under gRPC's default 4 MiB message limit): fewer, larger
// messages move a large artifact faster (registry_bench: about 10% on 1 GiB).
constexpr size_t kChunkBytes = (4 << 20) - (4 << 10);

absl::Status FileError(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat("cannot ", what, " ", path));
}

ProgressBar::Options BarOptions(int64_t total, const TransferOptions& options, std::string label) {
  ProgressBar::Options bar;
  bar.total_bytes = total;
  bar.terminal = options.terminal;
  bar.bytes = true;
  bar.label = std::move(label);
  return bar;
}

// Feeds `path`'s bytes to `hash` in chunks; returns how many there were.
absl::StatusOr<int64_t> HashInto(const std::string& path, core::Sha256Stream* hash,
                                 ProgressBar* bar) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::vector<char> buffer(kChunkBytes);
  int64_t total = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    hash->Update(absl::string_view(buffer.data(), static_cast<size_t>(got)));
    total += got;
    if (bar != nullptr) bar->Update(0, total);
  }
  if (in.bad()) return FileError("read", path);
  return total;
}

}  // namespace

absl::StatusOr<FileDigest> HashFile(const std::string& path, const TransferOptions& options) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", error.message()));
  ProgressBar bar(BarOptions(static_cast<int64_t>(size), options, absl::StrCat("hashing ", path)),
                  &std::cerr);
  core::Sha256Stream hash;
  absl::StatusOr<int64_t> total = HashInto(path, &hash, options.progress ? &bar : nullptr);
  if (!total.ok()) return total.status();
  if (options.progress) bar.Finish(0, *total);
  return FileDigest{hash.HexDigest(), *total};
}

absl::StatusOr<UploadResult> UploadFile(const RegistryClient& client, const std::string& path,
                                        const FileDigest& digest, const std::string& media_type,
                                        const TransferOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  ASSIGN_OR_RETURN(std::unique_ptr<grpc::ClientContext> context,
                   client.NewContext(options.timeout));
  UploadResult result;
  auto writer = client.stub()->UploadArtifact(context.get(), &result.artifact);
  v1::UploadArtifactRequest message;
  message.mutable_header()->set_sha256(digest.sha256);
  message.mutable_header()->set_size_bytes(digest.size_bytes);
  message.mutable_header()->set_media_type(media_type);
  // Write fails once the server has answered: when it already holds the digest it does so right
  // after the header, and the rest is not sent.
  bool open = writer->Write(message);
  ProgressBar bar(BarOptions(digest.size_bytes, options, absl::StrCat("uploading ", path)),
                  &std::cerr);
  std::string chunk(kChunkBytes, '\0');
  int64_t sent = 0;
  while (open && in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const std::streamsize got = in.gcount();
    if (got == 0) break;
    message.set_chunk(chunk.data(), static_cast<size_t>(got));
    open = writer->Write(message);
    sent += got;
    if (options.progress) bar.Update(0, sent);
  }
  if (in.bad()) {
    context->TryCancel();
    writer->Finish();
    return FileError("read", path);
  }
  if (open) writer->WritesDone();
  const absl::Status status = client.Error(writer->Finish(), absl::StrCat("UploadArtifact ", path));
  if (!status.ok()) return status;
  if (options.progress) bar.Finish(0, sent);
  result.already_held = sent < digest.size_bytes;
  return result;
}

absl::StatusOr<DownloadResult> DownloadFile(const RegistryClient& client, const std::string& sha256,
                                            const std::string& path, bool resume,
                                            const TransferOptions& options) {
  const std::string partial = absl::StrCat(path, ".partial");
  core::Sha256Stream hash;
  DownloadResult result;
  if (resume && std::filesystem::exists(partial)) {
    absl::StatusOr<int64_t> held = HashInto(partial, &hash, nullptr);
    if (!held.ok()) return held.status();
    result.resumed_from = *held;
  }
  std::ofstream out(partial,
                    std::ios::binary | (result.resumed_from > 0 ? std::ios::app : std::ios::trunc));
  if (!out) return FileError("write", partial);

  v1::DownloadArtifactRequest request;
  request.set_sha256(sha256);
  request.set_offset(result.resumed_from);
  request.set_chunk_size(static_cast<int32_t>(kChunkBytes));
  ASSIGN_OR_RETURN(std::unique_ptr<grpc::ClientContext> context,
                   client.NewContext(options.timeout));
  auto reader = client.stub()->DownloadArtifact(context.get(), request);
  v1::DownloadArtifactResponse message;
  int64_t written = result.resumed_from;
  int64_t total = -1;
  std::unique_ptr<ProgressBar> bar;
  while (reader->Read(&message)) {
    if (message.has_artifact()) {
      total = message.artifact().size_bytes();
      bar = std::make_unique<ProgressBar>(
          BarOptions(total, options, absl::StrCat("downloading ", path)), &std::cerr);
    }
    if (message.offset() != written) {
      context->TryCancel();
      reader->Finish();
      return absl::DataLossError(absl::StrCat("the server sent bytes from offset ",
                                              message.offset(), " where ", written,
                                              " was expected; run again"));
    }
    out.write(message.chunk().data(), static_cast<std::streamsize>(message.chunk().size()));
    hash.Update(message.chunk());
    written += static_cast<int64_t>(message.chunk().size());
    if (options.progress && bar != nullptr) bar->Update(0, written);
  }
  out.close();
  const absl::Status status =
      client.Error(reader->Finish(), absl::StrCat("DownloadArtifact ", sha256));
  if (absl::IsOutOfRange(status) && result.resumed_from > 0) {
    // A partial file longer than the artifact is no prefix of it.
    std::remove(partial.c_str());
    return absl::DataLossError(absl::StrCat(partial, " (", result.resumed_from,
                                            " bytes) is longer than the artifact: removed; run "
                                            "again"));
  }
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat(status.message(), " (", written, " bytes kept in ", partial,
                                     ": run again with --resume to continue)"));
  }
  if (!out) return FileError("write", partial);
  if (options.progress && bar != nullptr) bar->Finish(0, written);
  const std::string digest = hash.HexDigest();
  if (written != total || digest != absl::AsciiStrToLower(sha256)) {
    std::remove(partial.c_str());
    return absl::DataLossError(absl::StrCat("what was written (", written, " bytes, sha256 ",
                                            digest, ") is not artifact ", sha256, ": removed ",
                                            partial, "; run again"));
  }
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) return FileError(absl::StrCat("rename ", partial, " to"), path);
  result.size_bytes = written;
  return result;
}

}  // namespace fabrique::cli
