// RopeScaling: per-dimension RoPE rescale factors λ, start-token threshold n̂ and attention factor,
// with generators for PI, NTK, dynamic NTK, YaRN, Llama 3 and LongRoPE tables. Pure math: no tensors, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rope/rope_method.h"

namespace longrope {

// What the rotary embedding of a model looks like before any scaling.
struct RopeGeometry {
  int64_t rotary_dim = 0;       // d: channels rotated per head (pairs i = 0 .. d/2-1)
  double base = 10000.0;        // b: θ_i = b^(-2i/d)
  int64_t original_length = 0;  // L: the context the model was pre-trained at
};

// θ'_i = θ_i / λ_i for positions n >= start_tokens; positions n < start_tokens keep θ_i and an
// attention factor of 1 (LongRoPE Eq. 3). cos and sin of rescaled positions are multiplied by
// attention_factor, so attention logits scale by its square (transformers' attention_scaling).
struct RopeScaling {
  RopeMethod method = RopeMethod::None;  // what made it (a label: cos/sin depend on the fields below only)
  std::vector<double> lambda;   // λ_i, length d/2, each >= some positive value (1 for searched tables)
  int64_t start_tokens = 0;     // n̂
  double attention_factor = 1.0;
  // What positions below start_tokens run: the model's own angles with no attention factor (LongRoPE's
  // n̂) while early_lambda is empty; else θ_i/early_λ_i scaled by early_attention_factor. That is how a
  // runtime that switches factor sets in mid-decode (transformers at L + 1) left the keys it cached
  // before the switch: rotated by the factors of their time (rope/runtime_rule.h).
  std::vector<double> early_lambda;
  double early_attention_factor = 1.0;

  // Exact identity of the table, for caches: two scalings with equal keys give equal cos/sin.
  std::string cache_key() const;
  bool operator==(const RopeScaling& other) const;
};

// θ_i / λ_i for every pair, in double precision.
std::vector<double> inverse_frequencies(const RopeGeometry& geometry, const std::vector<double>& lambda);

// LongRoPE2's critical dimension, its theoretical value: the first pair i whose wavelength 2π·b^(2i/d)
// exceeds L, i.e. ceil((d/2)·log_b(L/2π)), within [0, d/2]. Pairs from it on never complete a period
// in pre-training. (LLaMA-3-8B: b 500 000, d 128, L 8192 -> 35; LLaMA-2-7B: 10 000, 128, 4096 -> 46.
// The LongRoPE2 code's default is one less.)
int64_t critical_dimension(const RopeGeometry& g);

RopeScaling rope_none(const RopeGeometry& g);
// Position Interpolation: λ_i = s.
RopeScaling rope_pi(const RopeGeometry& g, double scale);
// Static NTK-aware base change b' = b·s^(d/(d-2)), i.e. λ_i = s^(2i/(d-2)).
RopeScaling rope_ntk(const RopeGeometry& g, double scale);
// Plain RoPE with base b' instead of b, as a table on the model's own base: λ_i = (b'/b)^(2i/d).
RopeScaling rope_with_base(const RopeGeometry& g, double new_base);
// transformers' "dynamic" type at sequence length T with factor f: b' = b·((f·T/L) − (f−1))^(d/(d−2)),
// with T = max(T, L). With f = 1 (what dynamic scaling means: the scale follows the length) that is
// NTK at s = T/L; with f = s at T = s·L the base grows by (s² − s + 1)^(d/(d−2)), far past NTK's.
RopeScaling rope_dynamic_ntk(const RopeGeometry& g, double factor, int64_t sequence_length);

struct YarnOptions {
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  bool truncate = true;
  std::optional<double> attention_factor;  // default 0.1·ln(s) + 1
};
// YaRN exactly as transformers' _compute_yarn_parameters: 1/λ_i = ramp_i/s + (1 − ramp_i).
RopeScaling rope_yarn(const RopeGeometry& g, double scale, const YarnOptions& options = {});
// The ramp over pair index used by YaRN (0 below the correction range, 1 above it).
std::vector<double> yarn_ramp(const RopeGeometry& g, double beta_fast, double beta_slow, bool truncate);
// The YaRN-shaped seed of the reference search: λ_i = 1 + (s − 1)·ramp_i (a linear blend in λ).
std::vector<double> yarn_shaped_lambda(const RopeGeometry& g, double scale, double beta_fast = 32.0, double beta_slow = 1.0);

// Llama 3.1's rule exactly as transformers' _compute_llama3_parameters, with L the geometry's original
// length: pairs whose wavelength 2π/θ_i is below L/high_freq_factor keep θ_i, those above
// L/low_freq_factor get θ_i/s, and those between blend 1/λ_i = (1 − σ)/s + σ with
// σ = (L/wavelength − low_freq_factor)/(high_freq_factor − low_freq_factor). Attention factor 1.
RopeScaling rope_llama3(const RopeGeometry& g, double scale, double low_freq_factor, double high_freq_factor);

// LongRoPE "su" attention factor: sqrt(1 + ln s / ln L), 1 when s <= 1 or L <= 1. The one formula:
// searched tables, baselines and every exporter use it.
double longrope_attention_factor(double scale, int64_t original_length);
// A searched table. The attention factor defaults to "su" for the given scale. `source` (the
// table's file) names it in errors.
RopeScaling rope_longrope(const RopeGeometry& g, std::vector<double> lambda, int64_t start_tokens, double scale,
                          std::optional<double> attention_factor = std::nullopt, const std::string& source = "longrope table");

// The baselines a searched table is judged against, evaluated as the methods themselves (with their
// own attention factors). Dynamic NTK is not one: at the evaluation length it is NTK (factor 1).
const std::vector<RopeMethod>& baseline_methods();

// Throws std::runtime_error naming `context` (a table's file) if λ has the wrong length, a non-finite or
// non-positive entry, or n̂ < 0.
void validate_rope_scaling(const RopeGeometry& g, const RopeScaling& scaling, const std::string& context);

}  // namespace longrope
