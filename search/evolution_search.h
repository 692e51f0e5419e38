// EvolutionSearch: the LongRoPE evolutionary search over λ and n̂ (paper §3.2, Algorithm 1;
// reference microsoft/LongRoPE evolution/algorithms/genetic_base.py), resumable and seeded.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "search/genome.h"

namespace longrope {

struct SearchSettings {
  int population = 64;   // P: initial population
  int generations = 40;  // T
  int mutants = 16;      // N1 per generation
  int crossovers = 16;   // N2 per generation
  int parents = 32;      // top-k kept and bred from
  uint64_t seed = 42;

  void validate() const;  // throws InvalidSetting naming the setting
};

struct Candidate {
  Genome genome;
  double score = 0;                  // perplexity; lower is better
  std::vector<double> document_nll;  // mean NLL per document, in document order, when the objective gives them
  bool raced_out = false;            // scored on a prefix of the documents only: never selected as a parent
};

// Everything a resumed run needs; written after the initial population and after each generation.
struct SearchState {
  int completed_generations = -1;      // -1: nothing done; 0: initial population scored
  std::vector<Candidate> population;   // current population (parents + children of the last generation)
  std::map<std::string, double> scores;  // every evaluated candidate: Genome::key() -> score
  std::string rng_state;
  int64_t evaluations = 0;
  int64_t forwards = 0;                // document forwards spent (racing spends fewer than evaluations × documents)
  int64_t raced_out = 0;               // candidates stopped early by racing
  double seconds = 0;                  // search wall time so far, across resumes
};

struct GenerationRecord {
  int generation = 0;                  // 0 = initial population
  double best = 0;
  double parents_mean = 0;
  int64_t evaluations = 0;
  int64_t forwards = 0;
  int64_t raced_out = 0;
  double seconds = 0;
  Candidate best_candidate;
};

// What scoring one candidate gave and cost.
struct Evaluation {
  double score = 0;                  // perplexity; for a raced-out candidate, over the documents it was scored on
  int64_t forwards = 1;              // document forwards spent on it
  bool raced_out = false;            // stopped early because it could not enter the parents
  std::vector<double> document_nll;  // per document scored (may be empty)
};

// The bar a child must clear to enter the parents (μ + λ selection): the worst parent. Unbounded
// for the initial population.
struct Cutoff {
  double score = std::numeric_limits<double>::infinity();
  std::vector<double> document_nll;  // that parent's per-document NLLs, when known
};

// Scores a batch of candidates (in order). A racing objective may stop a candidate that is clearly
// worse than the cutoff and mark it raced out; the search never selects such a candidate.
// Implementations may run candidates concurrently; the search waits only where it must: for the
// whole generation before selection.
using BatchObjective = std::function<std::vector<Evaluation>(const std::vector<Genome>& batch, const Cutoff& cutoff)>;

class EvolutionSearch {
 public:
  // `seeds` (e.g. PI, NTK, YaRN tables on the grid) enter the initial population first; mutants of
  // them, round-robin, fill the rest.
  EvolutionSearch(SearchSpace space, SearchSettings settings, std::vector<Genome> seeds);

  // Runs (or resumes) to the last generation. `on_generation` is called after the initial
  // population and after each generation with the state to checkpoint and a record to log.
  SearchState run(const BatchObjective& objective, std::optional<SearchState> resume,
                  const std::function<void(const SearchState&, const GenerationRecord&)>& on_generation) const;

  int64_t planned_evaluations() const;

 private:
  std::vector<Genome> initial_candidates(GenomeKeys& seen, SearchRng& rng) const;
  std::vector<Genome> children(const std::vector<Candidate>& parents, GenomeKeys& seen, SearchRng& rng) const;

  SearchSpace space_;
  SearchSettings settings_;
  std::vector<Genome> seeds_;
};

// Sorted best first, raced-out candidates last; ties broken by key so that the order never depends on evaluation timing.
void sort_candidates(std::vector<Candidate>& candidates);

}  // namespace longrope
