// GGUF → LlamaConfig + LlamaWeights; see the header.
#include "models/gguf_checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <regex>
#include <stdexcept>

#include "formats/format_error.h"
#include "formats/ggml_dequantize.h"
#include "formats/gguf.h"
#include "tables/factor_table.h"

namespace longrope {
namespace {

using formats::GgufFile;

[[noreturn]] void fail(const GgufFile& f, const std::string& what) {
  throw formats::FormatError(fmt::format("{}: {}", f.path(), what));
}

// The float32 values of a tensor, in ggml order (dims[0] fastest), i.e. row-major for the reversed shape.
at::Tensor dequantized(const GgufFile& f, const formats::GgufTensorInfo& t, const std::vector<int64_t>& shape) {
  if (!formats::ggml_can_dequantize(t.type))
    fail(f, fmt::format("tensor '{}': type {} is not supported (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0)", t.name,
                        formats::ggml_type_name(t.type)));
  at::Tensor out = at::empty(shape, at::TensorOptions().dtype(at::kFloat));
  formats::ggml_dequantize(t.type, t.data, out.data_ptr<float>(), out.numel());
  return out;
}

// llama.cpp stores row r = h·D + 2j + half of a head where Hugging Face has h·D + half·D/2 + j.
at::Tensor unpermute_rows(const at::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0), D = rows / heads;
  std::vector<int64_t> split = {heads, D / 2, 2};
  for (int64_t i = 1; i < w.dim(); ++i) split.push_back(w.size(i));
  return w.reshape(split).transpose(1, 2).reshape(w.sizes()).contiguous();
}

std::vector<float> factor_tensor(const GgufFile& f, const std::string& name, int64_t expected) {
  const formats::GgufTensorInfo& t = f.tensor(name);
  if (t.type != formats::GgmlType::F32 || t.dims.size() != 1 || static_cast<int64_t>(t.dims[0]) != expected)
    fail(f, fmt::format("tensor '{}': expected F32 [{}], got {} [{}]", name, expected, formats::ggml_type_name(t.type),
                        fmt::join(t.dims, ", ")));
  std::vector<float> v(static_cast<size_t>(expected));
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  for (size_t i = 0; i < v.size(); ++i)  // named here, not later as the config's short_factor
    if (!(v[i] > 0.0f) || !std::isfinite(v[i])) fail(f, fmt::format("tensor '{}'[{}]: must be a positive number, got {}", name, i, v[i]));
  return v;
}

}  // namespace

std::string gguf_tensor_name(const std::string& hf) {
  static const std::vector<std::pair<std::string, std::string>> layer_names = {
      {"input_layernorm.weight", "attn_norm.weight"},      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},            {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.k_proj.bias", "attn_k.bias"},            {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.v_proj.bias", "attn_v.bias"},            {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.o_proj.bias", "attn_output.bias"},       {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},         {"mlp.gate_proj.bias", "ffn_gate.bias"},
      {"mlp.up_proj.weight", "ffn_up.weight"},             {"mlp.up_proj.bias", "ffn_up.bias"},
      {"mlp.down_proj.weight", "ffn_down.weight"},         {"mlp.down_proj.bias", "ffn_down.bias"}};
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  static const std::regex layer(R"(model\.layers\.(\d+)\.(.+))");
  std::smatch m;
  if (!std::regex_match(hf, m, layer)) return "";
  for (const auto& [from, to] : layer_names)
    if (m[2] == from) return fmt::format("blk.{}.{}", m[1].str(), to);
  return "";
}

LlamaConfig llama_config_from_gguf(const GgufFile& f) {
  const std::string arch = f.get_string("general.architecture");
  // Other architectures differ in more than names (qwen2 rotates halves, not pairs; phi3 fuses QKV).
  if (arch != "llama")
    fail(f, fmt::format("key 'general.architecture': '{}' is not supported (only llama-architecture GGUF files)", arch));
  auto key = [&](const std::string& k) { return arch + "." + k; };
  // Sizes beyond any real model are refused by key before they become allocations.
  auto size_of = [&](const std::string& k, uint64_t limit) -> int64_t {
    const uint64_t v = f.get_uint(k);
    if (v > limit) fail(f, fmt::format("key '{}': {} is beyond any model this tool runs (at most {})", k, v, limit));
    return static_cast<int64_t>(v);
  };
  auto uint_or = [&](const std::string& k, uint64_t fallback) -> uint64_t { return f.find(k) ? size_of(k, uint64_t{1} << 32) : fallback; };

  LlamaConfig c;
  c.model_type = "llama";
  c.hidden_size = size_of(key("embedding_length"), uint64_t{1} << 17);
  c.intermediate_size = size_of(key("feed_forward_length"), uint64_t{1} << 20);
  c.num_hidden_layers = size_of(key("block_count"), 4096);
  c.num_attention_heads = size_of(key("attention.head_count"), 4096);
  c.num_key_value_heads = static_cast<int64_t>(uint_or(key("attention.head_count_kv"), c.num_attention_heads));
  if (c.num_attention_heads <= 0) fail(f, fmt::format("key '{}': must be positive", key("attention.head_count")));
  c.head_dim = static_cast<int64_t>(uint_or(key("attention.key_length"), c.hidden_size / c.num_attention_heads));
  const int64_t rotary = static_cast<int64_t>(uint_or(key("rope.dimension_count"), c.head_dim));
  c.partial_rotary_factor = c.head_dim > 0 ? static_cast<double>(rotary) / c.head_dim : 1.0;
  c.rms_norm_eps = f.get_float(key("attention.layer_norm_rms_epsilon"));
  c.rope_theta = f.find(key("rope.freq_base")) ? f.get_float(key("rope.freq_base")) : 10000.0;
  c.max_position_embeddings = size_of(key("context_length"), uint64_t{1} << 32);
  c.original_max_position_embeddings =
      static_cast<int64_t>(uint_or(key("rope.scaling.original_context_length"), c.max_position_embeddings));
  if (f.find(key("vocab_size"))) c.vocab_size = size_of(key("vocab_size"), uint64_t{1} << 24);
  else if (f.find("tokenizer.ggml.tokens")) c.vocab_size = static_cast<int64_t>(f.get_string_array("tokenizer.ggml.tokens").size());
  else c.vocab_size = static_cast<int64_t>(f.tensor("token_embd.weight").dims.at(1));
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;
  c.attention_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  // BOS as llama.cpp prepends it: only when the file says so (SmolLM2, GPT-2-style BPE: it does not).
  const bool add_bos = f.find("tokenizer.ggml.add_bos_token") ? f.get_bool("tokenizer.ggml.add_bos_token")
                                                               : f.find("tokenizer.ggml.model") && f.get_string("tokenizer.ggml.model") == "llama";
  if (add_bos && f.find("tokenizer.ggml.bos_token_id")) c.bos_token_id = static_cast<int64_t>(f.get_uint("tokenizer.ggml.bos_token_id"));
  if (f.find("tokenizer.ggml.eos_token_id")) c.eos_token_id = static_cast<int64_t>(f.get_uint("tokenizer.ggml.eos_token_id"));
  c.torch_dtype = "float32";

  const std::string type = f.find(key("rope.scaling.type")) ? f.get_string(key("rope.scaling.type")) : "none";
  const double attn_factor = f.find(key("rope.scaling.attn_factor")) ? f.get_float(key("rope.scaling.attn_factor")) : 1.0;
  ConfigRopeScaling& r = c.rope_scaling;
  if (f.find_tensor("rope_factors_long.weight")) {
    r.type = "longrope";
    r.long_factor.clear();
    for (float x : factor_tensor(f, "rope_factors_long.weight", rotary / 2)) r.long_factor.push_back(x);
    r.short_factor = r.long_factor;
    if (f.find_tensor("rope_factors_short.weight")) {
      r.short_factor.clear();
      for (float x : factor_tensor(f, "rope_factors_short.weight", rotary / 2)) r.short_factor.push_back(x);
    }
    r.attention_factor = attn_factor;
  } else if (f.find_tensor("rope_freqs.weight")) {
    // llama.cpp divides every θ_i by rope_freqs[i] and scales cos/sin by attn_factor: LongRoPE with one table.
    r.type = "longrope";
    r.long_factor.clear();
    for (float x : factor_tensor(f, "rope_freqs.weight", rotary / 2)) r.long_factor.push_back(x);
    // The divisors of θ_i, as a table's λ is: refused where a table with the same values would be.
    check_lambda_factors(r.long_factor, [&](size_t i) { return fmt::format("{}: tensor 'rope_freqs.weight'[{}]", f.path(), i); });
    r.short_factor = r.long_factor;
    r.attention_factor = attn_factor;
  } else if (type == "linear") {
    r.type = "linear";
    r.factor = f.get_float(key("rope.scaling.factor"));
  } else if (type == "yarn") {
    r.type = "yarn";
    r.factor = f.get_float(key("rope.scaling.factor"));
    if (f.find(key("rope.scaling.attn_factor"))) r.attention_factor = attn_factor;
  } else if (type != "none") {
    fail(f, fmt::format("key '{}': rope scaling '{}' is not supported (none, linear, yarn, longrope)", key("rope.scaling.type"), type));
  }
  c.validate(f.path());
  return c;
}

LlamaWeights load_gguf_weights(const LlamaConfig& config, const GgufFile& f, const LoadOptions& options) {
  LlamaWeights w;
  for_each_weight(config, w, [&](const std::string& hf, at::Tensor& slot, const std::vector<int64_t>& shape, bool required) {
    const std::string name = gguf_tensor_name(hf);
    const formats::GgufTensorInfo* t = f.find_tensor(name);
    if (t == nullptr) {
      if (required) fail(f, fmt::format("missing tensor '{}'", name));
      return;
    }
    std::vector<int64_t> file_shape(t->dims.rbegin(), t->dims.rend());  // ggml dims are fastest-first
    if (file_shape != shape)
      fail(f, fmt::format("tensor '{}': shape [{}] does not match the metadata, expected [{}]", name, fmt::join(file_shape, ", "),
                          fmt::join(shape, ", ")));
    at::Tensor x = dequantized(f, *t, shape);
    if (name.find("attn_q.") != std::string::npos) x = unpermute_rows(x, config.num_attention_heads);
    if (name.find("attn_k.") != std::string::npos) x = unpermute_rows(x, config.num_key_value_heads);
    slot = x.to(options.device, options.dtype);
    require_finite(slot, fmt::format("{}: tensor '{}'", f.path(), name));
  });
  // Blocks beyond block_count would be left out silently: the metadata describes another model.
  for (const formats::GgufTensorInfo& t : f.tensors()) {
    int64_t block = -1;
    if (std::sscanf(t.name.c_str(), "blk.%" SCNd64 ".", &block) == 1 && block >= config.num_hidden_layers)
      fail(f, fmt::format("tensor '{}' is beyond the {} blocks the metadata declares", t.name, config.num_hidden_layers));
  }
  if (!w.lm_head.defined()) w.lm_head = w.embed;
  return w;
}

}  // namespace longrope
