// The one way from a factor table to the RoPE scaling a model runs: the table is checked against the
// model (factor count, base, L, n̂) here and nowhere else, for eval, train, search and passkey alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rope/rope_scaling.h"
#include "tables/factor_table.h"

namespace longrope {

// What a user may set over a table when applying it (eval's --start-tokens, --attention-factor and
// --scale); an error about a value given here names the option, not the table's field.
struct TableOverrides {
  std::optional<int64_t> start_tokens;
  std::optional<double> attention_factor;
  std::optional<double> scale;  // the s of LongRoPE's attention factor, where the table records none
};

// Which of a table's factor lists: its long λ (beyond L), or its short one (up to L; all ones when the
// table has none). The runtimes apply one attention factor to both, and n̂ to neither (short).
enum class TableFactors { Long, Short };

// Throws std::runtime_error naming `source` and the field when the table is not for a model of this
// geometry: its factor count, rope base or original length L differ.
void check_table_for_model(const FactorTable& table, const RopeGeometry& model, const std::string& source);

// The scaling `table` gives on a model of geometry `model` for windows of `length` tokens. The
// attention factor is the override's, else the table's, else LongRoPE's "su" for the table's s (or
// length / L for a table that records none).
RopeScaling table_scaling(const FactorTable& table, const RopeGeometry& model, int64_t length, const std::string& source,
                          const TableOverrides& overrides = {}, TableFactors factors = TableFactors::Long);

}  // namespace longrope
