#include "libs/training/evaluation.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace fabrique::training {
namespace {

// Log loss clips probabilities, so a confident mistake costs a large finite amount.
constexpr double kEpsilon = 1e-15;

v1::Metric MakeMetric(const std::string& name, double value, double baseline, bool higher_is_better,
                      const std::string& split) {
  v1::Metric metric;
  metric.set_name(name);
  metric.set_value(value);
  metric.mutable_baseline()->set_value(baseline);
  metric.set_higher_is_better(higher_is_better);
  metric.set_split(split);
  return metric;
}

double Clip(double p) { return std::min(1.0 - kEpsilon, std::max(kEpsilon, p)); }

double BinaryLogLoss(absl::Span<const double> p, absl::Span<const int64_t> labels) {
  if (labels.empty()) return 0;
  double sum = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    sum -= labels[i] == 1 ? std::log(Clip(p[i])) : std::log(1 - Clip(p[i]));
  }
  return sum / static_cast<double>(labels.size());
}

struct Confusion {
  double accuracy = 0, precision = 0, recall = 0;
};

Confusion BinaryConfusion(absl::Span<const double> p, absl::Span<const int64_t> labels) {
  int64_t tp = 0, fp = 0, fn = 0, correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool predicted = p[i] >= 0.5;
    const bool actual = labels[i] == 1;
    correct += predicted == actual;
    tp += predicted && actual;
    fp += predicted && !actual;
    fn += !predicted && actual;
  }
  Confusion c;
  if (!labels.empty()) c.accuracy = static_cast<double>(correct) / labels.size();
  c.precision = tp + fp > 0 ? static_cast<double>(tp) / (tp + fp) : 0;
  c.recall = tp + fn > 0 ? static_cast<double>(tp) / (tp + fn) : 0;
  return c;
}

}  // namespace

double AucRoc(absl::Span<const double> p, absl::Span<const int64_t> labels) {
  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  // Mann-Whitney U: the sum of the positives' ranks, tied scores sharing their mean rank.
  double positive_rank_sum = 0;
  int64_t positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && p[order[j]] == p[order[i]]) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]] == 1) {
        positive_rank_sum += mean_rank;
        ++positives;
      }
    }
    i = j;
  }
  const int64_t negatives = static_cast<int64_t>(labels.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  const double u = positive_rank_sum - static_cast<double>(positives) * (positives + 1) / 2;
  return u / (static_cast<double>(positives) * static_cast<double>(negatives));
}

double ExpectedCalibrationError(absl::Span<const double> p, absl::Span<const int64_t> labels,
                                int bins) {
  if (labels.empty()) return 0;
  std::vector<double> confidence(bins, 0), observed(bins, 0);
  std::vector<int64_t> count(bins, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    const int bin = std::min(bins - 1, static_cast<int>(p[i] * bins));
    confidence[bin] += p[i];
    observed[bin] += labels[i] == 1;
    ++count[bin];
  }
  double ece = 0;
  for (int b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    ece += std::abs(confidence[b] - observed[b]) / static_cast<double>(labels.size());
  }
  return ece;
}

std::vector<v1::Metric> BinaryMetrics(absl::Span<const double> p, absl::Span<const int64_t> labels,
                                      double rate, const std::string& split) {
  const std::vector<double> constant(labels.size(), rate);
  const Confusion model = BinaryConfusion(p, labels);
  // The majority-class baseline predicts one class for everyone.
  const std::vector<double> majority(labels.size(), rate >= 0.5 ? 1.0 : 0.0);
  const Confusion base = BinaryConfusion(majority, labels);
  return {
      MakeMetric("auc", AucRoc(p, labels), 0.5, true, split),
      MakeMetric("log_loss", BinaryLogLoss(p, labels), BinaryLogLoss(constant, labels), false,
                 split),
      MakeMetric("accuracy", model.accuracy, base.accuracy, true, split),
      MakeMetric("precision", model.precision, base.precision, true, split),
      MakeMetric("recall", model.recall, base.recall, true, split),
      MakeMetric("ece", ExpectedCalibrationError(p, labels),
                 ExpectedCalibrationError(constant, labels), false, split),
  };
}

std::vector<v1::Metric> MulticlassMetrics(absl::Span<const double> probabilities, int classes,
                                          absl::Span<const int64_t> labels,
                                          absl::Span<const double> prior,
                                          const std::string& split) {
  const size_t n = labels.size();
  const auto score = [&](const std::function<double(size_t, int)>& prob, double* accuracy,
                         double* macro_f1, double* log_loss) {
    std::vector<int64_t> tp(classes, 0), fp(classes, 0), fn(classes, 0);
    int64_t correct = 0;
    double loss = 0;
    for (size_t i = 0; i < n; ++i) {
      int best = 0;
      for (int c = 1; c < classes; ++c) {
        if (prob(i, c) > prob(i, best)) best = c;
      }
      const int actual = static_cast<int>(labels[i]);
      correct += best == actual;
      if (best == actual) {
        ++tp[actual];
      } else {
        ++fp[best];
        ++fn[actual];
      }
      loss -= std::log(Clip(prob(i, actual)));
    }
    double f1_sum = 0;
    int present = 0;
    for (int c = 0; c < classes; ++c) {
      if (tp[c] + fn[c] == 0 && fp[c] == 0) continue;  // A class neither seen nor predicted.
      ++present;
      const double denominator = 2.0 * tp[c] + fp[c] + fn[c];
      f1_sum += denominator > 0 ? 2.0 * tp[c] / denominator : 0;
    }
    *accuracy = n > 0 ? static_cast<double>(correct) / n : 0;
    *macro_f1 = present > 0 ? f1_sum / present : 0;
    *log_loss = n > 0 ? loss / n : 0;
  };
  double accuracy, macro_f1, log_loss, base_accuracy, base_f1, base_loss;
  score([&](size_t i, int c) { return probabilities[i * classes + c]; }, &accuracy, &macro_f1,
        &log_loss);
  score([&](size_t, int c) { return prior[c]; }, &base_accuracy, &base_f1, &base_loss);
  return {
      MakeMetric("accuracy", accuracy, base_accuracy, true, split),
      MakeMetric("macro_f1", macro_f1, base_f1, true, split),
      MakeMetric("log_loss", log_loss, base_loss, false, split),
  };
}

std::vector<v1::Metric> RegressionMetrics(absl::Span<const double> predictions,
                                          absl::Span<const double> targets, double mean,
                                          const std::string& split) {
  const size_t n = targets.size();
  double se = 0, ae = 0, base_se = 0, base_ae = 0, target_mean = 0;
  for (size_t i = 0; i < n; ++i) target_mean += targets[i] / static_cast<double>(n);
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    se += (predictions[i] - targets[i]) * (predictions[i] - targets[i]);
    ae += std::abs(predictions[i] - targets[i]);
    base_se += (mean - targets[i]) * (mean - targets[i]);
    base_ae += std::abs(mean - targets[i]);
    total += (targets[i] - target_mean) * (targets[i] - target_mean);
  }
  const double count = n > 0 ? static_cast<double>(n) : 1;
  const auto r2 = [total](double residual) { return total > 0 ? 1 - residual / total : 0; };
  return {
      MakeMetric("rmse", std::sqrt(se / count), std::sqrt(base_se / count), false, split),
      MakeMetric("mae", ae / count, base_ae / count, false, split),
      MakeMetric("r2", r2(se), r2(base_se), true, split),
  };
}

std::string PrimaryMetric(v1::Task task) {
  switch (task) {
    case v1::TASK_MULTICLASS_CLASSIFICATION:
      return "accuracy";
    case v1::TASK_REGRESSION:
      return "rmse";
    default:
      return "auc";
  }
}

const v1::Metric* FindMetric(const std::vector<v1::Metric>& metrics, const std::string& name) {
  for (const v1::Metric& metric : metrics) {
    if (metric.name() == name) return &metric;
  }
  return nullptr;
}

}  // namespace fabrique::training
