// RMSNorm and RoPE's rotation for the CPU forward in f32, each one pass over its rows. LibTorch's
// composition of them (pow, mean, rsqrt, mul; four products, two sums and a concatenation) makes 5–7
// passes with temporaries: at 32k tokens on SmolLM2's shape, 10 s of a 375 s pass. No LibTorch here;
// models/llama_model.cpp and models/rope_table.cpp call these where no gradient is needed.
#pragma once

#include <cstdint>

namespace longrope {

// out[r] = weight · (x[r] / sqrt(mean(x[r]²) + eps)) for `rows` rows of `width` floats (row r of x at
// x + r·x_row, of out at out + r·width). As transformers' LlamaRMSNorm in f32: the normalised row is
// rounded before the weight multiplies it; the squares are summed in 16 float lanes, combined in double.
void rms_norm_rows(const float* x, int64_t x_row, int64_t rows, int64_t width, const float* weight, float eps, float* out,
                   int64_t threads);

// Rotary embedding with transformers' rotate_half pairing: channel i < half pairs with i + half,
//   out_i = x_i·cos_i − x_{i+half}·sin_i,  out_{i+half} = x_{i+half}·cos_i + x_i·sin_i,
// channels from 2·half on pass through. x is (batch, heads, tokens, head_dim) with any strides but
// contiguous rows; out is that shape, contiguous. cos/sin row t of batch b at cos + b·table_batch +
// t·table_row (table_batch 0: one table for every batch row). Each product is rounded before the sum,
// as LibTorch's element-wise path does, so the result equals it bit for bit.
struct RotaryProblem {
  int64_t batch = 0, heads = 0, tokens = 0, head_dim = 0, half = 0;
  const float* x = nullptr;
  int64_t x_batch = 0, x_head = 0, x_row = 0;
  const float* cos = nullptr;
  const float* sin = nullptr;
  int64_t table_batch = 0, table_row = 0;
  float* out = nullptr;
};
void rotate_half_rows(const RotaryProblem& problem, int64_t threads);

}  // namespace longrope
