#ifndef FABRIQUE_LIBS_MONITORING_CANARY_CANARY_COMPARER_H_
#define FABRIQUE_LIBS_MONITORING_CANARY_CANARY_COMPARER_H_

// The monitor's answer to CompareCanary: a model's candidate against its primary over the same
// period, each side's predictions and joined outcomes read from the intake, each side's live
// metrics and label coverage, the degradation on the compared metric in its direction, whether
// both sides have enough labelled predictions, and a one-line verdict (the decision itself is
// backtest/canary_comparison.h's). With a WindowSource, the candidate's outputs are also tested
// against the primary's (prediction_drift), from the windows' summaries.
//
//   CanaryComparerOptions options;
//   options.intake = intake.get();
//   options.models = RegistryModelLookup(registry);
//   ASSIGN_OR_RETURN(auto comparer, CanaryComparer::Create(std::move(options)));
//   ASSIGN_OR_RETURN(v1::CanaryComparison comparison, comparer->Compare(request));
//
// Each comparison has a new report_id and is not stored: the registry's promotion gate asks
// again whenever it evaluates, so a stored copy would only ever be read stale. The joined rows of
// the period are held in memory while it is computed (the period is one window, an hour by
// default); the prediction counts are streamed.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/monitor.pb.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/core/clock.h"
#include "libs/monitoring/canary/canary_plan.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/windows/window_source.h"

namespace fabrique::monitoring {

struct CanaryComparerOptions {
  // Where predictions and outcomes are read. Not owned. Required.
  const IntakeStore* intake = nullptr;
  // The registry's view of a model (its task, latest version and aliases): NOT_FOUND for a model
  // the registry does not have; any other error means it could not answer. Required.
  std::function<absl::StatusOr<v1::Model>(const std::string& model)> models;
  // The class labels of a version, in output index order (its signature's). Default: none, for
  // models whose labels and predicted labels are class indices or booleans.
  std::function<absl::StatusOr<std::vector<std::string>>(const std::string& model, int64_t version)>
      class_labels;
  // Live windows' summaries, for the test of the two sides' outputs. Not owned. Default nullptr:
  // prediction_drift is left empty.
  const WindowSource* windows = nullptr;
  // Not owned. Default nullptr = the real clock.
  const core::Clock* clock = nullptr;
  CanaryDefaults defaults;
};

class CanaryComparer {
 public:
  // INVALID_ARGUMENT without an intake or a model lookup.
  static absl::StatusOr<std::unique_ptr<CanaryComparer>> Create(CanaryComparerOptions options);

  // The comparison `request` asks for. Errors: those of PlanCanary (canary_plan.h); NOT_FOUND for
  // a model the registry does not have; UNAVAILABLE when the registry cannot be asked;
  // INVALID_ARGUMENT for a metric the model's task does not report; FAILED_PRECONDITION when the
  // metric needs scores and a side logged labels only; storage errors of the intake.
  absl::StatusOr<v1::CanaryComparison> Compare(const v1::CompareCanaryRequest& request) const;

 private:
  explicit CanaryComparer(CanaryComparerOptions options);

  const CanaryComparerOptions options_;
  const core::Clock* const clock_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_CANARY_CANARY_COMPARER_H_
