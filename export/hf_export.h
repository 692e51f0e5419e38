// hf_export: a Hugging Face config.json patched with a LongRoPE block, as transformers (4.x
// `rope_scaling`, 5.x `rope_parameters`) and vLLM read it.
//
// The block: {"rope_type": "longrope", "long_factor": λ, "short_factor": short λ or ones,
// "original_max_position_embeddings": L, "factor": s, "attention_factor": a}, plus
// "short_mscale"/"long_mscale" = a only when a differs from vLLM's default sqrt(1 + ln(L'/L) / ln L)
// (vLLM ignores attention_factor). max_position_embeddings becomes L', and a top-level
// original_max_position_embeddings is L in every layout: transformers 4.x reads it only there.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "export/export_values.h"
#include "tables/factor_table.h"

namespace longrope {

// Where the block goes:
//   ROPE_SCALING     transformers 4.x: "rope_scaling", top-level rope_theta; any rope_parameters removed
//   ROPE_PARAMETERS  transformers 5.x: "rope_parameters" with rope_theta inside; any rope_scaling removed
//   BOTH (default)   both blocks with the same factors. transformers 4.x reads rope_scaling only;
//                    5.x accepts either (a rope_scaling entry takes precedence, checked with 5.x);
//                    vLLM copies rope_scaling into rope_parameters under 4.x and standardizes under
//                    5.x; longrope's own loader reads rope_parameters first. So one file loads
//                    unchanged everywhere.
enum class HfLayout { ROPE_SCALING, ROPE_PARAMETERS, BOTH };

// "rope_scaling", "rope_parameters" or "both"; throws std::invalid_argument otherwise.
HfLayout parse_hf_layout(const std::string& name);

struct HfExportOptions {
  HfLayout layout = HfLayout::BOTH;
  ExportRequest request;
};

struct HfExport {
  nlohmann::ordered_json config;  // the patched config, its key order kept
  ExportValues values;            // what went in, with the warnings to print
};

// Throws std::runtime_error "SOURCE: FIELD: problem" when the config lacks what the rotary
// dimension needs, the table's factor count is not (head_dim · partial_rotary_factor) / 2, the
// table was searched with another rope base, or resolve_export_values refuses (n̂ > 0, ...).
HfExport patch_hf_config(const nlohmann::ordered_json& config, const FactorTable& table, const HfExportOptions& options,
                         const std::string& config_source, const std::string& table_source);

// Reads `config_path`, patches it, and writes `out_path` atomically (it may be `config_path`).
ExportValues export_hf_config(const std::string& config_path, const std::string& out_path, const FactorTable& table,
                              const HfExportOptions& options, const std::string& table_source);

}  // namespace longrope
