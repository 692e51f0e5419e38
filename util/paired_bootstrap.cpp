// Percentile bootstrap over windows, paired: each resample takes the same windows for both methods.
#include "util/paired_bootstrap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "util/splitmix64.h"

namespace longrope {
namespace {

// The q-quantile of sorted values, interpolating between neighbours (numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  const double at = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(std::floor(at));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (at - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

}  // namespace

std::string format_change(const RelativeChange& c) {
  return fmt::format("{:+.2f} % [{:+.2f}, {:+.2f}]", 100 * c.estimate, 100 * c.low, 100 * c.high);
}

RelativeChange paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int resamples, uint64_t seed) {
  if (a.size() != b.size()) throw std::invalid_argument("paired bootstrap: the two methods were scored on different windows");
  if (a.size() < 2) throw std::invalid_argument("paired bootstrap: needs at least 2 windows");
  if (resamples < 100) throw std::invalid_argument("paired bootstrap: needs at least 100 resamples");
  const size_t n = a.size();
  std::vector<double> diff(n);  // ln ppl(a) − ln ppl(b) is the mean of these
  RelativeChange r;
  r.windows = static_cast<int64_t>(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    diff[i] = a[i] - b[i];
    sum += diff[i];
    r.a_better += a[i] < b[i] ? 1 : 0;
  }
  r.estimate = std::expm1(sum / static_cast<double>(n));
  uint64_t rng = seed;
  std::vector<double> changes(static_cast<size_t>(resamples));
  for (double& change : changes) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += diff[splitmix64(rng) % n];
    change = std::expm1(s / static_cast<double>(n));
  }
  std::sort(changes.begin(), changes.end());
  r.low = quantile(changes, 0.025);
  r.high = quantile(changes, 0.975);
  return r;
}

}  // namespace longrope
