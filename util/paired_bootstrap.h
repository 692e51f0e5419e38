// How much a perplexity difference can be trusted: the relative change of perplexity between two
// methods scored on the same windows, with a paired bootstrap 95 % interval. The one statistics
// module: the tool's verdicts, `longrope compare`, and every script (through scripts/longrope_stats.py)
// take their intervals from here.
//
// Resampling is hierarchical, outermost first:
//   runs     a method's search seeds (each seed's table scored on the same windows), when it has several;
//            the two sides' runs are drawn independently (their seeds are unrelated searches);
//   groups   books (a book's windows are consecutive text and move together), when windows are grouped;
//   windows  within each drawn group (each window its own group when ungrouped).
// A level with one member draws nothing, so one run of ungrouped windows is the plain paired
// bootstrap over windows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace longrope {

struct RelativeChange {
  double estimate = 0;   // ppl(a) / ppl(b) − 1, ppl = exp(mean of the windows' mean NLLs over runs)
  double low = 0;        // 2.5th and 97.5th percentiles of the same over resamples
  double high = 0;
  int64_t a_better = 0;  // windows where a's NLL (mean over its runs) is below b's
  int64_t windows = 0;
  // Whether a is lower than b beyond the interval (the whole interval below 0), or above it.
  bool a_clearly_lower() const { return high < 0; }
  bool a_clearly_higher() const { return low > 0; }
};

// "−1.20 % [−1.52, −0.91]": the change and its interval in percent, for tables.
std::string format_change(const RelativeChange& change);

inline constexpr int kBootstrapResamples = 2000;
inline constexpr uint64_t kBootstrapSeed = 20261129;

// What each side holds and how windows group: runs[r][w] is run r's mean NLL on window w (every run
// of both sides on the same windows, in the same order); group[w] the group (book) of window w, or
// empty for each window alone.
struct PairedScores {
  std::vector<std::vector<double>> a;
  std::vector<std::vector<double>> b;
  std::vector<int64_t> group;
};

// Resamples `resamples` times from a seeded generator of its own (the same interval on every machine).
// Throws std::invalid_argument for unequal or empty lists, fewer than 2 windows, or fewer than 100
// resamples.
RelativeChange hierarchical_bootstrap(const PairedScores& scores, int resamples = kBootstrapResamples, uint64_t seed = kBootstrapSeed);

// One run each, windows ungrouped: the paired bootstrap over windows.
RelativeChange paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int resamples = kBootstrapResamples,
                                uint64_t seed = kBootstrapSeed);

// Each distinct name's index in order of first appearance: "book.txt@3" → the group of "book.txt".
// Windows named by eval and curve are PATH@WINDOW; a name without '@' is its own group.
std::vector<int64_t> groups_by_book(const std::vector<std::string>& window_names);

}  // namespace longrope
