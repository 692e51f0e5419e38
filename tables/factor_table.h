// FactorTable: a searched LongRoPE table (λ, n̂, attention factor and its provenance) as JSON, and
// the reference search's CSV (one factor per line). Knows nothing of models.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rope/rope_scaling.h"

namespace longrope {

struct FactorTable {
  std::string model;                 // model id or path the table was searched on
  double rope_base = 0;              // b
  int64_t rotary_dim = 0;            // d; lambda has d/2 entries
  int64_t original_length = 0;       // L
  int64_t target_length = 0;         // L'
  double scale = 0;                  // s = L'/L unless set otherwise
  std::vector<double> lambda;        // λ_i, divides θ_i
  int64_t start_tokens = 0;          // n̂
  std::optional<double> attention_factor;  // absent: "su" for `scale`
  std::vector<double> short_lambda;  // optional table for lengths <= L (Phi-3's short_factor)
  nlohmann::json details = nlohmann::json::object();  // perplexities, search settings, seed, timings
};

// LongRoPE factors: finite, >= 1 (a factor below 1 would raise a frequency above the model's own), at
// most 10^6, and non-decreasing in i (the paper's monotone constraint; allowing rounding in the last
// digits). Throws std::runtime_error "WHERE: problem", `where(i)` naming factor i ("FILE: field
// 'lambda[3]'", "FILE: line 4", "FILE: tensor 'rope_freqs.weight'[3]").
void check_lambda_factors(const std::vector<double>& lambda, const std::function<std::string(size_t)>& where);

// Reads .json (FactorTable) or anything else as the reference CSV (λ only). Errors name the file,
// and the field or line: factors must be >= 1 and non-decreasing, n̂ a whole number within L.
FactorTable read_factor_table(const std::string& path);
// The RoPE geometry a table was searched for (rope_base and original_length may be 0: unknown).
inline RopeGeometry table_geometry(const FactorTable& t) {
  return RopeGeometry{static_cast<int64_t>(t.lambda.size()) * 2, t.rope_base, t.original_length};
}
nlohmann::json factor_table_to_json(const FactorTable& table);
FactorTable factor_table_from_json(const nlohmann::json& j, const std::string& source);
void write_factor_table(const std::string& path, const FactorTable& table);  // atomic
// result_final.csv: one value per line, %.18e, as numpy.savetxt writes it.
void write_factor_csv(const std::string& path, const std::vector<double>& lambda);  // atomic
std::vector<double> read_factor_csv(const std::string& path);
// The same from the file's text; `source` names it in errors.
std::vector<double> parse_factor_csv(const std::string& text, const std::string& source);

}  // namespace longrope
