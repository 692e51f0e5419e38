// Property tests of the search operators over many seeds: every candidate is non-decreasing, in
// bounds, on the grid, n̂ in its set, and never a duplicate.
#include "search/genome.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace longrope {
namespace {

SearchSpace space_for(double scale, bool start_tokens = true) {
  SearchSpace s = SearchSpace::for_scale(64, scale, LambdaBound::Paper);
  s.search_start_tokens = start_tokens;
  return s;
}

TEST(SearchSpace, Bounds) {
  EXPECT_NEAR(SearchSpace::for_scale(64, 8, LambdaBound::Paper).upper_bound(), 10.0, 1e-9);     // 1.25·s
  EXPECT_NEAR(SearchSpace::for_scale(64, 8, LambdaBound::Reference).upper_bound(), 9.0, 1e-9);  // 1 + s
  EXPECT_EQ(SearchSpace::for_scale(64, 8, LambdaBound::Paper).max_grid_index, 900);
  EXPECT_THROW(parse_mode(kLambdaBoundNames, "other", "bound"), std::invalid_argument);
}

TEST(Genome, FromLambdaRoundsClampsAndOrders) {
  const SearchSpace s = space_for(4.0);  // λ in [1, 5]
  const Genome g = genome_from_lambda(s, std::vector<double>(64, 1.0));
  EXPECT_FALSE(genome_violation(s, g));
  std::vector<double> messy(64, 2.0);
  messy[3] = 1.5;    // below its left neighbour: raised
  messy[63] = 9.0;   // above the bound: clamped
  messy[10] = 2.004; // off-grid: rounded
  const Genome h = genome_from_lambda(s, messy);
  EXPECT_FALSE(genome_violation(s, h));
  EXPECT_EQ(h.grid[3], 100);
  EXPECT_EQ(h.grid[10], 100);
  EXPECT_EQ(h.grid[63], 400);
  EXPECT_NEAR(h.lambda(s)[63], 5.0, 1e-12);
}

// 60 children bred from `pool` by the operators (mutants and crossovers in turn); each new child goes
// to `check` (after the invariants) and into the pool. Returns the pool's final size.
template <typename Check>
size_t breed(const SearchSpace& s, uint64_t seed, std::vector<Genome> pool, Check check) {
  SearchRng rng(seed);
  GenomeKeys seen;
  for (const Genome& g : pool) seen.insert(g.key());
  for (int i = 0; i < 60; ++i) {
    const Genome& a = pool[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(pool.size()) - 1))];
    const Genome& b = pool[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(pool.size()) - 1))];
    std::optional<Genome> child = (i % 2 == 0) ? mutate(s, a, seen, rng) : crossover(s, a, b, seen, rng);
    if (!child) continue;
    const auto violation = genome_violation(s, *child);
    EXPECT_FALSE(violation) << "seed " << seed << ": " << *violation;
    EXPECT_TRUE(seen.insert(child->key()).second) << "duplicate candidate, seed " << seed;
    check(*child);
    pool.push_back(*child);
  }
  return pool.size();
}

TEST(Genome, OperatorsKeepInvariantsOverManySeeds) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const SearchSpace s = space_for(1.0 + seed % 16, seed % 3 != 0);
    const size_t bred = breed(s, seed, {genome_from_lambda(s, std::vector<double>(64, 1.0))}, [&](const Genome& child) {
      for (double v : child.lambda(s)) {
        const double k = (v - 1.0) / s.step;
        ASSERT_NEAR(k, std::round(k), 1e-6) << "off the grid";
      }
    });
    EXPECT_GT(bred, 30u) << "seed " << seed;
  }
}

TEST(Genome, CriticalDimensionKeepsPairsBelowItOnTheNtkCurveOfLambdaC) {
  // 32 pairs, c = 23 (the geometry-matched model's): over many seeds and operators, pairs below c are
  // never drawn on their own: they are λ_c^(i/c) on the grid, and every candidate keeps the invariants.
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SearchSpace s = SearchSpace::for_scale(32, 4.0 + seed % 60, LambdaBound::Paper);
    s.critical_dim = 23;
    const std::vector<Genome> start = {genome_from_lambda(s, std::vector<double>(32, 1.0 + seed % 60)),
                                       genome_from_lambda(s, std::vector<double>(32, 1.0))};
    const size_t bred = breed(s, seed, start, [&](const Genome& child) {
      const std::vector<double> lambda = child.lambda(s);
      for (size_t k = 0; k < 23; ++k)
        ASSERT_NEAR(lambda[k], std::pow(lambda[23], k / 23.0), s.step / 2 + 1e-9) << "pair " << k << ", seed " << seed;
    });
    EXPECT_GT(bred, 30u) << "seed " << seed;
  }
  // A hand-made genome whose pairs below c were set on their own is refused.
  SearchSpace s = SearchSpace::for_scale(32, 8.0, LambdaBound::Paper);
  s.critical_dim = 23;
  Genome g = genome_from_lambda(s, std::vector<double>(32, 8.0));
  g.grid[5] += 1;
  EXPECT_TRUE(genome_violation(s, g));
}

TEST(Genome, PiecewiseGenomesObeyTheirConstraints) {
  // The reference's dim_piece_mono: λ = 1 up to α, s above β, non-decreasing in [1, s] between,
  // 0 <= α < β < d/2; mutation moves α and β, so the pool holds many of each.
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const double scale = 4.0 + seed % 28;
    SearchSpace s = SearchSpace::for_scale(32, scale, LambdaBound::Paper);
    s.piecewise = true;
    s.piece_top = static_cast<int32_t>(std::lround((scale - 1.0) / s.step));
    std::vector<double> yarn_like(32, scale);
    for (size_t i = 0; i < 10; ++i) yarn_like[i] = 1.0 + i * 0.1;
    const Genome start = genome_from_lambda(s, yarn_like);
    ASSERT_FALSE(genome_violation(s, start));
    std::set<std::pair<int32_t, int32_t>> bounds;
    const size_t bred = breed(s, seed, {start}, [&](const Genome& child) {
      ASSERT_TRUE(0 <= child.alpha && child.alpha < child.beta && child.beta < 32);
      const std::vector<double> lambda = child.lambda(s);
      for (int32_t i = 0; i < 32; ++i) {
        if (i <= child.alpha) ASSERT_EQ(lambda[static_cast<size_t>(i)], 1.0) << "pair " << i;
        if (i > child.beta) ASSERT_NEAR(lambda[static_cast<size_t>(i)], scale, 1e-9) << "pair " << i;
        ASSERT_LE(lambda[static_cast<size_t>(i)], scale + 1e-9);
      }
      bounds.insert({child.alpha, child.beta});
    });
    EXPECT_GT(bred, 30u) << "seed " << seed;
    EXPECT_GT(bounds.size(), 3u) << "α and β never moved, seed " << seed;
  }
  // A genome outside the space's constraints is refused.
  SearchSpace s = SearchSpace::for_scale(32, 8.0, LambdaBound::Paper);
  s.piecewise = true;
  s.piece_top = 700;
  Genome g = genome_from_lambda(s, std::vector<double>(32, 8.0));
  g.alpha = g.beta;
  EXPECT_TRUE(genome_violation(s, g));
  EXPECT_TRUE(genome_violation(SearchSpace::for_scale(32, 8.0, LambdaBound::Paper), genome_from_lambda(s, std::vector<double>(32, 8.0))));
}

TEST(Genome, CrossoverOfEqualParentsFails) {
  const SearchSpace s = space_for(8.0);
  SearchRng rng(1);
  const Genome g = genome_from_lambda(s, std::vector<double>(64, 2.0));
  EXPECT_FALSE(crossover(s, g, g, {}, rng));
}

TEST(Genome, MutationDrawsBetweenNeighbours) {
  SearchSpace s = space_for(8.0, false);
  s.mutation_probability = 1.0;  // every gene moves
  SearchRng rng(3);
  std::vector<double> lambda(64);
  for (int i = 0; i < 64; ++i) lambda[i] = 1.0 + 0.1 * i;
  const Genome parent = genome_from_lambda(s, lambda);
  const auto child = mutate(s, parent, {}, rng);
  ASSERT_TRUE(child);
  EXPECT_FALSE(genome_violation(s, *child));
  EXPECT_NE(child->key(), parent.key());
}

TEST(SearchRng, ReproducibleAndRestorable) {
  SearchRng a(42), b(42);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next(), b.next());
  const std::string st = a.state();
  const uint64_t x = a.next();
  SearchRng c(0);
  c.set_state(st);
  EXPECT_EQ(c.next(), x);
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = a.uniform_int(3, 7);
    ASSERT_GE(v, 3);
    ASSERT_LE(v, 7);
  }
  EXPECT_THROW(c.set_state("zz"), std::invalid_argument);
}

}  // namespace
}  // namespace longrope
