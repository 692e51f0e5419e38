// The LLaMA forward pass, read top to bottom.
// Shapes: B batch, T tokens, C hidden, H query heads, KVH key/value heads, D head dim, I MLP width, V vocab.
#include "models/llama_model.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include <filesystem>

#include "formats/gguf.h"
#include "models/cpu_row_kernels.h"
#include "models/forward_profile.h"
#include "models/gguf_checkpoint.h"
#include "models/kernel_threads.h"

namespace longrope {
namespace {

// Query-key pairs attended by t queries at positions start .. start+t−1 (causal, with an optional window).
double attended_pairs(int64_t start, int64_t t, int64_t window) {
  double pairs = 0;
  if (window <= 0) return static_cast<double>(t) * static_cast<double>(start) + 0.5 * static_cast<double>(t) * static_cast<double>(t + 1);
  for (int64_t i = 0; i < t; ++i) pairs += static_cast<double>(std::min(start + i + 1, window));
  return pairs;
}

}  // namespace

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const bool needs_grad = at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad());
  if (!needs_grad && x.device().is_cpu() && weight.device().is_cpu() && x.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat &&
      x.dim() >= 1 && x.stride(-1) == 1 && weight.is_contiguous() && weight.numel() == x.size(-1)) {
    // One pass per row (models/cpu_row_kernels.h) where the composition below would make six.
    const at::Tensor rows = x.reshape({-1, x.size(-1)});  // a view for the model's activations
    at::Tensor out = at::empty(x.sizes(), x.options());
    rms_norm_rows(rows.data_ptr<float>(), rows.stride(0), rows.size(0), rows.size(1), weight.data_ptr<float>(), static_cast<float>(eps),
                  out.data_ptr<float>(), kernel_threads());
    return out;
  }
  at::Tensor xf = x.to(at::promote_types(x.scalar_type(), at::kFloat));  // float32 at least
  at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

LlamaModel::LlamaModel(LlamaConfig config, LlamaWeights weights, ModelOptions options)
    : config_(std::move(config)), weights_(std::move(weights)), options_(options), attention_(options.attention) {
  if (config_.sliding_window && !options_.disable_sliding_window) attention_.sliding_window = *config_.sliding_window;
}

LlamaConfig load_model_config(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) throw std::runtime_error(path + ": model path does not exist");
  if (fs::is_regular_file(path) && formats::is_gguf_file(path)) return llama_config_from_gguf(formats::GgufFile::open(path));
  if (fs::is_regular_file(path) && fs::path(path).extension() != ".safetensors")
    throw std::runtime_error(path + ": not a model directory, and not a GGUF file (its first bytes are not 'GGUF')");
  // A device or FIFO is no model and is not read: its directory (/dev) is no model directory either.
  if (!fs::is_directory(path) && !fs::is_regular_file(path))
    throw std::runtime_error(path + ": not a model directory or file (a device, FIFO or socket)");
  const fs::path config_path = fs::is_directory(path) ? fs::path(path) / "config.json" : fs::path(path).parent_path() / "config.json";
  if (!fs::exists(config_path))
    throw std::runtime_error(config_path.string() + ": missing (a model directory holds config.json and safetensors weights)");
  return load_llama_config(config_path.string());
}

LlamaModel LlamaModel::load(const std::string& path, const ModelOptions& options) {
  return load(path, load_model_config(path), options);
}

LlamaModel LlamaModel::load(const std::string& path, LlamaConfig config, const ModelOptions& options) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(path) && formats::is_gguf_file(path)) {
    LlamaWeights weights = load_gguf_weights(config, formats::GgufFile::open(path), options.load);
    return LlamaModel(std::move(config), std::move(weights), options);
  }
  LlamaWeights weights = load_llama_weights(config, path, options.load);
  return LlamaModel(std::move(config), std::move(weights), options);
}

RopeGeometry LlamaModel::rope_geometry() const { return config_.rope_geometry(); }

int64_t LlamaModel::parameter_count() const {
  int64_t n = 0;
  LlamaWeights w = weights_;
  for_each_weight(config_, w, [&](const std::string& name, at::Tensor& t, const std::vector<int64_t>&, bool) {
    if (t.defined() && !(name == "lm_head.weight" && config_.tie_word_embeddings)) n += t.numel();
  });
  return n;
}

at::Tensor LlamaModel::attention_block(const at::Tensor& x, const LlamaLayerWeights& l, const RopeTable& rope, KvCache* cache,
                                       size_t layer) const {
  const int64_t B = x.size(0), T = x.size(1), H = config_.num_attention_heads, KVH = config_.num_key_value_heads,
                D = config_.head_dim, C = config_.hidden_size;
  at::Tensor h, q, k, v;
  {
    StageTimer timer("norms", 0);
    h = rms_norm(x, l.attn_norm, config_.rms_norm_eps);
  }
  {
    StageTimer timer("q/k/v projections", 2.0 * B * T * C * (H + 2 * KVH) * D);
    q = at::linear(h, l.wq, l.bq).view({B, T, H, D}).transpose(1, 2);    // (B, H, T, D)
    k = at::linear(h, l.wk, l.bk).view({B, T, KVH, D}).transpose(1, 2);  // (B, KVH, T, D)
    v = at::linear(h, l.wv, l.bv).view({B, T, KVH, D}).transpose(1, 2);  // (B, KVH, T, D)
  }
  const int64_t start = cache == nullptr ? 0 : cache->length;
  // Rotate queries and keys by their positions' rows of the table.
  {
    StageTimer timer("rope", 0);
    if (cache == nullptr) {
      q = apply_rope(q, rope);
      k = apply_rope(k, rope);
    } else {
      TORCH_CHECK(rope.cos.dim() == 2 && rope.length >= start + T, "rope table covers ", rope.length, " positions, decoding reaches ",
                  start + T);
      const RopeTable here{rope.cos.slice(0, start, start + T), rope.sin.slice(0, start, start + T), T};
      q = apply_rope(q, here);
      k = apply_rope(k, here);
    }
  }
  at::Tensor attended;
  {
    // Each attended pair costs a query-key dot product and a value accumulation: 4·D FLOPs per head.
    StageTimer timer("attention", 4.0 * B * H * D * attended_pairs(start, T, attention_.sliding_window));
    if (cache == nullptr) {
      attended = causal_attention(q, k, v.contiguous(), attention_);  // (B, T, H·D)
    } else {
      if (start > 0) {
        k = at::cat({cache->keys[layer], k}, 2);
        v = at::cat({cache->values[layer], v}, 2);
      }
      cache->keys[layer] = k;
      cache->values[layer] = v;
      attended = attention_after_prefix(q, k, v.contiguous(), start, attention_);
    }
  }
  StageTimer timer("output projection", 2.0 * B * T * H * D * C);
  return at::linear(attended, l.wo, l.bo);  // (B, T, C)
}

at::Tensor LlamaModel::mlp_block(const at::Tensor& x, const LlamaLayerWeights& l) const {
  // down(silu(gate(h)) · up(h)), over token blocks so that (B, T, I) is never held whole.
  const int64_t B = x.size(0), T = x.size(1), C = config_.hidden_size, I = config_.intermediate_size;
  const int64_t step = options_.mlp_chunk_tokens > 0 ? options_.mlp_chunk_tokens : T;
  at::Tensor out = at::empty_like(x);
  for (int64_t begin = 0; begin < T; begin += step) {
    const int64_t end = std::min(T, begin + step);
    at::Tensor h;
    {
      StageTimer timer("norms", 0);
      h = rms_norm(x.slice(1, begin, end), l.mlp_norm, config_.rms_norm_eps);
    }
    StageTimer timer("mlp", 2.0 * 3 * B * (end - begin) * C * I);
    at::Tensor inner = at::silu(at::linear(h, l.w_gate, l.b_gate)).mul_(at::linear(h, l.w_up, l.b_up));  // (B, t, I)
    out.slice(1, begin, end).copy_(at::linear(inner, l.w_down, l.b_down));
  }
  return out;
}

at::Tensor LlamaModel::hidden_states(const at::Tensor& tokens, const RopeTable& rope) const {
  at::Tensor x = embed(tokens);
  for (size_t i = 0; i < weights_.layers.size(); ++i) x = layer(x, i, rope);
  return final_norm(x);
}

at::Tensor LlamaModel::embed(const at::Tensor& tokens) const {
  TORCH_CHECK(tokens.dim() == 2, "tokens must be (B, T)");
  StageTimer timer("embedding", 0);
  return at::embedding(weights_.embed, tokens.to(device(), at::kLong));  // (B, T, C)
}

at::Tensor LlamaModel::layer(const at::Tensor& x, size_t i, const RopeTable& rope) const {
  const LlamaLayerWeights& l = weights_.layers.at(i);
  at::Tensor h = attention_block(x, l, rope);
  {
    StageTimer timer("residual adds", 0);
    h.add_(x);
  }
  at::Tensor out = mlp_block(h, l);
  StageTimer timer("residual adds", 0);
  return out.add_(h);
}

at::Tensor LlamaModel::final_norm(const at::Tensor& x) const {
  StageTimer timer("norms", 0);
  return rms_norm(x, weights_.final_norm, config_.rms_norm_eps);
}

std::string LlamaModel::first_non_finite(const at::Tensor& tokens, const RopeTable& rope) const {
  c10::InferenceMode guard;
  auto finite = [](const at::Tensor& t) { return at::isfinite(t).all().item<bool>(); };
  at::Tensor x = at::embedding(weights_.embed, tokens.to(device(), at::kLong));
  if (!finite(x)) return "embedding";
  for (size_t i = 0; i < weights_.layers.size(); ++i) {
    x = x + attention_block(x, weights_.layers[i], rope);
    if (!finite(x)) return fmt::format("layer {} attention", i);
    x = x + mlp_block(x, weights_.layers[i]);
    if (!finite(x)) return fmt::format("layer {} MLP", i);
  }
  x = rms_norm(x, weights_.final_norm, config_.rms_norm_eps);
  if (!finite(x)) return "final norm";
  for (int64_t begin = 0; begin < x.size(1); begin += 1024)
    if (!finite(logits(x.slice(1, begin, std::min(x.size(1), begin + 1024))))) return "LM head";
  return "";
}

at::Tensor LlamaModel::hidden_states(const at::Tensor& tokens, const RopeTable& rope, KvCache& cache) const {
  TORCH_CHECK(tokens.dim() == 2, "tokens must be (B, T)");
  cache.keys.resize(weights_.layers.size());
  cache.values.resize(weights_.layers.size());
  at::Tensor x = at::embedding(weights_.embed, tokens.to(device(), at::kLong));
  for (size_t i = 0; i < weights_.layers.size(); ++i) {
    x = x + attention_block(x, weights_.layers[i], rope, &cache, i);
    x = x + mlp_block(x, weights_.layers[i]);
  }
  cache.length += tokens.size(1);
  return rms_norm(x, weights_.final_norm, config_.rms_norm_eps);
}

at::Tensor LlamaModel::logits(const at::Tensor& hidden) const {
  return at::linear(hidden, weights_.lm_head).to(at::promote_types(hidden.scalar_type(), at::kFloat));
}

}  // namespace longrope
