// Planning a search job: each target's documents (search, validation, held-out), search space, seed
// tables, scorer settings and fingerprint, decided before anything is written or any forward runs.
// Every MPI rank plans the same job and compares the fingerprints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "eval/open_evaluation.h"
#include "tables/factor_table.h"
#include "search/evolution_search.h"
#include "search/gradient_refinement.h"
#include "search/perplexity_scorer.h"
#include "search/run_fingerprint.h"
#include "search/search_modes.h"
#include "rope/runtime_rule.h"

namespace longrope {

struct SearchRequest {
  std::string out;                      // the run directory
  std::vector<std::string> targets;     // ratios ("8x") or lengths ("32k", "2048")
  bool short_table = false;             // also search at the original length (Phi-3's short_factor)
  std::string heldout;                  // documents the winner and baselines are reported on (empty: none)
  ValidationChoice validation;          // where the winner is chosen (search/search_modes.h)
  int validate_top = 4;                 // the best K distinct candidates re-scored on validation
  Objective objective = Objective::Perplexity;
  SearchSettings evolution;             // P, T, N1, N2, parents, seed
  Optimizer optimizer = Optimizer::Evolution;
  GradientSettings gradient;
  LambdaBound bound = LambdaBound::Paper;
  double step = 0.01;                   // λ grid step
  double mutation_probability = 0.3;    // per gene
  bool search_start_tokens = true;      // false: n̂ = 0 (exportable to every runtime)
  // Pairs below LongRoPE2's critical dimension follow the searched λ_c NTK-style and are not searched.
  CriticalDim critical_dim;
  SpaceShape space = SpaceShape::Paper;
  std::string init_table;               // seed from an earlier table (.json or .csv)
  // Start from the model's own scaling (Phi-3's longrope, Llama 3's llama3, a yarn config): at each
  // target it is a seed and the baseline the verdict compares with; with compose, every candidate
  // multiplies it, and the table keeps the model's own factors at L as its short factors.
  bool from_config = false;
  bool compose = false;                 // with init_table or from_config: search λ2, evaluate λ1·λ2 (progressive)
  bool resume = false;                  // continue the run in `out`
  int64_t batch_candidates = 1;         // candidates per batched forward
  std::optional<double> race_margin;    // racing off when unset
  std::vector<std::string> devices;     // one evaluator each; empty: the setup's own device
  // A search for a deployment (--deploy R): n̂ = 0 (no runtime has it), and each candidate scored
  // under R's rule (rope/runtime_rule.h) as the mean NLL over the windows of every serve length; the
  // short table (--short) is searched with the long table's attention factor, which R applies to both.
  std::optional<Runtime> deploy;
  std::vector<std::string> serve_lengths;  // ratios or lengths; empty: log-spaced from 2L to the target
  bool single_table = false;            // short = long (vLLM #27414's workaround); its cost at L/2 and L is reported
};

// One target of a job: "8x" → 8 × L, "32k" → 32768 tokens. Throws InvalidSetting("target").
struct SearchTarget {
  std::string name;                     // the directory, e.g. "8x-2048" or "short-256"
  int64_t length = 0;
  double scale = 1;
  bool is_short = false;
  std::vector<int64_t> serve_lengths;   // a deployment's: the lengths its windows are scored at (empty: `length`)
};
// The serve lengths of a deployment at `target`: `texts` (ratios or lengths), or log-spaced from 2L to
// the target, each > L unless the runtime applies the long factors at every length (vLLM). Throws
// InvalidSetting("serve_lengths").
std::vector<int64_t> serve_lengths_for(const SearchTarget& target, int64_t original, const std::vector<std::string>& texts,
                                       Runtime runtime);
SearchTarget parse_search_target(const std::string& text, int64_t original_length);

// Throws InvalidSetting naming the first setting out of range; needs no model (run it before loading one).
void check_search_request(const SearchRequest& request);

// One target of a job, with everything decided before anything is written.
struct TargetPlan {
  SearchTarget target;
  std::optional<FactorTable> init;   // the table it starts from: --init-table, or the model's own scaling
  std::vector<Document> documents;
  std::vector<Document> validation;  // where the winner is chosen (empty: on the search windows)
  std::vector<Document> heldout;
  std::vector<Document> short_windows;  // --single-table: windows at L/2 and L, where the long table also runs
  SearchSpace space;
  SearchSettings evolution;          // the request's; with the gradient alone, one generation of the seeds
  std::vector<Genome> seeds;
  nlohmann::json seed_names = nlohmann::json::array();
  ScorerSettings scorer;
  RunFingerprint fingerprint;
  std::filesystem::path dir;
};

struct SearchPlan {
  std::vector<TargetPlan> targets;   // the short table first, when asked for
  std::optional<FactorTable> init;   // the table the search starts from

  nlohmann::json fingerprints() const;  // one per target: what ranks of one job must agree on
};

// Checks the settings, targets and init table and reads every document set; writes nothing. Throws
// InvalidSetting naming the setting, or std::runtime_error naming the file.
SearchPlan plan_search(const EvaluationSetup& setup, const SearchRequest& request);

// The run directory can take this request: a new run needs it empty (or absent), a resume keeps its
// short table. Warns when the held-out documents are the search documents. Writes nothing.
void check_run_directory(const EvaluationSetup& setup, const SearchRequest& request);

}  // namespace longrope
