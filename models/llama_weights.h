// LlamaWeights: the tensors of a LLaMA-family decoder, named as Hugging Face checkpoints name them
// (and, for Phi-3, which of them its checkpoints store fused).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/llama_config.h"

namespace longrope {

// Shapes use C = hidden, H = query heads, KVH = key/value heads, D = head dim, I = MLP width, V = vocab.
// Biases are undefined tensors when the checkpoint has none.
struct LlamaLayerWeights {
  at::Tensor attn_norm;              // (C)        input_layernorm
  at::Tensor wq, bq;                 // (H·D, C)   self_attn.q_proj
  at::Tensor wk, bk;                 // (KVH·D, C) self_attn.k_proj
  at::Tensor wv, bv;                 // (KVH·D, C) self_attn.v_proj
  at::Tensor wo, bo;                 // (C, H·D)   self_attn.o_proj
  at::Tensor mlp_norm;               // (C)        post_attention_layernorm
  at::Tensor w_gate, b_gate;         // (I, C)     mlp.gate_proj
  at::Tensor w_up, b_up;             // (I, C)     mlp.up_proj
  at::Tensor w_down, b_down;         // (C, I)     mlp.down_proj
};

struct LlamaWeights {
  at::Tensor embed;                  // (V, C) model.embed_tokens
  std::vector<LlamaLayerWeights> layers;
  at::Tensor final_norm;             // (C) model.norm
  at::Tensor lm_head;                // (V, C) lm_head; the same tensor as embed when tied
};

// Calls `visit(hf_name, tensor_slot, expected_shape, required)` for every tensor a config implies,
// in checkpoint order. Loaders, savers and initialisers share this one table of names and shapes.
using WeightVisitor = std::function<void(const std::string& name, at::Tensor& slot, const std::vector<int64_t>& shape, bool required)>;
void for_each_weight(const LlamaConfig& config, LlamaWeights& weights, const WeightVisitor& visit);

// A tensor of the checkpoint file that stacks several for_each_weight slots along its rows. Phi-3
// stores self_attn.qkv_proj = [q_proj; k_proj; v_proj] and mlp.gate_up_proj = [gate_proj; up_proj]
// (transformers' Phi3 splits them the same way); loaders split it, savers concatenate the slots.
struct FusedWeight {
  struct Part {
    std::string name;  // the for_each_weight name of the slot, e.g. model.layers.0.self_attn.k_proj.weight
    int64_t first_row = 0;
    int64_t rows = 0;
  };
  std::string name;            // as stored, e.g. model.layers.0.self_attn.qkv_proj.weight
  std::vector<int64_t> shape;  // (Σ rows, C)
  std::vector<Part> parts;     // in row order
};

// The fused tensors of the config's checkpoint layout, layer by layer: none for llama, mistral and
// qwen2; qkv_proj and gate_up_proj of every layer for phi3.
std::vector<FusedWeight> fused_weights(const LlamaConfig& config);

}  // namespace longrope
