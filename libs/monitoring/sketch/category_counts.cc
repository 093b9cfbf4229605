#include "libs/monitoring/sketch/category_counts.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fabrique::monitoring {

CategoryCounts::CategoryCounts(Options options)
    : max_categories_(std::max(1, options.max_categories)) {}

void CategoryCounts::Add(absl::string_view value, int64_t times) {
  if (times <= 0) return;
  total_ += times;
  auto it = counts_.find(value);
  if (it != counts_.end()) {
    it->second += times;
  } else if (static_cast<int>(counts_.size()) < max_categories_) {
    counts_.emplace(std::string(value), times);
  } else {
    other_count_ += times;
  }
}

void CategoryCounts::Merge(const CategoryCounts& other) {
  if (&other == this) {  // Counts would be read while they are added to.
    const CategoryCounts copy = other;
    return Merge(copy);
  }
  // The other's categories in its order of frequency, so that the most frequent get the slots
  // left under the cap.
  for (const auto& [value, count] : other.Sorted()) Add(value, count);
  other_count_ += other.other_count_;
  total_ += other.other_count_;
}

int64_t CategoryCounts::Count(absl::string_view value) const {
  auto it = counts_.find(value);
  return it == counts_.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, int64_t>> CategoryCounts::Sorted() const {
  std::vector<std::pair<std::string, int64_t>> sorted(counts_.begin(), counts_.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return sorted;
}

v1::CategoricalSummary CategoryCounts::ToProto(int max_listed) const {
  v1::CategoricalSummary summary;
  const std::vector<std::pair<std::string, int64_t>> sorted = Sorted();
  const size_t listed =
      max_listed < 0 ? sorted.size() : std::min(sorted.size(), static_cast<size_t>(max_listed));
  int64_t other = total_;
  for (size_t i = 0; i < listed; ++i) {
    v1::CategoryFrequency* category = summary.add_categories();
    category->set_value(sorted[i].first);
    category->set_count(sorted[i].second);
    category->set_fraction(total_ > 0 ? static_cast<double>(sorted[i].second) / total_ : 0);
    other -= sorted[i].second;
  }
  summary.set_other_count(other);
  summary.set_other_fraction(total_ > 0 ? static_cast<double>(other) / total_ : 0);
  summary.set_distinct_count(static_cast<int64_t>(sorted.size()) + (other_count_ > 0 ? 1 : 0));
  return summary;
}

absl::StatusOr<CategoryCounts> CategoryCounts::FromProto(const v1::CategoricalSummary& summary,
                                                         Options options) {
  CategoryCounts counts(options);
  int64_t listed = 0;
  for (const v1::CategoryFrequency& category : summary.categories()) {
    if (category.count() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("category '", category.value(), "' has a negative count"));
    }
    if (counts.counts_.contains(category.value())) {
      return absl::InvalidArgumentError(
          absl::StrCat("category '", category.value(), "' is listed twice"));
    }
    counts.Add(category.value(), category.count());
    listed += category.count();
  }
  int64_t other = summary.other_count();
  if (other < 0) return absl::InvalidArgumentError("negative other count");
  if (other == 0 && summary.other_fraction() > 0 && summary.other_fraction() < 1 && listed > 0) {
    // Listed counts are (1 - f) of all values.
    other = std::llround(static_cast<double>(listed) * summary.other_fraction() /
                         (1 - summary.other_fraction()));
  }
  counts.other_count_ += other;
  counts.total_ += other;
  return counts;
}

}  // namespace fabrique::monitoring
