// The Kolmogorov distributions behind the KS p-values (declared in special_functions.h). The
// algorithms and their regime cut-offs are those of Simard and L'Ecuyer (2011), in the form scipy
// 1.10 uses (scipy/stats/_ksstats.py), so that a p-value here equals scipy's to rounding.

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

#include "libs/monitoring/special_functions.h"

namespace fabrique::monitoring {
namespace {

constexpr int kScaleExponent = 128;
const double kScaleUp = std::ldexp(1.0, kScaleExponent);
const double kScaleDown = std::ldexp(1.0, -kScaleExponent);

double ClipProbability(double p) { return std::clamp(p, 0.0, 1.0); }

// Smirnov's sum is summed term by term up to this many terms, or when its peak is this narrow.
constexpr int64_t kMaxDirectSmirnovTerms = 20000;
// Points of the grid that finds the peak of its terms, and of the trapezoid rule over a wide one.
constexpr int kSmirnovGridPoints = 512;
constexpr int kSmirnovTrapezoidPoints = 8192;
// Terms smaller than the largest by this factor's logarithm are left out.
constexpr long double kNegligibleLogTerm = 50;

// A dense square matrix, row-major.
struct Matrix {
  explicit Matrix(int size) : m(size), cells(static_cast<size_t>(size) * size, 0.0) {}
  double& at(int r, int c) { return cells[static_cast<size_t>(r) * m + c]; }
  double at(int r, int c) const { return cells[static_cast<size_t>(r) * m + c]; }
  int m;
  std::vector<double> cells;
};

Matrix Multiply(const Matrix& a, const Matrix& b) {
  Matrix out(a.m);
  for (int r = 0; r < a.m; ++r) {
    for (int k = 0; k < a.m; ++k) {
      const double ark = a.at(r, k);
      if (ark == 0) continue;
      for (int c = 0; c < a.m; ++c) out.at(r, c) += ark * b.at(k, c);
    }
  }
  return out;
}

// P(D_n <= d) by Durbin's matrix, raised to the n-th power by squaring with the exponent kept
// apart (Marsaglia, Tsang and Wang, 2003).
double DurbinMatrixCdf(int64_t n, double d) {
  if (d >= 1.0) return 1.0;
  const double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) return 0.0;
  const int k = static_cast<int>(std::ceil(nd));
  const double h = k - nd;
  const int m = 2 * k - 1;
  std::vector<double> v(m), w(m);
  double factorial_inverse = 1.0;
  for (int j = 1; j <= m; ++j) {
    w[j - 1] = factorial_inverse;
    factorial_inverse /= j;
    v[j - 1] = (1.0 - std::pow(h, j)) * factorial_inverse;
  }
  const double tt = std::pow(std::max(2 * h - 1.0, 0.0), m) - 2 * std::pow(h, m);
  v[m - 1] = (1.0 + tt) * factorial_inverse;
  Matrix hm(m);
  for (int i = 1; i < m; ++i) {
    for (int r = i - 1; r < m; ++r) hm.at(r, i) = w[r - (i - 1)];
  }
  for (int r = 0; r < m; ++r) hm.at(r, 0) = v[r];
  for (int c = 0; c < m; ++c) hm.at(m - 1, c) = v[m - 1 - c];

  Matrix power(m);
  for (int i = 0; i < m; ++i) power.at(i, i) = 1.0;
  int exponent = 0;
  int h_exponent = 0;
  for (int64_t left = n; left > 0; left /= 2) {
    if (left % 2) {
      power = Multiply(power, hm);
      exponent += h_exponent;
    }
    hm = Multiply(hm, hm);
    h_exponent *= 2;
    if (std::fabs(hm.at(k - 1, k - 1)) > kScaleUp) {
      for (double& cell : hm.cells) cell /= kScaleUp;
      h_exponent += kScaleExponent;
    }
  }
  double p = power.at(k - 1, k - 1);
  for (int64_t i = 1; i <= n; ++i) {
    p = static_cast<double>(i) * p / static_cast<double>(n);
    if (std::fabs(p) < kScaleDown) {
      p *= kScaleUp;
      exponent -= kScaleExponent;
    }
  }
  return ClipProbability(std::ldexp(p, exponent));
}

// The columns of row i of Pomeranz's recursion that can be non-zero.
std::pair<int64_t, int64_t> PomeranzColumns(int64_t i, int64_t n, int64_t ll, int ceilf,
                                            int roundf) {
  int64_t j1, j2;
  if (i == 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const int64_t half = (i + 1) / 2;
    if ((i + 1) % 2 == 0) {
      if (half == n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return {std::max<int64_t>(j1 + 2, 0), std::min(j2, n)};
}

// P(D_n <= x) by Pomeranz's recursion (1974): one convolution per row.
double PomeranzCdf(int64_t n, double x) {
  const double t = static_cast<double>(n) * x;
  const int64_t ll = static_cast<int64_t>(std::floor(t));
  const double f = t - static_cast<double>(ll);
  const double g = std::min(f, 1.0 - f);
  const int ceilf = f > 0 ? 1 : 0;
  const int roundf = f > 0.5 ? 1 : 0;
  const int64_t npowers = 2 * (ll + 1);
  // (g/n)^m/m!, (2g/n)^m/m! and ((1-2g)/n)^m/m!.
  std::vector<double> gpower(npowers), twogpower(npowers), onem2gpower(npowers);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
  const double nd = static_cast<double>(n);
  for (int64_t m = 1; m < npowers; ++m) {
    gpower[m] = gpower[m - 1] * (g / nd) / m;
    twogpower[m] = twogpower[m - 1] * (2 * g / nd) / m;
    onem2gpower[m] = onem2gpower[m - 1] * ((1 - 2 * g) / nd) / m;
  }
  std::vector<double> v0(npowers, 0.0), v1(npowers, 0.0);
  v1[0] = 1.0;
  int64_t v0_start = 0, v1_start = 0;
  int exponent = 0;
  auto [j1, j2] = PomeranzColumns(0, n, ll, ceilf, roundf);
  for (int64_t i = 1; i < 2 * n + 2; ++i) {
    const int64_t k1 = j1;
    std::swap(v0, v1);
    std::swap(v0_start, v1_start);
    std::fill(v1.begin(), v1.end(), 0.0);
    std::tie(j1, j2) = PomeranzColumns(i, n, ll, ceilf, roundf);
    const std::vector<double>& powers =
        (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 ? twogpower : onem2gpower);
    const int64_t length = j2 - k1 + 1;
    if (length <= 0) continue;
    const int64_t a_begin = std::max<int64_t>(k1 - v0_start, 0);
    const int64_t a_length = std::min(length, npowers - a_begin);
    const int64_t b_length = std::min(length, npowers);
    const int64_t conv_start = j1 - k1;
    const int64_t conv_length = j2 - j1 + 1;
    double largest = 0.0;
    for (int64_t q = 0; q < conv_length; ++q) {
      const int64_t at = conv_start + q;
      double sum = 0.0;
      for (int64_t a = std::max<int64_t>(0, at - b_length + 1); a <= std::min(at, a_length - 1);
           ++a) {
        sum += v0[a_begin + a] * powers[at - a];
      }
      v1[q] = sum;
      largest = std::max(largest, sum);
    }
    if (largest > 0 && largest < kScaleDown) {
      for (double& cell : v1) cell *= kScaleUp;
      exponent -= kScaleExponent;
    }
    v1_start = v0_start + j1 - k1;
  }
  double answer = v1[n - v1_start];
  for (int64_t m = 1; m <= n; ++m) {
    if (std::fabs(answer) > kScaleUp) {
      answer *= kScaleDown;
      exponent += kScaleExponent;
    }
    answer *= static_cast<double>(m);
  }
  return ClipProbability(std::ldexp(answer, exponent));
}

// P(D_n <= x) by the Pelz–Good (1976) expansion of Li-Chien and Korolyuk's series.
double PelzGoodCdf(int64_t n, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  constexpr double kPi = 3.14159265358979323846;
  const double pi2 = kPi * kPi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  const double sqrt2pi = std::sqrt(2 * kPi);
  const double z = std::sqrt(static_cast<double>(n)) * x;
  const double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
  const double qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0.0;
  double q = std::exp(qlog);
  const double k1a = -z2, k1b = pi2 / 4;
  const double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4;
  const double k2c = pi4 * (1 - 2 * z2) / 16;
  const double k3d = pi6 * (5 - 30 * z2) / 64;
  const double k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
  const double k3b = pi2 * (135 * z4 - 96 * z6) / 4;
  const double k3a = -30 * z6 - 90 * std::pow(z, 8);
  double k[4] = {0, 0, 0, 0};
  const int maxk = static_cast<int>(std::ceil(16 * z / kPi));
  for (int j = maxk; j > 0; --j) {
    const double m = 2.0 * j - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    const double qpower = std::pow(q, 8.0 * j);
    const double coeffs[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                              k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int i = 0; i < 4; ++i) k[i] = k[i] * qpower + coeffs[i];
  }
  const double divisors[4] = {z, 6 * z4, 72 * std::pow(z, 7), 6480 * std::pow(z, 10)};
  for (int i = 0; i < 4; ++i) k[i] = k[i] * q * sqrt2pi / divisors[i];
  q = std::exp(-pi2 / 2 / z2);
  double k2extra = 0, k3extra = 0;
  const double sqrt3z = std::sqrt(3.0) * z;
  for (int j = maxk; j > 0; --j) {
    const double j2 = static_cast<double>(j) * j;
    const double qpower = std::pow(q, j2);
    const double jpi = kPi * j;
    k2extra += j2 * qpower;
    k3extra += (sqrt3z + jpi) * (sqrt3z - jpi) * j2 * qpower;
  }
  k[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
  k[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += k[i] / std::pow(static_cast<double>(n), i / 2.0);
  return sum;
}

}  // namespace

double SmirnovSurvival(int64_t n, double x) {
  if (std::isnan(x) || n <= 0) return std::nan("");
  if (x <= 0) return 1.0;
  if (x >= 1) return 0.0;
  const long double nl = n, xl = x;
  const int64_t last = static_cast<int64_t>(std::floor(nl * (1 - xl)));
  const long double log_n_factorial = std::lgamma(nl + 1);
  // The logarithm of the Birnbaum–Tingey sum's term j (a smooth function of j), -inf where the
  // term is 0.
  const auto log_term = [&](long double j) -> long double {
    const long double below = (nl - j - nl * xl) / nl;  // 1 - x - j/n
    if (below <= 0) return -INFINITY;
    return log_n_factorial - std::lgamma(j + 1.0L) - std::lgamma(nl - j + 1) +
           (nl - j) * std::log(below) + (j - 1) * std::log(xl + j / nl);
  };
  const auto sum_terms = [&](int64_t from, int64_t to) {
    long double sum = 0;
    for (int64_t j = from; j <= to; ++j) sum += std::exp(log_term(static_cast<long double>(j)));
    return sum;
  };
  if (last < kMaxDirectSmirnovTerms)
    return ClipProbability(static_cast<double>(xl * sum_terms(0, last)));
  // Large n: the terms form one smooth peak. Only those within e^-kNegligibleLogTerm of the
  // largest count (the rest add less than n·e^-50 of it), found on a coarse grid of j.
  const long double step = static_cast<long double>(last) / kSmirnovGridPoints;
  long double peak = -INFINITY;
  std::vector<long double> grid(kSmirnovGridPoints + 1);
  for (int g = 0; g <= kSmirnovGridPoints; ++g) {
    grid[g] = log_term(std::round(g * step));
    peak = std::max(peak, grid[g]);
  }
  int first = 0, final = kSmirnovGridPoints;
  while (grid[first] < peak - kNegligibleLogTerm) ++first;
  while (grid[final] < peak - kNegligibleLogTerm) --final;
  const int64_t from = static_cast<int64_t>(std::round(std::max(0, first - 1) * step));
  const int64_t to =
      static_cast<int64_t>(std::round(std::min(kSmirnovGridPoints, final + 1) * step));
  // A peak cut by either end of the sum, or narrow: the terms themselves.
  if (to - from < kMaxDirectSmirnovTerms || first == 0 || final == kSmirnovGridPoints) {
    return ClipProbability(static_cast<double>(xl * sum_terms(from, to)));
  }
  // A wide peak inside: the sum over integers equals the integral of the smooth terms (Poisson
  // summation; the difference falls as exp(-2π² width²)), and so does the trapezoid rule on a
  // grid much finer than the peak's width, its ends negligible.
  const long double h = static_cast<long double>(to - from) / kSmirnovTrapezoidPoints;
  long double sum = 0;
  for (int k = 0; k <= kSmirnovTrapezoidPoints; ++k) {
    sum += std::exp(log_term(from + k * h) - peak);
  }
  return ClipProbability(static_cast<double>(xl * h * sum * std::exp(peak)));
}

double KolmogorovSurvival(int64_t n, double x) {
  if (std::isnan(x) || n <= 0) return std::nan("");
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return 1.0;
  const double nd = static_cast<double>(n);
  const double t = nd * x;
  if (t <= 1.0) {  // Ruben–Gambino: 1/2n <= x <= 1/n.
    if (t <= 0.5) return 1.0;
    const double log_cdf = std::lgamma(nd + 1) - nd * std::log(nd) + nd * std::log(2 * t - 1);
    return ClipProbability(1.0 - std::exp(log_cdf));
  }
  if (t >= nd - 1) return ClipProbability(2 * std::pow(1.0 - x, nd));  // Ruben–Gambino.
  if (x >= 0.5) return ClipProbability(2 * SmirnovSurvival(n, x));
  const double nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return ClipProbability(1.0 - DurbinMatrixCdf(n, x));
    if (nxsquared <= 4) return ClipProbability(1.0 - PomeranzCdf(n, x));
    return ClipProbability(2 * SmirnovSurvival(n, x));
  }
  if (nxsquared >= 370.0) return 0.0;
  if (nxsquared >= 2.2) return ClipProbability(2 * SmirnovSurvival(n, x));
  const double cdf =
      (n <= 100000 && nd * std::pow(x, 1.5) <= 1.4) ? DurbinMatrixCdf(n, x) : PelzGoodCdf(n, x);
  return ClipProbability(1.0 - cdf);
}

}  // namespace fabrique::monitoring
