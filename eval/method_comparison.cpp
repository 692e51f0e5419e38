// One evaluator per length (its RoPE table cache), every method through it.
#include "eval/method_comparison.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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

  std::vector<ComparisonRow> rows;
  Progress progress(c.label, c.lengths.size() * c.methods.size() * documents.size());
  size_t forwards = 0;
  for (int64_t length : c.lengths) {
    PerplexityEvaluator evaluator(setup.model(), setup.perplexity_options(length, c.batch));
    for (const NamedScaling& method : c.methods) {
      ComparisonRow row{length, method.name, method.at_length(setup.config(), length), {}, std::nullopt};
      const size_t before = forwards;
      reset_peak_device_memory(setup.model().device());
      row.result = evaluator.evaluate(documents, row.scaling, [&](size_t done, size_t) {
        forwards = before + done;
        progress.update(forwards, fmt::format("{} @ {}", method.name, length));
      });
      if (!std::isfinite(row.result.ppl))  // never a number: say where it broke
        throw std::runtime_error(
            std::isfinite(row.result.mean_nll)
                ? fmt::format("{} at {} tokens: the mean NLL is {:.1f} nats per token, whose exp() overflows: the model does not "
                              "predict these documents at all", method.name, length, row.result.mean_nll)
                : fmt::format("{} at {} tokens: perplexity is {}; {}", method.name, length, row.result.ppl,
                              evaluator.explain_non_finite(documents, row.scaling)));
      row.peak_device_bytes = peak_device_memory(setup.model().device());
      progress.update(forwards, fmt::format("{} @ {}: ppl {:.4f}", method.name, length, row.result.ppl));
      rows.push_back(row);
      if (on_row) on_row(rows.back());
    }
  }
  progress.finish();
  return rows;
}

nlohmann::json relative_change_json(const RelativeChange& c) {
  return {{"change", c.estimate}, {"low", c.low}, {"high", c.high}, {"better_windows", c.a_better}, {"windows", c.windows}};
}

}  // namespace longrope
