// What a search reports beside its table: methods scored on a set of windows (cached as they land),
// the searched table's change against every baseline with a paired bootstrap interval, and the
// verdict: the searched table, or the baseline to use because the table does not beat it beyond
// its interval.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "eval/perplexity.h"
#include "search/method_scores.h"

namespace longrope {

using NamedScalings = std::vector<std::pair<std::string, RopeScaling>>;
using ScoresByMethod = std::map<std::string, MethodScore>;

// Each scaling's perplexity and window NLLs on `windows`; each is saved to `file` as it lands (keyed
// by `key`, the "longrope" entry also by `winner_key`), and a resume takes those already there.
ScoresByMethod score_scalings(PerplexityEvaluator& evaluator, const std::vector<Document>& windows, const NamedScalings& scalings,
                              const std::string& file, const nlohmann::json& key, const nlohmann::json& winner_key, bool resume,
                              const std::string& label);

// {method: perplexity} of some scores.
nlohmann::json ppl_of(const ScoresByMethod& scores);

// {baseline: {change, low, high, better_windows, windows}}: the table against each baseline on the
// same windows (none with fewer than 2 windows, or for a baseline that diverged).
nlohmann::json intervals_against(const std::vector<double>& table_nll, const ScoresByMethod& baselines);

// Against the lowest-perplexity baseline on `set`: {set, best_baseline, change, low, high,
// recommend}. `recommend` is "longrope" when the table's interval lies wholly below 0, else the
// baseline: a gain the windows cannot tell from noise is no reason to deploy a table.
// With `against` set, the table is judged against that baseline only (the model's own scaling).
nlohmann::json verdict(const std::string& set, const std::vector<double>& table_nll, const ScoresByMethod& baselines,
                       const std::string& against = "");

// One line for people: "on the validation windows the searched table beats yarn by −1.20 % [−1.52,
// −0.91]: use it" or "... does not beat yarn beyond its interval (...): use yarn".
std::string verdict_line(const nlohmann::json& verdict);

}  // namespace longrope
