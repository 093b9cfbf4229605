#include "libs/core/grpc_status.h"

#include <string>
#include <utility>
#include <vector>

#include "catch2/catch.hpp"

namespace fabrique::core {
namespace {

TEST_CASE("every absl code maps to the gRPC code of the same meaning, and back") {
  const std::vector<std::pair<absl::StatusCode, grpc::StatusCode>> codes = {
      {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN},
      {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED},
      {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
      {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
      {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
  };
  REQUIRE(codes.size() == 16);  // Every code but OK.
  for (const auto& [absl_code, grpc_code] : codes) {
    const absl::Status original(absl_code, "what went wrong");
    const grpc::Status mapped = ToGrpcStatus(original);
    CHECK(mapped.error_code() == grpc_code);
    CHECK(mapped.error_message() == "what went wrong");
    const absl::Status back = FromGrpcStatus(mapped);
    CHECK(back.code() == absl_code);
    CHECK(back.message() == "what went wrong");
  }
}

TEST_CASE("OK maps to OK both ways") {
  CHECK(ToGrpcStatus(absl::OkStatus()).ok());
  CHECK(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST_CASE("a code outside the canonical range becomes UNKNOWN") {
  const absl::Status odd(static_cast<absl::StatusCode>(42), "odd");
  CHECK(ToGrpcStatus(odd).error_code() == grpc::StatusCode::UNKNOWN);
  // 20 is outside google.rpc.Code but inside grpc::StatusCode's representable range.
  CHECK(FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(20), "x")).code() ==
        absl::StatusCode::kUnknown);
}

TEST_CASE("long messages are truncated with a marker, short ones are kept whole") {
  const std::string exact(kMaxGrpcStatusMessageBytes, 'a');
  CHECK(ToGrpcStatus(absl::InternalError(exact)).error_message() == exact);

  const std::string long_message(100'000, 'b');
  const std::string cut = ToGrpcStatus(absl::InternalError(long_message)).error_message();
  CHECK(cut.size() <= kMaxGrpcStatusMessageBytes);
  CHECK(cut.substr(cut.size() - 14) == "...[truncated]");
  CHECK(cut.substr(0, 10) == "bbbbbbbbbb");
}

TEST_CASE("truncation never splits a UTF-8 character") {
  // "é" is two bytes; make the limit fall inside one.
  std::string message;
  while (message.size() < kMaxGrpcStatusMessageBytes + 10) message += "\xc3\xa9";
  message = "x" + message;  // Shift by one so the cut lands mid-character.
  const std::string cut = ToGrpcStatus(absl::InternalError(message)).error_message();
  const std::string body = cut.substr(0, cut.size() - 14);
  REQUIRE(body.size() >= 2);
  // The body must end on a whole "é": its last byte is the continuation byte 0xa9 after 0xc3.
  CHECK(static_cast<unsigned char>(body.back()) == 0xa9);
  CHECK(static_cast<unsigned char>(body[body.size() - 2]) == 0xc3);
}

}  // namespace
}  // namespace fabrique::core
