// LlamaConfig: the hyperparameters of a LLaMA-family decoder, read from a Hugging Face config.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rope/rope_scaling.h"

namespace longrope {

// The RoPE scaling a checkpoint declares (config.json `rope_parameters` in transformers 5.x,
// `rope_scaling` in 4.x), normalised the way transformers' standardize_rope_params() does.
struct ConfigRopeScaling {
  std::string type = "default";        // default | linear | dynamic | yarn | longrope | llama3 ("su" is read as longrope)
  std::optional<double> factor;        // s; longrope/yarn derive it from the lengths when absent
  std::optional<double> attention_factor;
  double beta_fast = 32.0;             // yarn
  double beta_slow = 1.0;              // yarn
  bool truncate = true;                // yarn: floor/ceil the correction range
  std::vector<double> short_factor;    // longrope, length rotary_dim/2
  std::vector<double> long_factor;     // longrope, length rotary_dim/2
  std::optional<double> low_freq_factor;   // llama3: wavelengths above L/this are divided by s
  std::optional<double> high_freq_factor;  // llama3: wavelengths below L/this are kept
};

// The rope types this tool applies as transformers does, for messages.
inline constexpr const char* kConfigRopeTypes = "default, linear, dynamic, yarn, longrope, llama3";

struct LlamaConfig {
  std::string model_type = "llama";    // llama | mistral | qwen2 | phi3 (any LLaMA-shaped decoder)
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;             // C
  int64_t intermediate_size = 0;       // SwiGLU inner width
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;     // H
  int64_t num_key_value_heads = 0;     // KVH (grouped-query attention when < H)
  int64_t head_dim = 0;                // D; hidden_size / H unless config.json says otherwise
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;         // RoPE base b
  double partial_rotary_factor = 1.0;  // rotary_dim = D * this; channels past it are not rotated
  int64_t max_position_embeddings = 2048;
  // L: the pre-training length, that of the checkpoint's own scaling (llama3, yarn, longrope) and the
  // one every search extends. A top-level value wins (Phi-3 keeps it there, and Phi3Config's default
  // is 4096), then the rope dict's (Llama 3.1: 8192 below a max_position_embeddings of 131072), then
  // max_position_embeddings.
  int64_t original_max_position_embeddings = 0;
  bool tie_word_embeddings = false;    // lm_head shares embed_tokens
  bool attention_bias = false;         // q/k/v(/o) projections carry biases (Qwen2: q/k/v only)
  bool mlp_bias = false;
  std::optional<int64_t> sliding_window;  // Mistral; LongRoPE disables it (--sliding-window off)
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
  std::optional<int64_t> pad_token_id;  // unused here; kept so that a model written back loads in transformers
  std::string torch_dtype;             // as saved ("float32", "bfloat16", ...); informational
  ConfigRopeScaling rope_scaling;

  int64_t rotary_dim() const { return static_cast<int64_t>(head_dim * partial_rotary_factor); }
  // d, b and L of the rotary embedding: what every RoPE table of this model is built from.
  RopeGeometry rope_geometry() const { return RopeGeometry{rotary_dim(), rope_theta, original_max_position_embeddings}; }

  // Throws std::invalid_argument naming the offending field when the shape is inconsistent.
  void validate(const std::string& source) const;
};

// Parses config.json text; `source` names the file in error messages.
LlamaConfig parse_llama_config(const std::string& json_text, const std::string& source);
LlamaConfig load_llama_config(const std::string& path);

// Serialises to a config.json that both this tool and transformers' LlamaConfig read.
std::string llama_config_to_json(const LlamaConfig& config);

}  // namespace longrope
