// The peak of a forward pass from the model's shape, against MemAvailable.
#include "eval/memory_estimate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "util/errors.h"

namespace longrope {

int64_t forward_peak_bytes(const LlamaConfig& c, const ForwardShape& s) {
  const double positions = static_cast<double>(s.tokens) * static_cast<double>(s.batch);
  const double e = static_cast<double>(s.dtype_bytes);
  const double heads = static_cast<double>(c.num_attention_heads * c.head_dim);
  const double kv = static_cast<double>(c.num_key_value_heads * c.head_dim);
  // One layer at a time: the residual stream, and the wider of the MLP (gate, up and their product) and
  // the attention (q, k, v widened to every head, its output). Measured on the CPU (peak RSS of passkey
  // at 4k and 16k tokens, hidden 256, MLP 704, 4 layers, f32): 12.5 KB per position with the KV cache;
  // this gives 13.5.
  const double per_position =
      e * (static_cast<double>(c.hidden_size) + std::max(3.0 * static_cast<double>(c.intermediate_size), 3.0 * heads + 2.0 * kv));
  // RoPE: float64 angles, then cos and sin in float64 and in the compute dtype.
  const double rope = static_cast<double>(s.tokens) * static_cast<double>(c.rotary_dim() / 2) * (3.0 * 8.0 + 2.0 * e);
  // Float32 attention scores and their softmax: every query against every key for a short window, a
  // block of the chunked backend's 256 MiB budget for a long one.
  const double all_scores = 2.0 * 4.0 * static_cast<double>(s.batch) * static_cast<double>(c.num_attention_heads) *
                            static_cast<double>(s.tokens) * static_cast<double>(s.tokens);
  const double scores = std::min(all_scores, 2.0 * 256.0 * (1 << 20));
  const double logits = 2.0 * 4.0 * static_cast<double>(s.logit_positions) * static_cast<double>(s.batch) * static_cast<double>(c.vocab_size);
  const double cache = s.kv_cache ? positions * static_cast<double>(c.num_hidden_layers) * 2.0 * kv * e : 0.0;
  const double total = positions * per_position + rope + scores + logits + cache;
  return total > 9e18 ? INT64_MAX : static_cast<int64_t>(total);
}

int64_t weight_bytes(const LlamaConfig& c, int64_t dtype_bytes) {
  const double hidden = static_cast<double>(c.hidden_size);
  const double heads = static_cast<double>(c.num_attention_heads * c.head_dim);
  const double kv = static_cast<double>(c.num_key_value_heads * c.head_dim);
  const double layer = hidden * (2.0 * heads + 2.0 * kv) + 3.0 * hidden * static_cast<double>(c.intermediate_size) + 2.0 * hidden;
  const double embeddings = static_cast<double>(c.vocab_size) * hidden * (c.tie_word_embeddings ? 1.0 : 2.0);
  const double total = (embeddings + static_cast<double>(c.num_hidden_layers) * layer + hidden) * static_cast<double>(dtype_bytes);
  return total > 9e18 ? INT64_MAX : static_cast<int64_t>(total);
}

int64_t training_activation_bytes(const LlamaConfig& c, int64_t context, int64_t batch) {
  ForwardShape shape;
  shape.tokens = context;
  shape.batch = batch;
  shape.logit_positions = context;
  const double layers = static_cast<double>(std::max<int64_t>(1, c.num_hidden_layers));
  const double total = static_cast<double>(forward_peak_bytes(c, shape)) * layers;
  return total > 9e18 ? INT64_MAX : static_cast<int64_t>(total);
}

int64_t evaluation_window_bytes(int64_t context, int64_t eval_rows) {
  const double total = 2.0 * static_cast<double>(eval_rows) * static_cast<double>(context + 1) * 8.0;  // both splits
  return total > 9e18 ? INT64_MAX : static_cast<int64_t>(total);
}

void require_training_memory(const LlamaConfig& config, int64_t context, int64_t batch, int64_t eval_rows, const std::string& device) {
  const std::optional<int64_t> available = available_memory_bytes(device);
  if (!available) return;
  const int64_t activations = training_activation_bytes(config, context, batch);
  if (activations > *available)
    throw InvalidSetting("batch", fmt::format("{} windows of {} tokens need about {:.1f} GB of activations for the backward, more than "
                                              "the {:.1f} GB available on {}", batch, context, static_cast<double>(activations) / 1e9,
                                              static_cast<double>(*available) / 1e9, device));
  const int64_t windows = evaluation_window_bytes(context, eval_rows);
  if (windows > *available - activations)
    throw InvalidSetting("eval_batches", fmt::format("{} evaluation windows of {} tokens per split take about {:.1f} GB, more than the "
                                                     "{:.1f} GB left on {}", eval_rows, context + 1, static_cast<double>(windows) / 1e9,
                                                     static_cast<double>(*available - activations) / 1e9, device));
}

void require_weight_memory(const LlamaConfig& config, int64_t bytes_per_parameter, const std::string& device,
                           const std::string& source, const std::string& what) {
  const std::optional<int64_t> available = available_memory_bytes(device);
  const int64_t needed = weight_bytes(config, bytes_per_parameter);
  if (!available || needed <= *available) return;
  throw std::runtime_error(fmt::format("{}: {} take {:.1f} GB, more than the {:.1f} GB available on {}", source, what,
                                       static_cast<double>(needed) / 1e9, static_cast<double>(*available) / 1e9, device));
}

std::optional<int64_t> available_memory_bytes(const std::string& device) {
  if (device != "cpu") return std::nullopt;
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream fields(line);
    std::string key;
    int64_t kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

void require_forward_memory(const LlamaConfig& config, const ForwardShape& shape, const std::string& device, const std::string& setting) {
  const std::optional<int64_t> available = available_memory_bytes(device);
  if (!available) return;
  const int64_t needed = forward_peak_bytes(config, shape);
  if (needed <= *available) return;
  throw InvalidSetting(setting, fmt::format("{} tokens{} need about {:.1f} GB for one forward ({}), more than the {:.1f} GB available "
                                            "on {}", shape.tokens, shape.batch > 1 ? fmt::format(" × {} windows", shape.batch) : "",
                                            static_cast<double>(needed) / 1e9,
                                            shape.kv_cache ? "activations and the KV cache" : "activations and logits",
                                            static_cast<double>(*available) / 1e9, device));
}

}  // namespace longrope
