// The search loop on synthetic objectives: it converges toward a known optimum, a seed reproduces
// a run, a resumed run equals an uninterrupted one, and candidates are never scored twice.
#include "search/evolution_search.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <set>

#include "search/parallel_objective.h"
#include "search/search_checkpoint.h"
#include "tests/search/test_fingerprint.h"
#include "tests/test_files.h"

namespace longrope {
namespace {

// Fake perplexity with a known optimum: squared distance to a non-decreasing target table, plus a
// penalty away from n̂ = 16.
struct SyntheticObjective {
  std::vector<double> target;
  SearchSpace space;
  double operator()(const Genome& g) const {
    const std::vector<double> l = g.lambda(space);
    double d = 0;
    for (size_t i = 0; i < l.size(); ++i) d += (l[i] - target[i]) * (l[i] - target[i]);
    return 1.0 + d / l.size() + 0.01 * std::abs(static_cast<double>(g.start_tokens) - 16.0);
  }
};

SearchSpace test_space() {
  SearchSpace s = SearchSpace::for_scale(16, 8.0, LambdaBound::Paper);
  return s;
}

std::vector<Genome> test_seeds(const SearchSpace& s) {
  return {genome_from_lambda(s, std::vector<double>(16, 8.0)), genome_from_lambda(s, std::vector<double>(16, 1.0))};
}

SyntheticObjective objective(const SearchSpace& s) {
  std::vector<double> target(16);
  for (int i = 0; i < 16; ++i) target[i] = 1.0 + 7.0 * std::pow(i / 15.0, 2);  // 1 … 8, convex
  return {target, s};
}

BatchObjective serial(const SyntheticObjective& f, std::set<std::string>* scored = nullptr) {
  return [f, scored](const std::vector<Genome>& batch, const Cutoff&) {
    std::vector<Evaluation> out;
    for (const Genome& g : batch) {
      if (scored) EXPECT_TRUE(scored->insert(g.key()).second) << "scored twice: " << g.key();
      out.push_back({f(g), 1, false, {}});
    }
    return out;
  };
}

// An exact racer over 5 "documents": a candidate worse than the cutoff is stopped after the first.
BatchObjective racing(const SyntheticObjective& f, std::vector<double>* cutoffs) {
  return [f, cutoffs](const std::vector<Genome>& batch, const Cutoff& cutoff) {
    cutoffs->push_back(cutoff.score);
    std::vector<Evaluation> out;
    for (const Genome& g : batch) {
      const double score = f(g);
      out.push_back(score > cutoff.score ? Evaluation{score, 1, true, {}} : Evaluation{score, 5, false, {}});
    }
    return out;
  };
}

SearchSettings small_settings(int generations) {
  SearchSettings s;
  s.population = 32;
  s.generations = generations;
  s.mutants = 8;
  s.crossovers = 8;
  s.parents = 16;
  s.seed = 7;
  return s;
}

TEST(EvolutionSearch, ConvergesTowardKnownOptimum) {
  const SearchSpace space = test_space();
  const SyntheticObjective f = objective(space);
  std::set<std::string> scored;
  const EvolutionSearch search(space, small_settings(60), test_seeds(space));
  std::vector<double> best_per_generation;
  const SearchState s = search.run(serial(f, &scored), std::nullopt, [&](const SearchState&, const GenerationRecord& r) {
    best_per_generation.push_back(r.best);
  });
  const double seed_best = std::min(f(test_seeds(space)[0]), f(test_seeds(space)[1]));
  ASSERT_EQ(best_per_generation.size(), 61u);
  for (size_t i = 1; i < best_per_generation.size(); ++i) EXPECT_LE(best_per_generation[i], best_per_generation[i - 1]);  // elitist
  EXPECT_LT(s.population.front().score - 1.0, 0.1 * (seed_best - 1.0));  // most of the way to the optimum
  EXPECT_EQ(s.evaluations, static_cast<int64_t>(scored.size()));
  EXPECT_EQ(s.evaluations, search.planned_evaluations());
}

TEST(EvolutionSearch, DivergedCandidatesRankLast) {
  std::vector<Candidate> c;
  for (double score : {3.0, std::nan(""), 1.0, 2.0, std::nan(""), 0.5})
    c.push_back({Genome{{static_cast<int32_t>(c.size())}, 0}, score, {}, false});
  c[5].raced_out = true;  // raced out ranks after every fully scored candidate
  sort_candidates(c);
  EXPECT_EQ(c[0].score, 1.0);
  EXPECT_EQ(c[1].score, 2.0);
  EXPECT_EQ(c[2].score, 3.0);
  EXPECT_TRUE(std::isnan(c[3].score) && std::isnan(c[4].score));
  EXPECT_TRUE(c[5].raced_out);
}

TEST(EvolutionSearch, SameSeedSameRun) {
  const SearchSpace space = test_space();
  const SyntheticObjective f = objective(space);
  const EvolutionSearch search(space, small_settings(10), test_seeds(space));
  const SearchState a = search.run(serial(f), std::nullopt, {});
  const SearchState b = search.run(serial(f), std::nullopt, {});
  EXPECT_EQ(a.population.front().genome, b.population.front().genome);
  EXPECT_EQ(a.scores, b.scores);
}

TEST(EvolutionSearch, ResumeEqualsUninterruptedRun) {
  const SearchSpace space = test_space();
  const SyntheticObjective f = objective(space);
  const EvolutionSearch search(space, small_settings(12), test_seeds(space));
  const SearchState full = search.run(serial(f), std::nullopt, {});
  const std::string path = (fresh_temp_dir("resume") / "state.json").string();
  const RunFingerprint fp = test_fingerprint(2048);
  for (int stop_after : {0, 1, 5, 11}) {
    // "Kill" the run right after generation `stop_after` was checkpointed, then resume from disk.
    struct Killed {};
    try {
      search.run(serial(f), std::nullopt, [&](const SearchState& s, const GenerationRecord& r) {
        write_search_state(path, s, fp);
        if (r.generation == stop_after) throw Killed{};
      });
      FAIL() << "not interrupted";
    } catch (const Killed&) {
    }
    const SearchState resumed = search.run(serial(f), read_search_state(path, fp), {});
    EXPECT_EQ(resumed.population.front().genome, full.population.front().genome) << "stopped after " << stop_after;
    EXPECT_EQ(resumed.scores, full.scores);
    EXPECT_EQ(resumed.evaluations, full.evaluations);
    EXPECT_EQ(resumed.forwards, full.forwards);
  }
  EXPECT_THROW(read_search_state(path, test_fingerprint(4096)), std::runtime_error);  // other settings
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

// More seeds than the population: the seeds left out are never scored, yet they count as seen (a
// mutation that lands on one is retried), on resume as in an uninterrupted run.
TEST(EvolutionSearch, ResumeWithSeedsBeyondPopulation) {
  // A space of a few hundred tables, so that mutations do land on the seeds left out.
  SearchSpace space = SearchSpace::for_scale(2, 1.04, LambdaBound::Paper);
  space.search_start_tokens = false;
  space.mutation_probability = 0.9;
  auto f = [&space](const std::vector<Genome>& batch, const Cutoff&) {
    std::vector<Evaluation> out;
    for (const Genome& g : batch) {
      const std::vector<double> l = g.lambda(space);
      out.push_back({1.0 + std::abs(l[0] - 1.1) + std::abs(l[1] - 1.2), 1, false, {}});
    }
    return out;
  };
  // Two seeds make the population; the other 121 (every table near the optimum) are left out.
  std::vector<Genome> seeds = {genome_from_lambda(space, {1.0, 1.0}), genome_from_lambda(space, {1.3, 1.3})};
  for (int a = 5; a <= 15; ++a)
    for (int b = 15; b <= 25; ++b) seeds.push_back(genome_from_lambda(space, {1.0 + a / 100.0, 1.0 + b / 100.0}));
  SearchSettings settings = small_settings(20);
  settings.population = 2;
  settings.parents = 2;
  settings.mutants = 3;
  settings.crossovers = 1;
  const EvolutionSearch search(space, settings, seeds);
  const SearchState full = search.run(f, std::nullopt, {});
  for (size_t i = 2; i < seeds.size(); ++i) EXPECT_EQ(full.scores.count(seeds[i].key()), 0u) << "seed " << i << " beyond P was scored";
  const std::string path = (fresh_temp_dir("seeds") / "state.json").string();
  const RunFingerprint fp = test_fingerprint(2048);
  for (int stop_after = 0; stop_after < settings.generations; ++stop_after) {
    struct Killed {};
    try {
      search.run(f, std::nullopt, [&](const SearchState& s, const GenerationRecord& r) {
        write_search_state(path, s, fp);
        if (r.generation == stop_after) throw Killed{};
      });
    } catch (const Killed&) {
    }
    const SearchState resumed = search.run(f, read_search_state(path, fp), {});
    EXPECT_EQ(resumed.scores, full.scores) << "stopped after " << stop_after;
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(EvolutionSearch, ParallelObjectiveMatchesSerial) {
  const SearchSpace space = test_space();
  const SyntheticObjective f = objective(space);
  std::atomic<int> in_flight{0}, max_in_flight{0};
  std::atomic<size_t> largest_group{0};
  auto worker = [&](const std::vector<Genome>& group, const Cutoff&) {
    const int now = ++in_flight;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    size_t biggest = largest_group.load();
    while (group.size() > biggest && !largest_group.compare_exchange_weak(biggest, group.size())) {
    }
    usleep(200);
    --in_flight;
    std::vector<Evaluation> out;
    for (const Genome& g : group) out.push_back({f(g), 1, false, {}});
    return out;
  };
  const EvolutionSearch search(space, small_settings(5), test_seeds(space));
  const SearchState b = search.run(serial(f), std::nullopt, {});
  for (size_t group : {1u, 3u}) {
    size_t reported = 0;
    const BatchObjective parallel =
        make_parallel_objective({worker, worker, worker}, group, [&](size_t done, size_t, double) { reported = done; });
    largest_group = 0;
    const SearchState a = search.run(parallel, std::nullopt, {});
    EXPECT_EQ(a.scores, b.scores) << "groups of " << group;
    EXPECT_LE(max_in_flight.load(), 3);
    EXPECT_EQ(largest_group.load(), group);
    EXPECT_EQ(reported, 16u);  // the last batch: one generation's children
  }
}

TEST(EvolutionSearch, RacingSkipsOnlyCandidatesThatCannotBecomeParents) {
  const SearchSpace space = test_space();
  const SyntheticObjective f = objective(space);
  const SearchSettings settings = small_settings(8);
  const EvolutionSearch search(space, settings, test_seeds(space));
  std::vector<double> cutoffs;
  std::vector<double> worst_parent;  // after each generation
  const SearchState raced = search.run(racing(f, &cutoffs), std::nullopt, [&](const SearchState& s, const GenerationRecord&) {
    worst_parent.push_back(s.population[static_cast<size_t>(settings.parents) - 1].score);
  });
  const SearchState plain = search.run(serial(f), std::nullopt, {});
  // The initial population is never raced; each generation's children race against the worst parent.
  ASSERT_EQ(cutoffs.size(), 9u);
  EXPECT_TRUE(std::isinf(cutoffs[0]));
  for (size_t g = 1; g < cutoffs.size(); ++g) EXPECT_EQ(cutoffs[g], worst_parent[g - 1]) << "generation " << g;
  // An exact racer changes nothing but the cost.
  EXPECT_EQ(raced.scores, plain.scores);
  EXPECT_EQ(raced.population.front().genome, plain.population.front().genome);
  EXPECT_GT(raced.raced_out, 0);
  EXPECT_EQ(raced.forwards, 5 * raced.evaluations - 4 * raced.raced_out);
}

TEST(EvolutionSearch, RacedOutCandidatesAreNeverParents) {
  const SearchSpace space = test_space();
  const SyntheticObjective f = objective(space);
  const EvolutionSearch search(space, small_settings(3), test_seeds(space));
  // Children are all "raced out" with a partial score better than any full one: none may be kept.
  const BatchObjective racer = [&](const std::vector<Genome>& batch, const Cutoff& cutoff) {
    std::vector<Evaluation> out;
    for (const Genome& g : batch) out.push_back(std::isinf(cutoff.score) ? Evaluation{f(g), 5, false, {}} : Evaluation{0.5, 1, true, {}});
    return out;
  };
  double initial_best = 0;
  const SearchState s = search.run(racer, std::nullopt, [&](const SearchState& st, const GenerationRecord& r) {
    if (r.generation == 0) initial_best = r.best;
    for (int i = 0; i < 16; ++i) EXPECT_FALSE(st.population[static_cast<size_t>(i)].raced_out) << "generation " << r.generation;
  });
  EXPECT_EQ(s.population.front().score, initial_best);
  EXPECT_EQ(s.raced_out, 3 * 16);
}

TEST(EvolutionSearch, RejectsBadSettings) {
  const SearchSpace space = test_space();
  SearchSettings s = small_settings(3);
  s.parents = 64;
  EXPECT_THROW(EvolutionSearch(space, s, test_seeds(space)), std::invalid_argument);
  Genome outside = test_seeds(space)[0];
  outside.grid[0] = 5000;
  EXPECT_THROW(EvolutionSearch(space, small_settings(3), {outside}), std::invalid_argument);
}

}  // namespace
}  // namespace longrope
