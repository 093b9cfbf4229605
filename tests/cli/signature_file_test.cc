// The signature file of `fabrique models register`: a good one read whole, and every mistake
// inference could not serve refused as INVALID_ARGUMENT naming the file and the field.

#include "tools/cli/signature_file.h"

#include <fstream>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/util/test_util.h"

namespace fabrique::cli {
namespace {

constexpr char kGood[] = R"({
  "inputs": [{"name": "amount", "datatype": "FP32", "shape": [-1, 1], "nan_allowed": true},
             {"name": "country", "datatype": "BYTES", "shape": [-1, 1]}],
  "outputs": [{"name": "probability", "datatype": "FP32", "shape": [-1, 2]}],
  "class_labels": ["legit", "fraud"]})";

// The message reading `text` as a signature file fails with; "" when it reads.
std::string Refusal(const std::string& text) {
  fabrique::testing::TempDir tmp;
  const std::string path = tmp.Sub("sig.json");
  std::ofstream(path) << text;
  const absl::StatusOr<v1::ModelSignature> read = ReadSignatureFile(path);
  if (read.ok()) return "";
  CHECK(read.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(read.status().message(), path));
  return std::string(read.status().message());
}

std::string With(const std::string& from, const std::string& to) {
  std::string text = kGood;
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

TEST_CASE("a good signature file is read whole") {
  fabrique::testing::TempDir tmp;
  const std::string path = tmp.Sub("sig.json");
  std::ofstream(path) << kGood;
  const absl::StatusOr<v1::ModelSignature> read = ReadSignatureFile(path);
  REQUIRE(read.ok());
  REQUIRE(read->inputs_size() == 2);
  CHECK(read->inputs(0).nan_allowed());
  CHECK(read->inputs(1).datatype() == "BYTES");
  CHECK(read->outputs(0).shape(1) == 2);
  CHECK(read->class_labels(1) == "fraud");
}

TEST_CASE("each mistake is refused naming its field") {
  CHECK(absl::StrContains(Refusal("{\"inputs\": ["), "sig.json"));
  CHECK(absl::StrContains(Refusal(With("\"shape\": [-1, 1], \"nan", "\"shap\": [-1, 1], \"nan")),
                          "shap"));
  CHECK(absl::StrContains(
      Refusal(With("\"FP32\", \"shape\": [-1, 1], \"nan", "\"float\", \"shape\": [-1, 1], \"nan")),
      "inputs[0].datatype: 'float' is not one of"));
  CHECK(absl::StrContains(Refusal(With("\"name\": \"country\"", "\"name\": \"amount\"")),
                          "inputs[1].name: 'amount' is used twice"));
  CHECK(absl::StrContains(Refusal(With("\"name\": \"country\"", "\"name\": \"\"")),
                          "inputs[1].name: is required"));
  CHECK(absl::StrContains(Refusal(With("[-1, 2]", "[-1, 0]")), "outputs[0].shape[1]: 0 is"));
  CHECK(absl::StrContains(Refusal(With("\"shape\": [-1, 2]", "\"shape\": []")),
                          "outputs[0].shape: is required"));
  CHECK(absl::StrContains(Refusal(With("[-1, 2]", "[-1, 2], \"nan_allowed\": true")),
                          "outputs[0].nan_allowed: applies to inputs only"));
  CHECK(absl::StrContains(Refusal(R"({"inputs": [{"name": "a", "datatype": "FP32",
                                      "shape": [-1]}]})"),
                          "outputs: at least one is required"));
  CHECK(absl::StrContains(Refusal(With("\"legit\"", "\"\"")), "class_labels[0]: is empty"));
}

}  // namespace
}  // namespace fabrique::cli
