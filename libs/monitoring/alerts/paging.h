#ifndef FABRIQUE_LIBS_MONITORING_ALERTS_PAGING_H_
#define FABRIQUE_LIBS_MONITORING_ALERTS_PAGING_H_

// Page sizes and tokens of the policy and alert lists: a token is the last key of the previous
// page, opaque to callers (web-safe base64), so a list resumes exactly where it stopped even
// while entries are added.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::monitoring {

inline constexpr int32_t kDefaultPageSize = 50;
inline constexpr int32_t kMaxPageSize = 500;

// The page size `requested` means: 0 = the default, at most kMaxPageSize; INVALID_ARGUMENT when
// negative.
absl::StatusOr<int32_t> PageSize(int32_t requested);

std::string EncodePageToken(absl::string_view last_key);
// The last key a token carries ("" for no token); INVALID_ARGUMENT when it is not one of ours.
absl::StatusOr<std::string> DecodePageToken(absl::string_view token);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_ALERTS_PAGING_H_
