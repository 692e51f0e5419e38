// Scores, intervals and the verdict of a searched table.
#include "search/search_report.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "eval/method_comparison.h"
#include "search/search_checkpoint.h"
#include "util/paired_bootstrap.h"
#include "util/progress.h"

namespace longrope {

using nlohmann::json;

ScoresByMethod score_scalings(PerplexityEvaluator& evaluator, const std::vector<Document>& windows, const NamedScalings& scalings,
                              const std::string& file, const json& key, const json& winner_key, bool resume, const std::string& label) {
  std::vector<std::string> names;
  for (const Document& w : windows) names.push_back(w.name);
  MethodScores saved(file, key, winner_key, names, resume, label);
  ScoresByMethod out;
  Progress progress(label, scalings.size());
  for (size_t i = 0; i < scalings.size(); ++i) {
    const auto& [name, scaling] = scalings[i];
    std::optional<MethodScore> score = saved.find(name);
    if (!score) {
      const PerplexityResult r = evaluator.evaluate(windows, scaling);
      score = MethodScore{r.ppl, window_nlls(r)};
      saved.put(name, *score);
    } else {
      progress.skip(1);
    }
    out[name] = *score;
    progress.update(i + 1, fmt::format("{} {:.4f}", name, score->ppl));
  }
  progress.finish();
  return out;
}

json ppl_of(const ScoresByMethod& scores) {
  json out = json::object();
  for (const auto& [name, score] : scores) out[name] = score.ppl;
  return out;
}

json intervals_against(const std::vector<double>& table_nll, const ScoresByMethod& baselines) {
  json out = json::object();
  for (const auto& [name, score] : baselines) {
    if (table_nll.size() < 2 || score.window_nll.size() != table_nll.size() || !std::isfinite(score.ppl)) continue;
    const RelativeChange c = paired_bootstrap(table_nll, score.window_nll);
    out[name] = relative_change_json(c);
  }
  return out;
}

json verdict(const std::string& set, const std::vector<double>& table_nll, const ScoresByMethod& baselines, const std::string& against) {
  std::string best;
  double best_ppl = std::numeric_limits<double>::infinity();
  for (const auto& [name, score] : baselines)
    if (std::isfinite(score.ppl) && score.ppl < best_ppl && (against.empty() || name == against)) best = name, best_ppl = score.ppl;
  json v = {{"set", set}, {"best_baseline", best}, {"best_baseline_ppl", best_ppl}, {"windows", table_nll.size()}};
  if (best.empty()) return v;
  const MethodScore& b = baselines.at(best);
  if (table_nll.size() >= 2 && b.window_nll.size() == table_nll.size()) {
    const RelativeChange c = paired_bootstrap(table_nll, b.window_nll);
    v.update({{"change", c.estimate}, {"low", c.low}, {"high", c.high}, {"recommend", c.a_clearly_lower() ? "longrope" : best}});
  } else {  // one window: no interval, no claim
    v["recommend"] = best;
    v["note"] = "one window: no interval, so no gain can be claimed";
  }
  return v;
}

std::string verdict_line(const json& v) {
  const std::string set = v.value("set", std::string("search")), best = v.value("best_baseline", std::string());
  if (best.empty()) return "no baseline has a finite perplexity here: nothing to compare with";
  if (!v.contains("change"))
    return fmt::format("on the {} set (one window) the searched table cannot be told from {}: use {}", set, best, best);
  const RelativeChange c{v["change"].get<double>(), v["low"].get<double>(), v["high"].get<double>(), 0, 0};
  if (v["recommend"] == "longrope")
    return fmt::format("on the {} windows the searched table beats {} by {}: use the searched table", set, best, format_change(c));
  return fmt::format("on the {} windows the searched table does not beat {} beyond its interval ({}): use {}", set, best,
                     format_change(c), best);
}

}  // namespace longrope
