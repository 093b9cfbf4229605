#ifndef FABRIQUE_TESTS_MONITORING_DRIFT_SAMPLES_H_
#define FABRIQUE_TESTS_MONITORING_DRIFT_SAMPLES_H_

// Columns the drift tests draw: normal samples fixed by their seed, and repeated patterns
// (columns with few distinct values).

#include <cstdint>
#include <random>
#include <vector>

namespace fabrique::monitoring {

inline std::vector<double> Normal(int n, double mean, uint64_t seed, double stddev = 1.0) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(mean, stddev);
  std::vector<double> values(n);
  for (double& value : values) value = normal(engine);
  return values;
}

inline std::vector<double> Repeat(std::vector<double> pattern, int n) {
  std::vector<double> values;
  for (int i = 0; i < n; ++i) values.push_back(pattern[i % pattern.size()]);
  return values;
}

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_TESTS_MONITORING_DRIFT_SAMPLES_H_
