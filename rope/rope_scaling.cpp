// RoPE rescale-factor generators; formulas follow transformers' modeling_rope_utils.py and the
// LongRoPE paper (arXiv 2402.13753, Eq. 3 and §3.2).
#include "rope/rope_scaling.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace longrope {
namespace {

size_t half_dim(const RopeGeometry& g) {
  if (g.rotary_dim <= 0 || g.rotary_dim % 2 != 0)
    throw std::invalid_argument(fmt::format("rotary dim must be positive and even, got {}", g.rotary_dim));
  return static_cast<size_t>(g.rotary_dim / 2);
}

void require_scale(double scale, const char* method) {
  if (!(scale >= 1.0) || !std::isfinite(scale))
    throw std::invalid_argument(fmt::format("{}: scale must be a finite number >= 1, got {}", method, scale));
}

// λ_i that turns base b into b': (b'/b)^(2i/d).
std::vector<double> base_change_lambda(const RopeGeometry& g, double base_ratio) {
  const size_t n = half_dim(g);
  std::vector<double> lambda(n);
  for (size_t i = 0; i < n; ++i) lambda[i] = std::pow(base_ratio, 2.0 * static_cast<double>(i) / g.rotary_dim);
  return lambda;
}

}  // namespace

std::string RopeScaling::cache_key() const {
  std::string key = fmt::format("{}|{}|{}|", start_tokens, attention_factor, early_attention_factor);
  key.append(reinterpret_cast<const char*>(lambda.data()), lambda.size() * sizeof(double));
  key += "|";
  key.append(reinterpret_cast<const char*>(early_lambda.data()), early_lambda.size() * sizeof(double));
  return key;
}

bool RopeScaling::operator==(const RopeScaling& o) const {
  return lambda == o.lambda && start_tokens == o.start_tokens && attention_factor == o.attention_factor &&
         early_lambda == o.early_lambda && early_attention_factor == o.early_attention_factor;
}

std::vector<double> inverse_frequencies(const RopeGeometry& g, const std::vector<double>& lambda) {
  const size_t n = half_dim(g);
  if (lambda.size() != n) throw std::invalid_argument(fmt::format("λ has {} values, expected {}", lambda.size(), n));
  std::vector<double> inv(n);
  for (size_t i = 0; i < n; ++i)
    inv[i] = 1.0 / (lambda[i] * std::pow(g.base, 2.0 * static_cast<double>(i) / g.rotary_dim));
  return inv;
}

RopeScaling rope_none(const RopeGeometry& g) {
  RopeScaling r;
  r.method = RopeMethod::None;
  r.lambda.assign(half_dim(g), 1.0);
  return r;
}

RopeScaling rope_pi(const RopeGeometry& g, double scale) {
  require_scale(scale, "pi");
  RopeScaling r;
  r.method = RopeMethod::PI;
  r.lambda.assign(half_dim(g), scale);
  return r;
}

int64_t critical_dimension(const RopeGeometry& g) {
  const int64_t half = g.rotary_dim / 2;
  const double ratio = static_cast<double>(g.original_length) / (2.0 * M_PI);
  if (ratio <= 1.0) return 0;  // even pair 0 (wavelength 2π) outlasts L
  const double exact = static_cast<double>(half) * std::log(ratio) / std::log(g.base);
  return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(exact - 1e-12)), 0, half);
}

RopeScaling rope_ntk(const RopeGeometry& g, double scale) {
  require_scale(scale, "ntk");
  const double d = static_cast<double>(g.rotary_dim);
  RopeScaling r;
  r.method = RopeMethod::NTK;
  r.lambda = base_change_lambda(g, std::pow(scale, d / (d - 2.0)));
  return r;
}

RopeScaling rope_with_base(const RopeGeometry& g, double new_base) {
  if (!(new_base > 1.0) || !std::isfinite(new_base))
    throw std::invalid_argument(fmt::format("rope base must be a finite number > 1, got {}", new_base));
  RopeScaling r;
  r.method = RopeMethod::None;
  r.lambda = base_change_lambda(g, new_base / g.base);
  return r;
}

RopeScaling rope_dynamic_ntk(const RopeGeometry& g, double factor, int64_t sequence_length) {
  require_scale(factor, "dynamic-ntk");
  const double d = static_cast<double>(g.rotary_dim);
  const double t = static_cast<double>(std::max(sequence_length, g.original_length));
  const double ratio = factor * t / static_cast<double>(g.original_length) - (factor - 1.0);
  RopeScaling r;
  r.method = RopeMethod::DynamicNTK;
  r.lambda = base_change_lambda(g, std::pow(ratio, d / (d - 2.0)));
  return r;
}

std::vector<double> yarn_ramp(const RopeGeometry& g, double beta_fast, double beta_slow, bool truncate) {
  const size_t n = half_dim(g);
  const double d = static_cast<double>(g.rotary_dim);
  // Pair index at which a wavelength fits r rotations into the original context.
  auto correction_dim = [&](double rotations) {
    return d * std::log(static_cast<double>(g.original_length) / (rotations * 2.0 * M_PI)) / (2.0 * std::log(g.base));
  };
  double low = correction_dim(beta_fast);
  double high = correction_dim(beta_slow);
  if (truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, d - 1.0);
  if (low == high) high += 0.001;  // transformers' guard against a zero-width ramp
  std::vector<double> ramp(n);
  for (size_t i = 0; i < n; ++i) ramp[i] = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
  return ramp;
}

RopeScaling rope_yarn(const RopeGeometry& g, double scale, const YarnOptions& options) {
  require_scale(scale, "yarn");
  const std::vector<double> ramp = yarn_ramp(g, options.beta_fast, options.beta_slow, options.truncate);
  RopeScaling r;
  r.method = RopeMethod::YaRN;
  r.lambda.resize(ramp.size());
  for (size_t i = 0; i < ramp.size(); ++i) r.lambda[i] = 1.0 / (ramp[i] / scale + (1.0 - ramp[i]));
  r.attention_factor = options.attention_factor ? *options.attention_factor : (scale > 1.0 ? 0.1 * std::log(scale) + 1.0 : 1.0);
  return r;
}

std::vector<double> yarn_shaped_lambda(const RopeGeometry& g, double scale, double beta_fast, double beta_slow) {
  std::vector<double> lambda = yarn_ramp(g, beta_fast, beta_slow, /*truncate=*/true);
  for (double& v : lambda) v = 1.0 + (scale - 1.0) * v;
  return lambda;
}

RopeScaling rope_llama3(const RopeGeometry& g, double scale, double low_freq_factor, double high_freq_factor) {
  require_scale(scale, "llama3");
  if (!(low_freq_factor > 0.0 && high_freq_factor > low_freq_factor && std::isfinite(high_freq_factor)))
    throw std::invalid_argument(fmt::format("llama3: low_freq_factor {} and high_freq_factor {} must be positive with high above low",
                                            low_freq_factor, high_freq_factor));
  const double length = static_cast<double>(g.original_length);
  const double low_freq_wavelength = length / low_freq_factor;    // longer: interpolated by s
  const double high_freq_wavelength = length / high_freq_factor;  // shorter: left alone
  const std::vector<double> plain = inverse_frequencies(g, std::vector<double>(half_dim(g), 1.0));
  RopeScaling r;
  r.method = RopeMethod::Config;  // Llama 3.1's rule exists only as a checkpoint's own scaling
  r.lambda.resize(plain.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    const double wavelength = 2.0 * M_PI / plain[i];
    if (wavelength < high_freq_wavelength) {
      r.lambda[i] = 1.0;
    } else if (wavelength > low_freq_wavelength) {
      r.lambda[i] = scale;
    } else {
      const double smooth = (length / wavelength - low_freq_factor) / (high_freq_factor - low_freq_factor);
      r.lambda[i] = 1.0 / ((1.0 - smooth) / scale + smooth);
    }
  }
  return r;
}

double longrope_attention_factor(double scale, int64_t original_length) {
  if (scale <= 1.0 || original_length <= 1) return 1.0;  // ln L would be 0 or undefined
  return std::sqrt(1.0 + std::log(scale) / std::log(static_cast<double>(original_length)));
}

RopeScaling rope_longrope(const RopeGeometry& g, std::vector<double> lambda, int64_t start_tokens, double scale,
                          std::optional<double> attention_factor, const std::string& source) {
  RopeScaling r;
  r.method = RopeMethod::LongRoPE;
  r.lambda = std::move(lambda);
  r.start_tokens = start_tokens;
  r.attention_factor = attention_factor ? *attention_factor : longrope_attention_factor(scale, g.original_length);
  validate_rope_scaling(g, r, source);
  return r;
}

const std::vector<RopeMethod>& baseline_methods() {
  static const std::vector<RopeMethod> methods = {RopeMethod::None, RopeMethod::PI, RopeMethod::NTK, RopeMethod::YaRN};
  return methods;
}

void validate_rope_scaling(const RopeGeometry& g, const RopeScaling& s, const std::string& context) {
  const size_t n = half_dim(g);
  if (s.lambda.size() != n)
    throw std::runtime_error(fmt::format("{}: field 'lambda': {} values, the model needs rotary_dim/2 = {}", context, s.lambda.size(), n));
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(s.lambda[i]) || s.lambda[i] <= 0.0)
      throw std::runtime_error(fmt::format("{}: field 'lambda[{}]': {} is not a positive number", context, i, s.lambda[i]));
  if (s.start_tokens < 0) throw std::runtime_error(fmt::format("{}: field 'start_tokens': {} is negative", context, s.start_tokens));
  if (!std::isfinite(s.attention_factor) || s.attention_factor <= 0.0)
    throw std::runtime_error(fmt::format("{}: field 'attention_factor': {} is not a positive number", context, s.attention_factor));
  if (!s.early_lambda.empty() && s.early_lambda.size() != n)
    throw std::runtime_error(fmt::format("{}: {} early factors, the model needs rotary_dim/2 = {}", context, s.early_lambda.size(), n));
  for (double v : s.early_lambda)
    if (!std::isfinite(v) || v <= 0.0) throw std::runtime_error(fmt::format("{}: an early factor {} is not a positive number", context, v));
  if (!std::isfinite(s.early_attention_factor) || s.early_attention_factor <= 0.0)
    throw std::runtime_error(fmt::format("{}: early attention factor {} is not a positive number", context, s.early_attention_factor));
}

}  // namespace longrope
