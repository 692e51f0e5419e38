// The gradient phase of one search target (--optimizer gradient|both): Adam steps on λ from the best
// candidate scored so far (search/gradient_refinement.h), then every grid snapshot scored exactly on
// the search windows, plus the last one with each n̂ of the space when n̂ is searched. The scored
// candidates join the population, so the validation rule chooses among them and the evolution's
// best alike. Resumable: RUN/<target>/gradient_state.json after every snapshot, and the journal
// keeps the snapshots' scores.
#pragma once

#include <nlohmann/json.hpp>

#include "search/evolution_search.h"
#include "search/search_plan.h"

namespace longrope {

class LlamaModel;

// Adds the scored candidates to `state` (population, scores, evaluation and forward counts) and
// returns what the table reports of the phase: its start, steps, the windows' NLL per step, the
// snapshots' perplexities, and its cost in measured seconds and in forward-equivalents (the phase's
// seconds over the seconds one scoring forward took in this run).
nlohmann::json run_gradient_phase(const SearchRequest& request, const TargetPlan& plan, const LlamaModel& model,
                                  const BatchObjective& objective, SearchState& state);

}  // namespace longrope
