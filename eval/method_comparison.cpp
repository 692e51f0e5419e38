// One evaluator per length (its RoPE table cache), every method through it.
#include "eval/method_comparison.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "models/device_memory.h"
#include "util/errors.h"
#include "util/progress.h"

namespace longrope {

std::vector<ComparisonRow> compare_scalings(const EvaluationSetup& setup, const Comparison& c, const std::vector<Document>& documents,
                                            const std::function<void(const ComparisonRow&)>& on_row) {
  if (c.lengths.empty()) throw InvalidSetting("lengths", "no length given");
  if (c.methods.empty()) throw InvalidSetting("method", "no method given");
  for (int64_t length : c.lengths)
    if (length < 2) throw InvalidSetting("length", fmt::format("{} is too short (at least 2 tokens)", length));
  if (c.batch < 1) throw InvalidSetting("batch", fmt::format("must be positive, got {}", c.batch));

  // Every row's scaling first, so that the progress line counts only the windows still to score.
  struct Pending {
    ComparisonRow row;
    std::vector<std::optional<JournalScore>> saved;  // per window: its journaled score, if any
    size_t unscored = 0;
  };
  std::vector<Pending> plan;
  size_t total = 0, resumed = 0;
  for (int64_t length : c.lengths)
    for (const NamedScaling& method : c.methods) {
      Pending p{{length, method.name, method.at_length(setup.config(), length), {}, std::nullopt}, {}, 0};
      for (size_t i = 0; i < documents.size(); ++i) {
        p.saved.push_back(c.journal ? c.journal->find(score_key(length, p.row.scaling, i, documents[i].name))
                                    : std::nullopt);
        p.unscored += p.saved.back() ? 0 : 1;
      }
      total += p.unscored;
      resumed += documents.size() - p.unscored;
      plan.push_back(std::move(p));
    }
  if (resumed > 0)
    fmt::print(stderr, "resuming from {}: {} of {} windows already scored\n", c.journal->path(), resumed, resumed + total);

  std::vector<ComparisonRow> rows;
  Progress progress(c.label, total);
  size_t forwards = 0;
  std::optional<PerplexityEvaluator> evaluator;
  for (Pending& p : plan) {
    ComparisonRow& row = p.row;
    if (!evaluator || evaluator->options().length != row.length)
      evaluator.emplace(setup.model(), setup.perplexity_options(row.length, c.batch));
    const size_t before = forwards;
    reset_peak_device_memory(setup.model().device());
    const auto note = [&] { return fmt::format("{} @ {}", row.method, row.length); };
    if (!c.journal) {
      row.result = evaluator->evaluate(documents, row.scaling, [&](size_t done, size_t) {
        forwards = before + done;
        progress.update(forwards, note());
      });
    } else {
      // One forward of up to `batch` unscored windows at a time, each recorded as it lands.
      std::vector<size_t> unscored;
      for (size_t i = 0; i < documents.size(); ++i)
        if (!p.saved[i]) unscored.push_back(i);
      for (size_t begin = 0; begin < unscored.size(); begin += static_cast<size_t>(c.batch)) {
        const size_t end = std::min(unscored.size(), begin + static_cast<size_t>(c.batch));
        std::vector<Document> batch;
        for (size_t k = begin; k < end; ++k) batch.push_back(documents[unscored[k]]);
        const PerplexityResult r = evaluator->evaluate(batch, row.scaling);
        for (size_t k = begin; k < end; ++k) {
          const size_t i = unscored[k];
          p.saved[i] = JournalScore{r.documents[k - begin], r.seconds / static_cast<double>(end - begin)};
          c.journal->record(score_key(row.length, row.scaling, i, documents[i].name), *p.saved[i]);
        }
        forwards = before + end;
        progress.update(forwards, note());
      }
      std::vector<DocumentScore> scores;
      double seconds = 0;
      for (const std::optional<JournalScore>& s : p.saved) {
        scores.push_back(s->score);
        seconds += s->seconds;
      }
      row.result = summarize_scores(std::move(scores), seconds);
    }
    if (!std::isfinite(row.result.ppl))  // never a number: say where it broke
      throw std::runtime_error(
          std::isfinite(row.result.mean_nll)
              ? fmt::format("{} at {} tokens: the mean NLL is {:.1f} nats per token, whose exp() overflows: the model does not "
                            "predict these documents at all", row.method, row.length, row.result.mean_nll)
              : fmt::format("{} at {} tokens: perplexity is {}; {}", row.method, row.length, row.result.ppl,
                            evaluator->explain_non_finite(documents, row.scaling)));
    // A row partly read from the journal did not run its peak here: unknown rather than wrong.
    if (p.unscored == documents.size()) row.peak_device_bytes = peak_device_memory(setup.model().device());
    progress.update(forwards, fmt::format("{} @ {}: ppl {:.4f}", row.method, row.length, row.result.ppl));
    rows.push_back(row);
    if (on_row) on_row(rows.back());
  }
  progress.finish();
  return rows;
}

nlohmann::json relative_change_json(const RelativeChange& c) {
  return {{"change", c.estimate}, {"low", c.low}, {"high", c.high}, {"better_windows", c.a_better}, {"windows", c.windows}};
}

}  // namespace longrope
