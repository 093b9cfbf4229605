#ifndef FABRIQUE_TESTS_TRAINING_FAKE_PORTS_H_
#define FABRIQUE_TESTS_TRAINING_FAKE_PORTS_H_

// Fakes of the trainer's ports (libs/training/ports.h) for the pipeline, queue and adapter tests:
// a feature store that serves a small separable training set and knows the features g:x0 and
// g:x1, and a registry that numbers the versions it is given. Each records the RunContext of
// every call, and can be stopped at a Gate until the test opens it, so a test acts while a run
// is known to be building its dataset or registering its version, without sleeping. AwaitState
// waits on a run's events for the state a test needs; FakeTrainerParts puts a fake clock, runs in
// memory and the fakes together.

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/training/ports.h"
#include "libs/training/run_store.h"

namespace fabrique::training::testing {

// A point a fake port waits at while it is closed. Open by default.
class Gate {
 public:
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    closed_ = false;
  }

  // Called on the cancelling thread when a cancel interrupts a call waiting here, before the
  // call wakes: lets a test change the world just as the cancel lands. Set before the call.
  std::function<void()> on_interrupt;

  // Waits while the gate is closed, unless `cancel` (optional) fires meanwhile, as a call to a
  // real service would be interrupted; returns false then.
  bool Pass(CancelToken* cancel) {
    bool interrupted = false;
    if (cancel != nullptr) {
      cancel->SetInterrupt([this, &interrupted] {
        if (on_interrupt) on_interrupt();
        absl::MutexLock lock(&mu_);
        interrupted = true;
      });
    }
    {
      absl::MutexLock lock(&mu_);
      ++arrivals_;
      const auto through = [this, &interrupted]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !closed_ || interrupted;
      };
      mu_.Await(absl::Condition(&through));
    }
    if (cancel != nullptr) cancel->SetInterrupt(nullptr);  // No interrupt runs after this.
    return !interrupted;
  }

  // How many calls have reached the gate in all.
  int arrivals() {
    absl::MutexLock lock(&mu_);
    return arrivals_;
  }
  // Waits, at most `timeout`, until `count` calls have reached the gate in all.
  bool AwaitArrivals(int count, absl::Duration timeout = absl::Seconds(60)) {
    absl::MutexLock lock(&mu_);
    const auto reached = [this, count]()
                             ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return arrivals_ >= count; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

 private:
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int arrivals_ ABSL_GUARDED_BY(mu_) = 0;
};

// Rows of two double features; the label is 1 when x0 + x1 > 0.
class FakeDatasets : public DatasetSource {
 public:
  int rows = 2000;
  absl::Status fail_with;
  Gate gate;  // Where Build waits, before the header.
  // What Build returns when a cancel interrupts it at the gate. The real port returns ABORTED
  // instead once rows have arrived (the stream broke), which the run then reads from its token.
  absl::Status interrupted_with = absl::CancelledError("the stream was cancelled");

  absl::Status CheckFeatures(const RunContext& context, const v1::RunSpec& spec) override {
    Record(context);
    std::vector<std::string> unknown;
    for (const v1::FeatureRef& f : spec.features()) {
      if (f.group() != "g" || (f.feature() != "x0" && f.feature() != "x1")) {
        unknown.push_back(absl::StrCat(f.group(), ":", f.feature()));
      }
    }
    if (unknown.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("the feature store knows no feature ", absl::StrJoin(unknown, ", ")));
  }

  absl::StatusOr<v1::Dataset> Build(
      const RunContext& context, const v1::RunSpec& spec,
      const std::function<absl::Status(const v1::TrainingSetHeader&)>& header,
      const std::function<absl::Status(const v1::TrainingSetRows&)>& chunk) override {
    Record(context);
    if (!gate.Pass(context.cancel)) return interrupted_with;
    if (!fail_with.ok()) return fail_with;
    v1::TrainingSetHeader h;
    h.set_dataset_id("ds-" + context.run_id);
    for (const char* name : {"x0", "x1"}) {
      v1::VersionedFeatureRef* f = h.add_features();
      f->mutable_ref()->set_group("g");
      f->mutable_ref()->set_feature(name);
      f->set_schema_version(1);
      f->set_type(v1::FEATURE_TYPE_DOUBLE);
    }
    h.set_label_type(v1::FEATURE_TYPE_INT64);
    if (absl::Status s = header(h); !s.ok()) return s;
    std::mt19937 rng(1);
    std::normal_distribution<double> normal(0, 1);
    for (int first = 0; first < rows; first += 500) {
      v1::TrainingSetRows r;
      r.add_features();
      r.add_features();
      for (int i = first; i < std::min(rows, first + 500); ++i) {
        const double a = normal(rng), b = normal(rng);
        r.add_event_time_unix_micros(i);
        r.mutable_features(0)->mutable_values()->mutable_double_values()->add_values(a);
        r.mutable_features(1)->mutable_values()->mutable_double_values()->add_values(b);
        r.mutable_labels()->mutable_int64_values()->add_values(a + b > 0 ? 1 : 0);
      }
      if (absl::Status s = chunk(r); !s.ok()) return s;
    }
    v1::Dataset dataset;
    dataset.set_dataset_id(h.dataset_id());
    dataset.set_row_count(rows);
    return dataset;
  }

  absl::Status RecordUsage(const RunContext& context, const std::string& dataset_id,
                           const v1::ModelVersionRef& version) override {
    Record(context);
    absl::MutexLock lock(&mu_);
    usages_.push_back(dataset_id + "->" + version.model() + ":" +
                      std::to_string(version.version()));
    return absl::OkStatus();
  }

  std::vector<std::string> usages() const {
    absl::MutexLock lock(&mu_);
    return usages_;
  }
  // The context of every call, in order.
  std::vector<RunContext> contexts() const {
    absl::MutexLock lock(&mu_);
    return contexts_;
  }

 private:
  void Record(const RunContext& context) {
    absl::MutexLock lock(&mu_);
    contexts_.push_back(context);
  }

  mutable absl::Mutex mu_;
  std::vector<std::string> usages_ ABSL_GUARDED_BY(mu_);
  std::vector<RunContext> contexts_ ABSL_GUARDED_BY(mu_);
};

class FakeModels : public ModelSink {
 public:
  absl::Status fail_with;
  Gate gate;  // Where Register waits, before registering.

  absl::StatusOr<v1::ModelVersion> Register(const RunContext& context, const v1::RunSpec&,
                                            const std::vector<ArtifactToUpload>& uploads,
                                            v1::ModelVersion version,
                                            const std::string& key) override {
    {
      absl::MutexLock lock(&mu_);
      contexts_.push_back(context);
    }
    // Past the point of no return a cancel does not interrupt: the call is let finish.
    gate.Pass(/*cancel=*/nullptr);
    if (!fail_with.ok()) return fail_with;
    absl::MutexLock lock(&mu_);
    artifacts_ = uploads;
    request_id_ = key;
    version.set_version(static_cast<int64_t>(registered_.size()) + 1);
    registered_.push_back(version);
    return version;
  }

  std::vector<v1::ModelVersion> registered() const {
    absl::MutexLock lock(&mu_);
    return registered_;
  }
  std::vector<ArtifactToUpload> artifacts() const {
    absl::MutexLock lock(&mu_);
    return artifacts_;
  }
  std::string request_id() const {
    absl::MutexLock lock(&mu_);
    return request_id_;
  }
  std::vector<RunContext> contexts() const {
    absl::MutexLock lock(&mu_);
    return contexts_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<ArtifactToUpload> artifacts_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::ModelVersion> registered_ ABSL_GUARDED_BY(mu_);
  std::string request_id_ ABSL_GUARDED_BY(mu_);
  std::vector<RunContext> contexts_ ABSL_GUARDED_BY(mu_);
};

// A spec the fakes can train: an MLP over g:x0 and g:x1, five short epochs on one thread.
inline v1::RunSpec TrainableSpec() {
  v1::RunSpec spec;
  spec.set_model_name("fraud");
  spec.set_task(v1::TASK_BINARY_CLASSIFICATION);
  for (const char* name : {"x0", "x1"}) {
    v1::FeatureRef* f = spec.add_features();
    f->set_group("g");
    f->set_feature(name);
  }
  spec.mutable_label()->mutable_feature()->set_group("g");
  spec.mutable_label()->mutable_feature()->set_feature("label");
  spec.mutable_family()->mutable_mlp()->add_hidden_sizes(8);
  spec.mutable_optimizer()->set_learning_rate(0.01);
  spec.set_epochs(5);
  spec.set_device(v1::DEVICE_CPU);
  spec.set_threads(1);
  spec.mutable_split()->mutable_random()->set_seed(1);
  return spec;
}

// A kv store in memory, for a RunStore that a test can reopen as a restart would.
inline std::unique_ptr<kv::Store> InMemoryKv(const std::string& path) {
  kv::StoreOptions options;
  options.path = path;
  options.in_memory = true;
  return *kv::Store::Open(options);
}

// Waits, at most `timeout`, until run `run_id` is in `state`, woken by its events; returns
// whether it got there.
inline bool AwaitState(const RunStore& runs, const std::string& run_id, v1::RunState state,
                       absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time give_up = absl::Now() + timeout;
  int64_t seen = 0;
  while (true) {
    absl::StatusOr<v1::Run> run = runs.Get(run_id);
    if (run.ok() && run->state() == state) return true;
    if (absl::Now() >= give_up) return false;
    seen = runs.WaitForEventAfter(run_id, seen, give_up - absl::Now());
  }
}

// What the pipeline and queue tests build on: a fake clock, runs in memory, the fake ports.
struct FakeTrainerParts {
  explicit FakeTrainerParts(const std::string& kv_path) : kv(InMemoryKv(kv_path)) { OpenRuns(); }
  // Opens the runs as a start of the trainer does (after Stop, say).
  void OpenRuns() { runs = *RunStore::Create({kv.get()}); }

  core::FakeClock clock;
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<RunStore> runs;
  FakeDatasets datasets;
  FakeModels models;
};

}  // namespace fabrique::training::testing

#endif  // FABRIQUE_TESTS_TRAINING_FAKE_PORTS_H_
