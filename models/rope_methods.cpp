// Dispatch from method names (CLI and config.json) to the RopeScaling generators.
#include "models/rope_methods.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

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
  throw std::invalid_argument("unsupported rope_scaling type '" + r.type + "'");
}

}  // namespace

const std::vector<std::string>& rope_method_names() {
  static const std::vector<std::string> names = {"config", "none", "pi", "ntk", "dynamic-ntk", "yarn", "longrope"};
  return names;
}

RopeScaling make_rope_scaling(const LlamaConfig& c, const RopeMethodSpec& spec, int64_t length) {
  const RopeGeometry g = c.rope_geometry();
  const double scale = spec.scale.value_or(std::max(1.0, static_cast<double>(length) / static_cast<double>(g.original_length)));
  const std::string& m = spec.method;
  if (m == "config") return from_config(c, length);
  if (m == "none") return rope_none(g);
  if (m == "pi" || m == "linear") return rope_pi(g, scale);
  if (m == "ntk") return rope_ntk(g, scale);
  if (m == "dynamic-ntk" || m == "dynamic") return rope_dynamic_ntk(g, scale, length);
  if (m == "yarn") return rope_yarn(g, scale);
  if (m == "longrope") {
    const std::string source = spec.table_source.empty() ? "longrope table" : spec.table_source;
    if (spec.lambda.empty()) throw InvalidSetting("method", "longrope needs a table");
    if (spec.rope_base && *spec.rope_base != g.base)
      throw std::runtime_error(fmt::format("{}: field 'rope_base': the table was searched for base {:g}, the model's is {:g}",
                                           source, *spec.rope_base, g.base));
    // n̂ is a count of leading positions, so any value is well defined; the bound catches typos. The
    // search draws n̂ from the paper's set (up to 256), which can exceed a short-context model's L.
    const int64_t start_limit = std::max({g.original_length, spec.target_length, length});
    if (spec.start_tokens > start_limit)
      throw InvalidSetting("start_tokens", fmt::format("{} is beyond the original length {}, the table's target length {} and the "
                                                       "evaluated length {}", spec.start_tokens, g.original_length, spec.target_length, length));
    if (spec.original_length > 0 && spec.original_length != g.original_length)
      throw std::runtime_error(fmt::format("{}: field 'original_length': the table is for L = {}, the model's is {} (override the "
                                           "model's with the original-length setting if it is wrong)", source, spec.original_length,
                                           g.original_length));
    return rope_longrope(g, spec.lambda, spec.start_tokens, scale, spec.attention_factor, source);
  }
  throw InvalidSetting("method", fmt::format("unknown RoPE method '{}' (one of {})", m, fmt::join(rope_method_names(), ", ")));
}

}  // namespace longrope
