// Loading, saving and creating LLaMA checkpoints in the Hugging Face layout
// (config.json + model.safetensors, or sharded with model.safetensors.index.json).
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>

#include "models/llama_config.h"
#include "models/llama_weights.h"

namespace longrope {

struct LoadOptions {
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;  // weights are converted once, at load
};

// Reads `dir`/config.json and the safetensors weights. Every tensor is checked against the shape the
// config implies; errors name the file and the tensor, with expected and actual shape or dtype.
LlamaWeights load_llama_weights(const LlamaConfig& config, const std::string& dir, const LoadOptions& options);

// Writes config.json and model.safetensors (or shards of at most `max_shard_bytes` when > 0), atomically.
void save_llama_checkpoint(const std::string& dir, const LlamaConfig& config, const LlamaWeights& weights,
                           size_t max_shard_bytes = 0);

// Random weights (normal, std 0.02; norms 1) from a seed: for tests and benchmarks, never for results.
LlamaWeights random_llama_weights(const LlamaConfig& config, uint64_t seed, const LoadOptions& options);

c10::ScalarType parse_dtype(const std::string& name);  // f32|float32, bf16|bfloat16, f16|float16
std::string dtype_name(c10::ScalarType dtype);

}  // namespace longrope
