#include "libs/training/model_card.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace fabrique::training {
namespace {

std::string TaskText(v1::Task task) {
  switch (task) {
    case v1::TASK_MULTICLASS_CLASSIFICATION:
      return "multi-class classification";
    case v1::TASK_REGRESSION:
      return "regression";
    default:
      return "binary classification";
  }
}

std::string OrNone(const std::string& text) { return text.empty() ? "(not recorded)" : text; }

}  // namespace

std::string RenderModelCard(const ModelCardInput& in) {
  std::string card = absl::StrCat("# Model card: ", in.model_name, "\n\n");
  absl::StrAppend(&card, "- **Use case:** ", OrNone(in.use_case_id), "\n", "- **Task:** ",
                  TaskText(in.task), "\n", "- **Model:** ", OrNone(in.family),
                  ", exported as TorchScript with its preprocessing inside\n",
                  "- **Training run:** ", OrNone(in.run_id), "\n", "- **Code version:** ",
                  OrNone(in.code_version), "\n\n");
  absl::StrAppend(&card, "## Data and lineage\n\n", "- **Dataset:** ", OrNone(in.dataset_id),
                  " (point-in-time correct, from the feature store)\n", "- **Label:** ",
                  OrNone(in.label), "\n", "- **Label events:** ", OrNone(in.time_range), "\n",
                  "- **Rows:** ", in.train_rows, " for training, ", in.validation_rows,
                  " for validation\n", "- **Features, in input order:**\n");
  for (const std::string& feature : in.features) absl::StrAppend(&card, "  - ", feature, "\n");
  absl::StrAppend(&card, "\n## Training\n\n");
  for (const auto& [name, value] : in.parameters) {
    absl::StrAppend(&card, "- ", name, ": ", value, "\n");
  }
  absl::StrAppend(&card, "- epochs run: ", in.epochs_completed, ", kept: epoch ", in.best_epoch,
                  " (best on validation)\n\n");
  absl::StrAppend(&card, "## Evaluation (validation split)\n\n",
                  "| metric | model | trivial baseline | better is |\n|---|---|---|---|\n");
  for (const v1::Metric& metric : in.metrics) {
    absl::StrAppend(
        &card, absl::StrFormat(
                   "| %s | %.4f | %s | %s |\n", metric.name(), metric.value(),
                   metric.has_baseline() ? absl::StrFormat("%.4f", metric.baseline().value()) : "-",
                   metric.higher_is_better() ? "higher" : "lower"));
  }
  absl::StrAppend(
      &card, "\nThe baseline predicts ",
      in.task == v1::TASK_REGRESSION ? "the training mean" : "the training class frequencies",
      " for every row.\n\n## Limitations\n\n",
      "- Evaluated on a held-out split of the same period and population as the training data; "
      "performance on later data is what the monitor measures against this version's reference "
      "profile.\n",
      "- Missing values are imputed with the training mean (with a missing indicator); categories "
      "unseen in training share one unknown bucket.\n",
      "- The metrics above are the only fairness and quality evidence recorded; slices by "
      "population were not evaluated.\n");
  return card;
}

}  // namespace fabrique::training
