// Building, caching and applying RoPE cos/sin tables.
#include "models/rope_table.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace longrope {

RopeTable build_rope_table(const RopeGeometry& g, const RopeScaling& s, int64_t length, c10::Device device,
                           c10::ScalarType dtype) {
  validate_rope_scaling(g, s, "rope table");
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const int64_t half = g.rotary_dim / 2;
  at::Tensor positions = at::arange(length, f64).unsqueeze(1);  // (T, 1)
  std::vector<double> inv = inverse_frequencies(g, s.lambda);
  at::Tensor inv_freq = at::from_blob(inv.data(), {1, half}, f64).clone();
  at::Tensor angles = positions * inv_freq;  // (T, d/2)
  at::Tensor cos = at::cos(angles) * s.attention_factor;
  at::Tensor sin = at::sin(angles) * s.attention_factor;
  const int64_t kept = std::min(s.start_tokens, length);
  if (kept > 0) {
    // Positions below n̂ keep the original angles and no attention factor (LongRoPE Eq. 3).
    std::vector<double> plain = inverse_frequencies(g, std::vector<double>(half, 1.0));
    at::Tensor plain_angles = positions.slice(0, 0, kept) * at::from_blob(plain.data(), {1, half}, f64).clone();
    cos.slice(0, 0, kept).copy_(at::cos(plain_angles));
    sin.slice(0, 0, kept).copy_(at::sin(plain_angles));
  }
  RopeTable t;
  t.cos = cos.to(device, dtype).contiguous();
  t.sin = sin.to(device, dtype).contiguous();
  t.length = length;
  return t;
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
  const int64_t half = table.cos.size(1);
  TORCH_CHECK(table.length >= t, "rope table covers ", table.length, " positions, the input has ", t);
  at::Tensor cos = table.cos.slice(0, 0, t);  // (T, d/2), broadcast over (B, heads)
  at::Tensor sin = table.sin.slice(0, 0, t);
  at::Tensor x1 = x.narrow(-1, 0, half);
  at::Tensor x2 = x.narrow(-1, half, half);
  // (x1, x2) -> (x1·cos − x2·sin, x2·cos + x1·sin): transformers' x·cos + rotate_half(x)·sin.
  at::Tensor out1 = x1 * cos - x2 * sin;
  at::Tensor out2 = x2 * cos + x1 * sin;
  if (2 * half == x.size(-1)) return at::cat({out1, out2}, -1);
  return at::cat({out1, out2, x.narrow(-1, 2 * half, x.size(-1) - 2 * half)}, -1);
}

}  // namespace longrope
