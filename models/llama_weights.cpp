// The one table of LLaMA tensor names and shapes, and the fused tensors of Phi-3's layout.
#include "models/llama_weights.h"

#include <fmt/format.h>

#include <map>

namespace longrope {

void for_each_weight(const LlamaConfig& c, LlamaWeights& w, const WeightVisitor& visit) {
  const int64_t C = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const int64_t q_out = c.num_attention_heads * c.head_dim, kv_out = c.num_key_value_heads * c.head_dim;
  // Biases exist where the config declares them (and must then be in the checkpoint): attention_bias
  // gives q/k/v ones, and o's too except in Qwen2; mlp_bias the MLP's.
  const bool qkv_bias = c.attention_bias, o_bias = c.attention_bias && c.model_type != "qwen2", mlp_bias = c.mlp_bias;
  visit("model.embed_tokens.weight", w.embed, {V, C}, true);
  w.layers.resize(static_cast<size_t>(c.num_hidden_layers));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    LlamaLayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = fmt::format("model.layers.{}.", i);
    visit(p + "input_layernorm.weight", l.attn_norm, {C}, true);
    visit(p + "self_attn.q_proj.weight", l.wq, {q_out, C}, true);
    visit(p + "self_attn.q_proj.bias", l.bq, {q_out}, qkv_bias);
    visit(p + "self_attn.k_proj.weight", l.wk, {kv_out, C}, true);
    visit(p + "self_attn.k_proj.bias", l.bk, {kv_out}, qkv_bias);
    visit(p + "self_attn.v_proj.weight", l.wv, {kv_out, C}, true);
    visit(p + "self_attn.v_proj.bias", l.bv, {kv_out}, qkv_bias);
    visit(p + "self_attn.o_proj.weight", l.wo, {C, q_out}, true);
    visit(p + "self_attn.o_proj.bias", l.bo, {C}, o_bias);
    visit(p + "post_attention_layernorm.weight", l.mlp_norm, {C}, true);
    visit(p + "mlp.gate_proj.weight", l.w_gate, {I, C}, true);
    visit(p + "mlp.gate_proj.bias", l.b_gate, {I}, mlp_bias);
    visit(p + "mlp.up_proj.weight", l.w_up, {I, C}, true);
    visit(p + "mlp.up_proj.bias", l.b_up, {I}, mlp_bias);
    visit(p + "mlp.down_proj.weight", l.w_down, {C, I}, true);
    visit(p + "mlp.down_proj.bias", l.b_down, {C}, mlp_bias);
  }
  visit("model.norm.weight", w.final_norm, {C}, true);
  // A tied head is not stored; the loader aliases it to the embedding.
  visit("lm_head.weight", w.lm_head, {V, C}, !c.tie_word_embeddings);
}

std::vector<FusedWeight> fused_weights(const LlamaConfig& c) {
  if (c.model_type != "phi3") return {};
  std::map<std::string, std::vector<int64_t>> shapes;  // of the slots, from the one table above
  LlamaWeights scratch;
  for_each_weight(c, scratch, [&](const std::string& name, at::Tensor&, const std::vector<int64_t>& shape, bool) { shapes[name] = shape; });
  const auto fused = [&](const std::string& name, const std::vector<std::string>& parts) {
    FusedWeight f{name, {0, c.hidden_size}, {}};
    for (const std::string& part : parts) {
      const std::vector<int64_t>& shape = shapes.at(part);
      f.parts.push_back({part, f.shape[0], shape[0]});
      f.shape[0] += shape[0];
    }
    return f;
  };
  std::vector<FusedWeight> out;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    out.push_back(fused(p + "self_attn.qkv_proj.weight",
                        {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"}));
    out.push_back(fused(p + "mlp.gate_up_proj.weight", {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"}));
  }
  return out;
}

}  // namespace longrope
