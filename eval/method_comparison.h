// The jobs behind eval, curve and sweep-theta: several RoPE scalings scored on the same documents at
// one or more lengths, a row per (length, method) as each lands, with one progress line for the job.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/open_evaluation.h"
#include "eval/perplexity.h"
#include "eval/score_journal.h"
#include "rope/rope_scaling.h"
#include "util/paired_bootstrap.h"

namespace longrope {

struct NamedScaling {
  std::string name;                                             // as the user named it, e.g. "yarn"
  std::function<RopeScaling(const LlamaConfig&, int64_t length)> at_length;  // the scaling at a window length
};

struct ComparisonRow {
  int64_t length = 0;
  std::string method;
  RopeScaling scaling;
  PerplexityResult result;
  std::optional<int64_t> peak_device_bytes;  // GPU memory at the row's peak (CUDA only)
};

struct Comparison {
  std::vector<int64_t> lengths;         // window lengths, in the order asked
  std::vector<NamedScaling> methods;
  int64_t batch = 1;                    // documents per forward
  std::string label = "eval";           // the progress line's name
  ScoreJournal* journal = nullptr;      // when set: windows found there are not scored again, new ones are recorded
};

// Every method at every length on the same `documents` (setup.documents(longest length), so that every
// row scores the same text). `on_row` runs after each row (to print it). With a journal, a window is
// scored in forwards of `batch` windows and recorded as each forward lands.
std::vector<ComparisonRow> compare_scalings(const EvaluationSetup& setup, const Comparison& comparison,
                                            const std::vector<Document>& documents,
                                            const std::function<void(const ComparisonRow&)>& on_row = {});

// A paired change between two methods as every output writes it: change, low, high, better_windows, windows.
nlohmann::json relative_change_json(const RelativeChange& change);

}  // namespace longrope
