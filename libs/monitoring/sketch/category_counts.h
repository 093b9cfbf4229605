#ifndef FABRIQUE_LIBS_MONITORING_SKETCH_CATEGORY_COUNTS_H_
#define FABRIQUE_LIBS_MONITORING_SKETCH_CATEGORY_COUNTS_H_

// Exact counts of a categorical quantity (strings, booleans, class labels), mergeable, in
// bounded memory: at most `max_categories` distinct values are tracked. Once that many are
// tracked, values not yet seen are counted in one "other" bucket, exactly but without their
// names; so every count is exact, and the names kept are the first ones seen (in a merge, this
// sketch's before the other's). Missing values are the caller's to count.
//
// Its persisted form is the profile's CategoricalSummary: every tracked category with its count,
// most frequent first, and the other bucket's count.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"

namespace fabrique::monitoring {

class CategoryCounts {
 public:
  struct Options {
    // Distinct values tracked by name, at least 1. Default 1,000.
    int max_categories = 1000;
  };

  explicit CategoryCounts(Options options);
  CategoryCounts() : CategoryCounts(Options{}) {}

  // Counts `value` `times` times (times >= 0).
  void Add(absl::string_view value, int64_t times = 1);
  // Adds every count of `other`; its categories beyond this one's cap go to "other".
  void Merge(const CategoryCounts& other);

  int64_t total() const { return total_; }       // Values counted, other bucket included.
  int64_t Count(absl::string_view value) const;  // 0 for values not tracked.
  int64_t other_count() const { return other_count_; }
  int tracked() const { return static_cast<int>(counts_.size()); }
  int max_categories() const { return max_categories_; }
  // Tracked categories, most frequent first (ties by value).
  std::vector<std::pair<std::string, int64_t>> Sorted() const;

  // The summary listing at most `max_listed` categories (< 0: all tracked); the rest are
  // folded into other_count, so counts stay exact.
  v1::CategoricalSummary ToProto(int max_listed = -1) const;
  // Reads a summary; one made before exact counts (other_count 0, other_fraction > 0) gets its
  // other count back from the fraction. INVALID_ARGUMENT for negative or duplicate counts.
  static absl::StatusOr<CategoryCounts> FromProto(const v1::CategoricalSummary& summary,
                                                  Options options);

 private:
  int max_categories_;
  absl::flat_hash_map<std::string, int64_t> counts_;
  int64_t other_count_ = 0;
  int64_t total_ = 0;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_SKETCH_CATEGORY_COUNTS_H_
