// Chunked, full, flash-cpu and (LibTorch >= 2) SDPA attention agree; GQA equals repeated heads.
#include "models/attention.h"

#include "models/flash_attention_cpu.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

namespace longrope {
namespace {

// Plain reference: repeat K/V, full masked softmax.
at::Tensor reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t window) {
  const int64_t h = q.size(1), t = q.size(2), d = q.size(3);
  at::Tensor kk = k.repeat_interleave(h / k.size(1), 1), vv = v.repeat_interleave(h / v.size(1), 1);
  at::Tensor scores = at::matmul(q, kk.transpose(-2, -1)) / std::sqrt(static_cast<double>(d));
  at::Tensor i = at::arange(t).unsqueeze(1), j = at::arange(t).unsqueeze(0);
  at::Tensor visible = j <= i;
  if (window > 0) visible = visible & (j > i - window);
  scores = scores.masked_fill(visible.logical_not(), -INFINITY);
  return at::matmul(at::softmax(scores, -1), vv).transpose(1, 2).reshape({q.size(0), t, h * d});
}

struct Inputs {
  at::Tensor q, k, v;
};

Inputs make_inputs(int64_t b, int64_t h, int64_t kvh, int64_t t, int64_t d) {
  at::manual_seed(5);
  return {at::randn({b, h, t, d}), at::randn({b, kvh, t, d}), at::randn({b, kvh, t, d})};
}

TEST(Attention, ChunkedMatchesReferenceWithGroupedHeads) {
  const Inputs in = make_inputs(2, 8, 2, 157, 16);
  AttentionOptions o;
  o.backend = AttentionBackend::kChunked;
  o.chunk_score_bytes = 2 * 8 * 157 * 4 * 20;  // ~20 query rows per block: many blocks, ragged tail
  const at::Tensor expected = reference(in.q, in.k, in.v, 0);
  EXPECT_TRUE(at::allclose(causal_attention(in.q, in.k, in.v, o), expected, 1e-5, 1e-5));
  o.backend = AttentionBackend::kFull;
  EXPECT_TRUE(at::allclose(causal_attention(in.q, in.k, in.v, o), expected, 1e-5, 1e-5));
}

TEST(Attention, SlidingWindowMasksOldKeys) {
  const Inputs in = make_inputs(1, 4, 4, 90, 8);
  AttentionOptions o;
  o.backend = AttentionBackend::kChunked;
  o.sliding_window = 17;
  o.chunk_score_bytes = 4 * 90 * 4 * 16;
  EXPECT_TRUE(at::allclose(causal_attention(in.q, in.k, in.v, o), reference(in.q, in.k, in.v, 17), 1e-5, 1e-5));
}

TEST(Attention, SdpaMatchesChunkedWhereAvailable) {
  if (!sdpa_available()) GTEST_SKIP() << "LibTorch < 2.0 has no public scaled_dot_product_attention";
  const Inputs in = make_inputs(1, 6, 3, 130, 16);
  AttentionOptions chunked, sdpa;
  chunked.backend = AttentionBackend::kChunked;
  sdpa.backend = AttentionBackend::kSdpa;
  EXPECT_TRUE(at::allclose(causal_attention(in.q, in.k, in.v, sdpa), causal_attention(in.q, in.k, in.v, chunked), 1e-5, 1e-5));
}

TEST(Attention, FlashCpuMatchesReference) {
  if (!flash_attention_cpu_supported(16)) GTEST_SKIP() << "this CPU has no AVX2 and FMA";
  AttentionOptions o;
  o.backend = AttentionBackend::kFlashCpu;
  // Lengths around the kernel's blocks (96 queries, 128 keys, 16-key panels, 6-row tiles), grouped
  // heads, windows shorter and longer than a block.
  for (const int64_t t : {1, 5, 17, 96, 97, 129, 300}) {
    for (const int64_t d : {16, 64}) {
      for (const int64_t window : {0, 7, 150}) {
        const Inputs in = make_inputs(2, 6, 3, t, d);
        o.sliding_window = window;
        const at::Tensor got = causal_attention(in.q, in.k, in.v, o), expected = reference(in.q, in.k, in.v, window);
        EXPECT_TRUE(at::allclose(got, expected, 1e-5, 1e-5)) << "t " << t << " d " << d << " window " << window << ": max diff "
                                                             << (got - expected).abs().max().item<float>();
      }
    }
  }
}

TEST(Attention, FlashCpuReadsStridedRowsAsTheModelPassesThem) {
  if (!flash_attention_cpu_supported(32)) GTEST_SKIP() << "this CPU has no AVX2 and FMA";
  // The model's q and k are (B, T, H, D) projections viewed as (B, H, T, D): rows strided by H·D.
  at::manual_seed(9);
  const at::Tensor q = at::randn({2, 250, 4, 32}).transpose(1, 2), k = at::randn({2, 250, 2, 32}).transpose(1, 2),
                   v = at::randn({2, 250, 2, 32}).transpose(1, 2);
  AttentionOptions o;
  o.backend = AttentionBackend::kFlashCpu;
  EXPECT_TRUE(at::allclose(causal_attention(q, k, v, o), reference(q.contiguous(), k.contiguous(), v.contiguous(), 0), 1e-5, 1e-5));
}

TEST(Attention, FlashCpuPassesANanOnAsTheReferenceDoes) {
  if (!flash_attention_cpu_supported(16)) GTEST_SKIP() << "this CPU has no AVX2 and FMA";
  // A NaN key in the last lane of a 128-key block: every query that sees it gets NaN, the others not.
  const Inputs in = make_inputs(1, 2, 2, 200, 16);
  at::Tensor k = in.k.clone();
  k[0][1][127][3].fill_(NAN);
  AttentionOptions o;
  o.backend = AttentionBackend::kFlashCpu;
  const at::Tensor got = causal_attention(in.q, k, in.v, o).view({200, 2, 16});
  EXPECT_FALSE(at::isnan(got.slice(0, 0, 127)).any().item<bool>());
  EXPECT_TRUE(at::isnan(got.slice(0, 127).select(1, 1)).all().item<bool>());
  EXPECT_FALSE(at::isnan(got.select(1, 0)).any().item<bool>());
}

TEST(Attention, AutoLeavesFlashCpuWhereGradientsAreNeeded) {
  const Inputs in = make_inputs(1, 2, 2, 40, 16);
  const at::Tensor q = in.q.clone().requires_grad_(true);
  EXPECT_FALSE(flash_cpu_applies(q, in.k, in.v));  // autograd needs a differentiable backend
  const at::Tensor out = causal_attention(q, in.k, in.v, AttentionOptions{});
  EXPECT_TRUE(out.requires_grad());
  EXPECT_TRUE(at::allclose(out.detach(), reference(in.q, in.k, in.v, 0), 1e-5, 1e-5));
  EXPECT_EQ(flash_cpu_applies(in.q, in.k, in.v), flash_attention_cpu_supported(16));
  EXPECT_FALSE(flash_cpu_applies(in.q.to(at::kDouble), in.k.to(at::kDouble), in.v.to(at::kDouble)));
}

TEST(Attention, FlashCpuRefusesWhatItCannotRun) {
  const Inputs in = make_inputs(1, 2, 2, 8, 12);  // head size 12: not a multiple of 16
  AttentionOptions o;
  o.backend = AttentionBackend::kFlashCpu;
  EXPECT_THROW(causal_attention(in.q, in.k, in.v, o), c10::Error);
  o.backend = AttentionBackend::kAuto;  // auto falls back instead
  EXPECT_TRUE(at::allclose(causal_attention(in.q, in.k, in.v, o), reference(in.q, in.k, in.v, 0), 1e-5, 1e-5));
}

}  // namespace
}  // namespace longrope
