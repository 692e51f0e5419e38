// Tiny random models for the tests.
#pragma once

#include <filesystem>
#include <string>

#include "models/checkpoint.h"
#include "models/llama_model.h"
#include "tests/test_files.h"

namespace longrope {

// 2 layers, C = 32, 4 query / 2 key-value heads of 8, byte vocabulary, L = 64.
inline LlamaConfig tiny_config() {
  LlamaConfig c;
  c.vocab_size = 256;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 64;
  c.original_max_position_embeddings = 64;
  c.tie_word_embeddings = true;
  c.rms_norm_eps = 1e-5;
  return c;
}

inline LlamaModel tiny_model(const LlamaConfig& c, uint64_t seed, ModelOptions options = {}) {
  return LlamaModel(c, random_llama_weights(c, seed, options.load), options);
}

// The tiny model in float64 with an NLL that depends on positions (the λ-gradient checks): std-0.02
// weights attend almost uniformly, so the query, key and output weights are scaled up (×30, ×30,
// ×10). Chunked attention keeps float64 scores (SDPA's CPU kernels may not).
inline LlamaModel position_sensitive_tiny_model_f64(uint64_t seed) {
  ModelOptions options;
  options.load.dtype = at::kDouble;
  options.attention.backend = AttentionBackend::kChunked;
  const LlamaConfig c = tiny_config();
  LlamaWeights w = random_llama_weights(c, seed, options.load);
  for (LlamaLayerWeights& layer : w.layers) {
    layer.wq.mul_(30);
    layer.wk.mul_(30);
    layer.wo.mul_(10);
  }
  return LlamaModel(c, w, options);
}

}  // namespace longrope
