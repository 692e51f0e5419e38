// How much a perplexity difference can be trusted: the relative change of perplexity between two
// methods scored on the same windows, with a paired bootstrap 95% interval over the windows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace longrope {

struct RelativeChange {
  double estimate = 0;   // ppl(a) / ppl(b) − 1, ppl = exp(mean of the windows' mean NLLs)
  double low = 0;        // 2.5th and 97.5th percentiles of the same over resampled windows
  double high = 0;
  int64_t a_better = 0;  // windows where a's NLL is below b's
  int64_t windows = 0;
  // Whether a is lower than b beyond the interval (the whole interval below 0), or above it.
  bool a_clearly_lower() const { return high < 0; }
  bool a_clearly_higher() const { return low > 0; }
};

// "−1.20 % [−1.52, −0.91]": the change and its interval in percent, for tables.
std::string format_change(const RelativeChange& change);

// `a` and `b`: mean NLL per window, the same windows in the same order (at least 2). Resamples the
// window indices with replacement `resamples` times from a seeded generator of its own (the same
// interval on every machine). Throws std::invalid_argument for unequal or too short lists.
RelativeChange paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int resamples = 2000,
                                uint64_t seed = 20261129);

}  // namespace longrope
