// A search run: every target of one job searched on one loaded model, resumable from its run
// directory. RUN/<target>/ holds table.json, result_final.csv, generations.jsonl, state.json,
// evaluations.jsonl and the baselines' perplexities; RUN/summary.json the tables of the job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/open_evaluation.h"
#include "export/factor_table.h"
#include "search/evolution_search.h"

namespace longrope {

struct SearchRequest {
  std::string out;                      // the run directory
  std::vector<std::string> targets;     // ratios ("8x") or lengths ("32k", "2048")
  bool short_table = false;             // also search at the original length (Phi-3's short_factor)
  std::string heldout;                  // documents the winner and baselines are reported on (empty: none)
  // Where the winner is chosen: "auto" (windows of the search documents after the search's own),
  // "none" (the best on the search windows), or a directory of documents (selected as the search's).
  std::string validation = "auto";
  int validate_top = 4;                 // the best K distinct candidates re-scored on validation
  // What a candidate is scored by: "ppl" (perplexity of its windows, the paper's) or "needle" (the NLL
  // of a needle's answer only, LongRoPE2's: eval/needle.h). Held-out sets are scored by perplexity.
  std::string objective = "ppl";
  SearchSettings evolution;             // P, T, N1, N2, parents, seed
  std::string bound = "paper";          // λ upper bound: paper (1.25·s) or reference (1 + s)
  double step = 0.01;                   // λ grid step
  double mutation_probability = 0.3;    // per gene
  bool search_start_tokens = true;      // false: n̂ = 0 (exportable to every runtime)
  std::string init_table;               // seed from an earlier table (.json or .csv)
  bool compose = false;                 // with init_table: search λ2, evaluate λ1·λ2 (progressive)
  bool resume = false;                  // continue the run in `out`
  int64_t batch_candidates = 1;         // candidates per batched forward
  std::optional<double> race_margin;    // racing off when unset
  std::vector<std::string> devices;     // one evaluator each; empty: the setup's own device
};

// One target of a job: "8x" → 8 × L, "32k" → 32768 tokens. Throws InvalidSetting("target").
struct SearchTarget {
  std::string name;                     // the directory, e.g. "8x-2048" or "short-256"
  int64_t length = 0;
  double scale = 1;
  bool is_short = false;
};
SearchTarget parse_search_target(const std::string& text, int64_t original_length);

// Throws InvalidSetting naming the first setting out of range; needs no model (run it before loading one).
void check_search_request(const SearchRequest& request);

// Checks everything before it writes anything (settings, targets, tables, documents, the run
// directory), takes the run directory's lock (a second writer is refused), then searches each target
// in turn, skipping finished ones on resume. Returns the tables of the targets beyond L.
std::vector<FactorTable> run_search(const EvaluationSetup& setup, const SearchRequest& request);

// The job's table of perplexities: a row per target and set (search, validation, held-out), a column
// per method, and each target's verdict.
std::string search_summary(const std::vector<FactorTable>& tables);

}  // namespace longrope
