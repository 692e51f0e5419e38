// A GroupScorer that scores genomes by the perplexity of the model under them: several candidates
// share one batched forward per document, and racing stops a candidate that cannot enter the parents.
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
  // Racing: after each document but the last, a candidate whose mean NLL over the documents so far
  // exceeds the cutoff parent's mean over the same documents by more than race_margin nats is stopped
  // (paired, so that a hard first document does not stop everyone; without the parent's per-document
  // NLLs, against ln(cutoff ppl)). Unset: every candidate sees every document.
  std::optional<double> race_margin;
};

// The evaluator and documents must outlive the scorer. One scorer per evaluator (per device). A group
// of K genomes runs as K rows of one forward (same tokens, one cos/sin table per row); scores equal
// those of K separate evaluations up to float rounding.
GroupScorer make_perplexity_scorer(PerplexityEvaluator& evaluator, const std::vector<Document>& documents,
                                   const SearchSpace& space, ScorerSettings settings);

// The RopeScaling a genome stands for under these settings.
RopeScaling genome_scaling(const Genome& genome, const SearchSpace& space, const ScorerSettings& settings);

}  // namespace longrope
