#include "libs/serving/tensor_batch.h"

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/serving/tensor_test_util.h"

namespace fabrique::serving {
namespace {

using testing::CheckSameBatch;
using testing::kAllTypes;

// A tensor of `type` with `rows` rows of two elements; element e of row r is first + 2r + e
// (BOOL: its parity, BYTES: its decimal text), so every row is told apart from every other.
Tensor Rows(DataType type, int64_t rows, int first) {
  Tensor tensor;
  tensor.name = std::string(DataTypeName(type));
  tensor.type = type;
  tensor.shape = {rows, 2};
  for (int v = first; v < first + rows * 2; ++v) {
    switch (type) {
      case DataType::kBool:
        tensor.boolean.push_back(v % 2);
        break;
      case DataType::kInt32:
        tensor.int32.push_back(v);
        break;
      case DataType::kInt64:
        tensor.int64.push_back(int64_t{v} << 40);
        break;
      case DataType::kFp32:
        tensor.fp32.push_back(v + 0.5f);
        break;
      case DataType::kFp64:
        tensor.fp64.push_back(v + 0.25);
        break;
      case DataType::kBytes:
        tensor.bytes.push_back(std::to_string(v));
        break;
    }
  }
  return tensor;
}

// One tensor of every type, `rows` rows each.
TensorBatch AllTypes(int64_t rows, int first) {
  TensorBatch batch;
  batch.rows = rows;
  for (DataType type : kAllTypes) batch.tensors.push_back(Rows(type, rows, first));
  return batch;
}

TEST_CASE("Data type names round-trip, and an unserved one is refused by name") {
  for (DataType type : kAllTypes) {
    absl::StatusOr<DataType> parsed = ParseDataType(DataTypeName(type));
    REQUIRE(parsed.ok());
    CHECK(*parsed == type);
  }
  CHECK(DataTypeName(DataType::kFp32) == "FP32");
  CHECK(DataTypeName(DataType::kBytes) == "BYTES");
  absl::StatusOr<DataType> unknown = ParseDataType("UINT8");
  REQUIRE(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(unknown.status().message()), Catch::Contains("'UINT8'"));
  CHECK(ParseDataType("fp32").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A tensor counts its rows and elements") {
  Tensor tensor = Rows(DataType::kFp64, 3, 0);
  tensor.shape = {3, 2, 1};
  CHECK(tensor.rows() == 3);
  CHECK(tensor.ElementsPerRow() == 2);
  CHECK(tensor.ElementCount() == 6);
  Tensor vector;
  vector.type = DataType::kInt32;
  vector.shape = {4};
  vector.int32 = {1, 2, 3, 4};
  CHECK(vector.ElementsPerRow() == 1);
  CHECK(vector.ElementCount() == 4);
  CHECK(Tensor{}.rows() == 0);
}

TEST_CASE("ConcatRows joins the rows of every type in order, and SliceRows takes them back") {
  const TensorBatch first = AllTypes(2, 0);
  const TensorBatch second = AllTypes(1, 4);
  const TensorBatch third = AllTypes(3, 6);
  absl::StatusOr<TensorBatch> joined = ConcatRows({&first, &second, &third});
  REQUIRE(joined.ok());
  CheckSameBatch(*joined, AllTypes(6, 0));

  absl::StatusOr<TensorBatch> back = SliceRows(*joined, 2, 1);
  REQUIRE(back.ok());
  CheckSameBatch(*back, second);
  back = SliceRows(*joined, 3, 3);
  REQUIRE(back.ok());
  CheckSameBatch(*back, third);
  back = SliceRows(*joined, 0, 6);
  REQUIRE(back.ok());
  CheckSameBatch(*back, *joined);
}

TEST_CASE("ConcatRows of nothing is an empty batch, and SliceRows of no rows keeps the tensors") {
  absl::StatusOr<TensorBatch> none = ConcatRows({});
  REQUIRE(none.ok());
  CHECK(none->rows == 0);
  CHECK(none->tensors.empty());

  absl::StatusOr<TensorBatch> empty = SliceRows(AllTypes(2, 0), 1, 0);
  REQUIRE(empty.ok());
  CHECK(empty->rows == 0);
  REQUIRE(empty->tensors.size() == 6);
  for (const Tensor& tensor : empty->tensors) {
    CHECK(tensor.shape == std::vector<int64_t>{0, 2});
    CHECK(tensor.ElementCount() == 0);
  }
}

TEST_CASE("ConcatRows refuses batches that are not of one signature, naming the tensor") {
  const TensorBatch base = AllTypes(1, 0);

  TensorBatch fewer = AllTypes(1, 2);
  fewer.tensors.pop_back();
  absl::StatusOr<TensorBatch> joined = ConcatRows({&base, &fewer});
  REQUIRE(joined.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(joined.status().message()), Catch::Contains("5 tensors"));

  TensorBatch renamed = AllTypes(1, 2);
  renamed.tensors[1].name = "age";
  joined = ConcatRows({&base, &renamed});
  REQUIRE(joined.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(joined.status().message()), Catch::Contains("'age'"));

  TensorBatch retyped = AllTypes(1, 2);
  retyped.tensors[3] = Rows(DataType::kFp64, 1, 2);
  retyped.tensors[3].name = "FP32";
  joined = ConcatRows({&base, &retyped});
  REQUIRE(joined.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(joined.status().message()), Catch::Contains("'FP32' (FP64)"));

  TensorBatch reshaped = AllTypes(1, 2);
  reshaped.tensors[2].shape = {2, 1};
  joined = ConcatRows({&base, &reshaped});
  REQUIRE(joined.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(joined.status().message()), Catch::Contains("'INT64'"));
}

TEST_CASE("SliceRows refuses a range outside the batch with OUT_OF_RANGE naming it") {
  const TensorBatch batch = AllTypes(3, 0);
  absl::StatusOr<TensorBatch> slice = SliceRows(batch, 2, 2);
  REQUIRE(slice.status().code() == absl::StatusCode::kOutOfRange);
  CHECK_THAT(std::string(slice.status().message()), Catch::Contains("[2, 4)"));
  CHECK_THAT(std::string(slice.status().message()), Catch::Contains("of 3"));
  CHECK(SliceRows(batch, -1, 1).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(SliceRows(batch, 0, -1).status().code() == absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace fabrique::serving
