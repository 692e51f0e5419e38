// Hierarchical percentile bootstrap, paired by window: each resample draws runs, then groups, then
// windows within groups, and takes the same windows for both sides.
#include "util/paired_bootstrap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
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

// n draws of [0, n), or the identity when there is one member (a level with one member draws nothing).
std::vector<size_t> draw(size_t n, uint64_t& rng) {
  std::vector<size_t> picked(n);
  for (size_t i = 0; i < n; ++i) picked[i] = n == 1 ? 0 : static_cast<size_t>(splitmix64(rng) % n);
  return picked;
}

void check_runs(const std::vector<std::vector<double>>& runs, size_t windows, const char* side) {
  if (runs.empty()) throw std::invalid_argument(fmt::format("paired bootstrap: {} has no runs", side));
  for (const auto& run : runs)
    if (run.size() != windows) throw std::invalid_argument("paired bootstrap: the two methods were scored on different windows");
}

}  // namespace

std::string format_change(const RelativeChange& c) {
  return fmt::format("{:+.2f} % [{:+.2f}, {:+.2f}]", 100 * c.estimate, 100 * c.low, 100 * c.high);
}

RelativeChange hierarchical_bootstrap(const PairedScores& s, int resamples, uint64_t seed) {
  const size_t n = s.a.empty() ? 0 : s.a.front().size();
  check_runs(s.a, n, "a");
  check_runs(s.b, n, "b");
  if (n < 2) throw std::invalid_argument("paired bootstrap: needs at least 2 windows");
  if (resamples < 100) throw std::invalid_argument("paired bootstrap: needs at least 100 resamples");
  if (!s.group.empty() && s.group.size() != n) throw std::invalid_argument("paired bootstrap: a group for every window");
  std::vector<std::vector<size_t>> members;  // the windows of each group, in order
  std::map<int64_t, size_t> index;
  for (size_t w = 0; w < n; ++w) {
    const int64_t g = s.group.empty() ? static_cast<int64_t>(w) : s.group[w];
    const auto [it, fresh] = index.emplace(g, members.size());
    if (fresh) members.emplace_back();
    members[it->second].push_back(w);
  }
  // A run's mean NLL on window w, averaged over the drawn runs.
  const auto mean_over = [](const std::vector<std::vector<double>>& runs, const std::vector<size_t>& picked, size_t w) {
    double sum = 0;
    for (size_t r : picked) sum += runs[r][w];
    return sum / static_cast<double>(picked.size());
  };
  RelativeChange out;
  out.windows = static_cast<int64_t>(n);
  std::vector<size_t> all_a(s.a.size()), all_b(s.b.size());
  for (size_t r = 0; r < all_a.size(); ++r) all_a[r] = r;
  for (size_t r = 0; r < all_b.size(); ++r) all_b[r] = r;
  double sum = 0;
  for (size_t w = 0; w < n; ++w) {
    const double d = mean_over(s.a, all_a, w) - mean_over(s.b, all_b, w);
    sum += d;
    out.a_better += d < 0 ? 1 : 0;
  }
  out.estimate = std::expm1(sum / static_cast<double>(n));
  uint64_t rng = seed;
  std::vector<double> changes(static_cast<size_t>(resamples));
  for (double& change : changes) {
    const std::vector<size_t> runs_a = draw(s.a.size(), rng), runs_b = draw(s.b.size(), rng);
    double total = 0;
    size_t count = 0;
    for (size_t g : draw(members.size(), rng)) {
      const std::vector<size_t>& in_group = members[g];
      for (size_t k : draw(in_group.size(), rng)) {
        const size_t w = in_group[k];
        total += mean_over(s.a, runs_a, w) - mean_over(s.b, runs_b, w);
        ++count;
      }
    }
    change = std::expm1(total / static_cast<double>(count));
  }
  std::sort(changes.begin(), changes.end());
  out.low = quantile(changes, 0.025);
  out.high = quantile(changes, 0.975);
  return out;
}

RelativeChange paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int resamples, uint64_t seed) {
  if (a.size() != b.size()) throw std::invalid_argument("paired bootstrap: the two methods were scored on different windows");
  return hierarchical_bootstrap(PairedScores{{a}, {b}, {}}, resamples, seed);
}

std::vector<int64_t> groups_by_book(const std::vector<std::string>& names) {
  std::map<std::string, int64_t> index;
  std::vector<int64_t> out;
  for (const std::string& name : names) {
    const std::string book = name.substr(0, name.rfind('@'));
    out.push_back(index.emplace(book, static_cast<int64_t>(index.size())).first->second);
  }
  return out;
}

}  // namespace longrope
