// Perplexity: the reference scoring rule, chunked loss, BOS handling, a known answer.
#include "eval/perplexity.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/test_models.h"

namespace longrope {
namespace {

using ::testing::HasSubstr;

Document random_document(const std::string& name, int64_t n, uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  at::Tensor t = at::randint(0, 256, {n}, g, at::kInt);
  return {name, std::vector<int32_t>(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + n)};
}

TEST(Perplexity, ChunkedLossEqualsFullCrossEntropy) {
  at::manual_seed(1);
  at::Tensor hidden = at::randn({2, 37, 16});
  at::Tensor head = at::randn({50, 16});
  at::Tensor targets = at::randint(0, 50, {2, 37}, at::kLong);
  at::Tensor expected = -at::log_softmax(at::linear(hidden, head), -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1).sum(1);
  EXPECT_TRUE(at::allclose(chunked_nll_sum(hidden, targets, head, 5).to(at::kFloat), expected, 1e-4, 1e-4));
}

TEST(Perplexity, RandomModelIsNearVocabularySize) {
  // std-0.02 weights give near-uniform next-token distributions: ppl ≈ V = 256.
  const LlamaModel m = tiny_model(tiny_config(), 7);
  PerplexityEvaluator ev(m, PerplexityOptions{128, std::nullopt, 32, 1});
  const PerplexityResult r = ev.evaluate({random_document("a", 200, 1), random_document("b", 300, 2)}, rope_none(m.rope_geometry()));
  EXPECT_NEAR(r.ppl, 256.0, 256.0 * 0.05);
  EXPECT_EQ(r.documents.size(), 2u);
  EXPECT_EQ(r.predictions, 2 * 127);
  EXPECT_NEAR(r.ppl, std::exp(0.5 * (r.documents[0].mean_nll + r.documents[1].mean_nll)), 1e-9);
}

TEST(Perplexity, MatchesScoringLogitsByHandWithBosNeverScored) {
  const LlamaModel m = tiny_model(tiny_config(), 8);
  const Document d = random_document("doc", 100, 3);
  const int64_t length = 40, bos = 1;
  PerplexityEvaluator ev(m, PerplexityOptions{length, bos, 7, 1});
  const RopeScaling s = rope_pi(m.rope_geometry(), 2.0);
  const PerplexityResult r = ev.evaluate({d}, s);
  // By hand: window = [BOS, d[0..38]]; 39 predictions, targets d[0..38].
  std::vector<int64_t> ids = {bos};
  for (int i = 0; i < length - 1; ++i) ids.push_back(d.tokens[i]);
  c10::InferenceMode guard;
  at::Tensor tokens = at::tensor(ids, at::kLong).unsqueeze(0);
  at::Tensor logits = m.logits(m.hidden_states(tokens, build_rope_table(m.rope_geometry(), s, length, m.device(), m.dtype())));
  at::Tensor logp = at::log_softmax(logits[0].slice(0, 0, length - 1), -1);
  at::Tensor nll = -logp.gather(-1, tokens[0].slice(0, 1, length).unsqueeze(-1)).mean();
  EXPECT_NEAR(r.mean_nll, nll.item<double>(), 1e-5);
  EXPECT_EQ(r.predictions, length - 1);
}

TEST(Perplexity, BatchOfDocumentsEqualsOneAtATime) {
  const LlamaModel m = tiny_model(tiny_config(), 9);
  const std::vector<Document> docs = {random_document("a", 90, 4), random_document("b", 90, 5), random_document("c", 90, 6)};
  PerplexityEvaluator one(m, PerplexityOptions{64, std::nullopt, 64, 1}), three(m, PerplexityOptions{64, std::nullopt, 64, 3});
  const RopeScaling s = rope_ntk(m.rope_geometry(), 2.0);
  EXPECT_NEAR(one.evaluate(docs, s).mean_nll, three.evaluate(docs, s).mean_nll, 1e-6);
}

TEST(Perplexity, RejectsShortDocumentsAndOutOfVocabularyIds) {
  const LlamaModel m = tiny_model(tiny_config(), 10);
  PerplexityEvaluator ev(m, PerplexityOptions{64, std::nullopt, 64, 1});
  try {
    ev.evaluate({random_document("short-one", 20, 1)}, rope_none(m.rope_geometry()));
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("short-one"));
  }
  Document bad = random_document("bad", 80, 1);
  bad.tokens[10] = 999;
  EXPECT_THROW(ev.evaluate({bad}, rope_none(m.rope_geometry())), std::runtime_error);
}

}  // namespace
}  // namespace longrope
