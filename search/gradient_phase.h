// The gradient phase of one search target (--optimizer gradient|both): Adam steps on λ from the best
// candidate scored so far (search/gradient_refinement.h), then every grid snapshot scored exactly on
// the search windows, plus the last one with each n̂ of the space when n̂ is searched. The scored
// candidates join the population, so the validation rule chooses among them and the evolution's
// best alike. Resumable: RUN/<target>/gradient_state.json after every snapshot, and the journal
// keeps the snapshots' scores.
#pragma once

#include <nlohmann/json.hpp>

#include "eval/perplexity.h"
#include "search/evolution_search.h"
#include "search/search_plan.h"

namespace longrope {

// With --resume: the saved steps' file is whole and belongs to this run (checked before any forward).
// Throws std::runtime_error naming the file.
void check_gradient_state(const TargetPlan& plan);

// Adds the scored candidates to `state` (population, scores, evaluation and forward counts) and
// returns what the table reports of the phase: its start, steps, the windows' NLL per step, every
// snapshot's perplexity, and the cost: the steps' seconds, one scoring forward's seconds on the same
// evaluator (timed here, so that evaluators elsewhere and a journal's reused scores do not blur it),
// the steps in forward-equivalents, and the whole search's forward-equivalents.
nlohmann::json run_gradient_phase(const SearchRequest& request, const GradientSettings& settings, const TargetPlan& plan,
                                  PerplexityEvaluator& evaluator, const BatchObjective& objective, SearchState& state);

}  // namespace longrope
