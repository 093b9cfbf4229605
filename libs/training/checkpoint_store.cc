#include "libs/training/checkpoint_store.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/core/file_io.h"

namespace fabrique::training {
namespace {

// A key as a folder name: anything but letters, digits, '.', '-' and '_' becomes '_', so that a
// job id can never name a folder outside the root.
std::string FolderName(absl::string_view key) {
  std::string name(key);
  for (char& c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.';
    if (!plain) c = '_';
  }
  if (name.empty() || name == "." || name == "..") name = absl::StrCat("_", name);
  return name;
}

}  // namespace

CheckpointStore::CheckpointStore(absl::string_view root, absl::string_view key)
    : folder_(absl::StrCat(root, "/", FolderName(key))) {}

std::string CheckpointStore::PathOf(int epoch) const {
  return absl::StrCat(folder_, "/epoch-", epoch, ".ckpt");
}

absl::Status CheckpointStore::Write(int epoch, const std::string& checkpoint) const {
  std::error_code error;
  std::filesystem::create_directories(folder_, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the checkpoint folder ", folder_, ": ", error.message()));
  }
  if (absl::Status written = core::WriteFileAtomically(PathOf(epoch), checkpoint, 0600);
      !written.ok()) {
    return written;
  }
  // Only the latest is ever resumed from.
  for (const auto& entry : std::filesystem::directory_iterator(folder_, error)) {
    const std::string name = entry.path().filename().string();
    int other = 0;
    if (absl::StartsWith(name, "epoch-") && absl::EndsWith(name, ".ckpt") &&
        absl::SimpleAtoi(name.substr(6, name.size() - 11), &other) && other < epoch) {
      std::filesystem::remove(entry.path(), error);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CheckpointStore::Read(int epoch) const {
  return core::ReadSmallFile(PathOf(epoch));
}

void CheckpointStore::Clear() const {
  std::error_code error;
  std::filesystem::remove_all(folder_, error);
}

}  // namespace fabrique::training
