// Patching config.json with a LongRoPE block.
#include "export/hf_export.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "formats/atomic_file.h"
#include "formats/input_file.h"
#include "rope/rope_scaling.h"
#include "util/errors.h"

namespace longrope {

namespace {

using ojson = nlohmann::ordered_json;

std::runtime_error config_error(const std::string& source, const std::string& field, const std::string& what) {
  return std::runtime_error(fmt::format("{}: {}: {}", source, field, what));
}

// The number at j[key] (prefix names j in errors), nullopt when absent or null.
std::optional<double> number_at(const ojson& j, const char* key, const std::string& prefix, const std::string& source) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return std::nullopt;
  if (!j[key].is_number()) throw config_error(source, prefix + key, "expected a number, got " + j[key].dump());
  return j[key].get<double>();
}

const ojson* object_at(const ojson& j, const char* key) {
  return j.contains(key) && j[key].is_object() ? &j[key] : nullptr;
}

}  // namespace

HfLayout parse_hf_layout(const std::string& name) {
  if (name == "rope_scaling") return HfLayout::ROPE_SCALING;
  if (name == "rope_parameters") return HfLayout::ROPE_PARAMETERS;
  if (name == "both") return HfLayout::BOTH;
  throw InvalidSetting("layout", "unknown layout '" + name + "' (expected rope_scaling, rope_parameters or both)");
}

HfExport patch_hf_config(const ojson& config, const FactorTable& table, const HfExportOptions& options,
                         const std::string& config_source, const std::string& table_source) {
  const std::string& src = config_source;
  if (!config.is_object()) throw std::runtime_error(src + ": expected a JSON object");
  // Decoders with RoPE that transformers and vLLM give a longrope rope_scaling; BERT or GPT-2 have no
  // rotary embedding to rescale.
  static const std::set<std::string> rope_models = {"llama", "mistral", "mixtral", "qwen2", "qwen3", "phi3", "gemma", "gemma2",
                                                    "olmo", "olmo2", "granite", "starcoder2", "stablelm", "cohere"};
  const std::string model_type = config.contains("model_type") && config["model_type"].is_string() ? config["model_type"].get<std::string>() : "";
  if (!rope_models.count(model_type))
    throw config_error(src, "model_type", fmt::format("'{}' is not a RoPE decoder this export knows (llama, mistral, qwen2, phi3, ...)",
                                                      model_type));
  const ojson empty = ojson::object();
  const ojson* params = object_at(config, "rope_parameters");
  const ojson* scaling = object_at(config, "rope_scaling");
  const ojson& rope = params ? *params : scaling ? *scaling : empty;  // the block a loader reads today
  const std::string rope_prefix = params ? "rope_parameters." : scaling ? "rope_scaling." : "";
  if (params != nullptr) {
    for (const auto& [k, v] : params->items())
      if (v.is_object())
        throw config_error(src, "rope_parameters." + k, "RoPE parameters per layer type are not supported (one table for all layers)");
  }

  // Rotary dimension as transformers computes it: int(head_dim * partial_rotary_factor).
  std::string head_dim_field = "head_dim";
  std::optional<double> head_dim = number_at(config, "head_dim", "", src);
  if (!head_dim) {
    const auto hidden = number_at(config, "hidden_size", "", src);
    const auto heads = number_at(config, "num_attention_heads", "", src);
    if (heads && *heads <= 0) throw config_error(src, "num_attention_heads", fmt::format("must be positive, got {}", *heads));
    if (!hidden || !heads) throw config_error(src, "head_dim", "missing, and so is hidden_size or num_attention_heads");
    head_dim = std::floor(*hidden / *heads);
    head_dim_field = "hidden_size / num_attention_heads";
  }
  const auto prf_in_rope = number_at(rope, "partial_rotary_factor", rope_prefix, src);
  const auto prf_top = number_at(config, "partial_rotary_factor", "", src);
  const double partial_rotary_factor = prf_in_rope ? *prf_in_rope : prf_top ? *prf_top : 1.0;
  const auto rotary_dim = static_cast<int64_t>(*head_dim * partial_rotary_factor);
  const auto n = static_cast<int64_t>(table.lambda.size());
  if (2 * n != rotary_dim)
    throw config_error(src, partial_rotary_factor != 1.0 ? "partial_rotary_factor" : head_dim_field,
                       fmt::format("rotary dim {} ({} {} × partial_rotary_factor {}) needs {} factors, the table {} has {}",
                                   rotary_dim, head_dim_field, *head_dim, partial_rotary_factor, rotary_dim / 2,
                                   table_source, n));
  if (table.rotary_dim > 0 && table.rotary_dim != rotary_dim)
    throw config_error(src, head_dim_field,
                       fmt::format("rotary dim {} but the table was searched for rotary dim {}", rotary_dim, table.rotary_dim));

  const auto theta_in_rope = number_at(rope, "rope_theta", rope_prefix, src);
  const auto theta_top = number_at(config, "rope_theta", "", src);
  const double rope_theta = theta_in_rope ? *theta_in_rope : theta_top ? *theta_top : 10000.0;
  if (table.rope_base > 0 && std::abs(rope_theta - table.rope_base) > 1e-9 * table.rope_base)
    throw config_error(src, theta_in_rope ? rope_prefix + "rope_theta" : "rope_theta",
                       fmt::format("{} but the table was searched with rope base {}", rope_theta, table.rope_base));

  // L as the config states it: a top-level original_max_position_embeddings wins (Phi-3), then the
  // rope block's, then max_position_embeddings of a config not yet extended.
  int64_t model_original = 0;
  if (auto v = number_at(config, "original_max_position_embeddings", "", src)) model_original = static_cast<int64_t>(*v);
  else if (auto r = number_at(rope, "original_max_position_embeddings", rope_prefix, src)) model_original = static_cast<int64_t>(*r);
  else if (auto m = number_at(config, "max_position_embeddings", "", src)) model_original = static_cast<int64_t>(*m);

  HfExport result;
  result.values = resolve_export_values(table, options.request, model_original, table_source);
  const ExportValues& v = result.values;
  // A scaling the model already carries is replaced, not composed with: the table's λ divide the native θ_i.
  const auto string_at = [&](const char* key) {
    return rope.contains(key) && rope[key].is_string() ? rope[key].get<std::string>() : std::string();
  };
  const std::string replaced = !string_at("rope_type").empty() ? string_at("rope_type") : string_at("type");
  if (!replaced.empty() && replaced != "default") {
    const std::optional<double> factor = number_at(rope, "factor", rope_prefix, src);
    result.values.warnings.push_back(fmt::format(
        "warning: {}: its {} (rope_type {}{}) is replaced by the table's longrope scaling, whose factors divide the model's "
        "native frequencies, not the scaled ones", src, params ? "rope_parameters" : "rope_scaling", replaced,
        factor ? fmt::format(", factor {:g}", *factor) : ""));
  }

  ojson block = ojson::object();
  block["rope_type"] = "longrope";
  block["long_factor"] = v.long_factor;
  block["short_factor"] = v.short_factor;
  block["original_max_position_embeddings"] = v.original_length;
  block["factor"] = v.scale;
  block["attention_factor"] = v.attention_factor;
  // vLLM computes its default from max_position_embeddings / original_max_position_embeddings.
  const double vllm_scale = static_cast<double>(v.target_length) / static_cast<double>(v.original_length);
  const double vllm_default = longrope_attention_factor(vllm_scale, v.original_length);
  if (std::abs(v.attention_factor - vllm_default) > 1e-12 * vllm_default) {
    block["short_mscale"] = v.attention_factor;
    block["long_mscale"] = v.attention_factor;
    result.values.warnings.push_back(fmt::format(
        "note: attention factor {} differs from vLLM's default {} for L'/L, so short_mscale/long_mscale carry it for "
        "vLLM (transformers logs them as unrecognised keys)",
        v.attention_factor, vllm_default));
  }

  ojson& out = result.config;
  out = config;
  out["max_position_embeddings"] = v.target_length;
  // L at the top level too, in every layout: transformers 4.x reads it only there (without it, it
  // takes L' for L and never applies the long factors below L'); 5.x and vLLM read the block's.
  out["original_max_position_embeddings"] = v.original_length;
  const bool keep_partial = partial_rotary_factor != 1.0 || prf_in_rope || prf_top;
  if (options.layout != HfLayout::ROPE_PARAMETERS) {
    if (!theta_top || *theta_top != rope_theta) out["rope_theta"] = rope_theta;  // keeps the user's spelling
    if (keep_partial && (!prf_top || *prf_top != partial_rotary_factor)) out["partial_rotary_factor"] = partial_rotary_factor;
    out["rope_scaling"] = block;
  }
  if (options.layout != HfLayout::ROPE_SCALING) {
    ojson with_theta = block;
    with_theta["rope_theta"] = rope_theta;
    if (keep_partial) with_theta["partial_rotary_factor"] = partial_rotary_factor;
    out["rope_parameters"] = with_theta;
  }
  if (options.layout == HfLayout::ROPE_SCALING) out.erase("rope_parameters");
  if (options.layout == HfLayout::ROPE_PARAMETERS) out.erase("rope_scaling");
  return result;
}

ExportValues export_hf_config(const std::string& config_path, const std::string& out_path, const FactorTable& table,
                              const HfExportOptions& options, const std::string& table_source) {
  const std::string text = formats::read_regular_file(config_path);
  ojson config;
  try {
    config = ojson::parse(text);
  } catch (const ojson::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", config_path, e.what()));
  }
  HfExport patched = patch_hf_config(config, table, options, config_path, table_source);
  formats::write_file_atomically(out_path, patched.config.dump(2) + "\n");
  return patched.values;
}

}  // namespace longrope
