// A small hyperparameter search: grids expand to every combination (capped), random draws are
// reproducible by seed and stay in their intervals, bad settings are refused, and each trial's
// settings reach the training configuration.

#include "libs/training/search.h"

#include "absl/strings/match.h"
#include "catch2/catch.hpp"

namespace fabrique::training {
namespace {

v1::HyperparameterSearch Grid(int max_trials) {
  v1::HyperparameterSearch search;
  search.set_strategy(v1::SEARCH_STRATEGY_GRID);
  search.set_max_trials(max_trials);
  v1::HyperparameterRange* lr = search.add_ranges();
  lr->set_name("optimizer.learning_rate");
  lr->mutable_choices()->add_values("0.001");
  lr->mutable_choices()->add_values("0.01");
  v1::HyperparameterRange* sizes = search.add_ranges();
  sizes->set_name("family.mlp.hidden_sizes");
  for (const char* v : {"16", "32,16", "64,32"}) sizes->mutable_choices()->add_values(v);
  return search;
}

TEST_CASE("A grid is every combination, up to max_trials", "[search]") {
  absl::StatusOr<std::vector<TrialSettings>> all = ExpandSearch(Grid(10));
  REQUIRE(all.ok());
  REQUIRE(all->size() == 6);
  CHECK((*all)[0].at("optimizer.learning_rate") == "0.001");
  CHECK((*all)[1].at("family.mlp.hidden_sizes") == "32,16");  // The last range varies fastest.
  CHECK(ExpandSearch(Grid(4))->size() == 4);
  CHECK(ExpandSearch(Grid(0)).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ExpandSearch(Grid(1001)).status().code() == absl::StatusCode::kInvalidArgument);
  // A huge grid is not built whole: only its first max_trials combinations.
  v1::HyperparameterSearch huge = Grid(1000);
  for (int r = 0; r < 12; ++r) {
    v1::HyperparameterRange* range = huge.add_ranges();
    range->set_name("batch_size");
    for (int v = 1; v <= 20; ++v) range->mutable_choices()->add_values(std::to_string(v));
  }
  CHECK(ExpandSearch(huge)->size() == 1000);
}

TEST_CASE("Random draws are reproducible and stay in their intervals", "[search]") {
  v1::HyperparameterSearch search;
  search.set_strategy(v1::SEARCH_STRATEGY_RANDOM);
  search.set_max_trials(20);
  search.set_seed(5);
  v1::HyperparameterRange* lr = search.add_ranges();
  lr->set_name("optimizer.learning_rate");
  lr->mutable_interval()->set_min_value(1e-4);
  lr->mutable_interval()->set_max_value(1e-1);
  lr->mutable_interval()->set_log_scale(true);
  absl::StatusOr<std::vector<TrialSettings>> a = ExpandSearch(search);
  absl::StatusOr<std::vector<TrialSettings>> b = ExpandSearch(search);
  REQUIRE(a.ok());
  CHECK(*a == *b);
  for (const TrialSettings& t : *a) {
    const double v = std::stod(t.at("optimizer.learning_rate"));
    CHECK(v >= 1e-4);
    CHECK(v <= 1e-1);
  }
  search.set_strategy(v1::SEARCH_STRATEGY_GRID);  // An interval cannot be gridded.
  CHECK(ExpandSearch(search).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Unknown settings and unparsable values are refused; good ones are applied", "[search]") {
  v1::HyperparameterSearch unknown = Grid(3);
  unknown.mutable_ranges(0)->set_name("optimizer.momentum_typo");
  const absl::Status status = ExpandSearch(unknown).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(status.message(), "momentum_typo"));
  TrainConfig config;
  absl::StatusOr<TrainConfig> applied = ApplySettings(config, {{"optimizer.learning_rate", "0.05"},
                                                               {"family.mlp.hidden_sizes", "64,32"},
                                                               {"batch_size", "512"},
                                                               {"family.mlp.dropout", "0.1"}});
  REQUIRE(applied.ok());
  CHECK(applied->optimizer.learning_rate() == 0.05);
  CHECK(applied->family.mlp().hidden_sizes_size() == 2);
  CHECK(applied->batch_size == 512);
  CHECK(ApplySettings(config, {{"batch_size", "big"}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ApplySettings(config, {{"family.mlp.hidden_sizes", "64,0"}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ApplySettings(config, {{"epochs", "0"}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ApplySettings(config, {{"family.mlp.dropout", "1.5"}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::training
