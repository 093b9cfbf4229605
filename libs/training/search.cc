#include "libs/training/search.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace fabrique::training {
namespace {

const std::set<std::string>& Known() {
  static const auto* known = new std::set<std::string>{
      "optimizer.learning_rate", "optimizer.weight_decay",  "batch_size",        "epochs",
      "early_stopping_patience", "family.mlp.hidden_sizes", "family.mlp.dropout"};
  return *known;
}

absl::Status Bad(const std::string& name, const std::string& value) {
  return absl::InvalidArgumentError(
      absl::StrCat("search setting ", name, " = '", value, "' does not parse"));
}

}  // namespace

absl::StatusOr<std::vector<TrialSettings>> ExpandSearch(const v1::HyperparameterSearch& search) {
  constexpr int kMostTrials = 1000;
  const int max_trials = search.max_trials();
  if (max_trials < 1 || max_trials > kMostTrials) {
    return absl::InvalidArgumentError(
        absl::StrCat("search.max_trials is ", max_trials, ": it must be 1 to ", kMostTrials));
  }
  for (const v1::HyperparameterRange& range : search.ranges()) {
    if (Known().count(range.name()) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "search setting '", range.name(),
          "' is not one of optimizer.learning_rate, optimizer.weight_decay, batch_size, epochs, "
          "early_stopping_patience, family.mlp.hidden_sizes, family.mlp.dropout"));
    }
    if (range.has_choices() && range.choices().values().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("search setting ", range.name(), " has no choices"));
    }
    if (!range.has_choices() && !range.has_interval()) {
      return absl::InvalidArgumentError(
          absl::StrCat("search setting ", range.name(), " needs choices or an interval"));
    }
  }
  std::vector<TrialSettings> trials;
  if (search.strategy() == v1::SEARCH_STRATEGY_RANDOM) {
    std::mt19937_64 rng(search.seed());
    for (int t = 0; t < max_trials; ++t) {
      TrialSettings settings;
      for (const v1::HyperparameterRange& range : search.ranges()) {
        if (range.has_choices()) {
          const auto& values = range.choices().values();
          settings[range.name()] =
              values[std::uniform_int_distribution<int>(0, values.size() - 1)(rng)];
        } else {
          const v1::DoubleInterval& i = range.interval();
          double x = std::uniform_real_distribution<double>(0, 1)(rng);
          const double v = i.log_scale() && i.min_value() > 0
                               ? std::exp(std::log(i.min_value()) +
                                          x * (std::log(i.max_value()) - std::log(i.min_value())))
                               : i.min_value() + x * (i.max_value() - i.min_value());
          settings[range.name()] = absl::StrCat(v);
        }
      }
      trials.push_back(std::move(settings));
    }
    return trials;
  }
  // Grid: every combination, the last range varying fastest, up to max_trials. Only those are
  // built (the k-th read as a mixed-radix number), however large the whole grid.
  int64_t total = 1;
  for (const v1::HyperparameterRange& range : search.ranges()) {
    if (!range.has_choices()) {
      return absl::InvalidArgumentError(
          absl::StrCat("search setting ", range.name(),
                       " has an interval: a grid needs choices (or use random)"));
    }
    total = std::min<int64_t>(total * range.choices().values_size(), max_trials);
  }
  for (int64_t k = 0; k < total; ++k) {
    TrialSettings settings;
    int64_t rest = k;
    for (int r = search.ranges_size() - 1; r >= 0; --r) {
      const auto& values = search.ranges(r).choices().values();
      settings[search.ranges(r).name()] = values[rest % values.size()];
      rest /= values.size();
    }
    trials.push_back(std::move(settings));
  }
  return trials;
}

absl::StatusOr<TrainConfig> ApplySettings(TrainConfig config, const TrialSettings& settings) {
  for (const auto& [name, value] : settings) {
    double d = 0;
    int i = 0;
    if (name == "optimizer.learning_rate" || name == "optimizer.weight_decay" ||
        name == "family.mlp.dropout") {
      if (!absl::SimpleAtod(value, &d) || d < 0 || (name == "family.mlp.dropout" && d >= 1) ||
          (name == "optimizer.learning_rate" && d == 0)) {
        return Bad(name, value);
      }
      if (name == "optimizer.learning_rate") config.optimizer.set_learning_rate(d);
      if (name == "optimizer.weight_decay") config.optimizer.set_weight_decay(d);
      if (name == "family.mlp.dropout") config.family.mutable_mlp()->set_dropout(d);
    } else if (name == "batch_size" || name == "epochs" || name == "early_stopping_patience") {
      if (!absl::SimpleAtoi(value, &i) || i < 0 || (name != "early_stopping_patience" && i == 0)) {
        return Bad(name, value);
      }
      if (name == "batch_size") config.batch_size = i;
      if (name == "epochs") config.epochs = i;
      if (name == "early_stopping_patience") config.early_stopping_patience = i;
    } else if (name == "family.mlp.hidden_sizes") {
      v1::ModelFamily::Mlp* mlp = config.family.mutable_mlp();
      mlp->clear_hidden_sizes();
      for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
        if (!absl::SimpleAtoi(part, &i) || i < 1) return Bad(name, value);
        mlp->add_hidden_sizes(i);
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown search setting '", name, "'"));
    }
  }
  return config;
}

}  // namespace fabrique::training
