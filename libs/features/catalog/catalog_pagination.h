#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_PAGINATION_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_PAGINATION_H_

// Page sizes and page tokens of the catalog's List calls. A token is opaque to clients: web-safe
// base64 of a format byte, the kind of list it belongs to, and a cursor (the position of the last
// item returned, encoded with kv::KeyBuilder). The next page starts after the cursor, so a token
// stays meaningful while definitions are added between pages (new items after the cursor show
// up, none is returned twice). A token from another list, or a mangled one, is INVALID_ARGUMENT.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::features {

// Items per page when the request says 0.
inline constexpr int32_t kDefaultPageSize = 100;
// Largest page served; larger requests are capped to it.
inline constexpr int32_t kMaxPageSize = 1000;

// Which list a token belongs to.
enum class PageKind : uint8_t {
  kEntities = 1,
  kFeatureGroups = 2,
  kFeatures = 3,
};

// The page size to serve for `requested`: kDefaultPageSize for 0, at most kMaxPageSize.
// INVALID_ARGUMENT when negative.
absl::StatusOr<int32_t> ResolvePageSize(int32_t requested);

// Returns the token that resumes a `kind` list after `cursor`.
std::string EncodePageToken(PageKind kind, absl::string_view cursor);

// Returns the cursor in `token`, or "" for the empty token (the first page). INVALID_ARGUMENT
// when the token is not one EncodePageToken made for `kind`.
absl::StatusOr<std::string> DecodePageToken(PageKind kind, absl::string_view token);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_PAGINATION_H_
