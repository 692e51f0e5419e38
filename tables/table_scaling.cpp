// Checking a factor table against a model and turning it into a RopeScaling.
#include "tables/table_scaling.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "util/errors.h"

namespace longrope {
namespace {

std::runtime_error table_error(const std::string& source, const std::string& field, const std::string& what) {
  return std::runtime_error(fmt::format("{}: field '{}': {}", source, field, what));
}

}  // namespace

void check_table_for_model(const FactorTable& t, const RopeGeometry& g, const std::string& source) {
  if (static_cast<int64_t>(t.lambda.size()) * 2 != g.rotary_dim)
    throw table_error(source, "lambda", fmt::format("{} factors, the model needs rotary_dim/2 = {}", t.lambda.size(), g.rotary_dim / 2));
  if (t.rope_base > 0 && t.rope_base != g.base)
    throw table_error(source, "rope_base", fmt::format("the table was searched for base {:g}, the model's is {:g}", t.rope_base, g.base));
  if (t.original_length > 0 && t.original_length != g.original_length)
    throw table_error(source, "original_length", fmt::format("the table is for L = {}, the model's is {} (override the model's with "
                                                             "--original-length if it is wrong)", t.original_length, g.original_length));
}

RopeScaling table_scaling(const FactorTable& t, const RopeGeometry& g, int64_t length, const std::string& source,
                          const TableOverrides& o, TableFactors factors) {
  check_table_for_model(t, g, source);
  const int64_t start_tokens = o.start_tokens.value_or(t.start_tokens);
  // n̂ is a count of leading positions, so any value is well defined; the bound catches typos. The
  // search draws n̂ from the paper's set (up to 256), which can exceed a short-context model's L.
  const int64_t start_limit = std::max({g.original_length, t.target_length, length});
  if (start_tokens > start_limit) {
    const std::string what = fmt::format("{} is beyond the original length {}, the table's target length {} and the evaluated "
                                         "length {}", start_tokens, g.original_length, t.target_length, length);
    if (o.start_tokens) throw InvalidSetting("start_tokens", what);
    throw table_error(source, "start_tokens", what);
  }
  const double scale = o.scale ? *o.scale : t.scale > 0 ? t.scale
                                          : std::max(1.0, static_cast<double>(length) / static_cast<double>(g.original_length));
  const std::optional<double> attention_factor = o.attention_factor ? o.attention_factor : t.attention_factor;
  if (factors == TableFactors::Short) {
    const std::vector<double> short_lambda = t.short_lambda.empty() ? std::vector<double>(t.lambda.size(), 1.0) : t.short_lambda;
    return rope_longrope(g, short_lambda, 0, scale, attention_factor, source);
  }
  return rope_longrope(g, t.lambda, start_tokens, scale, attention_factor, source);
}

}  // namespace longrope
