// Causal f32 attention on the CPU in tiles (the flash-attention scheme): each block of queries meets
// the keys up to its diagonal one block at a time, keeping a running softmax, so no score matrix
// larger than one tile exists. Hand-written for AVX2 and FMA; no LibTorch here (the caller runs the
// tasks on its threads).
#pragma once

#include <cstdint>
#include <functional>

namespace longrope {

// Row-major views: element (b, h, t, j) of Q at q[b·q_batch + h·q_head + t·q_row + j] (j contiguous);
// K and V likewise with kv_heads heads. heads is a multiple of kv_heads (grouped-query attention:
// query head h reads key head h / (heads / kv_heads)). The output is (batch, tokens, heads·head_dim),
// contiguous, as the model's output projection takes it.
struct FlashAttentionProblem {
  int64_t batch = 0, heads = 0, kv_heads = 0, tokens = 0, head_dim = 0;
  int64_t window = 0;  // > 0: query t sees keys t − window + 1 .. t only
  const float* q = nullptr;
  int64_t q_batch = 0, q_head = 0, q_row = 0;
  const float* k = nullptr;
  int64_t k_batch = 0, k_head = 0, k_row = 0;
  const float* v = nullptr;
  int64_t v_batch = 0, v_head = 0, v_row = 0;
  float* out = nullptr;
};

// True where this build and this CPU run the kernel for this head size (AVX2 and FMA at run time;
// head_dim a multiple of 16, at most 512).
bool flash_attention_cpu_supported(int64_t head_dim);

// Runs `count` independent tasks as parallel_for(count, body) chooses, body(begin, end) per range.
using ParallelFor = std::function<void(int64_t count, const std::function<void(int64_t, int64_t)>& body)>;

// Softmax(Q·Kᵀ/√head_dim, causal) · V into problem.out. Call only where flash_attention_cpu_supported.
void flash_attention_cpu(const FlashAttentionProblem& problem, const ParallelFor& parallel_for);

}  // namespace longrope
