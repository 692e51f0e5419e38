// The generation loop: (μ + λ) selection with μ = parents, λ = mutants + crossovers.
#include "search/evolution_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "util/errors.h"

namespace longrope {

void SearchSettings::validate() const {
  auto at_least = [](const char* name, int v, int least) {
    if (v < least) throw InvalidSetting(name, fmt::format("must be at least {}, got {}", least, v));
  };
  // Two parents at least: crossover needs two, and a population of one holds only its first seed.
  at_least("population", population, 2);
  at_least("parents", parents, 2);
  at_least("generations", generations, 0);
  at_least("mutants", mutants, 0);
  at_least("crossovers", crossovers, 0);
  // Each candidate is a forward of every search document, and the population is held in memory.
  for (const auto& [name, v] : {std::pair{"population", population}, {"mutants", mutants}, {"crossovers", crossovers}})
    if (v > 1000000) throw InvalidSetting(name, fmt::format("must be at most 10^6, got {}", v));
  if (parents > population) throw InvalidSetting("parents", fmt::format("{} exceeds the population ({})", parents, population));
}

void sort_candidates(std::vector<Candidate>& c) {
  // A diverged candidate (NaN) ranks last: NaN compares false both ways and would break the ordering.
  auto rank = [](double score) { return std::isnan(score) ? std::numeric_limits<double>::infinity() : score; };
  std::sort(c.begin(), c.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.raced_out != b.raced_out) return b.raced_out;
    if (rank(a.score) != rank(b.score)) return rank(a.score) < rank(b.score);
    return a.genome.key() < b.genome.key();
  });
}

EvolutionSearch::EvolutionSearch(SearchSpace space, SearchSettings settings, std::vector<Genome> seeds)
    : space_(std::move(space)), settings_(settings), seeds_(std::move(seeds)) {
  settings_.validate();
  if (seeds_.empty()) throw std::invalid_argument("the search needs at least one seed");
  for (const Genome& g : seeds_)
    if (auto why = genome_violation(space_, g)) throw std::invalid_argument("seed outside the search space: " + *why);
}

int64_t EvolutionSearch::planned_evaluations() const {
  return settings_.population + static_cast<int64_t>(settings_.generations) * (settings_.mutants + settings_.crossovers);
}

std::vector<Genome> EvolutionSearch::initial_candidates(GenomeKeys& seen, SearchRng& rng) const {
  std::vector<Genome> out;
  for (const Genome& g : seeds_)
    if (seen.insert(g.key()).second && static_cast<int>(out.size()) < settings_.population) out.push_back(g);
  // Each remaining individual is a fresh mutation of a seed, round-robin over the seeds.
  for (size_t attempt = 0; static_cast<int>(out.size()) < settings_.population && attempt < 100 * seeds_.size() + 1000; ++attempt) {
    if (auto child = mutate(space_, seeds_[attempt % seeds_.size()], seen, rng)) {
      seen.insert(child->key());
      out.push_back(*child);
    }
  }
  return out;
}

std::vector<Genome> EvolutionSearch::children(const std::vector<Candidate>& parents, GenomeKeys& seen, SearchRng& rng) const {
  std::vector<Genome> out;
  const int64_t k = static_cast<int64_t>(parents.size());
  auto add = [&](std::optional<Genome> child) {
    if (!child) return;
    seen.insert(child->key());  // siblings must differ too
    out.push_back(std::move(*child));
  };
  for (int i = 0; i < settings_.mutants; ++i) add(mutate(space_, parents[static_cast<size_t>(rng.uniform_int(0, k - 1))].genome, seen, rng));
  for (int i = 0; i < settings_.crossovers; ++i) {
    if (k < 2) {
      add(mutate(space_, parents[0].genome, seen, rng));
      continue;
    }
    int64_t a = rng.uniform_int(0, k - 1), b = rng.uniform_int(0, k - 2);
    if (b >= a) ++b;  // two distinct parents
    if (a > b) std::swap(a, b);  // a is the better-ranked
    const Genome& better = parents[static_cast<size_t>(a)].genome;
    std::optional<Genome> child = crossover(space_, better, parents[static_cast<size_t>(b)].genome, seen, rng);
    add(child ? std::move(child) : mutate(space_, better, seen, rng));
  }
  return out;
}

SearchState EvolutionSearch::run(const BatchObjective& objective, std::optional<SearchState> resume,
                                 const std::function<void(const SearchState&, const GenerationRecord&)>& on_generation) const {
  SearchState state = resume ? std::move(*resume) : SearchState{};
  SearchRng rng(settings_.seed);
  if (!state.rng_state.empty()) rng.set_state(state.rng_state);
  // Every proposed genome was scored, except seeds beyond the population: an uninterrupted run has
  // them in `seen` too, and mutation retries depend on it.
  GenomeKeys seen;
  for (const auto& kv : state.scores) seen.insert(kv.first);
  if (state.completed_generations >= 0)
    for (const Genome& g : seeds_) seen.insert(g.key());
  auto clock_start = std::chrono::steady_clock::now();
  const double seconds_before = state.seconds;

  auto score_all = [&](const std::vector<Genome>& batch, const Cutoff& cutoff) {
    std::vector<Genome> todo;
    for (const Genome& g : batch)
      if (!state.scores.count(g.key())) todo.push_back(g);  // never evaluate a genome twice
    std::map<std::string, Evaluation> fresh;
    if (!todo.empty()) {
      const std::vector<Evaluation> s = objective(todo, cutoff);
      if (s.size() != todo.size()) throw std::logic_error("objective returned the wrong number of scores");
      for (size_t i = 0; i < todo.size(); ++i) {
        state.scores[todo[i].key()] = s[i].score;
        state.forwards += s[i].forwards;
        state.raced_out += s[i].raced_out ? 1 : 0;
        fresh[todo[i].key()] = s[i];
      }
      state.evaluations += static_cast<int64_t>(todo.size());
    }
    std::vector<Candidate> out;
    for (const Genome& g : batch) {
      auto it = fresh.find(g.key());
      if (it == fresh.end()) out.push_back({g, state.scores.at(g.key()), {}, false});
      else out.push_back({g, it->second.score, it->second.document_nll, it->second.raced_out});
    }
    return out;
  };
  auto finish_generation = [&](int generation, std::vector<Candidate> population) {
    sort_candidates(population);
    state.population = std::move(population);
    state.completed_generations = generation;
    state.rng_state = rng.state();
    state.seconds = seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
    GenerationRecord rec;
    rec.generation = generation;
    rec.best_candidate = state.population.front();
    rec.best = rec.best_candidate.score;
    const size_t k = std::min(state.population.size(), static_cast<size_t>(settings_.parents));
    for (size_t i = 0; i < k; ++i) rec.parents_mean += state.population[i].score / static_cast<double>(k);
    rec.evaluations = state.evaluations;
    rec.forwards = state.forwards;
    rec.raced_out = state.raced_out;
    rec.seconds = state.seconds;
    if (on_generation) on_generation(state, rec);
  };

  if (state.completed_generations < 0)
    finish_generation(0, score_all(initial_candidates(seen, rng), Cutoff{}));
  for (int g = state.completed_generations + 1; g <= settings_.generations; ++g) {
    std::vector<Candidate> parents(state.population.begin(),
                                   state.population.begin() + std::min<size_t>(state.population.size(), settings_.parents));
    std::vector<Candidate> next = parents;
    // A child enters the next parents only by beating the worst current one (μ + λ selection).
    Cutoff cutoff;
    if (parents.size() == static_cast<size_t>(settings_.parents) && !parents.back().raced_out)
      cutoff = Cutoff{parents.back().score, parents.back().document_nll};
    for (Candidate& c : score_all(children(parents, seen, rng), cutoff)) next.push_back(std::move(c));
    finish_generation(g, std::move(next));
  }
  return state;
}

}  // namespace longrope
