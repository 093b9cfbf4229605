#include "libs/training/tabular_data.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace fabrique::training {

absl::Status RawTable::Validate() const {
  for (const RawColumn& column : columns) {
    const size_t expected =
        static_cast<size_t>(rows) * (column.categorical ? 1 : static_cast<size_t>(column.width));
    const size_t have = column.categorical ? column.strings.size() : column.numeric.size();
    if (column.width < 1 || have != expected ||
        (column.categorical && !column.missing.empty() &&
         column.missing.size() != static_cast<size_t>(rows))) {
      return absl::InvalidArgumentError(absl::StrCat("feature '", column.name, "' holds ", have,
                                                     " values for ", rows, " rows of width ",
                                                     column.width));
    }
  }
  return absl::OkStatus();
}

RawTable RawTable::Take(const std::vector<int64_t>& indices) const {
  RawTable out;
  out.rows = static_cast<int64_t>(indices.size());
  for (const RawColumn& column : columns) {
    RawColumn& taken = out.columns.emplace_back();
    taken.name = column.name;
    taken.categorical = column.categorical;
    taken.width = column.width;
    if (column.categorical) {
      taken.strings.reserve(indices.size());
      for (int64_t i : indices) taken.strings.push_back(column.strings[i]);
      if (!column.missing.empty()) {
        for (int64_t i : indices) taken.missing.push_back(column.missing[i]);
      }
    } else {
      taken.numeric.reserve(indices.size() * column.width);
      for (int64_t i : indices) {
        const float* row = column.numeric.data() + i * column.width;
        taken.numeric.insert(taken.numeric.end(), row, row + column.width);
      }
    }
  }
  return out;
}

int Preprocessing::NumericWidth() const {
  int width = 0;
  for (const Numeric& n : numeric) width += n.width;
  return width;
}

int Preprocessing::EncodedWidth() const {
  int width = NumericWidth();
  for (const Numeric& n : numeric) width += n.missing_indicator ? n.width : 0;
  for (const Categorical& c : categorical) width += static_cast<int>(c.vocabulary.size()) + 1;
  return width;
}

Preprocessing FitPreprocessing(const RawTable& train, int max_vocabulary) {
  Preprocessing out;
  for (const RawColumn& column : train.columns) {
    if (column.categorical) {
      absl::flat_hash_map<std::string, int64_t> counts;
      for (int64_t i = 0; i < train.rows; ++i) {
        if ((!column.missing.empty() && column.missing[i]) || column.strings[i].empty()) continue;
        ++counts[column.strings[i]];
      }
      std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
      std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      if (static_cast<int>(sorted.size()) > max_vocabulary) sorted.resize(max_vocabulary);
      Preprocessing::Categorical& c = out.categorical.emplace_back();
      c.name = column.name;
      for (auto& [value, count] : sorted) c.vocabulary.push_back(value);
      continue;
    }
    Preprocessing::Numeric& n = out.numeric.emplace_back();
    n.name = column.name;
    n.width = column.width;
    n.mean.assign(column.width, 0);
    n.stddev.assign(column.width, 1);
    std::vector<double> sum(column.width, 0), sum_sq(column.width, 0);
    std::vector<int64_t> count(column.width, 0);
    for (int64_t i = 0; i < train.rows; ++i) {
      for (int k = 0; k < column.width; ++k) {
        const float v = column.numeric[i * column.width + k];
        if (std::isnan(v)) {
          n.missing_indicator = true;
          continue;
        }
        sum[k] += v;
        sum_sq[k] += static_cast<double>(v) * v;
        ++count[k];
      }
    }
    for (int k = 0; k < column.width; ++k) {
      if (count[k] == 0) continue;
      const double mean = sum[k] / count[k];
      const double variance = std::max(0.0, sum_sq[k] / count[k] - mean * mean);
      n.mean[k] = static_cast<float>(mean);
      // A constant input stays 0 after centring rather than dividing by zero.
      n.stddev[k] = variance > 1e-12 ? static_cast<float>(std::sqrt(variance)) : 1.0f;
    }
  }
  return out;
}

std::vector<float> Encode(const Preprocessing& p, const RawTable& table) {
  const int width = p.EncodedWidth();
  std::vector<float> out(static_cast<size_t>(table.rows) * width, 0.0f);
  int numeric_index = 0, categorical_index = 0;
  int offset = 0;
  // Layout: every numeric value, then every missing indicator, then every one-hot block.
  int indicator_offset = p.NumericWidth();
  int onehot_offset = indicator_offset;
  for (const Preprocessing::Numeric& n : p.numeric) {
    onehot_offset += n.missing_indicator ? n.width : 0;
  }
  for (const RawColumn& column : table.columns) {
    if (column.categorical) {
      const Preprocessing::Categorical& c = p.categorical[categorical_index++];
      absl::flat_hash_map<std::string, int> index;
      for (size_t v = 0; v < c.vocabulary.size(); ++v) {
        index[c.vocabulary[v]] = static_cast<int>(v) + 1;
      }
      for (int64_t i = 0; i < table.rows; ++i) {
        int code = 0;
        if ((column.missing.empty() || !column.missing[i]) && !column.strings[i].empty()) {
          const auto found = index.find(column.strings[i]);
          if (found != index.end()) code = found->second;
        }
        out[i * width + onehot_offset + code] = 1.0f;
      }
      onehot_offset += static_cast<int>(c.vocabulary.size()) + 1;
      continue;
    }
    const Preprocessing::Numeric& n = p.numeric[numeric_index++];
    for (int64_t i = 0; i < table.rows; ++i) {
      for (int k = 0; k < n.width; ++k) {
        const float v = column.numeric[i * n.width + k];
        const bool missing = std::isnan(v);
        out[i * width + offset + k] = missing ? 0.0f : (v - n.mean[k]) / n.stddev[k];
        if (n.missing_indicator) {
          out[i * width + indicator_offset + k] = missing ? 1.0f : 0.0f;
        }
      }
    }
    offset += n.width;
    if (n.missing_indicator) indicator_offset += n.width;
  }
  return out;
}

}  // namespace fabrique::training
