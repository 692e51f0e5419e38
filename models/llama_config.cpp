// Reading and writing LlamaConfig as Hugging Face config.json.
#include "models/llama_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "formats/input_file.h"

namespace longrope {
namespace {

using nlohmann::json;

std::runtime_error config_error(const std::string& source, const std::string& field, const std::string& what) {
  return std::runtime_error(fmt::format("{}: field '{}': {}", source, field, what));
}

// Required integer key: fatal when missing or not a number.
int64_t require_int(const json& j, const char* key, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) throw config_error(source, key, "missing");
  if (!it->is_number_integer()) throw config_error(source, key, "expected an integer, got " + it->dump());
  return it->get<int64_t>();
}

template <typename T>
T optional_value(const json& j, const char* key, T fallback, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw config_error(source, key, "unexpected value " + it->dump());
  }
}

std::vector<double> factor_list(const json& j, const char* key, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_array()) throw config_error(source, key, "expected a list of numbers");
  std::vector<double> out;
  for (const auto& v : *it) {
    if (!v.is_number()) throw config_error(source, key, "expected a list of numbers, found " + v.dump());
    out.push_back(v.get<double>());
  }
  return out;
}

// The window a config's attention slides over, as transformers' classes decide it: Llama has none;
// Phi-3 uses sliding_window; Mistral too (4096 when the key is absent, none when null); Qwen2 only with
// use_sliding_window (default false), and then on the layers from max_window_layers on (or as
// layer_types says). The model has one window for every layer: a window on some layers only is refused.
std::optional<int64_t> sliding_window_of(const json& j, const std::string& model_type, int64_t layers, const std::string& source) {
  std::optional<int64_t> window;
  if (j.contains("sliding_window") && !j["sliding_window"].is_null()) {
    if (!j["sliding_window"].is_number_integer()) throw config_error(source, "sliding_window", "expected an integer or null");
    window = j["sliding_window"].get<int64_t>();
    if (*window <= 0) throw config_error(source, "sliding_window", fmt::format("must be positive (or null for none), got {}", *window));
  } else if (!j.contains("sliding_window") && (model_type == "mistral" || model_type == "qwen2")) {
    window = 4096;  // MistralConfig's and Qwen2Config's default
  }
  if (model_type == "llama") return std::nullopt;
  if (model_type != "qwen2" || !window) return window;
  if (!optional_value<bool>(j, "use_sliding_window", false, source)) return std::nullopt;
  int64_t sliding = 0;  // layers with the window
  if (j.contains("layer_types") && j["layer_types"].is_array()) {
    for (const json& t : j["layer_types"]) sliding += t == "sliding_attention" ? 1 : 0;
  } else {
    sliding = layers - std::clamp<int64_t>(optional_value<int64_t>(j, "max_window_layers", 28, source), 0, layers);
  }
  if (sliding == 0) return std::nullopt;
  if (sliding != layers)
    throw config_error(source, j.contains("layer_types") ? "layer_types" : "max_window_layers",
                       fmt::format("a sliding window on {} of {} layers is not supported (only on all or none)", sliding, layers));
  return window;
}

ConfigRopeScaling parse_rope_scaling(const json& params, const std::string& model_type, const std::string& source) {
  ConfigRopeScaling r;
  if (!params.contains("rope_type") && !params.contains("type"))
    for (const char* key : {"factor", "short_factor", "long_factor", "attention_factor", "beta_fast", "beta_slow", "low_freq_factor", "high_freq_factor"})
      if (params.contains(key) && !params[key].is_null())
        throw config_error(source, "rope_scaling.rope_type", fmt::format("missing, but '{}' is given", key));
  r.type = optional_value<std::string>(params, "rope_type", optional_value<std::string>(params, "type", "default", source), source);
  if (r.type == "su") r.type = "longrope";
  if (r.type == "yarn" && model_type == "phi3") r.type = "longrope";  // Phi3Config reads older Phi-3 "yarn" as longrope
  if (params.contains("factor") && !params["factor"].is_null()) r.factor = optional_value<double>(params, "factor", 1.0, source);
  if (params.contains("attention_factor") && !params["attention_factor"].is_null())
    r.attention_factor = optional_value<double>(params, "attention_factor", 1.0, source);
  // transformers treats a missing or falsy beta as its default.
  double beta_fast = optional_value<double>(params, "beta_fast", 0.0, source);
  double beta_slow = optional_value<double>(params, "beta_slow", 0.0, source);
  r.beta_fast = beta_fast != 0.0 ? beta_fast : 32.0;
  r.beta_slow = beta_slow != 0.0 ? beta_slow : 1.0;
  r.truncate = optional_value<bool>(params, "truncate", true, source);
  r.short_factor = factor_list(params, "short_factor", source);
  r.long_factor = factor_list(params, "long_factor", source);
  for (auto [key, slot] : {std::pair{"low_freq_factor", &r.low_freq_factor}, std::pair{"high_freq_factor", &r.high_freq_factor}})
    if (params.contains(key) && !params[key].is_null()) *slot = optional_value<double>(params, key, 0.0, source);
  const std::string& t = r.type;
  if (t != "default" && t != "linear" && t != "dynamic" && t != "yarn" && t != "longrope" && t != "llama3")
    throw config_error(source, "rope_scaling.rope_type", fmt::format("'{}' is not supported ({})", t, kConfigRopeTypes));
  if ((t == "linear" || t == "dynamic" || t == "llama3") && !r.factor) throw config_error(source, "rope_scaling.factor", "missing");
  if (t == "llama3" && !r.low_freq_factor) throw config_error(source, "rope_scaling.low_freq_factor", "missing (llama3 needs it)");
  if (t == "llama3" && !r.high_freq_factor) throw config_error(source, "rope_scaling.high_freq_factor", "missing (llama3 needs it)");
  return r;
}

}  // namespace

void LlamaConfig::validate(const std::string& source) const {
  // Decoders of LLaMA's shape (RMSNorm, rotate-half RoPE, SwiGLU); anything else would run as LLaMA
  // and give numbers that mean nothing.
  if (model_type != "llama" && model_type != "mistral" && model_type != "qwen2" && model_type != "phi3")
    throw config_error(source, "model_type", fmt::format("'{}' is not supported (llama, mistral, qwen2, phi3)", model_type));
  if (model_type == "phi3" && (attention_bias || mlp_bias))
    throw config_error(source, attention_bias ? "attention_bias" : "mlp_bias", "phi3 has no biases");
  auto positive = [&](const char* field, int64_t v) {
    if (v <= 0) throw config_error(source, field, fmt::format("must be positive, got {}", v));
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("intermediate_size", intermediate_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("num_key_value_heads", num_key_value_heads);
  positive("head_dim", head_dim);
  positive("max_position_embeddings", max_position_embeddings);
  if (num_attention_heads % num_key_value_heads != 0)
    throw config_error(source, "num_key_value_heads",
                       fmt::format("{} does not divide num_attention_heads {}", num_key_value_heads, num_attention_heads));
  if (rotary_dim() % 2 != 0 || rotary_dim() <= 0 || rotary_dim() > head_dim)
    throw config_error(source, partial_rotary_factor == 1.0 ? "head_dim" : "partial_rotary_factor",
                       fmt::format("gives rotary dim {} for head_dim {} (RoPE needs an even one)", rotary_dim(), head_dim));
  if (!(rope_theta > 1.0) || !std::isfinite(rope_theta))
    throw config_error(source, "rope_theta", fmt::format("must be > 1, got {}", rope_theta));
  if (!(rms_norm_eps > 0.0 && rms_norm_eps <= 0.1))  // 1e-6 to 1e-5 in practice; a large one erases the activations
    throw config_error(source, "rms_norm_eps", fmt::format("must be a small positive number (at most 0.1), got {}", rms_norm_eps));
  if (original_max_position_embeddings <= 0)
    throw config_error(source, "original_max_position_embeddings", fmt::format("must be positive, got {}", original_max_position_embeddings));
  const size_t half = static_cast<size_t>(rotary_dim() / 2);
  for (const auto* list : {&rope_scaling.short_factor, &rope_scaling.long_factor}) {
    if (!list->empty() && list->size() != half)
      throw config_error(source, list == &rope_scaling.short_factor ? "rope_scaling.short_factor" : "rope_scaling.long_factor",
                         fmt::format("has {} values, expected rotary_dim/2 = {}", list->size(), half));
  }
  if (rope_scaling.type == "longrope" && (rope_scaling.short_factor.empty() || rope_scaling.long_factor.empty()))
    throw config_error(source, "rope_scaling", "longrope needs both short_factor and long_factor");
  const ConfigRopeScaling& r = rope_scaling;
  if (r.factor && !(*r.factor >= 1.0 && std::isfinite(*r.factor)))
    throw config_error(source, "rope_scaling.factor", fmt::format("must be a finite number >= 1, got {}", *r.factor));
  if (r.attention_factor && !(*r.attention_factor > 0.0 && std::isfinite(*r.attention_factor)))
    throw config_error(source, "rope_scaling.attention_factor", fmt::format("must be a positive number, got {}", *r.attention_factor));
  if (r.type == "llama3" && !(*r.low_freq_factor > 0.0 && *r.high_freq_factor > *r.low_freq_factor && std::isfinite(*r.high_freq_factor)))
    throw config_error(source, "rope_scaling.high_freq_factor",
                       fmt::format("{} must be above low_freq_factor {}, both positive", *r.high_freq_factor, *r.low_freq_factor));
  if (r.type == "yarn" && !(r.beta_fast > r.beta_slow && r.beta_slow > 0 && std::isfinite(r.beta_fast)))
    throw config_error(source, "rope_scaling.beta_fast",
                       fmt::format("beta_fast {} and beta_slow {} must be positive with beta_fast above beta_slow", r.beta_fast, r.beta_slow));
  for (const auto* list : {&r.short_factor, &r.long_factor})
    for (size_t i = 0; i < list->size(); ++i)
      if (!((*list)[i] > 0.0 && std::isfinite((*list)[i])))
        throw config_error(source, fmt::format("rope_scaling.{}[{}]", list == &r.short_factor ? "short_factor" : "long_factor", i),
                           fmt::format("must be a positive number, got {}", (*list)[i]));
  if (sliding_window && *sliding_window <= 0)
    throw config_error(source, "sliding_window", fmt::format("must be positive (or null for none), got {}", *sliding_window));
  // Sizes beyond any real model: a typo that would otherwise ask the allocator for terabytes.
  const auto at_most = [&](const char* field, int64_t v, int64_t limit) {
    if (v > limit) throw config_error(source, field, fmt::format("{} is beyond any model this tool runs (at most {})", v, limit));
  };
  at_most("vocab_size", vocab_size, int64_t{1} << 24);
  at_most("hidden_size", hidden_size, int64_t{1} << 17);
  at_most("intermediate_size", intermediate_size, int64_t{1} << 20);
  at_most("num_hidden_layers", num_hidden_layers, 4096);
  at_most("num_attention_heads", num_attention_heads, 4096);
  at_most("head_dim", head_dim, 4096);
  at_most("max_position_embeddings", max_position_embeddings, int64_t{1} << 32);
  at_most("original_max_position_embeddings", original_max_position_embeddings, int64_t{1} << 32);
}

LlamaConfig parse_llama_config(const std::string& json_text, const std::string& source) {
  json j;
  std::set<std::string> top_level_keys;  // nlohmann keeps the last of two equal keys: refuse the ambiguity
  const auto refuse_duplicates = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && !top_level_keys.insert(parsed.get<std::string>()).second)
      throw config_error(source, parsed.get<std::string>(), "given twice");
    return true;
  };
  try {
    j = json::parse(json_text, refuse_duplicates);
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  if (!j.is_object()) throw std::runtime_error(source + ": expected a JSON object");
  const std::string act = optional_value<std::string>(j, "hidden_act", "silu", source);
  if (act != "silu" && act != "swish")
    throw config_error(source, "hidden_act", fmt::format("'{}' is not supported (silu: the SwiGLU of LLaMA)", act));
  for (const char* key : {"rope_scaling", "rope_parameters"})
    if (j.contains(key) && !j[key].is_null() && !j[key].is_object()) throw config_error(source, key, "expected an object");
  LlamaConfig c;
  c.model_type = optional_value<std::string>(j, "model_type", "llama", source);
  c.vocab_size = require_int(j, "vocab_size", source);
  c.hidden_size = require_int(j, "hidden_size", source);
  c.intermediate_size = require_int(j, "intermediate_size", source);
  c.num_hidden_layers = require_int(j, "num_hidden_layers", source);
  c.num_attention_heads = require_int(j, "num_attention_heads", source);
  c.num_key_value_heads = optional_value<int64_t>(j, "num_key_value_heads", c.num_attention_heads, source);
  if (c.num_attention_heads <= 0)  // before it divides the hidden size
    throw config_error(source, "num_attention_heads", fmt::format("must be positive, got {}", c.num_attention_heads));
  c.head_dim = optional_value<int64_t>(j, "head_dim", c.hidden_size / c.num_attention_heads, source);
  const bool phi3 = c.model_type == "phi3";
  c.rms_norm_eps = optional_value<double>(j, "rms_norm_eps", phi3 ? 1e-5 : 1e-6, source);  // the config classes' defaults
  c.max_position_embeddings = optional_value<int64_t>(j, "max_position_embeddings", 2048, source);
  c.tie_word_embeddings = optional_value<bool>(j, "tie_word_embeddings", false, source);
  // Qwen2 has q/k/v biases without declaring attention_bias; the loader also looks at the tensors.
  // Phi-3 has none, whatever the config says (transformers' Phi3 reads neither key).
  c.attention_bias = !phi3 && optional_value<bool>(j, "attention_bias", c.model_type == "qwen2", source);
  c.mlp_bias = !phi3 && optional_value<bool>(j, "mlp_bias", false, source);
  c.sliding_window = sliding_window_of(j, c.model_type, c.num_hidden_layers, source);
  if (j.contains("bos_token_id") && !j["bos_token_id"].is_null()) c.bos_token_id = require_int(j, "bos_token_id", source);
  if (j.contains("pad_token_id") && j["pad_token_id"].is_number_integer()) c.pad_token_id = j["pad_token_id"].get<int64_t>();
  // Several EOS ids (Llama 3) are a list; the tool uses none of them.
  if (j.contains("eos_token_id") && j["eos_token_id"].is_number_integer()) c.eos_token_id = j["eos_token_id"].get<int64_t>();
  c.torch_dtype = optional_value<std::string>(j, "torch_dtype", optional_value<std::string>(j, "dtype", "", source), source);

  // transformers 5.x nests rope_theta and friends in rope_parameters; 4.x keeps them top level. Where a
  // config has both, a non-empty rope_scaling wins (5.x: `rope_scaling or rope_parameters`; 4.x reads
  // no other).
  const auto object_at = [&](const char* key) { return j.contains(key) && j[key].is_object() && !j[key].empty(); };
  json rope = object_at("rope_scaling") ? j["rope_scaling"] : object_at("rope_parameters") ? j["rope_parameters"] : json::object();
  c.rope_theta = optional_value<double>(rope, "rope_theta", optional_value<double>(j, "rope_theta", 10000.0, source), source);
  c.partial_rotary_factor = optional_value<double>(
      rope, "partial_rotary_factor", optional_value<double>(j, "partial_rotary_factor", 1.0, source), source);
  c.rope_scaling = parse_rope_scaling(rope, c.model_type, source);
  // A top-level original_max_position_embeddings (Phi-3) wins over the one in the rope dict. Phi3Config
  // always has one (4096 unless given), and puts it into the rope dict in place of the dict's own.
  const int64_t in_rope = optional_value<int64_t>(rope, "original_max_position_embeddings", c.max_position_embeddings, source);
  c.original_max_position_embeddings = optional_value<int64_t>(j, "original_max_position_embeddings", phi3 ? 4096 : in_rope, source);
  // YaRN with DeepSeek's mscale pair and no attention_factor: transformers takes their ratio (4.x and 5.x).
  // Written as an explicit attention_factor, so that convert keeps what transformers runs.
  const double mscale = optional_value<double>(rope, "mscale", 0.0, source);
  const double mscale_all_dim = optional_value<double>(rope, "mscale_all_dim", 0.0, source);
  if (c.rope_scaling.type == "yarn" && !c.rope_scaling.attention_factor && mscale != 0.0 && mscale_all_dim != 0.0) {
    const double s = c.rope_scaling.factor ? *c.rope_scaling.factor
                                           : static_cast<double>(c.max_position_embeddings) / c.original_max_position_embeddings;
    const auto yarn_mscale = [s](double m) { return s <= 1 ? 1.0 : 0.1 * m * std::log(s) + 1.0; };
    c.rope_scaling.attention_factor = yarn_mscale(mscale) / yarn_mscale(mscale_all_dim);
  }
  c.validate(source);
  return c;
}

LlamaConfig load_llama_config(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw std::runtime_error(path + ": is a directory, not a config.json");
  return parse_llama_config(formats::read_regular_file(path), path);  // a FIFO is refused before it can block
}

std::string llama_config_to_json(const LlamaConfig& c) {
  const bool phi3 = c.model_type == "phi3";
  const char* architecture = c.model_type == "mistral" ? "MistralForCausalLM"
                             : c.model_type == "qwen2" ? "Qwen2ForCausalLM"
                             : phi3                    ? "Phi3ForCausalLM"
                                                       : "LlamaForCausalLM";
  json j = {
      {"architectures", {architecture}},
      {"model_type", c.model_type},
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads},
      {"head_dim", c.head_dim},
      {"rms_norm_eps", c.rms_norm_eps},
      {"rope_theta", c.rope_theta},
      {"max_position_embeddings", c.max_position_embeddings},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"hidden_act", "silu"},
      {"torch_dtype", c.torch_dtype.empty() ? "float32" : c.torch_dtype},
  };
  // Explicit nulls: transformers' LlamaConfig would otherwise default to BOS 1 and EOS 2, and
  // Phi3Config to a padding id of 32000, past a small vocabulary (its embedding then refuses to load).
  j["bos_token_id"] = c.bos_token_id ? json(*c.bos_token_id) : json(nullptr);
  j["eos_token_id"] = c.eos_token_id ? json(*c.eos_token_id) : json(nullptr);
  j["pad_token_id"] = c.pad_token_id ? json(*c.pad_token_id) : json(nullptr);
  if (!phi3) {  // Phi3Config has no biases to declare
    j["attention_bias"] = c.attention_bias;
    j["mlp_bias"] = c.mlp_bias;
  }
  // Written so that each config class reads back this window: MistralConfig and Qwen2Config would
  // otherwise default to 4096, and Qwen2 slides only with use_sliding_window, from max_window_layers on.
  if (c.sliding_window || c.model_type == "mistral") j["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  if (c.model_type == "qwen2") {
    j["use_sliding_window"] = c.sliding_window.has_value();
    if (c.sliding_window) j["max_window_layers"] = 0;
  }
  if (c.partial_rotary_factor != 1.0) j["partial_rotary_factor"] = c.partial_rotary_factor;
  // Phi3Config would read a missing one as 4096.
  if (c.original_max_position_embeddings != c.max_position_embeddings || phi3)
    j["original_max_position_embeddings"] = c.original_max_position_embeddings;
  // The checkpoint's own RoPE scaling travels with it (convert, init-model, a GGUF's rope factors).
  const ConfigRopeScaling& r = c.rope_scaling;
  if (r.type != "default") {
    json scaling = {{"rope_type", r.type}};
    if (r.factor) scaling["factor"] = *r.factor;
    if (r.attention_factor) scaling["attention_factor"] = *r.attention_factor;
    if (r.type == "yarn") {
      scaling["beta_fast"] = r.beta_fast;
      scaling["beta_slow"] = r.beta_slow;
      scaling["truncate"] = r.truncate;
    }
    if (!r.short_factor.empty()) scaling["short_factor"] = r.short_factor;
    if (!r.long_factor.empty()) scaling["long_factor"] = r.long_factor;
    if (r.low_freq_factor) scaling["low_freq_factor"] = *r.low_freq_factor;
    if (r.high_freq_factor) scaling["high_freq_factor"] = *r.high_freq_factor;
    if (r.type == "yarn" || r.type == "longrope" || r.type == "llama3")
      scaling["original_max_position_embeddings"] = c.original_max_position_embeddings;
    j["rope_scaling"] = scaling;
  }
  return j.dump(2) + "\n";
}

}  // namespace longrope
