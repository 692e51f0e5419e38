// Dispatch from RoPE methods (CLI and config.json) to the RopeScaling generators.
#include "models/rope_methods.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "util/errors.h"

namespace longrope {
namespace {

RopeScaling from_config(const LlamaConfig& c, int64_t length) {
  const RopeGeometry g = c.rope_geometry();
  const ConfigRopeScaling& r = c.rope_scaling;
  // transformers: a missing factor is max_position_embeddings / original_max_position_embeddings.
  const double derived = static_cast<double>(c.max_position_embeddings) / static_cast<double>(c.original_max_position_embeddings);
  if (r.type == "default") return rope_none(g);
  if (r.type == "linear") return rope_pi(g, *r.factor);
  if (r.type == "dynamic") {
    // transformers' dynamic type measures against max_position_embeddings.
    RopeGeometry dg = g;
    dg.original_length = c.max_position_embeddings;
    return rope_dynamic_ntk(dg, *r.factor, length);
  }
  if (r.type == "yarn") {
    YarnOptions y{r.beta_fast, r.beta_slow, r.truncate, r.attention_factor};
    return rope_yarn(g, r.factor.value_or(derived), y);
  }
  if (r.type == "longrope") {
    const std::vector<double>& table = length > c.original_max_position_embeddings ? r.long_factor : r.short_factor;
    return rope_longrope(g, table, 0, r.factor.value_or(derived), r.attention_factor);
  }
  // Llama 3.x: L is the rope dict's original_max_position_embeddings (8192), not max_position_embeddings.
  if (r.type == "llama3") return rope_llama3(g, *r.factor, *r.low_freq_factor, *r.high_freq_factor);
  throw std::invalid_argument("unsupported rope_scaling type '" + r.type + "'");
}

}  // namespace

RopeScaling make_rope_scaling(const LlamaConfig& c, const RopeMethodSpec& spec, int64_t length) {
  const RopeGeometry g = c.rope_geometry();
  const double scale = spec.scale.value_or(std::max(1.0, static_cast<double>(length) / static_cast<double>(g.original_length)));
  switch (spec.method) {
    case RopeMethod::Config: return from_config(c, length);
    case RopeMethod::None: return rope_none(g);
    case RopeMethod::PI: return rope_pi(g, scale);
    case RopeMethod::NTK: return rope_ntk(g, scale);
    case RopeMethod::DynamicNTK: return rope_dynamic_ntk(g, spec.scale.value_or(1.0), length);
    case RopeMethod::YaRN: return rope_yarn(g, scale);
    case RopeMethod::LongRoPE: {
      if (!spec.table) throw InvalidSetting("method", "longrope needs a table");
      TableOverrides overrides = spec.overrides;
      if (spec.scale) overrides.scale = spec.scale;
      return table_scaling(*spec.table, g, length, spec.table_source.empty() ? "longrope table" : spec.table_source, overrides,
                           spec.factors);
    }
  }
  throw std::logic_error("unknown RoPE method");
}

}  // namespace longrope
