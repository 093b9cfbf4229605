#include "libs/serving/plan_store.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "libs/core/file_io.h"
#include "libs/core/sha256.h"
#include "libs/core/status_macros.h"

namespace fabrique::serving {
namespace {

using google::protobuf::io::ArrayInputStream;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;

constexpr char kFileName[] = "serving_plan.bin";
constexpr char kMagic[] = "FQPLAN1\n";
constexpr size_t kMagicSize = sizeof(kMagic) - 1;
constexpr size_t kHashSize = 64;

void WriteMessage(const google::protobuf::MessageLite& message, CodedOutputStream* out) {
  const std::string bytes = message.SerializeAsString();
  out->WriteVarint64(bytes.size());
  out->WriteString(bytes);
}

// Reads what Encode wrote, after the magic and before the hash.
class Reader {
 public:
  explicit Reader(absl::string_view body)
      : size_(static_cast<int>(body.size())), array_(body.data(), size_), in_(&array_) {}

  bool Number(int64_t* value) {
    uint64_t raw = 0;
    if (!in_.ReadVarint64(&raw)) return false;
    *value = static_cast<int64_t>(raw);
    return true;
  }
  bool Message(google::protobuf::MessageLite* message) {
    int64_t size = 0;
    std::string bytes;
    return Number(&size) && size >= 0 && in_.ReadString(&bytes, static_cast<int>(size)) &&
           message->ParseFromString(bytes);
  }
  bool AtEnd() const { return in_.CurrentPosition() == size_; }

 private:
  const int size_;
  ArrayInputStream array_;
  CodedInputStream in_;
};

bool ReadModel(Reader* reader, ServedModelPlan* model) {
  v1::Model record;
  int64_t versions = 0;
  if (!reader->Message(&record) || !reader->Message(&model->policy) ||
      !reader->Number(&model->primary_version) || !reader->Number(&model->candidate_version) ||
      !reader->Number(&versions) || versions < 0) {
    return false;
  }
  model->model = record.name();
  model->owner_squad = record.owner_squad();
  for (int64_t i = 0; i < versions; ++i) {
    v1::ModelVersion version;
    if (!reader->Message(&version)) return false;
    const int64_t number = version.version();
    model->versions.emplace(number, std::move(version));
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PlanStore>> PlanStore::Create(Options options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("PlanStoreOptions.dir is empty: name the directory");
  }
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the plan directory ", options.dir, ": ", error.message()));
  }
  // Temporary files of a write a crash interrupted: the plan before it is still in place.
  const std::string prefix = absl::StrCat(kFileName, ".tmp.");
  for (const auto& entry : std::filesystem::directory_iterator(options.dir, error)) {
    if (absl::StartsWith(entry.path().filename().string(), prefix)) {
      std::filesystem::remove(entry.path(), error);
    }
  }
  return std::unique_ptr<PlanStore>(new PlanStore(absl::StrCat(options.dir, "/", kFileName)));
}

std::string PlanStore::Encode(const ServingPlan& plan) {
  std::string body;
  {
    StringOutputStream stream(&body);
    CodedOutputStream out(&stream);
    out.WriteVarint64(static_cast<uint64_t>(plan.revision));
    out.WriteVarint64(plan.models.size());
    for (const ServedModelPlan& model : plan.models) {
      v1::Model record;
      record.set_name(model.model);
      record.set_owner_squad(model.owner_squad);
      WriteMessage(record, &out);
      WriteMessage(model.policy, &out);
      out.WriteVarint64(static_cast<uint64_t>(model.primary_version));
      out.WriteVarint64(static_cast<uint64_t>(model.candidate_version));
      out.WriteVarint64(model.versions.size());
      for (const auto& [number, version] : model.versions) WriteMessage(version, &out);
    }
  }
  std::string bytes = absl::StrCat(kMagic, body);
  bytes += core::Sha256Hex(bytes);
  return bytes;
}

absl::StatusOr<ServingPlan> PlanStore::Decode(const std::string& bytes) {
  if (bytes.size() < kMagicSize + kHashSize || !absl::StartsWith(bytes, kMagic)) {
    return absl::DataLossError("the stored serving plan is not in the FQPLAN1 format");
  }
  const absl::string_view content(bytes.data(), bytes.size() - kHashSize);
  if (core::Sha256Hex(content) != absl::string_view(bytes).substr(content.size())) {
    return absl::DataLossError("the stored serving plan is damaged: its hash does not match");
  }
  Reader reader(content.substr(kMagicSize));
  ServingPlan plan;
  int64_t models = 0;
  bool ok = reader.Number(&plan.revision) && reader.Number(&models) && models >= 0;
  for (int64_t i = 0; ok && i < models; ++i) ok = ReadModel(&reader, &plan.models.emplace_back());
  if (!ok || !reader.AtEnd()) {
    return absl::DataLossError("the stored serving plan is damaged: a record does not parse");
  }
  plan.from_cache = true;
  return plan;
}

absl::Status PlanStore::Save(const ServingPlan& plan) const {
  return core::WriteFileAtomically(path_, Encode(plan), 0644);
}

absl::StatusOr<std::optional<ServingPlan>> PlanStore::Load() const {
  absl::StatusOr<std::string> bytes = core::ReadSmallFile(path_);
  if (absl::IsNotFound(bytes.status())) return std::nullopt;
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<ServingPlan> plan = Decode(*bytes);
  if (!plan.ok()) return core::WithContext(plan.status(), path_);
  return std::optional<ServingPlan>(*std::move(plan));
}

}  // namespace fabrique::serving
