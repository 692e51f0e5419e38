// A CandidateScorer that scores a genome by the perplexity of the model under it.
#pragma once

#include <optional>
#include <vector>

#include "eval/perplexity.h"
#include "search/parallel_objective.h"

namespace longrope {

struct ScorerSettings {
  RopeGeometry geometry;
  double scale = 1.0;                        // s, for the "su" attention factor
  std::optional<double> attention_factor;    // fixed factor instead of su
  std::vector<double> base_lambda;           // progressive search: evaluated λ = base ⊙ candidate
};

// The evaluator and documents must outlive the scorer. One scorer per evaluator (per device).
CandidateScorer make_perplexity_scorer(PerplexityEvaluator& evaluator, const std::vector<Document>& documents,
                                       const SearchSpace& space, ScorerSettings settings);

// The RopeScaling a genome stands for under these settings.
RopeScaling genome_scaling(const Genome& genome, const SearchSpace& space, const ScorerSettings& settings);

}  // namespace longrope
