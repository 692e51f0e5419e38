// ExportValues: what every runtime needs from a factor table (long/short factors, L, L', s, attention
// factor), with the gaps of a λ-only table filled in and the n̂ rule applied. Shared by the HF and
// GGUF exporters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tables/factor_table.h"

namespace longrope {

struct ExportRequest {
  // transformers, vLLM and llama.cpp apply one factor per dimension at every position, so a table
  // searched with n̂ > 0 start tokens is refused unless the caller accepts losing n̂.
  bool drop_start_tokens = false;
  int64_t original_length = 0;  // L for a table that lacks it (result_final.csv); 0: the model file's
  int64_t target_length = 0;    // L' for a table that lacks it; 0: round(s·L)
};

struct ExportValues {
  std::vector<double> long_factor;   // λ, divides θ_i beyond L
  std::vector<double> short_factor;  // the table's short_lambda, or all ones (unchanged RoPE up to L)
  int64_t original_length = 0;       // L
  int64_t target_length = 0;         // L', the new maximum length
  double scale = 0;                  // s
  double attention_factor = 1;       // multiplies cos and sin (logits by its square)
  std::vector<std::string> warnings; // one line each, for the caller to print
};

// L, L' and s of a table, with the request filling what a λ-only table lacks. `model_original_length`
// is L as the model file states it (0: unknown); a disagreement with the table is a warning, since
// configs do not always record the true pre-training length. Throws naming `table_source` and the
// field: no way to know L or L', L' <= L, or a request contradicting the table.
struct TableLengths {
  int64_t original_length = 0;
  int64_t target_length = 0;
  double scale = 0;
  std::vector<std::string> warnings;
};
TableLengths resolve_table_lengths(const FactorTable& table, const ExportRequest& request, int64_t model_original_length,
                                   const std::string& table_source);

// The warning every export prints alike when the search did not recommend its table (it could not
// beat a baseline beyond its interval); empty when it did, or when the table records no verdict.
std::string verdict_warning(const FactorTable& table, const std::string& table_source);

// What every runtime gets from the table: its lengths (resolve_table_lengths), long and short factors
// and attention factor, with n̂ refused unless the request drops it.
// Throws std::runtime_error naming `table_source` and the field: n̂ > 0 without drop_start_tokens, no
// way to know L or L', L' <= L, or --original-length/--target-length contradicting the table.
ExportValues resolve_export_values(const FactorTable& table, const ExportRequest& request, int64_t model_original_length,
                                   const std::string& table_source);

}  // namespace longrope
