// LlamaModel: a LLaMA-family decoder (RMSNorm, grouped-query attention, SwiGLU, RoPE) in LibTorch.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "models/attention.h"
#include "models/checkpoint.h"
#include "models/llama_config.h"
#include "models/llama_weights.h"
#include "rope/rope_scaling.h"
#include "models/rope_table.h"

namespace longrope {

struct ModelOptions {
  LoadOptions load;
  AttentionOptions attention;
  bool disable_sliding_window = false;  // LongRoPE runs Mistral without its window
  // The MLP runs over token blocks: it bounds the (T, I) activations, and blocks of 2048 keep SiLU and
  // the product in cache (8192: 13 % slower on the SmolLM2 shape, results/performance.md section 1).
  int64_t mlp_chunk_tokens = 2048;
};

// The keys (rotated) and values of every position run so far, per layer: decoding a token costs one
// token's forward, not the whole sequence's.
struct KvCache {
  std::vector<at::Tensor> keys;    // per layer (B, KVH, T, D)
  std::vector<at::Tensor> values;
  int64_t length = 0;              // positions held
};

class LlamaModel {
 public:
  LlamaModel(LlamaConfig config, LlamaWeights weights, ModelOptions options);

  // Loads a Hugging Face model directory (config.json + safetensors) or a llama-architecture .gguf file.
  static LlamaModel load(const std::string& path, const ModelOptions& options);
  // The same with `config` (from load_model_config, perhaps overridden) in place of the file's own.
  static LlamaModel load(const std::string& path, LlamaConfig config, const ModelOptions& options);

  // tokens: (B, T) int64 → hidden states after the final norm, (B, T, C) in the model dtype.
  at::Tensor hidden_states(const at::Tensor& tokens, const RopeTable& rope) const;
  // The same for tokens at positions cache.length .. cache.length + T − 1 after the cached ones, whose
  // keys and values are appended to `cache`. `rope` must cover the last position (a table built for
  // the whole sequence, prompt and generated tokens). An empty cache is a prefill.
  at::Tensor hidden_states(const at::Tensor& tokens, const RopeTable& rope, KvCache& cache) const;
  // The pieces of hidden_states, for a forward taken apart (activation checkpointing): the token
  // embedding (B, T, C), layer i (attention and MLP, each with its residual) and the final norm.
  at::Tensor embed(const at::Tensor& tokens) const;
  at::Tensor layer(const at::Tensor& x, size_t i, const RopeTable& rope) const;
  at::Tensor final_norm(const at::Tensor& x) const;
  // hidden: (..., C) → logits (..., V) in float32. Long sequences should go through eval's chunked loss.
  at::Tensor logits(const at::Tensor& hidden) const;

  // Where a forward first produces a NaN or infinity: "embedding", "layer 3 attention", "layer 3 MLP",
  // "final norm" or "LM head"; empty when the forward stays finite. For error messages.
  std::string first_non_finite(const at::Tensor& tokens, const RopeTable& rope) const;

  const LlamaConfig& config() const { return config_; }
  const LlamaWeights& weights() const { return weights_; }
  const ModelOptions& options() const { return options_; }
  c10::Device device() const { return options_.load.device; }
  c10::ScalarType dtype() const { return options_.load.dtype; }
  RopeGeometry rope_geometry() const;
  int64_t parameter_count() const;

 private:
  // With a cache: attend to its prefix too and append this block's keys and values to layer `layer`.
  at::Tensor attention_block(const at::Tensor& x, const LlamaLayerWeights& l, const RopeTable& rope, KvCache* cache = nullptr,
                             size_t layer = 0) const;
  at::Tensor mlp_block(const at::Tensor& x, const LlamaLayerWeights& l) const;

  LlamaConfig config_;
  LlamaWeights weights_;
  ModelOptions options_;
  AttentionOptions attention_;
};

// The config of a model directory (its config.json) or of a .gguf file (its metadata).
LlamaConfig load_model_config(const std::string& path);

// RMSNorm as transformers computes it: normalise in float32, round, then scale by the weight.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace longrope
