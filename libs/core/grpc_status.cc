#include "libs/core/grpc_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace fabrique::core {
namespace {

constexpr absl::string_view kTruncatedMarker = "...[truncated]";

// Cuts `message` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string Truncate(absl::string_view message, size_t limit) {
  if (message.size() <= limit) return std::string(message);
  size_t cut = limit - kTruncatedMarker.size();
  // Step back over UTF-8 continuation bytes (10xxxxxx) so the cut lands on a character start.
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(message.substr(0, cut), kTruncatedMarker);
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode both follow google.rpc.Code: same numbers, 0..16.
  const int code = static_cast<int>(status.code());
  const auto grpc_code =
      (code >= 0 && code <= 16) ? static_cast<grpc::StatusCode>(code) : grpc::StatusCode::UNKNOWN;
  return grpc::Status(grpc_code, Truncate(status.message(), kMaxGrpcStatusMessageBytes));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const int code = static_cast<int>(status.error_code());
  const auto absl_code =
      (code >= 0 && code <= 16) ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown;
  return absl::Status(absl_code, status.error_message());
}

}  // namespace fabrique::core
