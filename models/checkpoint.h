// Loading, saving and creating LLaMA checkpoints in the Hugging Face layout
// (config.json + model.safetensors, or sharded with model.safetensors.index.json). Phi-3's fused
// qkv_proj and gate_up_proj are split at load and written fused again (models/llama_weights.h).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>

#include "formats/directory_lock.h"
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

// Throws std::runtime_error "CONTEXT: holds non-finite values" when `t` has a NaN or an infinity.
void require_finite(const at::Tensor& t, const std::string& context);

// Creates `dir` and takes its lock (one writer per model directory). Unless `may_hold_model`, refuses
// a directory that already holds a model's files (config.json, *.safetensors, the shard index): a
// new model written there would sit beside the old one's shards, or replace it unasked.
formats::DirectoryLock claim_model_directory(const std::string& dir, bool may_hold_model = false);

// Writes config.json and model.safetensors (or shards of at most `max_shard_bytes` when > 0), atomically.
void save_llama_checkpoint(const std::string& dir, const LlamaConfig& config, const LlamaWeights& weights,
                           size_t max_shard_bytes = 0);

// Random weights (normal, std 0.02; norms 1) from a seed: for tests and benchmarks, never for results.
LlamaWeights random_llama_weights(const LlamaConfig& config, uint64_t seed, const LoadOptions& options);

c10::ScalarType parse_dtype(const std::string& name);  // f32|float32, bf16|bfloat16, f16|float16
std::string dtype_name(c10::ScalarType dtype);

}  // namespace longrope
