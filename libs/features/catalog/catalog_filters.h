#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_FILTERS_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_FILTERS_H_

// The filters of the catalog's List calls: tag filters ("key" = has the tag, "key=value" = has
// it with that value; all must match) and the case-insensitive text query of catalog search.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace fabrique::features {

using Tags = google::protobuf::Map<std::string, std::string>;

class TagFilter {
 public:
  // Parses filters written "key" or "key=value". INVALID_ARGUMENT for an empty filter or key.
  static absl::StatusOr<TagFilter> Parse(
      const google::protobuf::RepeatedPtrField<std::string>& filters);

  // True when every filter matches `tags`.
  bool Matches(const Tags& tags) const;
  // True when every filter matches `own` or, where `own` lacks the key, `inherited` (a
  // feature's tags, falling back to its group's).
  bool Matches(const Tags& own, const Tags& inherited) const;

 private:
  struct Term {
    std::string key;
    bool any_value;  // "key" alone.
    std::string value;
  };
  std::vector<Term> terms_;
};

// A case-insensitive (ASCII) substring query; the empty query matches everything.
class TextQuery {
 public:
  explicit TextQuery(absl::string_view query);
  bool empty() const { return lowered_.empty(); }
  // True when the query occurs in `text`, ignoring ASCII case.
  bool FoundIn(absl::string_view text) const;

 private:
  std::string lowered_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_FILTERS_H_
