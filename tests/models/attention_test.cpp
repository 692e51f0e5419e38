// Chunked, full and (LibTorch >= 2) SDPA attention agree; GQA equals repeated heads.
#include "models/attention.h"

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

}  // namespace
}  // namespace longrope
