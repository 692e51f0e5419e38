// Naming a RoPE method on the command line or in a config.json, and turning it into a RopeScaling
// for a model at a given evaluation length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/llama_config.h"
#include "rope/rope_scaling.h"

namespace longrope {

struct RopeMethodSpec {
  std::string method = "config";  // config | none | pi | ntk | dynamic-ntk | yarn | longrope
  std::optional<double> scale;    // s; default: evaluation length / original length
  // longrope: a searched table (λ, n̂, and the attention factor it was searched with, if any).
  std::vector<double> lambda;
  int64_t start_tokens = 0;
  std::optional<double> attention_factor;
  std::string table_source;           // the table's file, for error messages
  std::optional<double> rope_base;    // the base the table was searched for; must be the model's
  int64_t original_length = 0;        // the L the table was searched for (0: not recorded); must be the model's
  int64_t target_length = 0;          // the length the table was searched for (0: not recorded)
};

// The RopeScaling a method gives at `length` tokens. "config" applies the checkpoint's own
// rope_scaling as transformers does (longrope: long_factor beyond the original length, else
// short_factor); plain RoPE when the config declares none.
RopeScaling make_rope_scaling(const LlamaConfig& config, const RopeMethodSpec& spec, int64_t length);

const std::vector<std::string>& rope_method_names();

}  // namespace longrope
