#ifndef FABRIQUE_LIBS_SERVING_SERVED_VERSION_H_
#define FABRIQUE_LIBS_SERVING_SERVED_VERSION_H_

// One model version as the inference server holds it: its registry record, its state, and once
// loaded its module and the batcher that feeds it.
//
// Shared: the model set holds the versions it routes to, and every request holds the version it
// was routed to (through its Route) until answered. A version the plan no longer names is
// UNLOADING: out of routing, yet still answering the requests already routed to it, so a swap
// never fails a request in flight. When the last holder lets go, the batcher is stopped (it
// computes what is queued), the module is freed and the freed memory is handed back to the
// operating system.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/serving/dynamic_batcher.h"
#include "libs/serving/loaded_module.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

enum class VersionState { kLoading, kReady, kFailed, kUnloading };

// "LOADING", "READY", "FAILED" or "UNLOADING", as fabrique.v1.ServedVersionState names them.
absl::string_view VersionStateName(VersionState state);

class ServedVersion {
 public:
  // A LOADING version of `record`. The pointer's last holder releases it; when that holder is a
  // `done` callback running on the version's own batcher thread, which cannot join itself, the
  // release happens on a thread of its own.
  static std::shared_ptr<ServedVersion> Create(v1::ModelVersion record);
  // Stops the batcher (computing what is queued), then frees the module.
  ~ServedVersion();

  ServedVersion(const ServedVersion&) = delete;
  ServedVersion& operator=(const ServedVersion&) = delete;

  const std::string& model() const { return record_.model(); }
  int64_t version() const { return record_.version(); }
  // The registry's record: signature, artifacts, metrics.
  const v1::ModelVersion& record() const { return record_; }
  // Lower-case hex SHA-256 of the record's TorchScript module artifact; "" when it has none.
  const std::string& module_sha256() const { return module_sha256_; }

  VersionState state() const;
  // Why the load failed; "" unless FAILED.
  std::string failure_reason() const;
  // The load's failure (its code kept for callers); OK unless FAILED.
  absl::Status load_status() const;
  // When it became READY; absl::InfinitePast() before.
  absl::Time load_time() const;
  // Where the module runs ("cpu", "cuda:0"); "" before it is loaded.
  std::string device() const;
  // Rows waiting in its batcher now; 0 before it is loaded.
  int64_t queued_rows() const;

  // Queues rows on this version's batcher (see DynamicBatcher::Submit). READY and UNLOADING
  // versions take them (an UNLOADING one still answers the requests routed to it before it left
  // routing); otherwise `done` is called at once with UNAVAILABLE naming the state (and the
  // reason of a failure).
  void Submit(TensorBatch inputs, absl::Time deadline, BatchDone done);

  // The lifecycle, driven by the model set. Prepare keeps the loaded module and starts its
  // batcher (state stays LOADING until MarkReady, so the set decides when it is seen READY).
  absl::Status Prepare(std::unique_ptr<LoadedModule> module, const BatcherOptions& batching);
  // LOADING with a prepared module -> READY at `now`; false (state unchanged) otherwise.
  bool MarkReady(absl::Time now);
  // LOADING -> FAILED with `why` (not OK).
  void MarkFailed(absl::Status why);
  // READY -> UNLOADING (out of routing, draining); false otherwise.
  bool MarkUnloading();
  // UNLOADING -> READY (named again before it was released); false otherwise.
  bool Revive();
  // Stops the batcher: what is queued is computed, later Submits are UNAVAILABLE. Idempotent.
  void StopBatcher();

 private:
  explicit ServedVersion(v1::ModelVersion record);

  const v1::ModelVersion record_;
  const std::string module_sha256_;

  mutable absl::Mutex mu_;
  VersionState state_ ABSL_GUARDED_BY(mu_) = VersionState::kLoading;
  absl::Status load_status_ ABSL_GUARDED_BY(mu_);
  absl::Time load_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Set once by Prepare; destroyed in this order (batcher first: it calls the module).
  std::unique_ptr<LoadedModule> module_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<DynamicBatcher> batcher_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_SERVED_VERSION_H_
