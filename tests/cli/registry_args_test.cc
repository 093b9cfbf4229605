// What `fabrique models` reads from its command line (version references, key=value pairs,
// metrics and thresholds, tasks, kinds), and the streaming SHA-256 its transfers are checked by.

#include "tools/cli/registry_args.h"

#include <string>

#include "catch2/catch.hpp"

namespace fabrique::cli {
namespace {

TEST_CASE("version references: a name, a number, an alias, an artifact") {
  auto latest = ParseVersionSpec("fraud", false);
  REQUIRE(latest.ok());
  CHECK(latest->ref.model() == "fraud");
  CHECK(latest->ref.selector_case() == v1::ModelRef::SELECTOR_NOT_SET);

  auto number = ParseVersionSpec("fraud:3", false);
  REQUIRE(number.ok());
  CHECK(number->ref.version() == 3);

  auto alias = ParseVersionSpec("fraud@production/model.pt", true);
  REQUIRE(alias.ok());
  CHECK(alias->ref.alias() == "production");
  CHECK(alias->artifact == "model.pt");

  for (const char* bad : {"", ":3", "fraud:", "fraud:0", "fraud:x", "fraud@", "fraud:1@a",
                          "fraud:1/", "fraud:1/model"}) {
    INFO(bad);
    CHECK(ParseVersionSpec(bad, false).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(ParseVersionSpec("fraud:1/", true).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("digests are 64 hex digits") {
  CHECK(IsSha256(std::string(64, 'a')));
  CHECK(IsSha256(std::string(63, '0') + "F"));
  CHECK_FALSE(IsSha256(std::string(63, 'a')));
  CHECK_FALSE(IsSha256(std::string(63, 'a') + "g"));
}

TEST_CASE("key=value pairs") {
  google::protobuf::Map<std::string, std::string> map;
  REQUIRE(AddKeyValues({"team=risk", "note=a=b", "empty="}, "tag", &map).ok());
  CHECK(map["team"] == "risk");
  CHECK(map["note"] == "a=b");
  CHECK(map["empty"].empty());
  const absl::Status bad = AddKeyValues({"novalue"}, "tag", &map);
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.message().find("--tag KEY=VALUE") != absl::string_view::npos);
  CHECK(AddKeyValues({"=x"}, "tag", &map).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("metrics guess which way is better") {
  auto auc = ParseMetric("AUC=0.91");
  REQUIRE(auc.ok());
  CHECK(auc->name() == "auc");
  CHECK(auc->value() == 0.91);
  CHECK(auc->higher_is_better());
  CHECK(auc->split() == "validation");
  for (const char* lower : {"log_loss=0.2", "rmse=3", "ece=0.01", "error_rate=0.1"}) {
    INFO(lower);
    REQUIRE(ParseMetric(lower).ok());
    CHECK_FALSE(ParseMetric(lower)->higher_is_better());
  }
  CHECK(ParseMetric("auc").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseMetric("auc=high").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("metric thresholds read every operator, and print back") {
  struct Case {
    const char* text;
    v1::ComparisonOp op;
    double value;
  };
  for (const Case& c : {Case{"auc>=0.8", v1::COMPARISON_OP_GREATER_OR_EQUAL, 0.8},
                        Case{"auc > 0.8", v1::COMPARISON_OP_GREATER, 0.8},
                        Case{"log_loss<=0.3", v1::COMPARISON_OP_LESS_OR_EQUAL, 0.3},
                        Case{"log_loss<1", v1::COMPARISON_OP_LESS, 1},
                        Case{"accuracy==1", v1::COMPARISON_OP_EQUAL, 1}}) {
    INFO(c.text);
    auto threshold = ParseMetricThreshold(c.text);
    REQUIRE(threshold.ok());
    CHECK(threshold->op() == c.op);
    CHECK(threshold->value() == c.value);
  }
  CHECK(ParseMetricThreshold("auc>=0.8")->metric() == "auc");
  CHECK(ComparisonText(v1::COMPARISON_OP_GREATER_OR_EQUAL) == ">=");
  CHECK(ComparisonText(v1::COMPARISON_OP_UNSPECIFIED) == "?");
  for (const char* bad : {"auc", ">=0.8", "auc>=", "auc=>0.8", "auc>=x"}) {
    INFO(bad);
    CHECK(ParseMetricThreshold(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("tasks and artifact kinds by their short names") {
  CHECK(*ParseTask("binary_classification") == v1::TASK_BINARY_CLASSIFICATION);
  CHECK(*ParseTask("multiclass") == v1::TASK_MULTICLASS_CLASSIFICATION);
  CHECK(*ParseTask("REGRESSION") == v1::TASK_REGRESSION);
  CHECK(ParseTask("unspecified").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseTask("ranking").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(TaskName(v1::TASK_MULTICLASS_CLASSIFICATION) == "multiclass");
  CHECK(TaskName(v1::TASK_REGRESSION) == "regression");
  CHECK(*ParseArtifactKind("torchscript_module") == v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE);
  CHECK(*ParseArtifactKind("model_card") == v1::ARTIFACT_KIND_MODEL_CARD);
  CHECK(ParseArtifactKind("weights").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(MediaTypeForPath("dir/model.PT") == "application/x-torchscript");
  CHECK(MediaTypeForPath("blob") == "application/octet-stream");
}

}  // namespace
}  // namespace fabrique::cli
