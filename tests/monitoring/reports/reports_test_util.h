#ifndef FABRIQUE_TESTS_MONITORING_REPORTS_REPORTS_TEST_UTIL_H_
#define FABRIQUE_TESTS_MONITORING_REPORTS_REPORTS_TEST_UTIL_H_

// Helpers shared by the reference and report tests: columns of a profile and of live windows
// built from plain values, a fake registry (VersionRegistry) that can be taken down, and a fake
// WindowSource serving fixed summaries.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/monitoring/reference/reference_profiles.h"
#include "libs/monitoring/sketch/column_summary.h"
#include "libs/monitoring/windows/window_source.h"

namespace fabrique::monitoring::testing {

inline ColumnSummary Numbers(const std::vector<double>& values) {
  ColumnSummary summary(ColumnSummary::Options{});
  for (double value : values) summary.AddNumber(value);
  return summary;
}

inline ColumnSummary Categories(const std::vector<std::string>& values) {
  ColumnSummary::Options options;
  options.kind = ColumnSummary::Kind::kCategorical;
  ColumnSummary summary(options);
  for (const std::string& value : values) summary.AddCategory(value);
  return summary;
}

// `count` numbers evenly spread over [from, from + width).
inline std::vector<double> Spread(double from, double width, int count) {
  std::vector<double> values;
  for (int i = 0; i < count; ++i) values.push_back(from + width * i / count);
  return values;
}

// `count` values cycling through `categories`.
inline std::vector<std::string> Cycle(const std::vector<std::string>& categories, int count) {
  std::vector<std::string> values;
  for (int i = 0; i < count; ++i) values.push_back(categories[i % categories.size()]);
  return values;
}

// A profile of `model` `version` with these input and output columns.
inline v1::ReferenceProfile Profile(
    const std::string& model, int64_t version,
    const std::vector<std::pair<std::string, ColumnSummary>>& features,
    const std::vector<std::pair<std::string, ColumnSummary>>& predictions = {}) {
  v1::ReferenceProfile profile;
  profile.mutable_model_version()->set_model(model);
  profile.mutable_model_version()->set_version(version);
  for (const auto& [name, summary] : features) *profile.add_features() = summary.ToProto(name);
  for (const auto& [name, summary] : predictions) {
    *profile.add_predictions() = summary.ToProto(name);
  }
  return profile;
}

inline v1::Metric TrainingMetric(const std::string& name, double value) {
  v1::Metric metric;
  metric.set_name(name);
  metric.set_value(value);
  metric.set_split("validation");
  metric.set_higher_is_better(name != "log_loss" && name != "rmse" && name != "mae");
  return metric;
}

// The registry as reference profiles read it: versions with their artifacts' bytes.
class FakeVersionRegistry : public VersionRegistry {
 public:
  // Registers `model` `version`, with `profile` as its REFERENCE_PROFILE artifact when given.
  void AddVersion(const std::string& model, int64_t version,
                  const v1::ReferenceProfile* profile = nullptr,
                  std::vector<v1::Metric> metrics = {}) {
    v1::ModelVersion registered;
    registered.set_model(model);
    registered.set_version(version);
    for (v1::Metric& metric : metrics) *registered.add_metrics() = std::move(metric);
    if (profile != nullptr) AddArtifact(registered, profile->SerializeAsString());
    versions_[absl::StrCat(model, ":", version)] = registered;
  }
  // Registers a version whose profile artifact holds `bytes`.
  void AddVersionWithArtifact(const std::string& model, int64_t version, const std::string& bytes) {
    v1::ModelVersion registered;
    registered.set_model(model);
    registered.set_version(version);
    AddArtifact(registered, bytes);
    versions_[absl::StrCat(model, ":", version)] = registered;
  }
  void SetDown(bool down) { down_ = down; }
  int calls() const { return calls_; }

  absl::StatusOr<v1::ModelVersion> GetVersion(absl::string_view model, int64_t version) override {
    ++calls_;
    if (down_) return absl::UnavailableError("the registry is down");
    auto it = versions_.find(absl::StrCat(model, ":", version));
    if (it == versions_.end()) return absl::NotFoundError("no such version");
    return it->second;
  }
  absl::StatusOr<std::string> ReadArtifact(const std::string& sha256) override {
    ++calls_;
    if (down_) return absl::UnavailableError("the registry is down");
    auto it = blobs_.find(sha256);
    if (it == blobs_.end()) return absl::NotFoundError("no such artifact");
    return it->second;
  }

 private:
  void AddArtifact(v1::ModelVersion& registered, const std::string& bytes) {
    const std::string digest = absl::StrCat("sha-", blobs_.size());
    blobs_[digest] = bytes;
    v1::VersionArtifact* artifact = registered.add_artifacts();
    artifact->set_kind(v1::ARTIFACT_KIND_REFERENCE_PROFILE);
    artifact->set_name("reference_profile.pb");
    artifact->mutable_artifact()->set_sha256(digest);
  }

  std::map<std::string, v1::ModelVersion> versions_;
  std::map<std::string, std::string> blobs_;
  bool down_ = false;
  int calls_ = 0;
};

// Windows that hold fixed summaries per (model, version, from): a range is read by its start.
class FakeWindowSource : public WindowSource {
 public:
  void Set(const std::string& model, int64_t version, absl::Time from, LiveSummaries summaries) {
    windows_[Key(model, version, from)] = std::move(summaries);
  }
  absl::Duration window() const override { return absl::Hours(1); }
  absl::StatusOr<LiveSummaries> Summaries(absl::string_view model, int64_t version, absl::Time from,
                                          absl::Time to) const override {
    if (from >= to) return absl::InvalidArgumentError("from >= to");
    auto it = windows_.find(Key(model, version, from));
    if (it == windows_.end()) {
      LiveSummaries empty;
      empty.from = empty.to = from;
      return empty;
    }
    return it->second;
  }
  absl::StatusOr<std::vector<ActiveVersion>> ActiveVersions(absl::Time, absl::Time) const override {
    return std::vector<ActiveVersion>{};
  }

 private:
  static std::string Key(absl::string_view model, int64_t version, absl::Time from) {
    return absl::StrCat(model, ":", version, "@", absl::ToUnixSeconds(from));
  }
  std::map<std::string, LiveSummaries> windows_;
};

// Live summaries with these inputs (by position) and outputs (by name).
inline LiveSummaries Live(int64_t predictions, std::vector<ColumnSummary> inputs,
                          std::vector<std::pair<std::string, ColumnSummary>> outputs = {}) {
  LiveSummaries live;
  live.predictions = predictions;
  for (ColumnSummary& input : inputs) live.inputs.push_back({"", std::move(input)});
  for (auto& [name, summary] : outputs) live.outputs.push_back({name, std::move(summary)});
  return live;
}

}  // namespace fabrique::monitoring::testing

#endif  // FABRIQUE_TESTS_MONITORING_REPORTS_REPORTS_TEST_UTIL_H_
