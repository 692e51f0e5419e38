// Building, caching and applying RoPE cos/sin tables.
#include "models/rope_table.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>

#include "models/cpu_row_kernels.h"
#include "models/kernel_threads.h"

namespace longrope {

RopeTable rope_table_from_frequencies(const at::Tensor& inv_freq, const at::Tensor& early_inv_freq, int64_t start_tokens,
                                      double attention_factor, int64_t length, c10::Device device, c10::ScalarType dtype,
                                      double early_attention_factor) {
  const at::Tensor positions = at::arange(length, inv_freq.options()).unsqueeze(1);  // (T, 1)
  const at::Tensor angles = positions * inv_freq;  // (T, d/2)
  at::Tensor cos = at::cos(angles) * attention_factor;
  at::Tensor sin = at::sin(angles) * attention_factor;
  const int64_t kept = std::min(start_tokens, length);
  if (kept > 0) {
    // Positions below n̂ keep the original angles and no attention factor (LongRoPE Eq. 3), or the
    // factors a runtime applied before it switched.
    const at::Tensor early_angles = positions.slice(0, 0, kept) * early_inv_freq;
    cos.slice(0, 0, kept).copy_(at::cos(early_angles) * early_attention_factor);
    sin.slice(0, 0, kept).copy_(at::sin(early_angles) * early_attention_factor);
  }
  RopeTable t;
  t.cos = cos.to(device, dtype).contiguous();
  t.sin = sin.to(device, dtype).contiguous();
  t.length = length;
  return t;
}

RopeTable build_rope_table(const RopeGeometry& g, const RopeScaling& s, int64_t length, c10::Device device,
                           c10::ScalarType dtype) {
  validate_rope_scaling(g, s, "rope table");
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const int64_t half = g.rotary_dim / 2;
  std::vector<double> inv = inverse_frequencies(g, s.lambda);
  std::vector<double> early = inverse_frequencies(g, s.early_lambda.empty() ? std::vector<double>(half, 1.0) : s.early_lambda);
  return rope_table_from_frequencies(at::from_blob(inv.data(), {1, half}, f64).clone(),
                                     at::from_blob(early.data(), {1, half}, f64).clone(), s.start_tokens, s.attention_factor,
                                     length, device, dtype, s.early_attention_factor);
}

RopeTable stack_rope_tables(const std::vector<RopeTable>& tables) {
  TORCH_CHECK(!tables.empty(), "no rope tables to stack");
  std::vector<at::Tensor> cos, sin;
  for (const RopeTable& t : tables) {
    TORCH_CHECK(t.cos.dim() == 2 && t.length == tables[0].length, "stacking needs unstacked tables of one length");
    cos.push_back(t.cos);
    sin.push_back(t.sin);
  }
  return RopeTable{at::stack(cos), at::stack(sin), tables[0].length};
}

RopeTable RopeTableCache::get(const RopeScaling& scaling, int64_t length, c10::Device device, c10::ScalarType dtype) {
  const std::string key = fmt::format("{}|{}|{}|", length, device.str(), static_cast<int>(dtype)) + scaling.cache_key();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == key) {
        entries_.splice(entries_.begin(), entries_, it);
        return entries_.front().second;
      }
    }
  }
  RopeTable table = build_rope_table(geometry_, scaling, length, device, dtype);
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.emplace_front(key, table);
  if (entries_.size() > capacity_) entries_.pop_back();
  return table;
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTable& table) {
  const int64_t t = x.size(2);
  const int64_t half = table.cos.size(-1);
  TORCH_CHECK(table.length >= t, "rope table covers ", table.length, " positions, the input has ", t);
  at::Tensor cos, sin;
  if (table.cos.dim() == 3) {  // one table per batch row: (B, 1, T, d/2), broadcast over heads
    TORCH_CHECK(table.cos.size(0) == x.size(0), "stacked rope table has ", table.cos.size(0), " rows, the batch ", x.size(0));
    cos = table.cos.slice(1, 0, t).unsqueeze(1);
    sin = table.sin.slice(1, 0, t).unsqueeze(1);
  } else {
    cos = table.cos.slice(0, 0, t);  // (T, d/2), broadcast over (B, heads)
    sin = table.sin.slice(0, 0, t);
  }
  const bool needs_grad = at::GradMode::is_enabled() && (x.requires_grad() || cos.requires_grad() || sin.requires_grad());
  if (!needs_grad && x.dim() == 4 && x.device().is_cpu() && cos.device().is_cpu() && sin.device().is_cpu() &&
      x.scalar_type() == at::kFloat && cos.scalar_type() == at::kFloat &&
      sin.scalar_type() == at::kFloat && x.stride(3) == 1 && cos.stride(-1) == 1 && sin.stride(-1) == 1 &&
      cos.strides() == sin.strides() && 2 * half <= x.size(-1)) {
    // One pass (models/cpu_row_kernels.h), equal bit for bit to the composition below.
    at::Tensor out = at::empty(x.sizes(), x.options());  // contiguous (B, heads, T, D), as at::cat makes it
    RotaryProblem p;
    p.batch = x.size(0), p.heads = x.size(1), p.tokens = t, p.head_dim = x.size(3), p.half = half;
    p.x = x.data_ptr<float>(), p.x_batch = x.stride(0), p.x_head = x.stride(1), p.x_row = x.stride(2);
    p.cos = cos.data_ptr<float>(), p.sin = sin.data_ptr<float>();
    p.table_batch = cos.dim() == 4 ? cos.stride(0) : 0, p.table_row = cos.stride(-2);
    p.out = out.data_ptr<float>();
    rotate_half_rows(p, kernel_threads());
    return out;
  }
  at::Tensor x1 = x.narrow(-1, 0, half);
  at::Tensor x2 = x.narrow(-1, half, half);
  // (x1, x2) -> (x1·cos − x2·sin, x2·cos + x1·sin): transformers' x·cos + rotate_half(x)·sin.
  at::Tensor out1 = x1 * cos - x2 * sin;
  at::Tensor out2 = x2 * cos + x1 * sin;
  if (2 * half == x.size(-1)) return at::cat({out1, out2}, -1);
  return at::cat({out1, out2, x.narrow(-1, 2 * half, x.size(-1) - 2 * half)}, -1);
}

}  // namespace longrope
