#ifndef FABRIQUE_TESTS_SERVING_MODEL_SET_FAKES_H_
#define FABRIQUE_TESTS_SERVING_MODEL_SET_FAKES_H_

// Fakes and shared test code for the model set's tests: a module loader whose modules answer with
// their version number (so every answer says who computed it), count their destruction, and whose
// loads can be made to fail or to wait until released.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/core/clock.h"
#include "libs/serving/loaded_module.h"
#include "libs/serving/model_set.h"

namespace fabrique::serving::testing {

// Answers every row with one FP32 "version" = its version number.
class FakeModule : public LoadedModule {
 public:
  FakeModule(int64_t version, std::atomic<int>* destroyed)
      : version_(version), destroyed_(destroyed) {}
  ~FakeModule() override { destroyed_->fetch_add(1); }
  absl::StatusOr<TensorBatch> Forward(const TensorBatch& inputs) const override {
    TensorBatch out;
    out.rows = inputs.rows;
    Tensor& t = out.tensors.emplace_back();
    t.name = "version";
    t.shape = {inputs.rows, 1};
    t.fp32.assign(static_cast<size_t>(inputs.rows), static_cast<float>(version_));
    return out;
  }
  std::string device() const override { return "cpu"; }

 private:
  const int64_t version_;
  std::atomic<int>* const destroyed_;
};

// Loads "/models/<model>/<version>" (what FetchPath gives) into a FakeModule.
class FakeLoader : public ModuleLoader {
 public:
  absl::StatusOr<std::unique_ptr<LoadedModule>> Load(const std::string& path,
                                                     const v1::ModelSignature& signature,
                                                     const LoadOptions& options) override {
    int64_t version = 0;
    if (!absl::SimpleAtoi(path.substr(path.rfind('/') + 1), &version)) {
      return absl::InvalidArgumentError(absl::StrCat("bad path ", path));
    }
    absl::MutexLock lock(&mu_);
    ++loads_[version];
    warmup_ = options.warmup_batch_sizes;
    const auto released = [this, version]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return blocked_.count(version) == 0;
    };
    mu_.Await(absl::Condition(&released));
    const auto failure = failures_.find(version);
    if (failure != failures_.end()) return failure->second;
    return std::unique_ptr<LoadedModule>(new FakeModule(version, &destroyed_[version]));
  }

  void Fail(int64_t version, absl::Status why) {
    absl::MutexLock lock(&mu_);
    failures_[version] = std::move(why);
  }
  void Succeed(int64_t version) {
    absl::MutexLock lock(&mu_);
    failures_.erase(version);
  }
  void Block(int64_t version) {
    absl::MutexLock lock(&mu_);
    blocked_.insert(version);
  }
  void Unblock(int64_t version) {
    absl::MutexLock lock(&mu_);
    blocked_.erase(version);
  }
  int loads(int64_t version) {
    absl::MutexLock lock(&mu_);
    return loads_[version];
  }
  std::vector<int> warmup() {
    absl::MutexLock lock(&mu_);
    return warmup_;
  }
  // Modules of `version` destroyed so far.
  int destroyed(int64_t version) { return destroyed_[version].load(); }

 private:
  absl::Mutex mu_;
  std::set<int64_t> blocked_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, absl::Status> failures_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, int> loads_ ABSL_GUARDED_BY(mu_);
  std::vector<int> warmup_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> destroyed_[16] = {};
};

inline absl::StatusOr<std::string> FetchPath(const v1::ModelVersion& record) {
  return absl::StrCat("/models/", record.model(), "/", record.version());
}

inline v1::ModelVersion Record(const std::string& model, int64_t version) {
  v1::ModelVersion record;
  record.set_model(model);
  record.set_version(version);
  v1::VersionArtifact* artifact = record.add_artifacts();
  artifact->set_kind(v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE);
  artifact->set_name("model.pt");
  artifact->mutable_artifact()->set_sha256(absl::StrCat("sha-of-", model, "-", version));
  return record;
}

// One model's plan: `primary` and `candidate` (0 = none) with their records.
inline ServedModelPlan ModelPlan(const std::string& model, int64_t primary, int64_t candidate = 0,
                                 double canary_percent = 0, bool shadow = false) {
  ServedModelPlan plan;
  plan.model = model;
  plan.policy.set_model(model);
  plan.policy.set_primary_alias("production");
  plan.policy.set_candidate_alias("candidate");
  plan.policy.set_canary_percent(canary_percent);
  plan.policy.set_shadow(shadow);
  plan.primary_version = primary;
  plan.candidate_version = candidate;
  if (primary > 0) plan.versions[primary] = Record(model, primary);
  if (candidate > 0) plan.versions[candidate] = Record(model, candidate);
  return plan;
}

inline ServingPlan Plan(int64_t revision, std::vector<ServedModelPlan> models) {
  ServingPlan plan;
  plan.revision = revision;
  plan.models = std::move(models);
  return plan;
}

inline TensorBatch Rows(int64_t rows) {
  TensorBatch batch;
  batch.rows = rows;
  Tensor& t = batch.tensors.emplace_back();
  t.name = "x";
  t.shape = {rows, 1};
  t.fp32.assign(static_cast<size_t>(rows), 0.5f);
  return batch;
}

// Scores `rows` rows on `version` and waits for the answer: the version number that answered.
inline absl::StatusOr<int64_t> Score(ServedVersion& version, int64_t rows = 1) {
  absl::Notification answered;
  absl::StatusOr<int64_t> result;
  version.Submit(Rows(rows), absl::InfiniteFuture(),
                 [&](absl::StatusOr<TensorBatch> outputs, const BatchStats&) {
                   if (!outputs.ok()) {
                     result = outputs.status();
                   } else {
                     result = static_cast<int64_t>(outputs->tensors.at(0).fp32.at(0));
                   }
                   answered.Notify();
                 });
  answered.WaitForNotification();
  return result;
}

// Polls `done` until it holds or 10 s of real time have passed; returns whether it held.
template <typename Predicate>
bool Eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Whether the set's status shows `version` of `model` in `state`.
inline bool HasState(const ModelSet& set, const std::string& model, int64_t version,
                     VersionState state) {
  for (const ServedModelStatus& m : set.Status()) {
    if (m.model != model) continue;
    for (const ServedVersionStatus& v : m.versions) {
      if (v.version == version) return v.state == state;
    }
  }
  return false;
}

// Records what the observer hooks report.
class RecordingObserver : public ModelSetObserver {
 public:
  struct Swap {
    std::string model;
    ServingRole role;
    int64_t from, to;
    absl::Duration took;
  };
  void OnVersionState(const std::string& model, int64_t version, VersionState state) override {
    absl::MutexLock lock(&mu_);
    states_.push_back(absl::StrCat(model, "/", version, " ", VersionStateName(state)));
  }
  void OnSwap(const std::string& model, ServingRole role, int64_t from, int64_t to,
              absl::Duration took) override {
    absl::MutexLock lock(&mu_);
    swaps_.push_back(Swap{model, role, from, to, took});
  }
  void OnLoadFailed(const std::string& model, int64_t version, const std::string& reason) override {
    absl::MutexLock lock(&mu_);
    failures_.push_back(absl::StrCat(model, "/", version, ": ", reason));
  }
  void OnPolicyRoute(const std::string& model, bool canary, bool shadow) override {
    absl::MutexLock lock(&mu_);
    canary_routes_ += canary ? 1 : 0;
    shadow_routes_ += shadow ? 1 : 0;
  }
  std::vector<std::string> states() {
    absl::MutexLock lock(&mu_);
    return states_;
  }
  std::vector<Swap> swaps() {
    absl::MutexLock lock(&mu_);
    return swaps_;
  }
  std::vector<std::string> failures() {
    absl::MutexLock lock(&mu_);
    return failures_;
  }
  int canary_routes() {
    absl::MutexLock lock(&mu_);
    return canary_routes_;
  }
  int shadow_routes() {
    absl::MutexLock lock(&mu_);
    return shadow_routes_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> states_ ABSL_GUARDED_BY(mu_);
  std::vector<Swap> swaps_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);
  int canary_routes_ ABSL_GUARDED_BY(mu_) = 0;
  int shadow_routes_ ABSL_GUARDED_BY(mu_) = 0;
};

// A model set over the fake loader and observer, with a fake clock for load times and swap
// durations; the model "churn" is the one most tests route to.
struct ModelSetFixture {
  explicit ModelSetFixture(int loader_threads = 2) {
    ModelSetOptions options;
    options.loader = &loader;
    options.fetch_module = FetchPath;
    options.observer = &observer;
    options.clock = &clock;
    options.loader_threads = loader_threads;
    options.routing_seed = 1;
    options.batching.preferred_batch_sizes = {4, 8};
    options.batching.max_batch_size = 16;
    set = *ModelSet::Create(std::move(options));
  }
  absl::StatusOr<Route> Policy(const std::string& key = "") const {
    return set->Resolve("churn", 0, "", key);
  }
  // The version the policy routes churn to now (0 when it routes nowhere).
  int64_t PolicyVersion() const {
    auto route = Policy();
    return route.ok() ? route->version->version() : 0;
  }
  // Applies a plan of `model` alone; returns once the set is Ready and `version` READY.
  bool ApplyAndWait(const ServedModelPlan& model, int64_t version) {
    set->Apply(Plan(++revision, {model}));
    return Eventually(
        [&] { return set->Ready() && HasState(*set, model.model, version, VersionState::kReady); });
  }

  int64_t revision = 0;
  core::FakeClock clock;
  FakeLoader loader;
  RecordingObserver observer;
  std::unique_ptr<ModelSet> set;  // Last: stopped before the fakes it uses go.
};

inline bool Mentions(const absl::Status& status, absl::string_view text) {
  return status.message().find(text) != absl::string_view::npos;
}

}  // namespace fabrique::serving::testing

#endif  // FABRIQUE_TESTS_SERVING_MODEL_SET_FAKES_H_
