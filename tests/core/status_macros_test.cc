#include "libs/core/status_macros.h"

#include <memory>
#include <string>

#include "catch2/catch.hpp"

namespace fabrique::core {
namespace {

absl::StatusOr<int> Half(int value) {
  if (value % 2 != 0) return absl::InvalidArgumentError("odd");
  return value / 2;
}

absl::Status CheckEven(int value) {
  RETURN_IF_ERROR(Half(value));
  return absl::OkStatus();
}

absl::StatusOr<int> Quarter(int value) {
  ASSIGN_OR_RETURN(int half, Half(value));
  ASSIGN_OR_RETURN(half, Half(half));  // Assigns to an existing variable.
  return half;
}

absl::StatusOr<std::unique_ptr<int>> MakeBox(bool ok) {
  if (!ok) return absl::NotFoundError("no box");
  return std::make_unique<int>(7);
}

absl::StatusOr<int> Unbox(bool ok) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> box, MakeBox(ok));  // Move-only values work.
  return *box;
}

int calls = 0;
absl::Status CountedFailure() {
  ++calls;
  return absl::AbortedError("counted");
}

absl::Status CallOnce() {
  RETURN_IF_ERROR(CountedFailure());
  return absl::OkStatus();
}

TEST_CASE("RETURN_IF_ERROR passes OK through and returns the first error") {
  CHECK(CheckEven(4).ok());
  CHECK(CheckEven(3).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("RETURN_IF_ERROR evaluates its argument exactly once") {
  calls = 0;
  CHECK(CallOnce().code() == absl::StatusCode::kAborted);
  CHECK(calls == 1);
}

TEST_CASE("ASSIGN_OR_RETURN declares, assigns and propagates") {
  CHECK(*Quarter(8) == 2);
  CHECK(Quarter(6).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(*Unbox(true) == 7);
  CHECK(Unbox(false).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("WithContext keeps the code and prefixes the message") {
  const absl::Status status = WithContext(absl::NotFoundError("no such key"), "reading schema");
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(status.message() == "reading schema: no such key");
  CHECK(WithContext(absl::OkStatus(), "anything").ok());
}

}  // namespace
}  // namespace fabrique::core
