// Scoring candidates on a pool of evaluators (one per device, or one CPU evaluator that uses every
// core): each candidate goes to whichever evaluator is free, with no batch barrier inside a call.
#pragma once

#include <functional>
#include <vector>

#include "search/evolution_search.h"

namespace longrope {

using CandidateScorer = std::function<double(const Genome&)>;

// `on_scored(done, total, score)` runs after each candidate, serialised (it may print).
BatchObjective make_parallel_objective(std::vector<CandidateScorer> workers,
                                       std::function<void(size_t done, size_t total, double score)> on_scored = {});

}  // namespace longrope
