// Scoring candidates on a pool of evaluators (one per device, or one CPU evaluator that uses every
// core): candidates go in groups to whichever evaluator is free, with no barrier inside a call.
#pragma once

#include <functional>
#include <vector>

#include "search/evolution_search.h"

namespace longrope {

// Scores a group of candidates, in order (a perplexity scorer runs a group as one batched forward
// per document). `cutoff` as in BatchObjective.
using GroupScorer = std::function<std::vector<Evaluation>(const std::vector<Genome>& group, const Cutoff& cutoff)>;

// `group_size` candidates per scorer call (the last group may be smaller). `on_scored(done, total,
// score)` runs after each candidate, serialised (it may print).
BatchObjective make_parallel_objective(std::vector<GroupScorer> workers, size_t group_size = 1,
                                       std::function<void(size_t done, size_t total, double score)> on_scored = {});

}  // namespace longrope
