// gguf_export: a GGUF model rewritten to carry a LongRoPE table for llama.cpp; every other tensor
// and metadata entry is copied byte-for-byte.
//
// Mode LONGROPE (Phi-3 style; llama.cpp picks long vs short per allocated context, n_ctx_seq > L):
//   tensors rope_factors_long.weight (λ) and rope_factors_short.weight (short λ or ones), F32, dims [n_rot/2];
//   {arch}.rope.scaling.type = "longrope", {arch}.rope.scaling.original_context_length = L (UINT32),
//   {arch}.rope.scaling.attn_factor = a (FLOAT32), {arch}.context_length = L';
//   {arch}.rope.scaling.factor and the legacy {arch}.rope.scale_linear are removed (llama.cpp would
//   divide θ by that factor on top of λ), and so is a rope_freqs.weight (it would take precedence).
// Mode FREQS (llama architecture only; one static table at every position and context size):
//   tensor rope_freqs.weight (λ), F32, dims [n_rot/2]; {arch}.rope.scaling.attn_factor = a,
//   {arch}.rope.scaling.type = "none" (no linear or YaRN scaling on top), {arch}.context_length = L',
//   {arch}.rope.scaling.original_context_length = L (read back by longrope; llama.cpp's YaRN alone uses it);
//   the scaling factor keys and any rope_factors_long/short.weight are removed (llama.cpp refuses
//   files with tensors its loader does not use).
// Existing factor tensors and keys are replaced in place; new ones are appended. n_rot comes from
// {arch}.rope.dimension_count (else embedding_length / head_count) and must be 2·len(λ).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "export/export_values.h"
#include "tables/factor_table.h"

namespace longrope {

enum class GgufExportMode { LONGROPE, FREQS };

// "longrope" or "freqs"; throws std::invalid_argument otherwise.
GgufExportMode parse_gguf_export_mode(const std::string& name);

struct GgufExportOptions {
  GgufExportMode mode = GgufExportMode::LONGROPE;
  ExportRequest request;
};

struct GgufExportReport {
  std::string architecture;
  int64_t n_rot = 0;
  ExportValues values;                // what went in, with the warnings to print
  std::vector<std::string> set;       // keys and tensors written (replaced or added)
  std::vector<std::string> removed;   // keys and tensors dropped
};

// Writes `out_path` through a temp file, reads it back and checks every copied tensor and KV is
// byte-identical and the new ones hold the intended values before renaming it into place; nothing
// is left at `out_path` on failure. Throws std::invalid_argument when out_path is in_path, and
// FormatError / std::runtime_error naming the file and key or tensor otherwise (bad input GGUF,
// n_rot mismatch, another rope base, freqs mode on a non-llama file, n̂ > 0, ...).
GgufExportReport export_gguf(const FactorTable& table, const std::string& in_path, const std::string& out_path,
                             const GgufExportOptions& options, const std::string& table_source);

}  // namespace longrope
