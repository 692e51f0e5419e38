// A search killed inside a generation and resumed from state.json plus the evaluation journal ends
// exactly as an uninterrupted one, and scores no candidate twice across the two runs.
#include "search/evaluation_journal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "search/search_checkpoint.h"
#include "tests/search/test_fingerprint.h"
#include "tests/test_files.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;

SearchSpace journal_space() { return SearchSpace::for_scale(8, 4.0, LambdaBound::Paper); }

// A scorer with a known optimum that counts its calls and "dies" after `kill_after` candidates.
struct CountingScorer {
  SearchSpace space;
  std::atomic<int>* scored;
  int kill_after;
  std::vector<Evaluation> operator()(const std::vector<Genome>& group, const Cutoff&) const {
    std::vector<Evaluation> out;
    for (const Genome& g : group) {
      if (++*scored > kill_after) throw std::runtime_error("killed");
      const std::vector<double> l = g.lambda(space);
      double d = 0;
      for (size_t i = 0; i < l.size(); ++i) d += (l[i] - 1.0 - 0.4 * static_cast<double>(i)) * (l[i] - 1.0 - 0.4 * static_cast<double>(i));
      out.push_back({1.0 + d, 3, false, {0.1 * d, 0.2 * d, 0.3 * d}});
    }
    return out;
  }
};

// Population 12, 4 generations of 4 mutants + 4 crossovers from the best 6, seed 3.
SearchSettings journal_settings() { return SearchSettings{12, 4, 4, 4, 6, 3}; }

TEST(EvaluationJournal, ResumeInsideAGenerationEqualsUninterruptedRun) {
  const SearchSpace space = journal_space();
  const std::vector<Genome> seeds = {genome_from_lambda(space, std::vector<double>(8, 4.0)),
                                     genome_from_lambda(space, std::vector<double>(8, 1.0))};
  const EvolutionSearch search(space, journal_settings(), seeds);
  std::atomic<int> scored{0};
  const SearchState full =
      search.run(make_parallel_objective({CountingScorer{space, &scored, 1 << 30}}), std::nullopt, {});
  const int total = scored.load();
  ASSERT_EQ(full.evaluations, total);

  const fs::path dir = fresh_temp_dir("journal");
  const std::string state_path = (dir / "state.json").string(), journal_path = (dir / "evaluations.jsonl").string();
  const RunFingerprint fp = test_fingerprint(32768);
  // Kills inside the initial population, inside generation 1, and inside the last generation.
  for (int kill_after : {5, 15, total - 2}) {
    fs::remove(state_path);
    std::atomic<int> first{0}, second{0};
    {
      auto journal = std::make_shared<EvaluationJournal>(journal_path, fp, false);
      EXPECT_THROW(search.run(make_parallel_objective({journaled(CountingScorer{space, &first, kill_after}, journal)}),
                              std::nullopt,
                              [&](const SearchState& s, const GenerationRecord&) { write_search_state(state_path, s, fp); }),
                   std::exception);
      EXPECT_EQ(journal->size(), static_cast<size_t>(kill_after));
    }
    auto journal = std::make_shared<EvaluationJournal>(journal_path, fp, true);
    EXPECT_EQ(journal->size(), static_cast<size_t>(kill_after));
    std::optional<SearchState> resume;
    if (fs::exists(state_path)) resume = read_search_state(state_path, fp);
    const SearchState resumed =
        search.run(make_parallel_objective({journaled(CountingScorer{space, &second, 1 << 30}, journal)}), resume, {});
    EXPECT_EQ(kill_after + second.load(), total) << "a candidate was scored twice (killed after " << kill_after << ")";
    EXPECT_EQ(resumed.population.front().genome, full.population.front().genome);
    EXPECT_EQ(resumed.scores, full.scores);
    EXPECT_EQ(resumed.evaluations, full.evaluations);
    EXPECT_EQ(resumed.forwards, full.forwards);
    EXPECT_EQ(resumed.population.front().document_nll, full.population.front().document_nll);
  }

  // A line cut short by a kill is dropped on reopening, and what is appended after it stays
  // readable; a diverged (NaN) evaluation survives the round trip.
  const size_t before = EvaluationJournal(journal_path, fp, true).size();
  std::ofstream(journal_path, std::ios::app) << "{\"key\": \"0,1,2";
  {
    EvaluationJournal reopened(journal_path, fp, true);
    EXPECT_EQ(reopened.size(), before);
    reopened.append("diverged", {std::nan(""), 2, false, {1.0, std::nan("")}});
  }
  const EvaluationJournal again(journal_path, fp, true);
  EXPECT_EQ(again.size(), before + 1);
  const std::optional<Evaluation> diverged = again.find("diverged");
  ASSERT_TRUE(diverged.has_value());
  EXPECT_TRUE(std::isnan(diverged->score));
  EXPECT_EQ(diverged->forwards, 2);
  ASSERT_EQ(diverged->document_nll.size(), 2u);
  EXPECT_TRUE(std::isnan(diverged->document_nll[1]));
  // A resume with other settings is refused, naming them, and leaves the journal as it was;
  // without --resume a fresh journal replaces it.
  RunFingerprint other_fp = fp;
  other_fp.seed = 7;
  try {
    EvaluationJournal other(journal_path, other_fp, true);
    ADD_FAILURE() << "a journal of other settings was reused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("seed (was"), std::string::npos) << e.what();
  }
  EXPECT_EQ(EvaluationJournal(journal_path, fp, true).size(), before + 1);
  EXPECT_EQ(EvaluationJournal(journal_path, other_fp, false).size(), 0u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longrope
