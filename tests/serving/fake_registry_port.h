#ifndef FABRIQUE_TESTS_SERVING_FAKE_REGISTRY_PORT_H_
#define FABRIQUE_TESTS_SERVING_FAKE_REGISTRY_PORT_H_

// An in-memory registry for serving's tests, scripted by the test: the events each watch stream
// delivers and how it ends, the records Get* answers, the artifacts Download streams (and where
// a download breaks). Thread-safe: the code under test calls it from its own threads.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "libs/serving/registry_port.h"

namespace fabrique::serving::testing {

class FakeRegistryPort : public RegistryPort {
 public:
  // ---- Watch scripting: one queue of items; a stream delivers events until an end item. ----
  // Queues an event for the open (or next) stream.
  void Send(const v1::WatchEvent& event);
  // Queues the end of the open (or next) stream, with `status` as Watch's result.
  void End(const absl::Status& status);
  // The requests of every Watch call so far, in order.
  std::vector<v1::WatchRequest> watch_requests() const;
  // Events taken by streams so far.
  int64_t events_delivered() const;

  // ---- Records ----
  void PutModel(const v1::Model& model);
  void PutVersion(const v1::ModelVersion& version);
  void PutPolicy(const v1::TrafficPolicy& policy);
  // The next `count` GetVersion calls fail with `status`.
  void FailGetVersion(const absl::Status& status, int count);
  int64_t get_version_calls() const;
  // Every evaluation AppendEvaluation was given, in order, with the version it was for.
  std::vector<std::pair<v1::ModelVersionRef, v1::VersionEvaluation>> evaluations() const;

  // ---- Artifacts ----
  void PutArtifact(const std::string& sha256, std::string bytes);
  // The next Download calls break (UNAVAILABLE) once they have sent the given byte counts (one
  // count per call, in order).
  void BreakDownloads(std::vector<int64_t> after_bytes);
  // Downloads wait until Release (for tests of concurrent fetches).
  void HoldDownloads();
  void ReleaseDownloads();
  int64_t download_calls() const;
  std::vector<int64_t> download_offsets() const;  // The offset of each Download call.
  int64_t chunk_size = 4;                         // Bytes per write call.

  // ---- RegistryPort ----
  absl::Status Watch(const v1::WatchRequest& request,
                     const std::function<absl::Status(const v1::WatchEvent&)>& on_event) override;
  absl::StatusOr<v1::Model> GetModel(const std::string& name) override;
  absl::StatusOr<v1::ModelVersion> GetVersion(const v1::ModelVersionRef& ref) override;
  absl::StatusOr<v1::TrafficPolicy> GetTrafficPolicy(const std::string& model) override;
  // Appends to the stored version (NOT_FOUND when none) and keeps the evaluation for the test.
  absl::StatusOr<v1::ModelVersion> AppendEvaluation(
      const v1::ModelVersionRef& ref, const v1::VersionEvaluation& evaluation) override;
  absl::Status Download(const std::string& sha256, int64_t offset,
                        const std::function<absl::Status(absl::string_view)>& write) override;
  void Shutdown() override;

 private:
  struct Item {
    std::optional<v1::WatchEvent> event;  // Else the end of a stream.
    absl::Status end;
  };

  mutable absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Item> items_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::WatchRequest> requests_ ABSL_GUARDED_BY(mu_);
  int64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, v1::Model> models_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, int64_t>, v1::ModelVersion> versions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::TrafficPolicy> policies_ ABSL_GUARDED_BY(mu_);
  absl::Status get_version_failure_ ABSL_GUARDED_BY(mu_);
  int get_version_failures_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t get_version_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<v1::ModelVersionRef, v1::VersionEvaluation>> evaluations_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> artifacts_ ABSL_GUARDED_BY(mu_);
  std::deque<int64_t> breaks_ ABSL_GUARDED_BY(mu_);
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int64_t> offsets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::serving::testing

#endif  // FABRIQUE_TESTS_SERVING_FAKE_REGISTRY_PORT_H_
