// Genomes -> RopeScalings -> one batched forward per document -> perplexities.
#include "search/perplexity_scorer.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "util/errors.h"

namespace longrope {

RopeScaling genome_scaling(const Genome& genome, const SearchSpace& space, const ScorerSettings& s) {
  std::vector<double> lambda = genome.lambda(space);
  if (!s.base_lambda.empty())
    for (size_t i = 0; i < lambda.size(); ++i) lambda[i] *= s.base_lambda[i];
  return rope_longrope(s.geometry, std::move(lambda), genome.start_tokens, s.scale, s.attention_factor);
}

GroupScorer make_perplexity_scorer(PerplexityEvaluator& evaluator, const std::vector<Document>& documents,
                                   const SearchSpace& space, ScorerSettings settings) {
  if (documents.empty()) throw std::invalid_argument("no documents to score candidates on");
  if (settings.race_margin && !(*settings.race_margin >= 0))
    throw InvalidSetting("race_margin", "must be a non-negative number of nats");
  return [&evaluator, &documents, space, settings](const std::vector<Genome>& group, const Cutoff& cutoff) {
    const size_t k = group.size(), n = documents.size();
    std::vector<RopeTable> tables;
    for (const Genome& g : group) tables.push_back(evaluator.table(genome_scaling(g, space, settings)));
    // limit[d]: the highest mean NLL over documents 0..d that can still go on to document d + 1.
    std::vector<double> limit(n, std::numeric_limits<double>::infinity());
    if (settings.race_margin && std::isfinite(cutoff.score) && cutoff.score > 0) {
      double sum = 0;
      for (size_t d = 0; d < n; ++d) {
        if (cutoff.document_nll.size() == n) sum += cutoff.document_nll[d];
        limit[d] = (cutoff.document_nll.size() == n ? sum / static_cast<double>(d + 1) : std::log(cutoff.score)) + *settings.race_margin;
      }
    }

    auto mean_nll = [](const Evaluation& e) {
      double mean = 0;
      for (double x : e.document_nll) mean += x / static_cast<double>(e.document_nll.size());
      return mean;
    };
    std::vector<Evaluation> out(k, Evaluation{0, 0, false, {}});
    std::vector<size_t> active;
    for (size_t i = 0; i < k; ++i) active.push_back(i);
    RopeTable table;  // the active candidates' tables, restacked only when one drops out
    bool restack = true;
    for (size_t d = 0; d < n && !active.empty(); ++d) {
      if (restack) {
        std::vector<RopeTable> rows;
        for (size_t i : active) rows.push_back(tables[i]);
        table = rows.size() == 1 ? rows[0] : stack_rope_tables(rows);
      }
      const at::Tensor window = evaluator.window(documents[d]);
      const std::vector<double> sums =
          evaluator.nll_sums(window.unsqueeze(0).expand({static_cast<int64_t>(active.size()), -1}), table, documents[d].scored_tail);
      const auto predictions = static_cast<double>(evaluator.predictions(documents[d]));
      std::vector<size_t> still;
      for (size_t r = 0; r < active.size(); ++r) {
        Evaluation& e = out[active[r]];
        e.document_nll.push_back(sums[r] / predictions);
        e.forwards += 1;
        if (d + 1 == n) continue;  // the last document is never cut short
        if (mean_nll(e) > limit[d]) e.raced_out = true;
        else still.push_back(active[r]);
      }
      restack = still.size() != active.size();
      active = std::move(still);
    }
    for (Evaluation& e : out) e.score = std::exp(mean_nll(e));
    return out;
  };
}

}  // namespace longrope
