// RopeTable: cos/sin tables of a RopeScaling at a sequence length, and a cache of them per
// (scaling, length, device, dtype) so that a rescaled RoPE costs no more than plain RoPE.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <vector>

#include "rope/rope_scaling.h"

namespace longrope {

// Half tables: cos[n, i] = a_n·cos(n·θ_i/λ_i) for i < d/2 (the other half of HF's duplicated table
// is identical), with a_n = attention_factor for n >= n̂ and 1 below it.
// A stacked table (one per batch row, see stack_rope_tables) is (B, T, d/2): a search scores several
// candidates in one batched forward over the same tokens.
struct RopeTable {
  at::Tensor cos;  // (T, d/2) or (B, T, d/2), compute dtype, on the model's device
  at::Tensor sin;
  int64_t length = 0;
};

// Angles are computed in float64 on the CPU, then rounded to `dtype` once.
RopeTable build_rope_table(const RopeGeometry& geometry, const RopeScaling& scaling, int64_t length,
                           c10::Device device, c10::ScalarType dtype);

// The table from float64 inverse frequencies (1, d/2): θ_i/λ_i for positions >= n̂, and
// `early_inv_freq` (the original θ_i for LongRoPE's n̂) times `early_attention_factor` below n̂.
// `inv_freq` may require grad (∂NLL/∂λ: eval/lambda_gradient.h); build_rope_table is this with
// inverse_frequencies().
RopeTable rope_table_from_frequencies(const at::Tensor& inv_freq, const at::Tensor& early_inv_freq, int64_t start_tokens,
                                      double attention_factor, int64_t length, c10::Device device, c10::ScalarType dtype,
                                      double early_attention_factor = 1.0);

// Row b of the result is tables[b]; all must share length, device and dtype.
RopeTable stack_rope_tables(const std::vector<RopeTable>& tables);

// Thread-safe LRU cache of tables. A search evaluates each candidate on several documents of the same
// length, so the table of the candidate in flight is built once.
class RopeTableCache {
 public:
  explicit RopeTableCache(RopeGeometry geometry, size_t capacity = 8) : geometry_(geometry), capacity_(capacity) {}
  RopeTable get(const RopeScaling& scaling, int64_t length, c10::Device device, c10::ScalarType dtype);
  const RopeGeometry& geometry() const { return geometry_; }

 private:
  RopeGeometry geometry_;
  size_t capacity_;
  std::mutex mutex_;
  std::list<std::pair<std::string, RopeTable>> entries_;  // most recently used first
};

// x: (B, heads, T, D); a stacked table must have B rows. Rotates the first d channels (half-split "NeoX" pairing, as transformers'
// rotate_half) and passes the rest through.
at::Tensor apply_rope(const at::Tensor& x, const RopeTable& table);

}  // namespace longrope
