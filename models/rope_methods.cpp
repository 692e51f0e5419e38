// Dispatch from RoPE methods (CLI and config.json) to the RopeScaling generators, as our own forward
// applies them or as a serving runtime would (rope/runtime_rule.h).
#include "models/rope_methods.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "util/errors.h"

namespace longrope {
namespace {

// A pair of factor sets as a runtime applies them at `length`: one set for the whole sequence, or,
// for transformers decoding across L, the short set for the keys it cached up to L.
struct FactorSets {
  RopeScaling short_set, long_set;
};

RopeScaling as_runtime_runs(const FactorSets& sets, const RuntimeRule& rule, int64_t length, int64_t original,
                            const std::optional<int64_t>& decode_from) {
  if (!rule.long_factors(length, original)) return sets.short_set;
  RopeScaling out = sets.long_set;
  out.start_tokens = 0;
  if (rule.runtime == Runtime::Transformers && decode_from && *decode_from <= original && length > original) {
    out.start_tokens = original;  // positions 0 .. L−1 were rotated before the switch
    out.early_lambda = sets.short_set.lambda;
    out.early_attention_factor = sets.short_set.attention_factor;
  }
  return out;
}

// The checkpoint's own longrope block as its two sets (transformers: one attention factor for both).
FactorSets config_longrope_sets(const LlamaConfig& c) {
  const RopeGeometry g = c.rope_geometry();
  const ConfigRopeScaling& r = c.rope_scaling;
  const double derived = static_cast<double>(c.max_position_embeddings) / static_cast<double>(c.original_max_position_embeddings);
  return {rope_longrope(g, r.short_factor, 0, r.factor.value_or(derived), r.attention_factor),
          rope_longrope(g, r.long_factor, 0, r.factor.value_or(derived), r.attention_factor)};
}

RopeScaling from_config(const LlamaConfig& c, int64_t length, const std::optional<RuntimeRule>& runtime,
                        const std::optional<int64_t>& decode_from) {
  const RopeGeometry g = c.rope_geometry();
  const ConfigRopeScaling& r = c.rope_scaling;
  // transformers: a missing factor is max_position_embeddings / original_max_position_embeddings.
  const double derived = static_cast<double>(c.max_position_embeddings) / static_cast<double>(c.original_max_position_embeddings);
  if (r.type == "default") return rope_none(g);
  if (r.type == "linear") return rope_pi(g, *r.factor);
  if (r.type == "dynamic") {
    if (runtime && runtime->runtime != Runtime::Transformers)
      throw InvalidSetting("runtime", "the model's dynamic scaling is emulated for transformers only");
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
    const RuntimeRule rule = runtime.value_or(RuntimeRule{Runtime::Transformers});
    return as_runtime_runs(config_longrope_sets(c), rule, length, c.original_max_position_embeddings, decode_from);
  }
  // Llama 3.x: L is the rope dict's original_max_position_embeddings (8192), not max_position_embeddings.
  if (r.type == "llama3") return rope_llama3(g, *r.factor, *r.low_freq_factor, *r.high_freq_factor);
  throw std::invalid_argument("unsupported rope_scaling type '" + r.type + "'");
}

// A searched table as a runtime runs its export: short or long λ by the rule, and no n̂.
RopeScaling table_as_runtime_runs(const RopeMethodSpec& spec, const RopeGeometry& g, int64_t length, const std::string& source) {
  TableOverrides overrides = spec.overrides;
  if (spec.scale) overrides.scale = spec.scale;
  overrides.start_tokens = 0;
  const FactorSets sets{table_scaling(*spec.table, g, length, source, overrides, TableFactors::Short),
                        table_scaling(*spec.table, g, length, source, overrides, TableFactors::Long)};
  return as_runtime_runs(sets, *spec.runtime, length, g.original_length, spec.decode_from);
}

// s of PI, NTK and YaRN: fixed under a runtime (a deployed config holds one factor), else length / L.
double method_scale(const RopeMethodSpec& spec, const RopeGeometry& g, int64_t length) {
  if (spec.scale) return *spec.scale;
  if (spec.runtime)
    throw InvalidSetting("scale", fmt::format("--runtime runs {} at one fixed factor, as its config holds it: give it",
                                              method_name(spec.method)));
  return std::max(1.0, static_cast<double>(length) / static_cast<double>(g.original_length));
}

// The method's scaling at `length`, by itself.
RopeScaling scaling_of(const LlamaConfig& c, const RopeMethodSpec& spec, int64_t length) {
  const RopeGeometry g = c.rope_geometry();
  if (spec.decode_from && (!spec.runtime || spec.runtime->runtime != Runtime::Transformers))
    throw InvalidSetting("decode_from", "is transformers' decoding: it needs --runtime transformers");
  switch (spec.method) {
    case RopeMethod::Config: return from_config(c, length, spec.runtime, spec.decode_from);
    case RopeMethod::None: return rope_none(g);
    case RopeMethod::PI: return rope_pi(g, method_scale(spec, g, length));
    case RopeMethod::NTK: return rope_ntk(g, method_scale(spec, g, length));
    case RopeMethod::DynamicNTK:  // as a runtime runs a dynamic config: its factor; else factor 1 (NTK at length / L)
      return rope_dynamic_ntk(g, spec.runtime ? method_scale(spec, g, length) : spec.scale.value_or(1.0), length);
    case RopeMethod::YaRN: return rope_yarn(g, method_scale(spec, g, length));
    case RopeMethod::LongRoPE: {
      if (!spec.table) throw InvalidSetting("method", "longrope needs a table");
      const std::string source = spec.table_source.empty() ? "longrope table" : spec.table_source;
      if (spec.runtime) return table_as_runtime_runs(spec, g, length, source);
      TableOverrides overrides = spec.overrides;
      if (spec.scale) overrides.scale = spec.scale;
      return table_scaling(*spec.table, g, length, source, overrides, spec.factors);
    }
  }
  throw std::logic_error("unknown RoPE method");
}

// spec's method on top of its compose_with table: λ multiplied, attention factors multiplied.
RopeScaling composed_scaling(const LlamaConfig& c, const RopeMethodSpec& spec, int64_t length) {
  const FactorTable& base = *spec.compose_with;
  if (spec.runtime) throw InvalidSetting("compose_with", "composes our forward's scalings: not with --runtime");
  const RopeGeometry g = c.rope_geometry();
  const RopeScaling under = table_scaling(base, g, length, spec.compose_source);
  RopeMethodSpec over = spec;
  over.compose_with.reset();
  if (!over.scale && base.target_length > 0)
    over.scale = std::max(1.0, static_cast<double>(length) / static_cast<double>(base.target_length));
  RopeScaling out = scaling_of(c, over, length);
  for (size_t i = 0; i < out.lambda.size(); ++i) out.lambda[i] *= under.lambda[i];
  out.attention_factor *= under.attention_factor;
  validate_rope_scaling(g, out, spec.compose_source);
  return out;
}

}  // namespace

RopeScaling make_rope_scaling(const LlamaConfig& c, const RopeMethodSpec& spec, int64_t length) {
  // A table of its own (a progressive search's) already holds the base; the model's config is its own.
  const bool composes = spec.method != RopeMethod::LongRoPE && spec.method != RopeMethod::Config;
  if (spec.compose_with && composes) return composed_scaling(c, spec, length);
  return scaling_of(c, spec, length);
}

}  // namespace longrope
