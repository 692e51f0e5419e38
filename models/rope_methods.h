// A RoPE method as a user names it, turned into a RopeScaling for a model at a given length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "models/llama_config.h"
#include "rope/rope_scaling.h"
#include "rope/runtime_rule.h"
#include "tables/factor_table.h"
#include "tables/table_scaling.h"

namespace longrope {

struct RopeMethodSpec {
  RopeMethod method = RopeMethod::Config;
  // s of PI, NTK and YaRN, and the factor of dynamic NTK; default: evaluation length / L for PI, NTK
  // and YaRN, 1 for dynamic NTK (its scale follows the length), the table's s for a table.
  std::optional<double> scale;
  std::optional<FactorTable> table;  // longrope: a searched table
  std::string table_source;          // its file, for error messages
  TableOverrides overrides;          // --start-tokens and --attention-factor over the table's
  TableFactors factors = TableFactors::Long;
  // Applied as a serving runtime applies a config: its choice of factor set (a table's short or long
  // λ, a config's short_factor or long_factor), no n̂, and PI, NTK and YaRN at the fixed `scale` at
  // every length. Without it: the table as searched at every length, the baselines at length / L.
  std::optional<RuntimeRule> runtime;
  // transformers only: the sequence was prefilled at this length and decoded a token at a time from
  // there, so keys cached at or below L kept the short factors after the switch (its KV cache keeps
  // rotated keys). Unset: one forward over the whole window.
  std::optional<int64_t> decode_from;
  // On a model fine-tuned with a table (LongRoPE's progressive recipe): a baseline (none, PI, NTK,
  // dynamic NTK, YaRN) runs on top of it, λ = λ_table ⊙ λ_method, the attention factors multiply, and s
  // defaults to length / the table's target length (what is left to extend); none is the table alone.
  // Tables and config are left as they are (a progressive table already holds its base).
  std::optional<FactorTable> compose_with;
  std::string compose_source;
};

// The RopeScaling a method gives at `length` tokens. "config" applies the checkpoint's own
// rope_scaling as transformers does (longrope: long_factor beyond the original length, else
// short_factor; llama3: Llama 3.1's rule); plain RoPE when the config declares none.
RopeScaling make_rope_scaling(const LlamaConfig& config, const RopeMethodSpec& spec, int64_t length);

}  // namespace longrope
