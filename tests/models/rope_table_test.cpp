// cos/sin tables: identity at λ = 1, the n̂ boundary, the relative-position property, the cache.
#include "models/rope_table.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

namespace longrope {
namespace {

const RopeGeometry kGeometry{16, 10000.0, 64};
const c10::Device kCpu(c10::kCPU);

TEST(RopeTable, LambdaOneIsPlainRope) {
  const RopeTable t = build_rope_table(kGeometry, rope_none(kGeometry), 200, kCpu, at::kDouble);
  for (int64_t n : {0, 1, 63, 199})
    for (int64_t i = 0; i < 8; ++i) {
      const double angle = n * std::pow(10000.0, -2.0 * i / 16);
      EXPECT_NEAR(t.cos[n][i].item<double>(), std::cos(angle), 1e-12);
      EXPECT_NEAR(t.sin[n][i].item<double>(), std::sin(angle), 1e-12);
    }
}

TEST(RopeTable, StartTokensKeepOriginalAnglesBelowThreshold) {
  std::vector<double> lambda(8);
  for (size_t i = 0; i < 8; ++i) lambda[i] = 1.0 + i;
  const RopeScaling s = rope_longrope(kGeometry, lambda, /*start_tokens=*/8, /*scale=*/4.0);
  const RopeTable t = build_rope_table(kGeometry, s, 32, kCpu, at::kDouble);
  const RopeTable plain = build_rope_table(kGeometry, rope_none(kGeometry), 32, kCpu, at::kDouble);
  const RopeTable scaled = build_rope_table(kGeometry, rope_longrope(kGeometry, lambda, 0, 4.0), 32, kCpu, at::kDouble);
  EXPECT_TRUE(at::allclose(t.cos.slice(0, 0, 8), plain.cos.slice(0, 0, 8)));  // n = 0..n̂-1: original, no factor
  EXPECT_TRUE(at::allclose(t.sin.slice(0, 7, 8), plain.sin.slice(0, 7, 8)));
  EXPECT_TRUE(at::allclose(t.cos.slice(0, 8, 32), scaled.cos.slice(0, 8, 32)));  // n >= n̂: θ/λ times the factor
  EXPECT_FALSE(at::allclose(t.cos.slice(0, 8, 9), plain.cos.slice(0, 8, 9)));
  EXPECT_NEAR(scaled.cos[0][0].item<double>(), s.attention_factor, 1e-12);  // cos(0)·a
}

TEST(RopeTable, RotationDependsOnlyOnRelativePosition) {
  std::vector<double> lambda(8);
  for (size_t i = 0; i < 8; ++i) lambda[i] = 1.0 + 0.7 * i;
  const RopeTable t = build_rope_table(kGeometry, rope_longrope(kGeometry, lambda, 0, 4.0, 1.0), 64, kCpu, at::kDouble);
  at::Tensor q = at::randn({1, 1, 64, 16}, at::kDouble);
  at::Tensor k = at::randn({1, 1, 64, 16}, at::kDouble);
  // Same vector at every position: q_m·k_n must depend on m − n only.
  q = q.slice(2, 0, 1).expand({1, 1, 64, 16}).contiguous();
  k = k.slice(2, 0, 1).expand({1, 1, 64, 16}).contiguous();
  at::Tensor rq = apply_rope(q, t)[0][0], rk = apply_rope(k, t)[0][0];
  const double a = (rq[10] * rk[3]).sum().item<double>();
  const double b = (rq[40] * rk[33]).sum().item<double>();
  EXPECT_NEAR(a, b, 1e-9);
}

// apply_rope's one-pass CPU path (no gradient needed) against LibTorch's composition (taken when the
// input requires grad): equal bit for bit, for the model's strided (B, T, H, D) projections seen as
// (B, H, T, D), a partial rotary (channels past 2·half pass through) and a stacked table per batch row.
TEST(RopeTable, OnePassRotationEqualsTheComposition) {
  at::manual_seed(7);
  const RopeGeometry partial{16, 10000.0, 64};  // 8 pairs rotated of a 20-wide head
  std::vector<double> lambda(8);
  for (size_t i = 0; i < 8; ++i) lambda[i] = 1.0 + 0.5 * i;
  const RopeTable one = build_rope_table(partial, rope_longrope(partial, lambda, 4, 2.0), 50, kCpu, at::kFloat);
  const RopeTable other = build_rope_table(partial, rope_pi(partial, 3.0), 50, kCpu, at::kFloat);
  const RopeTable stacked = stack_rope_tables({one, other});
  const at::Tensor projected = at::randn({2, 37, 3, 20});  // (B, T, H, D) as the projection writes it
  const at::Tensor x = projected.transpose(1, 2);           // (B, H, T, D), rows contiguous
  for (const RopeTable* table : {&one, &stacked}) {
    const at::Tensor fast = apply_rope(x, *table);
    const at::Tensor reference = apply_rope(x.detach().clone().requires_grad_(true), *table).detach();
    ASSERT_EQ(fast.sizes(), reference.sizes());
    EXPECT_TRUE(at::equal(fast, reference));
    EXPECT_TRUE(at::equal(fast.narrow(-1, 16, 4), x.narrow(-1, 16, 4)));  // passed through
  }
}

TEST(RopeTable, CacheReturnsTheSameTableForTheSameKey) {
  RopeTableCache cache(kGeometry, 2);
  const RopeScaling pi = rope_pi(kGeometry, 2.0);
  const RopeTable a = cache.get(pi, 32, kCpu, at::kFloat);
  const RopeTable b = cache.get(pi, 32, kCpu, at::kFloat);
  EXPECT_TRUE(a.cos.is_same(b.cos));
  const RopeTable c = cache.get(rope_pi(kGeometry, 3.0), 32, kCpu, at::kFloat);
  EXPECT_FALSE(a.cos.is_same(c.cos));
  EXPECT_FALSE(cache.get(pi, 33, kCpu, at::kFloat).cos.is_same(a.cos));
}

}  // namespace
}  // namespace longrope
