// Routing and planning an entity Predict's rows, and reading its predictions back.

#include "services/inference/entity_predict_call.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/serving/feature_values.h"
#include "libs/serving/predicted_label.h"
#include "libs/serving/prediction_ids.h"
#include "services/inference/entity_predict_rows.h"

namespace fabrique::services {
namespace {

// The rows of the request: the first entity column's length (PlanEntityRows checks the others).
absl::StatusOr<int64_t> RowCount(const v1::PredictRequest& request, int max_rows) {
  const int64_t rows = request.entity_keys().empty() ? 0 : request.entity_keys(0).keys_size();
  if (rows == 0) {
    return absl::InvalidArgumentError(
        "entity_keys: no rows to score; give one EntityKeys per entity the model's features use, "
        "each with one key per row");
  }
  if (rows > max_rows) {
    return absl::InvalidArgumentError(absl::StrCat("entity_keys: ", rows,
                                                   " rows is more than the most one request may "
                                                   "carry for this model (",
                                                   max_rows, "); split the request"));
  }
  return rows;
}

// The part answering `route`, added when new.
PredictPart& PartFor(PredictCall& call, serving::Route route) {
  for (PredictPart& part : call.parts) {
    if (part.route.version == route.version && part.route.canary == route.canary &&
        part.route.alias == route.alias && part.route.shadow == route.shadow) {
      return part;
    }
  }
  PredictPart& part = call.parts.emplace_back();
  part.route = std::move(route);
  return part;
}

absl::Status RouteRows(const serving::ModelSet& models, int64_t rows, PredictCall& call) {
  const v1::ModelRef& ref = call.request->model();
  const bool selected = ref.selector_case() != v1::ModelRef::SELECTOR_NOT_SET;
  if (selected) {
    absl::StatusOr<serving::Route> route =
        models.Resolve(ref.model(), ref.version(), ref.alias(), "");
    if (!route.ok()) return route.status();
    PredictPart& part = PartFor(call, *std::move(route));
    part.rows.reserve(static_cast<size_t>(rows));
    for (int64_t row = 0; row < rows; ++row) part.rows.push_back(row);
    return absl::OkStatus();
  }
  for (int64_t row = 0; row < rows; ++row) {
    absl::StatusOr<serving::Route> route =
        models.Resolve(ref.model(), 0, "", serving::RoutingKey(call.request->entity_keys(), row));
    if (!route.ok()) return route.status();
    const bool by_key = route->by_key;
    PredictPart& part = PartFor(call, *std::move(route));
    if (by_key) {
      part.rows.push_back(row);
      continue;
    }
    // No candidate: every row goes where the first did (one route rather than one a row).
    part.rows.reserve(static_cast<size_t>(rows));
    for (; row < rows; ++row) part.rows.push_back(row);
  }
  return absl::OkStatus();
}

// Gives every part its feed (one per distinct inputs) and its outputs; plans every feed.
absl::Status PlanFeeds(PredictCall& call) {
  for (PredictPart& part : call.parts) {
    const v1::ModelSignature& signature = part.route.version->record().signature();
    absl::StatusOr<std::vector<int>> outputs =
        WantedOutputs(signature, call.request->outputs(), call.model);
    if (!outputs.ok()) return outputs.status();
    part.outputs = *std::move(outputs);
    // The key only tells feeds apart: a request answered by one version has one feed.
    const std::string key = call.parts.size() > 1 ? InputsKey(signature) : std::string();
    part.feed = call.feeds.size();
    for (size_t i = 0; i < call.feeds.size(); ++i) {
      if (call.feeds[i].inputs_key == key) part.feed = i;
    }
    if (part.feed < call.feeds.size()) continue;
    PredictFeed& feed = call.feeds.emplace_back();
    feed.signature = &signature;
    feed.inputs_key = key;
    absl::StatusOr<serving::EntityRowsPlan> plan = serving::PlanEntityRows(
        signature, call.request->entity_keys(), call.request->supplied_features());
    if (!plan.ok()) return plan.status();
    feed.plan = *std::move(plan);
  }
  return absl::OkStatus();
}

// Row `index` of `part`'s answer as the prediction of its request row, started by
// StartPredictions.
absl::Status FillPrediction(const PredictCall& call, const PredictPart& part, int64_t index,
                            v1::EntityPrediction& prediction) {
  const serving::ServedVersion& version = *part.route.version;
  const serving::TensorBatch& outputs = *part.answer;
  const int64_t row = part.rows[index];
  for (size_t k = 0; k < part.outputs.size(); ++k) {
    const int output = part.outputs[k];
    if (output >= static_cast<int>(outputs.tensors.size())) {
      return absl::InternalError(absl::StrCat("model '", version.model(), "' version ",
                                              version.version(), " answered ",
                                              outputs.tensors.size(), " outputs"));
    }
    FillRowOutput(outputs.tensors[output], index, *prediction.mutable_outputs(static_cast<int>(k)));
  }
  absl::StatusOr<std::string> label =
      serving::PredictedLabel(version.record().signature(), outputs, index);
  if (!label.ok()) return label.status();
  prediction.set_predicted_label(*std::move(label));
  const PredictFeed& feed = call.feeds[part.feed];
  for (const v1::FeatureIssue& issue : feed.rows.issues[row]) {
    *prediction.add_feature_issues() = issue;
  }
  if (call.request->return_features()) {
    for (v1::Value& value : serving::FedValues(feed.rows.inputs, row)) {
      *prediction.add_features() = std::move(value);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PlanPredictCall(const serving::ModelSet& models, int max_rows, PredictCall& call) {
  absl::StatusOr<int64_t> rows = RowCount(*call.request, max_rows);
  if (!rows.ok()) return rows.status();
  if (absl::Status routed = RouteRows(models, *rows, call); !routed.ok()) return routed;
  return PlanFeeds(call);
}

void StartPredictions(PredictCall& call) {
  const int64_t rows = call.request->entity_keys(0).keys_size();
  call.prediction_ids = serving::NewPredictionIds(rows);
  bool shadowed = false;
  for (const PredictPart& part : call.parts) shadowed |= part.route.shadow != nullptr;
  // Moved rather than copied when nothing reads them after: no string made per row.
  const bool keep_ids = call.logging || shadowed;
  auto* predictions = call.response->mutable_predictions();
  predictions->Reserve(static_cast<int>(rows));
  for (int64_t row = 0; row < rows; ++row) predictions->Add()->set_row(row);
  for (const PredictPart& part : call.parts) {
    const serving::ServedVersion& version = *part.route.version;
    const v1::ModelSignature& signature = version.record().signature();
    for (const int64_t row : part.rows) {
      v1::EntityPrediction& prediction = (*predictions)[static_cast<int>(row)];
      std::string& id = call.prediction_ids[row];
      if (keep_ids) {
        prediction.set_prediction_id(id);
      } else {
        prediction.set_prediction_id(std::move(id));
      }
      prediction.mutable_served_by()->set_model(version.model());
      prediction.mutable_served_by()->set_version(version.version());
      prediction.set_served_alias(part.route.alias);
      prediction.set_canary(part.route.canary);
      // Named by the signature; BuildPredictions adds the values (renaming, should the model
      // answer under another name).
      prediction.mutable_outputs()->Reserve(static_cast<int>(part.outputs.size()));
      for (const int output : part.outputs) {
        prediction.add_outputs()->set_name(signature.outputs(output).name());
      }
    }
  }
}

absl::Status BuildPredictions(PredictCall& call) {
  auto* predictions = call.response->mutable_predictions();
  for (const PredictPart& part : call.parts) {
    for (size_t i = 0; i < part.rows.size(); ++i) {
      const int64_t row = part.rows[i];
      absl::Status filled = FillPrediction(call, part, static_cast<int64_t>(i),
                                           (*predictions)[static_cast<int>(row)]);
      if (!filled.ok()) return filled;
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::services
