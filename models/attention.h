// Causal self-attention for long sequences without a full T×T score matrix.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace longrope {

enum class AttentionBackend {
  kAuto,     // on a CPU with AVX2 and FMA, f32 without gradients: flash-cpu; else SDPA on LibTorch >= 2.0 when no
             // sliding window; else chunked
  kChunked,  // query blocks against the causal prefix of keys; works on every LibTorch
  kSdpa,     // at::scaled_dot_product_attention; LibTorch >= 2.0 only
  kFull,     // one T×T matrix: the plain reference, for tests and short sequences
  kFlashCpu, // the project's tiled f32 kernel (models/flash_attention_cpu.h): CPU, AVX2 + FMA, no autograd
};

struct AttentionOptions {
  AttentionBackend backend = AttentionBackend::kAuto;
  int64_t sliding_window = 0;          // > 0: a query sees only the last `sliding_window` keys (Mistral)
  int64_t chunk_score_bytes = 256 << 20;  // budget for one block of fp32 scores (chunked backend)
};

// q: (B, H, T, D), k and v: (B, KVH, T, D) with H a multiple of KVH (grouped-query attention).
// Returns (B, T, H·D) in q's dtype. Softmax runs in float32.
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttentionOptions& options);

// Queries at positions start .. start+t−1 against keys and values at positions 0 .. start+t−1 (a
// cache followed by the queries' own), causal, as causal_attention computes it for the whole
// sequence. For decoding: t is small (one new token at a time). Returns (B, t, H·D).
at::Tensor attention_after_prefix(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t start,
                                  const AttentionOptions& options);

bool sdpa_available();
// Whether the flash-cpu backend can take these inputs (CPU, f32, no gradient needed, AVX2 + FMA, D % 16 == 0).
bool flash_cpu_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);
AttentionBackend parse_attention_backend(const std::string& name);

}  // namespace longrope
