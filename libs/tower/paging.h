#ifndef FABRIQUE_LIBS_TOWER_PAGING_H_
#define FABRIQUE_LIBS_TOWER_PAGING_H_

// Page sizes and page tokens of the tower's lists. A token is the last key of the previous page
// behind a mark naming its list, web-safe base64 and opaque to callers: a list resumes exactly
// where it stopped even while entries are added, and another list's token is refused rather
// than misread.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::tower {

inline constexpr int32_t kDefaultPageSize = 50;
inline constexpr int32_t kMaxPageSize = 500;

// The page size `requested` means: 0 = the default, at most kMaxPageSize; INVALID_ARGUMENT when
// negative.
absl::StatusOr<int32_t> PageSize(int32_t requested);

// The token resuming after `last_key` in the list marked `mark` (e.g. "ap1:").
std::string EncodePageToken(absl::string_view mark, absl::string_view last_key);
// The key `token` resumes after ("" for no token); INVALID_ARGUMENT naming `list` when the
// token is not one of that list's.
absl::StatusOr<std::string> DecodePageToken(absl::string_view mark, absl::string_view token,
                                            absl::string_view list);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PAGING_H_
