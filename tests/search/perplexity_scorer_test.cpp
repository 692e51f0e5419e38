// The search's perplexity scorer: a batched group scores as separate evaluations do, and racing stops
// exactly the candidates above the cutoff, never on the last document.
#include "search/perplexity_scorer.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/test_models.h"

namespace longrope {
namespace {

Document random_document(const std::string& name, int64_t n, uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  at::Tensor t = at::randint(0, 256, {n}, g, at::kInt);
  return {name, std::vector<int32_t>(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + n)};
}

// A random model with sharp attention and logits, so that the RoPE table visibly changes perplexity
// (std-0.02 weights give near-uniform predictions whatever the positions).
LlamaModel sharp_model() {
  LlamaModel m = tiny_model(tiny_config(), 11);
  for (const LlamaLayerWeights& l : m.weights().layers) {
    l.wq.mul_(30.0);
    l.wk.mul_(30.0);
  }
  m.weights().lm_head.mul_(20.0);
  return m;
}

struct ScorerFixture : ::testing::Test {
  LlamaModel model = sharp_model();
  PerplexityEvaluator evaluator{model, PerplexityOptions{96, std::nullopt, 32, 1}};
  std::vector<Document> docs = {random_document("a", 120, 1), random_document("b", 100, 2), random_document("c", 96, 3)};
  SearchSpace space = SearchSpace::for_scale(4, 2.0, LambdaBound::Paper);
  ScorerSettings settings{model.rope_geometry(), 2.0, std::nullopt, {}, std::nullopt};
  std::vector<Genome> group = {genome_from_lambda(space, {1.0, 1.0, 1.0, 1.0}), genome_from_lambda(space, {1.0, 1.3, 1.8, 2.0}, 8),
                               genome_from_lambda(space, {2.0, 2.0, 2.5, 2.5})};
};

TEST_F(ScorerFixture, BatchedGroupEqualsSeparateEvaluations) {
  const std::vector<Evaluation> got = make_perplexity_scorer(evaluator, docs, space, settings)(group, Cutoff{});
  ASSERT_EQ(got.size(), group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    const double expected = evaluator.evaluate(docs, genome_scaling(group[i], space, settings)).ppl;
    EXPECT_NEAR(got[i].score, expected, 1e-6 * expected) << "candidate " << i;
    EXPECT_EQ(got[i].forwards, 3);
    EXPECT_FALSE(got[i].raced_out);
  }
  // The tables change perplexity far beyond that tolerance: a batch that gave every row one table fails.
  EXPECT_GT(std::abs(got[0].score - got[2].score), 1e-3 * got[0].score);
  EXPECT_GT(std::abs(got[0].score - got[1].score), 1e-3 * got[0].score);
}

TEST_F(ScorerFixture, RacingComparesWithTheCutoffParentDocumentByDocument) {
  settings.race_margin = 0.01;
  const std::vector<Evaluation> full = make_perplexity_scorer(evaluator, docs, space, ScorerSettings{settings.geometry, 2.0, std::nullopt, {}, std::nullopt})(group, Cutoff{});
  // Cutoff = candidate 1's own profile: a candidate stops after the first document where its running
  // mean exceeds candidate 1's by more than 0.01 nats; candidate 1 itself never does.
  const Cutoff parent{full[1].score, full[1].document_nll};
  const std::vector<Evaluation> raced = make_perplexity_scorer(evaluator, docs, space, settings)(group, parent);
  EXPECT_FALSE(raced[1].raced_out);
  EXPECT_EQ(raced[1].forwards, 3);
  for (size_t i : {0u, 2u}) {
    // Expected: the first document d < 2 after which i's running mean exceeds 1's by 0.01.
    int64_t expected_forwards = 3;
    double mine = 0, theirs = 0;
    for (size_t d = 0; d + 1 < docs.size(); ++d) {
      mine += full[i].document_nll[d];
      theirs += full[1].document_nll[d];
      if (mine / (d + 1.0) > theirs / (d + 1.0) + 0.01) {
        expected_forwards = static_cast<int64_t>(d + 1);
        break;
      }
    }
    EXPECT_EQ(raced[i].forwards, expected_forwards) << "candidate " << i;
    EXPECT_EQ(raced[i].raced_out, expected_forwards < 3) << "candidate " << i;
    for (size_t d = 0; d < raced[i].document_nll.size(); ++d) EXPECT_NEAR(raced[i].document_nll[d], full[i].document_nll[d], 1e-6);
  }
  // A parent 1 nat better on the first document stops every candidate after it, even its own genome.
  Cutoff strong = parent;
  strong.document_nll[0] -= 1.0;
  for (const Evaluation& e : make_perplexity_scorer(evaluator, docs, space, settings)(group, strong)) {
    EXPECT_TRUE(e.raced_out);
    EXPECT_EQ(e.forwards, 1);
  }
}

TEST_F(ScorerFixture, RacingStopsCandidatesAboveTheCutoff) {
  settings.race_margin = 0.0;
  const GroupScorer racer = make_perplexity_scorer(evaluator, docs, space, settings);
  // A cutoff nothing can beat: every candidate stops after the first document, scored on it alone.
  const std::vector<Evaluation> stopped = racer(group, Cutoff{1.0, {}});
  for (size_t i = 0; i < group.size(); ++i) {
    EXPECT_TRUE(stopped[i].raced_out);
    EXPECT_EQ(stopped[i].forwards, 1);
    const double first_doc = evaluator.evaluate({docs[0]}, genome_scaling(group[i], space, settings)).ppl;
    EXPECT_NEAR(stopped[i].score, first_doc, 1e-5 * first_doc);
    EXPECT_GT(stopped[i].score, 1.0);
  }
  // A generous margin (or no cutoff, the initial population) lets every candidate finish.
  settings.race_margin = 50.0;
  for (const Evaluation& e : make_perplexity_scorer(evaluator, docs, space, settings)(group, Cutoff{1.0, {}})) EXPECT_EQ(e.forwards, 3);
  for (const Evaluation& e : racer(group, Cutoff{})) EXPECT_FALSE(e.raced_out);
  // The last document is never cut short: with one document there is nothing to race.
  const std::vector<Document> one = {docs[0]};
  for (const Evaluation& e : make_perplexity_scorer(evaluator, one, space, ScorerSettings{settings.geometry, 2.0, std::nullopt, {}, 0.0})(group, Cutoff{1.0, {}}))
    EXPECT_FALSE(e.raced_out);
}

TEST(StackedRopeTable, EachRowRotatesByItsOwnTable) {
  const RopeGeometry g{8, 10000.0, 64};
  const RopeTable a = build_rope_table(g, rope_none(g), 16, c10::kCPU, at::kFloat);
  const RopeTable b = build_rope_table(g, rope_pi(g, 4.0), 16, c10::kCPU, at::kFloat);
  at::Tensor x = at::randn({2, 3, 16, 8});
  const at::Tensor both = apply_rope(x, stack_rope_tables({a, b}));
  EXPECT_TRUE(at::allclose(both[0], apply_rope(x.slice(0, 0, 1), a)[0]));
  EXPECT_TRUE(at::allclose(both[1], apply_rope(x.slice(0, 1, 2), b)[0]));
  EXPECT_THROW(apply_rope(at::randn({3, 3, 16, 8}), stack_rope_tables({a, b})), c10::Error);
}

}  // namespace
}  // namespace longrope
