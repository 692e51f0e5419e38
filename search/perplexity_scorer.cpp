// Genome -> RopeScaling -> perplexity.
#include "search/perplexity_scorer.h"

namespace longrope {

RopeScaling genome_scaling(const Genome& genome, const SearchSpace& space, const ScorerSettings& s) {
  std::vector<double> lambda = genome.lambda(space);
  if (!s.base_lambda.empty())
    for (size_t i = 0; i < lambda.size(); ++i) lambda[i] *= s.base_lambda[i];
  return rope_longrope(s.geometry, std::move(lambda), genome.start_tokens, s.scale, s.attention_factor);
}

CandidateScorer make_perplexity_scorer(PerplexityEvaluator& evaluator, const std::vector<Document>& documents,
                                       const SearchSpace& space, ScorerSettings settings) {
  return [&evaluator, &documents, space, settings](const Genome& g) {
    return evaluator.evaluate(documents, genome_scaling(g, space, settings)).ppl;
  };
}

}  // namespace longrope
