// Search space, genome encoding and the mutation / crossover operators of the reference search
// (microsoft/LongRoPE evolution/algorithms/dim_mono.py), with n̂ as an extra gene (paper §3.2).
#include "search/genome.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "util/errors.h"

namespace longrope {
namespace {

constexpr int kMaxMutationPasses = 1000;  // a child that is still a duplicate after this many passes is given up

bool non_decreasing(const std::vector<int32_t>& v) { return std::is_sorted(v.begin(), v.end()); }

}  // namespace

SearchSpace SearchSpace::for_scale(size_t dims, double scale, LambdaBound bound, double step) {
  if (!(scale >= 1.0)) throw InvalidSetting("target", fmt::format("search scale must be >= 1, got {}", scale));
  if (!(step > 0) || !std::isfinite(step)) throw InvalidSetting("step", fmt::format("must be a positive number, got {}", step));
  const double upper = bound == LambdaBound::Paper ? 1.25 * scale : 1.0 + scale;
  if ((std::max(upper, 1.0) - 1.0) / step > 1e8)
    throw InvalidSetting("step", fmt::format("{} puts over 10^8 grid points below the bound {}", step, upper));
  SearchSpace s;
  s.dims = dims;
  s.step = step;
  s.max_grid_index = static_cast<int32_t>(std::floor((std::max(upper, 1.0) - 1.0) / step + 1e-9));
  if (s.max_grid_index < 1 && scale > 1.0)
    throw InvalidSetting("step", fmt::format("{} leaves no grid point between 1 and the bound {:g}", step, upper));
  return s;
}

std::vector<double> Genome::lambda(const SearchSpace& space) const {
  std::vector<double> out(grid.size());
  // Rounded to 1e-9 so that tables print as the grid values they are (1.39, not 1.3900000000000001).
  for (size_t i = 0; i < grid.size(); ++i) out[i] = std::round((1.0 + grid[i] * space.step) * 1e9) / 1e9;
  return out;
}

std::string Genome::key() const {
  // Piecewise genomes carry α and β; keys of the other spaces stay those of earlier journals.
  std::string k = alpha >= 0 ? fmt::format("a{}:{}|", alpha, beta) : std::string();
  k += std::to_string(start_tokens);
  for (int32_t index : grid) k += "," + std::to_string(index);
  return k;
}

namespace {

// The reference's dim_piece_mono: α or β (even odds) moves by a draw of N(0, 2) rounded to a whole
// pair, redrawn until 0 <= α < β < n.
void move_piece_bound(Genome& g, size_t n, SearchRng& rng) {
  const bool move_alpha = rng.bernoulli(0.5);
  for (;;) {
    // Box-Muller from the generator's own uniforms (std:: distributions differ between platforms).
    const double u = 1.0 - rng.uniform(), v = rng.uniform();
    const auto shift = static_cast<int32_t>(std::lround(2.0 * std::sqrt(-2.0 * std::log(u)) * std::cos(2 * M_PI * v)));
    const int32_t a = move_alpha ? g.alpha + shift : g.alpha, b = move_alpha ? g.beta : g.beta + shift;
    if (0 <= a && a < b && b < static_cast<int32_t>(n)) {
      g.alpha = a;
      g.beta = b;
      return;
    }
  }
}

std::vector<int32_t> below_critical(const SearchSpace& space, int32_t critical_index) {
  const size_t c = space.critical_dim;
  const double top = 1.0 + critical_index * space.step;
  std::vector<int32_t> out(c);
  for (size_t i = 0; i < c; ++i) {
    const double v = std::pow(top, static_cast<double>(i) / static_cast<double>(c));
    out[i] = std::clamp(static_cast<int32_t>(std::lround((v - 1.0) / space.step)), i ? out[i - 1] : 0, critical_index);
  }
  return out;
}

}  // namespace

void set_unsearched_pairs(const SearchSpace& space, Genome& g) {
  if (space.piecewise) {
    int32_t previous = 0;
    for (size_t i = 0; i < g.grid.size(); ++i) {
      const auto at = static_cast<int32_t>(i);
      g.grid[i] = at <= g.alpha ? 0 : at > g.beta ? space.piece_top : std::clamp(g.grid[i], previous, space.piece_top);
      previous = g.grid[i];
    }
    return;
  }
  if (space.critical_dim == 0 || space.critical_dim >= g.grid.size()) return;
  const std::vector<int32_t> prefix = below_critical(space, g.grid[space.critical_dim]);
  std::copy(prefix.begin(), prefix.end(), g.grid.begin());
}

Genome genome_from_lambda(const SearchSpace& space, const std::vector<double>& lambda, int64_t start_tokens) {
  if (lambda.size() != space.dims)
    throw std::invalid_argument(fmt::format("table has {} factors, the search space {}", lambda.size(), space.dims));
  Genome g;
  g.start_tokens = start_tokens;
  int32_t previous = 0;
  for (double v : lambda) {
    int32_t k = static_cast<int32_t>(std::lround((v - 1.0) / space.step));
    k = std::clamp(k, previous, space.max_grid_index);  // clamp into bounds, then keep the order
    g.grid.push_back(k);
    previous = k;
  }
  if (space.piecewise) {  // α: the last of the leading 1s (at least pair 0); β: the last pair below s
    const auto n = static_cast<int32_t>(g.grid.size());
    g.alpha = 0;
    while (g.alpha + 1 < n - 1 && g.grid[static_cast<size_t>(g.alpha + 1)] == 0) ++g.alpha;
    g.beta = n - 1;
    while (g.beta - 1 > g.alpha && g.grid[static_cast<size_t>(g.beta)] >= space.piece_top) --g.beta;
  }
  set_unsearched_pairs(space, g);
  return g;
}

std::optional<std::string> genome_violation(const SearchSpace& space, const Genome& g) {
  if (g.grid.size() != space.dims) return fmt::format("{} genes, expected {}", g.grid.size(), space.dims);
  for (size_t i = 0; i < g.grid.size(); ++i)
    if (g.grid[i] < 0 || g.grid[i] > space.max_grid_index)
      return fmt::format("λ[{}] = {} outside [1, {}]", i, 1.0 + g.grid[i] * space.step, space.upper_bound());
  if (!non_decreasing(g.grid)) return std::string("λ is not non-decreasing");
  if (space.piecewise != (g.alpha >= 0)) return std::string("α and β belong to the piecewise space alone");
  if (space.piecewise && !(0 <= g.alpha && g.alpha < g.beta && g.beta < static_cast<int32_t>(space.dims)))
    return fmt::format("α = {}, β = {}: not 0 <= α < β < d/2 = {}", g.alpha, g.beta, space.dims);
  if ((space.critical_dim > 0 && space.critical_dim < g.grid.size()) || space.piecewise) {
    Genome derived = g;
    set_unsearched_pairs(space, derived);
    if (derived.grid != g.grid)
      return space.piecewise ? fmt::format("λ is not 1 up to α = {} and s above β = {}", g.alpha, g.beta)
                             : fmt::format("λ below the critical dimension {} does not follow λ_c", space.critical_dim);
  }
  const auto& c = space.start_token_choices;
  if (std::find(c.begin(), c.end(), g.start_tokens) == c.end()) return fmt::format("n̂ = {} not in the allowed set", g.start_tokens);
  if (!space.search_start_tokens && g.start_tokens != 0) return std::string("n̂ is not searched but is non-zero");
  return std::nullopt;
}

std::optional<Genome> mutate(const SearchSpace& space, const Genome& parent, const GenomeKeys& seen, SearchRng& rng) {
  Genome c = parent;
  const size_t n = c.grid.size();
  const size_t first = space.critical_dim < n ? space.critical_dim : 0;  // pairs below it follow λ_c
  for (int pass = 0; pass < kMaxMutationPasses; ++pass) {
    if (space.piecewise) move_piece_bound(c, n, rng);
    for (size_t i = first; i < n; ++i) {
      if (!rng.bernoulli(space.mutation_probability)) continue;
      // Between the updated left neighbour and the not-yet-visited right one (inclusive).
      const int32_t lo = i == first ? 0 : c.grid[i - 1];
      const int32_t hi = i + 1 == n ? (space.piecewise ? space.piece_top : space.max_grid_index) : c.grid[i + 1];
      if (hi >= lo) c.grid[i] = static_cast<int32_t>(rng.uniform_int(lo, hi));
    }
    if (space.search_start_tokens && rng.bernoulli(space.mutation_probability)) {
      const auto& choices = space.start_token_choices;
      c.start_tokens = choices[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(choices.size()) - 1))];
    }
    set_unsearched_pairs(space, c);
    if (!seen.count(c.key()) && non_decreasing(c.grid)) return c;
  }
  return std::nullopt;
}

std::optional<Genome> crossover(const SearchSpace& space, const Genome& better, const Genome& worse, const GenomeKeys& seen,
                                SearchRng& rng) {
  if (better == worse) return std::nullopt;
  Genome c = better;
  const size_t n = c.grid.size();
  const size_t genes = n + (space.search_start_tokens ? 1 : 0);  // n̂ is the last gene
  const size_t first = space.critical_dim < n ? space.critical_dim : 0;  // pairs below it follow λ_c
  for (int pass = 0; pass < space.max_crossover_passes; ++pass) {
    for (size_t i = first; i < genes; ++i) {
      if (!rng.bernoulli(space.mutation_probability)) continue;
      if (rng.bernoulli(space.crossover_swap_probability)) {
        if (i < n) c.grid[i] = worse.grid[i];
        else c.start_tokens = worse.start_tokens;
        if (space.piecewise && rng.bernoulli(space.crossover_swap_probability)) {  // α and β swap together
          c.alpha = worse.alpha;
          c.beta = worse.beta;
        }
        set_unsearched_pairs(space, c);
      }
      // Tested after every visit; swaps are not reverted (the reference accumulates them).
      if (!seen.count(c.key()) && non_decreasing(c.grid)) return c;
    }
  }
  return std::nullopt;
}

}  // namespace longrope
