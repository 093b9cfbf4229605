#include "libs/serving/entity_rows.h"

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/serving/feature_values.h"

namespace fabrique::serving {
namespace {

using Catch::Contains;

v1::TensorSpec* AddInput(v1::ModelSignature* signature, const std::string& name,
                         const std::string& datatype, int64_t width) {
  v1::TensorSpec* input = signature->add_inputs();
  input->set_name(name);
  input->set_datatype(datatype);
  input->add_shape(-1);
  input->add_shape(width);
  input->set_nan_allowed(datatype == "FP32");
  return input;
}

// A store input as the trainer writes it: named "group:feature", trained on schema version 2.
v1::TensorSpec* AddStoreInput(v1::ModelSignature* signature, const std::string& feature,
                              v1::FeatureType type, const std::string& datatype,
                              int64_t width = 1) {
  v1::TensorSpec* input = AddInput(signature, "customers:" + feature, datatype, width);
  v1::VersionedFeatureRef* ref = input->mutable_feature();
  ref->mutable_ref()->set_group("customers");
  ref->mutable_ref()->set_feature(feature);
  ref->set_schema_version(2);
  ref->set_type(type);
  return input;
}

// Every kind of input: five numeric features, a vector, a string, and a request-time string.
v1::ModelSignature Signature() {
  v1::ModelSignature signature;
  AddStoreInput(&signature, "age", v1::FEATURE_TYPE_FLOAT, "FP32");
  AddStoreInput(&signature, "score", v1::FEATURE_TYPE_DOUBLE, "FP32");
  AddStoreInput(&signature, "tenure", v1::FEATURE_TYPE_INT64, "FP32");
  AddStoreInput(&signature, "vip", v1::FEATURE_TYPE_BOOL, "FP32");
  AddStoreInput(&signature, "embedding", v1::FEATURE_TYPE_FLOAT_VECTOR, "FP32", 2);
  AddStoreInput(&signature, "city", v1::FEATURE_TYPE_STRING, "BYTES");
  AddInput(&signature, "channel", "BYTES", 1);
  return signature;
}

EntityKeyColumns Keys(std::vector<std::string> customers, const std::string& entity = "customer") {
  EntityKeyColumns keys;
  v1::EntityKeys* column = keys.Add();
  column->set_entity(entity);
  for (const std::string& key : customers) column->add_keys(key);
  return keys;
}

v1::FeatureColumn* Supply(SuppliedFeatures* supplied, const std::string& group,
                          const std::string& feature) {
  v1::FeatureColumn* column = supplied->Add();
  column->mutable_feature()->set_group(group);
  column->mutable_feature()->set_feature(feature);
  return column;
}

// The request-time "channel" for `rows` rows: "web", "app", ...
SuppliedFeatures Channel(int rows) {
  SuppliedFeatures supplied;
  v1::FeatureColumn* channel = Supply(&supplied, "", "channel");
  for (int r = 0; r < rows; ++r) {
    channel->mutable_values()->mutable_string_values()->add_values(r % 2 ? "app" : "web");
  }
  return supplied;
}

v1::OnlineFeatureColumn* AddColumn(v1::LookupOnlineResponse* answer, const std::string& feature,
                                   v1::FeatureType type, std::vector<v1::ValueStatus> statuses) {
  v1::OnlineFeatureColumn* column = answer->add_columns();
  column->mutable_feature()->set_group("customers");
  column->mutable_feature()->set_feature(feature);
  column->set_type(type);
  column->set_schema_version(2);
  for (v1::ValueStatus status : statuses) column->add_statuses(status);
  return column;
}

constexpr v1::ValueStatus kPresent = v1::VALUE_STATUS_PRESENT;
constexpr v1::ValueStatus kMissing = v1::VALUE_STATUS_MISSING;
constexpr v1::ValueStatus kExpired = v1::VALUE_STATUS_EXPIRED;

// The store's answer for three rows of Signature(): row 1 misses age, row 2's score expired,
// row 0's city is null; values not PRESENT hold the zero value, as the store writes them.
v1::LookupOnlineResponse Answer() {
  v1::LookupOnlineResponse answer;
  answer.set_row_count(3);
  auto* age = AddColumn(&answer, "age", v1::FEATURE_TYPE_FLOAT, {kPresent, kMissing, kPresent});
  for (float v : {31.0f, 0.0f, 47.5f}) age->mutable_values()->mutable_float_values()->add_values(v);
  auto* score =
      AddColumn(&answer, "score", v1::FEATURE_TYPE_DOUBLE, {kPresent, kPresent, kExpired});
  for (double v : {0.25, 0.5, 0.0}) score->mutable_values()->mutable_double_values()->add_values(v);
  auto* tenure =
      AddColumn(&answer, "tenure", v1::FEATURE_TYPE_INT64, {kPresent, kPresent, kPresent});
  for (int64_t v : {3, 12, 7}) tenure->mutable_values()->mutable_int64_values()->add_values(v);
  auto* vip = AddColumn(&answer, "vip", v1::FEATURE_TYPE_BOOL, {kPresent, kPresent, kPresent});
  for (bool v : {true, false, true}) vip->mutable_values()->mutable_bool_values()->add_values(v);
  auto* embedding = AddColumn(&answer, "embedding", v1::FEATURE_TYPE_FLOAT_VECTOR,
                              {kPresent, kPresent, kMissing});
  for (std::vector<float> v : {std::vector<float>{1, 2}, {3, 4}, {}}) {
    auto* vector = embedding->mutable_values()->mutable_float_vector_values()->add_values();
    for (float x : v) vector->add_values(x);
  }
  auto* city = AddColumn(&answer, "city", v1::FEATURE_TYPE_STRING, {kPresent, kPresent, kPresent});
  for (const char* v : {"", "Lyon", "Oslo"}) {
    city->mutable_values()->mutable_string_values()->add_values(v);
  }
  for (bool null : {true, false, false}) city->mutable_values()->add_is_null(null);
  return answer;
}

std::vector<std::string> IssueText(const std::vector<v1::FeatureIssue>& issues) {
  std::vector<std::string> text;
  for (const v1::FeatureIssue& issue : issues) {
    text.push_back(issue.feature().group() + ":" + issue.feature().feature() + " " +
                   v1::ValueStatus_Name(issue.status()));
  }
  return text;
}

std::vector<std::string> LookupFeatures(const EntityRowsPlan& plan) {
  std::vector<std::string> features;
  for (const v1::FeatureRef& ref : plan.lookup->features()) {
    features.push_back(ref.group() + ":" + ref.feature());
  }
  return features;
}

TEST_CASE("The plan looks up every store input, in signature order, for the request's keys") {
  auto plan = PlanEntityRows(Signature(), Keys({"c1", "c2", "c3"}), Channel(3));
  REQUIRE(plan.ok());
  CHECK(plan->rows == 3);
  CHECK(LookupFeatures(*plan) == std::vector<std::string>{"customers:age", "customers:score",
                                                          "customers:tenure", "customers:vip",
                                                          "customers:embedding", "customers:city"});
  REQUIRE(plan->lookup->entity_keys_size() == 1);
  CHECK(plan->lookup->entity_keys(0).keys_size() == 3);
  REQUIRE(plan->sources.size() == 7);
  CHECK(plan->sources[4].width == 2);
  CHECK(plan->sources[6].supplied);
}

TEST_CASE("Assembly converts every type, imputes what is missing and reports it per row") {
  const v1::ModelSignature signature = Signature();
  const SuppliedFeatures supplied = Channel(3);
  auto plan = PlanEntityRows(signature, Keys({"c1", "c2", "c3"}), supplied);
  REQUIRE(plan.ok());
  auto rows = AssembleEntityRows(signature, *plan, Answer(), supplied);
  REQUIRE(rows.ok());
  const TensorBatch& inputs = rows->inputs;
  CHECK(inputs.rows == 3);
  REQUIRE(inputs.tensors.size() == 7);
  const auto& age = inputs.tensors[0];
  CHECK(age.name == "customers:age");
  CHECK(age.type == DataType::kFp32);
  CHECK(age.shape == std::vector<int64_t>{3, 1});
  CHECK(age.fp32[0] == 31.0f);
  CHECK(std::isnan(age.fp32[1]));
  CHECK(age.fp32[2] == 47.5f);
  CHECK(inputs.tensors[1].fp32[0] == 0.25f);
  CHECK(std::isnan(inputs.tensors[1].fp32[2]));
  CHECK(inputs.tensors[2].fp32 == std::vector<float>{3, 12, 7});
  CHECK(inputs.tensors[3].fp32 == std::vector<float>{1, 0, 1});
  const auto& embedding = inputs.tensors[4];
  CHECK(embedding.shape == std::vector<int64_t>{3, 2});
  REQUIRE(embedding.fp32.size() == 6);
  CHECK(std::vector<float>(embedding.fp32.begin(), embedding.fp32.begin() + 4) ==
        std::vector<float>{1, 2, 3, 4});
  CHECK(std::isnan(embedding.fp32[4]));
  CHECK(std::isnan(embedding.fp32[5]));
  CHECK(inputs.tensors[5].type == DataType::kBytes);
  CHECK(inputs.tensors[5].bytes == std::vector<std::string>{"", "Lyon", "Oslo"});
  CHECK(inputs.tensors[6].bytes == std::vector<std::string>{"web", "app", "web"});

  REQUIRE(rows->issues.size() == 3);
  CHECK(IssueText(rows->issues[0]) ==
        std::vector<std::string>{"customers:city VALUE_STATUS_MISSING"});
  CHECK(IssueText(rows->issues[1]) ==
        std::vector<std::string>{"customers:age VALUE_STATUS_MISSING"});
  CHECK(IssueText(rows->issues[2]) ==
        std::vector<std::string>{"customers:score VALUE_STATUS_EXPIRED",
                                 "customers:embedding VALUE_STATUS_MISSING"});
}

TEST_CASE("Supplied features override the store for the features they name") {
  const v1::ModelSignature signature = Signature();
  SuppliedFeatures supplied = Channel(3);
  v1::FeatureColumn* age = Supply(&supplied, "customers", "age");
  for (double v : {20.0, 21.0, 0.0}) age->mutable_values()->mutable_double_values()->add_values(v);
  for (bool null : {false, false, true}) age->mutable_values()->add_is_null(null);
  // By tensor name, with no group, works for a store input too.
  v1::FeatureColumn* city = Supply(&supplied, "", "customers:city");
  for (const char* v : {"Rome", "Pisa", "Bari"}) {
    city->mutable_values()->mutable_string_values()->add_values(v);
  }
  auto plan = PlanEntityRows(signature, Keys({"c1", "c2", "c3"}), supplied);
  REQUIRE(plan.ok());
  CHECK(LookupFeatures(*plan) == std::vector<std::string>{"customers:score", "customers:tenure",
                                                          "customers:vip", "customers:embedding"});
  v1::LookupOnlineResponse answer = Answer();
  answer.mutable_columns()->DeleteSubrange(5, 1);  // city
  answer.mutable_columns()->DeleteSubrange(0, 1);  // age
  auto rows = AssembleEntityRows(signature, *plan, answer, supplied);
  REQUIRE(rows.ok());
  CHECK(rows->inputs.tensors[0].fp32[0] == 20.0f);
  CHECK(rows->inputs.tensors[0].fp32[1] == 21.0f);
  CHECK(std::isnan(rows->inputs.tensors[0].fp32[2]));
  CHECK(rows->inputs.tensors[5].bytes == std::vector<std::string>{"Rome", "Pisa", "Bari"});
  CHECK(IssueText(rows->issues[0]).empty());
  CHECK(IssueText(rows->issues[1]).empty());
  CHECK(IssueText(rows->issues[2]) ==
        std::vector<std::string>{"customers:age VALUE_STATUS_MISSING",
                                 "customers:score VALUE_STATUS_EXPIRED",
                                 "customers:embedding VALUE_STATUS_MISSING"});
}

TEST_CASE("A model fed only by supplied features needs no lookup") {
  v1::ModelSignature signature;
  AddInput(&signature, "amount", "FP32", 1);
  SuppliedFeatures supplied;
  v1::FeatureColumn* amount = Supply(&supplied, "", "amount");
  for (int64_t v : {5, 9}) amount->mutable_values()->mutable_int64_values()->add_values(v);
  auto plan = PlanEntityRows(signature, Keys({"c1", "c2"}), supplied);
  REQUIRE(plan.ok());
  CHECK(plan->lookup->features().empty());
  auto rows = AssembleEntityRows(signature, *plan, v1::LookupOnlineResponse(), supplied);
  REQUIRE(rows.ok());
  CHECK(rows->inputs.tensors[0].fp32 == std::vector<float>{5, 9});
}

TEST_CASE("Supplied features the model cannot use are refused, naming them") {
  const v1::ModelSignature signature = Signature();
  const EntityKeyColumns keys = Keys({"c1", "c2"});
  struct Case {
    std::string culprit;
    std::function<void(SuppliedFeatures*)> spoil;
  };
  const std::vector<Case> cases = {
      {"customers:height",
       [](SuppliedFeatures* s) {
         Supply(s, "customers", "height")->mutable_values()->mutable_float_values()->add_values(1);
       }},
      {"'channel' has 3 values for 2 rows",
       [](SuppliedFeatures* s) {
         (*s)[0].mutable_values()->mutable_string_values()->add_values("extra");
       }},
      {"customers:age' holds STRING",
       [](SuppliedFeatures* s) {
         auto* v = Supply(s, "customers", "age")->mutable_values()->mutable_string_values();
         v->add_values("x");
         v->add_values("y");
       }},
      {"already feeds",
       [](SuppliedFeatures* s) {
         auto* v = Supply(s, "", "channel")->mutable_values()->mutable_string_values();
         v->add_values("x");
         v->add_values("y");
       }},
  };
  for (const Case& c : cases) {
    SuppliedFeatures supplied = Channel(2);
    c.spoil(&supplied);
    auto plan = PlanEntityRows(signature, keys, supplied);
    CHECK(plan.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(plan.status().message()), Contains(c.culprit));
  }
  auto unsupplied = PlanEntityRows(signature, keys, SuppliedFeatures());
  CHECK(unsupplied.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(unsupplied.status().message()),
             Contains("input 'channel' is not read from the feature store"));
}

TEST_CASE("Bad entity keys are refused") {
  const v1::ModelSignature signature = Signature();
  EntityKeyColumns ragged = Keys({"c1", "c2"});
  v1::EntityKeys* merchant = ragged.Add();
  merchant->set_entity("merchant");
  merchant->add_keys("m1");
  EntityKeyColumns twice = Keys({"c1"});
  twice.Add()->CopyFrom(twice.Get(0));
  EntityKeyColumns unnamed = Keys({"c1"}, "");
  unnamed.Add()->CopyFrom(Keys({"m1"}, "merchant").Get(0));
  const std::vector<std::pair<EntityKeyColumns, std::string>> cases = {
      {EntityKeyColumns(), "no entity keys"},
      {Keys({}), "no rows"},
      {ragged, "'customer' has 2 keys, 'merchant' has 1"},
      {Keys({"c1", ""}), "empty key at row 1"},
      {twice, "entity 'customer' has two key columns"},
      {unnamed, "no entity name"},
  };
  for (const auto& [keys, culprit] : cases) {
    auto plan = PlanEntityRows(signature, keys, Channel(keys.empty() ? 0 : 1));
    CHECK(plan.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(plan.status().message()), Contains(culprit));
  }
}

TEST_CASE("Training/serving skew is refused, naming the feature") {
  const v1::ModelSignature signature = Signature();
  const SuppliedFeatures supplied = Channel(3);
  auto plan = PlanEntityRows(signature, Keys({"c1", "c2", "c3"}), supplied);
  REQUIRE(plan.ok());

  v1::LookupOnlineResponse newer = Answer();
  newer.mutable_columns(2)->set_schema_version(3);
  auto rows = AssembleEntityRows(signature, *plan, newer, supplied);
  CHECK(rows.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(rows.status().message() ==
        "training/serving skew: feature customers:tenure was trained on schema version 2, the "
        "store serves version 3");

  v1::LookupOnlineResponse retyped = Answer();
  retyped.mutable_columns(1)->set_type(v1::FEATURE_TYPE_FLOAT);
  rows = AssembleEntityRows(signature, *plan, retyped, supplied);
  CHECK(rows.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(rows.status().message() ==
        "training/serving skew: feature customers:score was trained as DOUBLE, the store serves "
        "FLOAT");
}

TEST_CASE("Stored data the model cannot take is FAILED_PRECONDITION; supplied, INVALID_ARGUMENT") {
  v1::ModelSignature signature = Signature();
  signature.mutable_inputs(0)->set_nan_allowed(false);
  SuppliedFeatures supplied = Channel(3);
  auto plan = PlanEntityRows(signature, Keys({"c1", "c2", "c3"}), supplied);
  REQUIRE(plan.ok());
  auto rows = AssembleEntityRows(signature, *plan, Answer(), supplied);
  CHECK(rows.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(rows.status().message()),
             Contains("customers:age has no value at row 1") && Contains("nan_allowed"));

  v1::LookupOnlineResponse short_vector = Answer();
  short_vector.mutable_columns(4)
      ->mutable_values()
      ->mutable_float_vector_values()
      ->mutable_values(1)
      ->add_values(5);
  rows = AssembleEntityRows(Signature(), *plan, short_vector, supplied);
  CHECK(rows.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(rows.status().message()),
             Contains("customers:embedding at row 1: a vector of 3 elements"));

  v1::FeatureColumn* age = Supply(&supplied, "customers", "age");
  for (float v : {1.0f, std::nanf(""), 2.0f}) {
    age->mutable_values()->mutable_float_values()->add_values(v);
  }
  plan = PlanEntityRows(signature, Keys({"c1", "c2", "c3"}), supplied);
  REQUIRE(plan.ok());
  v1::LookupOnlineResponse answer = Answer();
  answer.mutable_columns()->DeleteSubrange(0, 1);
  rows = AssembleEntityRows(signature, *plan, answer, supplied);
  CHECK(rows.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(rows.status().message()), Contains("customers:age has no value at row 1"));
}

TEST_CASE("Inputs entity rows cannot feed are FAILED_PRECONDITION") {
  v1::ModelSignature int_input;
  AddStoreInput(&int_input, "tenure", v1::FEATURE_TYPE_INT64, "INT64");
  auto plan = PlanEntityRows(int_input, Keys({"c1"}), SuppliedFeatures());
  CHECK(plan.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(plan.status().message()), Contains("input 'customers:tenure' is INT64"));

  v1::ModelSignature variable;
  AddStoreInput(&variable, "embedding", v1::FEATURE_TYPE_FLOAT_VECTOR, "FP32", -1);
  plan = PlanEntityRows(variable, Keys({"c1"}), SuppliedFeatures());
  CHECK(plan.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(plan.status().message()), Contains("variable dimension 1"));
}

TEST_CASE("An answer that does not match the lookup is INTERNAL") {
  const v1::ModelSignature signature = Signature();
  const SuppliedFeatures supplied = Channel(3);
  auto plan = PlanEntityRows(signature, Keys({"c1", "c2", "c3"}), supplied);
  REQUIRE(plan.ok());
  v1::LookupOnlineResponse answer = Answer();
  answer.mutable_columns(3)->mutable_statuses()->RemoveLast();
  auto rows = AssembleEntityRows(signature, *plan, answer, supplied);
  CHECK(rows.status().code() == absl::StatusCode::kInternal);
  CHECK_THAT(std::string(rows.status().message()), Contains("customers:vip"));
}

TEST_CASE("The values fed to the model read back per row, missing ones as null") {
  const v1::ModelSignature signature = Signature();
  const SuppliedFeatures supplied = Channel(3);
  auto plan = PlanEntityRows(signature, Keys({"c1", "c2", "c3"}), supplied);
  REQUIRE(plan.ok());
  auto rows = AssembleEntityRows(signature, *plan, Answer(), supplied);
  REQUIRE(rows.ok());
  const std::vector<v1::Value> first = FedValues(rows->inputs, 0);
  REQUIRE(first.size() == 7);
  CHECK(first[0].float_value() == 31.0f);
  CHECK(first[3].float_value() == 1.0f);
  REQUIRE(first[4].has_float_vector_value());
  CHECK(first[4].float_vector_value().values_size() == 2);
  CHECK(first[5].string_value().empty());
  CHECK(first[6].string_value() == "web");
  const std::vector<v1::Value> second = FedValues(rows->inputs, 1);
  CHECK(second[0].kind_case() == v1::Value::KIND_NOT_SET);
  CHECK(second[5].string_value() == "Lyon");
  const std::vector<v1::Value> third = FedValues(rows->inputs, 2);
  CHECK(third[4].kind_case() == v1::Value::KIND_NOT_SET);
}

}  // namespace
}  // namespace fabrique::serving
