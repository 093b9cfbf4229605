#include "libs/serving/served_version.h"

#include <thread>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "absl/strings/str_cat.h"

namespace fabrique::serving {
namespace {

// How deep the current thread is inside a version's `done` callback. A holder that lets go of
// the last reference there would destroy the version on its own batcher's thread, and stopping
// a batcher joins its threads: that release is moved to a thread of its own.
thread_local int callback_depth = 0;

class CallbackScope {
 public:
  CallbackScope() { ++callback_depth; }
  ~CallbackScope() { --callback_depth; }
};

void Destroy(ServedVersion* version) {
  const bool had_module = !version->device().empty();
  delete version;
#if defined(__GLIBC__)
  // glibc keeps freed memory in its arenas for reuse by the same process; a module's weights
  // are hundreds of megabytes that no other version will reuse soon, so without a trim the
  // resident size after a swap stays that of both versions.
  if (had_module) malloc_trim(0);
#endif
}

void Release(ServedVersion* version) {
  if (callback_depth > 0) {
    std::thread([version] { Destroy(version); }).detach();
    return;
  }
  Destroy(version);
}

std::string ModuleSha256(const v1::ModelVersion& record) {
  for (const v1::VersionArtifact& artifact : record.artifacts()) {
    if (artifact.kind() == v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE) {
      return artifact.artifact().sha256();
    }
  }
  return "";
}

}  // namespace

absl::string_view VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kReady:
      return "READY";
    case VersionState::kFailed:
      return "FAILED";
    case VersionState::kUnloading:
      return "UNLOADING";
  }
  return "UNKNOWN";
}

std::shared_ptr<ServedVersion> ServedVersion::Create(v1::ModelVersion record) {
  return std::shared_ptr<ServedVersion>(new ServedVersion(std::move(record)), &Release);
}

ServedVersion::ServedVersion(v1::ModelVersion record)
    : record_(std::move(record)), module_sha256_(ModuleSha256(record_)) {}

ServedVersion::~ServedVersion() {
  std::unique_ptr<DynamicBatcher> batcher;
  std::unique_ptr<LoadedModule> module;
  {
    absl::MutexLock lock(&mu_);
    batcher = std::move(batcher_);
    module = std::move(module_);
  }
  batcher.reset();  // Stops and joins first: its threads call the module.
  module.reset();
}

VersionState ServedVersion::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

std::string ServedVersion::failure_reason() const {
  absl::MutexLock lock(&mu_);
  return std::string(load_status_.message());
}

absl::Status ServedVersion::load_status() const {
  absl::MutexLock lock(&mu_);
  return load_status_;
}

absl::Time ServedVersion::load_time() const {
  absl::MutexLock lock(&mu_);
  return load_time_;
}

std::string ServedVersion::device() const {
  absl::MutexLock lock(&mu_);
  return module_ != nullptr ? module_->device() : "";
}

int64_t ServedVersion::queued_rows() const {
  absl::MutexLock lock(&mu_);
  return batcher_ != nullptr ? batcher_->queued_rows() : 0;
}

void ServedVersion::Submit(TensorBatch inputs, absl::Time deadline, BatchDone done) {
  DynamicBatcher* batcher = nullptr;
  absl::Status refusal;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == VersionState::kReady || state_ == VersionState::kUnloading) {
      batcher = batcher_.get();  // Lives as long as this version, which the caller holds.
    } else {
      refusal = absl::UnavailableError(absl::StrCat(
          "model '", model(), "' version ", version(), " is ", VersionStateName(state_),
          load_status_.ok() ? "" : absl::StrCat(": ", load_status_.message())));
    }
  }
  if (batcher == nullptr) {
    done(refusal, BatchStats{});
    return;
  }
  batcher->Submit(std::move(inputs), deadline,
                  [done = std::move(done)](absl::StatusOr<TensorBatch> outputs,
                                           const BatchStats& stats) mutable {
                    CallbackScope scope;
                    BatchDone call;
                    call.swap(done);  // Destroyed inside the scope, with what it holds.
                    call(std::move(outputs), stats);
                  });
}

absl::Status ServedVersion::Prepare(std::unique_ptr<LoadedModule> module,
                                    const BatcherOptions& batching) {
  const LoadedModule* forward = module.get();
  auto batcher = DynamicBatcher::Create(
      batching, [forward](const TensorBatch& inputs) { return forward->Forward(inputs); });
  if (!batcher.ok()) {
    return absl::Status(batcher.status().code(),
                        absl::StrCat("starting the batcher of model '", model(), "' version ",
                                     version(), ": ", batcher.status().message()));
  }
  absl::MutexLock lock(&mu_);
  module_ = std::move(module);
  batcher_ = *std::move(batcher);
  return absl::OkStatus();
}

bool ServedVersion::MarkReady(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (state_ != VersionState::kLoading || batcher_ == nullptr) return false;
  state_ = VersionState::kReady;
  load_time_ = now;
  return true;
}

void ServedVersion::MarkFailed(absl::Status why) {
  absl::MutexLock lock(&mu_);
  if (state_ != VersionState::kLoading) return;
  state_ = VersionState::kFailed;
  load_status_ = std::move(why);
}

bool ServedVersion::MarkUnloading() {
  absl::MutexLock lock(&mu_);
  if (state_ != VersionState::kReady) return false;
  state_ = VersionState::kUnloading;
  return true;
}

bool ServedVersion::Revive() {
  absl::MutexLock lock(&mu_);
  if (state_ != VersionState::kUnloading) return false;
  state_ = VersionState::kReady;
  return true;
}

void ServedVersion::StopBatcher() {
  DynamicBatcher* batcher = nullptr;
  {
    absl::MutexLock lock(&mu_);
    batcher = batcher_.get();
  }
  if (batcher != nullptr) batcher->Stop();
}

}  // namespace fabrique::serving
