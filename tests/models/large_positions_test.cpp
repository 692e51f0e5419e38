// Numerics at large positions: a 512x table of a LLaMA-shaped geometry reaches 2M positions. The angle
// n·θ_i/λ_i must be formed in float64 (in float32 its error at n = 2^21 is ~0.1 rad), positions must
// stay integers (a float32 position is exact only up to 2^24), and the long-window code paths that
// split work into blocks (chunked attention, the LM head and loss, the MLP) must give what one block
// gives.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "eval/perplexity.h"
#include "models/attention.h"
#include "models/rope_table.h"
#include "tests/test_models.h"

namespace longrope {
namespace {

constexpr int64_t kTwoMillion = int64_t{1} << 21;

// a·cos(n·θ_i/λ_i) and a·sin(…) in long double, from the definition: θ_i = b^(−2i/d).
long double reference(const RopeGeometry& g, const RopeScaling& s, int64_t n, int64_t i, bool sine) {
  const long double theta = std::pow(static_cast<long double>(g.base), -2.0L * i / g.rotary_dim);
  const long double angle = static_cast<long double>(n) * theta / static_cast<long double>(s.lambda[static_cast<size_t>(i)]);
  return static_cast<long double>(s.attention_factor) * (sine ? std::sin(angle) : std::cos(angle));
}

// Rows of the table at 2^21 + 1 positions against the long-double reference: the worst error over
// positions near 0, 2^20 and 2^21, every pair, cos and sin.
double worst_error(at::ScalarType dtype) {
  // LLaMA-2's θ = 10 000 with 4 pairs (d = 8) keeps the table small; the angles span the same range.
  const RopeGeometry g{8, 10000.0, 4096};
  const RopeScaling s = rope_yarn(g, 512.0);
  const RopeTable t = build_rope_table(g, s, kTwoMillion + 1, c10::Device(c10::kCPU), dtype);
  const at::Tensor cos = t.cos.to(at::kDouble), sin = t.sin.to(at::kDouble);
  double worst = 0;
  for (const int64_t n : {int64_t{0}, int64_t{1}, int64_t{4097}, (kTwoMillion >> 1) + 12345, kTwoMillion - 1, kTwoMillion}) {
    for (int64_t i = 0; i < 4; ++i) {
      worst = std::max(worst, std::abs(cos[n][i].item<double>() - static_cast<double>(reference(g, s, n, i, false))));
      worst = std::max(worst, std::abs(sin[n][i].item<double>() - static_cast<double>(reference(g, s, n, i, true))));
    }
  }
  return worst;
}

TEST(LargePositions, RopeTableAtTwoMillionPositionsIsRoundedOnceFromFloat64) {
  // One rounding of a value of magnitude below 2 (YaRN's attention factor is 1.62 at 512x): half an
  // ulp there, 2^-24 in float32 (6e-8; allowed 1.2e-7) and 2^-8 in bfloat16 (3.9e-3). The float64 angle
  // adds ~1e-10.
  EXPECT_LE(worst_error(at::kFloat), 1.2e-7);
  EXPECT_LE(worst_error(at::kBFloat16), 0.00390625 + 1e-9);
}

TEST(LargePositions, Float32AnglesWouldBeWrongThere) {
  // Why the table is built in float64: the same angles formed in float32 at n = 2^21 − 1 (an exact
  // float32 integer) are off by ~ n·ulp(θ_i) plus the product's rounding, orders of magnitude beyond
  // the float32 table's tolerance.
  const RopeGeometry g{8, 10000.0, 4096};
  const std::vector<double> inv = inverse_frequencies(g, std::vector<double>(4, 1.0));
  const int64_t n = kTwoMillion - 1;
  double worst = 0;
  for (const double f : inv) {
    const float angle32 = static_cast<float>(n) * static_cast<float>(f);
    worst = std::max(worst, std::abs(std::cos(static_cast<double>(angle32)) - std::cos(static_cast<double>(n) * f)));
  }
  EXPECT_GT(worst, 1e-3);
  // Positions are integers, and float64 where the table forms angles: exact far beyond float32's 2^24.
  EXPECT_EQ(static_cast<float>((int64_t{1} << 24) + 1), static_cast<float>(int64_t{1} << 24));
  EXPECT_EQ(at::arange((int64_t{1} << 24) + 2, at::kDouble)[(int64_t{1} << 24) + 1].item<double>(), 16777217.0);
}

at::Tensor random_tokens(int64_t n, uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  return at::randint(0, 256, {1, n}, g, at::kLong);
}

TEST(LargePositions, LossAndMlpBlocksGiveOneBlocksAnswerAtALongWindow) {
  // 16 384 tokens at 256x of the tiny model's L = 64: blocks that do not divide T against one block.
  c10::InferenceMode guard;
  const LlamaConfig c = tiny_config();
  const int64_t n = 16384;
  ModelOptions one_block;
  one_block.mlp_chunk_tokens = n;
  ModelOptions blocks;
  blocks.mlp_chunk_tokens = 3000;
  const LlamaModel whole = tiny_model(c, 11, one_block), split = tiny_model(c, 11, blocks);
  const RopeScaling s = rope_yarn(whole.rope_geometry(), 256.0);
  PerplexityEvaluator a(whole, PerplexityOptions{n, std::nullopt, n, 1});
  PerplexityEvaluator b(split, PerplexityOptions{n, std::nullopt, 1000, 1});
  const at::Tensor tokens = random_tokens(n, 5);
  const double x = a.nll_sums(tokens, a.table(s))[0], y = b.nll_sums(tokens, b.table(s))[0];
  EXPECT_NEAR(y, x, 1e-5 * std::abs(x));
}

TEST(LargePositions, ChunkedAttentionEqualsTheFullMatrixAtALongWindow) {
  // 4096 positions (a 268 MB full score matrix), the chunked backend forced into 16-row blocks.
  c10::InferenceMode guard;
  at::manual_seed(3);
  const int64_t t = 4096;
  const at::Tensor q = at::randn({1, 4, t, 8}), k = at::randn({1, 2, t, 8}), v = at::randn({1, 2, t, 8});
  AttentionOptions full, chunked;
  full.backend = AttentionBackend::kFull;
  chunked.backend = AttentionBackend::kChunked;
  chunked.chunk_score_bytes = 16 * t * 4 * 4;
  EXPECT_TRUE(at::allclose(causal_attention(q, k, v, chunked), causal_attention(q, k, v, full), 1e-5, 1e-5));
  if (sdpa_available()) {
    AttentionOptions sdpa;
    sdpa.backend = AttentionBackend::kSdpa;
    EXPECT_TRUE(at::allclose(causal_attention(q, k, v, sdpa), causal_attention(q, k, v, full), 1e-5, 1e-5));
  }
}

}  // namespace
}  // namespace longrope
