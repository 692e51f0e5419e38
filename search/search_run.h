// A search run: every target of one job searched on one loaded model, resumable from its run
// directory. RUN/<target>/ holds table.json, result_final.csv, generations.jsonl, state.json,
// evaluations.jsonl and the baselines' perplexities; RUN/summary.json the tables of the job.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "search/search_plan.h"

namespace longrope {

// Plans (search_plan.h), checks the run directory, loads a model per device, takes the run
// directory's lock (a second writer is refused), then searches each target in turn, skipping
// finished ones on resume. Returns the tables of the targets beyond L.
std::vector<FactorTable> run_search(const EvaluationSetup& setup, const SearchRequest& request);

// Evaluators outside this process (MPI ranks): `scorers_for(i)` gives one scorer each for target i of
// the plan, called when that target's search starts.
struct OtherEvaluators {
  std::function<std::vector<GroupScorer>(size_t target)> scorers_for;
  size_t count = 0;
  bool local_candidates = true;  // false: this process's models score baselines, validation and held-out only
};

// run_search after planning, on models already loaded: this process writes the run directory and
// runs the evolution; candidates go to its models and to `others` alike.
std::vector<FactorTable> search_planned(const EvaluationSetup& setup, const SearchRequest& request, const SearchPlan& plan,
                                        const std::vector<std::unique_ptr<LlamaModel>>& models, const OtherEvaluators& others);

// The scorer of one target's candidates on `model` (what an MPI worker rank runs). The model and
// plan must outlive it.
GroupScorer candidate_scorer(const EvaluationSetup& setup, const TargetPlan& target, const LlamaModel& model);

// The job's table of perplexities: a row per target and set (search, validation, held-out), a column
// per method, and each target's verdict.
std::string search_summary(const std::vector<FactorTable>& tables);

}  // namespace longrope
