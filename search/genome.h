// The LongRoPE search space and its genetic operators: λ on a grid, non-decreasing, in [1, bound],
// plus the start-token threshold n̂ from a fixed set (LongRoPE paper Table 4, reference dim_mono).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "search/search_modes.h"
#include "search/search_rng.h"

namespace longrope {

struct SearchSpace {
  size_t dims = 0;                 // d/2
  double step = 0.01;              // grid: λ = 1 + k·step, k = 0 .. max_grid_index
  int32_t max_grid_index = 0;      // the upper bound (1.25·s paper, 1 + s reference) as a grid index
  std::vector<int64_t> start_token_choices = {0, 1, 2, 4, 8, 12, 16, 20, 24, 28, 32, 64, 128, 256};
  bool search_start_tokens = true;
  // LongRoPE2's critical dimension c (0: off, every pair searched): pairs below c are not searched but
  // follow the searched λ_c NTK-style, λ_i = λ_c^(i/c) (its ntk_left), on the grid.
  size_t critical_dim = 0;
  // The reference's second algorithm, dim_piece_mono: λ = 1 at pairs <= α, s at pairs > β (both
  // searched, 0 <= α < β < d/2), non-decreasing in [1, s] between. `piece_top` is s on the grid.
  bool piecewise = false;
  int32_t piece_top = 0;
  double mutation_probability = 0.3;  // per gene
  double crossover_swap_probability = 0.5;
  int max_crossover_passes = 20;

  static SearchSpace for_scale(size_t dims, double scale, LambdaBound bound, double step = 0.01);
  double upper_bound() const { return 1.0 + max_grid_index * step; }
};

// λ_i = 1 + grid[i]·step. Integer grid indices make equality, deduplication and the grid exact.
struct Genome {
  std::vector<int32_t> grid;  // the grid index of each λ_i
  int64_t start_tokens = 0;
  int32_t alpha = -1, beta = -1;  // piecewise space only (-1 elsewhere): λ = 1 at pairs <= α, s above β

  std::vector<double> lambda(const SearchSpace& space) const;
  std::string key() const;  // identity for the history and the score cache
  bool operator==(const Genome& o) const {
    return grid == o.grid && start_tokens == o.start_tokens && alpha == o.alpha && beta == o.beta;
  }
  bool operator!=(const Genome& o) const { return !(*this == o); }  // C++17 does not derive it
};

// Nearest grid genome to a real table, clamped into the space and made non-decreasing (seeds).
Genome genome_from_lambda(const SearchSpace& space, const std::vector<double>& lambda, int64_t start_tokens = 0);

// Sets the pairs below the critical dimension from λ_c (nothing when it is off), and in the piecewise
// space the pairs outside (α, β] (clamping those between into [1, s], in order).
void set_unsearched_pairs(const SearchSpace& space, Genome& genome);

// Checks the invariants every candidate must hold; returns the broken one, or nullopt.
std::optional<std::string> genome_violation(const SearchSpace& space, const Genome& g);

// Each gene with probability p is redrawn uniformly between its (already updated) left neighbour
// and its right neighbour, so order holds by construction; n̂ is redrawn from its set with
// probability p. Passes repeat until the child is not in `seen` (nullopt after many tries).
using GenomeKeys = std::unordered_set<std::string>;  // Genome::key() of every candidate ever proposed

std::optional<Genome> mutate(const SearchSpace& space, const Genome& parent, const GenomeKeys& seen, SearchRng& rng);

// Reference crossover: start from the better parent and, gene by gene (visit probability p, swap
// probability 0.5), take the worse parent's value, returning the first child that is new and
// non-decreasing; nullopt after max_crossover_passes passes (the caller then mutates instead).
std::optional<Genome> crossover(const SearchSpace& space, const Genome& better, const Genome& worse,
                                const GenomeKeys& seen, SearchRng& rng);

}  // namespace longrope
